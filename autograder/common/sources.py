"""The course's sources in solutions/: source notebooks (jupytext percent files) and their cell kinds.

Source notebooks (solutions/<assignment>/<name>.py) carry short metadata in their cell headers that
this module expands into nbgrader's:

    # %% solution="best_hyperparameters"          code the student writes in the notebook
    # %% test="svm_naive" points=3                 locked autograded test (visible + hidden parts)
    # %% [markdown] answer="why_kink" points=2     written answer, graded by hand
    # %% task="describe_plot" points=1             a task graded by hand (nbgrader's task cell)
    # %% locked="load_data"                        code students run but cannot change
    # %% test="best_svm_accuracy" points=2 reads=["best_svm"]
                                                   a test that judges notebook variables (plain data:
                                                   numbers, strings, lists, dicts, numpy arrays)

Read by the instructor's tools (release, verify) and by grading (a course directory's source/).
"""

from pathlib import Path

import nbformat

from autograder.common import paths
from autograder.common.course import CourseError
from autograder.common.markers import BEGIN, BEGIN_HIDDEN, END, END_HIDDEN

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
CELL_KINDS = ("solution", "test", "answer", "task", "locked")


def setup_cell_source(course, assignment_id):
    """The Colab setup cell. It fetches the student repository where the course has one: the release that
    grades hand-ins and the student edition then hold the same locked cell (nbgrader compares its
    checksum), and no page a student sees names the instructor repository, which courses keep private."""
    template = (paths.TEMPLATES / "setup_cell.py").read_text()
    values = {
        "repository": course.student_repository or course.repository,
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
    import jupytext

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
        reads = meta.pop("reads", None)
        unknown = set(meta) - {"tags"}
        if unknown:
            raise CourseError(f"{where}: unknown cell metadata {sorted(unknown)}; use one of {CELL_KINDS}")
        if "tags" in meta:
            cell.metadata["tags"] = list(meta["tags"])
        if reads is not None:
            if not kinds or kinds[0] != "test":
                raise CourseError(f"{where}: reads= only goes with test cells")
            if not isinstance(reads, list) or not all(isinstance(n, str) and n.isidentifier() for n in reads):
                raise CourseError(f'{where}: reads= takes a list of variable names, e.g. reads=["best_svm"]')
            # the notebook variables a stateful test judges; grading hands them over as plain data
            cell.metadata["reads"] = reads
            cell.metadata["tags"] = sorted(set(cell.metadata.get("tags", [])) | {"stateful"})
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
