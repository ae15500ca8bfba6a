"""The instructor's reference implementations, for hidden tests that judge a student's data with them.

    from autograder.grading.trusted.reference import reference_module
    models = reference_module("cs_lib.pytorch.models")   # e.g. to load a submitted checkpoint

Hidden tests run only in the trusted grading process (and in the course's own test suite), never in
a student's kernel, so they may use the reference. The module is loaded from solutions/cs_lib under a
private name; it never replaces the cs_lib module the test is judging.
"""

import importlib.util
import os
import sys
from pathlib import Path

from autograder.common import paths


def _solutions_cs_lib():
    return Path(os.environ.get("CS_SOLUTIONS_CS_LIB") or paths.SOLUTIONS_CS_LIB)


def reference_module(name):
    """The reference implementation of the student module `name` ("cs_lib.pytorch.models")."""
    parts = name.split(".")
    if parts[0] != "cs_lib" or len(parts) < 2:
        raise ValueError(f"{name!r} is not a cs_lib module")
    private = "_cs_reference." + ".".join(parts[1:])
    if private in sys.modules:
        return sys.modules[private]
    path = _solutions_cs_lib().joinpath(*parts[1:]).with_suffix(".py")
    if not path.is_file():
        raise ModuleNotFoundError(f"no reference implementation of {name} at {path}")
    spec = importlib.util.spec_from_file_location(private, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[private] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[private]
        raise
    return module


def reference_source(name):
    """The source text of the reference implementation of the student module `name`, or None."""
    parts = name.split(".")
    if parts[0] != "cs_lib" or len(parts) < 2:
        return None
    path = _solutions_cs_lib().joinpath(*parts[1:]).with_suffix(".py")
    return path.read_text() if path.is_file() else None
