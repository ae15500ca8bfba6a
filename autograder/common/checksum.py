"""nbgrader's cell checksum, without nbgrader (the student edition ships without it).

`release` (through nbgrader) stores a checksum in every locked and graded cell's metadata; `check`
recomputes it to tell a student that a test cell was changed. This is nbgrader.utils.compute_checksum
(nbgrader 0.9), byte for byte: an md5 over the source, the cell type, the grade/solution/locked flags,
the grade id and, for graded cells, the points. tests/test_submit.py checks that both agree on every
cell of every release notebook.
"""

import hashlib


def _flag(cell, name):
    return cell.metadata.get("nbgrader", {}).get(name, False)


def is_grade(cell):
    return _flag(cell, "grade")


def is_solution(cell):
    return _flag(cell, "solution")


def is_locked(cell):
    """Locked as nbgrader means it: never a solution cell, always a graded one, else the locked flag."""
    if "nbgrader" not in cell.metadata or is_solution(cell):
        return False
    return True if is_grade(cell) else _flag(cell, "locked")


def compute_checksum(cell):
    digest = hashlib.md5()
    digest.update(cell.source.encode("utf-8"))
    digest.update(cell.cell_type.encode("utf-8"))
    digest.update(str(is_grade(cell)).encode("utf-8"))
    digest.update(str(is_solution(cell)).encode("utf-8"))
    digest.update(str(is_locked(cell)).encode("utf-8"))
    digest.update(cell.metadata.nbgrader["grade_id"].encode("utf-8"))
    if is_grade(cell):
        digest.update(str(float(cell.metadata.nbgrader["points"])).encode("utf-8"))
    return digest.hexdigest()
