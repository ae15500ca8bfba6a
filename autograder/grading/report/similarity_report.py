"""copydetect's HTML report of the flagged pairs, as one self-contained, inert page a TA opens.

copydetect's page escapes the code it shows but links Bootstrap from a CDN (a stylesheet and a
script) to fold the code listings away. Here the listings fold with <details> instead, the links and
scripts are removed, a short stylesheet and a summary of the run are put in, and the finished page is
checked as the feedback pages are (autograder.grading.report.feedback_html.active_content): a page
that would still run or load anything is never written.
"""

import html
import warnings

from autograder.grading.record.similarity_pairs import percent
from autograder.grading.report.feedback_html import active_content, make_inert

# pairs whose code the page shows side by side (the most alike first); the table at the top lists them all
MAX_LISTED = 100
CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1400px; padding: 0 1em; }
h1, h2, h4 { font-weight: 600; }
.summary { background: #f6f6f6; border-left: 4px solid #888; padding: .5em 1em; margin-bottom: 1.5em; }
.summary table { border-collapse: collapse; }
.summary td, .summary th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
.col3 { float: left; width: 33%; }
.row::after, .d-flex::after { content: ""; display: table; clear: both; }
.col { display: inline-block; vertical-align: top; max-width: 49%; }
img { max-width: 100%; }
table.table { border-collapse: collapse; width: 100%; clear: both; }
table.table td { border-top: 1px solid #ddd; padding: .6em; }
pre { text-align: left; white-space: pre; overflow-x: auto; font-size: 12px; background: #fafafa; }
.highlight-green { background-color: #b6f2b6; }
.highlight-red { background-color: #f2b6b6; }
.file-info-list { max-height: 300px; overflow-y: auto; }
details > summary { cursor: pointer; color: #0b3d91; margin: .3em 0; }
"""


def _summary(result):
    rows = "".join(
        "<tr><td>{a}</td><td>{b}</td><td>{oa} / {ob}</td><td>{fa}</td><td>{fb}</td></tr>".format(
            a=html.escape(pair.first.student),
            b=html.escape(pair.second.student),
            oa=percent(pair.first.overlap),
            ob=percent(pair.second.overlap),
            fa=html.escape(f"{pair.first.function} ({percent(pair.first.function_overlap)})")
            if pair.first.function
            else "",
            fb=html.escape(f"{pair.second.function} ({percent(pair.second.function_overlap)})")
            if pair.second.function
            else "",
        )
        for pair in result.pairs
    )
    count = len(result.students)
    table = (
        "<table><tr><th>student</th><th>other</th><th>overlap (each side's own code)</th>"
        f"<th>most overlap in the first's</th><th>in the other's</th></tr>{rows}</table>"
        if result.pairs
        else "<p>No pair reached the threshold.</p>"
    )
    return (
        f'<section class="summary"><h2>Assignment {html.escape(result.assignment_id)}: '
        f"{len(result.pairs)} flagged pair(s) of {count} students</h2>"
        f"<p>A pair is flagged when at least {percent(result.threshold)} of one student's own code (the starter "
        "stubs, provided code and release notebook cells left out) is found in the other's. Code is compared "
        "tokenised: names, comments and layout do not matter. Of the "
        f"{count * (count - 1) // 2} pairs, {result.compared} were compared here; the others shared too few "
        "fingerprints to come near the threshold (they show as -1 in the matrix). Similar code is a reason to "
        "look, not a proof of copying."
        + (
            f" The code of the {MAX_LISTED} most alike pairs is shown below; `review` lists every pair."
            if len(result.pairs) > MAX_LISTED
            else ""
        )
        + "</p>"
        f"{table}</section>"
    )


def _fold_listings(soup):
    """Bootstrap's collapse buttons and panels as <details> elements (no script needed)."""
    for button in soup.find_all("button"):
        target = str(button.get("data-bs-target", ""))
        panel = soup.find(id=target[1:]) if target.startswith("#") else None
        label = button.get_text(" ", strip=True)
        button.decompose()
        if panel is None:
            continue
        details = soup.new_tag("details")
        summary = soup.new_tag("summary")
        summary.string = label
        panel.replace_with(details)
        panel["class"] = [name for name in panel.get("class", []) if name != "collapse"]
        details.append(summary)
        details.append(panel)


def _empty_page(result):
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Similarity report</title>"
        f"</head><body><h1>Similarity report</h1>{_summary(result)}"
        "<p>Fewer than two submissions: nothing to compare.</p></body></html>"
    )


def _copydetect_page(code_dir, boilerplate_dir, result, fingerprints, compared, flagged, noise, guarantee):
    import matplotlib

    matplotlib.use("Agg")  # the report's two figures are drawn off screen
    import numpy as np
    from copydetect import CopyDetector

    files = [str(code_dir / f"{student}.py") for student in result.students]
    listed = sorted(flagged, key=lambda pair: -max(flagged[pair][:2]))[:MAX_LISTED]
    shown = {(files[i], files[j]) for i, j in listed} | {(files[j], files[i]) for i, j in listed}

    class FlaggedPairs(CopyDetector):
        """copydetect's report, listing only the pairs `similarity` flagged (threshold and MIN_TOKENS)."""

        def get_copied_code_list(self):
            return [entry for entry in super().get_copied_code_list() if (entry[2], entry[3]) in shown]

    detector = FlaggedPairs(
        test_dirs=[str(code_dir)],
        boilerplate_dirs=[str(boilerplate_dir)],
        extensions=["py"],
        noise_t=noise,
        guarantee_t=guarantee,
        display_t=max(0.0, result.threshold - 1e-9),
        autoopen=False,
        silent=True,
        truncate=True,
        out_file=str(code_dir.parent / "report.html"),
    )
    # the comparisons are made already (screened, then compare_files): the detector only renders them
    detector.test_files, detector.ref_files = files, files
    detector.file_data = dict(zip(files, fingerprints))
    count = len(files)
    detector.similarity_matrix = np.full((count, count, 2), -1, dtype=np.float64)
    detector.token_overlap_matrix = np.full((count, count), -1)
    detector.slice_matrix = {}
    for (i, j), (tokens, (share_i, share_j), (slices_i, slices_j)) in compared.items():
        detector.similarity_matrix[i, j] = (share_i, share_j)
        detector.similarity_matrix[j, i] = (share_j, share_i)
        detector.token_overlap_matrix[i, j] = detector.token_overlap_matrix[j, i] = tokens
        if slices_i.shape[0] != 0:
            detector.slice_matrix[files[i], files[j]] = [slices_i, slices_j]
    with warnings.catch_warnings():
        # copydetect 0.5 reads its template with importlib.resources.open_text, deprecated since Python 3.11
        warnings.simplefilter("ignore", DeprecationWarning)
        return detector.generate_html_report(output_mode="return")


def write_report(path, code_dir, boilerplate_dir, result, fingerprints, compared, flagged, noise, guarantee):
    """Write the report page to path; return path."""
    from bs4 import BeautifulSoup

    if len(result.students) < 2:
        page = _empty_page(result)
    else:
        page = _copydetect_page(code_dir, boilerplate_dir, result, fingerprints, compared, flagged, noise, guarantee)
    soup = BeautifulSoup(page, "html.parser")
    for element in soup.find_all(["script", "link"]):
        element.decompose()
    _fold_listings(soup)
    style = soup.new_tag("style")
    style.string = CSS
    soup.head.append(style)
    heading = soup.find("h1")
    summary = BeautifulSoup(_summary(result), "html.parser")
    if heading is not None and len(result.students) >= 2:
        heading.insert_after(summary)
    page = make_inert(str(soup))
    problems = active_content(page)
    if problems:
        raise RuntimeError(f"the similarity report still has active content ({problems[0]}); not written")
    path.write_text(page, encoding="utf-8")
    return path
