"""One hand-in hurts no one: what a student's kernel writes into the folders it shares with the grader is
capped and removed, and nothing of one student's grading is left for the students after them."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

import toy
from autograder.grading.intake.collect import collect
from autograder.grading.record.course_dir import roster_ids
from autograder.grading.run import batch
from autograder.grading.run.quota import folder_bytes
from autograder.grading.run.sandbox import Limits

pytestmark = pytest.mark.slow

FLOOD = """
import os
chunk = b"x" * (64 << 20)
for folder in (os.environ["CS_OUTBOX"], os.environ["JUPYTER_RUNTIME_DIR"]):
    for index in range(4):
        with open(os.path.join(folder, f"flood-{index}.bin"), "wb") as handle:
            for _ in range(3):
                handle.write(chunk)
"""


def test_a_kernel_that_floods_its_shared_folders_is_stopped_and_the_next_student_is_graded_as_usual(
    tmp_path, monkeypatch
):
    course_dir = toy.init_toy_course(tmp_path, ["aflood", "honest"])
    notebook = toy.notebook(course_dir)
    solution = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution"))
    solution.source += "\n" + FLOOD
    zips = tmp_path / "zips"
    toy.make_zip(zips / "aflood.zip", notebook=notebook)
    toy.make_zip(zips / "honest.zip", notebook=toy.notebook(course_dir))
    collect(course_dir, toy.course(), "t1", zips, roster_ids(course_dir))
    # a folder of this test's own where grading keeps its scratch (short: kernels' IPC socket paths must fit)
    scratch = Path(tempfile.mkdtemp(prefix="harm-", dir=batch.scratch_root()))
    monkeypatch.setattr(batch, "scratch_root", lambda: str(scratch))
    seen = []
    original = batch.schedule

    def watching_schedule(jobs, workers, on_result, workspace):
        def record(job, result):
            on_result(job, result)
            # the student graded before this one left nothing behind in the scratch folders
            seen.append((job["student"], folder_bytes(scratch)))

        return original(jobs, workers, record, workspace)

    monkeypatch.setattr(batch, "schedule", watching_schedule)
    try:
        results, _ = batch.grade(course_dir, toy.course(), "t1", jobs=1, progress=False, limits=Limits(workdir_mb=256))
    finally:
        leftover = folder_bytes(scratch)
        shutil.rmtree(scratch, ignore_errors=True)
    assert leftover < 1 << 20
    by_student = {r.student: r for r in results}
    assert by_student["honest"].score == 7, by_student["honest"]
    flood = by_student["aflood"]
    assert any("into the folders it shares with the grader" in reason for reason in flood.reasons), flood.reasons
    assert flood.score >= 5  # its functions are honest: the trusted tests of add and scale still pay for them
    assert [student for student, _ in seen] == ["aflood", "honest"]
    left_after_flood = seen[0][1]
    assert left_after_flood < 64 << 20, f"{left_after_flood / 2**20:.0f} MB of the flooding student's files were left"
    assert not list(Path(course_dir, "autograded").rglob("flood-*.bin"))
    assert not any(name.startswith("flood-") for _, _, names in os.walk(scratch) for name in names)
