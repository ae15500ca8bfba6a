"""Feedback pages: the table of results and reasons, TA comments and hand-graded points, exact-line
redaction of hidden tests, formulas as MathML without a network, shortened cells, and inert student HTML.

The toy-course tests grade real submissions with `python -m autograder grade` and write pages with
`python -m autograder feedback`; the slow test does the same for the course's A1 and A3 through the demo.
"""

import base64
import contextlib
import json
import re
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

import toy
from autograder.common import paths
from autograder.common.course import load_course
from autograder.common.sources import source_notebook
from autograder.grading.report import feedback as fb
from autograder.grading.report import redact
from autograder.grading.report.feedback_html import render_page
from toy import cli

TOY_TITLE = "Feedback for {student}: Toy assignment (toy)"


def soup_of(path):
    return BeautifulSoup(Path(path).read_text(encoding="utf-8"), "html.parser")


def summary_rows(soup):
    """{question: {"points", "result", "details"}} from the page's opening table."""
    rows = {}
    for tr in soup.find(id="feedback-summary").find("tbody").find_all("tr"):
        cells = tr.find_all("td")
        rows[cells[0].find("a").get_text()] = {
            "points": cells[1].get_text(),
            "result": cells[2].get_text(),
            "details": cells[3].get_text(" "),
            "link": cells[0].find("a")["href"],
        }
    return rows


def summary_counts(soup):
    return [li.get_text() for li in soup.find(id="feedback-summary").find_all("li")]


def assert_inert(soup):
    """Nothing that runs or loads: checked on the parsed page, independently of the renderer's own check."""
    assert soup.find_all(["script", "iframe", "object", "embed", "link", "base", "form"]) == []
    for element in soup.find_all(True):
        for name, value in element.attrs.items():
            value = " ".join(value) if isinstance(value, list) else str(value)
            assert not name.lower().startswith("on"), (element.name, name)
            if name in ("href", "xlink:href", "action", "formaction"):
                assert re.match(r"(https?://|mailto:|#)", value), (element.name, name, value)
            if name in ("src", "srcset", "poster", "background", "data"):
                assert value.startswith("data:image/"), (element.name, name, value[:80])
    for style in soup.find_all("style"):
        assert "@import" not in style.get_text() and not re.search(r"url\(\s*['\"]?(https?:|//)", style.get_text())
    assert soup.find_all("svg") == []  # SVG outputs are shown as images, where their scripts never run


# -- redaction by exact line --------------------------------------------------------------------------


def _source(*cells):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    return notebook


HIDDEN_CELL = """from cs_lib.toy_student import add
check_scalar(add(2, 3), 5, "add(2, 3)")
### BEGIN HIDDEN TESTS
from cs_lib.toy_student import add
check_scalar(add(-7, 19), 12, "add(-7, 19) with the secret numbers")
return cols
### END HIDDEN TESTS"""
SECRET_LINE = 'check_scalar(add(-7, 19), 12, "add(-7, 19) with the secret numbers")'


def test_redaction_hides_hidden_lines_exactly_and_never_a_line_that_merely_contains_one():
    secret = redact.secret_keys(
        _source(HIDDEN_CELL), public_lines=["from cs_lib.toy_student import add", "    return cols"]
    )
    assert secret == {redact.line_key(SECRET_LINE)}  # the import and `return cols` are public too
    printed = [
        SECRET_LINE,
        "      " + SECRET_LINE.replace(", ", ",   ") + "   ",  # whitespace differs
        "\x1b[0;32m" + SECRET_LINE + "\x1b[0m",  # coloured
        str(["", HIDDEN_CELL]),  # IPython's history printed as a list: one long line
        json.dumps({"source": HIDDEN_CELL.splitlines(keepends=True)}),  # the notebook's JSON
    ]
    for line in printed:
        assert redact.redact_text(line + "\n", secret) == redact.REDACTED + "\n", line
    kept = [
        "NotImplementedError: im2col: pad x, gather every window's entries; return cols (C*HH*WW, N*H'*W')",
        f"my own note: {SECRET_LINE} is what I think the grader runs",
        "from cs_lib.toy_student import add",
        "    return cols",
    ]
    for line in kept:
        assert redact.redact_text(line, secret) == line
    assert redact.leaks([f"x\n  {SECRET_LINE}\n"], secret) == [redact.line_key(SECRET_LINE)]
    assert redact.leaks([f"x {SECRET_LINE} y"], secret) == []


