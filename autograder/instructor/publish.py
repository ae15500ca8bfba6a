"""`python -m autograder publish DEST [--git]`: the student edition, a whole installable course without answers.

Written into DEST, every file generated or copied from this repository:

    cs_lib/                    provided code as it is here, and the starter stubs generated from solutions/
    assignments/               the release notebooks, generated with Colab setup cells that fetch the student
                               repository ([course] student_repository), and the manifest
    autograder/                the student commands only: __init__, __main__, cli, common/, student/
    datasets/README.md         the dataset tooling is cs_lib.datasets
    README.md, tests/, pyproject.toml, environment.yml, .gitignore
                               the student edition's own files (student_edition/), README with Colab links
    setup.py, setup.sh         the Cython build and the one-command setup, as here
    .edition.json              which course and repository this is, and the SHA-256 of every published file

Nothing from solutions/, no hidden test, no grading or instructor tool. The leak check
(autograder/instructor/leakcheck.py) runs on the edition before anything is written, and with --git
on the repository's whole object database after the commit; publish refuses an edition that fails it.

DEST is new, empty or an earlier edition (its .edition.json lists what to replace; other files are
left alone). --git makes DEST a git repository on the course's branch and adds one commit per
publish that changes something (an unchanged edition adds none, and says so): history is never
rewritten, so students can always `git pull`. Its `origin` remote is --remote URL (default: [course]
student_repository), so `git -C DEST push origin <branch>` works; an origin already set to another URL
is left alone and the summary says so.
"""

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from autograder.common import paths
from autograder.common.course import CourseError
from autograder.instructor import release
from autograder.instructor.leakcheck import LeakError, check_files, check_git, course_secrets

EDITION = paths.REPO_ROOT / "student_edition"
MARKER = ".edition.json"
# student_edition/<name> -> published as <name>
OWN_FILES = {
    "pyproject.toml": "pyproject.toml",
    "environment.yml": "environment.yml",
    "gitignore": ".gitignore",
}
COPIED = ("setup.py", "setup.sh", "datasets/README.md")
AUTOGRADER_FILES = ("autograder/__init__.py", "autograder/__main__.py", "autograder/cli.py")
STUDENT_PACKAGES = ("autograder/common", "autograder/student")
EXECUTABLE = {"setup.sh"}
NEVER = ("solutions/", "autograder/grading/", "autograder/instructor/", "autograder/templates/")


@dataclass
class Published:
    dest: Path
    files: dict
    changed: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    commit: str = ""
    committed: bool = False  # False when --git found nothing to commit (commit is then the unchanged HEAD)
    remote: str = ""
    remote_note: str = ""
    branch: str = ""
    secret_lines: int = 0
    secret_files: int = 0
    git_objects: int = 0

    def summary(self):
        lines = [
            f"published the student edition into {self.dest}: {len(self.files)} files, "
            f"{len(self.changed)} new or changed, {len(self.removed)} removed"
        ]
        checked = f"{len(self.files)} files" + (f" and {self.git_objects} git objects" if self.commit else "")
        lines.append(
            f"leak check: none of {self.secret_lines} instructor-only lines or {self.secret_files} files "
            f"found in {checked}"
        )
        if self.commit and self.committed:
            lines.append(f"commit {self.commit[:12]}; students get it with `git pull`")
        elif self.commit:
            lines.append(f"unchanged since commit {self.commit[:12]}: nothing new to commit, no commit added")
        if self.remote:
            lines.append(
                f"remote origin: {self.remote}{self.remote_note}; push with `git -C {self.dest} push origin {self.branch}`"
            )
        return "\n".join(lines)


def student_course(course):
    """The course as the student edition names it: Colab cells, links and manifest name the student repository."""
    if not course.student_repository:
        raise CourseError(
            f'{course.course_file}: [course] needs student_repository = "https://github.com/<owner>/<name>", '
            "the repository students clone; publish writes the student edition for it"
        )
    if course.student_repository.rstrip("/") == course.repository.rstrip("/"):
        raise CourseError(
            f"{course.course_file}: student_repository must differ from repository, which holds the solutions"
        )
    return release.for_repository(course, course.student_repository)


def _python_files(folder):
    return sorted(
        path
        for path in (paths.REPO_ROOT / folder).rglob("*")
        if path.is_file() and path.suffix in (".py", ".pyx") and "__pycache__" not in path.parts
    )


def _own_files():
    files = {target: (EDITION / name).read_bytes() for name, target in OWN_FILES.items()}
    for path in sorted((EDITION / "tests").rglob("*.py")):
        if "__pycache__" not in path.parts:
            files[f"tests/{path.relative_to(EDITION / 'tests').as_posix()}"] = path.read_bytes()
    return files


