"""The course's lint rules (ruff, as configured in pyproject.toml) over an assignment's sources, cell by cell.

    problems = lint_assignment(course, assignment)          # [] when clean
    lint_assignment(course, assignment, fix=True)           # apply ruff's fixes and formatting, then report

A source notebook is one Python file to ruff, so the imports of a locked imports cell, a markdown
cell and the next test cell's imports form one import block, which isort (I001) would sort across
the cells. Here every cell header (`# %% ...`) becomes a statement (`...  # %% ...`, same line
numbers), so each cell's imports are a block of their own and I001 judges them cell by cell. The
repository-wide `ruff check .` cannot see cells, so pyproject.toml leaves I001 of solutions/*/*.py to
this check (CELL_AWARE below); every other rule and per-file ignore is pyproject's.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from autograder.common import paths

CELL_HEADER = re.compile(r"^# %%", re.MULTILINE)
SEPARATOR = "...  "
# rules the repository-wide run ignores in notebook sources because it cannot see cells; checked here per cell
CELL_AWARE = ("I001",)


def ruff_command():
    found = Path(sys.executable).parent / "ruff"
    return str(found) if found.is_file() else shutil.which("ruff") or "ruff"


def _per_file_ignores(root):
    """pyproject's per-file ignores with the cell-aware rules put back for the notebook sources."""
    pyproject = Path(root) / "pyproject.toml"
    if not pyproject.is_file():
        return None
    config = tomllib.loads(pyproject.read_text()).get("tool", {}).get("ruff", {}).get("lint", {})
    table = config.get("per-file-ignores", {})
    return {
        pattern: [code for code in codes if not (pattern.startswith("solutions/") and code in CELL_AWARE)]
        for pattern, codes in table.items()
    }


def _ruff(arguments, text, relative, root):
    ignores = _per_file_ignores(root)
    command = [ruff_command(), *arguments, "--stdin-filename", relative]
    if ignores is not None:
        table = ", ".join(f"{json.dumps(pattern)} = {json.dumps(codes)}" for pattern, codes in ignores.items())
        command += ["--config", f"lint.per-file-ignores = {{{table}}}"]
    return subprocess.run(command + ["-"], input=text, capture_output=True, text=True, cwd=root)


def as_cells(text):
    """The source with every cell header turned into a statement, so import blocks end at cell borders."""
    return CELL_HEADER.sub(SEPARATOR + "# %%", text)


def from_cells(text):
    return text.replace(SEPARATOR + "# %%", "# %%")


def lint_file(path, root=paths.REPO_ROOT, fix=False):
    """[problem line] of one source file: ruff check (per cell) and ruff format --check."""
    path, root = Path(path), Path(root)
    relative = path.resolve().relative_to(root.resolve()).as_posix() if path.is_absolute() else path.as_posix()
    original = path.read_text()
    if fix:
        fixed = _ruff(["check", "--fix", "--quiet"], as_cells(original), relative, root).stdout
        formatted = _ruff(["format", "--quiet"], from_cells(fixed) if fixed else original, relative, root)
        if formatted.returncode == 0 and formatted.stdout and formatted.stdout != original:
            path.write_text(formatted.stdout)
    text = path.read_text()
    problems = []
    checked = _ruff(["check", "--output-format", "concise", "--quiet"], as_cells(text), relative, root)
    if checked.returncode not in (0, 1):
        return [f"{relative}: ruff could not run: {(checked.stderr or checked.stdout).strip()[:300]}"]
    for line in checked.stdout.splitlines():
        if line.startswith(relative) or line.startswith("-:"):
            problems.append(line.strip())
    formatted = _ruff(["format", "--check", "--quiet"], text, relative, root)
    if formatted.returncode == 1:
        problems.append(f"{relative}: not formatted as `ruff format` would")
    return problems


def assignment_sources(course, assignment):
    """The files an instructor writes for an assignment: notebooks, its reference modules, mutants and scripts."""
    files = [assignment.source_notebook(name) for name in assignment.notebooks]
    references = course.references()
    files += [references[name] for name in assignment.student_files if name in references]
    mutants = Path(course.root) / assignment.id / "mutants.py"
    if mutants.is_file():
        files.append(mutants)
    if assignment.reference_files_script and assignment.reference_files_script.is_file():
        files.append(assignment.reference_files_script)
    return [Path(path) for path in files if Path(path).is_file()]


def project_root(course):
    """The folder whose pyproject.toml configures ruff for the course (the repository, for solutions/)."""
    for folder in [Path(course.root).resolve(), *Path(course.root).resolve().parents]:
        if (folder / "pyproject.toml").is_file():
            return folder
    return paths.REPO_ROOT


def lint_assignment(course, assignment, fix=False):
    """[problem line] of every source of the assignment ([] when all are clean)."""
    root = project_root(course)
    problems = []
    for path in assignment_sources(course, assignment):
        problems += lint_file(path.resolve(), root, fix=fix)
    if problems:
        problems.append(
            f"to apply ruff's fixes and formatting cell by cell: python -m autograder verify {assignment.id} --fix-lint "
            "(or fix the lines above by hand)"
        )
    return problems
