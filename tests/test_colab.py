"""Colab and self-learners: the setup cell's logic under a simulated Colab (a fake google.colab
module, no GPU, no network), the same cell run locally, the self-check from a cell, progress, and
the generated Colab links."""

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from autograder.common.course import load_course
from autograder.common.sources import setup_cell_source

REPO = Path(__file__).resolve().parents[1]


class FakeColab:
    """sys.modules entries for google.colab with a Drive that records mounts."""

    def __init__(self, notebook=None):
        self.mounts = []
        self.colab = types.ModuleType("google.colab")
        drive = types.ModuleType("google.colab.drive")
        drive.mount = lambda path, **kwargs: (
            self.mounts.append(path),
            Path(path, "MyDrive").mkdir(parents=True, exist_ok=True),
        )
        message = types.ModuleType("google.colab._message")
        message.blocking_request = lambda kind, timeout_sec=None: {"ipynb": notebook}
        self.colab.drive = drive
        self.colab._message = message
        self.modules = {
            "google": types.ModuleType("google"),
            "google.colab": self.colab,
            "google.colab.drive": drive,
            "google.colab._message": message,
        }


@pytest.fixture
def colab(monkeypatch, tmp_path):
    """A simulated Colab runtime rooted at tmp_path; `git clone` links the checkout, pip does nothing."""
    fake = FakeColab()
    for name, module in fake.modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setenv("CS_COLAB_ROOT", str(tmp_path))
    monkeypatch.delenv("CS_DATA_DIR", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    # no network: the CIFAR-10 download must fail fast and fall back to the embedded dataset
    monkeypatch.setenv("CS_CIFAR10_URL", "http://127.0.0.1:9/cifar-10-python.tar.gz")
    commands = []

    def fake_run(command, check=False, **kwargs):
        commands.append(list(command))
        if command[:2] == ["git", "clone"]:
            os.symlink(REPO, command[-1])
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    fake.commands = commands
    fake.root = tmp_path
    return fake


def run_setup_cell(assignment="a1", keep_on_drive=True):
    source = setup_cell_source(load_course(), assignment)
    if not keep_on_drive:
        source = source.replace("KEEP_ON_DRIVE = True", "KEEP_ON_DRIVE = False")
    scope = {"__name__": "__main__"}
    exec(compile(source, "setup-cell", "exec"), scope)
    return scope["ENV"]


def test_setup_cell_on_colab_clones_to_drive_installs_and_falls_back_offline(colab):
    course = load_course()
    env = run_setup_cell("a1")
    workdir = colab.root / "drive" / "MyDrive" / course.id
    assert colab.mounts == [str(colab.root / "drive")]
    clone, install = colab.commands
    fetched = course.student_repository or course.repository  # the instructor repository is kept private
    assert clone == ["git", "clone", "-q", "--depth", "1", "-b", course.branch, fetched, str(workdir)]
    assert install[1:] == [
        "-m",
        "pip",
        "install",
        "-q",
        "-e",
        str(workdir),
        "--config-settings",
        "editable_mode=compat",
    ]
    assert sys.path[0] == str(workdir)
    assert Path.cwd() == (workdir / "assignments" / "a1").resolve()  # the fake clone is a link to this checkout
    assert env.colab and env.device == "cpu"  # no GPU in this runtime
    assert env.dataset == "embedded" and any("CIFAR-10 unavailable" in note for note in env.notes)
    assert os.environ["CS_DATA_DIR"] == str(colab.root / "cs_data")


def test_setup_cell_on_colab_keeps_existing_work_and_can_skip_drive(colab):
    run_setup_cell("a2")
    assert [c[0] for c in colab.commands].count("git") == 1
    colab.commands.clear()
    run_setup_cell("a2")  # a runtime reset: the copy on Drive (with the student's edits) is reused
    assert [c[:2] for c in colab.commands] == [[sys.executable, "-m"]]
    colab.commands.clear()
    run_setup_cell("a3", keep_on_drive=False)
    assert colab.commands[0][-1] == str(colab.root / load_course().id)
    assert len(colab.mounts) == 2


def test_setup_cell_locally_only_checks_and_never_downloads(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    import cs_lib.datasets.download as download

    def no_download(*args, **kwargs):
        raise AssertionError("the local setup cell must not download anything")

    monkeypatch.setattr(download, "download_cifar10", no_download)
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    env = run_setup_cell("a1")
    assert calls == [] and not env.colab
    out = capsys.readouterr().out
    assert "a1 on this machine" in out and "dataset embedded" in out


def test_local_setup_names_what_is_missing(monkeypatch):
    from cs_lib import fast_im2col, notebook

    monkeypatch.setattr(fast_im2col, "BACKEND", "numpy")
    monkeypatch.setattr(notebook.importlib.util, "find_spec", lambda name: None if name == "torch" else object())
    env = notebook.setup("a5", verbose=False)
    assert any("torch" in problem for problem in env.problems)
    assert any("compiled im2col" in problem for problem in env.problems)


def test_every_release_notebook_starts_with_the_generated_setup_cell():
    course = load_course()
    for assignment in course.assignments:
        for name in assignment.notebooks:
            path = REPO / "assignments" / assignment.id / f"{name}.ipynb"
            first = nbformat.read(str(path), as_version=4).cells[0]
            assert first.source == setup_cell_source(course, assignment.id)
            assert f'REPOSITORY = "{course.student_repository}"' in first.source
            assert course.repository not in first.source.replace(course.student_repository, "")


def test_readme_links_every_notebook_to_colab_from_the_configured_repository():
    course = load_course()
    readme = (REPO / "README.md").read_text()
    for assignment in course.assignments:
        for name in assignment.notebooks:
            assert course.colab_url(assignment.id, name) in readme
    assert course.colab_url("a1", "linear_classifiers").startswith(
        "https://colab.research.google.com/github/" + course.repository.removeprefix("https://github.com/")
    )


@pytest.mark.slow
def test_self_check_runs_from_a_cell_on_colab_with_the_open_notebook(monkeypatch, tmp_path):
    from autograder.student import check as check_module

    release = REPO / "assignments" / "a1" / "linear_classifiers.ipynb"
    fake = FakeColab(json.loads(release.read_text()))
    for name, module in fake.modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.chdir(tmp_path)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    # the starter stubs are what a student has before writing anything
    stubs = tmp_path / "stubs"
    from autograder.grading.run.overlay import build_overlay

    build_overlay(stubs)
    monkeypatch.setenv("PYTHONPATH", str(stubs))
    report = check_module.show_check("a1")
    assert (tmp_path / ".check_current.ipynb").is_file()
    assert not report.ok and "<table>" in shown[0].data
    assert all(row.score == 0 for row in report.rows if row.kind == "test")


def test_self_check_does_nothing_inside_a_check_run(monkeypatch, capsys):
    from autograder.student.check import show_check

    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    assert show_check("a1") is None
    assert "does not run inside" in capsys.readouterr().out


@pytest.mark.slow
def test_progress_lists_graded_functions_not_started_with_stubs_and_done_with_reference(monkeypatch, tmp_path):
    from autograder.grading.run.overlay import build_overlay
    from autograder.student.progress import progress, table

    reference = progress(assignment_ids=["a1", "a3"])  # this suite imports the reference implementation
    assert reference and all(row.status == "done" for row in reference), table(reference)
    functions = {row.function for row in reference}
    assert {"svm_loss_naive", "softmax_loss_vectorized", "conv_forward_naive", "max_pool_backward_naive"} <= functions
    build_overlay(tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    starter = progress(assignment_ids=["a1"])
    assert all(row.status == "not started" for row in starter), table(starter)
    assert "0 of" in table(starter)
