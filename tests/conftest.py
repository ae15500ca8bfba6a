"""Test-suite configuration: which cs_lib implementation the tests import.

The graded functions are tested through `import cs_lib...`. By default that is the instructor's
reference (solutions/cs_lib swapped into a private copy of cs_lib, put first on sys.path), so CI
checks the reference. Students check their own work with `CS_IMPL=student pytest -m a1`, which
imports the cs_lib in the checkout, stubs and all.
"""

import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

# one BLAS/OpenMP thread per test process unless the caller chose (before numpy or torch is imported):
# xdist runs one process per core beside grading subprocesses (one thread each already), and spinning
# BLAS threads on a busy machine made an in-process training fixture 2.3x slower (40 s against 17 s with
# both cores loaded)
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
HYPOTHESIS_SEED = "CS_HYPOTHESIS_SEED"  # the run's seed, passed from pytest to its xdist workers
IMPLEMENTATION = os.environ.get("CS_IMPL", "reference" if (REPO / "solutions" / "cs_lib").is_dir() else "student")

if IMPLEMENTATION not in ("reference", "student"):
    raise pytest.UsageError(f"CS_IMPL must be 'reference' or 'student', got {IMPLEMENTATION!r}")

if IMPLEMENTATION == "reference":
    if "cs_lib" in sys.modules:
        raise RuntimeError("cs_lib was imported before tests/conftest.py could select the reference implementation")
    from autograder.common.course import load_course
    from autograder.grading.run.overlay import reference_overlay

    _OVERLAY = Path(tempfile.mkdtemp(prefix="cs_lib_reference_"))
    reference_overlay(_OVERLAY, load_course())
    sys.path.insert(0, str(_OVERLAY))
    os.environ["PYTHONPATH"] = os.pathsep.join([str(_OVERLAY), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    import cs_lib

    if not Path(cs_lib.__file__).is_relative_to(_OVERLAY):
        raise pytest.UsageError(
            "cs_lib is installed in setuptools' strict editable mode, which hides the reference copy the tests "
            "use; reinstall it with `pip install -e . --config-settings editable_mode=compat` (setup.sh does)"
        )


def register_assignment_markers(config):
    """One marker per assignment of course.toml (`pytest -m a3`), so that a new assignment's tests collect
    under --strict-markers without an edit to pyproject.toml."""
    from autograder.common.course import CourseError, load_course

    seen = set()
    for course_file in (REPO / "solutions" / "course.toml", os.environ.get("CS_COURSE_FILE")):
        if not course_file or not Path(course_file).is_file():
            continue
        try:
            assignments = load_course(course_file).assignments
        except CourseError:
            continue  # the test that reads the course reports it
        for assignment in assignments:
            if assignment.id not in seen:
                seen.add(assignment.id)
                config.addinivalue_line("markers", f"{assignment.id}: {assignment.title}")


def choose_hypothesis_examples(config):
    """Property tests that a run can repeat. Under CI (env CI set) the examples are derandomized: each test's
    come from a hash of the test, the same on every run, and no example database is read. Elsewhere they are
    drawn from one seed per run, printed in the report header (`--hypothesis-seed=N` repeats that run); the
    xdist workers take the seed the controller chose, from the environment."""
    from hypothesis import settings

    settings.register_profile("cs-ci", derandomize=True, database=None, print_blob=True)
    settings.register_profile("cs-dev", print_blob=True)
    if os.environ.get("CI") and config.getoption("hypothesis_seed") is None:
        settings.load_profile("cs-ci")
        return
    settings.load_profile("cs-dev")
    if config.getoption("hypothesis_seed") is None:
        config.option.hypothesis_seed = os.environ.setdefault(HYPOTHESIS_SEED, str(random.randrange(2**32)))


def hypothesis_header(config):
    from hypothesis import settings

    if settings.default.derandomize:
        return "hypothesis: derandomized (CI is set): every run draws the same examples"
    seed = config.getoption("hypothesis_seed")
    return f"hypothesis seed: {seed} (repeat this run's examples with --hypothesis-seed={seed})"


def expect_no_bwrap():
    """CS_EXPECT_NO_BWRAP=1 (.ci/run's second run, a failing bwrap first on PATH): the run must really be one
    without a usable bubblewrap, or it would prove nothing about a laptop without it."""
    if os.environ.get("CS_EXPECT_NO_BWRAP") == "1":
        from autograder.grading.run.sandbox import bwrap_works

        if bwrap_works():
            raise pytest.UsageError("CS_EXPECT_NO_BWRAP=1 but bubblewrap works here: put a failing bwrap first on PATH")
        return "bubblewrap: made unusable (CS_EXPECT_NO_BWRAP=1): grading runs without the sandbox's namespaces"
    return None


@pytest.hookimpl(tryfirst=True)  # before hypothesis' own plugin reads --hypothesis-seed
def pytest_configure(config):
    register_assignment_markers(config)
    choose_hypothesis_examples(config)
    config._cs_no_bwrap = expect_no_bwrap()


def pytest_report_header(config):
    import cs_lib
    from cs_lib import fast_im2col

    return [
        f"cs_lib implementation: {IMPLEMENTATION} ({Path(cs_lib.__file__).parent}); im2col backend: {fast_im2col.BACKEND}",
        hypothesis_header(config),
        *([config._cs_no_bwrap] if getattr(config, "_cs_no_bwrap", None) else []),
    ]


def pytest_unconfigure(config):
    if IMPLEMENTATION == "reference":
        shutil.rmtree(_OVERLAY, ignore_errors=True)


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(231)
