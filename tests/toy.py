"""Helpers for pipeline tests on the toy course (tests/fixtures/toy_course): one assignment `t1`,
one notebook `toy`, one student file `cs_lib/toy_student.py` and one extra file `answer.txt`."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat

from autograder.common.course import load_course
from autograder.common.sources import source_notebook
from autograder.instructor.demo import solved_notebook

REPO = Path(__file__).resolve().parents[1]
TOY = Path(__file__).resolve().parent / "fixtures" / "toy_course"
COURSE_FILE = TOY / "course.toml"
REFERENCE_MODULE = (TOY / "cs_lib" / "toy_student.py").read_text()
STUB_MODULE = "def add(a, b):\n    raise NotImplementedError('add')\n\n\ndef scale(x, k):\n    raise NotImplementedError('scale')\n"
# points per test cell, from the toy notebook
POINTS = {"test_double": 1, "test_add": 2, "test_scale": 3, "test_answer_file": 1}


def course():
    return load_course(COURSE_FILE)


def notebook(course_dir, solved=True):
    """The release notebook, with the solution cell filled in when solved."""
    release = nbformat.read(str(Path(course_dir) / "release" / "t1" / "toy.ipynb"), as_version=4)
    toy = course()
    source = source_notebook(toy.assignment("t1").source_notebook("toy"), toy, "t1")
    return solved_notebook(release, source, 1.0 if solved else 0.0)


def make_zip(path, *, notebook=None, module=REFERENCE_MODULE, answer="42\n", folder="t1", entries=None, links=None):
    """A submission zip: the notebook (a NotebookNode or raw text), the student module, answer.txt and
    any raw extra entries {name: bytes} or symbolic links {name: target}."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        if notebook is not None:
            text = notebook if isinstance(notebook, str) else nbformat.writes(notebook)
            archive.writestr(f"{folder}/toy.ipynb", text)
        if module is not None:
            archive.writestr("cs_lib/toy_student.py", module)
        if answer is not None:
            archive.writestr(f"{folder}/answer.txt", answer)
        for name, data in (entries or {}).items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, target)
    return path


def init_toy_course(root, students, **options):
    """root/course: the toy course initialised (cell timeout 20 s) with a roster of these student ids."""
    from autograder.grading.record.course_dir import init_course

    roster = Path(root) / "roster.csv"
    roster.write_text("id\n" + "".join(f"{student}\n" for student in students))
    init_course(Path(root) / "course", course(), roster=roster, **{"cell_timeout": 20, **options})
    return Path(root) / "course"


def fresh_course(template, destination):
    """A copy of an initialised toy course directory (init is the slow part, so tests share one)."""
    shutil.copytree(template, destination)
    settings = (Path(destination) / "course.json").read_text().replace(str(template), str(destination))
    (Path(destination) / "course.json").write_text(settings)
    config = (Path(destination) / "nbgrader_config.py").read_text().replace(str(template), str(destination))
    (Path(destination) / "nbgrader_config.py").write_text(config)
    return Path(destination)


def cli(*args, course_file=COURSE_FILE, cwd=REPO, timeout=900):
    """`python -m autograder ARGS` on the toy course (CS_COURSE_FILE), as a TA types it; the completed process."""
    env = dict(os.environ, CS_COURSE_FILE=str(course_file))
    return subprocess.run(
        [sys.executable, "-m", "autograder", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )
