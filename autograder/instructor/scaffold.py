"""`python -m autograder new ID --title "..."`: a new assignment that releases, verifies and keeps the contract.

It writes, for an assignment whose notebook and student module are named after its title:
- the [[assignment]] entry appended to solutions/course.toml;
- solutions/cs_lib/<module>.py, the reference with one graded function (a placeholder: rows scaled to
  unit length) holding one solution region, and the stub `release` generates from it in cs_lib/;
- solutions/<id>/<notebook>.py, the source notebook with one cell of each kind: explanation, locked
  imports, the notebook code a student writes (solution), a test with a visible and a hidden part, and
  a written answer;
- solutions/<id>/mutants.py: a mutant that only the hidden part catches, and a valid alternative.
Replace the placeholder with the assignment's own functions, tests and mutants (solutions/AUTHORING.md).
"""

import re
from pathlib import Path

from autograder.common import paths
from autograder.common.course import CourseError
from autograder.instructor.authoring import make_stub

ID_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,59}")

REFERENCE = '''\
"""{title}: the functions students write for {upper} (the reference; `release` generates the stub in cs_lib/).

Shapes use the lecture's letters: N examples of D numbers each.

normalize_rows is the placeholder `python -m autograder new` wrote: replace it with the assignment's own
functions, and its test cell and mutants with theirs.
"""

import numpy as np


def normalize_rows(x):
    """Scale every row of x to unit Euclidean length; a row of zeros stays zeros.

    Inputs:
    - x: an array of shape (N, D)

    Returns out of shape (N, D): out[i] = x[i] / ||x[i]||, and out[i] = 0 where ||x[i]|| = 0.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"x must be an (N, D) array, got shape {{x.shape}}")
    out = np.zeros_like(x)
    ### BEGIN SOLUTION
    # Stub: divide each row of x by its Euclidean norm, leaving rows of zeros at zero; return out (N, D)
    norms = np.sqrt(np.sum(x * x, axis=1, keepdims=True))
    np.divide(x, norms, out=out, where=norms > 0)
    ### END SOLUTION
    return out
'''

NOTEBOOK = """\
# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # {upper}: {title}
#
# An explanation cell: what this section builds, with the formula and a worked example. Here, the
# placeholder function of `python -m autograder new`: scaling each row of an $N \\times D$ matrix to unit
# length,
#
# $$\\text{{out}}_i = \\frac{{x_i}}{{\\lVert x_i \\rVert}}, \\qquad \\lVert x_i \\rVert = \\sqrt{{\\textstyle\\sum_d x_{{id}}^2}},$$
#
# so that the row $(3, 4)$ becomes $(0.6, 0.8)$. A row of zeros has no direction: it stays zeros.
# Implement `normalize_rows` in `{student_file}`.

# %% locked="imports"
import numpy as np

from {module} import normalize_rows

# %% [markdown]
# The test below checks your function (a hidden part checks more when your work is graded).

# %% test="normalize_rows" points=2
import numpy as np

from cs_lib.checks import check_close
from {module} import normalize_rows

rng = np.random.default_rng(0)
x = rng.standard_normal((4, 3))
expected = x / np.linalg.norm(x, axis=1, keepdims=True)  # from the test's own copy, before the call
check_close(normalize_rows(x.copy()), expected, "normalize_rows of four random rows")
### BEGIN HIDDEN TESTS
x = np.vstack([rng.standard_normal((2, 5)), np.zeros((1, 5))])
expected = np.vstack([x[:2] / np.linalg.norm(x[:2], axis=1, keepdims=True), np.zeros((1, 5))])
check_close(normalize_rows(x.copy()), expected, "normalize_rows with a row of zeros (it must stay zeros)")
### END HIDDEN TESTS

# %% [markdown]
# **Your turn** (code you write in the notebook): normalise the three rows below and look at their lengths.

# %% solution="use_normalize_rows"
rows = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 1.0]])
### BEGIN SOLUTION
unit_rows = normalize_rows(rows)
### END SOLUTION
print("row lengths:", np.round(np.linalg.norm(unit_rows, axis=1), 6))

# %% [markdown] answer="zero_rows" points=1
# **Question** (graded by hand): why does a row of zeros stay zeros instead of being divided by its length?
#
# ### BEGIN SOLUTION
# Its length is 0, and 0 / 0 is not a number: dividing would fill the row with NaN, which then spreads
# through every computation that uses it. A row of zeros has no direction to keep, so zeros are the answer.
# ### END SOLUTION
"""

