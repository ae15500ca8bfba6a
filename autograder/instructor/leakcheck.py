"""The leak check: nothing only instructors may see reaches the student edition.

Secret, everything under solutions/ except what the course publishes on purpose:

- every line inside a ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region of a reference module
  (solutions/cs_lib) or of a source notebook's solution or answer cell, except each region's first
  ``# Stub:`` line, which becomes the stub's message;
- every line inside a ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` region of a test cell;
- every line of every other file under solutions/ (instructor-only modules such as
  a5/make_reference_files.py, grading checks, course.toml, AUTHORING.md), and the bytes of every
  binary file there and in datasets/.reference_files (the reference submissions' extra files).

A line is compared after normalising whitespace (runs become one space, ends stripped) and is
ignored when it is trivial:

- shorter than MIN_CHARS characters or without a letter or digit (``else:``, ``return out``, ``)``);
- public: it also appears outside every region of the reference modules and source notebooks (the
  stubs, visible tests, explanations and provided scaffolding are made of those lines) or in the
  provided cs_lib code. Such a line gives nothing away that the edition does not already publish.

Searched: every line of every text file in the published tree; in notebooks (and any JSON file) every
line of every string, so cell sources, outputs and metadata alike; a line also matches with leading
comment or quote markers (``#``, ``>``, ``*``, ``-``, ``/``) removed, so a commented-out solution line
is found. Binary files are compared by their SHA-256 with the secret binary files. With --git, every
object in the repository's database: every blob of every commit (old ones too, and unreachable ones),
every commit message. Not found: a secret line rewritten, or embedded in the middle of a longer line.
"""

import hashlib
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from autograder.common import paths
from autograder.common.course import CourseError
from autograder.common.sources import BEGIN, BEGIN_HIDDEN, END, END_HIDDEN, source_notebook
from autograder.instructor.authoring import STUB_PREFIX, make_stub

MIN_CHARS = 12
MARKERS = "#>*-/ "
SHOWN = 20  # leaks listed in an error message


class LeakError(CourseError):
    """The edition holds instructor-only content; the message names each file and line."""

    def __init__(self, leaks):
        self.leaks = leaks
        listed = "\n".join(f"  {leak}" for leak in leaks[:SHOWN])
        more = f"\n  ... and {len(leaks) - SHOWN} more" if len(leaks) > SHOWN else ""
        super().__init__(
            f"leak check failed: {len(leaks)} instructor-only line(s) in the student edition:\n{listed}{more}\n"
            "Remove them from the published sources (a provided file, a release notebook's outputs or metadata, "
            "the student edition's own files) and publish again."
        )


@dataclass(frozen=True)
class Leak:
    where: str
    line: str
    origin: str

    def __str__(self):
        return f"{self.where}: `{self.line[:120]}` is {self.origin}"


def normalise(line):
    return " ".join(line.split())


def _trivial(text):
    return len(text) < MIN_CHARS or not any(ch.isalnum() for ch in text)


@dataclass
class Secrets:
    lines: dict = field(default_factory=dict)  # normalised line -> where it comes from
    blobs: dict = field(default_factory=dict)  # sha256 of a secret binary file -> its path
    public: set = field(default_factory=set)

    def add_line(self, line, origin):
        text = normalise(line)
        if text:
            self.lines.setdefault(text, origin)

    def add_file(self, path, origin):
        data = Path(path).read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            self.blobs[hashlib.sha256(data).hexdigest()] = f"{origin} (a binary file)"
            return
        for number, line in enumerate(text.splitlines(), start=1):
            self.add_line(line, f"{origin}:{number} (an instructor-only file)")

    def add_regions(self, text, origin, what):
        """Lines inside solution / hidden-test regions are secret, the rest public."""
        inside = None
        first = False
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if stripped in (BEGIN, BEGIN_HIDDEN):
                inside, first = stripped, True
                continue
            if stripped in (END, END_HIDDEN):
                inside = None
                continue
            if inside is None or (first and inside == BEGIN and stripped.startswith(STUB_PREFIX)):
                self.public.add(normalise(line))
            else:
                region = "a hidden-test region" if inside == BEGIN_HIDDEN else "a solution region"
                self.add_line(line, f"{origin}:{number} ({region} of {what})")
            first = False

    def finish(self):
        """Drop trivial and public lines; returns self."""
        self.lines = {
            text: origin for text, origin in self.lines.items() if not _trivial(text) and text not in self.public
        }
        return self

    def find_in_lines(self, text, where):
        leaks = []
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = normalise(line)
            for candidate in {stripped, stripped.lstrip(MARKERS)}:
                if candidate in self.lines:
                    leaks.append(Leak(f"{where} line {number}", stripped, self.lines[candidate]))
                    break
        return leaks

    def find(self, data, where, name=""):
        """Leaks in one file's bytes (a notebook or JSON file: every string in it, line by line)."""
        digest = hashlib.sha256(data).hexdigest()
        if digest in self.blobs:
            return [Leak(where, f"<{len(data)} bytes>", self.blobs[digest])]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return []
        if name.endswith((".ipynb", ".json")) or (not name and text.lstrip().startswith("{")):
            try:
                document = json.loads(text)
            except ValueError:
                document = None
            if document is not None:
                leaks = []
                for path, value in _strings(document):
                    leaks += self.find_in_lines(value, f"{where} {path}")
                return leaks
        return self.find_in_lines(text, where)


