"""Faults in the middle of a batch lose nothing and leave nothing: a TA's `grade` killed with SIGKILL, and a
PostgreSQL gradebook stopped as a crash would stop it. Real processes throughout: `grade` started as a TA
types it, a real kill, a real database server stopped and started again."""

import json
import signal
import time

import pytest
from batches import (
    PostgresServer,
    command_line,
    committed,
    kill_session,
    process_tree,
    rows_per_student,
    start_grade,
    survivors,
    table_rows,
    toy_batch,
    wait_until,
)

import toy

pytestmark = pytest.mark.slow
STUDENTS = 6
FULL = "7/9"  # every test of the toy notebook; the written answer waits for a TA


@pytest.fixture
def postgres_server():
    server = PostgresServer()
    try:
        yield server
    finally:
        server.close()


def _kill_mid_batch(course_dir, *args):
    """Start grade, SIGKILL it once two students are committed and a kernel grades the next; (what it had
    committed, every process it had started, when it was killed)."""
    grading = start_grade(course_dir, *args)
    seen = {}
    try:

        def mid_batch():
            tree = process_tree(grading.pid)
            for process in tree:  # every process the run starts, as they come
                seen.setdefault((process.pid, process.create_time()), process)
            kernel = any("ipykernel_launcher" in command_line(process) for process in tree)
            return kernel and len(committed(course_dir)) >= 2

        wait_until(mid_batch, 300, "two students were committed and a kernel grades the next", grading)
        last = process_tree(grading.pid)
        at_kill = [command_line(process) for process in last]
        grading.send_signal(signal.SIGKILL)
        grading.wait(10)
        killed_at = time.monotonic()
        done = committed(course_dir)
        assert len(done) < STUDENTS, "the batch ended before the kill: nothing was interrupted"
        assert any("ipykernel_launcher" in command for command in at_kill), f"no kernel ran at the kill: {at_kill}"
        return done, list(seen.values()) + last, killed_at
    finally:
        kill_session(grading)


def _assert_nothing_survives(tree, killed_at, course_dir):
    time.sleep(max(0.0, killed_at + 1.0 - time.monotonic()))
    alive = survivors(tree, marker=str(course_dir))
    assert not alive, f"still running 1 s after grade was killed: {alive}"


def test_a_killed_grade_leaves_no_process_and_a_rerun_grades_only_what_was_not_committed(tmp_path):
    course_dir, students = toy_batch(tmp_path, STUDENTS)
    done, tree, killed_at = _kill_mid_batch(course_dir, "--jobs", "2")
    _assert_nothing_survives(tree, killed_at, course_dir)

    rerun = toy.cli("grade", course_dir, "t1", "--jobs", "2")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    rows = table_rows(rerun.stdout)
    assert sorted(rows) == students
    kept = {student for student, (_, status) in rows.items() if status == "unchanged, kept"}
    # a student whose notebooks the kill caught between the commit and their install is graded again
    assert kept <= set(done) and len(set(done) - kept) <= 1, (done, rows)
    assert all(status == "graded" for student, (_, status) in rows.items() if student not in kept), rows
    assert all(score == FULL for score, _ in rows.values()), rows
    after = committed(course_dir)
    assert {student: after[student] for student in kept} == {student: done[student] for student in kept}
    assert rows_per_student(course_dir) == {student: (1, 1) for student in students}
    for student in students:
        record = json.loads((course_dir / "autograded" / student / "t1" / "grading.json").read_text())
        assert record["student"] == student and (course_dir / "autograded" / student / "t1" / "toy.ipynb").is_file()
    assert not list((course_dir / "autograded").glob("*/t1.*")), "no half-installed notebooks are left"