@pytest.mark.parametrize("assignment_id", ["a3", "a4", "a5"])
def test_real_notebooks_keep_stub_errors_and_provided_code_but_hide_hidden_lines(assignment_id):
    course = load_course()
    assignment = course.assignment(assignment_id)
    name = assignment.notebooks[0]
    source = source_notebook(assignment.source_notebook(name), course, assignment_id)
    release = nbformat.read(str(paths.ASSIGNMENTS / assignment_id / f"{name}.ipynb"), as_version=4)
    secret = redact.secret_keys(source, redact.notebook_lines(release) + list(redact.provided_lines()))
    assert secret, "the notebook has hidden tests"
    # every line of provided code and every starter stub's message stays, whatever hidden line it contains
    provided = "\n".join(redact.provided_lines())
    assert redact.redact_text(provided, secret) == provided
    stubs = re.findall(r'NotImplementedError\(\s*"([^"]+)"', provided)
    assert stubs
    for message in stubs:
        error = f"NotImplementedError: {message}"
        assert redact.redact_text(error, secret) == error
        assert redact.one_line(error, secret) == error
    # while each hidden line itself, printed alone or inside a printed history, is removed
    hidden = next(line for line in redact.hidden_source_lines(source) if redact.line_key(line) in secret)
    assert redact.redact_text(hidden, secret) == redact.REDACTED
    assert redact.redact_text(repr(["x = 1", f"y = 2\n{hidden}\nz = 3"]), secret) == redact.REDACTED


def test_a3_im2col_stub_error_contains_a_hidden_line_and_stays_visible():
    """The case that made substring redaction blank the student's message: `return cols` is hidden test code."""
    course = load_course()
    source = source_notebook(course.assignment("a3").source_notebook("convolutional_networks"), course, "a3")
    stub = (paths.CS_LIB / "im2col.py").read_text()
    message = "NotImplementedError: " + re.search(r'NotImplementedError\(\s*"(im2col:[^"]+)"', stub).group(1)
    assert any(
        line.strip() and line.strip() in message
        for line in redact.hidden_source_lines(source)
        if len(line.strip()) >= 6
    )
    release = nbformat.read(str(paths.ASSIGNMENTS / "a3" / "convolutional_networks.ipynb"), as_version=4)
    secret = redact.secret_keys(source, redact.notebook_lines(release) + list(redact.provided_lines()))
    assert redact.redact_text(message, secret) == message


# -- rows: states, reasons and counts -----------------------------------------------------------------


def _test_cell(error=None, record=None):
    cell = nbformat.v4.new_code_cell("check()")
    if error:
        cell.outputs = [nbformat.v4.new_output("error", ename=error[0], evalue=error[1], traceback=["..."])]
    if record:
        cell.metadata["autograder"] = record
    return cell


