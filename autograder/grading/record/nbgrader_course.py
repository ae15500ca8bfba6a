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
import math
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

from autograder.common.sources import source_notebook

CONFIG_NAME = "nbgrader_config.py"
DEFAULT_EXCHANGE = "/srv/nbgrader/exchange"  # nbgrader's own default
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

# late submissions (course). Due dates: `python -m autograder init COURSE --due a1="2025-10-03 23:59 UTC"`.
# nbgrader's policy: "none" (no penalty) or "zero" (a late notebook scores 0); or a plugin of your own, e.g.
#   c.AssignLatePenalties.plugin_class = "autograder.grading.record.nbgrader_course.PercentPerDay"
#   c.PercentPerDay.percent = 10      # of the notebook's score, per started day late
c.LateSubmissionPlugin.penalty_method = "none"

# JupyterHub hand-ins (course): nbgrader's exchange folder used by `collect --exchange` and `release --exchange`
c.Exchange.root = {exchange_root!r}

# `python -m autograder grade` runs student code in a sandbox; nbgrader's own autograde (formgrader's
# "autograde" button, `nbgrader autograde`) would run it unsandboxed in the TA's server, so it is off here.
c.Autograde.exporter_class = "autograder.grading.record.nbgrader_course.RefuseAutograde"
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


def write_config(course_dir, course_id, db_url=None, cell_timeout=120, extra="", exchange_root=None):
    course_dir = Path(course_dir).resolve()
    course_dir.mkdir(parents=True, exist_ok=True)
    db_url = db_url or f"sqlite:///{course_dir / 'gradebook.db'}"
    text = CONFIG_TEMPLATE.format(
        course_id=course_id,
        root=str(course_dir),
        db_url=db_url,
        cell_timeout=cell_timeout,
        extra=extra,
        exchange_root=str(exchange_root or DEFAULT_EXCHANGE),
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


def load_course_config(course_dir):
    """The traitlets config of a course directory's nbgrader_config.py."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(CONFIG_NAME, path=str(course_dir)).load_config()


def exchange_root(course_dir=None):
    """The exchange folder named in the course's nbgrader_config.py, else nbgrader's default."""
    if course_dir is not None and (Path(course_dir) / CONFIG_NAME).is_file():
        config = load_course_config(course_dir)
        if "Exchange" in config and "root" in config.Exchange:
            return Path(config.Exchange.root)
    return Path(DEFAULT_EXCHANGE)


def late_policy(course_dir):
    """penalty(student, score, seconds_late) -> points taken off, from the course's nbgrader configuration.

    It is nbgrader's own AssignLatePenalties plugin (LateSubmissionPlugin unless the course names
    another), clamped as nbgrader clamps it: never below 0 nor above the score.
    """
    from nbgrader.preprocessors import AssignLatePenalties

    assigner = AssignLatePenalties(config=load_course_config(course_dir))
    assigner.init_plugin()
    plugin = assigner.plugin_inst

    def penalty(student, score, seconds_late):
        if seconds_late <= 0:
            return 0.0
        value = plugin.late_submission_penalty(student, score, seconds_late)
        return 0.0 if value is None else float(min(max(value, 0.0), score))

    return penalty


class PercentPerDay(LateSubmissionPlugin):
    """A late notebook loses `percent` of its score per started day late (at most all of it)."""

    percent = Float(10.0, help="percent of the notebook's score taken off per started day late").tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        days = math.ceil(total_seconds_late / 86400)
        return min(score, score * self.percent / 100 * days)


class RefuseAutograde(NotebookExporter):
    """nbgrader's own autograde, switched off in a course directory: it would run student code unsandboxed
    (and first deletes the graded notebooks it would replace). Set as Autograde's exporter, it stops the
    run before anything is touched."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError(
            "nbgrader's autograde is switched off in this course: it would run student code outside the "
            "sandbox. Grade with `python -m autograder grade COURSE ASSIGNMENT` instead."
        )
