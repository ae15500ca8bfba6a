"""`export`: grades as CSV for an LMS upload, with what is still ungraded and every review decision.

    grades.csv            student_id, first_name, last_name, email, <assignment>..., total, max_total, still_to_grade
    grades_<id>.csv       student_id, <notebook>:<question>..., manual_points, late_penalty, total, max_total,
                          submitted_at, late_by, review, similarity, still_to_grade, comments
    reviews.csv           every review decision: assignment, student, decision, points, reason, decided_by, decided_at

Scores are the gradebook's: a TA's manual score where there is one (formgrader), else the automatic
one, plus extra credit. The late penalty is nbgrader's late-submission policy from the course's
nbgrader_config.py, applied to the scores as they stand at export (manual points included), per
notebook, from the submission's collect timestamp and the assignment's due date. A student without
a submission gets 0. `comments` holds the TA's comments (formgrader). `still_to_grade` names, per
student, the answers waiting for a TA, the answers to re-grade because their text changed, and
submissions held for review. `similarity` names the pairs `python -m autograder similarity` flagged
("similar to bob_2: 91 % of svm_loss_vectorized"). Text cells are written through `csv_cell`: control
characters escaped and a leading =, +, -, @ kept from being read as a formula.
"""

import csv
from dataclasses import dataclass, field
from pathlib import Path

from autograder.common.printable import csv_cell
from autograder.grading.record.course_dir import course_gradebook, load_settings


@dataclass
class Standing:
    """One student's standing on one assignment."""

    scores: dict
    submitted: bool = False
    timestamp: object = None
    seconds_late: float = 0.0
    late_penalty: float = 0.0
    manual_points: float = 0.0
    review: str = ""
    similarity: list = field(default_factory=list)
    to_grade: list = field(default_factory=list)
    pending: dict = field(default_factory=dict)  # {question, or "held for review": points waiting for a TA}
    comments: dict = field(default_factory=dict)

    @property
    def total(self):
        return sum(self.scores.values()) - self.late_penalty


def _late_by(seconds):
    if seconds <= 0:
        return ""
    hours = seconds / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"


def course_standing(course_dir):
    """(students, {assignment: {student: Standing}}, {assignment: {question: max}}, [review decisions])."""
    from nbgrader.api import MissingEntry

    from autograder.grading.record.nbgrader_course import late_policy
    from autograder.grading.record.review import describe, review_history, review_state
    from autograder.grading.record.similarity_pairs import describe_pair, similar_pairs

    settings = load_settings(course_dir)
    policy = late_policy(course_dir)
    standings, maxima = {}, {}
    with course_gradebook(course_dir) as gradebook:
        students = [
            {"id": s.id, "first_name": s.first_name or "", "last_name": s.last_name or "", "email": s.email or ""}
            for s in sorted(gradebook.students, key=lambda s: s.id)
        ]
        history = review_history(gradebook)
        for assignment_id in settings["assignments"]:
            assignment = gradebook.find_assignment(assignment_id)
            questions, written = {}, set()
            for notebook in assignment.notebooks:
                for cell in notebook.grade_cells:
                    questions[f"{notebook.name}:{cell.name}"] = cell.max_score
                written |= {f"{notebook.name}:{cell.name}" for cell in [*notebook.solution_cells, *notebook.task_cells]}
            maxima[assignment_id] = questions
            reviews = {state["student"]: state for state in review_state(gradebook, assignment_id)}
            similar = {}
            for pair in similar_pairs(gradebook, assignment_id):
                similar.setdefault(pair["student"], []).append(describe_pair(pair))
            per_student = {}
            for student in students:
                standing = Standing(scores=dict.fromkeys(questions, 0.0), similarity=similar.get(student["id"], []))
                per_student[student["id"]] = standing
                try:
                    submission = gradebook.find_submission(assignment_id, student["id"])
                except MissingEntry:
                    continue
                standing.submitted = True
                standing.timestamp = submission.timestamp
                standing.seconds_late = submission.total_seconds_late
                state = reviews.get(student["id"])
                held = state is not None and not state["decision"]
                if state is not None:
                    standing.review = describe(state["decision"]) + " [" + "; ".join(state["findings"][:3]) + "]"
                if held:
                    standing.to_grade.append(f"held for review ({state['withheld']:g} automatic points withheld)")
                    standing.pending["held for review"] = float(state["withheld"])
                for notebook in submission.notebooks:
                    for comment in notebook.comments:
                        if (comment.manual_comment or "").strip():
                            standing.comments[f"{notebook.name}:{comment.name}"] = comment.manual_comment.strip()
                    notebook_score = 0.0
                    for grade in notebook.grades:
                        question = f"{notebook.name}:{grade.name}"
                        score = float(grade.score or 0.0)
                        standing.scores[question] = score
                        notebook_score += score
                        if grade.manual_score is not None:
                            standing.manual_points += float(grade.manual_score) + float(grade.extra_credit or 0.0)
                        if not grade.needs_manual_grade or (held and question not in written):
                            continue  # a held submission's tests are listed once, as held
                        if grade.manual_score is not None:
                            standing.to_grade.append(f"{question} to re-grade (changed since graded)")
                        else:
                            standing.to_grade.append(f"{question} ({grade.max_score:g} points by hand)")
                        standing.pending[question] = float(grade.max_score or 0.0)
                    standing.late_penalty += policy(student["id"], notebook_score, standing.seconds_late)
            standings[assignment_id] = per_student
    return students, standings, maxima, history


