"""JupyterHub hand-ins through nbgrader's exchange folder (the Assignment List extension's fetch and submit).

Layout (nbgrader's)::

    <root>/<course_id>/outbound/<assignment>/...                                   what students fetch
    <root>/<course_id>/inbound/<student>+<assignment>+<timestamp>+<random>/...      what they submitted

Students write cs_lib files as well as notebooks. The outbound release therefore carries, beside the
assignment's notebooks, the starter versions of that assignment's cs_lib files in a ``cs_lib/``
folder, with a small ``__init__.py`` in each package folder: the notebook runs in the fetched folder,
so Python finds that ``cs_lib`` first, and the ``__init__.py`` puts the installed course's cs_lib
behind it. A student edits ``<assignment>/cs_lib/...`` in their fetched copy, and nbgrader's submit
hands the whole folder in; `collect --exchange` takes the same files a zip would give it.
"""

import os
import pwd
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath

from autograder.common.course import CourseError
from autograder.grading.intake.collect import Collected, Member, collect_members, failed_intake, shown

SHIM_NAME = "__init__.py"
SHIM = '''"""Your cs_lib files for this assignment (the ones beside this file) in front of the installed course's.

Written by `python -m autograder release --exchange`; leave it as it is. The notebook runs in this
folder, so Python finds this package first: a module you edit here replaces the course's starter
version, and every other module comes from the course installed on the hub.
"""

import os as _os
import sys as _sys

_here = _os.path.dirname(_os.path.abspath(__file__))
_parts = __name__.split(".")
_top = _here
for _part in _parts:
    _top = _os.path.dirname(_top)
_installed = None
for _entry in _sys.path:
    _base = _os.path.abspath(_entry or _os.curdir)
    _candidate = _os.path.join(_base, *_parts)
    if _base != _top and _candidate != _here and _os.path.isfile(_os.path.join(_candidate, "__init__.py")):
        _installed = _candidate
        break
if _installed is None:
    raise ImportError(f"{__name__}: the course's cs_lib is not installed here; run the course's setup (README.md)")
__path__ = [_here, _installed]
with open(_os.path.join(_installed, "__init__.py"), encoding="utf-8") as _init:
    exec(compile(_init.read(), _os.path.join(_installed, "__init__.py"), "exec"))
'''
MAX_ENTRIES = 2000  # a submission folder holds a few files; more is someone filling the exchange
CLOCK_SLACK = timedelta(minutes=10)


def outbound_files(assignment, files):
    """{path inside the outbound assignment folder: bytes}: the release notebooks, the assignment's
    starter cs_lib files and the package shims. `files` is `release.build()`'s {repo path: bytes}."""
    out = {}
    for name in assignment.notebooks:
        key = f"assignments/{assignment.id}/{name}.ipynb"
        if key not in files:
            raise CourseError(f"the release has no {key}; run `python -m autograder release` first")
        out[f"{name}.ipynb"] = files[key]
    for name in assignment.student_files:
        if name not in files:
            raise CourseError(f"the release has no starter {name}")
        out[name] = files[name]
        package = PurePosixPath(name).parent
        while package.parts:
            out.setdefault(f"{package.as_posix()}/{SHIM_NAME}", SHIM.encode())
            package = package.parent
    return out


def release_to_exchange(root, course_id, assignment, files):
    """Put the assignment's student release into <root>/<course_id>/outbound/<assignment>/ with nbgrader's
    own release (its folder permissions: students read outbound and write inbound). Returns the folder."""
    import tempfile

    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default.release_assignment import ExchangeReleaseAssignment
    from traitlets.config import Config

    content = outbound_files(assignment, files)
    with tempfile.TemporaryDirectory(prefix=f"outbound-{assignment.id}-") as staging:
        for name, data in content.items():
            target = Path(staging) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        config = Config()
        config.Exchange.root = str(root)
        config.CourseDirectory.course_id = course_id
        config.CourseDirectory.assignment_id = assignment.id
        config.CourseDirectory.root = staging
        config.ExchangeReleaseAssignment.force = True
        coursedir = CourseDirectory(config=config)

        class StagedRelease(ExchangeReleaseAssignment):
            def init_src(self):
                self.src_path = staging

        release = StagedRelease(coursedir=coursedir, authenticator=Authenticator(config=config), config=config)
        try:
            release.start()
        except Exception as error:  # nbgrader's ExchangeError and permission errors, with its message
            raise CourseError(f"could not release {assignment.id} into the exchange {root}: {error}") from None
    return Path(root) / course_id / "outbound" / assignment.id


def inbound_records(root, course_id, assignment_id):
    """[{student, folder, timestamp}] of every submission of the assignment in the exchange's inbound."""
    inbound = Path(root) / course_id / "inbound"
    if not inbound.is_dir():
        raise CourseError(
            f"no exchange inbound folder {inbound}: is the exchange root right (collect --exchange PATH, "
            f"or c.Exchange.root in the course's nbgrader_config.py) and the course id {course_id!r}?"
        )
    records = []
    for folder in sorted(inbound.iterdir()):
        parsed = split_inbound_name(folder.name, assignment_id)
        if parsed is not None:
            student, timestamp = parsed
            records.append({"student": student, "folder": folder, "timestamp": timestamp})
    return records