def test_a_gradebook_database_that_stops_mid_batch_stops_grade_clearly_and_a_rerun_completes_it(
    tmp_path, postgres_server
):
    course_dir, students = toy_batch(tmp_path, STUDENTS, db_url=postgres_server.url)
    grading = start_grade(course_dir, "--jobs", "2")
    try:
        wait_until(lambda: len(committed(course_dir)) >= 2, 300, "two students were committed", grading)
        postgres_server.stop()
        stopped_at = time.monotonic()
        out, err = grading.communicate(timeout=120)
    finally:
        kill_session(grading)
    assert grading.returncode == 1, out + err
    said = out + err
    assert "Traceback" not in said and "sqlalchemy" not in said.lower(), said
    assert f"the gradebook database at postgresql+psycopg://grader@127.0.0.1:{postgres_server.port}/gradebook" in err
    assert "nothing of s0" in err and "grading was written" in err, err
    assert "start the database and run grade again: students already committed are kept" in err, err
    assert time.monotonic() - stopped_at < 60
    assert not survivors([], marker=str(course_dir)), "grade left grading processes behind"

    postgres_server.start()
    done = committed(course_dir)
    assert 2 <= len(done) < STUDENTS, done
    assert f"stopped answering after {len(done)} of the {STUDENTS} students to grade were committed" in err, err
    # one transaction per student: every student the gradebook knows is whole (results, cells and scores)
    assert rows_per_student(course_dir) == {student: (1, 1) for student in done}

    rerun = toy.cli("grade", course_dir, "t1", "--jobs", "2")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    rows = table_rows(rerun.stdout)
    assert sorted(rows) == students
    kept = {student for student, (_, status) in rows.items() if status == "unchanged, kept"}
    assert kept <= set(done) and len(set(done) - kept) <= 1, (done, rows)
    assert all(score == FULL for score, _ in rows.values()), rows
    assert rows_per_student(course_dir) == {student: (1, 1) for student in students}


class _ConnectionLostAtCommit:
    """Make the gradebook's database fail the COMMIT of a transaction that writes a student's results, as a
    server that went away at that moment would (the statements before it went through)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.engine, self.writing_results = engine, False
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, connection, cursor, statement, *args):
        self.writing_results = self.writing_results or statement.lstrip().upper().startswith(
            ("INSERT INTO AUTOGRADER_RESULTS", "DELETE FROM AUTOGRADER_RESULTS")
        )

    def _commit(self, connection):
        from sqlalchemy.exc import OperationalError

        if self.writing_results:
            self.writing_results = False
            raise OperationalError("COMMIT", {}, ConnectionError("server closed the connection unexpectedly"))
        return None


@pytest.mark.parametrize("graded_before", [False, True], ids=["new student", "graded before"])
def test_a_commit_the_database_loses_leaves_the_student_as_it_was(tmp_path, graded_before):
    from datetime import datetime

    from sqlalchemy.exc import OperationalError
    from test_regrade import result, state

    from autograder.grading.record.course_dir import course_gradebook
    from autograder.grading.record.gradebook import commit, manifest_kinds
    from autograder.grading.record.gradebook_tables import ensure_tables

    course_dir = toy.init_toy_course(tmp_path, ["ada"])
    assignment = toy.course().assignment("t1")
    kinds = manifest_kinds(course_dir, assignment)
    with course_gradebook(course_dir) as gradebook:
        ensure_tables(gradebook)
    if graded_before:
        with course_gradebook(course_dir) as gradebook:
            commit(gradebook, assignment, result(add=0.0), kinds, datetime(2030, 1, 1), course_dir)
    before = rows_per_student(course_dir), committed(course_dir)
    with course_gradebook(course_dir) as gradebook:
        _ConnectionLostAtCommit(gradebook.engine)
        with pytest.raises(OperationalError):
            commit(gradebook, assignment, result(add=2.0), kinds, datetime(2030, 1, 2), course_dir)
    assert (rows_per_student(course_dir), committed(course_dir)) == before
    if graded_before:
        assert state(course_dir, "ada", "test_add")["score"] == 0.0
        with course_gradebook(course_dir) as gradebook:
            assert gradebook.find_submission("t1", "ada").timestamp == datetime(2030, 1, 1)
