"""An instructor adds an assignment: `new` scaffolds one that `release`, `verify` and the course's own tests
accept as generated, with no edit anywhere else (markers, contract), and that fails helpfully once changed
without its tests: an untested function and a replaced placeholder are reported by name."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import conftest
import pytest

from autograder.common import paths
from autograder.common.course import CourseError, load_course
from autograder.instructor.scaffold import new_assignment, slug

REPO = Path(__file__).resolve().parents[1]
# what a copy of the course leaves out: environments, caches and git, and the datasets folder (read where it is)
CACHES = shutil.ignore_patterns(
    ".venv", ".git", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".hypothesis", "build", "*.egg-info"
)


def _not_copied(folder, names):
    top = {".device", "datasets"} if Path(folder) == REPO else set()
    return set(CACHES(folder, names)) | (top & set(names))


def copy_course(destination):
    """A copy of this checkout (sources, generated files and the compiled extension) to work on."""
    shutil.copytree(REPO, destination, ignore=_not_copied)
    (Path(destination) / "datasets").mkdir()
    return Path(destination)


def autograder(root, *args, timeout=900):
    """`python -m autograder ARGS` typed in the copied course (its own autograder, cs_lib and solutions)."""
    env = {key: value for key, value in os.environ.items() if key != "CS_COURSE_FILE"}
    env["CS_DATA_DIR"] = str(paths.DATASETS)
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=root, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_a_title_becomes_the_module_and_notebook_name():
    assert slug("Depthwise-separable convolution") == "depthwise_separable_convolution"
    assert slug("3D convolutions, in depth") == "assignment_3d_convolutions_in_depth"
    assert len(slug("a very long title " * 10)) <= 40


def test_new_refuses_an_id_or_module_that_exists(tmp_path):
    course = load_course()
    with pytest.raises(CourseError, match="already has an assignment 'a1'"):
        new_assignment(course, "a1", "Again")
    with pytest.raises(CourseError, match="lower-case"):
        new_assignment(course, "A 6", "Six")
    with pytest.raises(CourseError, match="exists already"):
        new_assignment(course, "a6", "Layers", module="layers", cs_lib=tmp_path)


def test_every_assignment_of_course_toml_gets_a_marker(tmp_path, monkeypatch):
    course_file = tmp_path / "course.toml"
    course_file.write_text(
        (REPO / "solutions" / "course.toml").read_text()
        + '\n[[assignment]]\nid = "a6"\ntitle = "Depthwise convolution"\nnotebooks = ["depthwise"]\n'
        'student_files = ["cs_lib/depthwise.py"]\n'
    )
    monkeypatch.setenv("CS_COURSE_FILE", str(course_file))
    lines = []

    class Config:
        def addinivalue_line(self, name, line):
            lines.append((name, line))

    conftest.register_assignment_markers(Config())
    ids = [line.split(":")[0] for name, line in lines if name == "markers"]
    assert ids == [a.id for a in load_course(paths.COURSE_FILE).assignments] + ["a6"]
    assert ("markers", "a6: Depthwise convolution") in lines


@pytest.mark.slow
def test_new_assignment_releases_verifies_and_is_guarded_by_the_course_tests(tmp_path):
    root = copy_course(tmp_path / "course")
    made = autograder(root, "autograder", "new", "a9", "--title", "Row normalisation")
    assert made.returncode == 0, made.stdout + made.stderr
    module = root / "solutions" / "cs_lib" / "row_normalisation.py"
    for path in (module, root / "cs_lib" / "row_normalisation.py", root / "solutions" / "a9" / "mutants.py"):
        assert path.is_file(), made.stdout
    assert "python -m autograder verify a9" in made.stdout

    released = autograder(root, "autograder", "release")
    assert released.returncode == 0, released.stdout + released.stderr
    assert "assignments/a9/row_normalisation.ipynb" in released.stdout
    readme = (root / "README.md").read_text()
    assert "Six<!-- /assignment-count --> autograded Jupyter assignments" in readme
    assert "| A9 | Row normalisation |" in readme

    verified = autograder(root, "autograder", "verify", "a9")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "a9: lint ok" in verified.stdout and "a9: contract holds" in verified.stdout, verified.stdout

    # the course's own tests take the new assignment in: its marker, its notebook run and its contract
    suite = autograder(
        root, "pytest", "-p", "no:randomly", "-n", "0", "-q", "tests/test_contract.py", "tests/test_notebooks.py",
        "-m", "a9",
    )  # fmt: skip
    assert suite.returncode == 0, suite.stdout[-3000:] + suite.stderr[-3000:]
    assert "2 passed" in suite.stdout, suite.stdout[-2000:]

    # a graded function nothing tests is reported by name
    original = module.read_text()
    module.write_text(
        original + '\n\ndef row_lengths(x):\n    """The length of every row of x (N, D), shape (N,)."""\n'
        "    ### BEGIN SOLUTION\n    # Stub: return the length of every row, shape (N,)\n"
        "    return np.sqrt(np.sum(np.asarray(x, dtype=float) ** 2, axis=1))\n    ### END SOLUTION\n"
    )
    untested = autograder(root, "autograder", "verify", "a9", "--grading")
    assert untested.returncode == 1, untested.stdout + untested.stderr
    assert "no mutant replaces cs_lib.row_normalisation.row_lengths, a graded function of" in untested.stdout
    assert "@mutant('cs_lib.row_normalisation.row_lengths'" in untested.stdout

    # the placeholder replaced by the instructor's own function, the test and mutants left as they were
    module.write_text(original.replace("def normalize_rows(x):", "def center_rows(x):"))
    replaced = autograder(root, "autograder", "verify", "a9", "--grading")
    assert replaced.returncode == 1, replaced.stdout + replaced.stderr
    for expected in (
        "the target cs_lib.row_normalisation.normalize_rows is not defined in solutions/cs_lib/row_normalisation.py",
        "the reference fails test 'normalize_rows' in the trusted grader: ImportError: cannot import name",
        "no mutant replaces cs_lib.row_normalisation.center_rows",
    ):
        assert expected in replaced.stdout, replaced.stdout