def test_rows_state_each_result_with_a_reason_and_count_hand_grading_separately():
    auto = {"manual_score": None, "needs_manual_grade": False}
    record = {
        "score": 0.0,
        "points": 3.0,
        "passed": False,
        "message": "svm_loss_naive dW: relative error 3.1e-02 exceeds 1e-07",
        "checked": ["loss on N=5", "dW against a numerical gradient"],
    }
    rows = [
        fb.make_row("test", "passed", 2, {**auto, "auto_score": 2.0}, _test_cell(), set()),
        fb.make_row(
            "test", "trusted", 3, {**auto, "auto_score": 0.0}, _test_cell(("AssertionError", "x"), record), set()
        ),
        fb.make_row(
            "test", "error", 2, {**auto, "auto_score": 0.0}, _test_cell(("ValueError", "bad\nshape (3,)")), set()
        ),
        fb.make_row("test", "partial", 4, {**auto, "auto_score": 1.0}, _test_cell(), set()),
        fb.make_row("test", "missing", 1, {**auto, "auto_score": 0.0}, None, set()),
        fb.make_row(
            "test", "review", 2, {"auto_score": 0.0, "manual_score": None, "needs_manual_grade": True}, None, set()
        ),
        fb.make_row(
            "answer", "waiting", 2, {"auto_score": None, "manual_score": None, "needs_manual_grade": True}, None, set()
        ),
        fb.make_row(
            "answer",
            "marked",
            2,
            {"auto_score": None, "manual_score": 1.5, "needs_manual_grade": False},
            None,
            set(),
            "ok",
        ),
        fb.make_row(
            "answer", "blank", 2, {"auto_score": 0.0, "manual_score": None, "needs_manual_grade": False}, None, set()
        ),
    ]
    by_id = {row.grade_id: row for row in rows}
    assert by_id["passed"].label == "passed" and by_id["passed"].reason == ""
    assert by_id["trusted"].reason == record["message"] and by_id["trusted"].checked == record["checked"]
    assert by_id["error"].reason == "ValueError: bad shape (3,)"
    assert by_id["partial"].label == "partial credit" and by_id["partial"].reason == "partial credit: 1 of 4 points"
    assert by_id["missing"].reason == "the test cell is missing from the graded notebook"
    assert by_id["review"].label == "held for review" and by_id["review"].score_text == "– / 2"
    assert by_id["waiting"].label == "to be graded by hand"
    assert (
        by_id["marked"].label == "graded by hand" and by_id["marked"].score == 1.5 and by_id["marked"].comment == "ok"
    )
    assert by_id["blank"].label == "not answered"
    assert all(row.reason for row in rows if row.state in ("failed", "partial", "withheld"))
    counts = fb.counts(rows)
    assert counts["auto"] == (3.0, 12.0, 1, 5)
    assert counts["hand"] == (1.5, 2.0)
    assert counts["pending"] == 4.0  # the answer waiting for a TA and the test held for review
    assert counts["unanswered"] == 2.0
    assert counts["total"] == (4.5, 20.0)


# -- formulas -------------------------------------------------------------------------------------------


def test_the_header_counts_hand_graded_points_only_once_some_are_graded():
    def header(rows):
        return [li.get_text() for li in BeautifulSoup(fb.summary_html("title", rows), "html.parser").find_all("li")]

    pending = {"auto_score": None, "manual_score": None, "needs_manual_grade": True}
    passed = {"auto_score": 2.0, "manual_score": None, "needs_manual_grade": False}
    rows = [
        fb.make_row("test", "t", 2, passed, _test_cell(), set()),
        fb.make_row("answer", "a", 7, pending, None, set()),
    ]
    assert header(rows) == [
        "automatic tests: 2 / 2 points (1 of 1 tests passed)",
        "still to be graded by hand: 7 points",
    ]
    rows[1] = fb.make_row("answer", "a", 7, {**pending, "manual_score": 5.0}, None, set())
    assert "graded by hand: 5 / 7 points" in header(rows)


