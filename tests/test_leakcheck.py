"""The leak check finds instructor-only lines planted anywhere in a student edition, and passes the real one.

Every planted line is taken from the current sources (the longest secret line of its kind), so the
tests follow the course as it changes.
"""

import copy
import json
import subprocess

import nbformat
import pytest

from autograder.cli import main
from autograder.common.course import load_course
from autograder.instructor import publish as publish_module
from autograder.instructor.leakcheck import (
    MIN_CHARS,
    LeakError,
    Secrets,
    check_edition,
    check_files,
    check_git,
    course_secrets,
    normalise,
)
from autograder.instructor.release import for_repository


@pytest.fixture(scope="module")
def course():
    return load_course()


@pytest.fixture(scope="module")
def secrets(course):
    return course_secrets(course)


@pytest.fixture(scope="module")
def edition(course):
    return publish_module.build_edition(course)


def longest(secrets, kind, path_part=""):
    """The longest secret line whose origin is of this kind (e.g. 'a hidden-test region')."""
    lines = [text for text, origin in secrets.lines.items() if kind in origin and path_part in origin]
    assert lines, f"no secret line of kind {kind!r} in {path_part!r}: the course has none?"
    return max(lines, key=len)


def test_the_real_student_edition_passes(edition, secrets):
    assert check_files(edition, secrets) == []


def test_secrets_come_from_every_reference_module_every_hidden_test_notebook_and_instructor_only_files(course, secrets):
    origins = list(secrets.lines.values())
    for name, path in course.references().items():
        shown = path.relative_to(course.root.parent).as_posix()
        assert any(o.startswith(shown + ":") and "solution region" in o for o in origins), name
    for assignment in course.assignments:
        for name in assignment.notebooks:
            text = assignment.source_notebook(name).read_text()
            shown = assignment.source_notebook(name).relative_to(course.root.parent).as_posix()
            if "### BEGIN HIDDEN TESTS" in text:
                assert any(o.startswith(shown) and "hidden-test region" in o for o in origins), shown
    others = [p for p in course.root.rglob("*.py") if p.parent.name != "cs_lib" and "cs_lib" not in p.parts]
    others = [p for p in others if p.stem not in {n for a in course.assignments for n in a.notebooks}]
    assert others, "expected an instructor-only module such as a5/make_reference_files.py"
    for path in others:
        shown = path.relative_to(course.root.parent).as_posix()
        assert any(o.startswith(shown + ":") and "instructor-only file" in o for o in origins), shown


def test_trivial_and_public_lines_are_ignored_and_whitespace_is_normalised():
    secrets = Secrets()
    secrets.add_regions(
        "def f(x):\n"
        "    ### BEGIN SOLUTION\n"
        "    # Stub: return the answer\n"
        "    return out\n"
        "    total = compute_the_answer(x) * 2\n"
        "    value = shared_helper_call(x, 3)\n"
        "    ### END SOLUTION\n"
        "value = shared_helper_call(x, 3)\n",
        "m.py",
        "a reference module",
    )
    secrets.finish()
    assert list(secrets.lines) == ["total = compute_the_answer(x) * 2"]
    assert len("return out") < MIN_CHARS
    found = secrets.find_in_lines("y = 1\n        total  =  compute_the_answer(x)   *  2\n", "f.py")
    assert [(leak.where, leak.line) for leak in found] == [("f.py line 2", "total = compute_the_answer(x) * 2")]
    assert "m.py:5 (a solution region of a reference module)" == found[0].origin
    assert secrets.find_in_lines("# total = compute_the_answer(x) * 2", "g.py"), "commented out"
    assert not secrets.find_in_lines("# Stub: return the answer\nvalue = shared_helper_call(x, 3)", "h.py")


def test_a_solution_line_planted_in_a_stub_is_found_with_its_file_line_and_origin(course, secrets, edition):
    stub = course.assignments[0].student_files[0]
    reference = course.references()[stub].relative_to(course.root.parent).as_posix()
    line = longest(secrets, "solution region", reference)
    for planted in (f"    {line}", f"    # {line}"):
        files = dict(edition)
        files[stub] = files[stub] + f"\n{planted}\n".encode()
        (leak,) = check_files(files, secrets)
        assert leak.where.startswith(f"{stub} line ") and leak.line.endswith(line)
        assert leak.origin.startswith(reference + ":")


