"""One zip hurts no one at `collect`: JSON nested past any reader's depth, a damaged member or 100,000
members are that zip's problem, reported in a few short lines, and the honest student after it is
collected as usual; names a student chose reach the TA's terminal escaped, so they cannot forge a
report line or send escape sequences."""

import json
import warnings
import zipfile

import nbformat
import pytest

import toy
from toy import cli

STUDENTS = ["adeep", "bdeep", "cbroken", "dmany", "eforge", "zhonest"]
# a report line a forged name would like the TA to read
FORGED = "zvictim                         ok               1 notebook(s)"


@pytest.fixture(scope="module")
def toy_template(tmp_path_factory):
    return toy.init_toy_course(tmp_path_factory.mktemp("toy-harm"), STUDENTS)


@pytest.fixture
def course_dir(toy_template, tmp_path):
    return toy.fresh_course(toy_template, tmp_path / "course")


def honest_zip(course_dir, subs):
    return toy.make_zip(subs / "zhonest.zip", notebook=toy.notebook(course_dir))


def assert_honest_collected(course_dir, done):
    assert "Traceback" not in done.stderr, done.stderr
    honest = course_dir / "submitted" / "zhonest" / "t1"
    assert nbformat.read(str(honest / "toy.ipynb"), as_version=4).cells
    assert (honest / "answer.txt").read_text() == "42\n"
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("zhonest.zip")]
    assert " ok " in line, done.stdout


def status_line(done, zip_name):
    (line,) = [line for line in done.stdout.splitlines() if line.startswith(zip_name)]
    return line


def test_notebook_json_nested_past_any_reader_is_refused_and_the_next_student_collected(course_dir, tmp_path):
    subs = tmp_path / "subs"
    depth = 100_000
    toy.make_zip(subs / "adeep.zip", notebook="[" * depth + "]" * depth)
    # deep enough for a notebook reader's recursion, shallow enough for json.loads
    nested = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    inner = nested["metadata"]
    for _ in range(500):
        inner["x"] = {}
        inner = inner["x"]
    toy.make_zip(subs / "bdeep.zip", notebook=json.dumps(nested))
    honest_zip(course_dir, subs)
    done = cli("collect", course_dir, "t1", subs)
    assert done.returncode == 1, done.stdout + done.stderr
    assert_honest_collected(course_dir, done)
    for student in ("adeep", "bdeep"):
        line = status_line(done, f"{student}.zip")
        assert "refused" in line and "nests JSON deeper than the 100 levels" in line, line
        assert not (course_dir / "submitted" / student / "t1" / "toy.ipynb").exists()
    assert "collected 1 of 3 zips" in done.stdout


def corrupt_first_member(path, member):
    """Make `member`'s deflate stream start with a block of the reserved type 3 (zlib refuses it)."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    with open(path, "r+b") as handle:
        handle.seek(info.header_offset + 26)
        name_length, extra_length = (int.from_bytes(handle.read(2), "little") for _ in range(2))
        handle.seek(info.header_offset + 30 + name_length + extra_length)
        handle.write(b"\xff\xff\xff\xff")


def test_a_damaged_member_is_that_zips_problem_and_the_next_student_is_collected(course_dir, tmp_path):
    subs = tmp_path / "subs"
    path = subs / "cbroken.zip"
    subs.mkdir()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("t1/toy.ipynb", nbformat.writes(toy.notebook(course_dir)))
        archive.writestr("t1/answer.txt", "42\n")
        archive.writestr("cs_lib/toy_student.py", toy.REFERENCE_MODULE)
    corrupt_first_member(path, "t1/toy.ipynb")
    honest_zip(course_dir, subs)
    done = cli("collect", course_dir, "t1", subs)
    assert_honest_collected(course_dir, done)
    line = status_line(done, "cbroken.zip")
    assert "unreadable copies of toy.ipynb" in line and "missing notebook toy.ipynb" in line, line
    # what could be read of the damaged zip is still collected
    assert (course_dir / "submitted" / "cbroken" / "t1" / "answer.txt").read_text() == "42\n"


def test_a_zip_of_100000_refused_members_is_summarised_in_short_lines(course_dir, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    text = nbformat.writes(toy.notebook(course_dir))
    with warnings.catch_warnings(), zipfile.ZipFile(subs / "dmany.zip", "w") as archive:
        warnings.simplefilter("ignore")  # zipfile warns about each duplicated name
        archive.writestr("t1/toy.ipynb", text)
        archive.writestr("t1/answer.txt", "42\n")
        for index in range(60_000):
            archive.writestr(f"../escape-{index}.py", b"")
        for _ in range(40_000):
            archive.writestr("t1/toy.ipynb", b"{}")
    honest_zip(course_dir, subs)
    done = cli("collect", course_dir, "t1", subs)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_honest_collected(course_dir, done)
    assert len(done.stdout) < 10_000 and max(map(len, done.stdout.splitlines())) < 2_500, done.stdout[:3000]
    line = status_line(done, "dmany.zip")
    assert "path outside the submission '../escape-0.py'" in line and "and 59,995 more" in line, line
    assert "second copies (the first one was kept) 't1/toy.ipynb'" in line and "and 39,995 more" in line, line
    record = course_dir / "submitted" / "dmany" / "t1" / "collect.json"
    assert record.stat().st_size < 10_000
    assert json.loads((course_dir / "submitted" / "dmany" / "t1" / "toy.ipynb").read_text())["cells"]


def test_names_a_student_made_reach_the_terminal_escaped_and_forge_no_report_line(course_dir, tmp_path):
    subs = tmp_path / "subs"
    forged = f"\n{FORGED}\n\x1b[2J\x1b]0;pwned\x07\u202e"
    toy.make_zip(
        subs / "eforge.zip",
        notebook=toy.notebook(course_dir),
        entries={f"/abs{forged}": b"x", f"../up{forged}": b"x", f"cs_lib/checks{forged}.py": b"x"},
        links={f"t1/link{forged}": "/etc/passwd"},
    )
    (subs / f"x{forged}.zip").write_bytes((subs / "eforge.zip").read_bytes())
    honest_zip(course_dir, subs)
    done = cli("collect", course_dir, "t1", subs)
    assert_honest_collected(course_dir, done)
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout and "\u202e" not in done.stdout
    assert not [line for line in done.stdout.splitlines() if line.startswith("zvictim")], done.stdout
    assert len(done.stdout.splitlines()) == 1 + 3 + 1  # header, three zips, summary
    line = status_line(done, "eforge.zip")
    for kind in ("absolute path", "path outside the submission", "symbolic link", "provided files"):
        assert kind in line, line
    assert "\\n" + FORGED + "\\n\\x1b[2J\\x1b]0;pwned\\x07\\u202e" in line
    assert "unknown student" in status_line(done, "x\\nzvictim")


def test_submit_refuses_a_notebook_nested_past_any_reader_saying_what_to_do(tmp_path):
    from test_submit import submit_cli, workspace

    root = workspace(tmp_path, "a1")
    (root / "assignments" / "a1" / "linear_classifiers.ipynb").write_text("[" * 100_000 + "]" * 100_000)
    refused = submit_cli(root, "a1", "--student", "s1", "--no-check", "--out", tmp_path / "out")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr
    assert "linear_classifiers.ipynb is not a readable notebook (nested too deeply)" in refused.stderr
