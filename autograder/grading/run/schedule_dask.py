"""Cluster scheduling: grade jobs on a Dask distributed cluster, one task per student.

The TA's process packs every job as data (autograder.grading.run.transport): the inputs all students
share (grading template, course description, release notebooks, compiled cs_lib overlay) are
scattered once to the workers, and each task carries its student's submission, so no filesystem is
shared. Before anything is sent, every connected worker reports its installed course package
(autograder.grading.run.versions); one that differs stops the run, and a worker that joins later refuses
each task, naming what differs.

On a worker a task unpacks its inputs into the worker's own folder and runs
`autograder.grading.run.worker.run` in a process of its own (its own process group, killed at the
deadline), forked from a helper process that has imported the grader once. The sandbox is decided
there (bubblewrap when usable there, as `--sandbox` asks) and the worker's protections come back
with the result, executed notebooks included as bytes. on_result(job, result) runs in the calling
thread as results arrive, so the TA's process stays the only gradebook writer. When a worker dies
mid-task, Dask runs the task again on another worker; each student's result is handed over once. When
the TA's process is gone (killed, or stopped by its gradebook), the scheduler cancels its tasks and each
worker kills the grading it was running for them.
"""

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from autograder.common.course import CourseError
from autograder.grading.run import transport, versions
from autograder.grading.run.cgroups import release_cgroups
from autograder.grading.run.lifetime import die_with_parent
from autograder.grading.run.sandbox import bwrap_works, protections
from autograder.grading.run.schedule_local import _failed
from autograder.grading.run.worker import scratch_root

WORKER_WAIT_SECONDS = 60


class WorkerRefused(RuntimeError):
    """This worker's course package differs from the TA's; it does not grade with other code."""


def _distributed():
    try:
        import distributed
    except ImportError:
        raise CourseError(
            "grading on a cluster needs Dask distributed on this machine and on every worker: "
            "pip install 'cs-lib[cluster]' (or pip install distributed)"
        ) from None
    return distributed


