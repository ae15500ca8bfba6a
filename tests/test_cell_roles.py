"""Cell roles (test, written answer, task, locked, points) come from the release, never from the submission."""

import copy

import nbformat
import pytest

from autograder.common import paths
from autograder.grading.intake.cell_roles import release_roles, restore_notebook_roles, restore_roles
from autograder.grading.intake.integrity import scan_notebook
from autograder.grading.run.worker import scores_from_notebook

pytestmark = pytest.mark.a1
RELEASE = paths.ASSIGNMENTS / "a1" / "linear_classifiers.ipynb"


def answers(notebook):
    return [
        cell
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.metadata["nbgrader"].get("grade")
    ]


def flipped(notebook):
    """The attack: every written answer relabelled as a passed-looking test (solution -> grade only)."""
    hostile = copy.deepcopy(notebook)
    for cell in answers(hostile):
        cell.metadata["nbgrader"].update(solution=False, task=False, grade=True, locked=False)
        cell.source = "I did not answer."
    return hostile


def test_written_answers_relabelled_as_tests_get_their_release_roles_back():
    release = nbformat.read(str(RELEASE), as_version=4)
    released_answers = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"] for c in answers(release)}
    assert len(released_answers) >= 3
    hostile = flipped(release)
    notes = restore_roles(hostile, release_roles(RELEASE), name="linear_classifiers")
    restored = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"] for c in answers(hostile)}
    assert restored == released_answers
    assert sorted(notes) == sorted(
        f"linear_classifiers: cell {gid}: cell metadata changed (restored from the release)" for gid in released_answers
    )


def test_the_flipped_answers_score_as_answers_to_grade_by_hand_not_as_passed_tests(tmp_path):
    release = nbformat.read(str(RELEASE), as_version=4)
    path = tmp_path / "linear_classifiers.ipynb"
    nbformat.write(flipped(release), str(path))
    before = scores_from_notebook(path)["cells"]
    gids = [c.metadata["nbgrader"]["grade_id"] for c in answers(release)]
    assert sum(before[gid]["auto_score"] or 0 for gid in gids) > 0  # what the attack earned without the restore
    restore_notebook_roles(path, RELEASE)
    after = scores_from_notebook(path)["cells"]
    for gid in gids:
        assert after[gid]["auto_score"] is None and after[gid]["needs_manual_grade"], after[gid]


def test_a_cell_claiming_a_grade_id_the_release_lacks_is_graded_as_plain_code():
    release = nbformat.read(str(RELEASE), as_version=4)
    hostile = copy.deepcopy(release)
    extra = nbformat.v4.new_code_cell("print('full marks')")
    extra.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "points": 50, "grade_id": "bonus"}
    hostile.cells.append(extra)
    notes = restore_roles(hostile, release_roles(RELEASE))
    assert "nbgrader" not in hostile.cells[-1].metadata
    assert any("'bonus'" in note and "not a cell of the release" in note for note in notes)


def test_the_integrity_scan_judges_cells_by_their_release_roles(tmp_path):
    release = nbformat.read(str(RELEASE), as_version=4)
    hostile = copy.deepcopy(release)
    solution = next(
        c for c in hostile.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    )
    solution.source = "import ctypes\n" + solution.source
    solution.metadata["nbgrader"]["locked"] = True  # "a locked cell: do not scan me"
    path = tmp_path / "linear_classifiers.ipynb"
    nbformat.write(hostile, str(path))
    restore_notebook_roles(path, RELEASE)
    assert any("ctypes" in str(finding) for finding in scan_notebook(path, "linear_classifiers"))
