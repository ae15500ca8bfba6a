"""`grade` grades only what could come out differently: a submission graded from the same files, course version
and grading options is kept untouched ("unchanged, kept"); a changed submission, option or course version is
graded again; --force grades everyone; a gradebook made before grading keys existed keeps working."""

import json
from datetime import datetime

import nbformat
import pytest
from batches import committed, rows_per_student, table_rows
from sqlalchemy import create_engine, text

import toy
from autograder.grading.intake.collect import collect
from autograder.grading.record.course_dir import course_gradebook, load_settings, roster_ids
from autograder.grading.run import fingerprint
from autograder.grading.run.sandbox import Limits
from toy import cli

KEPT = "unchanged, kept"


@pytest.fixture(scope="module")
def toy_template(tmp_path_factory):
    return toy.init_toy_course(tmp_path_factory.mktemp("toy-incremental"), ["ada", "bea", "cyd"])


@pytest.fixture
def course_dir(toy_template, tmp_path):
    return toy.fresh_course(toy_template, tmp_path / "course")


def hand_in(course_dir, folder, students, module=toy.REFERENCE_MODULE):
    """Each student hands in a zip (the reference solution unless module says otherwise); collected."""
    for student in students:
        toy.make_zip(folder / f"{student}.zip", notebook=toy.notebook(course_dir), module=module)
    collected = collect(course_dir, toy.course(), "t1", folder, roster_ids(course_dir))
    assert {item.status for item in collected} == {"ok"}, collected


def grade(course_dir, *args):
    graded = cli("grade", course_dir, "t1", "--jobs", "2", *args)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    return table_rows(graded.stdout), graded


def grade_here(course_dir, **options):
    """batch.grade in this process (what `grade` calls, without starting Python again): {student: (score, status)}."""
    from autograder.grading.run.batch import grade as grade_batch

    results, _ = grade_batch(course_dir, toy.course(), "t1", jobs=2, progress=False, **options)
    return {r.student: (f"{r.score:g}/{r.max_score:g}", r.status) for r in results}


def installed(course_dir, student):
    """{file: (bytes, mtime in ns)} of the student's installed notebooks and grading record."""
    folder = course_dir / "autograded" / student / "t1"
    return {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in sorted(folder.iterdir())}


def ta_grades_explain(course_dir, student, score, comment):
    """What formgrader's grade and comment handlers write."""
    with course_gradebook(course_dir) as gradebook:
        gradebook.find_grade("explain", "toy", "t1", student).manual_score = score
        gradebook.find_grade("explain", "toy", "t1", student).needs_manual_grade = False
        gradebook.find_comment("explain", "toy", "t1", student).manual_comment = comment
        gradebook.db.commit()


def explain(course_dir, student):
    with course_gradebook(course_dir) as gradebook:
        grade = gradebook.find_grade("explain", "toy", "t1", student)
        comment = gradebook.find_comment("explain", "toy", "t1", student).manual_comment
        return grade.manual_score, grade.needs_manual_grade, comment


@pytest.mark.slow
def test_an_unchanged_regrade_touches_nothing_and_only_a_new_hand_in_is_graded(course_dir, tmp_path):
    hand_in(course_dir, tmp_path / "first", ["ada", "bea", "cyd"])
    first, _ = grade(course_dir)
    assert first == {student: ("7/9", "graded") for student in ("ada", "bea", "cyd")}
    ta_grades_explain(course_dir, "ada", 2.0, "clear and complete")
    before = committed(course_dir)
    files = {student: installed(course_dir, student) for student in first}

    again, run = grade(course_dir)
    assert again == {"ada": ("9/9", KEPT), "bea": ("7/9", KEPT), "cyd": ("7/9", KEPT)}, run.stdout
    assert "t1: 0 of 3 submissions to grade; 3 unchanged since graded, kept (--force grades them again)" in run.stderr
    assert committed(course_dir) == before, "a kept student's gradebook rows are not rewritten"
    assert {student: installed(course_dir, student) for student in first} == files, "nor their notebooks"
    assert explain(course_dir, "ada") == (2.0, False, "clear and complete")

    half = toy.REFERENCE_MODULE.replace("return np.asarray(x, dtype=float) * k", "raise NotImplementedError")
    hand_in(course_dir, tmp_path / "late", ["bea"], module=half)  # bea hands in again
    late, run = grade(course_dir)
    assert late == {"ada": ("9/9", KEPT), "bea": ("4/9", "graded"), "cyd": ("7/9", KEPT)}, run.stdout
    after = committed(course_dir)
    assert after["bea"] != before["bea"] and {s: after[s] for s in ("ada", "cyd")} == {
        s: before[s] for s in ("ada", "cyd")
    }
    assert {student: installed(course_dir, student) for student in ("ada", "cyd")} == {
        student: files[student] for student in ("ada", "cyd")
    }

    forced, _ = grade(course_dir, "--force")
    assert forced == {"ada": ("9/9", "graded"), "bea": ("4/9", "graded"), "cyd": ("7/9", "graded")}
    assert explain(course_dir, "ada") == (2.0, False, "clear and complete"), "a regrade keeps the TA's work"
    assert all(committed(course_dir)[student] > after[student] for student in ("ada", "cyd"))
    assert rows_per_student(course_dir) == {student: (1, 1) for student in ("ada", "bea", "cyd")}


