"""What course package a machine has installed, so a grading machine can refuse to grade with other code.

A Dask worker grades with its own installed `autograder` (the grader, the sandbox, the scoring rules)
and its own `cs_lib` (the starter stubs the tampering scan compares with, the dataset code). Both are
identified by a content hash of their source files, next to the package, Python and nbgrader versions
(nbgrader's version fixes the gradebook schema of the grading template), and the numpy and torch releases
that the references compute with and the trusted grader reads the student's arrays and checkpoint with (a
build's local label, `+cpu` or `+cu128`, does not count: one release, one set of results on the CPU). The
grading template itself travels with each task and is checked by its SHA-256 on arrival
(autograder.grading.run.transport).
"""

import functools
import hashlib
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

from autograder.common import paths

AUTOGRADER = Path(__file__).resolve().parents[2]
SOURCE_SUFFIXES = (".py", ".pyx", ".toml", ".json")


def tree_hash(root, suffixes=SOURCE_SUFFIXES):
    """SHA-256 of every source file under root (relative paths and contents), caches and builds left out."""
    root = Path(root)
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and path.suffix in suffixes and not {"__pycache__", "build"} & set(relative.parts):
            digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _version(distribution):
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _release(distribution):
    """The distribution's version without its local label (torch 2.13.0+cpu and 2.13.0+cu128: 2.13.0)."""
    return _version(distribution).split("+", 1)[0]


@functools.lru_cache(maxsize=1)
def installed():
    """{what: version or content hash} of the course package this process grades with."""
    return {
        "course package": f"cs-lib {_version('cs-lib')}",
        "python": f"{sys.version_info.major}.{sys.version_info.minor} on {sysconfig.get_platform()}",
        "nbgrader": _version("nbgrader"),
        "numpy": _release("numpy"),
        "torch": _release("torch"),
        "cs_lib": f"source hash {tree_hash(paths.CS_LIB)[:16]}",
        "autograder": f"source hash {tree_hash(AUTOGRADER)[:16]}",
    }


def where():
    """{what: the folder it was read from}, for messages."""
    return {"cs_lib": str(paths.CS_LIB), "autograder": str(AUTOGRADER), "python": sys.executable}


def differences(theirs, ours=None, them="the TA's machine", us="this machine"):
    """One line per entry where `ours` (default: installed()) differs from `theirs`, naming both sides."""
    ours = installed() if ours is None else ours
    folders = where()
    lines = []
    for name in sorted(set(theirs) | set(ours)):
        have, want = ours.get(name, "unknown"), theirs.get(name, "unknown")
        if have != want:
            place = f" ({folders[name]})" if name in folders else ""
            lines.append(f"{name}: {have} on {us}{place}, {want} on {them}")
    return lines
