"""A student's outputs and written answers reach every browser inert: graded notebooks are sanitised
where they are installed, and the pages nbconvert and formgrader render from them run nothing."""

import base64
import json
from html.parser import HTMLParser

import nbformat
import pytest

from autograder.grading.record.gradebook import install_autograded
from autograder.grading.record.sanitize import clean_svg, inert_markdown, sanitize_notebook

PAYLOAD = "window.__pwned = 1"
HOSTILE_HTML = f"<script>{PAYLOAD}</script><img src=x onerror='{PAYLOAD}'><b>bold</b>"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()


def hostile_notebook():
    """What a hostile student can put in a notebook: active outputs, raw HTML in an answer, a raw cell."""
    code = nbformat.v4.new_code_cell("from IPython.display import HTML\nHTML(...)")
    code.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/html": HOSTILE_HTML, "text/plain": "<IPython.core.display.HTML object>"}
        ),
        nbformat.v4.new_output("display_data", data={"application/javascript": PAYLOAD}),
        nbformat.v4.new_output("display_data", data={"text/markdown": f"<img src=x onerror='{PAYLOAD}'>"}),
        nbformat.v4.new_output(
            "display_data",
            data={
                "image/svg+xml": f'<svg xmlns="http://www.w3.org/2000/svg" onload="{PAYLOAD}"><script>{PAYLOAD}'
                '</script><rect width="4" height="4" style="fill: red"/><foreignObject><img src="x"/></foreignObject>'
                '<a href="javascript:alert(1)"><circle r="2"/></a></svg>'
            },
        ),
        nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
        nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(b'"><script>x</script>').decode()}),
        nbformat.v4.new_output("stream", name="stdout", text="<b>printed text stays text</b>\n"),
    ]
    code.metadata["tags"] = ['x" onmouseover="alert(1)', "fine-tag"]
    answer = nbformat.v4.new_markdown_cell(
        "Addition commutes, $a + b = b + a$. "
        f"<script>{PAYLOAD}</script><img src=x onerror='{PAYLOAD}'> [ok](https://example.org) "
        "[bad](javascript:alert(1)) [sneaky](jav&#x61;script&colon;alert(1)) $\\href{javascript:alert(1)}{x}$"
    )
    answer.metadata["nbgrader"] = {"grade": True, "solution": True, "grade_id": "explain", "points": 2}
    raw = nbformat.v4.new_raw_cell(f"<script>{PAYLOAD}</script>")
    fake = nbformat.v4.new_markdown_cell("text")
    fake.metadata["nbgrader"] = {"grade": True, "grade_id": 'x"><script>', "points": 1}
    notebook = nbformat.v4.new_notebook(cells=[code, answer, raw, fake])
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return notebook


def release_notebook():
    intro = nbformat.v4.new_markdown_cell("The course's own <b>HTML</b> stays as written.")
    answer = nbformat.v4.new_markdown_cell("YOUR ANSWER HERE")
    answer.metadata["nbgrader"] = {"grade": True, "solution": True, "grade_id": "explain", "points": 2}
    notebook = nbformat.v4.new_notebook(cells=[intro, answer])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


