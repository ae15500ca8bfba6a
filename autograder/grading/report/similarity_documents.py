"""What `similarity` compares: per student, one document of everything they wrote for an assignment.

The pieces, in course order: the collected cs_lib files (submitted/<student>/<a>/_student_files/cs_lib/...),
then the code of the notebooks' solution cells. Which cells those are comes from the release notebook's
nbgrader roles, matched by grade id, never from the submission's own metadata; a file or cell a student
left out counts as the starter's. `units` splits the pieces into functions (with ast) for naming the one
with the most overlap.
"""

import ast
import json
from dataclasses import dataclass
from pathlib import Path

from autograder.common import paths

# collect's layout (autograder.grading.intake.collect), which report/ may not import
STUDENT_FILES_DIR = "_student_files"


@dataclass
class Piece:
    """One file or solution cell of a student's work."""

    label: str
    text: str


def _code_cells(path):
    """[(grade id or None, nbgrader metadata, source)] of a notebook's code cells, read as plain JSON: only the
    sources are wanted, and a submitted notebook that nbformat would refuse still has code to compare."""
    try:
        notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return []
    found = []
    for cell in notebook.get("cells", []) if isinstance(notebook, dict) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell.get("metadata"), dict) else {}
        meta = meta if isinstance(meta, dict) else {}
        source = cell.get("source", "")
        source = "".join(map(str, source)) if isinstance(source, list) else str(source)
        grade_id = meta.get("grade_id") if isinstance(meta.get("grade_id"), str) else None
        found.append((grade_id, meta, source))
    return found


def _release(course_dir, assignment, name):
    return Path(course_dir) / "release" / assignment.id / f"{name}.ipynb"


def solution_cell_ids(course_dir, assignment):
    """{notebook: [grade ids of its solution code cells, in order]}, from the release notebooks."""
    return {
        name: [
            grade_id
            for grade_id, meta, _ in _code_cells(_release(course_dir, assignment, name))
            if grade_id and meta.get("solution")
        ]
        for name in assignment.notebooks
    }


def release_cells(course_dir, assignment):
    """({notebook: {grade id: source}}, [the source of every code cell]) of the release notebooks."""
    cells, code = {}, []
    for name in assignment.notebooks:
        found = _code_cells(_release(course_dir, assignment, name))
        cells[name] = {grade_id: source for grade_id, _, source in found if grade_id}
        code += [source for _, _, source in found]
    return cells, code


def _submitted_cells(path):
    """{grade id: source} of a submitted notebook's code cells (the first cell of each grade id)."""
    found = {}
    for grade_id, _, source in _code_cells(path):
        if grade_id and grade_id not in found:
            found[grade_id] = source
    return found


def stub_text(name):
    """The starter version of a student file as released (the course's cs_lib); empty when there is none."""
    path = paths.REPO_ROOT / name
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def student_pieces(submission_dir, assignment, roles, release_cells):
    """[Piece] of one submission: its cs_lib files, then its solution cells (the starter's where missing)."""
    pieces = []
    root = Path(submission_dir) / STUDENT_FILES_DIR
    for name in assignment.student_files:
        path = root / name
        own = path.is_file() and not path.is_symlink()
        text = path.read_text(encoding="utf-8", errors="replace") if own else stub_text(name)
        pieces.append(Piece(name, text))
    for notebook, grade_ids in roles.items():
        submitted = _submitted_cells(Path(submission_dir) / f"{notebook}.ipynb")
        for grade_id in grade_ids:
            text = submitted.get(grade_id, release_cells[notebook].get(grade_id, ""))
            pieces.append(Piece(f"{notebook} cell {grade_id}", text))
    return pieces


def starter_pieces(assignment, roles, release_cells):
    """The pieces of a student who changed nothing."""
    pieces = [Piece(name, stub_text(name)) for name in assignment.student_files]
    for notebook, grade_ids in roles.items():
        pieces += [Piece(f"{notebook} cell {g}", release_cells[notebook].get(g, "")) for g in grade_ids]
    return pieces


def document(pieces):
    """The text copydetect compares: the pieces in course order, each under a comment naming it."""
    return "".join(f"# ---- {piece.label}\n{piece.text.rstrip()}\n\n\n" for piece in pieces)


def units(pieces):
    """[(name, source)]: every function (methods as Class.method) of the pieces; a piece without any, or
    one that does not parse, is one unit named after the piece."""
    found = []
    for piece in pieces:
        try:
            tree = ast.parse(piece.text)
        except (SyntaxError, ValueError):
            found.append((piece.label, piece.text))
            continue
        lines = piece.text.splitlines(keepends=True)
        own = []
        for node in tree.body:
            members = [node] if not isinstance(node, ast.ClassDef) else node.body
            for member in members:
                if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    name = member.name if member is node else f"{node.name}.{member.name}"
                    own.append((name, "".join(lines[member.lineno - 1 : member.end_lineno])))
        found += own or [(piece.label, piece.text)]
    return found
