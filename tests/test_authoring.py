"""Authoring: stubs generated from reference modules and nbgrader notebooks from jupytext sources."""

import subprocess
import sys
from pathlib import Path

import pytest

from autograder.common.course import CourseError, load_course
from autograder.common.sources import notebook_tests, source_notebook
from autograder.instructor.authoring import make_stub

REFERENCE = '''"""A module."""

import numpy as np


class Net:
    def loss(self, X):
        """Docstring stays."""
        scores = X @ self.W
        loss = 0.0
        ### BEGIN SOLUTION
        # Stub: compute the "hinge" loss; return loss
        loss = np.maximum(0, scores).sum()
        ### END SOLUTION
        return loss


def helper(x):
    ### BEGIN SOLUTION
    # Stub: a very long explanation of what to do so that the single-line raise would not fit in the width limit
    return x
    ### END SOLUTION
'''


def test_stub_keeps_everything_outside_regions_and_names_the_function():
    stub = make_stub(REFERENCE)
    assert '"""Docstring stays."""' in stub and "scores = X @ self.W" in stub and "return loss" in stub
    assert "np.maximum" not in stub
    assert "raise NotImplementedError('Net.loss: compute the \"hinge\" loss; return loss')" in stub
    assert '# TODO: compute the "hinge" loss; return loss' in stub
    assert '    raise NotImplementedError(\n        "helper: a very long' in stub
    compile(stub, "stub", "exec")


def test_stub_is_ruff_clean(tmp_path):
    path = tmp_path / "stub.py"
    path.write_text(make_stub(REFERENCE))
    ruff = Path(sys.executable).parent / "ruff"
    for command in (["check", "--select", "E,F,W,I"], ["format", "--check"]):
        result = subprocess.run(
            [str(ruff), *command, "--isolated", "--line-length", "120", str(path)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "source, message",
    [
        ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n", "must start with '# Stub:"),
        ("def f():\n    ### BEGIN SOLUTION\n    # Stub: x\n    return 1\n", "never closed"),
        ("def f():\n    return 1\n    ### END SOLUTION\n", "without a '### BEGIN SOLUTION'"),
        ("### BEGIN SOLUTION\n# Stub: x\nX = 1\n### END SOLUTION\n", "inside a function"),
        ("def f():\n    return 1\n", "at least one solution region"),
    ],
)
def test_malformed_regions_are_reported_with_their_line(source, message):
    with pytest.raises(CourseError, match=message.replace("(", r"\(")):
        make_stub(source, "ref.py")


def test_source_notebook_expands_cell_metadata_into_nbgrader_cells(tmp_path):
    course = load_course()
    notebook = source_notebook(course.assignment("a1").source_notebook("linear_classifiers"), course, "a1")
    assert notebook.cells[0].metadata["nbgrader"]["grade_id"] == "setup"
    graded = notebook_tests(notebook)
    kinds = {kind for _, _, kind in graded}
    assert kinds == {"test", "answer"}
    assert len({gid for gid, _, _ in graded}) == len(graded)
    assert all(cell.id for cell in notebook.cells)


@pytest.mark.parametrize(
    "header, body, message",
    [
        ('# %% test="t"', "assert True", "needs points"),
        ('# %% test="t" points=1 solution="s"', "x = 1", "has one kind"),
        ('# %% solution="s"', "x = 1", "needs a '### BEGIN SOLUTION'"),
        ("# %% points=2", "x = 1", "points= only goes"),
        ('# %% hidden="x"', "x = 1", "unknown cell metadata"),
        ("# %%", "### BEGIN HIDDEN TESTS\nx = 1\n### END HIDDEN TESTS", "hidden tests belong in test cells"),
    ],
)
def test_bad_cell_metadata_is_reported(tmp_path, header, body, message):
    course = load_course()
    path = tmp_path / "a1" / "bad.py"
    path.parent.mkdir()
    path.write_text(f"# %% [markdown]\n# Title\n\n{header}\n{body}\n")
    with pytest.raises(CourseError, match=message):
        source_notebook(path, course, "a1")


def test_repeated_grade_ids_are_rejected(tmp_path):
    path = tmp_path / "dup.py"
    path.write_text('# %% test="t" points=1\nassert True\n\n# %% test="t" points=1\nassert True\n')
    with pytest.raises(CourseError, match="grade ids must be unique"):
        source_notebook(path, load_course(), "a1")


def test_readme_tables_and_counts_follow_course_toml():
    import dataclasses

    from autograder.common import paths
    from autograder.instructor.release import readme_with_links

    course = load_course()
    sixth = dataclasses.replace(course.assignments[0], id="a6", title="Depthwise convolution", summary="depthwise")
    six = dataclasses.replace(course, assignments=course.assignments + (sixth,))
    readme = readme_with_links(six, paths.README.read_text())
    assert "<!-- assignment-count -->Six<!-- /assignment-count --> autograded Jupyter assignments" in readme
    assert "| A6 | Depthwise convolution | depthwise |" in readme
    assert readme.count("| A1 | ") == 1 and "assignments/a6/linear_classifiers.ipynb" in readme
    student = readme_with_links(six, (paths.REPO_ROOT / "student_edition" / "README.md").read_text())
    assert "in <!-- assignment-count -->six<!-- /assignment-count --> Jupyter assignments" in student
    # what the committed README says now is what the course says
    assert readme_with_links(course, paths.README.read_text()) == paths.README.read_text()