def connect(address, timeout=10):
    """A Dask client for the scheduler at address, with at least one worker connected."""
    distributed = _distributed()
    try:
        client = distributed.Client(address, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise CourseError(
            f"cannot reach the Dask scheduler at {address} ({error}); start one with `dask scheduler` "
            f"and workers with `dask worker {address}`"
        ) from None
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
    except TimeoutError:
        client.close()
        raise CourseError(
            f"no Dask worker joined the scheduler at {address} within {WORKER_WAIT_SECONDS} s; "
            f"start them with `dask worker {address}`"
        ) from None
    return client


def check_workers(client):
    """Raise CourseError naming every connected worker whose course package differs from this machine's."""
    expected = versions.installed()
    reports = client.run(versions.installed, on_error="return")
    problems = []
    for address, report in sorted(reports.items()):
        if isinstance(report, BaseException):
            problems.append(f"the worker {address} could not report it ({type(report).__name__}: {report})")
            continue
        lines = versions.differences(report, expected, them=f"the worker {address}")
        if lines:
            problems.append("; ".join(lines))
    if problems:
        raise CourseError(
            "a Dask worker has another course package installed than this machine, so nothing was graded: "
            + "; ".join(problems)
            + ". Install the TA's checkout of the course on them (pip install -e .[cluster]) or stop them."
        )


def _combined(seen):
    """Protections in force across workers: one missing on any worker is missing, naming those workers."""
    merged = {}
    for address, rows in seen.items():
        for name, active, how in rows:
            entry = merged.setdefault(name, [True, how, []])
            if not active:
                entry[0] = False
                entry[1] = how
                entry[2].append(address)
    return [
        (name, active, how if active else f"{how} (on {', '.join(sorted(workers))})")
        for name, (active, how, workers) in merged.items()
    ]


class Cluster:
    """A connection to the Dask cluster at address whose workers all have this machine's course package."""

    def __init__(self, address):
        self.distributed = _distributed()
        self.client = connect(address)
        try:
            check_workers(self.client)
        except BaseException:
            self.client.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        # the scheduler forgets the tasks of a closed client: workers stop gradings nobody waits for
        self.client.close()

    def sandboxes(self, sandbox="auto"):
        """{use_bwrap} the connected workers grade with, as `sandbox` asks (both where none answers)."""
        if sandbox != "auto":
            return {sandbox == "bwrap"}
        reports = self.client.run(_bwrap_usable, on_error="return")
        found = {bool(report) for report in reports.values() if not isinstance(report, BaseException)}
        return found or {True, False}

    def grade(self, jobs, on_result, workspace, sandbox="auto"):
        """Grade jobs on the cluster; on_result(job, result) here as each result arrives.

        Returns the protections in force: [(protection, active, how)], each missing one naming the workers.
        """
        client = self.client
        blobs, tasks = transport.pack_jobs(jobs)
        shared = sorted({ref["sha256"] for task in tasks for ref in task["inputs"].values() if ref["shared"]})
        scattered = {}
        if shared:
            futures = client.scatter([blobs[sha] for sha in shared], broadcast=True, hash=False)
            scattered = dict(zip(shared, futures))
        expected = versions.installed()
        pending = {}
        for job, task in zip(jobs, tasks):
            inputs = {
                ref["sha256"]: scattered.get(ref["sha256"], blobs[ref["sha256"]]) for ref in task["inputs"].values()
            }
            future = client.submit(
                run_task,
                task,
                inputs,
                expected,
                sandbox,
                key=f"grade-{job['assignment']}-{job['student']}-{uuid.uuid4().hex[:8]}",
                pure=False,
            )
            pending[future] = job
        seen = {}
        for future in self.distributed.as_completed(list(pending), loop=client.loop):
            job = pending.pop(future)
            try:
                result = future.result()
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as error:  # noqa: BLE001 - a refusal, a worker lost too often: this student only
                result = _failed(job, f"not graded on the cluster: {type(error).__name__}: {error}", 0.0)
                result["not_graded"] = True  # the gradebook keeps what it had for this student
            else:
                where = result.get("worker", {})
                seen[where.get("address", "?")] = where.get("protections", [])
            on_result(job, transport.unpack_result(result, Path(workspace) / "executed" / job["student"]))
        return _combined(seen)


# --- on the worker ------------------------------------------------------------------------------


def run_task(task, blobs, expected, sandbox):
    """Grade one student on this Dask worker; the result, with executed notebooks as bytes."""
    from distributed import get_worker

    worker = get_worker()
    student = task["job"]["student"]
    lines = versions.differences(expected, us=f"the worker {worker.address}")
    if lines:
        raise WorkerRefused(
            f"the Dask worker {worker.address} refuses to grade {student} with another course package than "
            "the TA's: " + "; ".join(lines) + ". Install the TA's checkout of the course there (or stop that worker)."
        )
    # a short scratch path of this machine: the kernel's IPC sockets live in it (Unix socket paths are short)
    root = scratch_root()
    _remove_stale_scratch(root)
    scratch = Path(tempfile.mkdtemp(prefix=f"cs-grade-{os.getpid()}-{student}-", dir=root))
    try:
        job = transport.unpack_job(task, blobs, scratch, cache=Path(worker.local_directory) / "cs-grading-inputs")
        job["use_bwrap"] = _bwrap_usable() if sandbox in ("auto", "bwrap") else False
        if sandbox == "bwrap" and not job["use_bwrap"]:
            reason = f"bubblewrap is not usable on the Dask worker {worker.address} (install it there)"
            result = _failed(job, reason, 0, retry=True)
        else:
            result = _launch(job, scratch, _wanted(worker))
        result["worker"] = {
            "address": worker.address,
            "protections": protections(job["use_bwrap"]),
            "use_bwrap": job["use_bwrap"],
            "inputs": {key: job[key] for key in task["inputs"]},
        }
        return transport.pack_result(result)
    finally:
        release_cgroups(scratch / "work" / "runtime")
        shutil.rmtree(scratch, ignore_errors=True)


def _wanted(worker):
    """A test of whether the scheduler still wants the task running in this thread: once its client is gone
    (the TA's `grade` was killed, or stopped), the worker marks it cancelled and its grading can stop."""
    key = worker.get_current_task()

    def wanted():
        task = worker.state.tasks.get(key)
        return task is not None and task.state != "cancelled"

    return wanted


def _remove_stale_scratch(root):
    """Remove scratch folders left by worker processes on this machine that died mid-task."""
    for folder in Path(root or tempfile.gettempdir()).glob("cs-grade-*-*"):
        owner = folder.name.split("-")[2]
        if owner.isdigit() and int(owner) != os.getpid() and not _alive(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)


@functools.lru_cache(maxsize=1)
def _bwrap_usable():
    return bwrap_works()


def _local_resources():
    """This machine's dataset and matplotlib font cache, as local grading names them."""
    from autograder.grading.run.batch import _matplotlib_font_cache, grading_data_dir

    # the embedded dataset only (made on this machine's first task), read-only inside every sandbox
    return {"data_dir": str(grading_data_dir()), "read_only_files": _matplotlib_font_cache()}


_FORKSERVER = {"process": None}
_FORKSERVER_LOCK = threading.Lock()


def _grading_environment():
    """This worker's environment without what Dask's nanny set for its own worker process.

    The nanny tunes its worker (MALLOC_TRIM_THRESHOLD_, one OpenMP/BLAS thread: Dask's
    distributed.nanny.pre-spawn-environ); grading processes run with the environment local grading has,
    and the sandbox sets the kernels' own thread limits.
    """
    import dask

    env = dict(os.environ)
    for key, value in (dask.config.get("distributed.nanny.pre-spawn-environ", None) or {}).items():
        if env.get(key) == str(value):
            del env[key]
    return env


def _start(job_path, result_path, log_path):
    """Ask this worker's fork server for a grading process; returns its pid (also its process group).

    A fork server that has died (killed by hand, out of memory) is started again once.
    """
    request = json.dumps([str(job_path), str(result_path), str(log_path)]) + "\n"
    with _FORKSERVER_LOCK:
        for _ in range(2):
            server = _FORKSERVER["process"]
            if server is None or server.poll() is not None:
                server = subprocess.Popen(
                    [sys.executable, "-m", "autograder.grading.run.schedule_dask"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    bufsize=1,
                    env=_grading_environment(),
                )
                _FORKSERVER["process"] = server
            try:
                server.stdin.write(request)
                server.stdin.flush()
                line = server.stdout.readline()
            except OSError:
                line = ""
            if line.strip().isdigit():
                return int(line)
            server.kill()
            server.wait()
    raise RuntimeError("the grading fork server on this worker stopped twice; see the worker's log")


def _alive(pid):
    """The process exists and is not a zombie (a dead worker's process may wait long to be reaped)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _launch(job, scratch, wanted=None):
    """worker.run(job) in a grading process of its own, within job["deadline"] seconds, for as long as
    wanted() (when given) says the result is still waited for."""
    job_path, result_path, log_path = scratch / "job.json", scratch / "result.json", scratch / "grading.log"
    job_path.write_text(json.dumps(job))
    started = time.monotonic()
    pid = _start(job_path, result_path, log_path)
    while not result_path.is_file() and _alive(pid):
        if wanted is not None and not wanted():
            _kill_group(pid)
            return _failed(job, "nobody waits for this grading any more", time.monotonic() - started, retry=True)
        if time.monotonic() - started > job["deadline"]:
            _kill_group(pid)
            return _failed(
                job,
                f"grading stopped after the {job['deadline']} s limit for the whole submission",
                time.monotonic() - started,
            )
        time.sleep(0.05)
    _kill_group(pid)  # anything the grading process left behind in its process group
    if result_path.is_file():
        return json.loads(result_path.read_text())
    tail = log_path.read_text(errors="replace")[-500:] if log_path.is_file() else ""
    return _failed(job, f"the grading process died without a result. {tail}".strip(), time.monotonic() - started)


# --- the fork server: `python -m autograder.grading.run.schedule_dask`, started by _start ----------


def _grade_in_child(job_path, result_path, log_path, parent):
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()  # its own process group, so a deadline kills everything it started
        die_with_parent(parent)  # a killed worker (and its fork server) leaves no grading behind
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        from autograder.grading.run.worker import run

        job = json.loads(Path(job_path).read_text())
        try:
            job.update(_local_resources())
            result = run(job)
        except BaseException as error:  # noqa: BLE001 - recorded for this student, never raised into the batch
            result = _failed(job, f"the grading worker failed: {type(error).__name__}: {error}", 0.0)
        partial = Path(str(result_path) + ".partial")
        partial.write_text(json.dumps(result))
        partial.rename(result_path)
    finally:
        os._exit(0)


def serve():
    """Read [job, result, log] lines on stdin; fork a grading process for each and print its pid.

    Forking from this single-threaded process (with the grader already imported) costs milliseconds,
    where a fresh interpreter would spend over a second importing nbgrader. When stdin closes (the
    Dask worker stopped or died) every grading process still running is killed.
    """
    import nbgrader.apps  # noqa: F401 - imported once, inherited by every grading process

    import autograder.grading.run.batch  # noqa: F401
    import autograder.grading.run.worker  # noqa: F401
    import cs_lib.datasets  # noqa: F401

    _local_resources()  # the dataset made and matplotlib imported once, before any fork
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # finished grading processes are reaped by the kernel
    children = []
    for line in sys.stdin:
        job_path, result_path, log_path = json.loads(line)
        sys.stdout.flush()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            _grade_in_child(job_path, result_path, log_path, parent)
        print(pid, flush=True)
        children = [child for child in children if _alive(child)] + [pid]
    for child in children:
        _kill_group(child)


if __name__ == "__main__":
    serve()
