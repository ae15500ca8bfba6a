"""Run single notebook test cells in-process, optionally against a deliberately wrong implementation.

Test cells are self-contained by convention (they import what they test and build their own
inputs), so each can be executed alone. This is how the suite shows that the notebook's tests
catch plausible wrong code and still accept valid alternatives:

    failures = failing_cells("a1", ["svm_naive_visible", "svm_naive_hidden"],
                             {"cs_lib.classifiers.linear_svm.svm_loss_naive": counts_correct_class})
    assert failures, "a hinge sum that counts the correct class must fail a test"
"""

import contextlib
import importlib
import io
import traceback
from functools import cache

from autograder.common.course import load_course
from autograder.common.sources import source_notebook


@cache
def _notebook(assignment_id):
    course = load_course()
    assignment = course.assignment(assignment_id)
    cells = {}
    for name in assignment.notebooks:
        notebook = source_notebook(assignment.source_notebook(name), course, assignment_id)
        for cell in notebook.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution"):
                cells[meta["grade_id"]] = (cell.source, cell.metadata.get("tags", []))
    return cells


def test_cell_ids(assignment_id, include_stateful=False):
    """grade ids of the self-contained test cells (or all, with include_stateful)."""
    return [gid for gid, (_, tags) in _notebook(assignment_id).items() if include_stateful or "stateful" not in tags]


test_cell_ids.__test__ = False  # a helper, not a pytest test


def cell_source(assignment_id, grade_id):
    return _notebook(assignment_id)[grade_id][0]


_INHERITED = object()


@contextlib.contextmanager
def patched(overrides):
    """Temporarily replace attributes: {"package.module.name": replacement} or {(Class, "method"): replacement}."""
    saved = []
    try:
        for key, replacement in (overrides or {}).items():
            if isinstance(key, tuple):
                owner, attribute = key
            else:
                module_name, attribute = key.rsplit(".", 1)
                owner = importlib.import_module(module_name)
            own = vars(owner) if isinstance(owner, type) else owner.__dict__
            saved.append((owner, attribute, own.get(attribute, _INHERITED)))
            setattr(owner, attribute, replacement)
        yield
    finally:
        for owner, attribute, original in reversed(saved):
            if original is _INHERITED:
                delattr(owner, attribute)  # it came from a base class: do not pin a copy on this one
            else:
                setattr(owner, attribute, original)


def run_cell(assignment_id, grade_id, overrides=None, namespace=None):
    """(passed, message) for one test cell executed in a fresh namespace."""
    source = cell_source(assignment_id, grade_id)
    scope = {"__name__": "__notebook_cell__"} | (namespace or {})
    with patched(overrides), contextlib.redirect_stdout(io.StringIO()):
        try:
            exec(compile(source, f"<{assignment_id}:{grade_id}>", "exec"), scope)
        except Exception as error:  # a failing test cell raises anything at all
            return False, "".join(traceback.format_exception_only(type(error), error)).strip()
    return True, ""


def first_failure(assignment_id, grade_ids, overrides):
    """(grade id, message) of the first of grade_ids whose cell fails with the overrides, or None."""
    for grade_id in grade_ids:
        passed, message = run_cell(assignment_id, grade_id, overrides)
        if not passed:
            return grade_id, message
    return None


def failing_cells(assignment_id, grade_ids, overrides=None):
    """The subset of grade_ids whose cells fail with the overrides in place."""
    return [gid for gid in grade_ids if not run_cell(assignment_id, gid, overrides)[0]]
