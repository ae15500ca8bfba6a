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


def collect_zip(zip_path, student, assignment, course, destination):
    """Unpack one student's zip into destination (submitted/<student>/<assignment>)."""
    result = Collected(student=student, zip_name=Path(zip_path).name)
    notebook_names = [f"{name}.ipynb" for name in assignment.notebooks]
    student_files = list(assignment.student_files)
    provided = set()
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as error:
        result.status = "unreadable"
        result.problems.append(f"unreadable zip: {error}")
        return result
    staging = destination.with_name(destination.name + ".collecting")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    newest = None
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            path, refusal = _safe_member(info)
            if refusal:
                result.problems.append(f"ignored {refusal}")
                continue
            if "__MACOSX" in path.parts or path.name.startswith("._"):
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
                result.problems.append(f"{name} appears twice in the zip; kept the first")
                continue
            if info.file_size > limit:
                result.problems.append(f"ignored {name}: {info.file_size} bytes is over the {limit} byte limit")
                continue
            try:
                data = archive.read(info)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as error:
                result.problems.append(f"could not read {name} from the zip: {error}")
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            bucket.append(name)
            stamp = datetime(*info.date_time, tzinfo=timezone.utc)
            newest = stamp if newest is None or stamp > newest else newest
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
    (staging / "timestamp.txt").write_text((newest or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M:%S.%f %Z"))
    (staging / "collect.json").write_text(json.dumps(result.__dict__, indent=1))
    if destination.exists():
        shutil.rmtree(destination)
    staging.rename(destination)
    if result.problems and result.status == "ok":
        result.status = "warnings" if result.notebooks else "no notebooks"
    return result


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
