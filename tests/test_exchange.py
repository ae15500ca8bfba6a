"""JupyterHub hand-ins through nbgrader's exchange: `release --exchange` writes the outbound folder,
students fetch and submit with nbgrader's own commands, `collect --exchange` takes the inbound."""

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import toy
from autograder.grading.intake.exchange import SHIM
from toy import cli


def nbgrader(exchange, home, *args):
    """nbgrader's own command as a student on the hub would run it, in the student's home folder."""
    env = dict(os.environ, JUPYTER_DATA_DIR=str(home / ".jupyter-data"), HOME=str(home))
    command = [
        sys.executable,
        "-m",
        "nbgrader",
        *args,
        f"--Exchange.root={exchange}",
        "--CourseDirectory.course_id=toy-course",
        f"--Exchange.cache={home / '.nbgrader-cache'}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=home)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def exchange(tmp_path_factory):
    """An exchange with the toy assignment released and handed in by ada (twice), zed and a forged bea."""
    root = tmp_path_factory.mktemp("exchange")
    exchange = root / "exchange"
    released = cli("release", "--exchange", exchange, "--assignments", "t1")
    assert released.returncode == 0, released.stdout + released.stderr
    course_dir = toy.init_toy_course(root, ["ada", "bea"], exchange=exchange)

    def hand_in(student, solved):
        home = root / "homes" / student
        home.mkdir(parents=True, exist_ok=True)
        if not (home / "t1").is_dir():
            nbgrader(exchange, home, "fetch_assignment", "t1")
        folder = home / "t1"
        nbformat.write(toy.notebook(course_dir, solved=solved), folder / "toy.ipynb")
        (folder / "cs_lib" / "toy_student.py").write_text(toy.REFERENCE_MODULE if solved else toy.STUB_MODULE)
        (folder / "answer.txt").write_text("42\n")
        nbgrader(exchange, home, "submit", "t1", f"--CourseDirectory.student_id={student}")

    hand_in("ada", solved=False)
    hand_in("ada", solved=True)  # the latest counts
    hand_in("zed", solved=True)  # not on the roster
    inbound = exchange / "toy-course" / "inbound"
    forged = inbound / "bea+t1+2000-01-01 00:00:00.000000 UTC+forged"  # written straight into the inbound
    forged.mkdir()
    (forged / "toy.ipynb").symlink_to("/etc/passwd")
    (forged / "cs_lib").mkdir()
    (forged / "cs_lib" / "__init__.py").write_text(SHIM + "\nprint('changed')\n")
    (forged / "timestamp.txt").write_text("2000-01-01 00:00:00.000000 UTC")
    return {"root": root, "exchange": exchange, "course": course_dir, "inbound": inbound}


def test_release_puts_notebooks_starter_files_and_package_shims_in_the_outbound(exchange):
    outbound = exchange["exchange"] / "toy-course" / "outbound" / "t1"
    assert sorted(p.relative_to(outbound).as_posix() for p in outbound.rglob("*") if p.is_file()) == [
        "cs_lib/__init__.py",
        "cs_lib/toy_student.py",
        "toy.ipynb",
    ]
    assert "raise NotImplementedError" in (outbound / "cs_lib" / "toy_student.py").read_text()
    assert "return a + b" not in (outbound / "cs_lib" / "toy_student.py").read_text()
    assert "secret numbers" not in (outbound / "toy.ipynb").read_text()
    assert oct((exchange["exchange"] / "toy-course" / "inbound").stat().st_mode & 0o7777) == "0o2733"


def test_the_fetched_folder_imports_the_students_file_and_the_installed_course(exchange):
    fetched = exchange["root"] / "homes" / "ada" / "t1"
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import cs_lib.toy_student as s, cs_lib.checks as c; print(s.__file__); print(c.__file__)",
        ],
        capture_output=True,
        text=True,
        cwd=fetched,
    )
    assert probe.returncode == 0, probe.stderr
    student, provided = probe.stdout.split()
    assert Path(student) == fetched / "cs_lib" / "toy_student.py"
    assert Path(provided).name == "checks.py" and not Path(provided).is_relative_to(fetched)


def test_collect_takes_each_students_latest_submission_with_the_same_checks_as_zips(exchange):
    collected = cli("collect", exchange["course"], "t1", "--exchange")  # the root from nbgrader_config.py
    # zed is not on the roster and bea's forged folder holds no notebook
    assert collected.returncode == 1, collected.stdout + collected.stderr
    assert "collected 1 of 3 submissions" in collected.stdout
    reports = {}
    for line in collected.stdout.splitlines()[1:-1]:
        folder = next(p.name for p in exchange["inbound"].iterdir() if line.startswith(p.name + " "))
        reports[folder] = line[len(folder) :].split(None, 1)[1]
    ada = sorted(exchange["inbound"].glob("ada+t1+*"))
    assert reports[ada[-1].name].startswith("ok")
    assert reports[ada[0].name].startswith("superseded") and ada[-1].name in reports[ada[0].name]
    assert next(r for f, r in reports.items() if f.startswith("zed+")).startswith("unknown student")
    bea = next(r for f, r in reports.items() if f.startswith("bea+"))
    assert bea.startswith("no notebooks")
    for problem in (
        "symbolic link 'toy.ipynb'",
        "provided files",
        "missing notebook toy.ipynb",
        "after the 2000-01-01",
    ):
        assert problem in bea, bea

    submitted = exchange["course"] / "submitted" / "ada" / "t1"
    assert (submitted / "_student_files" / "cs_lib" / "toy_student.py").read_text() == toy.REFERENCE_MODULE
    assert (submitted / "answer.txt").read_text() == "42\n"
    assert not (submitted / "_student_files" / "cs_lib" / "__init__.py").exists()  # the released shim
    assert (submitted / "timestamp.txt").read_text() == (ada[-1] / "timestamp.txt").read_text().strip()
    assert not (exchange["course"] / "submitted" / "bea" / "t1" / "toy.ipynb").exists()


@pytest.mark.slow
def test_an_exchange_submission_grades_like_a_zip_and_keeps_its_time(exchange, tmp_path):
    course_dir = toy.fresh_course(exchange["course"], tmp_path / "course")
    # collected here, not by the collect test, so this test does not depend on which tests ran before it
    collected = cli("collect", course_dir, "t1", "--exchange", exchange["exchange"])
    assert "collected 1 of 3 submissions" in collected.stdout, collected.stdout + collected.stderr
    graded = cli("grade", course_dir, "t1", "--students", "ada")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert cli("export", course_dir).returncode == 0
    with open(course_dir / "grades_t1.csv") as f:
        ada = next(row for row in csv.DictReader(f) if row["student_id"] == "ada")
    assert ada["total"] == "7"  # every test, from the cs_lib file that travelled through the exchange
    latest = sorted(exchange["inbound"].glob("ada+t1+*"))[-1].name.split("+")[2]
    assert ada["submitted_at"] == latest[: len("2000-01-01 00:00:00")] + " UTC"


def test_collect_says_what_to_fix_when_the_exchange_is_not_there(exchange, tmp_path):
    course_dir = toy.fresh_course(exchange["course"], tmp_path / "course")
    missing = cli("collect", course_dir, "t1", "--exchange", tmp_path / "nowhere")
    assert missing.returncode == 2 and "no exchange inbound folder" in missing.stderr
    assert "collect --exchange PATH" in missing.stderr
    neither = cli("collect", course_dir, "t1")
    assert neither.returncode == 2 and "--exchange" in neither.stderr
    shutil.rmtree(tmp_path / "course")
