"""`collect`: a folder of per-student submission zips into nbgrader's submitted/ layout.

A zip is named after the student: ``<student id>_<assignment>.zip`` as `submit` writes it,
``<student id>.zip`` or ``<student id>_<anything>.zip`` (ids may hold ``_``: the name is read with the
roster, autograder/common/student_ids.py), and holds the assignment's notebooks, the student's cs_lib
files and any extra files the assignment asks for (anywhere inside the zip: a leading folder is fine).
Written, per student::

    submitted/<student>/<assignment>/<notebook>.ipynb
    submitted/<student>/<assignment>/<extra file>
    submitted/<student>/<assignment>/_student_files/cs_lib/...    (graded exactly as submitted)
    submitted/<student>/<assignment>/timestamp.txt

Only the files the assignment names are taken; provided cs_lib files, unsafe paths (absolute,
``..``), symlinks, oversized entries and unknown students are reported and ignored. A notebook whose
JSON nests deeper than a notebook does is refused (it would stop any JSON reader). One bad zip never
stops the others: whatever goes wrong reading it is that zip's problem. Problems are reported with
student-made names made printable and repeated problems summarised, so a report line stays short.
"""

import json
import lzma
import re
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from autograder.common.course import CourseError
from autograder.common.printable import printable
from autograder.common.student_ids import compile_pattern, zip_student
from autograder.common.submission import MAX_EXTRA_BYTES, MAX_MEMBER_BYTES

STUDENT_FILES_DIR = "_student_files"
# a notebook is about 6 levels deep (cells, outputs, data, ...); rich outputs add a few; JSON readers
# (and nbgrader after them) recurse per level, so deeper input is refused before anything reads it
MAX_NOTEBOOK_DEPTH = 100
# per kind of problem, the members named before the rest are only counted
NAMED_PER_PROBLEM = 5
NAME_LIMIT = 120
# what reading one damaged member can raise (a bad CRC, a broken deflate/bzip2/lzma stream, encryption,
# an unknown compression method, a truncated stream): that member's problem, never the zip's
READ_ERRORS = (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, zlib.error, lzma.LZMAError)


@dataclass
class Collected:
    student: str
    zip_name: str
    status: str = "ok"
    notebooks: list = field(default_factory=list)
    student_files: list = field(default_factory=list)
    extra_files: list = field(default_factory=list)
    problems: list = field(default_factory=list)


def student_from_zip(name, roster, pattern=None, assignment_ids=()):
    """The student a zip belongs to (see student_ids.zip_student); pattern is a --pattern regex (text or
    compiled) with a (?P<student>...) group."""
    if isinstance(pattern, str):
        pattern = compile_pattern(pattern)
    return zip_student(Path(name).name, roster, assignment_ids, pattern)


def shown(name):
    """A student-made name, quoted and printable, for a report."""
    return f"'{printable(name, NAME_LIMIT)}'"


def _safe_member(info):
    """The member's normalised path, or the (kind of problem, member name) it is refused for."""
    raw = info.filename.replace("\\", "/")
    path = PurePosixPath(raw)
    if raw.startswith("/") or re.match(r"^[A-Za-z]:", raw):
        return None, ("absolute path", info.filename)
    if ".." in path.parts:
        return None, ("path outside the submission", info.filename)
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return None, ("symbolic link", info.filename)
    return path, None


class Refusals:
    """Members ignored, by kind: the first few named, the rest counted (one line per kind)."""

    def __init__(self):
        self.names = {}
        self.counts = {}

    def add(self, kind, name=None):
        self.counts[kind] = self.counts.get(kind, 0) + 1
        named = self.names.setdefault(kind, [])
        if name is not None and len(named) < NAMED_PER_PROBLEM:
            named.append(name)

    def lines(self):
        for kind, names in self.names.items():
            more = self.counts[kind] - len(names)
            listed = "".join(f" {shown(name)}," for name in names).rstrip(",")
            yield f"ignored {kind}{listed}" + (f" and {more:,} more" if more and names else "")


def _match(path, wanted):
    """The wanted relative path this member ends with, if any (a leading folder is allowed)."""
    text = path.as_posix()
    for name in wanted:
        if text == name or text.endswith("/" + name):
            return name
    return None


