"""`check`: students run the visible tests on their own work and get a per-question table.

    python -m autograder check a1                      # assignments/a1/*.ipynb with your cs_lib
    python -m autograder check a1 --notebook my.ipynb  # another copy of the notebook

The notebook runs top to bottom in a fresh kernel (with NBGRADER_EXECUTION=validate, so heavy
cells use their quick sizes) and every test cell is scored as the grader scores it. A test cell
whose code was changed since the release is reported and counts as failed. Unlike
`nbgrader validate`, the exit code is 1 when any test fails. In a notebook cell, `show_check("a1")`
displays the same table.
"""

import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.common import paths
from autograder.common.checksum import compute_checksum
from autograder.common.course import CourseError, load_manifest
from autograder.common.execute import run_notebook

QUESTION_WIDTH = 32
RESULT_WIDTH = 80


def _wrapped(text, width):
    """text in lines of at most width characters (a long name breaks anywhere, nothing is cut)."""
    pieces = []
    for paragraph in str(text).splitlines() or [""]:
        pieces += textwrap.wrap(paragraph, width, break_long_words=True, break_on_hyphens=False) or [""]
    return pieces


@dataclass
class Row:
    notebook: str
    question: str
    kind: str
    points: float
    score: float = 0.0
    message: str = ""

    @property
    def passed(self):
        return self.kind != "test" or self.score >= self.points


@dataclass
class CheckReport:
    assignment: str
    rows: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.problems and all(row.passed for row in self.rows)

    def table(self):
        """The per-question table: long question names wrap within their column, reasons show whole."""
        lines = [f"{'question':<{QUESTION_WIDTH}} {'points':>8}  result"]
        for row in self.rows:
            if row.kind == "test":
                points = f"{row.score:>3g}/{row.points:<4g}"
                status = "pass" if row.passed else f"FAIL  {row.message}"
            else:
                points, status = f"{'-':>3}/{row.points:<4g}", "graded by hand"
            names = _wrapped(f"{row.notebook}:{row.question}", QUESTION_WIDTH)
            results = _wrapped(status, RESULT_WIDTH)
            for index in range(max(len(names), len(results))):
                name = names[index] if index < len(names) else ""
                result = results[index] if index < len(results) else ""
                shown = points if index == 0 else ""
                lines.append(f"{name:<{QUESTION_WIDTH}} {shown:>8}  {result}".rstrip())
        tests = [row for row in self.rows if row.kind == "test"]
        score = sum(row.score for row in tests)
        total = sum(row.points for row in tests)
        lines.append(
            f"visible tests: {score:g}/{total:g} points; {sum(r.passed for r in tests)}/{len(tests)} questions pass"
        )
        lines += [f"problem: {problem}" for problem in self.problems]
        return "\n".join(lines)

    def html(self):
        import html

        rows = "".join(
            f"<tr><td>{html.escape(r.notebook)}:{html.escape(r.question)}</td><td>{r.score:g}/{r.points:g}</td>"
            f"<td style='color:{'green' if r.passed else 'crimson'}'>"
            f"{'graded by hand' if r.kind != 'test' else ('pass' if r.passed else 'FAIL ' + html.escape(r.message))}</td></tr>"
            for r in self.rows
        )
        problems = "".join(f"<p style='color:crimson'>{html.escape(p)}</p>" for p in self.problems)
        return f"<table><tr><th>question</th><th>points</th><th>result</th></tr>{rows}</table>{problems}"


def _modified_tests(notebook):
    changed = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and meta.get("checksum"):
            if compute_checksum(cell) != meta["checksum"]:
                changed.append(meta["grade_id"])
    return changed


def check(assignment_id, notebook_path=None, manifest_path=paths.MANIFEST, timeout=600):
    manifest = load_manifest(manifest_path)
    entry = next((a for a in manifest["assignments"] if a["id"] == assignment_id), None)
    if entry is None:
        raise CourseError(
            f"unknown assignment {assignment_id!r}; the course has {[a['id'] for a in manifest['assignments']]}"
        )
    report = CheckReport(assignment_id)
    for item in entry["notebooks"]:
        name = item["name"]
        path = Path(notebook_path) if notebook_path else Path(manifest_path).parent / assignment_id / f"{name}.ipynb"
        if not path.is_file():
            report.problems.append(f"no notebook at {path}")
            continue
        try:
            notebook = nbformat.read(str(path), as_version=4)
        except Exception as error:  # noqa: BLE001 - any unreadable notebook gets the same advice
            report.problems.append(f"{path} is not a readable notebook ({error}); restore it from the release")
            continue
        modified = _modified_tests(notebook)
        run = run_notebook(
            notebook, path.parent, grading=True, timeout=timeout, extra_env={"NBGRADER_EXECUTION": "validate"}
        )
        if run.failure:
            report.problems.append(f"{name}: {run.failure}")
        results = {gid: (score, points, summary) for gid, score, points, summary in run.results}
        for graded in item["graded"]:
            gid = graded["id"]
            row = Row(name, gid, graded["kind"], float(graded["points"]))
            if graded["kind"] == "test":
                if gid in modified:
                    row.message = "the test cell was changed; restore it from the release"
                elif gid not in results:
                    row.message = "the test cell is missing from the notebook"
                else:
                    row.score, _, row.message = results[gid]
            report.rows.append(row)
    return report


def _current_colab_notebook(folder):
    """Colab keeps the open notebook in the browser: ask for it and save a copy to check."""
    from google.colab import _message

    reply = _message.blocking_request("get_ipynb", timeout_sec=60)
    path = Path(folder) / ".check_current.ipynb"
    path.write_text(json.dumps(reply["ipynb"]))
    return path


def show_check(assignment_id, notebook_path=None):
    """Run the check from a notebook cell and display the table.

    Locally the saved notebook in assignments/<id>/ is checked (save first); on Colab the notebook
    open in the browser is. While the check itself runs the notebook, this cell does nothing.
    """
    import os
    import sys

    from IPython.display import HTML, display

    if os.environ.get("NBGRADER_EXECUTION"):
        print("(the self-check does not run inside a check or grading run)")
        return None
    if notebook_path is None and "google.colab" in sys.modules:
        notebook_path = _current_colab_notebook(Path.cwd())
    report = check(assignment_id, notebook_path)
    display(HTML(report.html()))
    return report
