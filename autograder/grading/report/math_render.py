"""LaTeX to MathML at build time, so feedback pages show formulas without a network or a script.

    latex_to_mathml(r"\\frac{1}{N}\\sum_i L_i", display=True)   # '<math display="block">...</math>'

latex2mathml does the conversion; browsers render MathML natively (Chromium since 109, Firefox,
Safari). Its output is not trusted as it comes: it copies `\\text{...}` verbatim (so
`\\text{<script>}` would be markup) and turns `\\href`, `\\style` and `\\class` into attributes.
Every formula is therefore rebuilt from its parse events: only MathML elements and presentation
attributes with plain values survive, all text is escaped. A formula that does not convert shows
as its LaTeX source in a <code> element.
"""

import html
import re
from html.parser import HTMLParser

MATHML_TAGS = frozenset(
    "math mrow mi mo mn ms mtext mspace msub msup msubsup mfrac msqrt mroot mstyle mpadded mphantom "
    "menclose mover munder munderover mtable mtr mtd mlabeledtr merror semantics annotation".split()
)
MATHML_ATTRIBUTES = frozenset(
    "display mathvariant stretchy fence separator form lspace rspace width height depth columnalign "
    "columnlines columnspacing rowalign rowlines rowspacing frame framespacing displaystyle scriptlevel "
    "linethickness accent accentunder movablelimits minsize maxsize largeop symmetric notation linebreak "
    "mathsize columnspan rowspan".split()
)
PLAIN_VALUE = re.compile(r"^[A-Za-z0-9 .%#+-]*$")
VOID_TAGS = frozenset({"mspace"})
# what \text{...} keeps from LaTeX's escapes (latex2mathml leaves `running\_mean` as it is)
TEXT_ESCAPE = re.compile(r"\\([_%&$#{}])")
# an unknown command latex2mathml passes through as an identifier, e.g. <mi>\arg</mi>
BARE_COMMAND = re.compile(r"^\\([A-Za-z]+)$")
FALLBACK_CLASS = "math-source"


class _Rebuild(HTMLParser):
    """Re-emit parsed markup keeping only MathML elements and plain presentation attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.open = []

    def handle_starttag(self, tag, attrs):
        if tag not in MATHML_TAGS:
            return
        kept = "".join(
            f' {name}="{html.escape(value, quote=True)}"'
            for name, value in attrs
            if name in MATHML_ATTRIBUTES and value is not None and PLAIN_VALUE.match(value)
        )
        if tag in VOID_TAGS:
            self.parts.append(f"<{tag}{kept}></{tag}>")
            return
        self.parts.append(f"<{tag}{kept}>")
        self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        if tag in MATHML_TAGS:
            self.handle_starttag(tag, attrs)
            if tag not in VOID_TAGS:
                self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag not in self.open:
            return
        while self.open:
            top = self.open.pop()
            self.parts.append(f"</{top}>")
            if top == tag:
                break

    def handle_data(self, data):
        element = self.open[-1] if self.open else ""
        if element == "mtext":
            data = TEXT_ESCAPE.sub(r"\1", data)
        elif element in ("mi", "mo"):
            bare = BARE_COMMAND.match(data.strip())
            data = bare.group(1) if bare else data
        self.parts.append(html.escape(data, quote=False))

    def markup(self):
        self.close()
        return "".join(self.parts) + "".join(f"</{tag}>" for tag in reversed(self.open))


def safe_mathml(markup):
    """MathML rebuilt from `markup`: MathML elements and plain attributes only, all text escaped."""
    rebuild = _Rebuild()
    rebuild.feed(markup)
    return rebuild.markup()


def latex_source(latex, display=False):
    """The formula as escaped LaTeX source, for when it cannot be converted."""
    delimiter = "$$" if display else "$"
    return f'<code class="{FALLBACK_CLASS}">{html.escape(delimiter + latex + delimiter, quote=False)}</code>'


def latex_to_mathml(latex, display=False):
    """Safe MathML for a LaTeX formula (without its $ delimiters); its escaped source if it does not convert."""
    from latex2mathml.converter import convert

    try:
        converted = convert(latex.strip(), display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - any formula latex2mathml cannot read still shows, as source
        return latex_source(latex, display)
    markup = safe_mathml(converted)
    if not markup.startswith("<math"):
        return latex_source(latex, display)
    # the converter writes no alternative text; the LaTeX source serves screen readers and copying
    return markup.replace("<math", f'<math alttext="{html.escape(latex.strip(), quote=True)}"', 1)
