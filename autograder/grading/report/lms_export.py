"""`export --format canvas|moodle`: the grades as the LMS's own grade import reads them.

    python -m autograder export COURSE --format canvas      # COURSE/grades_canvas.csv
    python -m autograder export COURSE --format moodle      # COURSE/grades_moodle.csv

Canvas (Grades > Import, "Gradebook import CSV"): a header row "Student, ID, SIS User ID, SIS Login ID,
Section", then one column per assignment; a second row whose first cell says "Points Possible" holds
each column's maximum. Canvas finds a student by ID (its own user id, which the course does not know,
so it is left empty), then by SIS User ID (the roster id goes here), then by SIS Login ID, then by name.
A column whose title matches an assignment updates it, any other creates one. The course total goes
in "Final Points", a column Canvas computes itself and skips on import (marked "(read only)" in the
Points Possible row, as Canvas's own export does): it is there for the TA to compare, never imported.

Moodle (Grade administration > Import > CSV file): a header row, then one row per student and nothing
else (every row must name a user). At import, "Identify user by" maps a column to a user field: "ID
number" (the roster id) or "Email address"; each grade column is mapped to a grade item (or a new
one). "Course total" is for comparing: map it to "Ignore", Moodle computes its own. Moodle refuses
grades above 100 unless the site allows larger ones (gradepointmax); `export` warns when a value is.

Per assignment the total with the late penalty applied, exactly as grades.csv has it (course_standing);
a student without a submission gets 0. Every text cell that a spreadsheet would read as a formula (it
starts with =, +, -, @, a tab or a carriage return) is prefixed with ' and its control characters are
escaped (autograder/common/printable.py) -- numbers are never touched.
"""

import csv
from pathlib import Path

from autograder.common.printable import csv_cell

FORMATS = ("canvas", "moodle")
MOODLE_GRADE_LIMIT = 100  # Moodle's default gradepointmax


def _number(value):
    return f"{value:g}"


def column_title(assignment_id, titles):
    title = (titles or {}).get(assignment_id, "")
    return f"{assignment_id}: {title}" if title else assignment_id


def _name(student):
    last, first = student["last_name"].strip(), student["first_name"].strip()
    if last and first:
        return f"{last}, {first}"
    return last or first or student["id"]


def canvas_rows(students, standings, maxima, titles=None):
    """The rows of Canvas's gradebook import file."""
    assignment_ids = list(standings)
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    header += [csv_cell(column_title(a, titles)) for a in assignment_ids] + ["Final Points"]
    possible = ["    Points Possible", "", "", "", ""]
    possible += [_number(sum(maxima[a].values())) for a in assignment_ids] + ["(read only)"]
    rows = [header, possible]
    for student in students:
        totals = [standings[a][student["id"]].total for a in assignment_ids]
        rows.append(
            [csv_cell(_name(student)), "", csv_cell(student["id"]), "", ""]
            + [_number(total) for total in totals]
            + [_number(sum(totals))]
        )
    return rows


def moodle_rows(students, standings, titles=None):
    """The rows of Moodle's CSV grade import file."""
    assignment_ids = list(standings)
    header = ["ID number", "Email address", "First name", "Last name"]
    header += [csv_cell(column_title(a, titles)) for a in assignment_ids] + ["Course total"]
    rows = [header]
    for student in students:
        totals = [standings[a][student["id"]].total for a in assignment_ids]
        rows.append(
            [csv_cell(student[key]) for key in ("id", "email", "first_name", "last_name")]
            + [_number(total) for total in totals]
            + [_number(sum(totals))]
        )
    return rows


def export_lms(course_dir, fmt, out_dir=None, titles=None):
    """Write grades_<fmt>.csv; return (path, [warnings for the TA])."""
    from autograder.grading.report.export import course_standing

    if fmt not in FORMATS:
        raise ValueError(f"unknown LMS format {fmt!r}; one of {', '.join(FORMATS)}")
    out_dir = Path(out_dir or course_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    students, standings, maxima, _ = course_standing(course_dir)
    warnings = []
    if fmt == "canvas":
        rows = canvas_rows(students, standings, maxima, titles)
        if any(not student["first_name"] and not student["last_name"] for student in students):
            warnings.append("students without a name in the roster are named by their id in the Student column")
    else:
        rows = moodle_rows(students, standings, titles)
        over = [
            (student["id"], a)
            for student in students
            for a in standings
            if standings[a][student["id"]].total > MOODLE_GRADE_LIMIT
        ]
        if over:
            warnings.append(
                f"{len(over)} grade(s) are above {MOODLE_GRADE_LIMIT} (first: {over[0][0]} {over[0][1]}): Moodle refuses "
                "them unless the site's gradepointmax allows more"
            )
        if any(sum(standings[a][s["id"]].total for a in standings) > MOODLE_GRADE_LIMIT for s in students):
            warnings.append(
                f"some course totals are above {MOODLE_GRADE_LIMIT}: map 'Course total' to Ignore at import"
            )
    path = out_dir / f"grades_{fmt}.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path, warnings
