"""Cell roles come from the release: what a submitted notebook's metadata says about its cells is not trusted.

nbgrader decides what a cell is (a test, a written answer, a task, locked code) from the notebook's own
cell metadata, and its overwrite step restores a graded cell's type, lock, points and checksum from the
gradebook but not its solution/grade/task flags: a written answer relabelled as a test would score as a
passed test. Before grading, every cell that carries a grade id of the release gets the release's cell
type and nbgrader metadata, exactly; a cell claiming a grade id the release does not have loses its
nbgrader metadata (it is the student's own cell); and the grader's notes say which cells were restored
("cell metadata changed"). The integrity scan and the scores then judge cells by these roles.
"""

import copy

import nbformat

ROLE_KEYS = ("grade", "solution", "locked", "task", "points", "grade_id")


def release_roles(release_path):
    """{grade id: (cell type, nbgrader metadata)} of every nbgrader cell of a release notebook."""
    notebook = nbformat.read(str(release_path), as_version=4)
    roles = {}
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if isinstance(meta, dict) and meta.get("grade_id"):
            roles[meta["grade_id"]] = (cell.get("cell_type"), copy.deepcopy(dict(meta)))
    return roles


def _differs(submitted, released):
    if not isinstance(submitted, dict):
        return True
    return any(submitted.get(key) != released.get(key) for key in ROLE_KEYS if key in released or key in submitted)


def restore_roles(notebook, roles, name="notebook"):
    """Give every cell of notebook (changed in place) its release role; return the notes (what was restored)."""
    notes = []
    for index, cell in enumerate(notebook.cells):
        metadata = cell.setdefault("metadata", {})
        meta = metadata.get("nbgrader")
        if meta is None:
            continue
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if not isinstance(grade_id, str) or grade_id not in roles:
            del metadata["nbgrader"]
            label = f"{grade_id!r}" if isinstance(grade_id, str) else f"{index + 1}"
            notes.append(f"{name}: cell {label}: cell metadata changed (not a cell of the release; graded as plain)")
            continue
        cell_type, released = roles[grade_id]
        if _differs(meta, released) or cell.get("cell_type") != cell_type:
            notes.append(f"{name}: cell {grade_id}: cell metadata changed (restored from the release)")
        metadata["nbgrader"] = copy.deepcopy(released)
        if cell.get("cell_type") != cell_type:
            _set_type(cell, cell_type)
    return notes


def _set_type(cell, cell_type):
    cell["cell_type"] = cell_type
    if cell_type == "code":
        cell.setdefault("outputs", [])
        cell.setdefault("execution_count", None)
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)


def restore_notebook_roles(path, release_path):
    """restore_roles for a notebook file, rewritten in place; [] when either cannot be read (nbgrader
    then reports the unreadable notebook itself)."""
    try:
        roles = release_roles(release_path)
        notebook = nbformat.read(str(path), as_version=4)
    except Exception:  # noqa: BLE001 - an unreadable submission scores zero without help from here
        return []
    notes = restore_roles(notebook, roles, name=path.stem)
    if notes:
        nbformat.write(notebook, str(path))
    return notes
