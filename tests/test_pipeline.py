"""The TA pipeline end to end on the toy course: init, collect, grade, feedback, export, check."""

import csv
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

import toy
from autograder.common.course import CourseError
from autograder.grading.intake.collect import collect
from autograder.grading.record.course_dir import init_course, read_roster, roster_ids
from toy import cli

STUDENTS = ["ada", "bea", "cyd", "dan"]


@pytest.fixture(scope="session")
def toy_template(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    roster = root / "roster.csv"
    roster.write_text(
        "id,first_name,last_name,email\n" + "".join(f"{s},{s.title()},Toy,{s}@example.edu\n" for s in STUDENTS)
    )
    init_course(root / "course", toy.course(), roster=roster, cell_timeout=20)
    return root / "course"


@pytest.fixture
def course_dir(toy_template, tmp_path):
    return toy.fresh_course(toy_template, tmp_path / "course")


def test_init_writes_config_gradebook_roster_and_a_release_without_solutions(toy_template):
    config = (toy_template / "nbgrader_config.py").read_text()
    assert "c.CourseDirectory.course_id = 'toy-course'" in config
    assert roster_ids(toy_template) == set(STUDENTS)
    release = (toy_template / "release" / "t1" / "toy.ipynb").read_text()
    source = (toy_template / "source" / "t1" / "toy.ipynb").read_text()
    assert "secret numbers" in source and "secret numbers" not in release
    assert "return 2 * x" in source and "return 2 * x" not in release


def test_roster_needs_an_id_column_and_unique_ids(tmp_path):
    (tmp_path / "a.csv").write_text("name,email\nx,y\n")
    with pytest.raises(CourseError, match="needs an 'id' column"):
        read_roster(tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text("id\nx\ny\nx\n")
    with pytest.raises(CourseError, match="repeats ids: x"):
        read_roster(tmp_path / "b.csv")
    with pytest.raises(CourseError, match="does not exist"):
        read_roster(tmp_path / "missing.csv")


def test_collect_reports_each_problem_per_student_and_never_crashes(course_dir, tmp_path):
    subs = tmp_path / "subs"
    toy.make_zip(subs / "ada_attempt2.zip", notebook=toy.notebook(course_dir), folder="deep/t1")
    toy.make_zip(
        subs / "bea.zip",
        notebook=None,
        entries={"/etc/evil": b"x", "../../escape.py": b"x", "cs_lib/checks.py": b"def check_scalar(*a): pass"},
        links={"t1/toy.ipynb": "/etc/passwd"},
    )
    (subs / "cyd.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    toy.make_zip(subs / "zed.zip", notebook=toy.notebook(course_dir))
    results = {r.student: r for r in collect(course_dir, toy.course(), "t1", subs, roster_ids(course_dir))}
    assert results["ada"].status == "ok" and results["ada"].notebooks == ["toy.ipynb"]
    ada = course_dir / "submitted" / "ada" / "t1"
    assert (ada / "toy.ipynb").is_file() and (ada / "answer.txt").read_text() == "42\n"
    assert (ada / "_student_files" / "cs_lib" / "toy_student.py").is_file()
    problems = " | ".join(results["bea"].problems)
    for expected in (
        "absolute path '/etc/evil'",
        "outside the submission '../../escape.py'",
        "symbolic link 't1/toy.ipynb'",
        "provided files",
        "missing notebook toy.ipynb",
    ):
        assert expected in problems
    assert not (course_dir / "submitted" / "bea" / "t1" / "_student_files" / "cs_lib" / "checks.py").exists()
    assert not any(p.name == "escape.py" for p in tmp_path.rglob("escape.py"))
    assert results["cyd"].status == "unreadable"
    assert results["zed"].status == "unknown student"


def scores_by_student(course_dir):
    with open(course_dir / "grades_t1.csv") as f:
        rows = list(csv.DictReader(f))
    return {row["student_id"]: row for row in rows}


@pytest.mark.slow
def test_cli_grades_full_zero_and_partial_writes_feedback_and_csv(course_dir, tmp_path):
    subs = tmp_path / "subs"
    half_module = toy.REFERENCE_MODULE.replace("return np.asarray(x, dtype=float) * k", "raise NotImplementedError")
    toy.make_zip(subs / "ada.zip", notebook=toy.notebook(course_dir))
    toy.make_zip(subs / "bea.zip", notebook=toy.notebook(course_dir, solved=False), module=toy.STUB_MODULE, answer=None)
    toy.make_zip(subs / "cyd.zip", notebook=toy.notebook(course_dir, solved=False), module=half_module)
    assert cli("collect", course_dir, "t1", subs).returncode == 0
    graded = cli("grade", course_dir, "t1", "--jobs", "2")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert "2 points to grade by hand" in graded.stdout
    assert cli("feedback", course_dir, "t1").returncode == 0
    assert cli("export", course_dir).returncode == 0
    rows = scores_by_student(course_dir)
    assert rows["ada"]["total"] == "7"  # every test; the written answer waits for a TA
    assert rows["bea"]["total"] == "0"
    assert rows["cyd"]["toy:test_add"] == "2" and rows["cyd"]["toy:test_answer_file"] == "1"
    assert rows["cyd"]["toy:test_scale"] == "0" and rows["cyd"]["toy:test_double"] == "0"
    assert rows["dan"]["total"] == "0"  # nothing submitted
    with open(course_dir / "grades.csv") as f:
        summary = {row["student_id"]: row for row in csv.DictReader(f)}
    assert (
        summary["ada"]["t1"] == "7"
        and summary["ada"]["max_total"] == "9"
        and summary["ada"]["email"] == "ada@example.edu"
    )
    page = (course_dir / "feedback" / "ada" / "t1" / "toy.html").read_text()
    assert "Test <code>test_add</code>: 2 / 2 points" in page or "test_add" in page
    for student in ("ada", "bea", "cyd"):
        page = (course_dir / "feedback" / student / "t1" / "toy.html").read_text()
        assert "secret numbers" not in page and "hidden-check-marker" not in page and "add(-7, 19)" not in page
    executed = nbformat.read(str(course_dir / "autograded" / "ada" / "t1" / "toy.ipynb"), as_version=4)
    stderr_seen = [
        o
        for c in executed.cells
        for o in c.get("outputs", [])
        if o.get("name") in ("stderr", "stdout") and "harmless warning" in o.get("text", "")
    ]
    assert stderr_seen, "the warning was printed, and still the test scored full points"


@pytest.mark.slow
def test_regrading_replaces_results_and_gives_identical_scores(course_dir, tmp_path):
    from autograder.grading.report.export import collect_grades
    from autograder.grading.run.batch import grade

    toy.make_zip(tmp_path / "subs" / "ada.zip", notebook=toy.notebook(course_dir))
    collect(course_dir, toy.course(), "t1", tmp_path / "subs", roster_ids(course_dir))
    first, _ = grade(course_dir, toy.course(), "t1", jobs=1, progress=False)
    _, grades_first, _ = collect_grades(course_dir)
    second, _ = grade(course_dir, toy.course(), "t1", jobs=1, progress=False, force=True)
    _, grades_second, _ = collect_grades(course_dir)
    assert [r.score for r in first] == [r.score for r in second] == [7.0]
    assert grades_first == grades_second
    assert sorted(p.name for p in (course_dir / "autograded" / "ada").iterdir()) == ["t1"]


@pytest.mark.slow
def test_a_student_the_machinery_could_not_grade_keeps_the_earlier_grade(course_dir, tmp_path, monkeypatch):
    """A cluster worker that refuses a task (another course package) writes nothing: no zeros."""
    from autograder.grading.report.export import collect_grades
    from autograder.grading.run import batch

    toy.make_zip(tmp_path / "subs" / "ada.zip", notebook=toy.notebook(course_dir))
    collect(course_dir, toy.course(), "t1", tmp_path / "subs", roster_ids(course_dir))
    batch.grade(course_dir, toy.course(), "t1", jobs=1, progress=False)
    _, before, _ = collect_grades(course_dir)
    executed = (course_dir / "autograded" / "ada" / "t1" / "toy.ipynb").read_bytes()

    def refusing(jobs, workers, on_result, workspace):
        for job in jobs:
            on_result(job, {"student": job["student"], "failure": "the worker refuses", "not_graded": True})

    monkeypatch.setattr(batch, "schedule", refusing)
    results, _ = batch.grade(course_dir, toy.course(), "t1", jobs=1, progress=False, force=True)
    assert [(r.student, r.status, r.reasons) for r in results] == [("ada", "not graded", ["the worker refuses"])]
    _, after, _ = collect_grades(course_dir)
    assert after == before and sum(after["t1"]["ada"].values()) == 7
    assert (course_dir / "autograded" / "ada" / "t1" / "toy.ipynb").read_bytes() == executed


def test_check_prints_a_table_and_exits_nonzero_when_a_test_fails(tmp_path, toy_template):
    from autograder.instructor.release import manifest

    assignments = tmp_path / "assignments"
    (assignments / "t1").mkdir(parents=True)
    (assignments / "manifest.json").write_bytes(manifest(toy.course()))
    shutil.copyfile(toy_template / "release" / "t1" / "toy.ipynb", assignments / "t1" / "toy.ipynb")
    (assignments / "t1" / "answer.txt").write_text("42\n")
    from autograder.student.check import check

    report = check("t1", manifest_path=assignments / "manifest.json")  # stubs: cs_lib has no toy_student yet
    assert not report.ok
    assert "visible tests: 1/7 points" in report.table()  # only answer.txt is in place
    solved = toy.notebook(toy_template)
    solved.cells[
        [c.metadata.get("nbgrader", {}).get("grade_id") for c in solved.cells].index("test_double")
    ].source = "pass"
    nbformat.write(solved, assignments / "t1" / "toy.ipynb")
    report = check("t1", manifest_path=assignments / "manifest.json")
    rows = {row.question: row for row in report.rows}
    assert rows["test_double"].message == "the test cell was changed; restore it from the release"
    assert rows["explain"].kind == "answer" and "graded by hand" in report.table()


# --- PostgreSQL gradebook ----------------------------------------------------------------


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    """A throwaway PostgreSQL server (Debian's packages; .ci/run installs them)."""
    from optional_tools import postgres_bindir

    bindir = postgres_bindir("the PostgreSQL gradebook")
    # not under pytest's private temporary folder: the postgres user must be able to reach it
    root = Path(tempfile.mkdtemp(prefix="cs-gradebook-pg-"))
    data = root / "data"
    run_as = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "grader"],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    subprocess.run(
        [
            *run_as,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(root / "log"),
            "-w",
            "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        deadline = time.time() + 30
        while True:
            made = subprocess.run(
                [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "grader", "gradebook"],
                capture_output=True,
                text=True,
            )
            if made.returncode == 0 or time.time() > deadline:
                break
            time.sleep(0.5)
        assert made.returncode == 0, made.stderr
        yield f"postgresql+psycopg://grader@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )


@pytest.mark.slow
def test_postgresql_gradebook_stores_roster_and_grades(postgres, tmp_path):
    from autograder.grading.report.export import collect_grades
    from autograder.grading.run.batch import grade

    roster = tmp_path / "roster.csv"
    roster.write_text("id\nada\nbea\n")
    course_dir = tmp_path / "course"
    settings = init_course(course_dir, toy.course(), roster=roster, db_url=postgres)
    assert settings["db_url"].startswith("postgresql")
    assert roster_ids(course_dir) == {"ada", "bea"}
    toy.make_zip(tmp_path / "subs" / "ada.zip", notebook=toy.notebook(course_dir))
    collect(course_dir, toy.course(), "t1", tmp_path / "subs", roster_ids(course_dir))
    results, _ = grade(course_dir, toy.course(), "t1", jobs=1, progress=False)
    assert [(r.student, r.score) for r in results] == [("ada", 7.0)]
    _, grades, maxima = collect_grades(course_dir)
    assert sum(grades["t1"]["ada"].values()) == 7.0 and sum(grades["t1"]["bea"].values()) == 0.0
    assert sum(maxima["t1"].values()) == 9.0
    assert json.loads((course_dir / "course.json").read_text())["db_url"] == postgres
