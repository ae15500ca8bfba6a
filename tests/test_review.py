"""`review`: submissions held for review, accepted or rejected with a reason, recorded in the gradebook,
shown by `export`, and kept when `grade` runs again on the same submission."""

import csv

import pytest

import toy
from autograder.common.course import CourseError
from autograder.grading.intake.collect import collect
from autograder.grading.record import review
from autograder.grading.record.course_dir import load_settings, roster_ids
from toy import cli

TAMPERING_MODULE = toy.REFERENCE_MODULE + "\n\nimport gc  # the scan flags this; the tests still pass\n"


@pytest.fixture(scope="module")
def graded_template(tmp_path_factory):
    """A toy course where ada handed in honest work and cyd the same work plus a flagged import, graded."""
    root = tmp_path_factory.mktemp("toy-review")
    course_dir = toy.init_toy_course(root, ["ada", "cyd"])
    toy.make_zip(root / "subs" / "ada.zip", notebook=toy.notebook(course_dir))
    toy.make_zip(root / "subs" / "cyd.zip", notebook=toy.notebook(course_dir), module=TAMPERING_MODULE)
    collect(course_dir, toy.course(), "t1", root / "subs", roster_ids(course_dir))
    graded = cli("grade", course_dir, "t1", "--jobs", "2")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    return course_dir


@pytest.fixture
def course_dir(graded_template, tmp_path):
    return toy.fresh_course(graded_template, tmp_path / "course")


def auto_scores(course_dir, student):
    """{grade id: score} of a student's test cells."""
    from nbgrader.api import Gradebook

    settings = load_settings(course_dir)
    with Gradebook(settings["db_url"], settings["course_id"]) as gb:
        submission = gb.find_submission("t1", student)
        return {g.name: g.score for nb in submission.notebooks for g in nb.grades if g.name != "explain"}


def exported(course_dir):
    result = cli("export", course_dir)
    assert result.returncode == 0, result.stderr
    with open(course_dir / "grades_t1.csv") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    with open(course_dir / "reviews.csv") as f:
        decisions = list(csv.DictReader(f))
    return result.stdout, rows, decisions


@pytest.mark.slow
def test_review_lists_held_submissions_with_findings_and_withheld_points(course_dir):
    listing = cli("review", course_dir, "t1")
    assert listing.returncode == 0, listing.stderr
    assert "cyd: 7 automatic points withheld; held: waiting for a decision" in listing.stdout
    assert "gc" in listing.stdout and "ada" not in listing.stdout
    assert "1 of 1 flagged submissions wait for a decision" in listing.stdout
    assert sum(auto_scores(course_dir, "cyd").values()) == 0
    stdout, rows, _ = exported(course_dir)
    assert (
        rows["cyd"]["total"] == "0" and "held for review (7 automatic points withheld)" in rows["cyd"]["still_to_grade"]
    )
    assert "cyd: t1: held for review" in stdout


@pytest.mark.slow
def test_accept_restores_the_points_records_who_when_why_and_survives_a_regrade(course_dir):
    decided = cli(
        "review", course_dir, "t1", "cyd", "--accept", "--reason", "gc is imported but never used", "--by", "tara"
    )
    assert decided.returncode == 0, decided.stderr
    assert "accepted by tara" in decided.stdout and "gc is imported but never used" in decided.stdout
    assert auto_scores(course_dir, "cyd") == auto_scores(course_dir, "ada")
    _, rows, decisions = exported(course_dir)
    assert rows["cyd"]["total"] == rows["ada"]["total"] == "7"
    assert "accepted by tara" in rows["cyd"]["review"] and "gc is imported but never used" in rows["cyd"]["review"]
    assert [(d["student"], d["decision"], d["decided_by"], d["points"]) for d in decisions] == [
        ("cyd", "accept", "tara", "7")
    ]
    assert decisions[0]["decided_at"].endswith("UTC")

    regraded = cli("grade", course_dir, "t1", "--students", "cyd", "--force")
    assert regraded.returncode == 0, regraded.stdout + regraded.stderr
    assert "reviewed (accepted)" in regraded.stdout
    assert sum(auto_scores(course_dir, "cyd").values()) == 7
    assert "held" not in cli("review", course_dir, "t1").stdout


@pytest.mark.slow
def test_reject_keeps_zero_and_a_new_submission_is_held_again(course_dir, tmp_path):
    assert cli("review", course_dir, "t1", "cyd", "--reject", "--reason", "imports gc").returncode == 0
    assert sum(auto_scores(course_dir, "cyd").values()) == 0
    _, rows, _ = exported(course_dir)
    assert rows["cyd"]["total"] == "0" and "rejected by" in rows["cyd"]["review"]
    assert rows["cyd"]["still_to_grade"] == "toy:explain (2 points by hand)"  # no longer held

    # a late resubmission is a different submission: the decision does not carry over to it
    toy.make_zip(tmp_path / "late" / "cyd.zip", notebook=toy.notebook(course_dir), module=TAMPERING_MODULE + "# v2\n")
    collect(course_dir, toy.course(), "t1", tmp_path / "late", roster_ids(course_dir))
    regraded = cli("grade", course_dir, "t1", "--students", "cyd")
    assert regraded.returncode == 0, regraded.stdout + regraded.stderr
    assert "review" in regraded.stdout and "withheld for review" in regraded.stdout
    listing = cli("review", course_dir, "t1").stdout
    assert "cyd: 7 automatic points withheld; held: waiting for a decision" in listing


@pytest.mark.slow
def test_a_decision_needs_a_reason_and_a_held_submission(course_dir):
    with pytest.raises(CourseError, match="needs a reason"):
        review.decide(course_dir, "t1", "cyd", "accept", "  ")
    with pytest.raises(CourseError, match="ada's submission of t1 is not held for review"):
        review.decide(course_dir, "t1", "ada", "accept", "looks fine")
    neither = cli("review", course_dir, "t1", "cyd", "--reason", "x")
    assert neither.returncode == 2 and "--accept" in neither.stderr and "--reject" in neither.stderr
