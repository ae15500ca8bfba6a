"""Hidden test code, found by exact line: what feedback removes from what a student sees.

    secret = secret_keys(source_notebook, public_lines)   # hidden lines that are not also public
    redact_text(output_text, secret)                       # such lines replaced by REDACTED
    leaks(texts, secret)                                   # any hidden line still standing

A line counts as hidden test code only when it *is* one (after dropping ANSI colours, normalising
whitespace and ignoring quotes, brackets and commas at its ends), never because it contains one: a
student's error message that quotes a short hidden line (`return cols` in A3's im2col stub) stays.
A printed string or list (IPython's history, a notebook's JSON) is read line by line too, so hidden
code printed that way is still found. Lines that are also public (release notebooks, provided code,
the student's own cells and files) are never secret.
"""

import re
from functools import lru_cache
from pathlib import Path

from autograder.common import paths
from autograder.common.sources import BEGIN_HIDDEN, END_HIDDEN

REDACTED = "[hidden test code removed]"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
ESCAPED_BREAK = re.compile(r"(?:\\+r)?\\+n")
EDGES = "'\"`[](),; \t"
MIN_SECRET = 6
BARE_NAME = re.compile(r"^[\w.]+$")
REASON_LENGTH = 300


def line_key(line):
    """A line compared as the same line: ANSI colours dropped, whitespace normalised, quotes at the ends ignored."""
    return " ".join(ANSI.sub("", line).split()).strip(EDGES).strip()


def line_keys(line):
    """Every way `line` can be read as a line of code: as it stands, and each line of a string printed inside it."""
    keys = {line_key(line)}
    if "\\" in line:
        for segment in ESCAPED_BREAK.split(line):
            keys.add(line_key(segment))
            keys.add(
                line_key(segment.replace("\\'", "'").replace('\\"', '"').replace("\\t", " ").replace("\\\\", "\\"))
            )
    keys.discard("")
    return keys


def hidden_source_lines(source_notebook):
    """Lines inside ### BEGIN/END HIDDEN TESTS regions of the source notebook."""
    lines = []
    for cell in source_notebook.cells:
        inside = False
        for line in cell.get("source", "").splitlines():
            stripped = line.strip()
            if stripped == BEGIN_HIDDEN:
                inside = True
            elif stripped == END_HIDDEN:
                inside = False
            elif inside:
                lines.append(line)
    return lines


def is_test(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def notebook_lines(notebook, tests=True):
    """Source lines of a notebook's cells (without its test cells when tests is False)."""
    if notebook is None:
        return []
    return [
        line for cell in notebook.cells if tests or not is_test(cell) for line in cell.get("source", "").splitlines()
    ]


@lru_cache(maxsize=4)
def provided_lines(cs_lib=paths.CS_LIB):
    """Lines of every cs_lib file students get (provided code and starter stubs)."""
    lines = []
    for path in sorted(Path(cs_lib).rglob("*")):
        if path.suffix in (".py", ".pyx") and path.is_file():
            lines += path.read_text(encoding="utf-8", errors="replace").splitlines()
    return tuple(lines)


def secret_keys(source_notebook, public_lines):
    """Keys of hidden test lines that are not also public.

    Comments, lines under MIN_SECRET characters and lines that are a single name or number (an
    argument on a line of its own such as `ValueError,`) reveal nothing and are not secrets.
    """
    public = {line_key(line) for line in public_lines}
    secret = set()
    for line in hidden_source_lines(source_notebook):
        key = line_key(line)
        if len(key) >= MIN_SECRET and not key.startswith("#") and not BARE_NAME.match(key) and key not in public:
            secret.add(key)
    return secret


def redact_text(text, secret):
    """`text` with every line that is hidden test code replaced by REDACTED."""
    if not secret or not text:
        return text
    kept = []
    for line in text.splitlines(keepends=True):
        kept.append(REDACTED + ("\n" if line.endswith("\n") else "") if line_keys(line) & secret else line)
    return "".join(kept)


def leaks(texts, secret):
    """Secret lines that still stand as a line in any of `texts` (the last safety check)."""
    found = set()
    for text in texts:
        for line in str(text).splitlines():
            found |= line_keys(line) & secret
    return sorted(found)


def one_line(text, secret=frozenset()):
    """A reason on one line: REDACTED if any of its lines is hidden code, else joined and shortened."""
    lines = [line for line in ANSI.sub("", str(text)).splitlines() if line.strip()]
    if any(line_keys(line) & secret for line in lines):
        return REDACTED
    joined = " ".join(" ".join(lines).split())
    return joined if len(joined) <= REASON_LENGTH else joined[: REASON_LENGTH - 1] + "…"
