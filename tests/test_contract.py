"""Every assignment in course.toml keeps the assignment contract (autograder/instructor/contract.py), with
no test written for it here: lint-clean sources, full marks for the reference and none for the starter in
the trusted grader, every test cell killed by a declared mutant (one caught only by a hidden part), every
alternative accepted. The toy course shows each kind of target, and each broken declaration reported with
what to change."""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import toy
from autograder.common.course import load_course
from autograder.instructor import contract as contract_module
from autograder.instructor.contract import Contract, check_assignment, specific
from autograder.instructor.lint import lint_file
from autograder.instructor.mutants import load_variants

REPO = Path(__file__).resolve().parents[1]
COURSE = load_course()


@pytest.mark.slow
@pytest.mark.parametrize(
    "assignment_id", [pytest.param(a.id, marks=getattr(pytest.mark, a.id)) for a in COURSE.assignments]
)
def test_the_assignment_keeps_its_contract(assignment_id, tmp_path):
    contract = check_assignment(COURSE, assignment_id, workspace=tmp_path)
    print(contract.text())
    assert contract.ok, contract.text()


@pytest.mark.slow
def test_the_toy_course_keeps_its_contract_with_every_kind_of_target(tmp_path):
    kinds = {variant.target_kind for variant in load_variants(toy.TOY / "t1" / "mutants.py")}
    assert kinds == {"code", "notebook", "file"}
    contract = check_assignment(toy.course(), "t1", workspace=tmp_path)
    assert contract.ok, contract.text()
    assert "4 test cells, 4 mutants, 2 alternatives" in contract.text()


BROKEN_MUTANTS = '''\
import numpy as np

from autograder.instructor.mutants import alternative, mutant


@mutant("cs_lib.toy_student.add", fails=["test_add"], hidden_only=True)
def subtracts(a, b):
    """a - b"""
    return a - b


@mutant("cs_lib.toy_student.scale", fails=["test_scale"])
def scales_correctly(x, k):
    """the same as the reference"""
    return np.asarray(x, dtype=float) * k


@mutant("cs_lib.toy_student.scale", fails=["test_nothing"])
def names_a_missing_test(x, k):
    return x


@mutant("cs_lib.toy_student.multiply", fails=["test_scale"])
def targets_a_missing_function(x, k):
    return x


@mutant("notebook:doubled", fails=["test_double"])
def raises(doubled):
    raise RuntimeError("the instructor's function broke")


@alternative("cs_lib.toy_student.add")
def adds_one_too_many(a, b):
    """a + b + 1"""
    return a + b + 1


@alternative("cs_lib.toy_student.scale")
def scales_with_multiply(x, k):
    return np.multiply(np.asarray(x, dtype=float), k)
'''

UNTESTED_FUNCTION = '''

def untested(x):
    """Return x."""
    ### BEGIN SOLUTION
    # Stub: return x
    return x
    ### END SOLUTION
'''


@pytest.mark.slow
def test_each_broken_declaration_is_reported_with_what_to_change(tmp_path):
    course_root = tmp_path / "toy_course"
    shutil.copytree(toy.TOY, course_root)
    (course_root / "t1" / "mutants.py").write_text(BROKEN_MUTANTS)
    with open(course_root / "cs_lib" / "toy_student.py", "a") as f:
        f.write(UNTESTED_FUNCTION)
    contract = check_assignment(load_course(course_root / "course.toml"), "t1", lint=False, workspace=tmp_path / "w")
    text = contract.text()
    expected = [
        "mutant names_a_missing_test",
        "names tests that do not exist: ['test_nothing']",
        "the target cs_lib.toy_student.multiply is not defined in",
        "mutant raises raised RuntimeError: the instructor's function broke",
        "mutant subtracts (a - b) is declared hidden_only, but the visible part of test 'test_add' already catches it",
        "mutant scales_correctly (the same as the reference) keeps full marks on test 'test_scale'",
        "alternative adds_one_too_many (a + b + 1) loses points on test 'test_add': add(2, 3) is 6.0",
        "no mutant fails test 'test_answer_file' — add one to",
        "@mutant('file:answer.txt', fails=['test_answer_file'])",
        "no mutant is caught by a hidden part only",
        "no mutant replaces cs_lib.toy_student.untested, a graded function of",
        "@mutant('cs_lib.toy_student.untested', fails=",
    ]
    missing = [line for line in expected if line not in text]
    assert not missing, text
    # the valid alternative sharing a run with the broken one is not blamed
    assert "scales_with_multiply" not in text
    assert len(contract.problems) == 10, text


