"""The static tampering scan: what it flags, and what ordinary course code it leaves alone."""

import pytest

from autograder.grading.intake.integrity import scan_source


@pytest.mark.parametrize(
    "source, expected",
    [
        ("import numpy as np\nnp.allclose = lambda *a, **k: True\n", "rebinds np.allclose"),
        ("import cs_lib.checks\ncs_lib.checks.check_close = print\n", "rebinds cs_lib.checks.check_close"),
        ("from cs_lib import checks\nsetattr(checks, 'check_close', print)\n", "calls setattr()"),
        ("import ctypes\n", "imports ctypes"),
        ("import gc\nobjs = gc.get_objects()\n", "imports gc"),
        ("exec('x = 1')\n", "calls exec()"),
        ("import sys\nsys.modules['numpy'] = None\n", "uses sys.modules"),
        ("import sys\nf = sys._getframe(1)\n", "calls sys._getframe()"),
        ("get_ipython().events.register('post_run_cell', print)\n", "calls get_ipython()"),
        ("def f():\n    pass\nf.__code__ = (lambda: 1).__code__\n", "assigns to f.__code__"),
        ("import os\nos.system('ls')\n", "calls os.system()"),
    ],
)
def test_tampering_patterns_are_flagged(source, expected):
    findings = [str(f) for f in scan_source(source, "cs_lib/layers.py")]
    assert any(expected in finding for finding in findings), findings


@pytest.mark.parametrize(
    "source",
    [
        "import numpy as np\n\ndef loss(W, X):\n    scores = X @ W\n    return np.maximum(0, scores).sum()\n",
        "import torch\n\ndef evaluate(model, x):\n    model.eval()\n    return model(x)\n",
        "class Net:\n    def __init__(self):\n        self.params = {}\n        self.__doc__ = 'a net'\n",
        "def f(obj):\n    return type(obj).__name__, obj.__class__.__name__\n",
        "import numpy as np\nrng = np.random.default_rng(0)\nW = rng.standard_normal((3, 3))\n",
    ],
)
def test_ordinary_student_code_is_not_flagged(source):
    assert scan_source(source, "cs_lib/x.py") == []


def test_lines_the_course_wrote_are_never_findings():
    source = "import numpy as np\nnp.seterr = print\n"
    assert scan_source(source, "cs_lib/x.py", frozenset({"np.seterr = print"})) == []
    assert scan_source(source, "cs_lib/x.py") != []
