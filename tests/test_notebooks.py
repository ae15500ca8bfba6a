"""Every source notebook, run top to bottom with the reference solutions as nbgrader grades it
(NBGRADER_EXECUTION set, offline, embedded dataset), scores full marks within its grading budget."""

import pytest

from autograder.common.course import load_course
from autograder.instructor.verify import report, verify_assignment

ASSIGNMENTS = [assignment.id for assignment in load_course().assignments]


@pytest.mark.slow
@pytest.mark.parametrize("assignment_id", [pytest.param(a, marks=getattr(pytest.mark, a)) for a in ASSIGNMENTS])
def test_grading_run_of_the_source_notebook_scores_full_marks_within_the_budget(assignment_id):
    course = load_course()
    runs = verify_assignment(course, assignment_id, grading=True)
    ok, text = report(course.assignment(assignment_id), runs, grading=True)
    assert ok, text
    for _, run in runs:
        assert not run.failed() and not run.errors() and not run.failure, text
        assert run.score == run.max_score > 0, text