@pytest.mark.slow
def test_other_grading_options_or_another_course_version_grade_everyone_again(course_dir, tmp_path):
    hand_in(course_dir, tmp_path / "subs", ["ada", "bea"])
    grade_here(course_dir)
    rows = grade_here(course_dir, cell_timeout=30)
    assert {status for _, status in rows.values()} == {"graded"}, "a longer cell timeout can change a score"
    rows = grade_here(course_dir, cell_timeout=30)
    assert {status for _, status in rows.values()} == {KEPT}
    rows = grade_here(course_dir, cell_timeout=30, limits=Limits(memory_mb=2048))
    assert {status for _, status in rows.values()} == {"graded"}, "so can a memory limit"

    source = course_dir / "source" / "t1" / "toy.ipynb"  # a hidden test fixed in the course folder
    notebook = nbformat.read(str(source), as_version=4)
    cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_add")
    cell.source = cell.source.replace("add(-7, 19), 12", "add(-7, 20), 13")
    nbformat.write(notebook, str(source))
    rows = grade_here(course_dir, cell_timeout=30, limits=Limits(memory_mb=2048))
    assert rows == {"ada": ("7/9", "graded"), "bea": ("7/9", "graded")}


@pytest.mark.slow
def test_a_grading_the_machinery_failed_is_tried_again_and_a_failed_submission_is_kept(
    course_dir, tmp_path, monkeypatch
):
    from autograder.grading.run import batch
    from autograder.grading.run.schedule_local import _failed

    hand_in(course_dir, tmp_path / "subs", ["ada", "bea"])

    def broken(jobs, workers, on_result, workspace):
        on_result(jobs[0], _failed(jobs[0], "the grading worker died (exit code -9)", 1.0, retry=True))
        on_result(jobs[1], _failed(jobs[1], "grading stopped after the 630 s limit for the whole submission", 630.0))

    monkeypatch.setattr(batch, "schedule", broken)
    results, _ = batch.grade(course_dir, toy.course(), "t1", jobs=2, progress=False)
    assert [(r.student, r.status) for r in results] == [("ada", "failed"), ("bea", "failed")]
    monkeypatch.undo()
    rows, run = grade(course_dir)
    assert rows == {"ada": ("7/9", "graded"), "bea": ("0/9", KEPT)}, "the deadline is the submission's doing"
    assert "that grading failed: grading stopped after the 630 s limit" in run.stdout


@pytest.mark.slow
def test_a_gradebook_from_before_grading_keys_gains_them_and_keeps_the_ta_work(course_dir, tmp_path):
    hand_in(course_dir, tmp_path / "subs", ["ada", "bea"])
    grade_here(course_dir)
    ta_grades_explain(course_dir, "ada", 1.5, "say why")
    # what the previous version of the course package left: no grading key in the gradebook or grading.json
    engine = create_engine(load_settings(course_dir)["db_url"])
    with engine.begin() as connection:
        for column in ("grading_key", "graded_with"):
            connection.execute(text(f"ALTER TABLE autograder_results DROP COLUMN {column}"))
    for student in ("ada", "bea"):
        record = course_dir / "autograded" / student / "t1" / "grading.json"
        record.write_text(json.dumps({k: v for k, v in json.loads(record.read_text()).items() if k != "grading_key"}))

    rows = grade_here(course_dir)
    assert rows == {"ada": ("8.5/9", "graded"), "bea": ("7/9", "graded")}, "what a grade came from is not known"
    with engine.connect() as connection:
        keys = dict(connection.execute(text("SELECT student, grading_key FROM autograder_results")).all())
    assert set(keys) == {"ada", "bea"} and all(len(key) == 64 for key in keys.values())
    rows = grade_here(course_dir)
    assert rows == {"ada": ("8.5/9", KEPT), "bea": ("7/9", KEPT)}
    assert explain(course_dir, "ada") == (1.5, False, "say why")
    engine.dispose()


def test_a_grading_key_changes_with_everything_that_can_change_a_score(toy_template, tmp_path):
    course = toy.course()
    overlay = tmp_path / "overlay" / "cs_lib"
    overlay.mkdir(parents=True)
    (overlay / "toy_student.py").write_text(toy.STUB_MODULE)
    data = tmp_path / "data" / "embedded"
    data.mkdir(parents=True)
    (data / "EMBEDDED").write_text("version 1")
    submission = tmp_path / "submitted"
    submission.mkdir()
    (submission / "toy.ipynb").write_text("{}")
    (submission / "timestamp.txt").write_text("2030-01-01 10:00:00 UTC")

    def key(limits=None, cell_timeout=120, notebook_timeout=600, due=None, use_bwrap=True, extension=None):
        version = fingerprint.course_version(toy_template, course, "t1", overlay.parent, data.parent)
        late = fingerprint.late_policy_settings(toy_template)
        options = fingerprint.grading_options(vars(limits or Limits()), cell_timeout, notebook_timeout, due, late)
        part = fingerprint.submission_part(submission)
        if extension:
            part["extension"] = extension
        return fingerprint.grading_key(version, options, part, use_bwrap)[0]

    same = key()
    assert key() == same
    changed = {
        "memory limit": key(limits=Limits(memory_mb=1024)),
        "cell timeout": key(cell_timeout=121),
        "notebook timeout": key(notebook_timeout=601),
        "due date": key(due=datetime(2030, 1, 1)),
        "sandbox": key(use_bwrap=False),
        "extension": key(extension="1 day, 0:00:00"),
    }
    (submission / "toy.ipynb").write_text('{"cells": []}')
    changed["submitted file"] = key()
    (submission / "timestamp.txt").write_text("2030-01-02 10:00:00 UTC")
    changed["hand-in time"] = key()
    (overlay / "toy_student.py").write_text(toy.REFERENCE_MODULE)
    changed["grading cs_lib"] = key()
    (data / "EMBEDDED").write_text("version 2")
    changed["dataset"] = key()
    assert len({same, *changed.values()}) == len(changed) + 1, changed
    (submission / "collect.json").write_text("{}")  # collect's own notes are not what the student handed in
    assert key() == changed["dataset"]
