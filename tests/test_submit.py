"""`submit`: the student's hand-in zip is what `collect` takes, and grades as the demo's reference student.

Also: the student side needs no nbgrader (the vendored checksum equals nbgrader's on every cell).
"""

import copy
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.common import checksum, submission
from autograder.common.course import load_course, load_manifest
from autograder.common.sources import source_notebook
from autograder.grading.intake import collect as collect_module
from autograder.grading.intake.collect import collect
from autograder.instructor.demo import make_submissions, solved_notebook

REPO = Path(__file__).resolve().parents[1]


def release_cells():
    for path in sorted((REPO / "assignments").rglob("*.ipynb")):
        for cell in nbformat.read(str(path), as_version=4).cells:
            if "nbgrader" in cell.metadata:
                yield path.name, cell


def test_the_vendored_checksum_equals_nbgrader_on_every_release_cell_and_on_changed_cells():
    from nbgrader.utils import compute_checksum

    cells = list(release_cells())
    assert len(cells) > 50
    for name, cell in cells:
        assert checksum.compute_checksum(cell) == compute_checksum(cell), (name, cell.metadata.nbgrader["grade_id"])
        if "checksum" in cell.metadata.nbgrader:
            assert checksum.compute_checksum(cell) == cell.metadata.nbgrader["checksum"]
        changed = copy.deepcopy(cell)
        changed.source += "\nx = 1"
        if "points" in changed.metadata.nbgrader:
            changed.metadata.nbgrader["points"] = float(changed.metadata.nbgrader["points"]) + 1
        assert checksum.compute_checksum(changed) == compute_checksum(changed)
        assert checksum.compute_checksum(changed) != checksum.compute_checksum(cell)


