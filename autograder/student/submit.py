"""`submit`: pack an assignment into the zip your TA's `collect` takes.

    python -m autograder submit a1 --student s1234             # writes s1234_a1.zip in this folder
    python -m autograder submit a5 --student s1234 --out ~/hand-in

1. runs the assignment's visible tests, as `check` does (a failing test is reported, never blocks);
2. packs exactly what `collect` takes for the assignment, from this checkout: its notebooks
   (assignments/<id>/*.ipynb), your cs_lib files for it and the extra files it asks for beside the
   notebook (A5: assignments/a5/a5_checkpoint.pt);
3. prints what it packed and the visible-test score.

It refuses, writing no zip, when a notebook or cs_lib file is missing or unreadable, or a file is
over the size limit `collect` applies (autograder/common/submission.py): the TA would never see it.
A missing extra file is reported and the rest packed (the tests that need the file score nothing).
"""

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.common import paths
from autograder.common.course import CourseError, load_manifest
from autograder.common.student_ids import ALLOWED, is_student_id
from autograder.common.submission import MIB, limit_for, zip_name

ADVICE = {
    "notebook": "clear large outputs (Edit > Clear Outputs of All Cells), save, and submit again",
    "student file": "keep data and long generated text out of your code",
    "extra file": "save a smaller file (e.g. a smaller model's checkpoint)",
}


class SubmitError(CourseError):
    """Nothing was packed; the message lists every problem and its fix."""


@dataclass
class Member:
    name: str  # the path inside the zip
    path: Path
    kind: str  # notebook, student file or extra file
    size: int = 0


@dataclass
class Submission:
    assignment: str
    student: str
    zip_path: Path = None
    members: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    report: object = None  # the visible tests' CheckReport, when they ran

    def summary(self):
        lines = [f"packed {len(self.members)} files into {self.zip_path}:"]
        lines += [f"  {m.name:<48} {m.size:>10,} bytes  ({m.kind})" for m in self.members]
        lines += [f"warning: {warning}" for warning in self.warnings]
        if self.report is None:
            lines.append("visible tests: not run (--no-check)")
        else:
            tests = [row for row in self.report.rows if row.kind == "test"]
            lines.append(
                f"visible tests: {sum(r.score for r in tests):g}/{sum(r.points for r in tests):g} points, "
                f"{sum(r.passed for r in tests)}/{len(tests)} questions pass "
                "(hidden tests and hand-graded answers are scored when your TA grades)"
            )
        lines.append(f"hand in {self.zip_path.name}")
        return "\n".join(lines)


def _entry(manifest, assignment_id):
    entry = next((a for a in manifest["assignments"] if a["id"] == assignment_id), None)
    if entry is None:
        known = [a["id"] for a in manifest["assignments"]]
        raise CourseError(f"unknown assignment {assignment_id!r}; the course has {known}")
    return entry


def plan(assignment_id, root=paths.REPO_ROOT):
    """([Member], [warning]) for what collect takes of this assignment; SubmitError lists what is wrong."""
    root = Path(root)
    entry = _entry(load_manifest(root / "assignments" / "manifest.json"), assignment_id)
    folder = root / "assignments" / assignment_id
    wanted = [
        Member(f"{assignment_id}/{nb['name']}.ipynb", folder / f"{nb['name']}.ipynb", "notebook")
        for nb in entry["notebooks"]
    ]
    wanted += [Member(name, root / name, "student file") for name in entry["student_files"]]
    wanted += [Member(f"{assignment_id}/{name}", folder / name, "extra file") for name in entry.get("extra_files", [])]
    members, problems, warnings = [], [], []
    for member in wanted:
        shown = member.path.relative_to(root).as_posix()
        if not member.path.is_file():
            if member.kind == "extra file":
                warnings.append(
                    f"no {shown}: the notebook writes it (run it to the end); the tests that need it will score 0"
                )
            elif member.kind == "notebook":
                problems.append(f"no notebook at {shown}: restore it from the course repository (git checkout)")
            else:
                problems.append(f"no {shown}: restore the starter file from the course repository (git checkout)")
            continue
        member.size = member.path.stat().st_size
        limit = limit_for(member.kind)
        if member.size > limit:
            problems.append(
                f"{shown} is {member.size / MIB:.1f} MiB, over the {limit / MIB:g} MiB limit for a {member.kind} "
                f"(your TA's collect would ignore it): {ADVICE[member.kind]}"
            )
            continue
        if member.kind == "notebook":
            try:
                json.loads(member.path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError, RecursionError) as error:
                why = "nested too deeply" if isinstance(error, RecursionError) else error
                problems.append(f"{shown} is not a readable notebook ({why}): restore it from a saved copy")
                continue
        members.append(member)
    if problems:
        raise SubmitError(
            f"nothing packed for {assignment_id}:\n" + "\n".join(f"  - {problem}" for problem in problems)
        )
    return members, warnings


def check_student_id(student):
    if not is_student_id(student):
        raise SubmitError(
            f"{student!r} cannot name a submission zip: use your student id as your course's roster has it, "
            f"with {ALLOWED} (no spaces or slashes)"
        )


def submit(assignment_id, student, out_dir=".", root=paths.REPO_ROOT, run_check=True, timeout=600):
    """Check, then pack assignment_id for student into out_dir/<student>_<assignment>.zip; returns a Submission."""
    check_student_id(student)
    root = Path(root)
    plan(assignment_id, root)  # refuse before spending minutes on the tests
    submission = Submission(assignment_id, student)
    if run_check:
        from autograder.student.check import check

        submission.report = check(assignment_id, manifest_path=root / "assignments" / "manifest.json", timeout=timeout)
    # packed after the tests ran, so the zip holds what they scored
    submission.members, submission.warnings = plan(assignment_id, root)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / zip_name(student, assignment_id)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=out_dir)
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED, strict_timestamps=False) as archive:
            for member in submission.members:
                archive.write(member.path, member.name)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    submission.zip_path = target
    return submission
