"""Every test cell of every assignment works in the trusted grader.

Run the way grading runs them -- the full source (visible and hidden parts) in the trusted process,
the student's modules behind the sandboxed call server -- each self-contained test passes with the
reference implementation and fails, with a reason a student can act on, with the starter stubs.
(Tests that judge notebook variables need a notebook run; the demo's reference student covers them.)
"""

import nbformat
import pytest

from autograder.common.course import load_course
from autograder.common.sources import source_notebook
from autograder.grading.run.batch import grading_data_dir
from autograder.grading.run.overlay import build_overlay, compile_overlay, grading_overlay, reference_overlay
from autograder.grading.run.sandbox import bwrap_works
from autograder.grading.run.trusted_run import module_name, run_trusted, trusted_tests
from autograder.instructor.demo import reference_files

pytestmark = pytest.mark.slow
COURSE = load_course()


def run(assignment, tmp_path, student_overlay, extra_files=None):
    source = tmp_path / "source"
    source.mkdir(exist_ok=True)
    for name in assignment.notebooks:
        notebook = source_notebook(assignment.source_notebook(name), COURSE, assignment.id)
        nbformat.write(notebook, source / f"{name}.ipynb")
    tests = [test for test in trusted_tests(source, assignment) if not test["reads"]]
    summary = run_trusted(
        tests,
        student_modules={module_name(name) for name in assignment.student_files},
        student_overlay=student_overlay,
        trusted_overlay=compile_overlay(grading_overlay(tmp_path / "trusted", COURSE, assignment, {})),
        data_dir=grading_data_dir(),
        scratch=tmp_path / "scratch",
        use_bwrap=bwrap_works(),
        timeout=120,
        extra_files=extra_files,
        changes_in_place=COURSE.changes_in_place,
        max_extra_file_bytes=assignment.max_extra_file_bytes,
    )
    return tests, summary


@pytest.mark.parametrize(
    "assignment_id", [pytest.param(a.id, marks=getattr(pytest.mark, a.id)) for a in COURSE.assignments]
)
def test_self_contained_tests_pass_with_the_reference_in_the_trusted_grader(assignment_id, tmp_path):
    assignment = COURSE.assignment(assignment_id)
    extra = reference_files(COURSE, assignment, tmp_path)  # e.g. A5's checkpoint, made by the reference (cached)
    tests, summary = run(
        assignment, tmp_path, compile_overlay(reference_overlay(tmp_path / "student", COURSE)), extra_files=extra
    )
    assert tests, f"{assignment_id} has no self-contained test cells"
    failed = {gid: r["message"] for gid, r in summary["tests"].items() if not r["passed"]}
    assert not failed, failed
    assert summary["restarts"] == 0
    assert all(r["checked"] for r in summary["tests"].values()), "every test names what it checked"


@pytest.mark.parametrize(
    "assignment_id", [pytest.param(a.id, marks=getattr(pytest.mark, a.id)) for a in COURSE.assignments]
)
def test_the_starter_stubs_fail_every_test_with_a_reason(assignment_id, tmp_path):
    assignment = COURSE.assignment(assignment_id)
    starter = compile_overlay(build_overlay(tmp_path / "student"))  # the committed stubs
    tests, summary = run(assignment, tmp_path, starter)
    passed = [gid for gid, r in summary["tests"].items() if r["passed"]]
    assert not passed, f"these tests pass with the untouched stubs: {passed}"
    silent = [gid for gid, r in summary["tests"].items() if not r["message"].strip()]
    assert not silent, f"these tests fail without saying why: {silent}"