def _strings(node, path=""):
    """(json path, string) for every string (and key) in a JSON document."""
    if isinstance(node, str):
        yield path or "$", node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}.{key}", key
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{path}[{index}]")


def course_secrets(course, cs_lib=paths.CS_LIB, reference_files=paths.DATASETS / ".reference_files"):
    """The course's secret lines and files, and the public lines that make a secret line harmless."""
    secrets = Secrets()
    root = Path(course.root)
    known = set()
    for path in course.references().values():
        source = path.read_text()
        secrets.add_regions(source, _shown(path), "a reference module")
        secrets.public |= {normalise(line) for line in make_stub(source, str(path)).splitlines()}
        known.add(Path(path).resolve())
    for assignment in course.assignments:
        for name in assignment.notebooks:
            path = assignment.source_notebook(name)
            notebook = source_notebook(path, course, assignment.id)
            for cell in notebook.cells:
                secrets.add_regions(cell.source, f"{_shown(path)} cell {cell.get('id')}", "a source notebook")
            known.add(Path(path).resolve())
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.resolve() not in known:
            secrets.add_file(path, _shown(path))
    student_files = set(course.student_files)
    for path in sorted(Path(cs_lib).rglob("*")):
        relative = f"cs_lib/{path.relative_to(cs_lib).as_posix()}"
        if path.suffix in (".py", ".pyx") and relative not in student_files and "__pycache__" not in path.parts:
            secrets.public |= {normalise(line) for line in path.read_text().splitlines()}
    if Path(reference_files).is_dir():
        for path in sorted(Path(reference_files).rglob("*")):
            if path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                secrets.blobs[digest] = f"{_shown(path)} (a reference submission's file)"
    return secrets.finish()


def _shown(path):
    path = Path(path).resolve()
    return path.relative_to(paths.REPO_ROOT).as_posix() if path.is_relative_to(paths.REPO_ROOT) else str(path)


def check_files(files, secrets):
    """Leaks in {relative path: bytes}."""
    leaks = []
    for name, data in sorted(files.items()):
        leaks += secrets.find(data, name, name)
    return leaks


def check_tree(root, secrets):
    """Leaks in every file under root (its .git folder is checked by check_git)."""
    root = Path(root)
    files = {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink() and ".git" not in path.relative_to(root).parts
    }
    return check_files(files, secrets)


def _git(root, *args, data=None):
    return subprocess.run(["git", "-C", str(root), *args], input=data, capture_output=True, check=True).stdout


def _git_objects(root):
    """(sha, type, content) of every object in the repository's database, reachable or not."""
    listing = _git(root, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)")
    wanted = [line.split() for line in listing.decode().splitlines()]
    wanted = [(sha, kind) for sha, kind in wanted if kind in ("blob", "commit", "tag")]
    stream = _git(root, "cat-file", "--batch", data="".join(f"{sha}\n" for sha, _ in wanted).encode())
    position = 0
    for sha, kind in wanted:
        header_end = stream.index(b"\n", position)
        size = int(stream[position:header_end].split()[2])
        yield sha, kind, stream[header_end + 1 : header_end + 1 + size]
        position = header_end + 1 + size + 1


def check_git(root, secrets):
    """Leaks in every blob, commit message and tag of the git repository at root."""
    if not (Path(root) / ".git").exists():
        return []
    names = {}
    for line in _git(root, "rev-list", "--all", "--objects").decode().splitlines():
        sha, _, name = line.partition(" ")
        if name:
            names.setdefault(sha, name)
    leaks = []
    for sha, kind, content in _git_objects(root):
        name = names.get(sha, "")
        found = secrets.find(content, f"git {kind} {sha[:12]}" + (f" ({name})" if name else ""), name)
        if found and kind == "blob":
            commits = _git(root, "log", "--all", "--format=%h", f"--find-object={sha}").decode().split()
            suffix = f" (commits adding or removing it: {', '.join(commits)})" if commits else " (in no commit)"
            found = [Leak(leak.where + suffix, leak.line, leak.origin) for leak in found]
        leaks += found
    return leaks


def check_edition(root, course, secrets=None):
    """Every leak in a published edition: its files and, when it is a git repository, its whole history."""
    secrets = secrets or course_secrets(course)
    return check_tree(root, secrets) + check_git(root, secrets)
