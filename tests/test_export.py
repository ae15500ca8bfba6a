"""`export` with manual points, late penalties (nbgrader's policy, due dates from `init --due`, submission
times from `collect`) and, per student, what is still to grade."""

import csv
import json
import os
from datetime import datetime, timedelta, timezone

import pytest

import toy
from autograder.grading.record.course_dir import load_settings
from autograder.grading.record.nbgrader_course import late_policy
from toy import cli

DUE = datetime(2030, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def toy_template(tmp_path_factory):
    return toy.init_toy_course(tmp_path_factory.mktemp("toy-export"), ["ada", "bea", "cyd"])


@pytest.fixture
def course_dir(toy_template, tmp_path):
    return toy.fresh_course(toy_template, tmp_path / "course")


def set_policy(course_dir, lines):
    config = course_dir / "nbgrader_config.py"
    config.write_text(config.read_text() + "\n" + "\n".join(lines) + "\n")


def rows(course_dir, name="grades_t1.csv"):
    with open(course_dir / name) as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


def test_init_due_sets_nbgrader_due_dates_and_keeps_them_when_init_runs_again(course_dir):
    done = cli("init", course_dir, "--due", "t1=2030-03-01 13:00 Europe/Berlin")
    assert done.returncode == 0, done.stderr
    assert "t1 due 2030-03-01 12:00:00 UTC" in done.stdout
    again = cli("init", course_dir)
    assert again.returncode == 0 and "t1 due 2030-03-01 12:00:00 UTC" in again.stdout
    from nbgrader.api import Gradebook

    settings = load_settings(course_dir)
    with Gradebook(settings["db_url"], settings["course_id"]) as gb:
        assert gb.find_assignment("t1").duedate == DUE.replace(tzinfo=None)
    assert json.loads((course_dir / "course.json").read_text())["due"] == {"t1": "2030-03-01 12:00:00 UTC"}


def test_init_due_refuses_what_is_not_a_date(course_dir):
    bad = cli("init", course_dir, "--due", "t1=next friday-ish")
    assert bad.returncode == 2 and "is not a date and time" in bad.stderr and "2025-10-03 23:59 UTC" in bad.stderr
    assert cli("init", course_dir, "--due", "t1").returncode == 2


def test_percent_per_day_policy_takes_a_share_per_started_day(course_dir):
    set_policy(
        course_dir,
        [
            'c.AssignLatePenalties.plugin_class = "autograder.grading.record.nbgrader_course.PercentPerDay"',
            "c.PercentPerDay.percent = 25",
        ],
    )
    penalty = late_policy(course_dir)
    assert penalty("ada", 8.0, 0) == 0
    assert penalty("ada", 8.0, 60) == 2.0
    assert penalty("ada", 8.0, 86400 + 1) == 4.0
    assert penalty("ada", 8.0, 30 * 86400) == 8.0  # never more than the score


@pytest.mark.slow
def test_export_applies_the_late_policy_to_manual_and_automatic_points(course_dir, tmp_path):
    assert cli("init", course_dir, "--due", f"t1={DUE:%Y-%m-%d %H:%M} UTC").returncode == 0
    subs = tmp_path / "subs"
    on_time, late = DUE.timestamp() - 3600, DUE.timestamp() + 36 * 3600
    for student, when in (("ada", on_time), ("bea", late)):
        path = toy.make_zip(subs / f"{student}.zip", notebook=toy.notebook(course_dir))
        os.utime(path, (when, when))  # the submission time an LMS download keeps
    assert cli("collect", course_dir, "t1", subs).returncode == 0
    set_policy(
        course_dir,
        [
            'c.AssignLatePenalties.plugin_class = "autograder.grading.record.nbgrader_course.PercentPerDay"',
            "c.PercentPerDay.percent = 10",
        ],
    )
    graded = cli("grade", course_dir, "t1", "--jobs", "2")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert "submitted 1 d 12 h late: 1.4 points late penalty" in graded.stdout

    exported = cli("export", course_dir)
    assert exported.returncode == 0, exported.stderr
    grades = rows(course_dir)
    assert grades["ada"]["late_penalty"] == "0" and grades["ada"]["total"] == "7"
    assert grades["bea"]["late_by"] == "36.0 hours" and grades["bea"]["submitted_at"] == "2030-03-03 00:00:00 UTC"
    assert grades["bea"]["late_penalty"] == "1.4" and grades["bea"]["total"] == "5.6"  # 2 days x 10% of 7
    assert grades["cyd"]["still_to_grade"] == "not submitted" and grades["cyd"]["total"] == "0"
    assert "ada: t1: toy:explain (2 points by hand)" in exported.stdout
    assert rows(course_dir, "grades.csv")["bea"]["t1"] == "5.6"

    from nbgrader.api import Gradebook

    settings = load_settings(course_dir)
    with Gradebook(settings["db_url"], settings["course_id"]) as gb:
        grade = gb.find_grade("explain", "toy", "t1", "bea")
        grade.manual_score, grade.needs_manual_grade = 2.0, False
        gb.db.commit()
    cli("export", course_dir)
    grades = rows(course_dir)
    assert grades["bea"]["manual_points"] == "2" and grades["bea"]["late_penalty"] == "1.8"
    assert grades["bea"]["total"] == "7.2" and grades["bea"]["still_to_grade"] == ""

    set_policy(course_dir, ['c.AssignLatePenalties.plugin_class = "nbgrader.plugins.LateSubmissionPlugin"'])
    set_policy(course_dir, ['c.LateSubmissionPlugin.penalty_method = "zero"'])  # nbgrader's own policy
    cli("export", course_dir)
    grades = rows(course_dir)
    assert grades["bea"]["total"] == "0" and grades["bea"]["late_penalty"] == "9"
    assert grades["ada"]["total"] == "7"


def test_a_per_student_extension_moves_that_students_due_date(course_dir):
    from nbgrader.api import Gradebook

    from autograder.grading.record.gradebook import commit, manifest_kinds

    assert cli("init", course_dir, "--due", f"t1={DUE:%Y-%m-%d %H:%M} UTC").returncode == 0
    set_policy(course_dir, ['c.LateSubmissionPlugin.penalty_method = "zero"'])
    assignment = toy.course().assignment("t1")
    cells = {gid: {"auto_score": 1.0, "max_score": 1.0, "needs_manual_grade": False} for gid in ("test_double",)}
    settings = load_settings(course_dir)
    with Gradebook(settings["db_url"], settings["course_id"]) as gb:
        for student in ("ada", "bea"):
            result = {
                "student": student,
                "scores": {"toy": {"cells": cells}},
                "notebooks": {"toy": {"executed": None, "reasons": [], "submitted": True}},
            }
            late = (DUE + timedelta(days=1)).replace(tzinfo=None)
            commit(gb, assignment, result, manifest_kinds(course_dir, assignment), late, course_dir)
        gb.grant_extension("t1", "bea", days=2)  # nbgrader's own extension
    cli("export", course_dir)
    grades = rows(course_dir)
    assert (grades["ada"]["late_penalty"], grades["ada"]["total"]) == ("1", "0")
    assert (grades["bea"]["late_penalty"], grades["bea"]["total"], grades["bea"]["late_by"]) == ("0", "1", "")
