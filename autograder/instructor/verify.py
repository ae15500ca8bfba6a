"""`python -m autograder verify <assignment>`: run the source notebooks with the reference solutions.

Every test must pass and no other cell may raise; the run must fit the assignment's time budget
(grading_time_budget with --grading, which sets NBGRADER_EXECUTION as nbgrader does). The command
then lints the assignment's sources and checks its contract (autograder/instructor/contract.py).
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from autograder.common.execute import run_notebook
from autograder.common.sources import source_notebook
from autograder.grading.run.overlay import reference_overlay


def make_reference_files(assignment, overlay, out_dir):
    """Run the assignment's reference_files script (main(out_dir)) with the reference cs_lib."""
    if not assignment.reference_files:
        return
    script = assignment.reference_files_script
    code = f"import runpy, sys; runpy.run_path({str(script)!r})['main']({str(out_dir)!r})"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(overlay), os.environ.get("PYTHONPATH", "")]))
    env.pop("NBGRADER_EXECUTION", None)
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=out_dir)


def with_export_cells(notebook, notebook_name, exports):
    """The notebook with, right before each test cell that reads notebook variables, the cell grading adds
    to hand them to the trusted grader (into $CS_OUTBOX, one file per test)."""
    from autograder.grading.run.worker import EXPORT_SOURCE, export_file

    notebook = nbformat.from_dict(notebook)
    cells = []
    for cell in notebook.cells:
        reads = cell.get("metadata", {}).get("reads")
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if reads and grade_id:
            export = nbformat.v4.new_code_cell(
                EXPORT_SOURCE.format(names=list(reads), file=export_file(notebook_name, grade_id))
            )
            export.id = f"export-{grade_id}"[:64]
            cells.append(export)
            exports[grade_id] = export_file(notebook_name, grade_id)
        cells.append(cell)
    notebook.cells = cells
    return notebook


def run_source_notebooks(course, assignment, overlay, work, grading=False, keep=None, outbox=None):
    """[(notebook name, Run)] of the assignment's source notebooks run in work with overlay's cs_lib.

    With outbox, the variables each stateful test reads are exported there as grading exports them;
    returns ([(name, Run)], {grade id: exports file})."""
    from autograder.grading.trusted.sandboxed import wire

    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    make_reference_files(assignment, overlay, work)
    runs, exports = [], {}
    extra_env = {"CS_OUTBOX": str(outbox), "CS_WIRE_DIR": str(Path(wire.__file__).parent)} if outbox else None
    for name in assignment.notebooks:
        notebook = source_notebook(assignment.source_notebook(name), course, assignment.id)
        if outbox:
            notebook = with_export_cells(notebook, name, exports)
        run = run_notebook(notebook, work, overlay=overlay, grading=grading, extra_env=extra_env)
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            nbformat.write(run.notebook, Path(keep) / f"{name}.ipynb")
        runs.append((name, run))
    if outbox:
        return runs, {grade_id: Path(outbox) / file for grade_id, file in exports.items()}
    return runs


def verify_assignment(course, assignment_id, grading=False, keep=None):
    """[(notebook name, Run)] for every notebook of the assignment, run with the reference."""
    assignment = course.assignment(assignment_id)
    with tempfile.TemporaryDirectory(prefix=f"verify-{assignment_id}-") as tmp:
        overlay = reference_overlay(Path(tmp) / "overlay", course)
        return run_source_notebooks(course, assignment, overlay, Path(tmp) / "work", grading=grading, keep=keep)


def report(assignment, runs, grading):
    budget = assignment.grading_time_budget if grading else assignment.time_budget
    ok = True
    lines = []
    for name, run in runs:
        status = "ok"
        problems = run.failed() + run.errors()
        if run.failure:
            problems.append(("notebook", run.failure))
        if problems or run.seconds > budget:
            ok = False
            status = "FAILED"
        lines.append(
            f"{assignment.id}/{name}: {run.score:g}/{run.max_score:g} points in {run.seconds:.1f} s "
            f"(budget {budget} s{' under NBGRADER_EXECUTION' if grading else ''}) {status}"
        )
        lines += [f"    {where}: {what}" for where, what in problems]
    return ok, "\n".join(lines)


def contract_command(assignment_id):
    """The pytest command that checks an assignment's contract as the course's test suite does."""
    return f".venv/bin/python -m pytest -p no:randomly -n 0 'tests/test_contract.py::test_the_assignment_keeps_its_contract[{assignment_id}]'"


def verify(course, assignment_ids, grading=False, keep=None, contract=True, fix_lint=False, jobs=None, out=print):
    """`verify`: for each assignment, lint, the full-size run (unless grading) and the contract, printed as it
    goes; True when everything holds."""
    from autograder.instructor.contract import check_assignment
    from autograder.instructor.lint import lint_assignment

    all_ok = True
    for assignment_id in assignment_ids:
        assignment = course.assignment(assignment_id)
        problems = lint_assignment(course, assignment, fix=fix_lint)
        out(
            f"{assignment_id}: lint " + ("ok" if not problems else "FAILED\n" + "\n".join(f"    {p}" for p in problems))
        )
        all_ok &= not problems
        if not grading or not contract:
            runs = verify_assignment(course, assignment_id, grading=grading, keep=keep)
            ok, text = report(assignment, runs, grading)
            out(text)
            all_ok &= ok
        if contract:
            result = check_assignment(course, assignment_id, jobs=jobs, lint=False, keep=keep if grading else None)
            out(result.text())
            all_ok &= result.ok
            out(f"{assignment_id}: the course's tests check this contract too: {contract_command(assignment_id)}")
    return all_ok
