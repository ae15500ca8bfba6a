"""Starter stubs from the reference modules in solutions/cs_lib (instructors).

Reference modules mark each graded region::

    ### BEGIN SOLUTION
    # Stub: compute the hinge loss and its gradient dW; return (loss, dW)
    ...reference code...
    ### END SOLUTION

and the stub keeps everything outside the regions and replaces each region with::

    # TODO: compute the hinge loss and its gradient dW; return (loss, dW)
    raise NotImplementedError("svm_loss_naive: compute the hinge loss and its gradient dW; return (loss, dW)")
"""

import re

from autograder.common.course import CourseError
from autograder.common.sources import BEGIN, END

STUB_PREFIX = "# Stub:"
# imports and variables in a stub are there for the code the student writes, so unused ones are expected
STUB_HEADER = "# ruff: noqa: F401, F841\n"
LINE_LENGTH = 120  # as in pyproject.toml's [tool.ruff]


def _enclosing_name(lines, index, indent):
    """Qualified name (Class.method or function) of the def that holds line index."""
    names = []
    current = indent
    for line in reversed(lines[:index]):
        stripped = line.lstrip()
        width = len(line) - len(stripped)
        if width < current and re.match(r"(async\s+)?(def|class)\s+\w+", stripped):
            names.append(re.match(r"(?:async\s+)?(?:def|class)\s+(\w+)", stripped).group(1))
            current = width
            if width == 0:
                break
    return ".".join(reversed(names))


def _string_literal(text):
    """A Python string literal in ruff format's style: double quotes unless the text holds them."""
    text = text.replace("\\", "\\\\")
    if '"' in text and "'" not in text:
        return f"'{text}'"
    return '"' + text.replace('"', '\\"') + '"'


def make_stub(source, filename="<reference>", keep=()):
    """The starter version of a reference module: every solution region becomes a NotImplementedError.

    Regions inside the functions named in keep ("f", "Class.method") keep their reference code instead: a
    partly done student file, as the demo's half-done student hands in."""
    lines = source.splitlines()
    out = []
    index = 0
    regions = 0
    while index < len(lines):
        line = lines[index]
        if line.strip() != BEGIN:
            if line.strip() == END:
                raise CourseError(f"{filename}:{index + 1}: '{END}' without a '{BEGIN}' before it")
            out.append(line)
            index += 1
            continue
        indent = line[: len(line) - len(line.lstrip())]
        start = index
        try:
            end = next(i for i in range(index + 1, len(lines)) if lines[i].strip() in (END, BEGIN))
        except StopIteration:
            raise CourseError(f"{filename}:{start + 1}: '{BEGIN}' is never closed by '{END}'") from None
        if lines[end].strip() == BEGIN:
            raise CourseError(f"{filename}:{end + 1}: solution regions cannot nest (opened at line {start + 1})")
        body = [item.strip() for item in lines[start + 1 : end]]
        if not body or not body[0].startswith(STUB_PREFIX):
            raise CourseError(
                f"{filename}:{start + 2}: a solution region must start with '{STUB_PREFIX} <what to implement "
                "and return>', which becomes the student's stub message"
            )
        hint = body[0][len(STUB_PREFIX) :].strip()
        name = _enclosing_name(lines, start, len(indent))
        if not name:
            raise CourseError(f"{filename}:{start + 1}: a solution region must be inside a function or method")
        if name in keep:
            out += lines[start + 2 : end]
            regions += 1
            index = end + 1
            continue
        out.append(f"{indent}# TODO: {hint}")
        literal = _string_literal(f"{name}: {hint}")
        single = f"{indent}raise NotImplementedError({literal})"
        if len(single) <= LINE_LENGTH:
            out.append(single)
        else:  # the layout `ruff format` gives a long call
            out += [f"{indent}raise NotImplementedError(", f"{indent}    {literal}", f"{indent})"]
        regions += 1
        index = end + 1
    if regions == 0:
        raise CourseError(f"{filename}: a reference module in solutions/cs_lib must mark at least one solution region")
    return STUB_HEADER + "\n".join(out) + "\n"


def graded_functions(source, filename="<reference>"):
    """The functions and methods ("f", "Class.method") that hold solution regions, in file order."""
    lines = source.splitlines()
    names = []
    for index, line in enumerate(lines):
        if line.strip() == BEGIN:
            name = _enclosing_name(lines, index, len(line) - len(line.lstrip()))
            if not name:
                raise CourseError(f"{filename}:{index + 1}: a solution region must be inside a function or method")
            if name not in names:
                names.append(name)
    return names
