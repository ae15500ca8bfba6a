"""autograder/'s folders show the roles and the grading pipeline, and dependencies point one way:

    cli -> instructor -> grading -> common <- student

Student code never imports grading or the instructor's tools (the student edition ships without
them); grading never imports the command line, the instructor's tools or the student's.

Inside grading/, the folders are the stages a submission walks: intake (collect, the exchange, the
integrity scan), run (grade's batch, the schedulers, the per-student worker, the sandbox and its
cgroups, the cluster transport, starting the trusted runner), trusted (the trusted runner and the call
channel; its sandboxed/ half runs inside the sandbox), record (the gradebook, review decisions, the
course folder) and report (feedback, export). run drives the others; report reads what record holds:

    run -> intake, trusted, record, report;   report -> record;   intake -> record
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "autograder"
ROLES = ("common", "student", "grading", "instructor")
FORBIDDEN = {
    "common": {"student", "grading", "instructor", "cli"},
    "student": {"grading", "instructor", "cli"},
    "grading": {"student", "instructor", "cli"},
    "instructor": {"student", "cli"},
}


STAGES = ("intake", "run", "trusted", "record", "report")
STAGE_MAY_IMPORT = {
    "intake": {"record"},
    "run": {"intake", "trusted", "record", "report"},
    "trusted": set(),
    "record": set(),
    "report": {"record"},
}


def _imported_names(path):
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def imported_stages(path):
    """The grading stages a module imports, anywhere in it (lazy imports too)."""
    found = set()
    for name in _imported_names(path):
        parts = name.split(".")
        if parts[:2] == ["autograder", "grading"] and len(parts) > 2 and parts[2] in STAGES:
            found.add(parts[2])
    return found


def imported_roles(path):
    """The autograder subpackages (or cli) a module imports, anywhere in it (lazy imports too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "autograder" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("role", ROLES)
def test_each_role_imports_only_what_lies_below_it(role):
    modules = sorted((PACKAGE / role).rglob("*.py"))
    assert modules, f"autograder/{role}/ has no modules"
    wrong = {
        str(path.relative_to(PACKAGE)): sorted(imported_roles(path) & FORBIDDEN[role])
        for path in modules
        if imported_roles(path) & FORBIDDEN[role]
    }
    assert not wrong, f"autograder/{role} must not import {sorted(FORBIDDEN[role])}: {wrong}"


def test_only_the_entry_points_live_at_the_top_of_the_package():
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "cli.py"], top


@pytest.mark.parametrize("stage", STAGES)
def test_each_grading_stage_imports_only_the_stages_it_may(stage):
    modules = sorted((PACKAGE / "grading" / stage).rglob("*.py"))
    assert modules, f"autograder/grading/{stage}/ has no modules"
    allowed = STAGE_MAY_IMPORT[stage] | {stage}
    wrong = {
        str(path.relative_to(PACKAGE)): sorted(imported_stages(path) - allowed)
        for path in modules
        if imported_stages(path) - allowed
    }
    assert not wrong, f"autograder/grading/{stage} may import only {sorted(allowed)}: {wrong}"


def test_grading_holds_only_its_stages():
    loose = sorted(path.name for path in (PACKAGE / "grading").glob("*.py") if path.name != "__init__.py")
    assert not loose, f"every grading module belongs to a stage folder {STAGES}: {loose}"
    folders = sorted(p.name for p in (PACKAGE / "grading").iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders == sorted(STAGES), folders
