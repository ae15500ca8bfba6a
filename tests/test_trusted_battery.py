"""Evasion battery: cheats that would fool grading inside the student's own process earn nothing.

Points are decided by the trusted grader, which calls student code in a separate sandboxed process
and compares outside it. Each cheat is put into a zero-effort submission (functions that return
garbage) and into a correct one. A zero-effort submission with a cheat must earn exactly what the
zero-effort submission earns; a correct one with a cheat earns full marks at most, or is held for
review by the static scan.
"""

import textwrap

import pytest

import toy
from autograder.grading.intake.collect import collect
from autograder.grading.record.course_dir import init_course, roster_ids
from autograder.grading.run.batch import grade
from autograder.grading.run.sandbox import Limits, bwrap_works

pytestmark = pytest.mark.slow

FULL_MARKS = 7
CELL_TIMEOUT = 6

ZERO = """
def add(a, b):
    return 0


def scale(x, k):
    return np.zeros(3)
"""
CORRECT = """
def add(a, b):
    return a + b


def scale(x, k):
    return np.asarray(x, dtype=float) * k
"""
NEUTRALISE = (
    "{n: (lambda *args, **kwargs: None) for n in ('check_scalar', 'check_close', 'check_raises', 'check_true')}"
)

CHEATS = {
    # rebinding the check helpers and numpy through vars()
    "vars_rebind": f"""
import numpy, cs_lib.checks
vars(cs_lib.checks).update({NEUTRALISE})
vars(numpy)["allclose"] = lambda *args, **kwargs: True
""",
    # a module __dict__ reached without writing the name
    "dict_lookalike": f"""
import cs_lib.checks
getattr(cs_lib.checks, "__di" + "ct__").update({NEUTRALISE})
""",
    # object.__setattr__ instead of an assignment
    "object_setattr": """
import cs_lib.checks
for _name in ("check_scalar", "check_close", "check_raises"):
    try:
        object.__setattr__(cs_lib.checks, _name, lambda *args, **kwargs: None)
    except TypeError:
        type(cs_lib.checks).__setattr__(cs_lib.checks, _name, lambda *args, **kwargs: None)
""",
    # sys.modules reached without the word, replaced by a fake cs_lib.checks
    "sys_modules_hidden": f"""
import sys as _s
_fake = type(_s)("cs_lib.checks")
_fake.__dict__.update({NEUTRALISE})
_fake.CheckError = AssertionError
getattr(_s, "mod" + "ules")["cs_lib.checks"] = _fake
""",
    # an import hook that serves a fake cs_lib.checks to every later import
    "meta_path_finder": f"""
import sys as _s, importlib.abc as _abc, importlib.machinery as _mach


class _Loader(_abc.Loader):
    def create_module(self, spec):
        fake = type(_s)(spec.name)
        fake.__dict__.update({NEUTRALISE})
        fake.CheckError = AssertionError
        return fake

    def exec_module(self, module):
        pass


class _Finder(_abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        return _mach.ModuleSpec(name, _Loader()) if name == "cs_lib.checks" else None


_s.meta_path.insert(0, _Finder())
getattr(_s, "mod" + "ules").pop("cs_lib.checks", None)
""",
    # exception classes that claim to be every error a test might expect
    "exception_classes": """
import builtins


class _AnyError(TypeError, ValueError, KeyError, IndexError):
    pass


builtins.NotImplementedError = _AnyError
builtins.TypeError = _AnyError
""",
    # objects that pretend to be numbers or arrays
    "pretend_numbers": """
class _Pretend(float):
    def __eq__(self, other):
        return True

    def __array__(self, dtype=None, copy=None):
        return np.asarray(5.0)

    def __format__(self, spec):
        return "5"

    __hash__ = float.__hash__


class _PretendArray:
    def __array__(self, dtype=None, copy=None):
        return np.array([3.0, 6.0])

    def __eq__(self, other):
        return True

    def __float__(self):
        return 5.0


_real_add, _real_scale = None, None
""",
    # a number as a test cell's last expression, which nbgrader would read as partial credit
    "partial_credit": """
import cs_lib.checks
cs_lib.checks.check_scalar = lambda *args, **kwargs: 2
cs_lib.checks.check_close = lambda *args, **kwargs: 3
""",
    # reading the caller's frames for expected values
    "frame_inspection": """
import sys as _s


def _peek():
    frame = _s._getframe(2)
    found = []
    while frame is not None:
        found += [v for k, v in frame.f_locals.items() if "expect" in k or k in ("want", "reference")]
        frame = frame.f_back
    return found
""",
    # replies forged into the grading channel, and forged exported variables
    "forged_channel": """
import os as _os, struct as _struct, json as _json


def _forge(value):
    head = _json.dumps({"value": value, "seq": 1}).encode()
    body = _struct.pack("<Q", len(head)) + head + _struct.pack("<Q", 0)
    for fd in range(3, 40):
        try:
            _os.write(fd, _struct.pack("<Q", len(body)) + body)
        except OSError:
            pass


_outbox = _os.environ.get("CS_OUTBOX")
if _outbox:
    for _name in ("exports-toy-test_double.bin",):
        with open(_os.path.join(_outbox, _name), "wb") as _f:
            _f.write(b"\\xff" * 64)
""",
    # exiting early with a fake success message
    "early_exit": """
import os as _os, sys as _s
print("All tests passed! 7/7")
_s.stdout.flush()
if "ipykernel" not in _s.modules:
    _os._exit(0)
""",
    # spending the time limit right before a comparison
    "time_exhaustion": f"""
import time as _time
_time.sleep({CELL_TIMEOUT} - 1)
""",
    # zeroing the caller's arguments in place, so a reference computed from them after the call agrees
    "inputs_zeroed": """
def _zero(x):
    if isinstance(x, list):
        x[:] = [0] * len(x)
    elif isinstance(x, np.ndarray):
        x[...] = 0
""",
    # answers in big-endian byte order (an honest one must keep its values)
    "big_endian": "",
    # an answer of the wrong shape and 400 MB, which converting before the shape check would make 3.2 GB
    "huge_answer": "",
    # a reply nested 100,000 levels deep written into the grading channel
    "deep_reply": """
import os as _os, struct as _struct


def _forge_deep():
    head = b'{"seq": 1, "value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    body = _struct.pack("<Q", len(head)) + head + _struct.pack("<Q", 0)
    for fd in range(3, 40):
        try:
            _os.write(fd, _struct.pack("<Q", len(body)) + body)
        except OSError:
            pass
""",
    # reseeding the global generators (at import and in every call)
    "reseed": """
np.random.seed(0)
""",
}