def _formulas(markdown):
    """(inline, display) formula counts, found by nbconvert's own Markdown parser."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    found = []

    class Recorder(IPythonRenderer):
        def block_math(self, body):
            found.append("display")
            return ""

        def inline_math(self, body):
            found.append("inline")
            return ""

        def latex_environment(self, name, body):
            found.append("display")
            return ""

    MarkdownWithMath(renderer=Recorder(escape=False)).render(markdown)
    return found.count("inline"), found.count("display")


@pytest.mark.parametrize("assignment_id", ["a1", "a2", "a3", "a4", "a5"])
def test_course_formulas_render_as_mathml_without_scripts_or_remote_resources(assignment_id):
    course = load_course()
    assignment = course.assignment(assignment_id)
    notebook = source_notebook(assignment.source_notebook(assignment.notebooks[0]), course, assignment_id)
    notebook.cells = [cell for cell in notebook.cells if cell.cell_type == "markdown"]
    inline = display = 0
    for cell in notebook.cells:
        counts = _formulas(cell.source)
        inline, display = inline + counts[0], display + counts[1]
    page, _ = render_page(notebook, f"{assignment_id} formulas")
    soup = BeautifulSoup(page, "html.parser")
    assert_inert(soup)
    assert not re.search(r"""<(script|link)\b|src=["']?https?:|@import""", page)
    assert soup.find_all(class_="math-source") == []  # every formula converted
    rendered = soup.find_all("math")
    assert inline > 0 and len([m for m in rendered if m.get("display") == "inline"]) == inline
    if assignment_id != "a5":
        assert display > 0
    assert len([m for m in rendered if m.get("display") == "block"]) == display
    for block in soup.find_all(class_="jp-RenderedMarkdown"):
        for text in block.find_all(string=True):
            if text.find_parent(["code", "pre", "math"]) is None:
                assert "$$" not in text and not re.search(r"\$[^$\s][^$]*\$", text), text


def test_unconvertible_and_hostile_latex_shows_as_text():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell(
            r"Broken $\frac{a}{$ and $\text{<script>document.title='x'</script>}$ and $\href{javascript:alert(1)}{y}$"
        )
    ]
    page, text = render_page(notebook, "latex")
    soup = BeautifulSoup(page, "html.parser")
    assert_inert(soup)
    assert soup.find(class_="math-source").get_text() == r"$\frac{a}{$"
    assert len(soup.find_all("math")) == 2
    assert "document.title='x'" in soup.find_all("math")[0].get_text()  # \text{<script>...} stays text


# -- every output type, rendered inert ------------------------------------------------------------------


def test_every_kind_of_hostile_output_is_inert_and_nothing_is_requested():
    cell = nbformat.v4.new_code_cell("show()")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": "<script>alert(1)</script><p>ok html</p>"}),
        nbformat.v4.new_output("display_data", data={"application/javascript": "alert(1)"}),
        nbformat.v4.new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "x"}}),
        nbformat.v4.new_output("display_data", data={"text/vnd.mermaid": "</pre><script>alert(1)</script>"}),
        nbformat.v4.new_output("display_data", data={"text/markdown": "<img src=x onerror=alert(1)> **md**"}),
        nbformat.v4.new_output("display_data", data={"text/latex": r"$$\frac{1}{2}$$"}),
        nbformat.v4.new_output(
            "display_data",
            data={"image/png": "iVBORw0KGgo="},
            metadata={
                "filenames": {"image/png": "https://example.invalid/x.png"},
                "image/png": {"width": "1 onerror=x"},
            },
        ),
        nbformat.v4.new_output("display_data", data={"image/png": '" onerror="alert(1)'}),
        nbformat.v4.new_output("stream", name="stdout", text="<script>alert(1)</script>\n"),
    ]
    cell.execution_count = "<script>alert(1)</script>"
    cell.metadata["tags"] = ['x"><script>alert(1)</script>']
    cell.id = '"><script>alert(1)</script>'
    markdown = nbformat.v4.new_markdown_cell(
        '<a href="javascript:alert(1)">a</a><img src="https://example.invalid/x.png"><form action="https://example.invalid">'
        '<style>@import url("https://example.invalid/x.css")</style><iframe src="https://example.invalid"></iframe>'
    )
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [markdown, cell]
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    page, text = render_page(notebook, "hostile")
    soup = BeautifulSoup(page, "html.parser")
    assert_inert(soup)
    for element in soup.find_all(True):
        for name, value in element.attrs.items():
            assert name == "href" or "example.invalid" not in str(value), (element.name, name)
    assert "alert(1)</script>" not in page
    assert "ok html" in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown, as text
    assert soup.find_all("math")  # text/latex became MathML


# -- the toy course, graded, with TA work and a trusted grader's record ---------------------------------


