"""An nbgrader course directory: its config, its source notebooks and running nbgrader's apps.

Layout (nbgrader's own)::

    <course>/nbgrader_config.py
    <course>/gradebook.db                  (SQLite by default; any SQLAlchemy URL via --db)
    <course>/source/<assignment>/<notebook>.ipynb      instructor version, hidden tests included
    <course>/release/<assignment>/<notebook>.ipynb     student version
    <course>/submitted/<student>/<assignment>/...      collected work
    <course>/autograded/<student>/<assignment>/...     executed and scored
    <course>/feedback/<student>/<assignment>/...        HTML for students
"""

import os
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder.authoring import source_notebook

CONFIG_NAME = "nbgrader_config.py"
CONFIG_TEMPLATE = """\
# nbgrader configuration written by `python -m autograder`; edit the settings marked "course".
c = get_config()  # noqa: F821

c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = {root!r}
c.CourseDirectory.db_url = {db_url!r}

# code students see in place of each solution region in notebook cells (course)
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# execution limits while grading (course): seconds per cell, and output kept per cell
c.Execute.timeout = {cell_timeout}
c.Execute.interrupt_on_timeout = True
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100
{extra}"""


def nbgrader_env(extra=None):
    """Environment for nbgrader's command line: it calls `alembic` from the same environment."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("NBGRADER_EXECUTION", None)
    env.update(extra or {})
    return env


def write_config(course_dir, course_id, db_url=None, cell_timeout=120, extra=""):
    course_dir = Path(course_dir).resolve()
    course_dir.mkdir(parents=True, exist_ok=True)
    db_url = db_url or f"sqlite:///{course_dir / 'gradebook.db'}"
    text = CONFIG_TEMPLATE.format(
        course_id=course_id, root=str(course_dir), db_url=db_url, cell_timeout=cell_timeout, extra=extra
    )
    (course_dir / CONFIG_NAME).write_text(text)
    return db_url


def run_nbgrader(course_dir, *args, timeout=None, env=None, check=True):
    """Run `nbgrader <args>` in course_dir; raise RuntimeError with its log when it fails."""
    command = [sys.executable, "-m", "nbgrader", *map(str, args)]
    result = subprocess.run(
        command, cwd=course_dir, env=nbgrader_env(env), capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        log = (result.stdout + result.stderr)[-4000:]
        raise RuntimeError(f"`nbgrader {' '.join(map(str, args))}` failed in {course_dir}:\n{log}")
    return result


def stage_sources(course_dir, course, assignment_ids=None):
    """Write source/<id>/<notebook>.ipynb for the chosen assignments from solutions/."""
    for assignment in course.assignments:
        if assignment_ids is not None and assignment.id not in assignment_ids:
            continue
        folder = Path(course_dir) / "source" / assignment.id
        folder.mkdir(parents=True, exist_ok=True)
        for name in assignment.notebooks:
            notebook = source_notebook(assignment.source_notebook(name), course, assignment.id)
            nbformat.write(notebook, folder / f"{name}.ipynb")


def generate_assignment(course_dir, assignment_id):
    """nbgrader generate_assignment: registers the notebooks in the gradebook and writes release/."""
    run_nbgrader(course_dir, "generate_assignment", assignment_id, "--force")
    return Path(course_dir) / "release" / assignment_id
