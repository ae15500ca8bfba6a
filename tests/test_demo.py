"""The README's main-job command: the whole TA workflow on three sample students, offline."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest

import toy
from autograder.common.course import load_course
from autograder.grading.run.sandbox import bwrap_works
from autograder.instructor.demo import graded, half_done_files
from test_packaging import readme_commands

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_readme_main_job_grades_reference_full_starter_zero_and_halfdone_partially(tmp_path):
    command = readme_commands()["Main job"].split()
    assert command[:3] == [".venv/bin/python", "-m", "autograder"]
    result = subprocess.run(
        [sys.executable, *command[1:], "--workdir", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    course = load_course()
    for assignment in course.assignments:
        assert f"\n{assignment.id}: " in result.stdout
    with open(tmp_path / "course" / "grades.csv") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert set(rows) == {"reference", "starter", "halfdone"}
    assert float(rows["starter"]["total"]) == 0
    assert 0 < float(rows["halfdone"]["total"]) < float(rows["reference"]["total"])
    pages = list((tmp_path / "course" / "feedback").rglob("*.html"))
    assert len(pages) == 3 * sum(len(a.notebooks) for a in course.assignments)  # three students, every notebook
    if bwrap_works():
        assert "sandbox: no network" in result.stdout
        return
    # without bubblewrap (macOS, containers without user namespaces) the demo grades with resource limits
    # only, and must say which protections are missing
    missing = next((line for line in result.stdout.splitlines() if line.startswith("NOT protected:")), "")
    assert "no network" in missing, result.stdout[-2000:]
    from optional_tools import bwrap_absent

    bwrap_absent(f"the demo's sandbox ({missing[:160]})")


def test_the_half_done_student_has_half_of_the_graded_functions_even_in_one_file():
    course = toy.course()
    assignment = course.assignment("t1")
    assert graded(course, assignment) == [("cs_lib/toy_student.py", "add"), ("cs_lib/toy_student.py", "scale")]
    half = half_done_files(course, assignment)["cs_lib/toy_student.py"]
    namespace = {}
    exec(compile(half, "toy_student.py", "exec"), namespace)
    assert namespace["add"](2, 3) == 5
    with pytest.raises(NotImplementedError, match="scale: return np.asarray"):
        namespace["scale"]([1, 2], 3)