HOSTILE_MODULE = """import numpy as np


def add(a, b):
    from IPython.display import HTML, SVG, Javascript, display

    display(HTML("<script>document.title='pwned-html'</script>"
                 "<img src=x onerror=\\"document.title='pwned-img'\\"><b>bold from student</b>"))
    display(SVG("<svg xmlns='http://www.w3.org/2000/svg' onload=\\"document.title='pwned-svg'\\">"
                "<script>document.title='pwned-svg-script'</script><circle r='4'/></svg>"))
    display(Javascript("document.title='pwned-js'"))
    return a + b


def scale(x, k):
    return np.asarray(x, dtype=float) * k
"""
HOSTILE_ANSWER = r"""Addition is commutative: $a + b = b + a$, and $\text{<script>document.title='pwned-math'</script>}$.

$$\sum_{i=1}^{n} i = \frac{n(n+1)}{2}.$$

<img src=x onerror="document.title='pwned-md'"><script>document.title='pwned-md-script'</script>

<a href="javascript:document.title='pwned-link'">click</a> <iframe src="https://example.invalid/"></iframe>"""
SHORTENED_OUTPUT = "quick-run accuracy 0.08"  # printed by a cell tagged "shortened"
RAW_OUTPUTS = [  # as a kernel writes them, before any sanitising when the notebook is installed
    nbformat.v4.new_output(
        "display_data",
        data={
            "text/html": "<script>document.title='pwned-raw-html'</script><img src=x onerror=\"document.title='pwned'\">"
            "<b>raw bold from student</b>",
            "text/plain": "<IPython.core.display.HTML object>",
        },
    ),
    nbformat.v4.new_output(
        "display_data",
        data={
            "image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg' onload=\"document.title='pwned'\">"
            "<script>document.title='pwned-raw-svg'</script><circle r='4'/></svg>"
        },
    ),
    nbformat.v4.new_output("display_data", data={"application/javascript": "document.title='pwned-raw-js'"}),
]
TRUSTED_RECORD = {
    "score": 0.0,
    "points": 2.0,
    "passed": False,
    "message": "add(2, 3): expected 5.0, got NotImplementedError",
    "checked": ["add(2, 3)", "add of negative numbers"],
}


def _with_cells(notebook, sources):
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in sources:
            cell.source = sources[grade_id](cell.source)
    return notebook


@contextlib.contextmanager
def executed_notebook(course_dir, student):
    """Edit a graded notebook's cells, by grade id, as the grading step could have written them."""
    path = course_dir / "autograded" / student / "t1" / "toy.ipynb"
    path.chmod(0o644)
    notebook = nbformat.read(str(path), as_version=4)
    yield {
        c.metadata["nbgrader"]["grade_id"]: c for c in notebook.cells if "grade_id" in c.metadata.get("nbgrader", {})
    }
    nbformat.write(notebook, str(path))


