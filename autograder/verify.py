"""`python -m autograder verify <assignment>`: run the source notebooks with the reference solutions.

Every test must pass and no other cell may raise; the run must fit the assignment's time budget
(grading_time_budget with --grading, which sets NBGRADER_EXECUTION as nbgrader does).
"""

import tempfile
from pathlib import Path

from autograder.authoring import source_notebook
from autograder.execute import run_notebook
from autograder.overlay import reference_overlay


def verify_assignment(course, assignment_id, grading=False, keep=None):
    """[(notebook name, Run)] for every notebook of the assignment, run with the reference."""
    assignment = course.assignment(assignment_id)
    runs = []
    with tempfile.TemporaryDirectory(prefix=f"verify-{assignment_id}-") as tmp:
        overlay = reference_overlay(Path(tmp) / "overlay")
        for name in assignment.notebooks:
            notebook = source_notebook(assignment.source_notebook(name), course, assignment_id)
            run = run_notebook(notebook, Path(tmp) / "work", overlay=overlay, grading=grading)
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