def split_inbound_name(name, assignment_id):
    """(student, naive UTC timestamp or None) of an inbound folder of this assignment, else None.

    nbgrader names it ``<student>+<assignment>+<timestamp>+<random>`` (older versions: without the
    random part); a student id may hold ``+`` itself, so the name is read from the right.
    """
    from nbgrader.utils import parse_utc

    candidates = []
    for pieces in (4, 3):
        parts = name.rsplit("+", pieces - 1)
        if len(parts) == pieces and parts[1] == assignment_id and parts[0]:
            candidates.append(parts)
    for parts in candidates:
        try:
            return parts[0], parse_utc(parts[2])
        except (ValueError, OverflowError):
            continue
    return (candidates[0][0], None) if candidates else None


def folder_members(folder):
    """Members of a submission folder, never following a symbolic link out of it."""
    count = 0
    for directory, subdirectories, filenames in os.walk(folder, followlinks=False):
        relative = PurePosixPath(Path(directory).relative_to(folder).as_posix())
        for name in list(subdirectories):
            if (Path(directory) / name).is_symlink():
                subdirectories.remove(name)
                yield Member(path=None, size=0, read=None, refusal=("symbolic link", (relative / name).as_posix()))
        for name in filenames:
            count += 1
            if count > MAX_ENTRIES:
                yield Member(path=None, size=0, read=None, refusal=(f"files beyond the first {MAX_ENTRIES}", None))
                return
            path = Path(directory) / name
            shown = (relative / name).as_posix().lstrip("./") or name
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                yield Member(path=None, size=0, read=None, refusal=("symbolic link", shown))
            elif not stat.S_ISREG(info.st_mode):
                yield Member(path=None, size=0, read=None, refusal=("not a regular file", shown))
            else:
                yield Member(path=PurePosixPath(shown), size=info.st_size, read=lambda path=path: _read_no_follow(path))


def _read_no_follow(path):
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(descriptor, "rb") as f:
        return f.read()


def _newest_change(folder):
    newest = 0.0
    for directory, _, filenames in os.walk(folder, followlinks=False):
        for name in filenames:
            try:
                newest = max(newest, os.lstat(Path(directory) / name).st_ctime)
            except OSError:
                continue
    return datetime.fromtimestamp(newest, timezone.utc).replace(tzinfo=None) if newest else None


def _owner(folder):
    try:
        uid = os.lstat(folder).st_uid
        if uid in (0, os.getuid()):
            return None  # written by the collecting user or root: nothing to compare
        return pwd.getpwuid(uid).pw_name
    except (KeyError, OSError):
        return None


def collect_exchange(course_dir, course, assignment_id, root, roster, course_id):
    """Collect the latest submission of every student from the exchange inbound; returns [Collected].

    The same checks as zips (only the files the assignment names, unsafe paths, symlinks, sizes,
    unknown students); the submission time is nbgrader's (the folder name, as nbgrader's own collect
    reads it) and is kept for late penalties. Earlier submissions are listed as superseded.
    """
    assignment = course.assignment(assignment_id)
    shims = {
        name
        for name, data in outbound_files(assignment, _starter_placeholders(assignment)).items()
        if data == SHIM.encode()
    }
    by_student = {}
    for record in inbound_records(root, course_id, assignment_id):
        by_student.setdefault(record["student"], []).append(record)
    results = []
    for student in sorted(by_student):
        records = sorted(
            by_student[student],
            key=lambda r: (r["timestamp"] is not None, r["timestamp"] or datetime.min),
            reverse=True,
        )
        latest, older = records[0], records[1:]
        if student not in roster:
            results.append(
                Collected(
                    student=student,
                    zip_name=latest["folder"].name,
                    status="unknown student",
                    problems=[f"{shown(student)} is not in the roster; submission skipped"],
                )
            )
            continue
        destination = Path(course_dir) / "submitted" / student / assignment_id
        destination.parent.mkdir(parents=True, exist_ok=True)
        members = [m for m in folder_members(latest["folder"]) if m.path is None or _unchanged_shim(m, shims)]
        timestamp = latest["timestamp"]
        try:
            item = collect_members(members, student, latest["folder"].name, assignment, destination, timestamp)
        except Exception as error:  # noqa: BLE001 - whatever one submission does, the others are collected
            results.append(failed_intake(student, latest["folder"].name, error))
            continue
        if timestamp is None:
            item.problems.append("the folder name holds no readable timestamp; the collection time was used")
        else:
            written = _newest_change(latest["folder"])
            if written is not None and written > timestamp + CLOCK_SLACK:
                item.problems.append(
                    f"files were written at {written:%Y-%m-%d %H:%M} UTC, after the {timestamp:%Y-%m-%d %H:%M} UTC "
                    "the submission claims; check it before trusting its time"
                )
        owner = _owner(latest["folder"])
        if owner is not None and owner != student:
            item.problems.append(
                f"the folder belongs to the OS user {owner!r}, not {student!r}: check who handed it in"
            )
        if item.problems and item.status == "ok":
            item.status = "warnings"
        results.append(item)
        for record in older:
            results.append(
                Collected(
                    student=student,
                    zip_name=record["folder"].name,
                    status="superseded",
                    problems=[f"an earlier submission; the latest ({latest['folder'].name}) was collected"],
                )
            )
    return results


def _starter_placeholders(assignment):
    files = {f"assignments/{assignment.id}/{name}.ipynb": b"" for name in assignment.notebooks}
    files.update({name: b"" for name in assignment.student_files})
    return files


def _unchanged_shim(member, shims):
    """False for a package shim exactly as released (the course's, not the student's); True otherwise."""
    if member.path.as_posix() not in shims or member.size != len(SHIM.encode()):
        return True
    try:
        return member.read() != SHIM.encode()
    except OSError:
        return True
