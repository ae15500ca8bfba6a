"""The class report's figures: inline SVG (no script, no font or image to load), every label escaped.

histogram(counts, labels, axis, caption)        vertical bars, one per bin, the count above each
bar_rows(rows, top, axis, caption)              one horizontal bar per (label, value, text, marked) row;
                                                marked rows are drawn red and say so
"""

import html

BAR = "#4a78b5"
MARKED = "#b00020"
FONT = 12


def _figure(svg, caption, element_id):
    return f"<figure id='{html.escape(element_id)}'>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"


def histogram(counts, labels, axis, caption, element_id="histogram", width=680, height=230):
    """Vertical bars for counts (one per label), with the count above each bar."""
    left, right, top, bottom = 40, 10, 18, 52
    plot_width, plot_height = width - left - right, height - top - bottom
    tallest = max(counts) if counts and max(counts) > 0 else 1
    slot = plot_width / max(1, len(counts))
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' viewBox='0 0 {width} {height}' "
        f"role='img' aria-label='{html.escape(caption)}'>",
        f"<line x1='{left}' y1='{top + plot_height}' x2='{width - right}' y2='{top + plot_height}' stroke='#888'/>",
    ]
    for index, (count, label) in enumerate(zip(counts, labels)):
        bar_height = plot_height * count / tallest
        x = left + index * slot + slot * 0.1
        y = top + plot_height - bar_height
        parts.append(
            f"<rect class='bar' data-count='{count}' x='{x:.1f}' y='{y:.1f}' width='{slot * 0.8:.1f}' "
            f"height='{max(bar_height, 0.0):.1f}' fill='{BAR}'><title>{html.escape(label)}: {count}</title></rect>"
        )
        parts.append(
            f"<text x='{x + slot * 0.4:.1f}' y='{y - 4:.1f}' font-size='{FONT}' text-anchor='middle'>{count}</text>"
        )
        parts.append(
            f"<text x='{x + slot * 0.4:.1f}' y='{top + plot_height + 16}' font-size='{FONT - 2}' "
            f"text-anchor='middle'>{html.escape(label)}</text>"
        )
    parts.append(
        f"<text x='{left + plot_width / 2:.1f}' y='{height - 8}' font-size='{FONT}' text-anchor='middle' "
        f"fill='#555'>{html.escape(axis)}</text></svg>"
    )
    return _figure("".join(parts), caption, element_id)


def bar_rows(rows, top_value, axis, caption, element_id="bars", bar_area=380):
    """One horizontal bar per (label, value, text, marked) row, value scaled to top_value."""
    label_width = min(420, 8 + 7 * max((len(str(label)) for label, *_ in rows), default=4))
    row_height, top, bottom = 22, 8, 30
    width = label_width + bar_area + 150
    height = top + row_height * len(rows) + bottom
    scale = bar_area / top_value if top_value > 0 else 0.0
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' viewBox='0 0 {width} {height}' "
        f"role='img' aria-label='{html.escape(caption)}'>"
    ]
    for index, (label, value, text, marked) in enumerate(rows):
        y = top + index * row_height
        colour = MARKED if marked else BAR
        length = max(value * scale, 1.0)  # a bar of zero still shows where it would be
        note = f"{text} (likely broken)" if marked else text
        parts.append(
            f"<text x='{label_width - 6}' y='{y + 15}' font-size='{FONT}' text-anchor='end'>{html.escape(str(label))}</text>"
        )
        parts.append(
            f"<rect class='bar{' marked' if marked else ''}' data-value='{value:.6g}' x='{label_width}' y='{y + 3}' "
            f"width='{length:.1f}' height='{row_height - 6}' fill='{colour}'>"
            f"<title>{html.escape(str(label))}: {html.escape(note)}</title></rect>"
        )
        parts.append(
            f"<text x='{label_width + length + 6:.1f}' y='{y + 15}' font-size='{FONT}' "
            f"fill='{colour}'>{html.escape(note)}</text>"
        )
    axis_y = top + row_height * len(rows)
    parts.append(
        f"<line x1='{label_width}' y1='{axis_y}' x2='{label_width + bar_area}' y2='{axis_y}' stroke='#888'/>"
        f"<text x='{label_width + bar_area / 2}' y='{axis_y + 20}' font-size='{FONT}' text-anchor='middle' "
        f"fill='#555'>{html.escape(axis)}</text></svg>"
    )
    return _figure("".join(parts), caption, element_id)
