"""The repository's own promises: README commands, CI script, environment.yml, markers, lint."""

import ast
import re
import shutil
import subprocess
import sys
from importlib import metadata
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
    setup, test = run_lines.index(commands["Set up"]), run_lines.index(commands["Test"])
    assert setup < test < run_lines.index("bash .ci/student_edition") and run_lines[-1] == "bash .ci/student_edition"
    # and once more without a usable bubblewrap (a failing bwrap first on PATH), refused if it still works
    again = "\n".join(run_lines[test + 1 :])
    assert (
        'PATH="$no_bwrap:$PATH" CS_EXPECT_NO_BWRAP=1 CS_HIDE_TOOLS=postgresql,chromium .venv/bin/python -m pytest'
        in again
        and "exit 1" in again
    )


def requirement_name(requirement):
    """The distribution a requirement names, normalized as PEP 503 does ("Jinja2", "jupyter_core" as written)."""
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].strip().lower()


def requirement_names(requirements):
    return {{"torch": "pytorch"}.get(name, name) for name in map(requirement_name, requirements)}


def normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject(root=REPO):
    return tomllib.loads((root / "pyproject.toml").read_text())


def expanded(extra, project=None):
    """The requirements of one extra with its references to the project's own extras
    (`cs-lib[grading]`) replaced by what those hold, recursively."""
    project = project or pyproject()["project"]
    own = normalized(project["name"])
    requirements = []
    for requirement in project["optional-dependencies"][extra]:
        if normalized(requirement_name(requirement)) == own:
            inner = re.search(r"\[([^\]]+)\]", requirement).group(1)
            for name in inner.split(","):
                requirements += [r for r in expanded(name.strip(), project) if r not in requirements]
        elif requirement not in requirements:
            requirements.append(requirement)
    return requirements


def declared_distributions(project=None):
    """{normalized distribution: the extra (or "dependencies") that declares it first}."""
    project = project or pyproject()["project"]
    declared = {normalized(requirement_name(r)): "dependencies" for r in project["dependencies"]}
    for extra in project["optional-dependencies"]:
        for requirement in expanded(extra, project):
            declared.setdefault(normalized(requirement_name(requirement)), extra)
    return declared


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    import yaml

    config = pyproject()
    project = config["project"]
    declared = requirement_names(project["dependencies"])
    for extra in project["optional-dependencies"]:
        declared |= requirement_names(expanded(extra, project))
    declared |= requirement_names(config["build-system"]["requires"])
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    # conda-forge's own pytorch package: the retired pytorch channel serves no release the floor allows
    assert environment["channels"] == ["conda-forge"]
    conda = {entry for entry in environment["dependencies"] if isinstance(entry, str)}
    pip_section = next(entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict))
    from_pypi = requirement_names(line for line in pip_section if not line.startswith("-"))
    conda_names = (requirement_names(conda) | from_pypi) - {"python", "pip", "c-compiler"}
    assert conda_names == declared - {"setuptools"}
    assert any(line.startswith("-e") and "[dev,torch]" in line for line in pip_section)


# imported only where they exist, each behind a guard that says what to do without them
OPTIONAL_IMPORTS = {
    "google": "google.colab: Colab's own module, imported only when running on Colab",
    "torchvision": "optional for the course: cs_lib.pytorch.transfer checks find_spec first and explains",
}