def build_edition(course):
    """Every file of the student edition as {relative path: bytes} (nothing written)."""
    students = student_course(course)
    files = {}
    student_files = set(course.student_files)
    for path in _python_files("cs_lib"):
        name = path.relative_to(paths.REPO_ROOT).as_posix()
        if name not in student_files:
            files[name] = path.read_bytes()
    files.update(release.stub_files(course))
    files.update(release.release_notebooks(students))
    files["assignments/manifest.json"] = release.manifest(students)
    for name in AUTOGRADER_FILES:
        files[name] = (paths.REPO_ROOT / name).read_bytes()
    for folder in STUDENT_PACKAGES:
        for path in _python_files(folder):
            files[path.relative_to(paths.REPO_ROOT).as_posix()] = path.read_bytes()
    for name in COPIED:
        files[name] = (paths.REPO_ROOT / name).read_bytes()
    files.update(_own_files())
    readme = (EDITION / "README.md").read_text()
    for key, value in {"course_title": course.title, "course_id": course.id, "repository": students.repository}.items():
        readme = readme.replace("{" + key + "}", value)
    files["README.md"] = release.readme_with_links(students, readme).encode()
    wrong = sorted(name for name in files if name.startswith(NEVER))
    if wrong:
        raise CourseError(f"the student edition must not hold {wrong}")
    files[MARKER] = _marker(course, students, files)
    return files


def _marker(course, students, files):
    data = {
        "course": course.id,
        "title": course.title,
        "repository": students.repository,
        "branch": course.branch,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    return (json.dumps(data, indent=1) + "\n").encode()


def _previous(dest):
    """The files an earlier edition in dest published ([] for a new or empty folder)."""
    if not dest.exists() or not any(dest.iterdir()):
        return []
    marker = dest / MARKER
    if not marker.is_file():
        raise CourseError(
            f"{dest} is not empty and holds no student edition ({MARKER}); publish into a new or empty folder, "
            "or into an earlier edition to update it"
        )
    return list(json.loads(marker.read_text())["files"])


def _git(dest, *args, data=None):
    result = subprocess.run(["git", "-C", str(dest), *args], input=data, capture_output=True, text=True)
    if result.returncode != 0:
        raise CourseError(f"git {' '.join(args)} failed in {dest}: {result.stderr.strip()}")
    return result.stdout


def _identity(dest):
    """-c options naming a committer when git has none configured (a fresh CI machine)."""
    has = subprocess.run(["git", "-C", str(dest), "config", "user.email"], capture_output=True).returncode == 0
    return [] if has else ["-c", "user.name=Course publisher", "-c", "user.email=publisher@localhost"]


def publish(dest, course, git=False, remote=None):
    """Write (and with git, commit) the student edition into dest; returns Published. Raises LeakError."""
    dest = Path(dest).resolve()
    files = build_edition(course)
    secrets = course_secrets(course)
    previous = _previous(dest)
    if git and (dest / ".git").exists():
        if _git(dest, "status", "--porcelain", "--untracked-files=no").strip():
            raise CourseError(f"{dest} has uncommitted changes to tracked files; commit or discard them first")
        old = check_git(dest, secrets)
        if old:
            raise LeakError(old)  # publish never rewrites history: the repository must be replaced
    leaks = check_files(files, secrets)
    if leaks:
        raise LeakError(leaks)
    result = Published(dest, files, secret_lines=len(secrets.lines), secret_files=len(secrets.blobs))
    dest.mkdir(parents=True, exist_ok=True)
    for name in sorted(set(previous) - set(files)):
        target = dest / name
        if target.is_file():
            target.unlink()
            result.removed.append(name)
            parent = target.parent
            while parent != dest and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
    for name, data in files.items():
        target = dest / name
        if not target.is_file() or target.read_bytes() != data:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            result.changed.append(name)
        os.chmod(target, 0o755 if name in EXECUTABLE else 0o644)
    if git:
        result.commit, result.committed = _commit(dest, course, result)
        result.branch = course.branch
        result.remote, result.remote_note = _set_origin(dest, remote or course.student_repository)
        leaks = check_git(dest, secrets)
        if leaks:
            raise LeakError(leaks)
        result.git_objects = len(_git(dest, "cat-file", "--batch-all-objects", "--batch-check").splitlines())
    return result


def _commit(dest, course, result):
    if not (dest / ".git").exists():
        _git(dest, "init", "-q", "-b", course.branch)
    _git(dest, "add", "--pathspec-from-file=-", data="\n".join(sorted(result.files)) + "\n")
    if result.removed:
        _git(dest, "rm", "--cached", "-q", "--ignore-unmatch", "--pathspec-from-file=-", data="\n".join(result.removed))
    has_head = subprocess.run(["git", "-C", str(dest), "rev-parse", "-q", "--verify", "HEAD"], capture_output=True)
    if has_head.returncode == 0 and not _git(dest, "diff", "--cached", "--name-only").strip():
        return has_head.stdout.decode().strip(), False
    count = len(_git(dest, "rev-list", "--all").split())
    message = (
        f"Student edition of {course.id}, publish {count + 1}: {len(result.changed)} files new or changed, "
        f"{len(result.removed)} removed"
    )
    _git(dest, *_identity(dest), "commit", "-q", "-m", message)
    return _git(dest, "rev-parse", "HEAD").strip(), True


def _set_origin(dest, url):
    """(origin's URL, a note): origin set to url when the repository has none; one already there is kept."""
    if not url:
        return "", ""
    current = subprocess.run(["git", "-C", str(dest), "remote", "get-url", "origin"], capture_output=True, text=True)
    if current.returncode != 0:
        _git(dest, "remote", "add", "origin", url)
        return url, " (set)"
    existing = current.stdout.strip()
    if existing != url:
        return existing, f" (kept; not {url}: change it with `git -C {dest} remote set-url origin {url}`)"
    return existing, ""
