"""Regrades never lose a TA's work: manual scores, comments, test overrides and review decisions survive
`grade` running again; only answers whose text changed are flagged for re-grading.

The TA's work is entered as formgrader enters it (nbgrader's Gradebook API, the same writes as
formgrader's grade and comment handlers); the browser version of this is in tests/test_browser.py.
"""

import csv
from datetime import datetime

import nbformat
import pytest

import toy
from autograder.grading.record.course_dir import load_settings
from autograder.grading.record.gradebook import commit, manifest_kinds
from toy import cli


@pytest.fixture(scope="module")
def toy_template(tmp_path_factory):
    return toy.init_toy_course(tmp_path_factory.mktemp("toy-regrade"), ["ada", "bea"])


@pytest.fixture
def course_dir(toy_template, tmp_path):
    return toy.fresh_course(toy_template, tmp_path / "course")


def gradebook(course_dir):
    from nbgrader.api import Gradebook

    settings = load_settings(course_dir)
    return Gradebook(settings["db_url"], settings["course_id"])


def ta_grades(course_dir, student, grade_id, score, comment=None):
    """What formgrader's PUT /formgrader/api/grade and /comment do."""
    with gradebook(course_dir) as gb:
        grade = gb.find_grade(grade_id, "toy", "t1", student)
        grade.manual_score = score
        grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None
        if comment is not None:
            gb.find_comment(grade_id, "toy", "t1", student).manual_comment = comment
        gb.db.commit()


def state(course_dir, student, grade_id):
    with gradebook(course_dir) as gb:
        grade = gb.find_grade(grade_id, "toy", "t1", student)
        try:
            comment = gb.find_comment(grade_id, "toy", "t1", student).manual_comment
        except Exception:  # noqa: BLE001 - test cells have no comment row
            comment = None
        return {
            "manual": grade.manual_score,
            "auto": grade.auto_score,
            "score": grade.score,
            "needs_manual": grade.needs_manual_grade,
            "comment": comment,
        }


def result(student="ada", answer_checksum="first", add=2.0, findings=()):
    """A worker's result dict for the toy notebook (every test passing unless add says otherwise)."""
    tests = {"test_double": 1.0, "test_add": add, "test_scale": 3.0, "test_answer_file": 1.0}
    cells = {
        gid: {"auto_score": score, "max_score": score, "needs_manual_grade": False} for gid, score in tests.items()
    }
    cells["explain"] = {"auto_score": None, "max_score": 2, "needs_manual_grade": True, "checksum": answer_checksum}
    return {
        "student": student,
        "assignment": "t1",
        "scores": {"toy": {"cells": cells}},
        "notebooks": {"toy": {"executed": None, "reasons": [], "submitted": True}},
        "findings": list(findings),
        "notes": [],
    }


def commit_result(course_dir, res):
    assignment = toy.course().assignment("t1")
    with gradebook(course_dir) as gb:
        return commit(gb, assignment, res, manifest_kinds(course_dir, assignment), datetime(2030, 1, 1), course_dir)


def test_unchanged_answer_keeps_the_manual_score_and_comment_while_tests_are_rescored(course_dir):
    commit_result(course_dir, result(add=0.0))
    ta_grades(course_dir, "ada", "explain", 1.5, "commutativity, but say why")
    summary = commit_result(course_dir, result(add=2.0))  # a fixed test, the same answer
    explain = state(course_dir, "ada", "explain")
    assert explain == {**explain, "manual": 1.5, "needs_manual": False, "comment": "commutativity, but say why"}
    assert state(course_dir, "ada", "test_add")["score"] == 2.0
    assert summary.score == 1 + 2 + 3 + 1 + 1.5 and summary.needs_manual == 0


def test_changed_answer_keeps_the_old_grade_but_is_flagged_for_regrading(course_dir):
    commit_result(course_dir, result(answer_checksum="first"))
    ta_grades(course_dir, "ada", "explain", 2.0, "good")
    summary = commit_result(course_dir, result(answer_checksum="second"))
    explain = state(course_dir, "ada", "explain")
    assert explain["manual"] == 2.0 and explain["comment"] == "good" and explain["needs_manual"] is True
    assert any("changed since a TA graded it" in reason for reason in summary.reasons)


