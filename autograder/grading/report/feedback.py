"""`feedback`: a page per student and notebook that says what passed, what failed and why.

    python -m autograder feedback COURSE a1      # COURSE/feedback/<student>/a1/<notebook>.html

The page opens with a table of every graded test and hand-graded answer (points, result, the
one-line reason, the TA's comment, a link to the cell) under the counts: automatic points, points
graded by hand so far (once some are), and points still to be graded by hand. Then the graded notebook
follows, each graded cell headed by its result. Scores, hand-graded points (`Grade.manual_score`) and TA
comments (`Comment.manual_comment`) come from the gradebook; the reason for a failed test comes from
the trusted grader's record on the cell (`metadata["autograder"]`: message and what was checked),
else from the cell's error.

Hidden test source never appears: test cells show their release (visible) version, tracebacks are
cut to their last line, and an output line that *is* a line of hidden test code is replaced by
"[hidden test code removed]" (redact: exact lines, never a line that merely contains one, never a
line that is also public), so a student's own error message always shows. A page that would still
hold a hidden line, in the notebook or in the rendered page's text, is not written.

Cells tagged "shortened" in the source notebook ran at a reduced size for grading; their outputs
are replaced by a note saying so. The page itself is inert and self-contained (feedback_html).
"""

import html
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.common.scoring import cell_score
from autograder.grading.report.feedback_html import render_page
from autograder.grading.report.redact import (
    ANSI,
    REDACTED,
    is_test,
    leaks,
    notebook_lines,
    one_line,
    provided_lines,
    redact_text,
    secret_keys,
)

SHORTENED = "Shortened for grading; run the notebook to see the full result."
SHORTENED_TAG = "shortened"


def _notebook_texts(notebook):
    for cell in notebook.cells:
        yield cell.get("source", "")
        for output in cell.get("outputs", []):
            yield output.get("text", "")
            yield output.get("evalue", "")
            yield from output.get("traceback", [])
            yield from (str(v) for k, v in output.get("data", {}).items() if k.startswith("text/"))


# -- one row per graded cell -------------------------------------------------------------------------


@dataclass
class Row:
    grade_id: str
    kind: str  # test, answer or task
    points: float
    state: str = "failed"  # passed, partial, failed, withheld, hand, pending, unanswered
    score: float = 0.0
    reason: str = ""
    checked: list = field(default_factory=list)
    comment: str = ""

    @property
    def label(self):
        return {
            "passed": "passed",
            "partial": "partial credit",
            "failed": "failed",
            "withheld": "held for review",
            "hand": "graded by hand",
            "pending": "to be graded by hand",
            "unanswered": "not answered",
        }[self.state]

    @property
    def score_text(self):
        if self.state in ("pending", "withheld"):
            return f"– / {self.points:g}"
        return f"{self.score:g} / {self.points:g}"


def failure_reason(cell, secret):
    """(reason, [checks]) for a test cell: the trusted grader's record, else the cell's error."""
    record = cell.get("metadata", {}).get("autograder") if cell is not None else None
    record = record if isinstance(record, dict) else {}
    checked = record.get("checked") if isinstance(record.get("checked"), list) else []
    # a check named like a line of hidden code is left out rather than shown blanked
    checked = [one_line(item, secret) for item in checked if str(item).strip()]
    checked = [item for item in checked if item != REDACTED]
    if record.get("message"):
        return one_line(record["message"], secret), checked
    for output in cell.get("outputs", []) if cell is not None else []:
        if output.get("output_type") == "error":
            name, value = output.get("ename", "Error"), str(output.get("evalue", "")).strip()
            return one_line(f"{name}: {value}" if value else name, secret), checked
    return "", checked


