"""A private copy of cs_lib with chosen student files swapped in.

Grading, the reference runs and the test suite all import cs_lib from an overlay put first on
PYTHONPATH: the course's own provided files (and compiled extension) plus, for each student file,
the version that run should see (a submission's, the reference, or the starter stub).
"""

import shutil
from pathlib import Path

from autograder.common import paths

SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.c", "build")


def build_overlay(dest, replacements=None, cs_lib=paths.CS_LIB):
    """Copy cs_lib to dest/cs_lib and put each {"cs_lib/...": file} replacement in place; return dest."""
    dest = Path(dest)
    target = dest / "cs_lib"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(cs_lib, target, ignore=SKIP)
    for name, source in (replacements or {}).items():
        relative = Path(name)
        if relative.parts[0] != "cs_lib" or ".." in relative.parts or relative.is_absolute():
            raise ValueError(f"refusing to place {name!r} outside cs_lib")
        destination = dest / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    return dest


def compile_overlay(dest):
    """Byte-compile an overlay, so every kernel that imports it skips compiling (they cannot write caches)."""
    import compileall

    compileall.compile_dir(str(Path(dest) / "cs_lib"), quiet=1, workers=1)
    return dest


def copy_overlay(base, dest, replacements):
    """A copy of a prepared (compiled) overlay with some files replaced."""
    shutil.copytree(Path(base) / "cs_lib", Path(dest) / "cs_lib", symlinks=False)
    for name, source in replacements.items():
        destination = Path(dest) / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    return dest


def reference_overlay(dest, course, only=None):
    """An overlay with the reference implementation of every student file (or only of those listed)."""
    references = course.references()
    if only is not None:
        references = {name: path for name, path in references.items() if name in set(only)}
    return build_overlay(dest, references)


def grading_overlay(dest, course, assignment, submitted_files):
    """The cs_lib a submission for `assignment` is graded with.

    - this assignment's student files: the submission's when it holds them, else the starter stub;
    - student files of earlier assignments: the course reference, so an earlier mistake costs points once;
    - student files of later assignments: the starter stub (their references never reach a sandbox);
    - every provided file: the course's own, whatever the submission holds.
    """
    references = course.references()
    replacements = {}
    earlier = []
    for other in course.assignments:
        if other.id == assignment.id:
            break
        earlier += list(other.student_files)
    for name in earlier:
        if name not in assignment.student_files:
            replacements[name] = references[name]
    for name in assignment.student_files:
        if name in submitted_files:
            replacements[name] = submitted_files[name]
    return build_overlay(dest, replacements)
