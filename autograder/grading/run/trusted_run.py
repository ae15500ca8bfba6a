"""Running the trusted tests of one submission: the runner process here, the call server in the sandbox.

    tests = trusted_tests(source_folder, assignment)          # every test cell, hidden parts included
    summary = run_trusted(tests, student_modules=..., student_overlay=..., trusted_overlay=..., ...)
    summary["tests"]["svm_naive"]   # {"score", "points", "passed", "message", "checked", "seconds"}

The runner (runner.py) imports cs_lib from the trusted overlay -- the course's provided code, the
references of earlier assignments and the starter stubs of this one, never a student's file -- and
reaches the student's modules only through the call server, which runs in the sandbox with the
student's overlay, the same limits as the notebook kernel, no network and no view of the course.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import nbformat

from autograder.common.sources import BEGIN_HIDDEN, END_HIDDEN
from autograder.grading.run.cgroups import cgroups_usable, parent_cgroups, release_cgroups
from autograder.grading.run.lifetime import die_with_parent
from autograder.grading.run.sandbox import Limits, limit_this_process, write_profile
from autograder.grading.trusted.judging import DEFAULT_MAX_BYTES
from autograder.grading.trusted.remote import exit_cause
from autograder.grading.trusted.sandboxed.wire import archive_fits

RUNNER_MODULE = "autograder.grading.trusted.runner"


def strip_hidden_tests(path):
    """Rewrite an nbgrader source notebook without the hidden parts of its test cells, exactly as
    nbgrader's ClearHiddenTests does for the release (so cell checksums agree with the release)."""
    notebook = nbformat.read(str(path), as_version=4)
    for cell in notebook.cells:
        if cell.get("cell_type") != "code" or BEGIN_HIDDEN not in cell.get("source", ""):
            continue
        kept, hidden = [], False
        for line in cell.source.split("\n"):
            if BEGIN_HIDDEN in line:
                hidden = True
            elif END_HIDDEN in line:
                hidden = False
            elif not hidden:
                kept.append(line)
        cell.source = "\n".join(kept)
    nbformat.write(notebook, str(path))


def module_name(student_file):
    """ "cs_lib/classifiers/linear_svm.py" -> "cs_lib.classifiers.linear_svm"."""
    return student_file.removesuffix(".py").replace("/", ".")


def trusted_tests(source_folder, assignment):
    """[{"grade_id", "points", "source", "reads", "notebook"}] of every test cell of the assignment's
    source notebooks (nbgrader's source version: visible and hidden parts), in notebook order."""
    tests = []
    for name in assignment.notebooks:
        notebook = nbformat.read(str(Path(source_folder) / f"{name}.ipynb"), as_version=4)
        for cell in notebook.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.get("cell_type") != "code" or not meta.get("grade") or meta.get("solution"):
                continue
            tests.append(
                {
                    "grade_id": meta["grade_id"],
                    "points": float(meta.get("points", 0)),
                    "source": cell.get("source", ""),
                    "reads": list(cell.get("metadata", {}).get("reads", [])),
                    "notebook": name,
                }
            )
    return tests


def failed_summary(tests, reason):
    return {
        "tests": {
            t["grade_id"]: {"points": t["points"], "score": 0.0, "passed": False, "message": reason, "checked": []}
            for t in tests
        },
        "restarts": 0,
        "seconds": 0.0,
        "failure": reason,
    }


