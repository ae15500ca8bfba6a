"""The course gradebook's one writer: a student's results in one transaction, notebooks in one rename.

One transaction means all of it: the submission row nbgrader keeps (created or updated here without
nbgrader's own intermediate commits), every grade and comment, and the autograder_* rows, so a database
that goes away mid-commit leaves the student as the previous run left them.

The gradebook is nbgrader's (formgrader reads and writes the same rows). Beside nbgrader's tables,
in the same database, it keeps what nbgrader has no place for (autograder.grading.record.gradebook_tables).

A TA's work is never overwritten by a regrade: manual scores and comments of answers whose text is
unchanged stay as they are; an answer whose text changed after a TA graded it keeps the old score and
comment but is flagged for re-grading; a TA's manual score on a test cell overrides the automatic one;
and a review decision holds for as long as the submission it was made on is the one graded.
"""

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from autograder.grading.record.gradebook_tables import (
    CELLS,
    RESULTS,
    apply_late_penalty,
    ensure_tables,
    grade_score,
    late_policy_for,
    latest_decision,
)
from autograder.grading.record.similarity_pairs import is_similarity_finding


@dataclass
class StudentResult:
    student: str
    score: float = 0.0
    max_score: float = 0.0
    needs_manual: float = 0.0
    status: str = "graded"
    reasons: list = field(default_factory=list)
    seconds: float = 0.0


KEPT = "unchanged, kept"


class GradebookStopped(Exception):
    """The gradebook database failed mid-batch; the message says what was kept and what to do."""


def database_name(db_url):
    """The database URL as a TA can read it in a message (no password)."""
    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as configured
        return str(db_url)


def database_failure(error):
    """(stopped answering?, one line of what the database said) for a database error."""
    lost = isinstance(error, (OperationalError, InterfaceError))
    said = str(getattr(error, "orig", None) or error).strip().splitlines()
    return lost, (said[0] if said else type(error).__name__)


def manifest_kinds(course_dir, assignment):
    """{notebook: {grade_id: kind}} from the release notebooks (test, answer or task)."""
    import nbformat

    from autograder.common.sources import notebook_tests

    kinds = {}
    for name in assignment.notebooks:
        path = Path(course_dir) / "release" / assignment.id / f"{name}.ipynb"
        notebook = nbformat.read(str(path), as_version=4)
        kinds[name] = {gid: kind for gid, _, kind in notebook_tests(notebook)}
    return kinds


def submission_digest(submission_dir, findings=()):
    """A fingerprint of what a student handed in (every collected file), so a review decision made on
    one submission never carries over to a different one."""
    digest = hashlib.sha256()
    root = Path(submission_dir) if submission_dir else None
    if root is not None and root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink() and path.name not in ("timestamp.txt", "collect.json"):
                digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    else:
        digest.update(json.dumps(sorted(findings)).encode())
    return digest.hexdigest()


def _answer_checksums(executed_path):
    """{grade_id: nbgrader checksum of the cell as submitted} for the answers and tasks of an executed notebook."""
    import nbformat
    from nbgrader.utils import compute_checksum

    if not executed_path or not Path(executed_path).is_file():
        return {}
    try:
        notebook = nbformat.read(str(executed_path), as_version=4)
    except Exception:  # noqa: BLE001 - an unreadable notebook has no answers to compare
        return {}
    checksums = {}
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if (meta.get("solution") or meta.get("task")) and meta.get("grade_id"):
            try:
                checksums[meta["grade_id"]] = compute_checksum(cell)
            except (KeyError, ValueError, TypeError):
                continue
    return checksums


def _submission(gradebook, assignment_id, student, timestamp):
    """nbgrader's update_or_create_submission without its commits (it commits the new or re-timed submission
    on its own): the same rows, left for the caller's one transaction."""
    from nbgrader.api import Comment, Grade, MissingEntry, SubmittedAssignment, SubmittedNotebook
    from nbgrader.utils import parse_utc

    extra = {"timestamp": parse_utc(timestamp)} if timestamp is not None else {}
    try:
        submission = gradebook.find_submission(assignment_id, student)
    except MissingEntry:
        parts = (gradebook.find_assignment(assignment_id), gradebook.find_student(student))
        with gradebook.db.no_autoflush:  # the rows are added whole, not flushed half-built
            submission = SubmittedAssignment(assignment=parts[0], student=parts[1], **extra)
            for notebook in submission.assignment.notebooks:
                submitted = SubmittedNotebook(notebook=notebook, assignment=submission)
                for cell in notebook.grade_cells:
                    Grade(cell_id=cell.id, notebook=submitted)
                for cell in notebook.solution_cells:
                    Comment(cell_id=cell.id, notebook=submitted)
                for cell in notebook.task_cells:
                    Comment(cell_id=cell.id, notebook=submitted)
                    Grade(cell_id=cell.id, notebook=submitted)
            gradebook.db.add(submission)
        gradebook.db.flush()
    else:
        for name, value in extra.items():
            setattr(submission, name, value)
    return submission


