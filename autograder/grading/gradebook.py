"""The course gradebook's one writer: a student's results in one transaction, notebooks in one rename."""

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class StudentResult:
    student: str
    score: float = 0.0
    max_score: float = 0.0
    needs_manual: float = 0.0
    status: str = "graded"
    reasons: list = field(default_factory=list)
    seconds: float = 0.0


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


def commit(gradebook, assignment, result, kinds, timestamp=None):
    """Write one student's scores into the open course gradebook in one transaction; return a StudentResult."""
    summary = StudentResult(student=result["student"], seconds=result.get("seconds", 0.0))
    flagged = bool(result.get("findings"))
    if result.get("failure"):
        summary.reasons.append(result["failure"])
    summary.reasons += result.get("notes", [])
    if flagged:
        summary.status = "review"
        summary.reasons.append("possible tampering, points withheld for review: " + "; ".join(result["findings"][:3]))
    submission = gradebook.update_or_create_submission(assignment.id, result["student"], timestamp=timestamp)
    for notebook in submission.notebooks:
        notebook_scores = result.get("scores", {}).get(notebook.name, {})
        cells = notebook_scores.get("cells", {})
        info = result.get("notebooks", {}).get(notebook.name, {})
        if not info.get("submitted", False):
            summary.reasons.append(f"{notebook.name}.ipynb was not submitted")
        summary.reasons += [f"{notebook.name}: {reason}" for reason in info.get("reasons", [])]
        for grade in notebook.grades:
            kind = kinds.get(notebook.name, {}).get(grade.name, "test")
            found = cells.get(grade.name)
            if kind == "test":
                score = found["auto_score"] if found and found["auto_score"] is not None else 0.0
                grade.auto_score = 0.0 if flagged else score
                grade.needs_manual_grade = flagged
            else:
                grade.auto_score = found["auto_score"] if found else 0.0
                grade.needs_manual_grade = found["needs_manual_grade"] if found else False
    gradebook.db.commit()
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            summary.max_score += grade.max_score
            summary.score += grade.auto_score or 0.0
            if grade.needs_manual_grade:
                summary.needs_manual += grade.max_score
    if result.get("failure") and summary.status == "graded":
        summary.status = "failed"
    elif summary.reasons and summary.status == "graded":
        summary.status = "graded (issues)"
    return summary


def install_autograded(course_dir, assignment_id, result):
    """Replace autograded/<student>/<assignment>/ with the executed notebooks, atomically."""
    destination = Path(course_dir) / "autograded" / result["student"] / assignment_id
    staging = destination.with_name(destination.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name, info in result.get("notebooks", {}).items():
        if info.get("executed") and Path(info["executed"]).is_file():
            shutil.copyfile(info["executed"], staging / f"{name}.ipynb")
    (staging / "grading.json").write_text(json.dumps({k: v for k, v in result.items() if k != "scores"}, indent=1))
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
