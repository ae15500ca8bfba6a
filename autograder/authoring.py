"""From solutions/ to what students get: starter stubs and nbgrader source notebooks.

Reference modules (solutions/cs_lib/...) mark each graded region::

    ### BEGIN SOLUTION
    # Stub: compute the hinge loss and its gradient dW; return (loss, dW)
    ...reference code...
    ### END SOLUTION

and the stub keeps everything outside the regions and replaces each region with::

    # TODO: compute the hinge loss and its gradient dW; return (loss, dW)
    raise NotImplementedError("svm_loss_naive: compute the hinge loss and its gradient dW; return (loss, dW)")

Source notebooks (solutions/<assignment>/<name>.py) are jupytext percent files whose cell headers
carry short metadata that this module expands into nbgrader's:

    # %% solution="best_hyperparameters"          code the student writes in the notebook
    # %% test="svm_naive" points=3                 locked autograded test (visible + hidden parts)
    # %% [markdown] answer="why_kink" points=2     written answer, graded by hand
    # %% task="describe_plot" points=1             a task graded by hand (nbgrader's task cell)
    # %% locked="load_data"                        code students run but cannot change
"""

import re
from pathlib import Path

import jupytext
import nbformat

from autograder import paths
from autograder.course import CourseError

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB_PREFIX = "# Stub:"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
# imports and variables in a stub are there for the code the student writes, so unused ones are expected
STUB_HEADER = "# ruff: noqa: F401, F841\n"
LINE_LENGTH = 120  # as in pyproject.toml's [tool.ruff]
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
CELL_KINDS = ("solution", "test", "answer", "task", "locked")


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


def make_stub(source, filename="<reference>"):
    """The starter version of a reference module: every solution region becomes a NotImplementedError."""
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


def reference_modules(solutions_cs_lib=paths.SOLUTIONS_CS_LIB):
    """{path relative to the repository ("cs_lib/..."): reference file} for every student file."""
    root = Path(solutions_cs_lib)
    return {
        f"cs_lib/{path.relative_to(root).as_posix()}": path
        for path in sorted(root.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def setup_cell_source(course, assignment_id):
    template = (paths.TEMPLATES / "setup_cell.py").read_text()
    values = {
        "repository": course.repository,
        "branch": course.branch,
        "assignment": assignment_id,
        "course_id": course.id,
    }
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template.rstrip("\n")


def _nbgrader_metadata(kind, grade_id, points, cell_type, where):
    if kind == "test":
        if cell_type != "code":
            raise CourseError(f"{where}: a test cell must be code")
        return {"grade": True, "solution": False, "locked": True, "task": False, "points": points}
    if kind == "solution":
        return {"grade": False, "solution": True, "locked": False, "task": False}
    if kind == "answer":
        return {"grade": True, "solution": True, "locked": False, "task": False, "points": points}
    if kind == "task":
        return {"grade": False, "solution": False, "locked": True, "task": True, "points": points}
    return {"grade": False, "solution": False, "locked": True, "task": False}


def _check_regions(source, kind, where):
    has_solution = BEGIN in source
    has_hidden = BEGIN_HIDDEN in source
    if kind in ("solution", "answer") and not has_solution:
        raise CourseError(f"{where}: a {kind} cell needs a '{BEGIN}' ... '{END}' region")
    if kind not in ("solution", "answer") and has_solution:
        raise CourseError(f"{where}: only solution and answer cells may hold solution regions")
    if has_hidden and kind != "test":
        raise CourseError(f"{where}: hidden tests belong in test cells")
    if source.count(BEGIN_HIDDEN) != source.count(END_HIDDEN) or source.count(BEGIN) != source.count(END):
        raise CourseError(f"{where}: unbalanced BEGIN/END markers")


def source_notebook(path, course, assignment_id):
    """Read a jupytext source and return the nbgrader *source* notebook (solutions and hidden tests kept)."""
    path = Path(path)
    if not path.is_file():
        raise CourseError(f"missing source notebook {path}")
    text = jupytext.read(path, fmt="py:percent")
    setup = nbformat.v4.new_code_cell(setup_cell_source(course, assignment_id))
    setup.metadata["_kind"] = {"kind": "locked", "id": "setup", "points": None}
    cells = [setup]
    for number, cell in enumerate(text.cells, start=1):
        meta = dict(cell.metadata)
        meta.pop("lines_to_next_cell", None)
        meta.pop("title", None)
        kinds = [kind for kind in CELL_KINDS if kind in meta]
        where = f"{path.name} cell {number} ({cell.source[:40]!r}...)"
        if len(kinds) > 1:
            raise CourseError(f"{where}: a cell has one kind, got {kinds}")
        points = meta.pop("points", None)
        if kinds:
            kind = kinds[0]
            grade_id = str(meta.pop(kind))
            if kind in ("test", "answer", "task") and not isinstance(points, (int, float)):
                raise CourseError(f"{where}: a {kind} cell needs points=<number>")
            cell.metadata = {"_kind": {"kind": kind, "id": grade_id, "points": points}}
        elif points is not None:
            raise CourseError(f"{where}: points= only goes with test, answer or task cells")
        else:
            cell.metadata = {}
        unknown = set(meta) - {"tags"}
        if unknown:
            raise CourseError(f"{where}: unknown cell metadata {sorted(unknown)}; use one of {CELL_KINDS}")
        if "tags" in meta:
            cell.metadata["tags"] = meta["tags"]
        cells.append(cell)

    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    notebook.cells = cells
    seen = set()
    for index, cell in enumerate(cells):
        info = cell.metadata.pop("_kind", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if info is None:
            cell.id = f"cell-{index}"
            _check_regions(cell.source, None, f"{path.name} cell {index}")
            continue
        where = f"{path.name} cell {info['id']!r}"
        if info["id"] in seen:
            raise CourseError(f"{where}: grade ids must be unique in a notebook")
        seen.add(info["id"])
        _check_regions(cell.source, info["kind"], where)
        metadata = _nbgrader_metadata(info["kind"], info["id"], info["points"], cell.cell_type, where)
        metadata.update({"grade_id": info["id"], "schema_version": 3})
        cell.metadata["nbgrader"] = metadata
        cell.id = info["id"]
    return notebook


def notebook_tests(notebook):
    """[(grade_id, points, kind)] for every graded cell of an nbgrader notebook, in order."""
    graded = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") or meta.get("task"):
            kind = (
                "test"
                if not meta.get("solution") and not meta.get("task")
                else ("task" if meta.get("task") else "answer")
            )
            graded.append((meta["grade_id"], meta.get("points", 0), kind))
    return graded
