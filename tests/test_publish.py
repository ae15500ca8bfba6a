"""`publish`: the student edition is a whole installable course without solutions, hidden tests or grading
tools; with --git it is a repository whose history only grows; its own tests pass on its starter code."""

import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import toy
from autograder.common.course import CourseError, load_course
from autograder.common.sources import setup_cell_source, source_notebook
from autograder.grading.record.course_dir import init_course
from autograder.instructor import release
from autograder.instructor.demo import solved_notebook
from autograder.instructor.leakcheck import check_edition
from autograder.instructor.publish import publish, student_course
from test_packaging import expanded

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
GRADING_TOOLS = {"nbgrader", "psycopg", "jupytext"}


def cli(*args, cwd=REPO):
    return subprocess.run(
        [sys.executable, "-m", "autograder", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def git(root, *args):
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def course():
    return load_course()


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    """The README's way: `python -m autograder publish DEST --git`."""
    dest = tmp_path_factory.mktemp("published") / "student-edition"
    result = cli("publish", dest, "--git")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "leak check: none of" in result.stdout and "commit " in result.stdout
    return dest


def published_files(root):
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts
    )


def test_the_edition_holds_the_course_without_solutions_hidden_tests_or_grading_tools(edition, course):
    files = published_files(edition)
    assert not [
        name for name in files if name.startswith(("solutions/", "autograder/grading/", "autograder/instructor/"))
    ]
    assert not [name for name in files if name.endswith((".so", ".c", ".pyc")) or "__pycache__" in name]
    assert {"README.md", "setup.sh", "setup.py", "pyproject.toml", "environment.yml", ".gitignore"} <= set(files)
    assert "datasets/README.md" in files and any(name.startswith("tests/test_") for name in files)
    assert {name.split("/")[1] for name in files if name.startswith("autograder/") and name.count("/") == 2} == {
        "common",
        "student",
    }
    stubs = release.stub_files(course)
    for name in course.student_files:
        assert (edition / name).read_bytes() == stubs[name], f"{name} is not the starter stub"
    for path in (REPO / "cs_lib").rglob("*.py"):
        name = path.relative_to(REPO).as_posix()
        if name not in course.student_files and "__pycache__" not in path.parts:
            assert (edition / name).read_bytes() == path.read_bytes(), f"provided {name} differs"
    for name in files:
        if name.startswith(("assignments/", "cs_lib/")):
            text = (edition / name).read_text()
            assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text, name
    assert check_edition(edition, course) == []


def test_the_notebooks_manifest_and_readme_name_the_student_repository(edition, course):
    students = student_course(course)
    assert course.student_repository and course.student_repository != course.repository
    for assignment in course.assignments:
        for name in assignment.notebooks:
            notebook = nbformat.read(str(edition / "assignments" / assignment.id / f"{name}.ipynb"), as_version=4)
            assert notebook.cells[0].source == setup_cell_source(students, assignment.id)
            assert course.student_repository in notebook.cells[0].source
            assert course.repository not in notebook.cells[0].source.replace(course.student_repository, "")
    manifest = json.loads((edition / "assignments" / "manifest.json").read_text())
    assert manifest["course"]["repository"] == course.student_repository
    readme = (edition / "README.md").read_text()
    for assignment in course.assignments:
        for name in assignment.notebooks:
            assert students.colab_url(assignment.id, name) in readme
    assert course.colab_url("a1", "linear_classifiers") not in readme
    assert "{" + "course_id}" not in readme and course.student_repository in readme


def test_the_marker_records_every_published_file_and_its_hash(edition):
    marker = json.loads((edition / ".edition.json").read_text())
    files = set(published_files(edition)) - {".edition.json"}
    assert set(marker["files"]) == files
    for name, digest in marker["files"].items():
        assert hashlib.sha256((edition / name).read_bytes()).hexdigest() == digest


def test_republishing_adds_a_commit_removes_stale_files_and_never_rewrites_history(edition, course, tmp_path):
    dest = tmp_path / "edition"
    shutil.copytree(edition, dest, symlinks=True)
    first = git(dest, "rev-parse", "HEAD").strip()
    assert git(dest, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(dest, "status", "--porcelain") == ""
    # as if an earlier edition had published a file this one no longer has
    marker = json.loads((dest / ".edition.json").read_text())
    marker["files"]["cs_lib/retired.py"] = "0" * 64
    (dest / ".edition.json").write_text(json.dumps(marker))
    (dest / "cs_lib" / "retired.py").write_text("RETIRED = True\n")
    git(dest, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "an earlier edition", "--allow-empty")
    git(dest, "-c", "user.name=t", "-c", "user.email=t@t", "add", "cs_lib/retired.py")
    git(dest, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "an earlier edition's file")
    before = git(dest, "rev-parse", "HEAD").strip()
    result = publish(dest, course, git=True)
    assert result.removed == ["cs_lib/retired.py"] and not (dest / "cs_lib" / "retired.py").exists()
    assert git(dest, "rev-parse", "HEAD").strip() == result.commit != before
    git(dest, "merge-base", "--is-ancestor", first, result.commit)
    git(dest, "merge-base", "--is-ancestor", before, result.commit)
    assert "cs_lib/retired.py" not in git(dest, "ls-files")
    assert git(dest, "status", "--porcelain") == ""
    again = publish(dest, course, git=True)
    assert again.changed == [] and not again.committed  # an unchanged edition adds no empty commit
    assert git(dest, "rev-parse", "HEAD").strip() == again.commit == result.commit
    assert "nothing new to commit, no commit added" in again.summary()
    assert check_edition(dest, course) == []


def test_the_readme_push_works_origin_is_the_student_repository_or_remote(edition, course, tmp_path):
    """README step 2 pushes with `git -C DEST push origin main`: publish --git sets origin (default: the
    course's student_repository; --remote URL for another), and the push of a second, unchanged publish
    sends the same single commit."""
    assert git(edition, "remote", "get-url", "origin").strip() == course.student_repository
    bare = tmp_path / "student-repo.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    dest = tmp_path / "edition"
    first = cli("publish", dest, "--git", "--remote", bare)
    assert first.returncode == 0, first.stderr
    assert f"remote origin: {bare} (set)" in first.stdout
    second = cli("publish", dest, "--git", "--remote", bare)
    assert second.returncode == 0, second.stderr
    assert "no commit added" in second.stdout and git(dest, "rev-list", "--count", "HEAD").strip() == "1"
    push = subprocess.run(
        ["git", "-C", str(dest), "push", "-q", "origin", course.branch], capture_output=True, text=True
    )
    assert push.returncode == 0, push.stderr
    assert git(bare, "rev-parse", course.branch).strip() == git(dest, "rev-parse", "HEAD").strip()
    other = cli("publish", dest, "--git", "--remote", tmp_path / "elsewhere.git")
    assert other.returncode == 0 and "(kept; not " in other.stdout  # an origin already set is never replaced
    assert git(dest, "remote", "get-url", "origin").strip() == str(bare)
    without_git = cli("publish", tmp_path / "plain", "--remote", bare)
    assert without_git.returncode == 2 and "use it with --git" in without_git.stderr


def test_publish_refuses_a_folder_that_is_not_an_edition(tmp_path, course):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CourseError, match="not empty and holds no student edition"):
        publish(tmp_path, course)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def requirement_names(requirements):
    return {re.split(r"[<>=!~\[; ]", item, maxsplit=1)[0].strip().lower() for item in requirements}


def test_the_student_packaging_keeps_the_course_dependencies_and_drops_the_grading_tools(edition):
    instructor = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    student = tomllib.loads((edition / "pyproject.toml").read_text())["project"]
    assert student["dependencies"] == instructor["dependencies"]
    assert student["optional-dependencies"]["torch"] == instructor["optional-dependencies"]["torch"]
    dev = requirement_names(student["optional-dependencies"]["dev"])
    assert dev <= requirement_names(expanded("dev", instructor))
    assert not dev & GRADING_TOOLS and {"nbclient", "ipykernel", "pytest"} <= dev
    packages = tomllib.loads((edition / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    assert {p for p in packages if p.startswith("autograder")} == {
        "autograder",
        "autograder.common",
        "autograder.student",
    }

    def commands(path):
        return [line for line in path.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]

    assert commands(edition / "setup.sh") == commands(REPO / "setup.sh")


@pytest.mark.slow
def test_a_clone_of_the_edition_passes_its_own_tests_on_the_untouched_starter_code(edition, tmp_path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(edition), str(clone))
    # what setup.sh's editable install builds; this suite's environment already has every other dependency
    for built in (REPO / "cs_lib").glob("_im2col_cython*.so"):
        shutil.copy(built, clone / "cs_lib")
    env = dict(os.environ, PYTHONPATH=str(clone))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(r"\d+ passed", result.stdout) and "skipped" not in result.stdout, result.stdout[-2000:]


def test_ci_clones_the_published_edition_and_runs_its_own_readme_setup_and_test_commands(edition):
    text = (edition / "README.md").read_text()
    section = text.split("## Commands", 1)[1].split("\n## ", 1)[0]
    commands = dict(re.findall(r"^(Set up|Test|Main job)[^\n]*:\n\n    ([^\n]+)", section, flags=re.M))
    assert set(commands) == {"Set up", "Test", "Main job"}
    script = (REPO / ".ci" / "student_edition").read_text().splitlines()
    run_lines = [line.strip() for line in script if line.strip() and not line.lstrip().startswith("#")]
    assert ".venv/bin/python -m autograder publish" in "\n".join(run_lines) and "--git" in "\n".join(run_lines)
    assert any(line.startswith("git clone") for line in run_lines)
    assert run_lines[-3:-1] == [commands["Set up"], commands["Test"]]
    assert run_lines[-1] == '"$repo/.venv/bin/python" "$repo/.ci/term_walk.py" "$work/student"'  # then the term walk


def test_publish_needs_a_student_repository_distinct_from_the_instructor_one(course):
    with pytest.raises(CourseError, match=r"\[course\] needs student_repository"):
        student_course(dataclasses.replace(course, student_repository=""))
    with pytest.raises(CourseError, match="must differ from repository"):
        student_course(dataclasses.replace(course, student_repository=course.repository + "/"))


@pytest.mark.slow
def test_a_hand_in_from_the_student_edition_grades_without_a_checksum_warning_or_the_instructor_url(tmp_path):
    private, public = "https://github.com/example/toy-private", "https://github.com/example/toy-student"
    shutil.copytree(toy.TOY, tmp_path / "toy")
    course_file = tmp_path / "toy" / "course.toml"
    text = course_file.read_text().replace('repository = "https://github.com/example/toy"', f'repository = "{private}"')
    course_file.write_text(text.replace("[course]\n", f'[course]\nstudent_repository = "{public}"\n', 1))
    course = load_course(course_file)
    edition = nbformat.reads(release.release_notebooks(student_course(course))["assignments/t1/toy.ipynb"].decode(), 4)
    source = source_notebook(course.assignment("t1").source_notebook("toy"), course, "t1")
    roster = tmp_path / "roster.csv"
    roster.write_text("id\nemi\n")
    course_dir = tmp_path / "course"
    init_course(course_dir, course, roster=roster, cell_timeout=20)
    released = (course_dir / "release" / "t1" / "toy.ipynb").read_text()
    assert private not in released and public in released
    toy.make_zip(tmp_path / "subs" / "emi.zip", notebook=solved_notebook(edition, source))
    assert toy.cli("collect", course_dir, "t1", tmp_path / "subs", course_file=course_file).returncode == 0
    graded = toy.cli("grade", course_dir, "t1", course_file=course_file)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert "checksum" not in graded.stdout + graded.stderr
    grading = (course_dir / "autograded" / "emi" / "t1" / "grading.json").read_text()
    assert "checksum" not in grading
    assert toy.cli("feedback", course_dir, "t1", course_file=course_file).returncode == 0
    page = (course_dir / "feedback" / "emi" / "t1" / "toy.html").read_text()
    assert private not in page and public in page


def test_the_student_readme_says_how_to_set_a_git_identity_before_the_first_commit():
    readme = (REPO / "student_edition" / "README.md").read_text()
    assert 'git config user.name "' in readme and 'git config user.email "' in readme
    assert "Before your first commit" in readme