# adds |a| + |b| (the toy course's hidden-only mutant): only the hidden part's negative numbers catch it
HIDDEN_ONLY_BUG = toy.REFERENCE_MODULE.replace("return a + b", "return abs(a) + abs(b)")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The toy course graded for ada (hostile output, answered), bea (starter) and cyd (solved), then a TA's
    work in the gradebook, a trusted grader's record on a cell and a "shortened" tag in the source."""
    root = tmp_path_factory.mktemp("feedback")
    course_dir = toy.init_toy_course(root, ["ada", "bea", "cyd", "dan"])
    subs = root / "subs"
    printing = {"double": lambda source: source + '\n\n\nprint("quick-run accuracy", 0.040 * 2)'}
    ada = _with_cells(toy.notebook(course_dir), {**printing, "explain": lambda _: HOSTILE_ANSWER})
    toy.make_zip(subs / "ada.zip", notebook=ada, module=HOSTILE_MODULE)
    toy.make_zip(subs / "bea.zip", notebook=toy.notebook(course_dir, solved=False), module=toy.STUB_MODULE, answer=None)
    cyd = _with_cells(toy.notebook(course_dir), {"explain": lambda _: "Because a + b = b + a."})
    toy.make_zip(subs / "cyd.zip", notebook=cyd)
    toy.make_zip(subs / "dan.zip", notebook=toy.notebook(course_dir), module=HIDDEN_ONLY_BUG)
    assert cli("collect", course_dir, "t1", subs).returncode == 0
    graded = cli("grade", course_dir, "t1", "--jobs", "2")
    assert graded.returncode == 0, graded.stdout + graded.stderr

    from nbgrader.api import Gradebook

    settings = json.loads((course_dir / "course.json").read_text())
    with Gradebook(settings["db_url"], settings["course_id"]) as gradebook:
        gradebook.find_grade("explain", "toy", "t1", "ada").manual_score = 1.5
        gradebook.find_comment("explain", "toy", "t1", "ada").manual_comment = "Good; say why it matters for the test."
        gradebook.find_comment("double", "toy", "t1", "bea").manual_comment = "Start from the formula in the text."
        gradebook.db.commit()
    with executed_notebook(course_dir, "bea") as cells:
        cells["test_add"].metadata["autograder"] = TRUSTED_RECORD
    with executed_notebook(course_dir, "ada") as cells:
        cells["test_add"].outputs[:0] = RAW_OUTPUTS
        cells["explain"].source = HOSTILE_ANSWER
    source_path = course_dir / "source" / "t1" / "toy.ipynb"
    source = nbformat.read(str(source_path), as_version=4)
    double = next(c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "double")
    double.metadata["tags"] = [*double.metadata.get("tags", []), "shortened"]
    nbformat.write(source, str(source_path))

    written = cli("feedback", course_dir, "t1")
    assert written.returncode == 0 and "not written" not in written.stderr, written.stdout + written.stderr
    return course_dir


def page_of(course_dir, student):
    return soup_of(course_dir / "feedback" / student / "t1" / "toy.html")


@pytest.mark.slow
def test_the_page_opens_with_a_table_of_every_graded_cell_linked_to_its_cell(graded):
    soup = page_of(graded, "cyd")
    assert soup.find("h1").get_text() == TOY_TITLE.format(student="cyd")
    rows = summary_rows(soup)
    assert list(rows) == ["test_double", "test_add", "test_scale", "test_answer_file", "explain"]
    for question, row in rows.items():
        target = soup.find(id=row["link"][1:])
        assert target is not None and question in target.get_text()
        assert target.find_next(class_="jp-Cell") is not None
    assert rows["test_scale"]["points"] == "3 / 3" and rows["test_scale"]["result"] == "passed"
    assert rows["explain"]["points"] == "– / 2" and rows["explain"]["result"] == "to be graded by hand"
    assert summary_counts(soup) == [
        "automatic tests: 7 / 7 points (4 of 4 tests passed)",
        "still to be graded by hand: 2 points",
    ]


