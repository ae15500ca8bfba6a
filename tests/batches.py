"""Helpers for tests that interrupt a grading batch: a toy batch of students, `grade` started as a TA starts
it, what the gradebook has committed so far, every process a run started, and a PostgreSQL server the
test can stop and start again."""

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import toy
from autograder.grading.intake.collect import collect
from autograder.grading.record.course_dir import load_settings, roster_ids

REPO = Path(__file__).resolve().parents[1]


def toy_batch(root, count, db_url=None):
    """root/course: the toy course with `count` students (s00, s01, ...), each handing in a full solution."""
    root.mkdir(parents=True, exist_ok=True)
    students = [f"s{number:02d}" for number in range(count)]
    course_dir = toy.init_toy_course(root, students, **({"db_url": db_url} if db_url else {}))
    solved = toy.notebook(course_dir)
    for student in students:
        toy.make_zip(root / "subs" / f"{student}.zip", notebook=solved)
    collect(course_dir, toy.course(), "t1", root / "subs", roster_ids(course_dir))
    return course_dir, students


def start_grade(course_dir, *args):
    """`python -m autograder grade COURSE t1 ARGS` in a session of its own (so a test can always clean up)."""
    return subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", str(course_dir), "t1", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, CS_COURSE_FILE=str(toy.COURSE_FILE)),
        cwd=REPO,
        start_new_session=True,
    )


def committed(course_dir):
    """{student: graded_at} of every student whose results the gradebook holds (the last table a commit writes)."""
    engine = create_engine(load_settings(course_dir)["db_url"])
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT student, graded_at FROM autograder_results WHERE assignment = 't1'"))
            return {student: str(graded_at) for student, graded_at in rows}
    except Exception:  # noqa: BLE001 - no table yet, or the database is down: nothing to count
        return {}
    finally:
        engine.dispose()


def rows_per_student(course_dir):
    """{student: (nbgrader submissions, autograder_results rows)} for t1."""
    engine = create_engine(load_settings(course_dir)["db_url"])
    try:
        with engine.connect() as connection:
            submissions = connection.execute(
                text(
                    "SELECT s.student_id, count(*) FROM submitted_assignment s JOIN assignment a "
                    "ON s.assignment_id = a.id WHERE a.name = 't1' GROUP BY s.student_id"
                )
            )
            counts = {student: [number, 0] for student, number in submissions}
            results = connection.execute(
                text("SELECT student, count(*) FROM autograder_results WHERE assignment = 't1' GROUP BY student")
            )
            for student, number in results:
                counts.setdefault(student, [0, 0])[1] = number
            return {student: tuple(pair) for student, pair in counts.items()}
    finally:
        engine.dispose()


def wait_until(condition, timeout, what, process=None):
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"grade ended (exit {process.returncode}) before {what}:\n{out}\n{err}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def process_tree(pid):
    """Every live descendant of pid (psutil.Process objects: they know their start time, so a reused pid never
    counts as a survivor)."""
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def command_line(process):
    """The process's command line, "" once it has ended (or is a zombie)."""
    import psutil

    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


def survivors(processes, marker=None):
    """Those of processes still running, plus any process on the machine whose command line names marker."""
    import psutil

    alive = {}
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive[process.pid] = command_line(process)[:200]
        except psutil.Error:
            continue
    if marker:
        for process in psutil.process_iter(["pid", "cmdline", "status"]):
            command = " ".join(process.info["cmdline"] or [])
            if marker in command and process.info["status"] != psutil.STATUS_ZOMBIE and process.pid != os.getpid():
                alive[process.pid] = command[:200]
    return alive


def kill_session(process):
    """Clean-up: SIGKILL whatever is left of a run started by start_grade."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait(30)


def table_rows(stdout):
    """{student: (score, status)} from grade's table ("unchanged, kept" is one status)."""
    rows = {}
    for line in stdout.splitlines()[1:]:
        parts = line.split(maxsplit=2)
        if len(parts) == 3 and "/" in parts[1]:
            assert parts[0] not in rows, f"{parts[0]} appears twice in the table"
            status = "unchanged, kept" if parts[2].startswith("unchanged, kept") else parts[2].split()[0]
            rows[parts[0]] = (parts[1], status)
    return rows


class PostgresServer:
    """A throwaway PostgreSQL server (Debian's packages) that a test may stop (as a crash would) and start."""

    def __init__(self):
        from optional_tools import postgres_bindir

        self.bindir = postgres_bindir("a gradebook database that goes away")
        # not under pytest's private temporary folder: the postgres user must be able to reach it
        self.root = Path(tempfile.mkdtemp(prefix="cs-gradebook-pg-"))
        self.data = self.root / "data"
        self.run_as = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.run_as = ["runuser", "-u", "postgres", "--"]
        self._pg("initdb", "-D", str(self.data), "-A", "trust", "-U", "grader")
        from test_pipeline import _free_port

        self.port = _free_port()
        self.start()
        made = subprocess.run(
            [str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "grader", "gradebook"],
            capture_output=True,
            text=True,
        )
        assert made.returncode == 0, made.stderr
        self.url = f"postgresql+psycopg://grader@127.0.0.1:{self.port}/gradebook"

    def _pg(self, tool, *args):
        return subprocess.run([*self.run_as, str(self.bindir / tool), *args], check=True, capture_output=True)

    def start(self):
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-o", options, "start")

    def stop(self):
        """As a crash or a lost machine would: no goodbye to the clients."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def close(self):
        stop = [*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]
        subprocess.run(stop, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)
