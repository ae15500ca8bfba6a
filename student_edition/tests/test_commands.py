"""The edition's promises: README's commands, packaging without grading tools, only the student commands,
`check` and `progress` honest about the starter code, and `submit` packing what the grader collects."""

import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from edition import REPO, assignment, autograder, manifest, require_starter

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

GRADING_TOOLS = {"nbgrader", "psycopg", "jupytext", "sqlalchemy"}


def readme_commands():
    """The indented command under each of README's 'Set up', 'Test' and 'Main job' paragraphs."""
    text = (REPO / "README.md").read_text()
    section = text.split("## Commands", 1)[1].split("\n## ", 1)[0]
    return {
        label: command.strip()
        for label, command in re.findall(r"^(Set up|Test|Main job)[^\n]*:\n\n    ([^\n]+)", section, flags=re.M)
    }


def names(requirements):
    return {re.split(r"[<>=!~\[; ]", item, maxsplit=1)[0].strip().lower() for item in requirements}


def test_readme_names_a_setup_a_test_and_a_main_job_command():
    commands = readme_commands()
    assert set(commands) == {"Set up", "Test", "Main job"}
    assert commands["Set up"] == "bash setup.sh" and (REPO / "setup.sh").is_file()


def test_the_edition_holds_no_solutions_hidden_tests_or_grading_tools():
    assert not (REPO / "solutions").exists()
    assert sorted(p.name for p in (REPO / "autograder").iterdir() if p.is_dir() and p.name != "__pycache__") == [
        "common",
        "student",
    ]
    for path in [*(REPO / "assignments").rglob("*.ipynb"), *(REPO / "cs_lib").rglob("*.py")]:
        text = path.read_text()
        for marker in ("BEGIN HIDDEN TESTS", "BEGIN SOLUTION"):
            assert marker not in text, f"{path.relative_to(REPO)} holds {marker!r}"


def test_packaging_needs_no_grading_tools_and_conda_names_the_same_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = names(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared |= names(extra)
    assert not declared & GRADING_TOOLS
    lines = (REPO / "environment.yml").read_text().split("dependencies:", 1)[1].splitlines()
    conda = {line.strip()[2:] for line in lines if line.startswith("  - ") and not line.strip().endswith(":")}
    assert names(conda) - {"python", "pip", "c-compiler", "cython"} == declared - {"torch"} | {"pytorch"}


def test_the_command_line_offers_exactly_the_student_commands():
    result = autograder("--help")
    assert result.returncode == 0, result.stderr
    listed = set(re.findall(r"^    (\w+)\s", result.stdout, flags=re.M))
    assert listed == {"check", "progress", "submit"}, result.stdout


def test_progress_reports_every_graded_function_of_an_untouched_assignment_not_started():
    require_starter("a1")
    result = autograder("progress", "a1")
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("a1 ")]
    assert rows and all(line.rstrip().endswith("not started") for line in rows), result.stdout
    assert f"0 of {len(rows)} graded functions pass" in result.stdout


def visible_points(assignment_id):
    return sum(
        item["points"]
        for nb in assignment(assignment_id)["notebooks"]
        for item in nb["graded"]
        if item["kind"] == "test"
    )


@pytest.mark.slow
def test_readme_main_job_fails_every_visible_test_of_the_starter_code_and_exits_1():
    require_starter("a1")
    command = readme_commands()["Main job"].split()
    assert command[:4] == [".venv/bin/python", "-m", "autograder", "check"]
    result = autograder(*command[3:])
    assert result.returncode == 1, result.stdout + result.stderr
    tests = [item for nb in assignment("a1")["notebooks"] for item in nb["graded"] if item["kind"] == "test"]
    failing = [line for line in result.stdout.splitlines() if "FAIL" in line]
    assert len(failing) == len(tests), result.stdout
    assert "NotImplementedError" in result.stdout
    assert f"visible tests: 0/{visible_points('a1'):g} points" in result.stdout


def expected_members(assignment_id):
    entry = assignment(assignment_id)
    members = {f"{assignment_id}/{nb['name']}.ipynb" for nb in entry["notebooks"]}
    members |= set(entry["student_files"])
    return members


@pytest.mark.slow
def test_submit_runs_the_visible_tests_and_packs_exactly_what_the_grader_collects(tmp_path):
    require_starter("a1")
    result = autograder("submit", "a1", "--student", "s1234", "--out", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    with zipfile.ZipFile(tmp_path / "s1234_a1.zip") as archive:
        assert set(archive.namelist()) == expected_members("a1")
        for name in archive.namelist():
            origin = REPO / ("assignments/" + name if name.startswith("a1/") else name)
            assert archive.read(name) == origin.read_bytes()
    assert f"visible tests: 0/{visible_points('a1'):g} points" in result.stdout
    for name in expected_members("a1"):
        assert name in result.stdout


def workspace(tmp_path, assignment_id):
    """A copy of this checkout's commands, manifest and one assignment's files, to change freely."""
    root = tmp_path / "checkout"
    shutil.copytree(REPO / "autograder", root / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "assignments").mkdir(parents=True)
    shutil.copyfile(REPO / "assignments" / "manifest.json", root / "assignments" / "manifest.json")
    shutil.copytree(REPO / "assignments" / assignment_id, root / "assignments" / assignment_id)
    for name in assignment(assignment_id)["student_files"]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / name, root / name)
    return root


def test_submit_refuses_a_file_over_the_size_limit_and_writes_no_zip(tmp_path):
    root = workspace(tmp_path, "a1")
    big = assignment("a1")["student_files"][0]
    with open(root / big, "a") as f:
        f.write("# padding\n" * 250_000)  # 2.4 MiB
    result = autograder("submit", "a1", "--student", "s1234", "--no-check", "--out", tmp_path / "out", cwd=root)
    assert result.returncode == 1
    assert big in result.stderr and "2 MiB limit" in result.stderr, result.stderr
    assert not (tmp_path / "out" / "s1234_a1.zip").exists()


def test_submit_packs_the_file_an_assignment_asks_for_beside_its_notebook(tmp_path):
    with_extra = [entry for entry in manifest()["assignments"] if entry.get("extra_files")]
    if not with_extra:
        pytest.skip("no assignment asks for a file beside its notebook")
    entry = with_extra[0]
    root = workspace(tmp_path, entry["id"])
    extra = entry["extra_files"][0]
    for name in entry["extra_files"]:
        (root / "assignments" / entry["id"] / name).unlink(missing_ok=True)
    missing = autograder("submit", entry["id"], "--student", "s1", "--no-check", "--out", tmp_path, cwd=root)
    assert missing.returncode == 0 and f"no assignments/{entry['id']}/{extra}" in missing.stdout, missing.stdout
    (root / "assignments" / entry["id"] / extra).write_bytes(b"a trained model")
    result = autograder("submit", entry["id"], "--student", "s1", "--no-check", "--out", tmp_path, cwd=root)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / f"s1_{entry['id']}.zip") as archive:
        assert set(archive.namelist()) == expected_members(entry["id"]) | {f"{entry['id']}/{extra}"}
        assert archive.read(f"{entry['id']}/{extra}") == b"a trained model"


def test_the_manifest_lists_the_published_notebooks_and_starter_files():
    published = json.loads((REPO / ".edition.json").read_text())["files"]
    for entry in manifest()["assignments"]:
        for name in expected_members(entry["id"]):
            path = "assignments/" + name if name.startswith(entry["id"] + "/") else name
            assert path in published and Path(REPO / path).is_file()