@dataclass
class Member:
    """One file of a submission, from a zip or a folder: its relative path, size and a way to read it.
    refusal: None, or (kind of problem, the member's name as the student wrote it)."""

    path: PurePosixPath
    size: int
    read: object
    refusal: tuple = None


def zip_members(archive):
    for info in archive.infolist():
        if info.is_dir():
            continue
        path, refusal = _safe_member(info)
        yield Member(path=path, size=info.file_size, read=lambda info=info: archive.read(info), refusal=refusal)


def json_depth_over(value, limit):
    """True when the parsed JSON value nests deeper than limit (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values() if isinstance(child, (dict, list)))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item if isinstance(child, (dict, list)))
    return False


def notebook_problem(path):
    """None when path holds notebook JSON a reader can take; else (refuse, reason): refuse is True for
    input no JSON reader should be handed (too deep), False for JSON that merely does not parse."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        return True, f"nests JSON deeper than the {MAX_NOTEBOOK_DEPTH} levels a notebook may have"
    except (ValueError, UnicodeDecodeError) as error:
        return False, f"is not valid notebook JSON ({printable(error)})"
    if json_depth_over(value, MAX_NOTEBOOK_DEPTH):
        return True, f"nests JSON deeper than the {MAX_NOTEBOOK_DEPTH} levels a notebook may have"
    return None


def collect_members(members, student, source_name, assignment, destination, timestamp, ignore=()):
    """Write the files the assignment names from members into destination (submitted/<student>/<assignment>),
    via a staging folder renamed into place; return a Collected report. `ignore` lists relative paths
    that are silently skipped (files the course itself put there)."""
    result = Collected(student=student, zip_name=source_name)
    notebook_names = [f"{name}.ipynb" for name in assignment.notebooks]
    student_files = list(assignment.student_files)
    provided = Refusals()
    refusals = Refusals()
    staging = destination.with_name(destination.name + ".collecting")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        _take_members(members, result, staging, assignment, notebook_names, student_files, provided, refusals, ignore)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    result.problems[:0] = list(refusals.lines())
    if provided.counts:
        result.problems.append(
            "ignored provided files (the course's own are always used): "
            + next(provided.lines()).removeprefix("ignored provided ")
        )
    for name in notebook_names:
        if name not in result.notebooks:
            result.problems.append(f"missing notebook {name}")
            continue
        problem = notebook_problem(staging / name)
        if problem is None:
            continue
        refuse, reason = problem
        if refuse:
            (staging / name).unlink()
            result.notebooks.remove(name)
            result.status = "refused"
            result.problems.append(f"{name} {reason}; refused, it scores zero")
        else:
            result.problems.append(f"{name} {reason}; it will score zero")
    for name in assignment.extra_files:
        if name not in result.extra_files:
            result.problems.append(f"missing file {name}")
    (staging / "timestamp.txt").write_text(format_timestamp(timestamp or datetime.now(timezone.utc)))
    (staging / "collect.json").write_text(json.dumps(result.__dict__, indent=1))
    if destination.exists():
        shutil.rmtree(destination)
    staging.rename(destination)
    if result.problems and result.status == "ok":
        result.status = "warnings" if result.notebooks else "no notebooks"
    return result


