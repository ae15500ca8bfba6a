"""`progress`: which graded functions pass their visible tests, across every assignment.

    python -m autograder progress

Runs every self-contained visible test cell of the release notebooks (not the whole notebooks, so
it takes seconds) against the cs_lib you are editing, each in a fresh namespace, one fresh Python
process per assignment. A function is "done" when every visible test that imports it passes,
"not started" while its stub still raises NotImplementedError, and "failing" otherwise.
"""

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.common import paths
from autograder.common.course import load_manifest

RUNNER = r"""
import contextlib, io, json, os, sys, traceback
os.environ.setdefault("MPLBACKEND", "Agg")
cells = json.loads(sys.stdin.read())
results = {}
for grade_id, source in cells.items():
    scope = {"__name__": "__progress__"}
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(source, grade_id, "exec"), scope)
        results[grade_id] = ["pass", ""]
    except NotImplementedError as error:
        results[grade_id] = ["not started", str(error)[:200]]
    except BaseException as error:
        results[grade_id] = ["fail", "".join(traceback.format_exception_only(type(error), error)).strip()[:200]]
print(json.dumps(results))
"""


@dataclass
class FunctionStatus:
    assignment: str
    module: str
    function: str
    status: str
    detail: str = ""


def _visible_cells(notebook):
    cells = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and "stateful" not in cell.metadata.get("tags", []):
            cells[meta["grade_id"]] = cell.source
    return cells


def _imported_functions(source, student_modules):
    """(module, name) pairs a cell imports from the student's cs_lib modules."""
    found = set()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return found
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in student_modules:
            found |= {(node.module, alias.name) for alias in node.names}
    return found


def _run_cells(cells, cwd, timeout):
    result = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps(cells),
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        reason = (result.stderr.strip().splitlines() or ["the test process crashed"])[-1]
        return {grade_id: ["fail", reason] for grade_id in cells}
    return json.loads(lines[-1])


def progress(manifest_path=paths.MANIFEST, timeout=300, assignment_ids=None):
    manifest = load_manifest(manifest_path)
    rows = []
    for entry in manifest["assignments"]:
        if assignment_ids and entry["id"] not in assignment_ids:
            continue
        modules = {name[:-3].replace("/", ".") for name in entry["student_files"]}
        cells = {}
        for item in entry["notebooks"]:
            path = Path(manifest_path).parent / entry["id"] / f"{item['name']}.ipynb"
            cells.update(_visible_cells(nbformat.read(str(path), as_version=4)))
        outcomes = _run_cells(cells, Path(manifest_path).parent / entry["id"], timeout) if cells else {}
        per_function = {}
        for grade_id, source in cells.items():
            for key in _imported_functions(source, modules):
                per_function.setdefault(key, []).append(outcomes.get(grade_id, ["fail", "did not run"]))
        for (module, function), results in sorted(per_function.items()):
            statuses = [status for status, _ in results]
            if all(status == "pass" for status in statuses):
                status, detail = "done", ""
            elif all(status == "not started" for status in statuses):
                status, detail = "not started", ""
            else:
                status = "failing"
                detail = next(message for state, message in results if state != "pass")
            rows.append(FunctionStatus(entry["id"], module, function, status, detail))
    return rows


def table(rows):
    lines = [f"{'assignment':<11} {'function':<44} status"]
    for row in rows:
        detail = f"  {row.detail}" if row.status == "failing" else ""
        lines.append(
            f"{row.assignment:<11} {row.module.removeprefix('cs_lib.') + '.' + row.function:<44} {row.status}{detail}"[
                :160
            ]
        )
    done = sum(row.status == "done" for row in rows)
    lines.append(f"{done} of {len(rows)} graded functions pass their visible tests")
    return "\n".join(lines)
