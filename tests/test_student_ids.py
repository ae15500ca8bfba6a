"""One student-id grammar for the roster, `submit`, `collect` and the exchange: the ids LMS exports use
(``jane_doe``, ``jane.doe@uni.edu``, ``a+b``) go through every command to the right student, even when
one roster id is the start of another; anything else is refused with what an id may hold."""

import csv

import nbformat
import pytest
from test_submit import submit_cli, workspace

import toy
from autograder.common.course import load_course
from autograder.common.submission import zip_name
from autograder.grading.intake.collect import collect
from autograder.grading.record.course_dir import roster_ids
from toy import cli

STUDENTS = ["jane", "jane_doe", "jane.doe@uni.edu", "a+b", "a"]
GRAMMAR = "letters, digits and . _ - @ +"


@pytest.fixture(scope="module")
def toy_template(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy-ids")
    (root / "roster.csv").write_text("id\n" + "".join(f"{student}\n" for student in STUDENTS))
    done = cli("init", root / "course", "--roster", root / "roster.csv")
    assert done.returncode == 0, done.stderr
    return root / "course"


@pytest.fixture
def course_dir(toy_template, tmp_path):
    return toy.fresh_course(toy_template, tmp_path / "course")


def test_init_takes_a_roster_of_lms_ids_with_underscore_dot_at_and_plus(toy_template):
    assert roster_ids(toy_template) == set(STUDENTS)


@pytest.mark.parametrize("bad", ["jane doe", "../jane", "-rf", "=HYPERLINK(1)", "jane/doe", "j\u00e4ne", "x" * 101])
def test_init_refuses_a_roster_id_outside_the_grammar_saying_what_an_id_may_hold(tmp_path, bad):
    roster = tmp_path / "roster.csv"
    roster.write_text(f'id\nada\n"{bad}"\n', encoding="utf-8")
    refused = cli("init", tmp_path / "course", "--roster", roster)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "line 3" in refused.stderr and GRAMMAR in refused.stderr and "Traceback" not in refused.stderr


def test_collect_gives_each_zip_to_its_student_when_one_roster_id_starts_another(course_dir, tmp_path):
    subs = tmp_path / "subs"
    for student in STUDENTS:
        # each zip named as `submit` names it, each with its own answer so the owner can be told
        toy.make_zip(subs / zip_name(student, "t1"), notebook=toy.notebook(course_dir), answer=f"{student}\n")
    done = cli("collect", course_dir, "t1", subs)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"collected {len(STUDENTS)} of {len(STUDENTS)} zips" in done.stdout
    for student in STUDENTS:
        answer = course_dir / "submitted" / student / "t1" / "answer.txt"
        assert answer.read_text() == f"{student}\n", student


def test_collect_reads_a_name_with_more_after_the_id_with_the_longest_roster_id_and_a_submit_name_exactly(
    course_dir, tmp_path
):
    subs = tmp_path / "subs"
    toy.make_zip(subs / "jane_doe_v2.zip", notebook=toy.notebook(course_dir), answer="jane_doe\n")
    toy.make_zip(subs / "jane_late.zip", notebook=toy.notebook(course_dir), answer="jane\n")
    toy.make_zip(subs / "jane_do_t1.zip", notebook=toy.notebook(course_dir), answer="nobody\n")
    done = cli("collect", course_dir, "t1", subs)
    assert "collected 2 of 3 zips" in done.stdout, done.stdout + done.stderr
    assert (course_dir / "submitted" / "jane_doe" / "t1" / "answer.txt").read_text() == "jane_doe\n"
    assert (course_dir / "submitted" / "jane" / "t1" / "answer.txt").read_text() == "jane\n"
    # named as submit names it: jane_do's hand-in, whom the roster does not have, is never given to jane
    assert "'jane_do' is not in the roster" in done.stdout


def test_collect_pattern_reads_the_student_group(course_dir, tmp_path):
    subs = tmp_path / "subs"
    toy.make_zip(subs / "hw-jane.doe@uni.edu-final.zip", notebook=toy.notebook(course_dir), answer="mail\n")
    done = cli("collect", course_dir, "t1", subs, "--pattern", r"hw-(?P<student>.+)-final\.zip")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (course_dir / "submitted" / "jane.doe@uni.edu" / "t1" / "answer.txt").read_text() == "mail\n"


@pytest.mark.parametrize("pattern", [r"(.+)_t1\.zip", r"(?P<who>.+)\.zip", r"(?P<student>.+"])
def test_collect_pattern_without_a_student_group_exits_2_saying_what_to_write(course_dir, tmp_path, pattern):
    subs = tmp_path / "subs"
    toy.make_zip(subs / "jane_t1.zip", notebook=toy.notebook(course_dir))
    refused = cli("collect", course_dir, "t1", subs, "--pattern", pattern)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr
    assert "--pattern" in refused.stderr and "(?P<student>" in refused.stderr
    assert not (course_dir / "submitted" / "jane").exists()


def test_submit_names_zips_that_collect_gives_to_the_right_student(tmp_path):
    course = load_course()
    root = workspace(tmp_path, "a1")
    subs = tmp_path / "subs"
    for student in ("jane", "jane_doe", "jane.doe@uni.edu", "a+b"):
        done = submit_cli(root, "a1", "--student", student, "--no-check", "--out", subs)
        assert done.returncode == 0, done.stderr
    assert sorted(path.name for path in subs.iterdir()) == sorted(
        ["jane_a1.zip", "jane_doe_a1.zip", "jane.doe@uni.edu_a1.zip", "a+b_a1.zip"]
    )
    roster = {"jane", "jane_doe", "jane.doe@uni.edu", "a+b", "a"}
    collected = {item.zip_name: item for item in collect(tmp_path / "course", course, "a1", subs, roster)}
    assert {name: (item.student, item.status) for name, item in collected.items()} == {
        "jane_a1.zip": ("jane", "ok"),
        "jane_doe_a1.zip": ("jane_doe", "ok"),
        "jane.doe@uni.edu_a1.zip": ("jane.doe@uni.edu", "ok"),
        "a+b_a1.zip": ("a+b", "ok"),
    }


def test_submit_refuses_an_id_outside_the_grammar_saying_what_an_id_may_hold(tmp_path):
    root = workspace(tmp_path, "a1")
    for bad in ("jane doe", "jane/doe", "../jane", ".hidden", "x" * 101):
        refused = submit_cli(root, "a1", f"--student={bad}", "--no-check", "--out", tmp_path / "out")
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert GRAMMAR in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


@pytest.mark.slow
def test_students_with_at_plus_and_underscore_ids_are_graded_and_exported(course_dir, tmp_path):
    subs = tmp_path / "subs"
    graded_ids = ["jane.doe@uni.edu", "a+b", "jane_doe"]
    for student in graded_ids:
        toy.make_zip(subs / zip_name(student, "t1"), notebook=toy.notebook(course_dir))
    assert cli("collect", course_dir, "t1", subs).returncode == 0
    graded = cli("grade", course_dir, "t1", "--jobs", "2")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    exported = cli("export", course_dir)
    assert exported.returncode == 0, exported.stderr
    with open(course_dir / "grades_t1.csv") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    full = str(sum(toy.POINTS.values()))
    for student in graded_ids:
        assert rows[student]["total"] == full, (student, rows[student])
    assert rows["jane"]["total"] == "0"


def test_collect_exchange_reads_an_id_holding_plus_from_nbgraders_folder_name(course_dir, tmp_path):
    root = tmp_path / "exchange"
    folder = root / "toy-course" / "inbound" / "a+b+t1+2025-10-03 21:59:00.000000 UTC+5f1c"
    (folder / "cs_lib").mkdir(parents=True)
    nbformat.write(toy.notebook(course_dir), str(folder / "toy.ipynb"))
    (folder / "answer.txt").write_text("a+b\n")
    (folder / "cs_lib" / "toy_student.py").write_text(toy.REFERENCE_MODULE)
    (folder / "timestamp.txt").write_text("2025-10-03 21:59:00.000000 UTC")
    done = cli("collect", course_dir, "t1", "--exchange", root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (course_dir / "submitted" / "a+b" / "t1" / "answer.txt").read_text() == "a+b\n"
    assert not (course_dir / "submitted" / "a").exists()