def test_the_student_commands_import_and_detect_a_changed_test_without_nbgrader():
    code = (
        "import sys; sys.modules['nbgrader'] = None\n"
        "import nbformat\n"
        "from autograder.cli import build_parser\n"
        "from autograder.student import check, progress, submit\n"
        f"nb = nbformat.read({str(REPO / 'assignments' / 'a1' / 'linear_classifiers.ipynb')!r}, as_version=4)\n"
        "assert check._modified_tests(nb) == []\n"
        "test = next(c for c in nb.cells if c.metadata.get('nbgrader', {}).get('grade') and c.cell_type == 'code')\n"
        "test.source = 'pass'\n"
        "print(check._modified_tests(nb))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("['") and result.stdout.strip() != "[]"


def test_submit_and_collect_share_one_set_of_size_limits():
    assert collect_module.MAX_MEMBER_BYTES is submission.MAX_MEMBER_BYTES
    assert collect_module.MAX_EXTRA_BYTES is submission.MAX_EXTRA_BYTES


def workspace(tmp_path, assignment_id, solved=False):
    """A student's checkout of the course: the commands, the manifest, cs_lib and one assignment's notebooks.

    solved: the assignment's cs_lib files are the reference and its notebooks are filled in from the
    source notebooks, as the demo's reference student."""
    course = load_course()
    assignment = course.assignment(assignment_id)
    root = tmp_path / "student"
    ignore = shutil.ignore_patterns("__pycache__", "*.c", "build")
    shutil.copytree(REPO / "autograder", root / "autograder", ignore=ignore)
    shutil.copytree(REPO / "cs_lib", root / "cs_lib", ignore=ignore)
    (root / "assignments").mkdir()
    shutil.copyfile(REPO / "assignments" / "manifest.json", root / "assignments" / "manifest.json")
    shutil.copytree(REPO / "assignments" / assignment_id, root / "assignments" / assignment_id, ignore=ignore)
    if solved:
        references = course.references()
        for name in assignment.student_files:
            shutil.copyfile(references[name], root / name)
        for name in assignment.notebooks:
            path = root / "assignments" / assignment_id / f"{name}.ipynb"
            source = source_notebook(assignment.source_notebook(name), course, assignment_id)
            notebook = solved_notebook(nbformat.read(str(path), as_version=4), source, 1.0)
            nbformat.write(notebook, str(path))
    return root


def submit_cli(root, *args):
    """`python -m autograder submit ...` run from a student's checkout, whose cs_lib every kernel imports."""
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.run(
        [sys.executable, "-m", "autograder", "submit", *map(str, args)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_submit_refuses_a_bad_id_a_missing_notebook_and_an_oversized_file(tmp_path):
    root = workspace(tmp_path, "a1")
    assert submit_cli(root, "a1", "--student", "jane doe", "--no-check").returncode == 1
    slash = submit_cli(root, "a1", "--student", "jane/doe", "--no-check")
    assert slash.returncode == 1 and "letters, digits and . _ - @ +" in slash.stderr
    student_file = load_course().assignment("a1").student_files[0]
    with open(root / student_file, "a") as f:
        f.write("# padding\n" * (submission.MAX_MEMBER_BYTES[".py"] // 10 + 1))
    notebook = root / "assignments" / "a1" / "linear_classifiers.ipynb"
    notebook.unlink()
    result = submit_cli(root, "a1", "--student", "s1", "--no-check", "--out", tmp_path / "out")
    assert result.returncode == 1
    assert re.search(rf"{student_file} is 2\.\d MiB, over the 2 MiB limit for a student file", result.stderr), (
        result.stderr
    )
    assert "no notebook at assignments/a1/linear_classifiers.ipynb" in result.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_collect_takes_a_submit_zip_with_its_extra_file_with_status_ok(tmp_path):
    course = load_course()
    assignment = next(a for a in course.assignments if a.extra_files)
    root = workspace(tmp_path, assignment.id)
    for name in assignment.extra_files:
        (root / "assignments" / assignment.id / name).write_bytes(b"checkpoint bytes")
    result = submit_cli(root, assignment.id, "--student", "s1", "--no-check", "--out", tmp_path / "subs")
    assert result.returncode == 0, result.stderr
    for name in assignment.student_files:
        assert name in result.stdout
    (collected,) = collect(tmp_path / "course", course, assignment.id, tmp_path / "subs", {"s1"})
    assert (collected.status, collected.problems) == ("ok", [])
    assert collected.notebooks == [f"{name}.ipynb" for name in assignment.notebooks]
    assert sorted(collected.student_files) == sorted(assignment.student_files)
    assert collected.extra_files == list(assignment.extra_files)
    manifest = next(a for a in load_manifest()["assignments"] if a["id"] == assignment.id)
    assert manifest["extra_files"] == list(assignment.extra_files)


@pytest.mark.slow
def test_a_submit_zip_collects_ok_and_grades_as_the_demo_reference_student(tmp_path):
    from autograder.grading.record.course_dir import init_course, roster_ids
    from autograder.grading.run.batch import grade

    course = load_course()
    root = workspace(tmp_path, "a1", solved=True)
    subs = tmp_path / "subs"
    result = submit_cli(root, "a1", "--student", "s1", "--out", subs)
    assert result.returncode == 0, result.stdout + result.stderr
    points = sum(
        item["points"]
        for item in next(a for a in load_manifest()["assignments"] if a["id"] == "a1")["notebooks"][0]["graded"]
        if item["kind"] == "test"
    )
    assert f"visible tests: {points:g}/{points:g} points" in result.stdout, result.stdout
    with zipfile.ZipFile(subs / "s1_a1.zip") as archive:
        assert sorted(archive.namelist()) == sorted(
            ["a1/linear_classifiers.ipynb", *course.assignment("a1").student_files]
        )

    roster = tmp_path / "roster.csv"
    roster.write_text("id\nreference\ns1\n")
    course_dir = tmp_path / "course"
    init_course(course_dir, course, roster=roster, assignment_ids=["a1"])
    demo = make_submissions(course, course.assignment("a1"), course_dir / "release" / "a1", tmp_path / "demo", tmp_path)
    shutil.copyfile(demo / "reference.zip", subs / "reference.zip")
    collected = {item.student: item for item in collect(course_dir, course, "a1", subs, roster_ids(course_dir))}
    assert collected["s1"].status == "ok", collected["s1"].problems
    results, _ = grade(course_dir, course, "a1", jobs=2, progress=False)
    scores = {row.student: row for row in results}
    assert scores["reference"].score == scores["reference"].max_score - scores["reference"].needs_manual
    assert (scores["s1"].score, scores["s1"].max_score, scores["s1"].status) == (
        scores["reference"].score,
        scores["reference"].max_score,
        scores["reference"].status,
    )


def test_a_students_notebook_run_prints_no_kernel_transport_warning(tmp_path):
    code = (
        "import nbformat\n"
        "from autograder.common.execute import run_notebook\n"
        "nb = nbformat.v4.new_notebook(); nb.cells = [nbformat.v4.new_code_cell('print(6 * 7)')]\n"
        f"print(run_notebook(nb, {str(tmp_path)!r}, timeout=60).notebook.cells[0].outputs[0]['text'])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "42"
    assert "without encryption" not in result.stderr and "IPKernelApp" not in result.stderr, result.stderr


def test_the_check_table_wraps_long_question_names_and_shows_whole_reasons():
    from autograder.student.check import CheckReport, Row

    name = "svm_loss_vectorized_gradient_with_reg"  # 34+ characters with its notebook
    reason = "relative error 0.5 in dW with reg=0.1; " * 5 + "end of the reason"
    report = CheckReport("a1", [Row("linear_classifiers", name, "test", 3, 0, reason), Row("nb", "ok", "test", 1, 1)])
    lines = report.table().splitlines()
    assert all(len(line) <= 32 + 1 + 8 + 2 + 80 for line in lines)
    names = "".join(line[:32].strip() for line in lines[1:] if not line.startswith("nb:"))
    assert f"linear_classifiers:{name}" in names.replace(" ", "")
    results = " ".join(line[43:].strip() for line in lines[1:] if not line.startswith(("nb:", "visible")))
    assert " ".join(f"FAIL  {reason}".split()) in " ".join(results.split())
    assert lines[1].split()[1] == "0/3"