def plant_in_notebook(edition, where, text):
    name = next(name for name in sorted(edition) if name.endswith(".ipynb"))
    notebook = nbformat.reads(edition[name].decode(), as_version=4)
    cell = next(cell for cell in notebook.cells if cell.cell_type == "code")
    if where == "output":
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"checking\n{text}\n")]
    else:
        cell.metadata["note"] = {"from": text}
    files = dict(edition)
    files[name] = nbformat.writes(notebook).encode()
    return name, files


@pytest.mark.parametrize("where", ["output", "metadata"])
def test_a_hidden_test_line_in_a_notebook_output_or_metadata_is_found(secrets, edition, where):
    line = longest(secrets, "hidden-test region")
    name, files = plant_in_notebook(edition, where, line)
    (leak,) = check_files(files, secrets)
    assert leak.where.startswith(name) and ("outputs" in leak.where if where == "output" else "metadata" in leak.where)
    assert "hidden-test region" in leak.origin


def test_an_instructor_only_module_line_and_a_secret_binary_file_are_found(course, edition, tmp_path):
    reference_files = tmp_path / "reference_files"
    reference_files.mkdir()
    (reference_files / "model.pt").write_bytes(bytes(range(256)) * 4)
    secrets = course_secrets(course, reference_files=reference_files)
    line = longest(secrets, "instructor-only file", ".py:")
    files = dict(edition)
    files["README.md"] += f"\n{line}\n".encode()
    files["assignments/a5/a5_checkpoint.pt"] = (reference_files / "model.pt").read_bytes()
    leaks = check_files(files, secrets)
    assert {leak.where.split(" ")[0] for leak in leaks} == {"README.md", "assignments/a5/a5_checkpoint.pt"}
    assert any("reference submission's file" in leak.origin for leak in leaks)


def git(root, *args):
    return subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_a_leak_in_an_old_commit_or_an_unreachable_object_is_found(secrets, tmp_path):
    line = longest(secrets, "solution region")
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "notes.py").write_text(f"x = 1\n{line}\n")
    git(root, "add", "notes.py")
    git(root, "commit", "-q", "-m", "first")
    first = git(root, "rev-parse", "--short", "HEAD").strip()
    (root / "notes.py").write_text("x = 1\n")
    git(root, "commit", "-q", "-am", "second: removed")
    (leak,) = check_git(root, secrets)
    assert leak.where.startswith("git blob ") and "(notes.py) line 2" in leak.where and first in leak.where
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git(fresh, "init", "-q")
    (fresh / "scratch.txt").write_text(f"{line}\n")
    git(fresh, "hash-object", "-w", "scratch.txt")
    (fresh / "scratch.txt").unlink()
    (leak,) = check_git(fresh, secrets)
    assert "(in no commit)" in leak.where and leak.line == normalise(line)


def test_publish_refuses_an_edition_with_a_leak_and_writes_nothing(
    course, secrets, edition, tmp_path, monkeypatch, capsys
):
    line = longest(secrets, "hidden-test region")
    name, leaky = plant_in_notebook(edition, "output", line)
    monkeypatch.setattr(publish_module, "build_edition", lambda course: copy.deepcopy(leaky))
    dest = tmp_path / "edition"
    with pytest.raises(LeakError) as refused:
        publish_module.publish(dest, course, git=True)
    assert name in str(refused.value) and line[:60] in str(refused.value)
    assert not dest.exists()
    assert main(["publish", str(dest), "--git"]) == 1
    assert name in capsys.readouterr().err and not dest.exists()


def test_the_check_of_a_whole_published_edition_reads_its_files_and_its_history(course, secrets, edition, tmp_path):
    root = tmp_path / "edition"
    for name, data in edition.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    assert check_edition(root, course, secrets) == []
    manifest = json.loads((root / "assignments" / "manifest.json").read_text())
    assert manifest["course"]["repository"] == for_repository(course, course.student_repository).repository
    (root / "cs_lib" / "planted.py").write_text(longest(secrets, "solution region") + "\n")
    assert [leak.where for leak in check_edition(root, course, secrets)] == ["cs_lib/planted.py line 1"]