MUTANTS = '''\
"""{upper}'s mutants (wrong versions its tests must catch) and alternatives (valid ones they must accept).

Checked by `python -m autograder verify {id}` and tests/test_contract.py; see solutions/AUTHORING.md.
"""

import numpy as np

from autograder.instructor.mutants import alternative, mutant


@mutant("{module}.normalize_rows", fails=["normalize_rows"], hidden_only=True)
def divides_rows_of_zeros_by_zero(x):
    """divides every row by its length, so a row of zeros becomes NaN (only the hidden part has one)"""
    x = np.asarray(x, dtype=float)
    return x / np.sqrt(np.sum(x * x, axis=1, keepdims=True))


@alternative("{module}.normalize_rows")
def with_linalg_norm(x):
    """np.linalg.norm and np.where"""
    x = np.asarray(x, dtype=float)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.where(norms > 0, x / np.where(norms > 0, norms, 1.0), 0.0)
'''

COURSE_ENTRY = """
[[assignment]]
id = "{id}"
title = {title_literal}
summary = {summary_literal}
notebooks = ["{notebook}"]
student_files = ["{student_file}"]
# seconds: a full-size run of the notebooks with the reference, and a grading run (NBGRADER_EXECUTION set)
time_budget = 60
grading_time_budget = 30
"""


def slug(title):
    """A Python name from a title: "Depthwise-separable convolution" -> "depthwise_separable_convolution"."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    name = ""
    for word in words:
        if len(name) + len(word) + 1 > 40 and name:
            break
        name = f"{name}_{word}" if name else word
    if not name or not name[0].isalpha():
        name = f"assignment_{name}".rstrip("_")
    return name


def _toml_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def new_assignment(course, assignment_id, title, module=None, notebook=None, summary=None, cs_lib=paths.CS_LIB):
    """Write the new assignment's files (see the module docstring); return the paths written, in order."""
    if not ID_PATTERN.fullmatch(assignment_id):
        raise CourseError(f"assignment id {assignment_id!r}: use lower-case letters, digits and _ (e.g. a6)")
    if any(a.id == assignment_id for a in course.assignments):
        raise CourseError(f"{course.course_file} already has an assignment {assignment_id!r}")
    if not title.strip():
        raise CourseError('--title is the assignment\'s title, e.g. --title "Depthwise-separable convolution"')
    module_stem = module or slug(title)
    notebook = notebook or slug(title)
    for name, option in ((module_stem, "--module"), (notebook, "--notebook")):
        if not NAME_PATTERN.fullmatch(name):
            raise CourseError(f"{option} {name!r}: use lower-case letters, digits and _")
    root = Path(course.root)
    student_file = f"cs_lib/{module_stem}.py"
    reference = root / student_file
    stub = Path(cs_lib) / f"{module_stem}.py"
    source = root / assignment_id / f"{notebook}.py"
    mutants = root / assignment_id / "mutants.py"
    taken = [path for path in (reference, stub, source, mutants) if path.exists()]
    if taken or student_file in course.student_files:
        where = ", ".join(str(path) for path in taken) or student_file
        raise CourseError(f"{where} exists already: choose another --module / --notebook or assignment id")
    values = {
        "id": assignment_id,
        "upper": assignment_id.upper(),
        "title": title.strip(),
        "module": f"cs_lib.{module_stem}",
        "student_file": student_file,
        "notebook": notebook,
        "title_literal": _toml_string(title.strip()),
        "summary_literal": _toml_string(
            summary or "Rows scaled to unit length (the placeholder of `python -m autograder new`: replace it)."
        ),
    }
    reference_text = REFERENCE.format(**values)
    writes = [
        (reference, reference_text),
        (stub, make_stub(reference_text, str(reference))),
        (source, NOTEBOOK.format(**values)),
        (mutants, MUTANTS.format(**values)),
    ]
    for path, text in writes:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    course_file = Path(course.course_file)
    text = course_file.read_text()
    course_file.write_text(text.rstrip("\n") + "\n" + COURSE_ENTRY.format(**values))
    return [course_file] + [path for path, _ in writes]


def next_steps(assignment_id):
    return "\n".join(
        [
            "next:",
            "  python -m autograder release          # the release notebook, the manifest and the READMEs",
            f"  python -m autograder verify {assignment_id}        # lint, notebook runs and the assignment's contract",
            "then replace the placeholder function, its test cell and its mutants with the assignment's own",
            "(solutions/AUTHORING.md walks the whole path to publish).",
        ]
    )