def test_an_answer_never_graded_by_hand_is_simply_rescored(course_dir):
    commit_result(course_dir, result(answer_checksum="first"))
    commit_result(course_dir, result(answer_checksum="second"))
    explain = state(course_dir, "ada", "explain")
    assert explain["manual"] is None and explain["needs_manual"] is True


def test_a_manual_override_of_a_test_score_survives_a_regrade(course_dir):
    commit_result(course_dir, result(add=0.0))
    ta_grades(course_dir, "ada", "test_add", 1.0)  # partial credit the tests could not give
    commit_result(course_dir, result(add=0.0))
    commit_result(course_dir, result(add=2.0))
    add = state(course_dir, "ada", "test_add")
    assert add["manual"] == 1.0 and add["auto"] == 2.0 and add["score"] == 1.0 and add["needs_manual"] is False


@pytest.mark.slow
def test_cli_regrade_keeps_ta_work_and_flags_only_the_changed_answer(course_dir, tmp_path):
    def hand_in(student, answer):
        notebook = toy.notebook(course_dir)
        cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "explain")
        cell.source = answer
        folder = tmp_path / f"subs-{student}-{abs(hash(answer))}"
        toy.make_zip(folder / f"{student}.zip", notebook=notebook)
        collected = cli("collect", course_dir, "t1", folder)
        assert collected.returncode == 0, collected.stdout + collected.stderr

    hand_in("ada", "Addition is commutative: a + b = b + a.")
    hand_in("bea", "Because.")
    graded = cli("grade", course_dir, "t1", "--jobs", "2")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert state(course_dir, "ada", "explain")["needs_manual"] is True
    ta_grades(course_dir, "ada", "explain", 2.0, "clear and complete")
    ta_grades(course_dir, "bea", "explain", 0.5, "say why")
    ta_grades(course_dir, "ada", "test_scale", 2.5)  # a TA's override of a test

    hand_in("bea", "Because the order of the operands does not matter for +.")  # bea resubmits
    regraded = cli("grade", course_dir, "t1", "--jobs", "2")
    assert regraded.returncode == 0, regraded.stdout + regraded.stderr

    ada = state(course_dir, "ada", "explain")
    assert (ada["manual"], ada["comment"], ada["needs_manual"]) == (2.0, "clear and complete", False)
    assert state(course_dir, "ada", "test_scale")["score"] == 2.5
    bea = state(course_dir, "bea", "explain")
    assert (bea["manual"], bea["comment"], bea["needs_manual"]) == (0.5, "say why", True)
    assert "changed since a TA graded it" in regraded.stdout

    exported = cli("export", course_dir)
    assert exported.returncode == 0, exported.stderr
    assert "bea: t1: toy:explain to re-grade" in exported.stdout and "ada:" not in exported.stdout
    with open(course_dir / "grades_t1.csv") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert rows["ada"]["toy:explain"] == "2" and rows["ada"]["toy:test_scale"] == "2.5"
    assert rows["ada"]["manual_points"] == "4.5" and rows["ada"]["total"] == "8.5"
    assert rows["bea"]["still_to_grade"] == "toy:explain to re-grade (changed since graded)"


def test_nbgraders_own_autograde_is_refused_before_it_touches_anything(course_dir):
    """formgrader's "autograde" button would run student code unsandboxed and replace graded notebooks."""
    from autograder.grading.record.course_dir import nbgrader_api

    for folder in ("submitted", "autograded"):
        (course_dir / folder / "ada" / "t1").mkdir(parents=True)
        nbformat.write(toy.notebook(course_dir), course_dir / folder / "ada" / "t1" / "toy.ipynb")
    graded = (course_dir / "autograded" / "ada" / "t1" / "toy.ipynb").read_text()
    outcome = nbgrader_api(course_dir).autograde("t1", "ada", force=True, create=True)
    assert not outcome["success"]
    assert "switched off in this course" in outcome["error"] and "python -m autograder grade" in outcome["error"]
    assert (course_dir / "autograded" / "ada" / "t1" / "toy.ipynb").read_text() == graded
