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


def _student_module_names():
    """cs_lib module names students write (those solutions/cs_lib has a reference of)."""
    root = _solutions_cs_lib()
    return {
        "cs_lib." + ".".join(path.relative_to(root).with_suffix("").parts)
        for path in root.rglob("*.py")
        if "__pycache__" not in path.parts and path.name != "__init__.py"
    }


def _imports_student_code(path, student):
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(alias.name in student for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            named = {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
            if named & student:
                return True
    return False


class _Package:
    """What `from cs_lib import layers` sees inside an isolated reference: submodules resolved isolated."""

    def __init__(self, name, load):
        self.__name__, self._load = name, load

    def __getattr__(self, attribute):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return self._load(f"{self.__name__}.{attribute}")


def isolated_reference_module(name):
    """The reference of `name` with every cs_lib module it uses, directly or through provided code, being the
    reference too (never the student's stand-ins): a reference net that runs on reference layers, for hidden
    parts that judge an answer (settings, trained weights) with a net no student code takes part in.

    Student modules are loaded from solutions/cs_lib, provided modules that import student code (e.g.
    layer_utils) as private copies from cs_lib/, and other provided modules (checks, fast layers) as they are."""
    import builtins

    student = _student_module_names()
    loaded = {}

    def load(module_name):
        if module_name in loaded:
            return loaded[module_name]
        if module_name in student:
            path = _solutions_cs_lib().joinpath(*module_name.split(".")[1:]).with_suffix(".py")
        else:
            path = paths.CS_LIB.joinpath(*module_name.split(".")[1:]).with_suffix(".py")
            if module_name == "cs_lib" or not path.is_file() or not _imports_student_code(path, student):
                if (paths.CS_LIB.joinpath(*module_name.split(".")[1:]) / "__init__.py").is_file():
                    loaded[module_name] = _Package(module_name, load)
                else:
                    loaded[module_name] = importlib.import_module(module_name)
                return loaded[module_name]
        private = "_cs_isolated." + module_name
        spec = importlib.util.spec_from_file_location(private, path)
        module = importlib.util.module_from_spec(spec)
        module.__dict__["__builtins__"] = dict(vars(builtins), __import__=isolated_import)
        loaded[module_name] = module
        spec.loader.exec_module(module)
        return module

    def isolated_import(module_name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and (module_name == "cs_lib" or module_name.startswith("cs_lib.")):
            if fromlist:
                return load(module_name)
            return load("cs_lib")
        return builtins.__import__(module_name, globals, locals, fromlist, level)

    return load(name)