def make_row(kind, grade_id, points, record, cell, secret, comment=""):
    """The row of one graded cell from its gradebook record (or, without one, from the executed cell)."""
    row = Row(grade_id, kind, float(points), comment=comment)
    if record is None:
        executed_score = cell_score(cell, points) if kind == "test" and cell is not None else 0.0
        record = {"auto_score": executed_score, "manual_score": None, "needs_manual_grade": kind != "test"}
    manual, auto = record.get("manual_score"), record.get("auto_score")
    extra = record.get("extra_credit") or 0.0
    if kind == "test":
        row.reason, row.checked = failure_reason(cell, secret)
    if manual is not None:
        row.state, row.score = "hand", float(manual) + float(extra)
    elif kind == "test" and record.get("needs_manual_grade"):
        row.state, row.reason = "withheld", "points held until a TA reviews the submission"
    elif kind == "test":
        row.score = float(auto or 0.0)
        row.state = "passed" if row.score >= row.points else ("partial" if row.score > 0 else "failed")
        if row.state == "passed":
            row.reason = ""
        elif not row.reason:
            row.reason = (
                f"partial credit: {row.score:g} of {row.points:g} points"
                if row.state == "partial"
                else ("the test cell is missing from the graded notebook" if cell is None else "the test did not pass")
            )
    elif record.get("needs_manual_grade") or kind == "task":
        row.state = "pending"
    else:
        row.state, row.reason = "unanswered", "left as released"
    return row


# -- the page ----------------------------------------------------------------------------------------


def anchor(grade_id):
    return "feedback-" + re.sub(r"[^A-Za-z0-9_-]", "-", grade_id)


def counts(rows):
    auto = [r for r in rows if r.kind == "test" and r.state in ("passed", "partial", "failed")]
    hand = [r for r in rows if r.state == "hand"]
    pending = [r for r in rows if r.state in ("pending", "withheld")]
    unanswered = [r for r in rows if r.state == "unanswered"]
    return {
        "auto": (
            sum(r.score for r in auto),
            sum(r.points for r in auto),
            sum(r.state == "passed" for r in auto),
            len(auto),
        ),
        "hand": (sum(r.score for r in hand), sum(r.points for r in hand)),
        "pending": sum(r.points for r in pending),
        "unanswered": sum(r.points for r in unanswered),
        "total": (sum(r.score for r in rows if r.state not in ("pending", "withheld")), sum(r.points for r in rows)),
    }


def _details(row):
    e = html.escape
    parts = [e(row.reason)] if row.reason else []
    if row.checked:
        parts.append(f"<small>checked: {e('; '.join(row.checked))}</small>")
    if row.comment:
        parts.append(f'<span class="feedback-comment">TA: {e(row.comment)}</span>')
    return "<br>".join(parts)


def summary_html(title, rows):
    e = html.escape
    c = counts(rows)
    auto_score, auto_points, passed, tests = c["auto"]
    items = [f"automatic tests: {auto_score:g} / {auto_points:g} points ({passed} of {tests} tests passed)"]
    if c["hand"][1]:  # "0 / 0" beside points still to be graded would read as a grade of nothing
        items.append(f"graded by hand: {c['hand'][0]:g} / {c['hand'][1]:g} points")
    items.append(f"still to be graded by hand: {c['pending']:g} points")
    if c["unanswered"]:
        items.append(f"not answered: {c['unanswered']:g} points")
    body = "".join(
        f'<tr class="feedback-{row.state}"><td><a href="#{anchor(row.grade_id)}">{e(row.grade_id)}</a> '
        f"<small>({e(row.kind)})</small></td><td>{e(row.score_text)}</td><td>{e(row.label)}</td>"
        f"<td>{_details(row)}</td></tr>"
        for row in rows
    )
    return (
        f'<section class="feedback-summary" id="feedback-summary"><h1>{e(title)}</h1>'
        f'<p class="counts">Score so far: <b>{c["total"][0]:g} / {c["total"][1]:g} points</b></p>'
        f"<ul>{''.join(f'<li>{e(item)}</li>' for item in items)}</ul>"
        "<table><thead><tr><th>question</th><th>points</th><th>result</th><th>reason, checks, comments</th></tr>"
        f"</thead><tbody>{body}</tbody></table>"
        "<p><small>Test cells below show their visible part; hidden tests, if any, ran after it.</small></p>"
        "</section>"
    )