def test_an_assignment_without_mutants_file_fails_the_contract_naming_the_file(tmp_path):
    course_root = tmp_path / "toy_course"
    shutil.copytree(toy.TOY, course_root)
    (course_root / "t1" / "mutants.py").unlink()
    course = load_course(course_root / "course.toml")
    contract = Contract("t1")
    assert contract_module._variants(course, course.assignment("t1"), contract) == []
    assert len(contract.problems) == 1
    assert "no mutants file" in contract.problems[0] and "t1/mutants.py" in contract.problems[0]


def test_a_declared_target_is_resolved_against_the_course_student_files():
    variants = {v.name: v for v in load_variants(toy.TOY / "t1" / "mutants.py")}
    located = variants["adds_magnitudes"].located(["cs_lib/toy_student.py"])
    assert (located.module, located.attribute, located.student_file) == (
        "cs_lib.toy_student",
        "add",
        "cs_lib/toy_student.py",
    )
    nested = variants["adds_magnitudes"].__class__(
        name="m", target="cs_lib.pytorch.models.VGG.forward", source="def m(self, x):\n    return x\n", kind="mutant"
    )
    assert nested.located(["cs_lib/pytorch/models.py"]).attribute == "VGG.forward"
    assert variants["doubles_off_by_one"].target_kind == "notebook" and variants["answers_41"].subject == "answer.txt"


def test_a_failure_reason_must_say_more_than_an_exception_type():
    assert not specific("") and not specific("AssertionError") and not specific("CheckError: ")
    assert specific("add(-7, 19) is 26.0, expected 12.0")


def _notebook_project(tmp_path, body):
    """A folder with the repository's ruff configuration and one notebook source under solutions/."""
    shutil.copyfile(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    path = tmp_path / "solutions" / "a9" / "nb.py"
    path.parent.mkdir(parents=True)
    path.write_text(textwrap.dedent(body))
    return path


LOCKED_IMPORTS_THEN_TEST = """\
# %% locked="imports"
import numpy as np

# %% [markdown]
# The test below imports what it checks.

# %% test="t" points=1
import os
import sys

print(os.sep, np.pi, sys.argv)
"""


def test_a_locked_imports_cell_and_the_next_test_cell_are_separate_import_blocks(tmp_path):
    path = _notebook_project(tmp_path, LOCKED_IMPORTS_THEN_TEST)
    assert lint_file(path, tmp_path) == []
    # ruff alone, without cells, sorts the two cells' imports as one block: the case lint.py exists for
    ruff = Path(sys.executable).parent / "ruff"
    plain = subprocess.run(
        [str(ruff), "check", "--isolated", "--select", "I001", str(path)], capture_output=True, text=True
    )
    assert plain.returncode == 1 and "I001" in plain.stdout


def test_an_unsorted_cell_is_reported_on_its_line_and_fixed_cell_by_cell(tmp_path):
    path = _notebook_project(
        tmp_path, LOCKED_IMPORTS_THEN_TEST.replace("import os\nimport sys\n", "import sys\nimport os\n")
    )
    problems = lint_file(path, tmp_path)
    assert problems[0].startswith("solutions/a9/nb.py:8:1: I001"), problems
    assert lint_file(path, tmp_path, fix=True) == []
    fixed = path.read_text()
    assert '# %% locked="imports"\nimport numpy as np\n' in fixed and "import os\nimport sys\n" in fixed
    assert "..." not in fixed