def commit(gradebook, assignment, result, kinds, timestamp=None, course_dir=None, grading=None):
    """Write one student's scores into the open course gradebook in one transaction; return a StudentResult.

    course_dir (when given) names the submission whose fingerprint ties review decisions to it, and
    the nbgrader configuration whose late-submission policy applies. grading: (key, graded_with) of what
    the grade was computed from (autograder.grading.run.fingerprint); None where it must be computed again.
    """
    ensure_tables(gradebook)
    db = gradebook.db
    student = result["student"]
    summary = StudentResult(student=student, seconds=result.get("seconds", 0.0))
    findings = [str(finding) for finding in result.get("findings") or []]
    submitted_dir = Path(course_dir) / "submitted" / student / assignment.id if course_dir else None
    digest = submission_digest(submitted_dir, findings)
    # a `similarity` finding on this very submission stays (and keeps it held) when it is graded again
    earlier = (
        db.execute(select(RESULTS).where(RESULTS.c.assignment == assignment.id, RESULTS.c.student == student))
        .mappings()
        .first()
    )
    if earlier is not None and earlier["digest"] == digest:
        findings += [
            f for f in json.loads(earlier["findings"] or "[]") if is_similarity_finding(f) and f not in findings
        ]
    decision = latest_decision(db, assignment.id, student, digest) if findings else None
    held = bool(findings) and decision is None
    if result.get("failure"):
        summary.reasons.append(result["failure"])
    summary.reasons += result.get("notes", [])
    if held:
        summary.status = "review"
        why = "possible tampering" if any(not is_similarity_finding(f) for f in findings) else "similar work"
        summary.reasons.append(f"{why}, points withheld for review: " + "; ".join(findings[:3]))
    elif decision:
        summary.status = f"reviewed ({decision['decision']}ed)"
        summary.reasons.append(
            f"review: {decision['decision']}ed by {decision['decided_by']}: {decision['reason']} (kept from an earlier run)"
        )
    submission = _submission(gradebook, assignment.id, student, timestamp)
    previous = {
        (row["notebook"], row["grade_id"]): dict(row)
        for row in db.execute(
            select(CELLS).where(CELLS.c.assignment == assignment.id, CELLS.c.student == student)
        ).mappings()
    }
    stored = []
    for notebook in submission.notebooks:
        cells = result.get("scores", {}).get(notebook.name, {}).get("cells", {})
        info = result.get("notebooks", {}).get(notebook.name, {})
        if not info.get("submitted", False):
            summary.reasons.append(f"{notebook.name}.ipynb was not submitted")
        summary.reasons += [f"{notebook.name}: {reason}" for reason in info.get("reasons", [])]
        comments = {comment.name: comment for comment in notebook.comments}
        checksums = None
        for grade in notebook.grades:
            kind = kinds.get(notebook.name, {}).get(grade.name, "test")
            found = cells.get(grade.name) or {}
            row = {
                "assignment": assignment.id,
                "student": student,
                "notebook": notebook.name,
                "grade_id": grade.name,
                "kind": kind,
                "max_score": float(grade.max_score or 0.0),
                "checksum": None,
            }
            if kind == "test":
                computed = found.get("auto_score")
                computed = 0.0 if computed is None else float(computed)
                row["auto_score"] = computed
                withheld = held or (decision is not None and decision["decision"] == "reject")
                grade.auto_score = 0.0 if withheld else computed
                if grade.manual_score is None:
                    grade.needs_manual_grade = held
                else:
                    summary.reasons.append(f"{grade.name}: a TA's score of {grade.manual_score:g} overrides the tests")
            else:
                checksum = found.get("checksum")
                if checksum is None:
                    if checksums is None:
                        checksums = _answer_checksums(info.get("executed"))
                    checksum = checksums.get(grade.name)
                row["checksum"] = checksum
                row["auto_score"] = found.get("auto_score")
                before = previous.get((notebook.name, grade.name))
                unchanged = before is not None and checksum is not None and before["checksum"] == checksum
                comment = comments.get(grade.name)
                ta_work = grade.manual_score is not None or bool(comment is not None and comment.manual_comment)
                blank = found.get("auto_score") == 0.0 and not found.get("needs_manual_grade", False)
                if comment is not None:
                    comment.auto_comment = "No response." if blank and kind == "answer" else None
                if unchanged:
                    grade.auto_score = found.get("auto_score", grade.auto_score) if found else grade.auto_score
                elif ta_work:
                    grade.auto_score = found.get("auto_score") if found else 0.0
                    grade.needs_manual_grade = True
                    summary.reasons.append(
                        f"{grade.name}: the answer changed since a TA graded it; its score and comment are "
                        "kept, flagged for re-grading"
                    )
                else:
                    grade.auto_score = found.get("auto_score") if found else 0.0
                    grade.needs_manual_grade = bool(found.get("needs_manual_grade", False)) if found else False
            stored.append(row)
    seconds_late, penalty = apply_late_penalty(submission, student, late_policy_for(course_dir))
    if seconds_late > 0:
        summary.reasons.append(f"submitted {_duration(seconds_late)} late: {penalty:g} points late penalty")
    db.execute(delete(CELLS).where(CELLS.c.assignment == assignment.id, CELLS.c.student == student))
    if stored:
        db.execute(insert(CELLS), stored)
    db.execute(delete(RESULTS).where(RESULTS.c.assignment == assignment.id, RESULTS.c.student == student))
    db.execute(
        insert(RESULTS).values(
            assignment=assignment.id,
            student=student,
            digest=digest,
            findings=json.dumps(findings),
            held=held,
            graded_at=datetime.now(timezone.utc).replace(tzinfo=None),
            grading_key=grading[0] if grading else None,
            graded_with=json.dumps(grading[1], sort_keys=True) if grading else None,
        )
    )
    # the summary is read before the commit: after it nbgrader's rows would be loaded again, and a database
    # that went away just then would fail a student whose results it already holds
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            summary.max_score += grade.max_score
            summary.score += grade_score(grade)
            if grade.needs_manual_grade:
                summary.needs_manual += grade.max_score
    summary.score -= penalty
    db.commit()
    if result.get("failure") and summary.status == "graded":
        summary.status = "failed"
    elif summary.reasons and summary.status == "graded":
        summary.status = "graded (issues)"
    return summary


