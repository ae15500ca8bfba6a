"""Student ids: the one grammar the roster, `submit`, `collect` and the exchange share, and how a zip's
name gives its student.

An id is what LMS exports use: ASCII letters and digits, and ``. _ - @ +`` (``jane_doe``,
``jane.doe@uni.edu``, ``s1234+late``), starting with a letter or a digit (so it is never an option,
a hidden file or a spreadsheet formula), at most 100 characters. `submit` names a hand-in
``<student>_<assignment>.zip``; an id may hold ``_`` itself, so `collect` reads a zip's name with the
roster and the assignment ids in hand (`zip_student`), never by splitting at the first ``_``.
"""

import re

from autograder.common.course import CourseError

MAX_LENGTH = 100
ALLOWED = "letters, digits and . _ - @ + (starting with a letter or digit, at most 100 characters)"
STUDENT_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._@+-]{{0,{MAX_LENGTH - 1}}}")
EXAMPLE_PATTERN = r"(?P<student>.+)_a1\.zip"


def is_student_id(text):
    return isinstance(text, str) and STUDENT_ID.fullmatch(text) is not None


def zip_student(name, roster, assignment_ids=(), pattern=None):
    """The student a zip named `name` belongs to, or the best guess at the name's id when no roster id fits
    (for the report; it is then not in the roster).

    With a compiled `pattern`, its ``student`` group. Otherwise, in order: ``<id>_<assignment>.zip`` for a
    known assignment id (``jane_do_a1.zip`` is jane_do's, enrolled or not, never jane's), ``<id>.zip``, and
    ``<id>_<anything>.zip`` with the longest roster id that fits (so ``jane_doe_v2.zip`` is jane_doe's even
    when ``jane`` is enrolled).
    """
    if pattern is not None:
        match = pattern.match(name)
        return match.group("student") if match else None
    stem = name[: -len(".zip")] if name.lower().endswith(".zip") else name
    named = None
    for assignment_id in sorted(assignment_ids, key=len, reverse=True):
        suffix = "_" + assignment_id
        if stem.endswith(suffix) and len(stem) > len(suffix):
            named = named or stem[: -len(suffix)]
            if stem[: -len(suffix)] in roster:
                return stem[: -len(suffix)]
    if stem in roster:
        return stem
    if named is not None:
        # named as `submit` names it, so the id is exactly that: never handed to a roster id it starts with
        return named
    for student in sorted(roster, key=len, reverse=True):
        if stem.startswith(student + "_"):
            return student
    return stem.split("_", 1)[0] or None


def compile_pattern(text):
    """`collect --pattern`: a regular expression with a ``(?P<student>...)`` group, compiled, or a CourseError
    saying what to write."""
    if text is None:
        return None
    try:
        pattern = re.compile(text)
    except re.error as error:
        raise CourseError(
            f"--pattern {text!r} is not a regular expression ({error}); write e.g. --pattern '{EXAMPLE_PATTERN}'"
        ) from None
    if "student" not in pattern.groupindex:
        raise CourseError(
            f"--pattern {text!r} has no (?P<student>...) group to read the student id from; "
            f"write e.g. --pattern '{EXAMPLE_PATTERN}'"
        )
    return pattern


def check_student_id(text, what="student id"):
    """Raise CourseError unless text is a student id; the message says what an id may hold."""
    if not is_student_id(text):
        raise CourseError(f"{what} {text!r} is not a student id: use {ALLOWED}")