def collect_grades(course_dir):
    """(students, {assignment: {student: {question: score}}}, {assignment: {question: max}})."""
    students, standings, maxima, _ = course_standing(course_dir)
    grades = {a: {s: standing.scores for s, standing in per.items()} for a, per in standings.items()}
    return students, grades, maxima


def _when(timestamp):
    return timestamp.strftime("%Y-%m-%d %H:%M:%S UTC") if timestamp else ""


def export_report(course_dir, out_dir=None):
    """Write the CSV files; return (their paths, {student: [what is still to grade, per assignment]})."""
    course_dir = Path(course_dir)
    out_dir = Path(out_dir or course_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    students, standings, maxima, history = course_standing(course_dir)
    assignment_ids = list(standings)
    pending = {}
    for student in students:
        items = [f"{a}: {item}" for a in assignment_ids for item in standings[a][student["id"]].to_grade]
        if items:
            pending[student["id"]] = items
    written = []
    summary = out_dir / "grades.csv"
    max_total = sum(sum(maxima[a].values()) for a in assignment_ids)
    with open(summary, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["student_id", "first_name", "last_name", "email", *assignment_ids, "total", "max_total", "still_to_grade"]
        )
        for student in students:
            totals = [standings[a][student["id"]].total for a in assignment_ids]
            writer.writerow(
                [
                    *[csv_cell(student[key]) for key in ("id", "first_name", "last_name", "email")],
                    *[f"{t:g}" for t in totals],
                    f"{sum(totals):g}",
                    f"{max_total:g}",
                    csv_cell("; ".join(pending.get(student["id"], []))),
                ]
            )
    written.append(summary)
    for assignment_id in assignment_ids:
        path = out_dir / f"grades_{assignment_id}.csv"
        questions = list(maxima[assignment_id])
        maximum = sum(maxima[assignment_id].values())
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(
                [
                    "student_id",
                    *questions,
                    "manual_points",
                    "late_penalty",
                    "total",
                    "max_total",
                    "submitted_at",
                    "late_by",
                    "review",
                    "similarity",
                    "still_to_grade",
                    "comments",
                ]
            )
            writer.writerow(["(max)", *[f"{maxima[assignment_id][q]:g}" for q in questions], "", "", f"{maximum:g}"])
            for student in students:
                standing = standings[assignment_id][student["id"]]
                writer.writerow(
                    [
                        csv_cell(student["id"]),
                        *[f"{standing.scores[q]:g}" for q in questions],
                        f"{standing.manual_points:g}",
                        f"{standing.late_penalty:g}",
                        f"{standing.total:g}",
                        f"{maximum:g}",
                        _when(standing.timestamp),
                        _late_by(standing.seconds_late),
                        csv_cell(standing.review),
                        csv_cell("; ".join(standing.similarity)),
                        csv_cell("; ".join(standing.to_grade) if standing.submitted else "not submitted"),
                        csv_cell(" | ".join(f"{question}: {text}" for question, text in standing.comments.items())),
                    ]
                )
        written.append(path)
    reviews = out_dir / "reviews.csv"
    with open(reviews, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["assignment", "student", "decision", "points", "reason", "decided_by", "decided_at"])
        for entry in history:
            writer.writerow(
                [
                    csv_cell(entry["assignment"]),
                    csv_cell(entry["student"]),
                    csv_cell(entry["decision"]),
                    f"{entry['points']:g}",
                    csv_cell(entry["reason"]),
                    csv_cell(entry["decided_by"]),
                    _when(entry["decided_at"]),
                ]
            )
    written.append(reviews)
    return written, pending


def export(course_dir, out_dir=None):
    """Write the CSV files; return their paths."""
    return export_report(course_dir, out_dir)[0]
