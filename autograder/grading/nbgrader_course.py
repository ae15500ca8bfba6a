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

import functools
from pathlib import Path

import nbformat

from autograder.common.sources import source_notebook

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


@functools.lru_cache(maxsize=1)
def _alembic_head():
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    return ScriptDirectory(ALEMBIC_DIR).get_current_head()


def use_in_process_alembic_head():
    """nbgrader asks a subprocess (`alembic heads`) for the schema version of every new gradebook,
    which costs seconds per gradebook; the same answer is read from its migration scripts directly."""
    import nbgrader.api

    nbgrader.api.get_alembic_version = _alembic_head


def write_config(course_dir, course_id, db_url=None, cell_timeout=120, extra=""):
    course_dir = Path(course_dir).resolve()
    course_dir.mkdir(parents=True, exist_ok=True)
    db_url = db_url or f"sqlite:///{course_dir / 'gradebook.db'}"
    text = CONFIG_TEMPLATE.format(
        course_id=course_id, root=str(course_dir), db_url=db_url, cell_timeout=cell_timeout, extra=extra
    )
    (course_dir / CONFIG_NAME).write_text(text)
    return db_url


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