class TrustedRun:
    """The trusted runner of one submission, started at once.

    Tests that only call the student's code run straight away, beside the notebook's kernel; tests that
    judge notebook variables (reads=[...]) wait until the kernel has exported them, just before their
    cell, or until notebook_done() says it got no further.
    result() waits for the runner and returns its summary (never raises for the student).
    """

    def __init__(
        self,
        tests,
        *,
        student_modules,
        student_overlay,
        trusted_overlay,
        data_dir,
        scratch,
        limits=None,
        use_bwrap=False,
        exports=None,  # {grade id: the file the kernel exports that test's variables to}
        extra_files=None,
        timeout=120,
        read_only_files=None,
        changes_in_place=None,  # {"cs_lib.optim.sgd": ["config"]}: course.toml's [changes_in_place]
        max_extra_file_bytes=None,
    ):
        self.tests = tests
        self.scratch = scratch = Path(scratch)
        self.runtime = runtime = scratch / "runtime"
        server_work, work = scratch / "server-work", scratch / "work"
        for folder in (runtime, server_work, work):
            folder.mkdir(parents=True, exist_ok=True)
        # the limit the tests' own loader applies when grading passes none (judging.max_extra_file_bytes)
        limit = int(max_extra_file_bytes or DEFAULT_MAX_BYTES)
        for name, path in (extra_files or {}).items():
            # the call server opens a submitted checkpoint for the hidden tests; a visible part may open it
            # here too, so here it goes only if nothing in it inflates when read (a deflated record of 1.5 MB
            # became 1.6 GB in this process)
            folders = (work, server_work) if archive_fits(path, limit) else (server_work,)
            for folder in folders:
                target = folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
                target.chmod(0o444)
        profile = scratch / "server-profile.json"
        limits = limits or Limits()
        write_profile(
            profile,
            workdir=server_work,
            runtime_dir=runtime,
            overlay=student_overlay,
            data_dir=None,  # the call server needs no dataset: tests send it the data they judge with
            limits=limits,
            use_bwrap=use_bwrap,
            read_only_files=read_only_files,
            mode="server",
            cgroup_parents=parent_cgroups() if cgroups_usable() else None,
        )
        self.go = scratch / "notebook-done"
        self.result_path = scratch / "trusted-result.json"
        spec = {
            "tests": tests,
            "student_modules": sorted(student_modules),
            "server_argv": [sys.executable, "-m", "autograder.grading.run.sandbox", "--server", str(profile)],
            "server_log": str(runtime / "server-stderr.log"),
            "exports": {name: str(path) for name, path in (exports or {}).items()},
            "notebook_done": str(self.go),
            "timeout": timeout,
            "result": str(self.result_path),
            "changes_in_place": {key: list(value) for key, value in (changes_in_place or {}).items()},
        }
        (scratch / "trusted-spec.json").write_text(json.dumps(spec))
        env = dict(os.environ)
        env.update(
            PYTHONPATH=os.pathsep.join([str(trusted_overlay), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            NBGRADER_EXECUTION="autograde",
            MPLBACKEND="Agg",
            OMP_NUM_THREADS="1",
            OPENBLAS_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
            PYTHONDONTWRITEBYTECODE="1",
        )
        if data_dir:
            env["CS_DATA_DIR"] = str(data_dir)
        if max_extra_file_bytes:
            env["CS_MAX_EXTRA_FILE_BYTES"] = str(int(max_extra_file_bytes))
        # the runner never runs student code, but what student code sends it could still be large: it gets
        # the kernel's limits (memory cgroup or address space, CPU seconds) in groups of its own, beside the
        # call server's, released with them in result()
        runner_profile = scratch / "runner-profile.json"
        write_profile(
            runner_profile,
            workdir=work,
            runtime_dir=runtime,
            overlay=trusted_overlay,
            data_dir=data_dir,
            limits=replace(limits, processes=limits.processes + 16),
            use_bwrap=False,
            mode="runner",
        )
        self.budget = timeout * max(1, len(tests)) + 60
        self.log = open(scratch / "runner.log", "w+")  # noqa: SIM115 - closed in result()
        self.process = subprocess.Popen(
            [sys.executable, "-m", RUNNER_MODULE, str(scratch / "trusted-spec.json")],
            cwd=work,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=_limited(runner_profile, os.getpid()) if sys.platform.startswith("linux") else None,
        )
        self.started = time.monotonic()

    def notebook_done(self):
        """The kernel has finished (and exported what stateful tests read, as far as it got)."""
        self.go.touch()

    def result(self):
        self.notebook_done()
        try:
            self.process.wait(max(1.0, self.budget - (time.monotonic() - self.started)))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return failed_summary(self.tests, f"trusted grading stopped after {self.budget} s")
        finally:
            release_cgroups(self.runtime)
        self.log.seek(0)
        tail = self.log.read().strip().splitlines()[-3:]
        self.log.close()
        if self.process.returncode != 0 or not self.result_path.is_file():
            # a runner killed at its memory limit writes nothing: its exit says why
            said = f": {' | '.join(tail)}" if tail else ""
            return failed_summary(
                self.tests, f"trusted grading failed: the trusted runner {exit_cause(self.process.returncode)}{said}"
            )
        return json.loads(self.result_path.read_text())


def _limited(profile_path, parent):
    """preexec_fn of the trusted runner: dies with its parent (the worker), then takes its limits."""
    profile = json.loads(Path(profile_path).read_text())

    def preexec():
        die_with_parent(parent)
        limit_this_process(profile)

    return preexec


def run_trusted(tests, **options):
    """Run the tests against a student's overlay at once and wait for them (see TrustedRun)."""
    return TrustedRun(tests, **options).result()
