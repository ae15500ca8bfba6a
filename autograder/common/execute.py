"""Running a notebook in a fresh kernel that imports cs_lib from an overlay (trusted code only).

Used for the instructor's reference runs (`autograder verify`), for the student's self-check
(`autograder check`) and by the test suite. Untrusted submissions are executed by `grade`,
through nbgrader in a sandboxed kernel, never through this module.
"""

import copy
import os
import time
from pathlib import Path

from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from autograder.common.scoring import test_results

KERNEL_QUIET = "--IPKernelApp.log_level=ERROR"


def kernel_env(overlay=None, grading=False, extra=None):
    env = dict(os.environ)
    env.pop("NBGRADER_EXECUTION", None)
    if grading:
        env["NBGRADER_EXECUTION"] = "autograde"
    if overlay is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(overlay), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    # one BLAS thread per kernel unless the caller chose: oversubscribed spinning BLAS threads make
    # notebooks an order of magnitude slower on a busy machine
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    env.update(extra or {})
    return env


class Run:
    """An executed notebook with its test results and timing."""

    def __init__(self, notebook, seconds, failure=None):
        self.notebook = notebook
        self.seconds = seconds
        self.failure = failure
        self.results = test_results(notebook)

    @property
    def score(self):
        return sum(score for _, score, _, _ in self.results)

    @property
    def max_score(self):
        return sum(points for _, _, points, _ in self.results)

    def failed(self):
        return [(gid, summary) for gid, score, points, summary in self.results if score < points]

    def errors(self):
        """Errors raised by cells that are not tests (a broken notebook, not a failing test)."""
        found = []
        for cell in self.notebook.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code" or (meta.get("grade") and not meta.get("solution")):
                continue
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    found.append((cell.get("id"), f"{output.get('ename')}: {output.get('evalue')}"))
        return found


def run_notebook(notebook, cwd, overlay=None, grading=False, timeout=600, extra_env=None):
    """Execute a copy of notebook with cwd as its folder; errors are recorded, never raised."""
    notebook = copy.deepcopy(notebook)
    cwd = Path(cwd)
    cwd.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        allow_errors=True,
        interrupt_on_timeout=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        # ipykernel warns on stderr that its local TCP sockets are unencrypted: noise to a student
        extra_arguments=[KERNEL_QUIET],
    )
    started = time.perf_counter()
    failure = None
    try:
        client.execute(env=kernel_env(overlay, grading, extra_env), cwd=str(cwd))
    except (CellTimeoutError, DeadKernelError, RuntimeError) as error:
        failure = f"{type(error).__name__}: {error}"
    return Run(notebook, time.perf_counter() - started, failure)
