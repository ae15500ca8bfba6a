"""`init`: a TA's nbgrader course directory, its gradebook and its roster."""

import csv
import json
import os
import sys
from pathlib import Path

from autograder.common.course import CourseError
from autograder.common.student_ids import ALLOWED, is_student_id
from autograder.grading.record.due_dates import parse_due
from autograder.grading.record.nbgrader_course import (
    CONFIG_NAME,
    exchange_root,
    stage_sources,
    use_in_process_alembic_head,
    write_config,
)

SETTINGS = "course.json"


def nbgrader_api(course_dir):
    """An in-process NbGraderAPI for course_dir (one import of nbgrader for many calls)."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    use_in_process_alembic_head()

    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    config = PyFileConfigLoader(CONFIG_NAME, path=str(course_dir)).load_config()
    config.CourseDirectory.root = str(course_dir)
    config.Exchange.root = str(Path(course_dir) / ".exchange")  # unused; keeps nbgrader off /usr/local/share
    return NbGraderAPI(config=config)


def read_roster(path):
    """[{id, first_name, last_name, email}] from a CSV with an `id` column (other columns optional)."""
    path = Path(path)
    if not path.is_file():
        raise CourseError(f"roster {path} does not exist")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = [name.strip().lower() for name in reader.fieldnames or []]
        if "id" not in columns:
            raise CourseError(f"roster {path} needs an 'id' column (found: {', '.join(columns) or 'nothing'})")
        students = []
        for number, row in enumerate(reader, start=2):
            row = {key.strip().lower(): (value or "").strip() for key, value in row.items() if key}
            if not row.get("id"):
                raise CourseError(f"roster {path} line {number}: empty id")
            if not is_student_id(row["id"]):
                raise CourseError(f"roster {path} line {number}: id {row['id']!r} is not a student id: use {ALLOWED}")
            students.append({key: row.get(key) or None for key in ("id", "first_name", "last_name", "email")})
    ids = [student["id"] for student in students]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CourseError(f"roster {path} repeats ids: {', '.join(duplicates)}")
    return students


def load_settings(course_dir):
    path = Path(course_dir) / SETTINGS
    if not path.is_file():
        raise CourseError(f"{course_dir} is not a course directory made by `python -m autograder init` (no {SETTINGS})")
    return json.loads(path.read_text())


def import_roster(db_url, course_id, students):
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gradebook:
        for student in students:
            fields = {key: value for key, value in student.items() if key != "id"}
            gradebook.update_or_create_student(student["id"], **fields)


def course_gradebook(course_dir):
    """The course's nbgrader gradebook, as `init` recorded it (use it as a context manager)."""
    from nbgrader.api import Gradebook

    settings = load_settings(course_dir)
    return Gradebook(settings["db_url"], settings["course_id"])


def roster_ids(course_dir):
    with course_gradebook(course_dir) as gradebook:
        return {student.id for student in gradebook.students}


def set_due_dates(db_url, course_id, due):
    """Store {assignment: naive UTC datetime or None} as nbgrader's assignment due dates."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gradebook:
        for assignment_id, when in due.items():
            gradebook.update_or_create_assignment(assignment_id, duedate=when)


def init_course(
    course_dir,
    course,
    roster=None,
    db_url=None,
    assignment_ids=None,
    cell_timeout=120,
    due=None,
    exchange=None,
):
    """Create (or update) a course directory: config, gradebook, roster, source and release notebooks.

    due: {assignment id: due date text} (see parse_due), kept across re-runs of init; exchange: the
    nbgrader exchange folder for JupyterHub hand-ins (default: the one configured before, else nbgrader's).
    """
    course_dir = Path(course_dir).resolve()
    students = read_roster(roster) if roster else []
    previous = json.loads((course_dir / SETTINGS).read_text()) if (course_dir / SETTINGS).is_file() else {}
    due_dates = dict(previous.get("due", {}))
    for assignment_id, text in (due or {}).items():
        course.assignment(assignment_id)
        due_dates[assignment_id] = parse_due(text, assignment_id).strftime("%Y-%m-%d %H:%M:%S UTC")
    if exchange is None and (course_dir / CONFIG_NAME).is_file():
        exchange = exchange_root(course_dir)
    db_url = write_config(course_dir, course.id, db_url=db_url, cell_timeout=cell_timeout, exchange_root=exchange)
    ids = assignment_ids or [assignment.id for assignment in course.assignments]
    for assignment_id in ids:
        course.assignment(assignment_id)
    stage_sources(course_dir, course, ids)
    api = nbgrader_api(course_dir)
    for assignment_id in ids:
        result = api.generate_assignment(assignment_id, force=True, create=True)
        if not result["success"]:
            raise CourseError(f"nbgrader could not generate {assignment_id}:\n{result.get('log', '')[-3000:]}")
    if students:
        import_roster(db_url, course.id, students)
    if due_dates:
        set_due_dates(db_url, course.id, {a: parse_due(text) for a, text in due_dates.items()})
    settings = {"course_id": course.id, "db_url": db_url, "assignments": ids, "repository": course.repository}
    if due_dates:
        settings["due"] = due_dates
    (course_dir / SETTINGS).write_text(json.dumps(settings, indent=1) + "\n")
    return settings
