"""`export --format canvas|moodle`: files the LMS grade imports read as they are, with the gradebook's totals
and late penalties; `export` without --format writes what it always wrote.

The files are parsed here the way the importers parse them: Canvas's gradebook importer (a header row whose
first cells are Student, ID, SIS User ID, SIS Login ID and Section; a row whose first cell holds "Points
Possible"; students found by SIS User ID; read-only total columns skipped) and Moodle's CSV import (one
header row, every later row a student named by the column mapped to "ID number" or "Email address").
The expected scores come from nbgrader's gradebook: each submission's score less its late penalty.
"""

import csv
import os
import re
from datetime import datetime, timezone

import pytest

import toy
from autograder.common.printable import csv_cell as csv_text
from autograder.grading.record.course_dir import init_course, load_settings
from toy import cli

DUE = datetime(2030, 3, 1, 12, 0, tzinfo=timezone.utc)
ROSTER = """id,first_name,last_name,email
ada,Ada,Lovelace,ada@example.org
bea,Bea,"=HYPERLINK(""http://evil.example/"",""click"")",bea@example.org
cyd,Cyd,Charisse,+cyd@example.org
"""
# Canvas skips these columns on import (its own computed totals), matched anywhere in the header
CANVAS_READ_ONLY = re.compile(
    "Current Score|Current Points|Current Grade|Final Score|Final Points|Final Grade|Override Score|Override Grade"
)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """ada hands in on time, bea 36 hours late (10 % a started day), cyd nothing."""
    root = tmp_path_factory.mktemp("lms-export")
    (root / "roster.csv").write_text(ROSTER)
    course_dir = root / "course"
    init_course(
        course_dir, toy.course(), roster=root / "roster.csv", cell_timeout=20, due={"t1": f"{DUE:%Y-%m-%d %H:%M} UTC"}
    )
    config = course_dir / "nbgrader_config.py"
    config.write_text(
        config.read_text()
        + '\nc.AssignLatePenalties.plugin_class = "autograder.grading.record.nbgrader_course.PercentPerDay"\n'
        + "c.PercentPerDay.percent = 10\n"
    )
    for student, hours in (("ada", -1), ("bea", 36)):
        path = toy.make_zip(root / "subs" / f"{student}.zip", notebook=toy.notebook(course_dir))
        when = DUE.timestamp() + hours * 3600
        os.utime(path, (when, when))
    assert cli("collect", course_dir, "t1", root / "subs").returncode == 0
    done = cli("grade", course_dir, "t1", "--jobs", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    return course_dir


def gradebook_totals(course_dir):
    """{student: points on t1 after the late penalty}, from nbgrader's gradebook (0 without a submission)."""
    from nbgrader.api import Gradebook, MissingEntry

    settings = load_settings(course_dir)
    totals = {}
    with Gradebook(settings["db_url"], settings["course_id"]) as gradebook:
        for student in gradebook.students:
            try:
                submission = gradebook.find_submission("t1", student.id)
            except MissingEntry:
                totals[student.id] = 0.0
                continue
            totals[student.id] = submission.score - submission.late_submission_penalty
        maximum = gradebook.find_assignment("t1").max_score
    return totals, maximum


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def canvas_import(rows):
    """What Canvas's gradebook importer makes of the rows: ({assignment title: points possible},
    {SIS user id: {assignment title: grade}}). Raises AssertionError where Canvas would refuse the file."""
    header = rows[0]
    assert len(header) > 3 and "Student" in header[0] and "ID" in header[1], header
    assert re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3]), header
    student_columns = 5
    assert "Section" in header[student_columns - 1], "the last student column must be Section"
    assignments = {
        index: title
        for index, title in enumerate(header)
        if index >= student_columns and not CANVAS_READ_ONLY.search(title)
    }
    possible, students = {}, {}
    for row in rows[1:]:
        if "Points Possible" in row[0]:
            possible = {title: row[index] for index, title in assignments.items()}
            read_only = [row[i] for i, title in enumerate(header) if CANVAS_READ_ONLY.search(title)]
            assert all(re.search(r"read\s+only", value) for value in read_only)
            continue
        assert row[2], f"no SIS User ID to find the student by: {row}"
        students[row[2]] = {title: float(row[index]) for index, title in assignments.items()}
    return possible, students, header


@pytest.mark.slow
def test_canvas_file_imports_with_each_students_late_penalised_total(graded):
    run = cli("export", graded, "--format", "canvas")
    assert run.returncode == 0, run.stderr
    path = graded / "grades_canvas.csv"
    assert run.stdout.strip() == str(path)
    rows = read_rows(path)
    possible, students, header = canvas_import(rows)
    totals, maximum = gradebook_totals(graded)
    assert possible == {"t1: Toy assignment": f"{maximum:g}"}
    assert students == {student: {"t1: Toy assignment": pytest.approx(total)} for student, total in totals.items()}
    assert totals["bea"] == pytest.approx(7 * 0.8) and totals["cyd"] == 0  # 2 started days late, nothing handed in
    final = header.index("Final Points")
    by_id = {row[2]: row for row in rows[2:]}
    assert float(by_id["ada"][final]) == totals["ada"]
    assert by_id["ada"][0] == "Lovelace, Ada" and by_id["ada"][1] == "" and by_id["ada"][3] == ""
    assert by_id["bea"][0].startswith("'=HYPERLINK(")  # a spreadsheet shows the text, runs nothing


@pytest.mark.slow
def test_moodle_file_has_one_row_per_student_identified_by_id_number_or_email(graded):
    run = cli("export", graded, "--format", "moodle")
    assert run.returncode == 0, run.stderr
    rows = read_rows(graded / "grades_moodle.csv")
    header, body = rows[0], rows[1:]
    assert header == ["ID number", "Email address", "First name", "Last name", "t1: Toy assignment", "Course total"]
    totals, _ = gradebook_totals(graded)
    # Moodle's import: every line after the header is a student, found by the column mapped to a user field
    assert len(body) == len(totals) and all(len(row) == len(header) for row in body)
    by_id = {row[0]: row for row in body}
    assert set(by_id) == set(totals)
    emails = {row[1] for row in body}
    assert emails == {"ada@example.org", "bea@example.org", "'+cyd@example.org"}
    for student, total in totals.items():
        grade = by_id[student][header.index("t1: Toy assignment")]
        assert re.fullmatch(r"\d+(\.\d+)?", grade), grade  # unformat_float reads it; '' or '-' would mean no grade
        assert float(grade) == pytest.approx(total)
        assert float(by_id[student][header.index("Course total")]) == pytest.approx(total)
    assert by_id["bea"][3].startswith("'=HYPERLINK(")


@pytest.mark.slow
def test_export_without_format_writes_the_course_files_as_before(graded, tmp_path):
    run = cli("export", graded, "--out", tmp_path)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grades.csv", "grades_t1.csv", "reviews.csv"]
    header = read_rows(tmp_path / "grades.csv")[0]
    assert header == ["student_id", "first_name", "last_name", "email", "t1", "total", "max_total", "still_to_grade"]
    assert not (tmp_path / "grades_canvas.csv").exists()


def test_text_cells_that_a_spreadsheet_would_run_are_prefixed_and_others_kept():
    for text in ("=1+1", "+41", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert csv_text(text) == "'" + text
    for text in ("Ada", "a=b", "", "O'Neil", "1.5"):
        assert csv_text(text) == text
    assert csv_text(None) == ""
