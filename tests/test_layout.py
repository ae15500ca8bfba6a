"""autograder/'s folders show the three roles, and dependencies point one way:

    cli -> instructor -> grading -> common <- student

Student code never imports grading or the instructor's tools (the student edition ships without
them); grading never imports the command line, the instructor's tools or the student's.
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