def _take_members(members, result, staging, assignment, notebook_names, student_files, provided, refusals, ignore):
    for member in members:
        if member.refusal:
            refusals.add(*member.refusal)
            continue
        path = member.path
        if "__MACOSX" in path.parts or path.name.startswith("._") or path.as_posix() in ignore:
            continue
        target = None
        if (name := _match(path, notebook_names)) is not None:
            target, bucket, limit = staging / name, result.notebooks, MAX_MEMBER_BYTES[".ipynb"]
        elif (name := _match(path, student_files)) is not None:
            target, bucket, limit = (
                staging / STUDENT_FILES_DIR / name,
                result.student_files,
                MAX_MEMBER_BYTES[".py"],
            )
        elif (name := _match(path, assignment.extra_files)) is not None:
            target, bucket, limit = staging / name, result.extra_files, MAX_EXTRA_BYTES
        elif "cs_lib" in path.parts and path.suffix == ".py":
            provided.add("provided", "cs_lib/" + "/".join(path.parts[path.parts.index("cs_lib") + 1 :]))
            continue
        else:
            continue
        if name in bucket:
            refusals.add("second copies (the first one was kept)", path.as_posix())
            continue
        if member.size > limit:
            refusals.add(f"files over the size limit for {name} ({limit:,} bytes)", f"{path} ({member.size:,} bytes)")
            continue
        try:
            data = member.read()
        except READ_ERRORS as error:
            refusals.add(f"unreadable copies of {name}", f"{path}: {error}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        bucket.append(name)


def format_timestamp(when):
    """nbgrader's timestamp.txt format (UTC)."""
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def collect_zip(zip_path, student, assignment, course, destination, timestamp=None):
    """Unpack one student's zip into destination (submitted/<student>/<assignment>).

    The submission time is the zip file's modification time unless `timestamp` says otherwise: the
    times inside a zip are the student's clock, without a time zone.
    """
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as error:
        return Collected(
            student=student,
            zip_name=Path(zip_path).name,
            status="unreadable",
            problems=[f"unreadable zip: {printable(error)}"],
        )
    if timestamp is None:
        timestamp = datetime.fromtimestamp(Path(zip_path).stat().st_mtime, timezone.utc)
    with archive:
        return collect_members(zip_members(archive), student, Path(zip_path).name, assignment, destination, timestamp)


def failed_intake(student, source_name, error):
    """The report of a submission that could not be read at all (any error: it stops only this one)."""
    what = "too deeply nested" if isinstance(error, RecursionError) else type(error).__name__
    detail = printable(error) if not isinstance(error, RecursionError) else "input nested too deeply to read"
    return Collected(
        student=student, zip_name=source_name, status="refused", problems=[f"could not be read ({what}: {detail})"]
    )


def collect(course_dir, course, assignment_id, submissions_dir, roster, pattern=None):
    """Collect every zip in submissions_dir; returns [Collected] (one per zip), never raises per student.
    A --pattern that is no regular expression or lacks a (?P<student>...) group raises CourseError first."""
    assignment = course.assignment(assignment_id)
    compiled = compile_pattern(pattern) if isinstance(pattern, str) else pattern
    if not Path(submissions_dir).is_dir():
        raise CourseError(f"no folder of submission zips at {submissions_dir}")
    assignment_ids = [a.id for a in course.assignments]
    results = []
    seen = {}
    for zip_path in sorted(Path(submissions_dir).glob("*.zip")):
        student = zip_student(zip_path.name, roster, assignment_ids, compiled)
        if not student or student not in roster:
            results.append(
                Collected(
                    student=student or "?",
                    zip_name=zip_path.name,
                    status="unknown student",
                    problems=[f"{shown(student or '')} is not in the roster; zip skipped"],
                )
            )
            continue
        if student in seen:
            results.append(
                Collected(
                    student=student,
                    zip_name=zip_path.name,
                    status="duplicate",
                    problems=[f"a second zip for {student} (first: {shown(seen[student])}); skipped"],
                )
            )
            continue
        seen[student] = zip_path.name
        destination = Path(course_dir) / "submitted" / student / assignment_id
        try:
            destination.parent.mkdir(parents=True, exist_ok=True)
            results.append(collect_zip(zip_path, student, assignment, course, destination))
        except Exception as error:  # noqa: BLE001 - whatever one zip does, the others are collected
            results.append(failed_intake(student, zip_path.name, error))
    return results


def report_lines(results):
    """collect's table, as the TA's terminal shows it: every student-made text printable, each line bounded."""
    lines = [f"{'zip':<28} {'student':<16} {'status':<16} problems"]
    for item in results:
        problems = printable("; ".join(item.problems), 2000)
        lines.append(
            f"{printable(item.zip_name, 60):<28} {printable(item.student, 60):<16} {item.status:<16} {problems}"
        )
    return lines


def submitted_student_files(submission_dir):
    """{"cs_lib/...": path} of the student files collected for one submission."""
    root = Path(submission_dir) / STUDENT_FILES_DIR
    if not root.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): path
        for path in root.rglob("*.py")
        if path.is_file() and not path.is_symlink()
    }
