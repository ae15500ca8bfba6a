"""`python -m autograder verify <assignment>`: run the source notebooks with the reference solutions.

Every test must pass and no other cell may raise; the run must fit the assignment's time budget
(grading_time_budget with --grading, which sets NBGRADER_EXECUTION as nbgrader does).
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

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


def verify_assignment(course, assignment_id, grading=False, keep=None):
    """[(notebook name, Run)] for every notebook of the assignment, run with the reference."""
    assignment = course.assignment(assignment_id)
    runs = []
    with tempfile.TemporaryDirectory(prefix=f"verify-{assignment_id}-") as tmp:
        overlay = reference_overlay(Path(tmp) / "overlay", course)
        work = Path(tmp) / "work"
        work.mkdir()
        make_reference_files(assignment, overlay, work)
        for name in assignment.notebooks:
            notebook = source_notebook(assignment.source_notebook(name), course, assignment_id)
            run = run_notebook(notebook, work, overlay=overlay, grading=grading)
            if keep:
                import nbformat

                Path(keep).mkdir(parents=True, exist_ok=True)
                nbformat.write(run.notebook, Path(keep) / f"{name}.ipynb")
            runs.append((name, run))
    return runs


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
