"""Every source notebook, run top to bottom with the reference solutions offline on the embedded
dataset, scores full marks within its budget and shows every effect its text states as a student runs
it (full sizes). The run as nbgrader grades it (NBGRADER_EXECUTION set, heavy cells at quick sizes) is
part of the assignment contract (tests/test_contract.py), which also judges its exported variables."""

import pytest

from autograder.common.course import load_course
from autograder.instructor.verify import report, verify_assignment
from cs_lib.notebook import NOT_SEEN

ASSIGNMENTS = [assignment.id for assignment in load_course().assignments]


@pytest.mark.slow
@pytest.mark.parametrize("assignment_id", [pytest.param(a, marks=getattr(pytest.mark, a)) for a in ASSIGNMENTS])
def test_full_size_run_of_the_source_notebook_scores_full_marks_within_the_budget(assignment_id):
    check_runs(assignment_id, grading=False)


def check_runs(assignment_id, grading):
    course = load_course()
    runs = verify_assignment(course, assignment_id, grading=grading)
    ok, text = report(course.assignment(assignment_id), runs, grading=grading)
    assert ok, text
    mode = "grading" if grading else "full-size"
    for _, run in runs:
        assert not run.failed() and not run.errors() and not run.failure, text
        assert run.score == run.max_score > 0, text
        missing = [line for line in output_lines(run.notebook) if line.startswith(NOT_SEEN)]
        assert not missing, f"{assignment_id}: the {mode} run does not show what its text states: {missing}"


def output_lines(notebook):
    """Every line of text the executed notebook's cells printed."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "") or output.get("data", {}).get("text/plain", "")
            yield from (line.strip() for line in str(text).splitlines())