@pytest.mark.slow
def test_failed_tests_state_the_trusted_graders_message_and_checks_else_the_error(graded):
    soup = page_of(graded, "bea")
    rows = summary_rows(soup)
    assert all(row["result"] == "failed" for name, row in rows.items() if name != "explain")
    assert rows["test_add"]["details"].startswith(TRUSTED_RECORD["message"])
    assert "checked: add(2, 3); add of negative numbers" in rows["test_add"]["details"]
    # the trusted grader's own record, which the installed notebook keeps, states each reason
    assert rows["test_scale"]["details"].startswith("scale raised NotImplementedError: scale")
    executed = nbformat.read(str(graded / "autograded" / "bea" / "t1" / "toy.ipynb"), as_version=4)
    double = next(c for c in executed.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_double")
    assert rows["test_double"]["details"].startswith(double.metadata["autograder"]["message"])
    assert "the test did not pass" not in rows["test_double"]["details"]
    assert "answer.txt must hold 42" in rows["test_answer_file"]["details"]
    note = soup.find(id="feedback-test_add")
    assert TRUSTED_RECORD["message"] in note.get_text() and "add of negative numbers" in note.get_text()
    assert rows["explain"]["result"] == "not answered"
    assert "not answered: 2 points" in summary_counts(soup)


@pytest.mark.slow
def test_a_failure_only_the_hidden_part_catches_states_its_reason_on_the_page_and_in_formgrader(graded):
    assert HIDDEN_ONLY_BUG != toy.REFERENCE_MODULE
    rows = summary_rows(page_of(graded, "dan"))
    assert rows["test_add"]["result"] == "failed" and rows["test_scale"]["result"] == "passed"
    details = rows["test_add"]["details"]
    assert details and "the test did not pass" not in details
    assert "add(-7, 19)" in details, details
    executed = nbformat.read(str(graded / "autograded" / "dan" / "t1" / "toy.ipynb"), as_version=4)
    cell = next(c for c in executed.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_add")
    assert cell.metadata["autograder"]["passed"] is False and "add(-7, 19)" in cell.metadata["autograder"]["message"]
    # formgrader shows outputs, not metadata: the reason stands in the cell's output
    assert any("Trusted grader: " in o.get("text", "") and "add(-7, 19)" in o["text"] for o in cell.outputs)


@pytest.mark.slow
def test_ta_comments_and_hand_graded_points_show_in_the_table_and_next_to_the_cell(graded):
    soup = page_of(graded, "ada")
    rows = summary_rows(soup)
    assert rows["explain"]["points"] == "1.5 / 2" and rows["explain"]["result"] == "graded by hand"
    assert "TA: Good; say why it matters for the test." in rows["explain"]["details"]
    assert "TA: Good; say why it matters for the test." in soup.find(id="feedback-explain").get_text()
    assert summary_counts(soup) == [
        "automatic tests: 7 / 7 points (4 of 4 tests passed)",
        "graded by hand: 1.5 / 2 points",
        "still to be graded by hand: 0 points",
    ]
    assert "Score so far: 8.5 / 9 points" in soup.find(class_="counts").get_text()
    # a comment on a cell that earns no points of its own stands next to that cell
    bea = page_of(graded, "bea")
    note = next(n for n in bea.find_all(class_="feedback-note") if "Start from the formula" in n.get_text())
    assert "def double" in note.find_next(class_="jp-Cell").get_text()


@pytest.mark.slow
def test_shortened_cells_show_a_note_instead_of_their_quick_output(graded):
    executed = nbformat.read(str(graded / "autograded" / "ada" / "t1" / "toy.ipynb"), as_version=4)
    assert SHORTENED_OUTPUT in json.dumps(executed.dict())  # the quick run printed it
    soup = soup_of(graded / "feedback" / "ada" / "t1" / "toy.html")
    assert SHORTENED_OUTPUT not in soup.get_text()
    cell = next(c for c in soup.find_all(class_="jp-CodeCell") if "def double" in c.get_text())
    assert cell.find(class_="jp-OutputArea").get_text().strip() == fb.SHORTENED


@pytest.mark.slow
def test_hostile_student_output_and_markdown_are_shown_inert(graded):
    soup = soup_of(graded / "feedback" / "ada" / "t1" / "toy.html")
    assert_inert(soup)
    answer = soup.find(id="feedback-explain").find_next(class_="jp-MarkdownCell")
    assert len(answer.find_all("math")) == 3  # $a + b = b + a$, the \\text{<script>} one and the display sum
    assert "<script>document.title='pwned-md-script'</script>" in answer.get_text()  # shown as text
    output = soup.find(id="feedback-test_add").find_next(class_="jp-OutputArea")
    assert output.find("b").get_text() == "raw bold from student"  # harmless HTML still renders
    assert "(JavaScript output not shown)" in output.get_text() or "application/javascript" in output.get_text()
    svg = next(img for img in output.find_all("img") if img.get("src", "").startswith("data:image/svg+xml"))
    assert "pwned-raw-svg" in base64.b64decode(svg["src"].split(",", 1)[1]).decode()  # an image: its script never runs
    assert "bold from student" in soup.get_text()  # what the sandboxed display wrote, sanitised at install time


@pytest.mark.slow
def test_hostile_page_runs_nothing_and_requests_nothing_in_chromium(graded, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    from optional_tools import chromium_path

    chromium = chromium_path("a hostile feedback page in a browser")
    url = (graded / "feedback" / "ada" / "t1" / "toy.html").as_uri()
    requests, dialogs = [], []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(url, wait_until="load")
            page.screenshot(path=str(tmp_path / "feedback.png"), full_page=True)
            assert page.title() == TOY_TITLE.format(student="ada")
            assert page.locator("b", has_text="raw bold from student").count() == 1  # student HTML, rendered inert
            assert page.locator("#feedback-explain").is_visible()
            assert page.evaluate("document.querySelectorAll('math').length") >= 3
            assert page.evaluate("document.querySelectorAll('script').length") == 0
        finally:
            browser.close()
    assert dialogs == []
    assert [r for r in requests if not r.startswith("data:")] == [url]


# -- the course's own assignments, through the demo -------------------------------------------------------


@pytest.mark.slow
def test_starter_and_halfdone_feedback_state_a_reason_for_every_failed_test(tmp_path):
    demo = cli("demo", "--workdir", tmp_path, "--assignments", "a1", "a3", course_file=paths.COURSE_FILE, timeout=1200)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    failed = 0
    for student in ("starter", "halfdone", "reference"):
        pages = sorted((tmp_path / "course" / "feedback" / student).rglob("*.html"))
        assert [page.parent.name for page in pages] == ["a1", "a3"], demo.stderr[-3000:]
        for page in pages:
            soup = soup_of(page)
            assert_inert(soup)
            assert redact.REDACTED not in soup.get_text()  # nobody printed hidden code: nothing may be blanked
            rows = summary_rows(soup)
            assert rows
            for question, row in rows.items():
                if row["result"] in ("failed", "partial credit"):
                    failed += 1
                    assert row["details"].strip(), (page, question)
                    assert "the test did not pass" not in row["details"], (page, question)
                if student == "reference":
                    assert row["result"] in ("passed", "to be graded by hand"), (question, row)
            assert soup.find_all("math") and not soup.find_all(class_="math-source")
    assert failed > 20
    starter = summary_rows(soup_of(tmp_path / "course" / "feedback" / "starter" / "a3" / "convolutional_networks.html"))
    # the trusted grader's record states the reason: which function raised what, and where
    assert "raised NotImplementedError: im2col" in starter["im2col"]["details"]


@pytest.mark.slow
def test_a_page_that_would_still_show_a_hidden_line_is_not_written(graded):
    """The last check reads the finished page: here a TA comment pastes a line of the hidden tests."""
    records = fb.gradebook_records(json.loads((graded / "course.json").read_text()), "t1", "cyd")
    records["toy"]["comments"]["explain"] = (
        'The hidden test is\ncheck_scalar(add(-7, 19), 12, "add(-7, 19) with the secret numbers")'
    )
    page = graded / "feedback" / "cyd" / "t1" / "toy.html"
    before = page.read_text()
    with pytest.raises(RuntimeError, match="would reveal hidden test code"):
        fb.student_feedback(graded, toy.course().assignment("t1"), "cyd", records)
    assert page.read_text() == before


def test_the_feedback_command_exits_non_zero_and_names_the_student_whose_page_was_refused(graded):
    from nbgrader.api import Gradebook

    settings = json.loads((graded / "course.json").read_text())
    with Gradebook(settings["db_url"], settings["course_id"]) as gradebook:
        comment = gradebook.find_comment("explain", "toy", "t1", "cyd")
        before, comment.manual_comment = (
            comment.manual_comment,
            'check_scalar(add(-7, 19), 12, "add(-7, 19) with the secret numbers")',
        )
        gradebook.db.commit()
    try:
        done = cli("feedback", graded, "t1")
    finally:
        with Gradebook(settings["db_url"], settings["course_id"]) as gradebook:
            gradebook.find_comment("explain", "toy", "t1", "cyd").manual_comment = before
            gradebook.db.commit()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "feedback not written for 1 student(s): cyd" in done.stderr
    assert "ada:" in done.stdout and "bea:" in done.stdout
