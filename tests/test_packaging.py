"""The repository's own promises: README commands, CI script, environment.yml, markers, lint."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.common.course import load_course

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]


def readme_commands():
    """The indented command under each of README's 'Set up', 'Test' and 'Main job' paragraphs."""
    text = (REPO / "README.md").read_text()
    section = text.split("## Commands", 1)[1].split("\n## ", 1)[0]
    commands = {}
    for label, command in re.findall(r"^(Set up|Test|Main job)[^\n]*:\n\n    ([^\n]+)", section, flags=re.M):
        commands[label] = command.strip()
    return commands


def test_readme_names_exactly_the_three_commands():
    assert set(readme_commands()) == {"Set up", "Test", "Main job"}


def test_ci_runs_exactly_the_readme_setup_and_test_commands():
    commands = readme_commands()
    script = (REPO / ".ci" / "run").read_text().splitlines()
    run_lines = [line.strip() for line in script if line.strip() and not line.lstrip().startswith("#")]
    assert run_lines[-3:] == [commands["Set up"], commands["Test"], "bash .ci/student_edition"]


def requirement_names(requirements):
    names = set()
    for requirement in requirements:
        name = re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].strip().lower()
        names.add({"torch": "pytorch"}.get(name, name))
    return names


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    import yaml

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    project = pyproject["project"]
    declared = requirement_names(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared |= requirement_names(extra)
    declared |= requirement_names(pyproject["build-system"]["requires"])
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = {entry for entry in environment["dependencies"] if isinstance(entry, str)}
    pip_section = next(entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict))
    from_pypi = requirement_names(line for line in pip_section if not line.startswith("-"))
    conda_names = (requirement_names(conda) | from_pypi) - {"python", "pip", "c-compiler"}
    assert conda_names == declared - {"setuptools"}
    assert any(line.startswith("-e") and "[dev,torch]" in line for line in pip_section)


def test_every_assignment_has_a_pytest_marker(pytestconfig):
    # pyproject.toml registers the general markers; tests/conftest.py one per assignment of course.toml
    markers = {line.split(":")[0] for line in pytestconfig.getini("markers")}
    assert {a.id for a in load_course().assignments} | {"slow"} <= markers


def test_ruff_reports_no_problems():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run([ruff, "check", "."], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_importing_cs_lib_does_not_import_torch_or_student_modules():
    code = (
        "import sys, cs_lib, cs_lib.datasets, cs_lib.solver, cs_lib.fast_layers, cs_lib.layer_utils, cs_lib.vis, "
        "cs_lib.notebook, cs_lib.checks\n"
        "print(sorted(m for m in sys.modules if m == 'torch' or m in ('cs_lib.layers', 'cs_lib.optim')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO / "tests")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.slow
def test_committed_generated_files_equal_a_fresh_release():
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "release", "--check"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