class ActiveContent(HTMLParser):
    """Every place in a page where the payload could run: script bodies, event handlers, javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.found, self._in_script = [], False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on") and value and "pwned" in value:
                self.found.append(f"<{tag} {name}>")
            if name in ("href", "src", "xlink:href") and value and value.strip().lower().startswith("javascript"):
                self.found.append(f"<{tag} {name}={value}>")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and "pwned" in data:
            self.found.append("<script> with the payload")


def active(page):
    parser = ActiveContent()
    parser.feed(page)
    return parser.found


def rendered(notebook, template):
    from nbconvert import HTMLExporter

    if template == "formgrade":
        from nbgrader.server_extensions.formgrader import handlers

        exporter = HTMLExporter(template_name="formgrade", extra_template_basedirs=[handlers.template_path])
        resources = {
            "assignment_id": "t1",
            "notebook_id": "toy",
            "submission_id": "x",
            "index": 0,
            "total": 1,
            "base_url": "",
            "student": "ada",
            "last_name": None,
            "first_name": None,
            "notebook_path": "autograded/ada/t1/toy.ipynb",
        }
        return exporter.from_notebook_node(notebook, resources=resources)[0]
    return HTMLExporter(template_name=template).from_notebook_node(notebook)[0]


@pytest.mark.parametrize("template", ["lab", "classic", "formgrade"])
def test_pages_rendered_from_a_sanitised_notebook_run_nothing_the_student_wrote(template):
    assert active(rendered(hostile_notebook(), template)), "the unsanitised page must show the payload (control)"
    safe, _ = sanitize_notebook(hostile_notebook(), release_notebook())
    page = rendered(safe, template)
    assert active(page) == []
    assert "onerror" in page and "printed text stays text" in page  # shown, as text
    assert f"data:image/png;base64,{PNG}" in page  # images stay images


def test_active_outputs_become_text_and_images_stay_images():
    safe, changes = sanitize_notebook(hostile_notebook(), release_notebook())
    html, javascript, markdown, svg, png, fake_png, stream = safe.cells[0].outputs
    assert set(html.data) == {"text/plain"} and html.data["text/plain"].endswith(HOSTILE_HTML)
    assert html.data["text/plain"].startswith("[text/html output shown as text]")
    assert javascript.data == {"text/plain": f"[application/javascript output shown as text]\n{PAYLOAD}"}
    assert set(markdown.data) == {"text/plain"}
    assert "script" not in svg.data["image/svg+xml"] and "onload" not in svg.data["image/svg+xml"]
    assert "foreignObject" not in svg.data["image/svg+xml"] and "javascript" not in svg.data["image/svg+xml"]
    assert "<rect" in svg.data["image/svg+xml"] and "fill: red" in svg.data["image/svg+xml"]
    assert png.data == {"image/png": PNG, "text/plain": "<Figure>"}
    assert fake_png.data == {"text/plain": "[image/png output shown as text]\n(not a valid image; removed)"}
    assert stream.text == "<b>printed text stays text</b>\n"
    assert safe.cells[0].metadata["tags"] == ["fine-tag"]
    assert any("output made inert" in change for change in changes)


def test_written_answers_keep_markdown_and_math_but_lose_html_and_unsafe_links():
    safe, _ = sanitize_notebook(hostile_notebook(), release_notebook())
    answer = safe.cells[1].source
    assert "<" not in answer and "&lt;script>" in answer and "&lt;img src=x onerror=" in answer
    assert "$a + b = b + a$" in answer and "[ok](https://example.org)" in answer
    assert "javascript" not in answer.replace("&lt;", "<").split("</script>")[-1].lower().split("onerror")[-1]
    assert answer.count("#unsafe-link-removed") == 3
    assert safe.cells[2].cell_type == "markdown" and safe.cells[2].source.startswith("```text\n<script>")
    assert "nbgrader" not in safe.cells[3].metadata  # a made-up graded cell is just text
    assert "widgets" not in safe.metadata and safe.metadata["kernelspec"]["name"] == "python3"


def test_the_courses_own_markdown_is_left_as_written():
    release = release_notebook()
    safe, changes = sanitize_notebook(release, release)
    assert safe.cells[0].source == "The course's own <b>HTML</b> stays as written." and changes == []


@pytest.mark.parametrize(
    "text",
    [
        "[x](JAVASCRIPT:alert(1))",
        "[x]( javascript:alert(1))",
        "[x](javascript\\:alert(1))",
        "[x](vbscript:msgbox)",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x]: javascript:alert(1)",
        "![img](javascript:alert(1))",
    ],
)
def test_links_with_a_scheme_other_than_http_https_or_mailto_are_removed(text):
    assert "#unsafe-link-removed" in inert_markdown(text)


def test_mermaid_blocks_are_shown_as_text():
    # nbconvert copies a mermaid block into the page without escaping it
    assert inert_markdown("```mermaid\ngraph TD\n```") == "```text\ngraph TD\n```"


def test_svg_that_cannot_be_parsed_or_declares_entities_is_refused():
    assert clean_svg("<svg><unclosed>") is None
    assert clean_svg('<!DOCTYPE svg [<!ENTITY a "x">]><svg xmlns="http://www.w3.org/2000/svg"/>') is None
    assert clean_svg("<html><script>x</script></html>") is None


def test_install_autograded_writes_the_inert_notebook_and_says_what_it_changed(tmp_path):
    course_dir = tmp_path / "course"
    (course_dir / "release" / "t1").mkdir(parents=True)
    nbformat.write(release_notebook(), course_dir / "release" / "t1" / "toy.ipynb")
    executed = tmp_path / "scratch" / "toy.ipynb"
    executed.parent.mkdir()
    nbformat.write(hostile_notebook(), executed)
    result = {"student": "ada", "notebooks": {"toy": {"executed": str(executed), "reasons": [], "submitted": True}}}
    install_autograded(course_dir, "t1", result)
    installed = course_dir / "autograded" / "ada" / "t1"
    assert active(rendered(nbformat.read(installed / "toy.ipynb", as_version=4), "lab")) == []
    record = json.loads((installed / "grading.json").read_text())
    assert any("raw HTML" in change for change in record["made_inert"])
    assert "<script>" in executed.read_text()  # the grader's own copy is untouched


def test_the_trusted_graders_record_on_a_test_cell_is_kept_as_capped_plain_data_and_stated_as_text():
    release = release_notebook()
    test = nbformat.v4.new_code_cell("check()")
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "test_add", "points": 2}
    test.metadata["autograder"] = {
        "score": 0,
        "points": 2,
        "passed": False,
        "message": "<script>alert(1)</script> add(-7, 19): expected 12\ngot 26" + "x" * 5000,
        "checked": ["add(2, 3)", {"html": "<b>"}, "y" * 1000] + ["z"] * 100,
        "seconds": 1.5,
        "score_html": "<img src=x onerror=alert(1)>",
    }
    release.cells.append(test)
    plain = nbformat.v4.new_code_cell("print(1)")
    plain.metadata["autograder"] = {"message": "forged on a cell that is not a test"}
    release.cells.append(plain)
    safe, _ = sanitize_notebook(release, release)
    record = safe.cells[2].metadata["autograder"]
    assert set(record) == {"score", "points", "passed", "message", "checked"}
    assert record["score"] == 0.0 and record["passed"] is False
    assert len(record["message"]) <= 2000 and record["message"].startswith("<script>")  # text, escaped when shown
    assert record["checked"][0] == "add(2, 3)" and len(record["checked"]) == 50
    assert all(isinstance(item, str) and len(item) <= 300 for item in record["checked"])
    assert "autograder" not in safe.cells[3].metadata
    stated = [o for o in safe.cells[2].outputs if o.output_type == "stream"]
    assert len(stated) == 1 and stated[0].text.startswith("Trusted grader: <script>alert(1)</script> add(-7, 19)")
    assert "expected 12 got 26" in stated[0].text.splitlines()[0]
    again, _ = sanitize_notebook(safe, release)
    assert len([o for o in again.cells[2].outputs if o.output_type == "stream"]) == 1


def test_terminal_control_sequences_other_than_colours_never_reach_a_page():
    """A student's output may colour text, but not retitle the TA's terminal, clear it, hide text or forge
    lines when a page or notebook is shown in one (OSC, CSI other than SGR, bare ESC, C0/C1 controls)."""
    from autograder.grading.record.sanitize import terminal_safe

    hostile = "a\x1b[31mred\x1b[0m\x1b]0;pwned\x07\x1b]8;;http://x\x1b\\link\x1b[2J\x1b[1A\x1bc\x07\x08\x00\x9bz\tz\r\n"
    assert terminal_safe(hostile) == "a\x1b[31mred\x1b[0mlinkz\tz\r\n"
    assert terminal_safe("plain text\n") == "plain text\n"
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print()")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=hostile),
        nbformat.v4.new_output("error", ename="ValueError", evalue=hostile, traceback=[hostile]),
        nbformat.v4.new_output("execute_result", data={"text/plain": hostile}, execution_count=1),
    ]
    notebook.cells = [cell]
    clean, _ = sanitize_notebook(notebook)
    text = json.dumps(clean)
    assert "pwned" not in text and "\\u0007" not in text and "\\u001b]" not in text and "\\u001b[2J" not in text
    assert "\\u001b[31m" in text  # colours kept


def test_what_the_trusted_grader_says_of_a_test_reaches_pages_without_any_control_sequence(tmp_path):
    """A failed test's message quotes student values (a returned string may hold a window-title sequence):
    the record kept on the cell and the reason stated under it are plain text, colours included."""
    release = release_notebook()
    test = nbformat.v4.new_code_cell("check()")
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "test_add", "points": 2}
    hostile = "got '\x1b]0;owned\x07\x1b[2J\x1b[31mall 100/100\x1b[0m\x9b'"
    test.metadata["autograder"] = {"score": 0, "points": 2, "passed": False, "message": hostile, "checked": [hostile]}
    release.cells.append(test)
    safe, _ = sanitize_notebook(release, release)
    record = safe.cells[2].metadata["autograder"]
    stated = [o.text for o in safe.cells[2].outputs if o.output_type == "stream"]
    for text in [record["message"], *record["checked"], *stated]:
        assert not any(ord(char) < 32 and char not in "\t\n\r" or 127 <= ord(char) < 160 for char in text), text
    assert record["message"] == "got 'all 100/100'"
