"""`collect`: a folder of per-student submission zips into nbgrader's submitted/ layout.

A zip is named after the student (``<student id>.zip`` or ``<student id>_<anything>.zip``) and
holds the assignment's notebooks, the student's cs_lib files and any extra files the assignment
asks for (anywhere inside the zip: a leading folder is fine). Written, per student::

    submitted/<student>/<assignment>/<notebook>.ipynb
    submitted/<student>/<assignment>/<extra file>
    submitted/<student>/<assignment>/_student_files/cs_lib/...    (graded exactly as submitted)
    submitted/<student>/<assignment>/timestamp.txt

Only the files the assignment names are taken; provided cs_lib files, unsafe paths (absolute,
``..``), symlinks, oversized entries and unknown students are reported and ignored. One bad zip
never stops the others.
"""

import json
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from autograder.common.submission import MAX_EXTRA_BYTES, MAX_MEMBER_BYTES

STUDENT_FILES_DIR = "_student_files"


@dataclass
class Collected:
    student: str
    zip_name: str
    status: str = "ok"
    notebooks: list = field(default_factory=list)
    student_files: list = field(default_factory=list)
    extra_files: list = field(default_factory=list)
    problems: list = field(default_factory=list)


def student_from_zip(name, roster, pattern=None):
    """The student a zip belongs to: the whole name when it is a roster id, else the part before '_'."""
    stem = Path(name).stem
    if pattern:
        match = re.match(pattern, Path(name).name)
        return match.group("student") if match else None
    if stem in roster:
        return stem
    return stem.split("_", 1)[0] if stem else None


def _safe_member(info):
    """The member's normalised path, or the reason it is refused."""
    raw = info.filename.replace("\\", "/")
    path = PurePosixPath(raw)
    if raw.startswith("/") or re.match(r"^[A-Za-z]:", raw):
        return None, f"absolute path {info.filename!r}"
    if ".." in path.parts:
        return None, f"path outside the submission {info.filename!r}"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return None, f"symbolic link {info.filename!r}"
    return path, None


def _match(path, wanted):
    """The wanted relative path this member ends with, if any (a leading folder is allowed)."""
    text = path.as_posix()
    for name in wanted:
        if text == name or text.endswith("/" + name):
            return name
    return None


@dataclass
class Member:
    """One file of a submission, from a zip or a folder: its relative path, size and a way to read it."""

    path: PurePosixPath
    size: int
    read: object
    refusal: str = None


def zip_members(archive):
    for info in archive.infolist():
        if info.is_dir():
            continue
        path, refusal = _safe_member(info)
        yield Member(path=path, size=info.file_size, read=lambda info=info: archive.read(info), refusal=refusal)


def collect_members(members, student, source_name, assignment, destination, timestamp, ignore=()):
    """Write the files the assignment names from members into destination (submitted/<student>/<assignment>),
    via a staging folder renamed into place; return a Collected report. `ignore` lists relative paths
    that are silently skipped (files the course itself put there)."""
    result = Collected(student=student, zip_name=source_name)
    notebook_names = [f"{name}.ipynb" for name in assignment.notebooks]
    student_files = list(assignment.student_files)
    provided = set()
    staging = destination.with_name(destination.name + ".collecting")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for member in members:
        if member.refusal:
            result.problems.append(f"ignored {member.refusal}")
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
            provided.add("cs_lib/" + "/".join(path.parts[path.parts.index("cs_lib") + 1 :]))
            continue
        else:
            continue
        if name in bucket:
            result.problems.append(f"{name} appears twice in the submission; kept the first")
            continue
        if member.size > limit:
            result.problems.append(f"ignored {name}: {member.size} bytes is over the {limit} byte limit")
            continue
        try:
            data = member.read()
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as error:
            result.problems.append(f"could not read {name}: {error}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        bucket.append(name)
    if provided:
        result.problems.append(
            f"ignored provided files (the course's own are always used): {', '.join(sorted(provided))}"
        )
    for name in notebook_names:
        if name not in result.notebooks:
            result.problems.append(f"missing notebook {name}")
        else:
            try:
                json.loads((staging / name).read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as error:
                result.problems.append(f"{name} is not valid notebook JSON ({error}); it will score zero")
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
            student=student, zip_name=Path(zip_path).name, status="unreadable", problems=[f"unreadable zip: {error}"]
        )
    if timestamp is None:
        timestamp = datetime.fromtimestamp(Path(zip_path).stat().st_mtime, timezone.utc)
    with archive:
        return collect_members(zip_members(archive), student, Path(zip_path).name, assignment, destination, timestamp)


def collect(course_dir, course, assignment_id, submissions_dir, roster, pattern=None):
    """Collect every zip in submissions_dir; returns [Collected] (one per zip), never raises per student."""
    assignment = course.assignment(assignment_id)
    results = []
    seen = {}
    for zip_path in sorted(Path(submissions_dir).glob("*.zip")):
        student = student_from_zip(zip_path.name, roster, pattern)
        if not student or student not in roster:
            results.append(
                Collected(
                    student=student or "?",
                    zip_name=zip_path.name,
                    status="unknown student",
                    problems=[f"{student!r} is not in the roster; zip skipped"],
                )
            )
            continue
        if student in seen:
            results.append(
                Collected(
                    student=student,
                    zip_name=zip_path.name,
                    status="duplicate",
                    problems=[f"a second zip for {student} (first: {seen[student]}); skipped"],
                )
            )
            continue
        seen[student] = zip_path.name
        destination = Path(course_dir) / "submitted" / student / assignment_id
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            results.append(collect_zip(zip_path, student, assignment, course, destination))
        except OSError as error:
            results.append(Collected(student=student, zip_name=zip_path.name, status="error", problems=[str(error)]))
    return results


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