def kept_results(gradebook, assignment_id, graded_at):
    """{student: StudentResult} of the grades the gradebook holds now for the students in graded_at ({student:
    when graded}), manual scores and late penalties included: two queries, however many students."""
    from nbgrader.api import Assignment, Grade, SubmittedAssignment, SubmittedNotebook

    summaries = {}
    for student, when in graded_at.items():
        summaries[student] = StudentResult(student=student, status=KEPT)
        if when is not None:
            summaries[student].reasons.append(f"graded {when:%Y-%m-%d %H:%M} UTC")

    def of_these(query):
        return (
            query.join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
            .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
            .filter(Assignment.name == assignment_id, SubmittedAssignment.student_id.in_(list(graded_at)))
        )

    notebooks = gradebook.db.query(SubmittedAssignment.student_id, SubmittedNotebook.late_submission_penalty)
    for student, penalty in of_these(notebooks.select_from(SubmittedNotebook)):
        summaries[student].score -= penalty or 0.0
    columns = (Grade.max_score, Grade.needs_manual_grade, Grade.manual_score, Grade.auto_score, Grade.extra_credit)
    grades = gradebook.db.query(SubmittedAssignment.student_id, *columns).select_from(Grade)
    grades = of_these(grades.join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id))
    for student, max_score, needs_manual, manual, auto, extra in grades:
        summary = summaries[student]
        summary.max_score += max_score or 0.0
        summary.score += (manual if manual is not None else auto or 0.0) + (extra or 0.0)
        if needs_manual:
            summary.needs_manual += max_score or 0.0
    return summaries


def _duration(seconds):
    minutes = int(seconds // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [
        f"{days} d" if days else "",
        f"{hours} h" if hours else "",
        f"{minutes} min" if minutes or not (days or hours) else "",
    ]
    return " ".join(part for part in parts if part)


def install_autograded(course_dir, assignment_id, result):
    """Replace autograded/<student>/<assignment>/ with the executed notebooks, made inert, atomically.

    What lands here is what formgrader shows a TA and what `feedback` renders, so every student
    output and written answer passes through autograder.grading.record.sanitize on the way in.
    """
    import nbformat

    from autograder.grading.record.sanitize import sanitize_notebook

    destination = Path(course_dir) / "autograded" / result["student"] / assignment_id
    staging = destination.with_name(destination.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    made_inert = []
    for name, info in result.get("notebooks", {}).items():
        if not (info.get("executed") and Path(info["executed"]).is_file()):
            continue
        release_path = Path(course_dir) / "release" / assignment_id / f"{name}.ipynb"
        try:
            executed = nbformat.read(info["executed"], as_version=4)
            release = nbformat.read(str(release_path), as_version=4) if release_path.is_file() else None
        except Exception as error:  # noqa: BLE001 - a notebook that cannot be read is not shown to anyone
            made_inert.append(f"{name}.ipynb could not be read ({type(error).__name__}); not installed")
            continue
        safe, changes = sanitize_notebook(executed, release)
        made_inert += [f"{name}: {change}" for change in changes]
        nbformat.write(safe, str(staging / f"{name}.ipynb"))
    record = {k: v for k, v in result.items() if k != "scores"}
    record["made_inert"] = made_inert
    (staging / "grading.json").write_text(json.dumps(record, indent=1))
    old = destination.with_name(destination.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if destination.exists():
        destination.rename(old)
    staging.rename(destination)
    shutil.rmtree(old, ignore_errors=True)


def submission_timestamp(submission_dir):
    from nbgrader.utils import parse_utc

    stamp = Path(submission_dir) / "timestamp.txt"
    if stamp.is_file():
        try:
            return parse_utc(stamp.read_text().strip())
        except (ValueError, TypeError):
            return None
    return None
