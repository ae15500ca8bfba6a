"""Student-made text made safe to show: on a TA's terminal, in a report line, in a CSV cell.

A zip member's name, a grade id or a student's name can carry newlines, terminal escape sequences
(clear the screen, set the window title, forge a line), bidirectional overrides or megabytes of text.
`printable` shows every such character as an escape (``\\n``, ``\\x1b``, ``\\u202e``) and bounds the
length; `csv_cell` does the same for a spreadsheet cell and keeps a spreadsheet from reading the cell
as a formula. Use them wherever text a student could have chosen is printed or written.
"""

import unicodedata

LIMIT = 200
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# kept in CSV cells: a TA's multi-line comment stays multi-line (the csv module quotes it)
CSV_KEPT = "\n\r\t"


def _escape(character):
    code = ord(character)
    if code < 0x100:
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(character, f"\\x{code:02x}")
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _shown(character, kept=""):
    if character in kept or character == " ":
        return character
    # C*: control, format (bidi overrides, zero-width), surrogate, private use, unassigned; Z* but space:
    # line and paragraph separators, odd spaces
    if unicodedata.category(character)[0] in "CZ":
        return _escape(character)
    return character


def printable(text, limit=LIMIT):
    """text (any object, as str) with every control or format character escaped, cut to `limit`
    characters of the original with a note of the full length."""
    text = "" if text is None else str(text)
    cut = text[:limit] if limit is not None else text
    shown = "".join(_shown(character) for character in cut)
    if len(cut) < len(text):
        shown += f"... ({len(text):,} characters)"
    return shown


def csv_cell(value, limit=None):
    """A text cell for a CSV file: control characters escaped (line breaks and tabs kept), and a leading
    =, +, -, @, tab or CR prefixed with ' so a spreadsheet shows it instead of running it. Numbers are
    written by the caller, not through this."""
    text = "" if value is None else str(value)
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"... ({len(text):,} characters)"
    text = "".join(_shown(character, CSV_KEPT) for character in text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
