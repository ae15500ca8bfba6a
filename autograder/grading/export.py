"""`export`: grades as CSV for an LMS upload: one summary file and one per-question file per assignment.

    grades.csv            student_id, first_name, last_name, email, <assignment>..., total, max_total
    grades_<id>.csv       student_id, <notebook>:<question>..., total, max_total

A student without a submission gets 0; scores include manual grades where a TA has entered them.
"""

import csv
from pathlib import Path

from autograder.grading.course_dir import load_settings


def collect_grades(course_dir):
    """(students, {assignment: {student: {question: score}}}, {assignment: {question: max}})."""
    from nbgrader.api import Gradebook, MissingEntry

    settings = load_settings(course_dir)
    grades, maxima = {}, {}
    with Gradebook(settings["db_url"], settings["course_id"]) as gradebook:
        students = [
            {"id": s.id, "first_name": s.first_name or "", "last_name": s.last_name or "", "email": s.email or ""}
            for s in sorted(gradebook.students, key=lambda s: s.id)
        ]
        for assignment_id in settings["assignments"]:
            assignment = gradebook.find_assignment(assignment_id)
            questions = {}
            for notebook in assignment.notebooks:
                for cell in notebook.grade_cells:
                    questions[f"{notebook.name}:{cell.name}"] = cell.max_score
            maxima[assignment_id] = questions
            per_student = {}
            for student in students:
                scores = dict.fromkeys(questions, 0.0)
                try:
                    submission = gradebook.find_submission(assignment_id, student["id"])
                except MissingEntry:
                    per_student[student["id"]] = scores
                    continue
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        scores[f"{notebook.name}:{grade.name}"] = float(grade.score or 0.0)
                per_student[student["id"]] = scores
            grades[assignment_id] = per_student
    return students, grades, maxima


def export(course_dir, out_dir=None):
    """Write the CSV files; return their paths."""
    course_dir = Path(course_dir)
    out_dir = Path(out_dir or course_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    students, grades, maxima = collect_grades(course_dir)
    written = []
    summary = out_dir / "grades.csv"
    assignment_ids = list(grades)
    with open(summary, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student_id", "first_name", "last_name", "email", *assignment_ids, "total", "max_total"])
        max_total = sum(sum(maxima[a].values()) for a in assignment_ids)
        for student in students:
            totals = [sum(grades[a][student["id"]].values()) for a in assignment_ids]
            writer.writerow(
                [
                    student["id"],
                    student["first_name"],
                    student["last_name"],
                    student["email"],
                    *[f"{t:g}" for t in totals],
                    f"{sum(totals):g}",
                    f"{max_total:g}",
                ]
            )
    written.append(summary)
    for assignment_id in assignment_ids:
        path = out_dir / f"grades_{assignment_id}.csv"
        questions = list(maxima[assignment_id])
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["student_id", *questions, "total", "max_total"])
            writer.writerow(
                [
                    "(max)",
                    *[f"{maxima[assignment_id][q]:g}" for q in questions],
                    f"{sum(maxima[assignment_id].values()):g}",
                    "",
                ]
            )
            for student in students:
                scores = grades[assignment_id][student["id"]]
                writer.writerow(
                    [
                        student["id"],
                        *[f"{scores[q]:g}" for q in questions],
                        f"{sum(scores.values()):g}",
                        f"{sum(maxima[assignment_id].values()):g}",
                    ]
                )
        written.append(path)
    return written
