"""The course description in solutions/course.toml: assignments, notebooks and student files.

Each assignment names the notebooks it releases (sources in solutions/<id>/<name>.py) and the
cs_lib files students write for it (references in solutions/cs_lib/...). Everything else in
cs_lib is provided code, which a submission can never replace.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from autograder.common import paths


class CourseError(ValueError):
    """The course description or a source file is inconsistent; the message names the fix."""


@dataclass(frozen=True)
class Assignment:
    id: str
    title: str
    notebooks: tuple
    student_files: tuple
    time_budget: int
    grading_time_budget: int
    summary: str = ""
    extra_files: tuple = ()
    reference_files: str = ""
    # the largest extra file (A5's checkpoint) collect and submit take, and the trusted grader opens
    max_extra_file_bytes: int = 8 * 2**20
    root: Path = paths.SOLUTIONS

    def source_notebook(self, name):
        return Path(self.root) / self.id / f"{name}.py"

    @property
    def reference_files_script(self):
        return Path(self.root) / self.reference_files if self.reference_files else None


@dataclass(frozen=True)
class Course:
    id: str
    title: str
    repository: str
    branch: str
    assignments: tuple = field(default_factory=tuple)
    # the student edition's repository (`publish`): what students clone and its notebooks' Colab cells fetch
    student_repository: str = ""
    root: Path = paths.SOLUTIONS
    course_file: Path = paths.COURSE_FILE
    # {"cs_lib.optim.sgd_momentum": ("config",)}: the arguments a graded function changes in place by its
    # specification; grading fails a call that changes any other argument ("changed its input x")
    changes_in_place: dict = field(default_factory=dict, hash=False, compare=False)

    def references(self):
        """{"cs_lib/...": reference file} for every student file (solutions/cs_lib mirrors cs_lib)."""
        return reference_modules(Path(self.root) / "cs_lib")

    def assignment(self, assignment_id):
        for assignment in self.assignments:
            if assignment.id == assignment_id:
                return assignment
        known = ", ".join(a.id for a in self.assignments)
        raise CourseError(f"unknown assignment {assignment_id!r}; the course has {known}")

    @property
    def student_files(self):
        """Every cs_lib file a student writes, in course order, without repeats."""
        seen = []
        for assignment in self.assignments:
            seen += [name for name in assignment.student_files if name not in seen]
        return tuple(seen)

    def colab_url(self, assignment_id, notebook):
        repo = self.repository.removeprefix("https://github.com/").rstrip("/")
        return f"https://colab.research.google.com/github/{repo}/blob/{self.branch}/assignments/{assignment_id}/{notebook}.ipynb"


def reference_modules(solutions_cs_lib=paths.SOLUTIONS_CS_LIB):
    """{path relative to the repository ("cs_lib/..."): reference file} for every student file."""
    root = Path(solutions_cs_lib)
    return {
        f"cs_lib/{path.relative_to(root).as_posix()}": path
        for path in sorted(root.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def load_course(path=None):
    """The course description: path, else $CS_COURSE_FILE, else solutions/course.toml."""
    path = Path(path or os.environ.get("CS_COURSE_FILE") or paths.COURSE_FILE).resolve()
    if not path.is_file():
        raise CourseError(
            f"no course description at {path}. The instructor's solutions/ folder is needed for this command; "
            "students use `python -m autograder check`, which reads assignments/manifest.json instead."
        )
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    info = raw.get("course", {})
    assignments = []
    for entry in raw.get("assignment", []):
        try:
            assignments.append(
                Assignment(
                    id=entry["id"],
                    title=entry["title"],
                    notebooks=tuple(entry["notebooks"]),
                    student_files=tuple(entry["student_files"]),
                    time_budget=int(entry.get("time_budget", 300)),
                    grading_time_budget=int(entry.get("grading_time_budget", 60)),
                    summary=entry.get("summary", ""),
                    extra_files=tuple(entry.get("extra_files", ())),
                    reference_files=entry.get("reference_files", ""),
                    max_extra_file_bytes=int(float(entry.get("max_extra_file_mb", 8)) * 2**20),
                    root=path.parent,
                )
            )
        except KeyError as missing:
            raise CourseError(f"{path}: an [[assignment]] lacks {missing}") from None
    ids = [a.id for a in assignments]
    if len(set(ids)) != len(ids):
        raise CourseError(f"{path}: assignment ids repeat: {ids}")
    changes = raw.get("changes_in_place", {})
    if not isinstance(changes, dict) or not all(
        isinstance(names, list)
        and all(isinstance(n, str) and all(part.isidentifier() for part in n.split(".")) for n in names)
        for names in changes.values()
    ):
        raise CourseError(
            f'{path}: [changes_in_place] maps a function to its argument names, e.g. "cs_lib.optim.sgd" = ["config"] '
            '(a torch module argument may name one aspect: "model.training")'
        )
    return Course(
        id=info.get("id", "course"),
        title=info.get("title", ""),
        repository=info.get("repository", ""),
        branch=info.get("branch", "main"),
        assignments=tuple(assignments),
        student_repository=info.get("student_repository", ""),
        root=path.parent,
        course_file=path,
        changes_in_place={key: tuple(names) for key, names in changes.items()},
    )


def load_manifest(path=paths.MANIFEST):
    """The student-facing description written by `release` (no solutions needed)."""
    path = Path(path)
    if not path.is_file():
        raise CourseError(
            f"no assignments manifest at {path}; the instructor regenerates it with `python -m autograder release`"
        )
    return json.loads(path.read_text())