# the zero-effort functions each cheat uses: garbage that the cheat tries to pass off as right
ZERO_BODIES = {
    "pretend_numbers": """
def add(a, b):
    return _Pretend(0.0)


def scale(x, k):
    return _PretendArray()
""",
    "frame_inspection": """
def add(a, b):
    found = _peek()
    return found[0] if found else 0


def scale(x, k):
    found = _peek()
    return found[0] if found else np.zeros(3)
""",
    "forged_channel": """
def add(a, b):
    _forge(12)
    return 0


def scale(x, k):
    _forge([3.0, 6.0])
    return np.zeros(3)
""",
    "exception_classes": """
def add(a, b):
    raise _AnyError("add: not implemented")


def scale(x, k):
    raise _AnyError("scale: not implemented")
""",
    "time_exhaustion": """
def add(a, b):
    _time.sleep(60)
    return 0


def scale(x, k):
    _time.sleep(60)
    return np.zeros(3)
""",
    "inputs_zeroed": """
def add(a, b):
    return 0


def scale(x, k):
    _zero(x)
    return np.zeros(len(x))
""",
    "big_endian": """
def add(a, b):
    return np.array(0, dtype=">f8")


def scale(x, k):
    return np.zeros(len(x), dtype=">f8")
""",
    "huge_answer": """
def add(a, b):
    return 0


def scale(x, k):
    return np.ones(400_000_000, dtype=bool)
""",
    "deep_reply": """
def add(a, b):
    _forge_deep()
    return 0


def scale(x, k):
    return np.zeros(len(x))
""",
    "reseed": """
def add(a, b):
    np.random.seed(0)
    return 0


def scale(x, k):
    np.random.seed(1)
    return np.zeros(len(x))
""",
}
# the correct functions of cheats whose correct variant does the cheat in its own body
CORRECT_BODIES = {
    "inputs_zeroed": """
def add(a, b):
    return a + b


def scale(x, k):
    result = np.asarray(x, dtype=float) * k
    _zero(x)
    return result
""",
    "big_endian": """
def add(a, b):
    return np.array(a + b, dtype=">f8")


def scale(x, k):
    return (np.asarray(x, dtype=float) * k).astype(">f8")
""",
    "reseed": """
def add(a, b):
    np.random.seed(0)
    return a + b


def scale(x, k):
    np.random.seed(1)
    return np.asarray(x, dtype=float) * k
""",
}


def student_module(cheat, bodies):
    return "import numpy as np\n" + textwrap.dedent(CHEATS.get(cheat, "")) + "\n" + textwrap.dedent(bodies)


@pytest.fixture(scope="module")
def evasion(tmp_path_factory):
    if not bwrap_works():
        from optional_tools import bwrap_absent

        bwrap_absent("the sandbox battery")
    root = tmp_path_factory.mktemp("evasion")
    course_dir = root / "course"
    students = {"zero_effort": (False, student_module(None, ZERO)), "correct": (True, student_module(None, CORRECT))}
    for cheat in CHEATS:
        students[f"{cheat}__zero"] = (False, student_module(cheat, ZERO_BODIES.get(cheat, ZERO)))
        students[f"{cheat}__correct"] = (True, student_module(cheat, CORRECT_BODIES.get(cheat, CORRECT)))
    roster = root / "roster.csv"
    roster.write_text("id\n" + "".join(f"{student}\n" for student in students))
    init_course(course_dir, toy.course(), roster=roster, cell_timeout=CELL_TIMEOUT)
    subs = root / "subs"
    for student, (solved, module) in students.items():
        toy.make_zip(
            subs / f"{student}.zip",
            notebook=toy.notebook(course_dir, solved=solved),
            module=module,
            answer="42\n" if solved else None,
        )
    collect(course_dir, toy.course(), "t1", subs, roster_ids(course_dir))
    limits = Limits(memory_mb=1024, processes=32, cpu_seconds=120, file_size_mb=64, workdir_mb=128)
    results, _ = grade(
        course_dir,
        toy.course(),
        "t1",
        jobs=2,
        limits=limits,
        cell_timeout=CELL_TIMEOUT,
        notebook_timeout=120,
        progress=False,
    )
    return {result.student: result for result in results}


def test_the_baselines_score_zero_and_full_marks(evasion):
    assert evasion["zero_effort"].score == 0, evasion["zero_effort"].reasons
    assert evasion["correct"].score == FULL_MARKS, evasion["correct"].reasons
    assert evasion["correct"].status == "graded"


@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_a_cheat_in_a_zero_effort_submission_earns_what_zero_effort_earns(evasion, cheat):
    result = evasion[f"{cheat}__zero"]
    assert result.score == evasion["zero_effort"].score, (result.score, result.status, result.reasons)


# cheats that break the student's own work (the code dies at import, sleeps through its time, or
# overwrites the notebook's exported variables): they may cost the cheater points, never gain any
# (or break the function's specification: a correct result that also zeroes its input changed its input)
SELF_DEFEATING = {"early_exit", "time_exhaustion", "forged_channel", "inputs_zeroed"}


@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_a_cheat_in_a_correct_submission_earns_full_marks_at_most_or_is_held_for_review(evasion, cheat):
    result = evasion[f"{cheat}__correct"]
    assert result.score <= FULL_MARKS, (result.score, result.reasons)
    if cheat not in SELF_DEFEATING:
        assert result.score == FULL_MARKS or result.status == "review", (result.score, result.status, result.reasons)