def note_html(row=None, comment=""):
    e = html.escape
    if row is None:
        return f'<div class="feedback-note"><span class="feedback-comment">TA: {e(comment)}</span></div>'
    head = f"{'Test' if row.kind == 'test' else row.kind.title()} <code>{e(row.grade_id)}</code>: {e(row.score_text)} points, {e(row.label)}"
    details = _details(row)
    return (
        f'<div class="feedback-note feedback-{row.state}" id="{anchor(row.grade_id)}"><b>{head}</b>'
        f'{"<br>" + details if details else ""} <a href="#feedback-summary">(back to the table)</a></div>'
    )


def _redact_output(output, secret):
    kind = output.get("output_type")
    if kind == "stream":
        output["text"] = redact_text(output.get("text", ""), secret)
    elif kind in ("execute_result", "display_data"):
        data = output.get("data", {})
        for mime in list(data):
            if mime.startswith("text/") or mime == "application/json":
                data[mime] = redact_text(data[mime] if isinstance(data[mime], str) else str(data[mime]), secret)
    elif kind == "error":
        traceback = output.get("traceback") or []
        last = ANSI.sub("", traceback[-1]) if traceback else ""
        output["traceback"] = [redact_text(last or f"{output.get('ename')}: {output.get('evalue')}", secret)]
        output["evalue"] = redact_text(str(output.get("evalue", "")), secret)
    return output


def shortened_ids(source_notebook):
    """grade ids and cell ids of the source notebook's cells tagged "shortened"."""
    ids = set()
    for cell in source_notebook.cells:
        if SHORTENED_TAG in cell.get("metadata", {}).get("tags", []):
            ids.add(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or cell.get("id"))
    return ids - {None}


