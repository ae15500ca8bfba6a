"""`feedback`: per-student HTML showing visible tests, results and points, never hidden test source.

Each executed notebook is rewritten before rendering: every test cell shows the release (visible)
version of its code, error tracebacks are cut to their final line, and any line of hidden test
code that student code may have printed (from IPython's history, say) is removed from every
output. A last check refuses to write a page that still contains a hidden line.
"""

import re
import sys
from pathlib import Path

import nbformat

from autograder.common.sources import BEGIN_HIDDEN, END_HIDDEN

REDACTED = "[hidden test code removed]"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def hidden_lines(source_notebook, release_notebook, student_notebook=None):
    """Lines of hidden test code that appear neither in the release nor in the student's own cells."""
    public = set()
    for cell in release_notebook.cells:
        public |= {line.strip() for line in cell.source.splitlines()}
    for cell in student_notebook.cells if student_notebook is not None else []:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not (meta.get("grade") and not meta.get("solution")):  # the student's code, not a test
            public |= {line.strip() for line in cell.get("source", "").splitlines()}
    secret = set()
    for cell in source_notebook.cells:
        inside = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped == BEGIN_HIDDEN:
                inside = True
            elif stripped == END_HIDDEN:
                inside = False
            elif inside and len(stripped) >= 6 and stripped not in public and not stripped.startswith("#"):
                secret.add(stripped)
    return secret


def _redact_text(text, secret):
    if not secret:
        return text
    kept = []
    for line in text.splitlines(keepends=True):
        plain = ANSI.sub("", line)
        kept.append(REDACTED + "\n" if any(s in plain for s in secret) else line)
    return "".join(kept)


def _redact_output(output, secret):
    kind = output.get("output_type")
    if kind == "stream":
        output["text"] = _redact_text(output.get("text", ""), secret)
    elif kind in ("execute_result", "display_data"):
        data = output.get("data", {})
        for mime in list(data):
            if mime.startswith("text/") or mime in ("application/json",):
                data[mime] = _redact_text(data[mime] if isinstance(data[mime], str) else str(data[mime]), secret)
    elif kind == "error":
        last = ANSI.sub("", output.get("traceback", [""])[-1]) if output.get("traceback") else ""
        output["traceback"] = [_redact_text(last or f"{output.get('ename')}: {output.get('evalue')}", secret)]
        output["evalue"] = _redact_text(str(output.get("evalue", "")), secret)
    return output


def sanitize(executed, release, secret, scores):
    """A copy of the executed notebook that is safe to show the student."""
    release_tests = {}
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            release_tests[meta["grade_id"]] = cell.source
    notebook = nbformat.from_dict(executed)
    cells = []
    total = maximum = 0.0
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if cell.get("cell_type") == "code":
            cell["outputs"] = [_redact_output(output, secret) for output in cell.get("outputs", [])]
        if meta.get("grade") and not meta.get("solution"):
            cell["source"] = release_tests.get(grade_id, "# (test code not shown)")
            # a test's displayed result may echo hidden inputs; what passed or failed is stated above it
            cell["outputs"] = [o for o in cell.get("outputs", []) if o.get("output_type") != "execute_result"]
            score, points = scores.get(grade_id, (0.0, float(meta.get("points", 0))))
            total += score
            maximum += points
            mark = "passed" if score >= points else ("partial credit" if score > 0 else "failed")
            cells.append(
                nbformat.v4.new_markdown_cell(
                    f"**Test `{grade_id}`: {score:g} / {points:g} points ({mark}).** "
                    "Hidden tests, if any, ran after the visible code below."
                )
            )
        elif cell.get("cell_type") == "code":
            cell["source"] = _redact_text(cell.get("source", ""), secret)
        cells.append(cell)
    header = nbformat.v4.new_markdown_cell(
        f"# Feedback\n\nAutomatically graded tests: **{total:g} / {maximum:g} points**. "
        "Written answers are graded by hand."
    )
    notebook.cells = [header, *cells]
    return notebook


def leaks(notebook, secret):
    """Secret lines that still stand as a whole line in a cell's code or output (the last safety check)."""
    texts = []
    for cell in notebook.cells:
        texts.append(cell.get("source", ""))
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts += [str(v) for k, v in output.get("data", {}).items() if k.startswith("text/")]
            texts += output.get("traceback", [])
    lines = {ANSI.sub("", line).strip() for text in texts for line in text.splitlines()}
    return sorted(secret & lines)


def render_html(notebook):
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(notebook)
    return body


def student_feedback(course_dir, assignment, student, scores):
    """Write feedback/<student>/<assignment>/<notebook>.html; return the paths written."""
    course_dir = Path(course_dir)
    written = []
    for name in assignment.notebooks:
        executed_path = course_dir / "autograded" / student / assignment.id / f"{name}.ipynb"
        if not executed_path.is_file():
            continue
        executed = nbformat.read(str(executed_path), as_version=4)
        release = nbformat.read(str(course_dir / "release" / assignment.id / f"{name}.ipynb"), as_version=4)
        source = nbformat.read(str(course_dir / "source" / assignment.id / f"{name}.ipynb"), as_version=4)
        submitted_path = course_dir / "submitted" / student / assignment.id / f"{name}.ipynb"
        try:
            submitted = nbformat.read(str(submitted_path), as_version=4)
        except Exception:  # noqa: BLE001 - without it, every hidden line stays secret
            submitted = None
        secret = hidden_lines(source, release, submitted)
        safe = sanitize(executed, release, secret, scores.get(name, {}))
        leaked = leaks(safe, secret)
        if leaked:
            raise RuntimeError(f"feedback for {student} would reveal hidden test code ({leaked[0]!r}); not written")
        page = render_html(safe)
        target = course_dir / "feedback" / student / assignment.id / f"{name}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
        written.append(target)
    return written


def gradebook_scores(settings, assignment_id, student):
    """{notebook: {grade_id: (score, max_score)}} from the course gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    with Gradebook(settings["db_url"], settings["course_id"]) as gradebook:
        try:
            submission = gradebook.find_submission(assignment_id, student)
        except MissingEntry:
            return scores
        for notebook in submission.notebooks:
            scores[notebook.name] = {grade.name: (grade.score or 0.0, grade.max_score) for grade in notebook.grades}
    return scores


def feedback(course_dir, course, assignment_id, students=None):
    """Feedback pages for every graded student of an assignment; returns {student: [paths]}."""
    from autograder.grading.course_dir import load_settings

    settings = load_settings(course_dir)
    assignment = course.assignment(assignment_id)
    graded = sorted(p.parent.name for p in (Path(course_dir) / "autograded").glob(f"*/{assignment_id}") if p.is_dir())
    if students:
        graded = [s for s in graded if s in set(students)]
    written = {}
    for student in graded:
        try:
            written[student] = student_feedback(
                course_dir, assignment, student, gradebook_scores(settings, assignment_id, student)
            )
        except Exception as error:  # noqa: BLE001 - one student's page never stops the others
            written[student] = []
            print(f"feedback for {student} not written: {error}", file=sys.stderr)
    return written
