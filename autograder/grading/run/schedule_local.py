"""Local scheduling: grade jobs in at most N worker processes on this machine.

Each job runs `autograder.grading.run.worker.run` in a process of its own (its own process group, so a
deadline kills everything it started); the result comes back as JSON in a file and is handed to
on_result in the calling thread, which alone writes the gradebook. A worker dies with the process that
scheduled it (autograder.grading.run.lifetime), so a `grade` killed mid-batch leaves no grading running;
when on_result raises (the gradebook went away), the workers still running are killed before it propagates.
"""

import json
import multiprocessing as mp
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from autograder.grading.run.cgroups import release_cgroups
from autograder.grading.run.lifetime import die_with_parent


def _context():
    """fork where it is safe (Linux): workers start with nbgrader already imported."""
    if sys.platform.startswith("linux") and "fork" in mp.get_all_start_methods():
        return mp.get_context("fork")
    return mp.get_context("spawn")


def _worker(job, result_path, parent):
    os.setsid()  # its own process group, so a deadline kills everything it started
    die_with_parent(parent)  # ...which also takes it out of grade's: it must die with grade all the same
    from autograder.grading.run.worker import run

    try:
        result = run(job)
    except BaseException as error:  # noqa: BLE001 - recorded for this student, never raised into the batch
        result = _failed(job, f"the grading worker failed: {type(error).__name__}: {error}", 0.0, retry=True)
    Path(result_path).write_text(json.dumps(result))


def _failed(job, reason, seconds, retry=False):
    """A result that scores nothing; retry: the grading machinery failed, not the submission, so the next run
    grades this student again instead of keeping the failure."""
    return {
        "student": job["student"],
        "failure": reason,
        "scores": {},
        "notebooks": {},
        "findings": [],
        "seconds": seconds,
        "retry": retry,
    }


class _Running:
    def __init__(self, job, workspace, context):
        self.job = job
        self.result_path = Path(workspace) / f"result-{job['student']}.json"
        self.process = context.Process(target=_worker, args=(job, str(self.result_path), os.getpid()), daemon=False)
        self.started = time.monotonic()
        self.process.start()

    def elapsed(self):
        return time.monotonic() - self.started

    def kill(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.join(10)

    def result(self):
        if self.result_path.is_file():
            return json.loads(self.result_path.read_text())
        return _failed(
            self.job, f"the grading worker died (exit code {self.process.exitcode})", self.elapsed(), retry=True
        )


def schedule(jobs, workers, on_result, workspace):
    """Run jobs in at most `workers` processes at once; on_result(job, result) in this thread as they end."""
    context = _context()
    pending = list(jobs)
    running = []
    try:
        while pending or running:
            while pending and len(running) < workers:
                running.append(_Running(pending.pop(0), workspace, context))
            for item in list(running):
                if not item.process.is_alive():
                    item.process.join()
                    item.kill()  # anything the worker left behind in its process group
                    running.remove(item)
                    release_cgroups(Path(item.job["scratch"]) / "runtime")
                    on_result(item.job, item.result())
                    # what this student's grading wrote (its executed notebooks are installed by now) goes at
                    # once, not at the end of the batch: nothing of it stays on a shared /dev/shm
                    shutil.rmtree(item.job["scratch"], ignore_errors=True)
                elif item.elapsed() > item.job["deadline"]:
                    item.kill()
                    running.remove(item)
                    release_cgroups(Path(item.job["scratch"]) / "runtime")
                    on_result(
                        item.job,
                        _failed(
                            item.job,
                            f"grading stopped after the {item.job['deadline']} s limit for the whole submission",
                            item.elapsed(),
                        ),
                    )
            time.sleep(0.05)
    finally:
        for item in running:  # the batch stopped early: nothing of it keeps running
            item.kill()
            release_cgroups(Path(item.job["scratch"]) / "runtime")