def _shorten(cell):
    note = nbformat.v4.new_output(
        "display_data", data={"text/html": f'<div class="feedback-shortened">{SHORTENED}</div>'}
    )
    note.data["text/plain"] = SHORTENED
    cell["outputs"] = [note] + [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def feedback_notebook(executed, release, source, secret, records, comments, kinds):
    """(notebook safe to show, rows): the executed notebook redacted and annotated, and the table's rows."""
    release_tests = {c.metadata["nbgrader"]["grade_id"]: c.source for c in release.cells if is_test(c)}
    shortened = shortened_ids(source)
    notebook = nbformat.from_dict(executed)
    by_id = {}
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id:
            by_id.setdefault(grade_id, cell)
    rows = [
        make_row(kind, gid, points, records.get(gid), by_id.get(gid), secret, comments.get(gid, ""))
        for gid, points, kind in kinds
    ]
    rows_by_id = {row.grade_id: row for row in rows}
    for cell in notebook.cells:
        meta = cell.get("metadata", {})
        meta.pop("feedback_note", None)
        grade_id = meta.get("nbgrader", {}).get("grade_id")
        if cell.get("cell_type") == "code":
            cell["outputs"] = [_redact_output(output, secret) for output in cell.get("outputs", [])]
            if grade_id in shortened or cell.get("id") in shortened:
                _shorten(cell)
        if is_test(cell):
            cell["source"] = release_tests.get(grade_id, "# (test code not shown)")
            # a test's displayed result may echo hidden inputs; what passed or failed is stated above it
            cell["outputs"] = [o for o in cell.get("outputs", []) if o.get("output_type") != "execute_result"]
        elif cell.get("cell_type") == "code":
            cell["source"] = redact_text(cell.get("source", ""), secret)
        if grade_id in rows_by_id and by_id.get(grade_id) is cell:
            meta["feedback_note"] = note_html(rows_by_id[grade_id])
        elif grade_id in comments:
            meta["feedback_note"] = note_html(comment=comments[grade_id])
    return notebook, rows


def _public_lines(course_dir, assignment, student, release):
    submission = Path(course_dir) / "submitted" / student / assignment.id
    lines = notebook_lines(release) + list(provided_lines())
    for path in sorted(submission.rglob("*.py")) if submission.is_dir() else []:
        lines += path.read_text(encoding="utf-8", errors="replace").splitlines()
    return lines


def _read(path):
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception:  # noqa: BLE001 - a missing or unreadable notebook only means fewer public lines
        return None


def student_feedback(course_dir, assignment, student, records):
    """Write feedback/<student>/<assignment>/<notebook>.html; return the paths written.

    records: {notebook: {"grades": {grade_id: {...}}, "comments": {cell name: text}}} from the gradebook.
    """
    from autograder.common.sources import notebook_tests

    course_dir = Path(course_dir)
    written = []
    for name in assignment.notebooks:
        executed_path = course_dir / "autograded" / student / assignment.id / f"{name}.ipynb"
        if not executed_path.is_file():
            continue
        executed = nbformat.read(str(executed_path), as_version=4)
        release = nbformat.read(str(course_dir / "release" / assignment.id / f"{name}.ipynb"), as_version=4)
        source = nbformat.read(str(course_dir / "source" / assignment.id / f"{name}.ipynb"), as_version=4)
        submitted = _read(course_dir / "submitted" / student / assignment.id / f"{name}.ipynb")
        public = _public_lines(course_dir, assignment, student, release) + notebook_lines(submitted, tests=False)
        secret = secret_keys(source, public)
        record = records.get(name, {})
        safe, rows = feedback_notebook(
            executed,
            release,
            source,
            secret,
            record.get("grades", {}),
            record.get("comments", {}),
            notebook_tests(release),
        )
        reasons = [row.reason for row in rows] + [check for row in rows for check in row.checked]
        # TA comments are checked as written: on the page they share a line with other text
        comments = list(record.get("comments", {}).values())
        leaked = leaks([*_notebook_texts(safe), *reasons, *comments], secret)
        title = f"Feedback for {student}: {assignment.title} ({name})"
        page, text = render_page(safe, title, summary_html(title, rows))
        leaked = leaked or leaks([text], secret)
        if leaked:
            raise RuntimeError(
                f"feedback for {student} ({name}) would reveal hidden test code ({leaked[0]!r}); not written. "
                "If a TA comment quotes the hidden tests, edit the comment (formgrader) and run feedback again"
            )
        target = course_dir / "feedback" / student / assignment.id / f"{name}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
        written.append(target)
    return written


def gradebook_records(settings, assignment_id, student):
    """{notebook: {"grades": {grade_id: scores}, "comments": {cell: TA comment}}} from the course gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    records = {}
    with Gradebook(settings["db_url"], settings["course_id"]) as gradebook:
        try:
            submission = gradebook.find_submission(assignment_id, student)
        except MissingEntry:
            return records
        for notebook in submission.notebooks:
            grades = {
                grade.name: {
                    "auto_score": grade.auto_score,
                    "manual_score": grade.manual_score,
                    "extra_credit": grade.extra_credit,
                    "max_score": grade.max_score,
                    "needs_manual_grade": grade.needs_manual_grade,
                }
                for grade in notebook.grades
            }
            comments = {c.name: c.manual_comment for c in notebook.comments if (c.manual_comment or "").strip()}
            records[notebook.name] = {"grades": grades, "comments": comments}
    return records


def feedback(course_dir, course, assignment_id, students=None):
    """Feedback pages for every graded student of an assignment; returns {student: [paths]}."""
    from autograder.grading.record.course_dir import load_settings

    settings = load_settings(course_dir)
    assignment = course.assignment(assignment_id)
    graded = sorted(p.parent.name for p in (Path(course_dir) / "autograded").glob(f"*/{assignment_id}") if p.is_dir())
    if students:
        graded = [s for s in graded if s in set(students)]
    written = {}
    for student in graded:
        try:
            written[student] = student_feedback(
                course_dir, assignment, student, gradebook_records(settings, assignment_id, student)
            )
            if not written[student]:
                print(f"feedback for {student} not written: no graded notebook (none was submitted)", file=sys.stderr)
        except Exception as error:  # noqa: BLE001 - one student's page never stops the others
            written[student] = []
            print(f"feedback for {student} not written: {error}", file=sys.stderr)
    return written