def third_party_imports(roots=("autograder", "cs_lib")):
    """{top-level module: [files importing it]} for every absolute import (at any depth of a module:
    grading imports most tools inside functions) of a module that is neither the standard library, the
    course's own packages nor a module beside the importing file (the sandbox server's `import wire`)."""
    found = {}
    for root in roots:
        for path in sorted((REPO / root).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    local = (path.parent / f"{top}.py").is_file() or (path.parent / top).is_dir()
                    if top in sys.stdlib_module_names or top in ("autograder", "cs_lib") or local:
                        continue
                    found.setdefault(top, []).append(str(path.relative_to(REPO)))
    return found


def test_every_third_party_import_of_autograder_and_cs_lib_is_declared_in_pyproject():
    imports = third_party_imports()
    assert {"numpy", "nbgrader", "torch", "distributed"} <= set(imports)  # the walk sees the imports
    providers = metadata.packages_distributions()
    declared = declared_distributions()
    undeclared = []
    for module, files in sorted(imports.items()):
        if module in OPTIONAL_IMPORTS:
            continue
        distributions = {normalized(name) for name in providers.get(module, [module])}
        if not distributions & set(declared):
            undeclared.append(f"{module} (distribution {', '.join(sorted(distributions))}), imported by {files[0]}")
    assert not undeclared, "imported but declared in no dependency or extra of pyproject.toml:\n" + "\n".join(
        undeclared
    )


def test_each_tool_is_declared_in_the_extra_of_the_machine_that_runs_it():
    project = pyproject()["project"]
    grading = {normalized(requirement_name(r)) for r in expanded("grading", project)}
    cluster = {normalized(requirement_name(r)) for r in expanded("cluster", project)}
    test = {normalized(requirement_name(r)) for r in expanded("test", project)}
    base = {normalized(requirement_name(r)) for r in project["dependencies"]}
    # a worker (pip install -e ".[cluster]") grades exactly as the TA's machine does: everything grading has
    assert grading | {"distributed"} <= cluster
    assert "distributed" not in grading  # local grading and the students' commands never import it
    assert {"nbgrader", "nbclient", "jupytext", "ipykernel", "copydetect", "torch", "sqlalchemy"} <= grading
    assert cluster | {"psycopg", "pytest"} <= test
    assert set(expanded("dev", project)) >= set(expanded("test", project)) | set(expanded("lint", project))
    # students install the core and torch: no grading tool reaches them
    assert not (base | {normalized(requirement_name(r)) for r in expanded("torch", project)}) & {"nbgrader", "jupytext"}


def test_lint_extra_pins_the_ruff_that_checks_the_repository():
    (pin,) = [r for r in expanded("lint", pyproject()["project"]) if requirement_name(r) == "ruff"]
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    version = subprocess.run([ruff, "--version"], capture_output=True, text=True).stdout.split()[-1]
    assert pin == f"ruff=={version}"


TORCH_FLOOR = (2, 10)  # CVE-2026-24747: torch.load's weights_only has a published bypass before 2.10


def release(text):
    return tuple(int(part) for part in re.match(r"\d+(?:\.\d+)*", text).group().split("."))


def test_every_torch_requirement_has_the_floor_without_the_weights_only_bypass():
    import yaml

    found = []
    for root in (REPO, REPO / "student_edition"):
        project = pyproject(root)["project"]
        requirements = [r for extra in project["optional-dependencies"].values() for r in extra]
        found += [
            (root / "pyproject.toml", r)
            for r in requirements + project["dependencies"]
            if requirement_name(r) == "torch"
        ]
        environment = yaml.safe_load((root / "environment.yml").read_text())
        found += [
            (root / "environment.yml", entry)
            for entry in environment["dependencies"]
            if isinstance(entry, str) and requirement_name(entry) == "pytorch"
        ]
    assert len(found) == 4
    for path, requirement in found:
        floor = re.search(r">=\s*([\d.]+)", requirement)
        assert floor and release(floor.group(1)) >= TORCH_FLOOR, f"{path.relative_to(REPO)}: {requirement}"
    # setup.sh installs its pinned torch first; the editable install keeps it only if the floor allows it
    pinned = re.search(r"TORCH_SPEC:-torch==([\d.]+)", (REPO / "setup.sh").read_text()).group(1)
    assert release(pinned) >= TORCH_FLOOR
    assert f"torch=={pinned}" in (REPO / "README.md").read_text()


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


def test_every_extra_an_install_command_names_exists():
    extras = set(pyproject()["project"]["optional-dependencies"])
    named = {}
    for path in (REPO / "README.md", REPO / "setup.sh", REPO / "environment.yml"):
        for group in re.findall(r'pip install[^\n`]*?-e "?\.\[([^\]]+)\]', path.read_text()):
            named.update({extra.strip(): path.name for extra in group.split(",")})
        for group in re.findall(r'-e "\.\[([^\]]+)\]"', path.read_text()):
            named.update({extra.strip(): path.name for extra in group.split(",")})
    assert {"cluster", "dev", "torch"} <= set(named)
    assert set(named) <= extras, {extra: where for extra, where in named.items() if extra not in extras}
