"""Grading runs on the embedded dataset alone, whatever else the grading machine's data folder holds.

A TA who downloaded CIFAR-10 (or ran `demo`/`verify`, which keep the reference submissions' files in
datasets/.reference_files) must still grade every student on the data the tests and limits were set
for, and student code must not reach anything else in that folder.
"""

import os
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.common.course import load_course
from autograder.grading.intake.collect import collect
from autograder.grading.record.course_dir import init_course, roster_ids
from autograder.grading.run.batch import grade, grading_data_dir
from autograder.instructor.demo import make_submissions
from cs_lib.datasets import embedded_folder

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def embedded_copy(tmp_path_factory):
    """The embedded dataset, generated once for this module."""
    folder = tmp_path_factory.mktemp("embedded-source")
    shutil.copytree(embedded_folder(), folder / "embedded")
    return folder / "embedded"


@pytest.fixture
def crowded_data_dir(tmp_path, embedded_copy, monkeypatch):
    """A grading machine's data folder holding more than the embedded dataset: a broken CIFAR-10
    download (grading that used it would fail) and a reference submission's checkpoint."""
    data = tmp_path / "data"
    shutil.copytree(embedded_copy, data / "embedded")
    (data / "cifar-10-batches-py").mkdir()
    (data / "cifar-10-batches-py" / "batches.meta").write_bytes(b"not a pickle")
    (data / ".reference_files" / "a5-0123").mkdir(parents=True)
    (data / ".reference_files" / "a5-0123" / "a5_checkpoint.pt").write_bytes(b"reference weights")
    (data / "README.md").write_text("datasets\n")
    monkeypatch.setenv("CS_DATA_DIR", str(data))
    return data


def test_the_grading_data_folder_holds_the_embedded_dataset_and_nothing_else(crowded_data_dir):
    folder = grading_data_dir()
    assert sorted(path.name for path in folder.iterdir()) == ["embedded"]
    source = crowded_data_dir / "embedded"
    assert sorted(path.name for path in (folder / "embedded").iterdir()) == sorted(p.name for p in source.iterdir())
    for path in source.iterdir():
        assert (folder / "embedded" / path.name).read_bytes() == path.read_bytes(), path.name
    # made once: a second grading run takes the same copy
    stamp = (folder / "embedded" / "EMBEDDED").stat().st_mtime_ns
    assert grading_data_dir() == folder
    assert (folder / "embedded" / "EMBEDDED").stat().st_mtime_ns == stamp


def test_a_data_folder_that_holds_only_the_embedded_dataset_is_used_as_it_is(tmp_path, embedded_copy, monkeypatch):
    shutil.copytree(embedded_copy, tmp_path / "data" / "embedded")
    monkeypatch.setenv("CS_DATA_DIR", str(tmp_path / "data"))
    assert grading_data_dir() == tmp_path / "data"


def test_an_unwritable_data_folder_falls_back_to_a_temporary_copy(crowded_data_dir, tmp_path, monkeypatch):
    if os.geteuid() == 0:
        # root writes through permission bits: stand in a file where the cache folder would go
        (crowded_data_dir / ".grading").write_text("not a folder")
    else:
        crowded_data_dir.chmod(0o555)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    try:
        folder = grading_data_dir()
    finally:
        crowded_data_dir.chmod(0o755)
    assert folder.is_relative_to(tmp_path / "tmp")
    assert sorted(path.name for path in folder.iterdir()) == ["embedded"]


@pytest.mark.slow
def test_a1_grades_in_full_on_the_embedded_dataset_beside_a_broken_cifar10(crowded_data_dir, tmp_path):
    course = load_course()
    roster = tmp_path / "roster.csv"
    roster.write_text("id\nreference\n")
    course_dir = tmp_path / "course"
    init_course(course_dir, course, roster=roster, assignment_ids=["a1"])
    subs = make_submissions(course, course.assignment("a1"), course_dir / "release" / "a1", tmp_path / "subs", tmp_path)
    (subs / "starter.zip").unlink()
    (subs / "halfdone.zip").unlink()
    (collected,) = collect(course_dir, course, "a1", subs, roster_ids(course_dir))
    assert collected.status == "ok", collected.problems
    (result,), _ = grade(course_dir, course, "a1", jobs=1, progress=False)
    assert result.score == result.max_score - result.needs_manual > 0, result.reasons
    executed = nbformat.read(str(course_dir / "autograded" / "reference" / "a1" / "linear_classifiers.ipynb"), 4)
    printed = "".join(o.get("text", "") for cell in executed.cells for o in cell.get("outputs", []))
    assert "dataset: embedded" in printed and "cifar10" not in printed.split("dataset:")[1].splitlines()[0]
