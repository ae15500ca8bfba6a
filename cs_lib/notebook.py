"""Notebook support: the setup every assignment runs first, and sizing for grading runs.

from cs_lib.notebook import setup, scaled
ENV = setup("a3")                 # checks the environment, enables autoreload, picks the device
num_iters = scaled(1500, 100)     # 1500 normally, 100 while nbgrader grades (NBGRADER_EXECUTION)
show_effect(adam_loss < sgd_loss, "Adam's final training loss is below SGD's")
"""

import importlib.util
import os
import platform
import sys
from dataclasses import dataclass, field

GRADING = bool(os.environ.get("NBGRADER_EXECUTION"))
NEEDS_TORCH = {"a5"}


def grading():
    """True while nbgrader executes the notebook (autograde or validate)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def scaled(full, quick):
    """full normally; quick while grading, so heavy cells (training, sweeps) stay fast."""
    return quick if grading() else full


NOT_SEEN = "Not seen in this run:"


def show_effect(holds, statement):
    """State an effect the numbers above are meant to show, only when they do show it.

    The sentence next to a figure must be true of the figure: a run too short to show an effect says
    so instead of claiming it. Returns whether it held. (The course's tests run every notebook and
    require that no stated effect is missing.)
    """
    holds = bool(holds)
    if holds:
        print(f"As expected: {statement}.")
    else:
        print(f"{NOT_SEEN} {statement} (a short or unlucky run can miss it; run the cell again with more steps).")
    return holds


def on_colab():
    return "google.colab" in sys.modules


@dataclass
class Environment:
    assignment: str = None
    colab: bool = False
    grading: bool = False
    device: str = "cpu"
    dataset: str = "embedded"
    im2col_backend: str = "numpy"
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def __str__(self):
        where = "Colab" if self.colab else "this machine"
        status = "ready" if not self.problems else "missing: " + "; ".join(self.problems)
        return (
            f"{self.assignment or 'course'} on {where}: Python {platform.python_version()}, dataset {self.dataset}, "
            f"device {self.device}, im2col {self.im2col_backend}; {status}"
        )


def _select_device():
    if "torch" not in sys.modules and importlib.util.find_spec("torch") is None:
        return "cpu"
    from cs_lib.pytorch.device import select_device

    return select_device().type


def _enable_autoreload():
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    try:
        shell.run_line_magic("load_ext", "autoreload")
        shell.run_line_magic("autoreload", "2")
    except Exception:  # autoreload is a convenience; a kernel without it still works
        return


def _colab_data_dir():
    """On Colab the data lives on the runtime's fast local disk, not on Drive."""
    if not os.environ.get("CS_DATA_DIR"):
        os.environ["CS_DATA_DIR"] = os.path.join(os.environ.get("CS_COLAB_ROOT", "/content"), "cs_data")


def _fetch_cifar10(env, timeout=30):
    """Download CIFAR-10 once (md5-verified); offline, fall back to the embedded dataset and say so."""
    import socket

    from cs_lib.datasets import DatasetError, data_dir, download_cifar10
    from cs_lib.datasets.download import CIFAR10_URL

    try:
        socket.setdefaulttimeout(timeout)
        download_cifar10(data_dir(), url=os.environ.get("CS_CIFAR10_URL", CIFAR10_URL))
    except DatasetError as error:
        env.notes.append(f"CIFAR-10 unavailable ({str(error).split('.')[0]}); using the embedded offline dataset")
    finally:
        socket.setdefaulttimeout(None)


def setup(assignment=None, autoreload=True, verbose=None, fetch_data=None):
    """Check what the assignment needs, enable autoreload and pick the device; print one summary line.

    On Colab (and whenever fetch_data is True) it also downloads CIFAR-10 unless it is already
    there; offline it falls back to the embedded dataset. Elsewhere it never downloads anything.
    """
    import cs_lib.checks  # noqa: F401  binds the test cells' check helpers before any student code runs

    env = Environment(assignment=assignment, colab=on_colab(), grading=grading())
    verbose = not env.grading if verbose is None else verbose
    fetch_data = (env.colab and not env.grading) if fetch_data is None else fetch_data
    if env.colab:
        _colab_data_dir()
    for module in ("numpy", "matplotlib"):
        if importlib.util.find_spec(module) is None:
            env.problems.append(f"{module} (run the setup command in README.md)")
    if assignment in NEEDS_TORCH and importlib.util.find_spec("torch") is None:
        env.problems.append("torch: pip install -e '.[torch]'")
    from cs_lib import fast_im2col

    env.im2col_backend = fast_im2col.BACKEND
    if env.im2col_backend != "cython":
        env.problems.append("the compiled im2col extension (install a C compiler, then `pip install -e .` again)")
    if fetch_data:
        _fetch_cifar10(env)
    from cs_lib.datasets import dataset_folder

    _, env.dataset = dataset_folder()
    # torch takes seconds to import: only the assignments that use it pay for it
    env.device = _select_device() if env.colab or assignment in NEEDS_TORCH or "torch" in sys.modules else "cpu"
    if autoreload and not env.grading:
        _enable_autoreload()
    if verbose:
        print(env)
        for note in env.notes:
            print(f"note: {note}")
    return env
