"""`demo`: the whole TA workflow on three sample students, offline, in a temporary course directory.

1. `init`: a course directory with a SQLite gradebook and a roster of three students;
2. submissions: for every assignment a zip per student --
   ``reference`` (the instructor's solutions), ``starter`` (the untouched release) and
   ``halfdone`` (the first half of the notebook's solution cells and of the graded cs_lib functions done,
   the rest left as stubs);
3. `collect`, `grade` (parallel, sandboxed), `feedback` and `export`;
4. the grade table, with the paths of grades.csv and the feedback pages.
"""

import hashlib
import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

import nbformat

from autograder.common import paths
from autograder.common.sources import BEGIN, END, source_notebook
from autograder.grading.intake.collect import collect
from autograder.grading.record.course_dir import init_course, roster_ids
from autograder.grading.report.export import export
from autograder.grading.report.feedback import feedback
from autograder.grading.run.batch import grade, table
from autograder.instructor.authoring import graded_functions, make_stub
from autograder.instructor.verify import make_reference_files

STUDENTS = ("reference", "starter", "halfdone")


def _without_markers(source):
    return "\n".join(line for line in source.splitlines() if line.strip() not in (BEGIN, END))


def solved_notebook(release, source, fraction=1.0):
    """The release notebook with (a fraction of) its solution and answer cells filled in from the source."""
    answers = {}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            answers[meta["grade_id"]] = _without_markers(cell.source)
    notebook = nbformat.from_dict(release)
    solution_ids = [
        c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")
    ]
    chosen = set(solution_ids[: round(len(solution_ids) * fraction)])
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in chosen and grade_id in answers:
            cell.source = answers[grade_id]
    return notebook


def _cache_key(course, assignment):
    digest = hashlib.sha256()
    for name, path in sorted(course.references().items()):
        digest.update(name.encode() + path.read_bytes())
    digest.update(assignment.reference_files_script.read_bytes())
    return digest.hexdigest()[:16]


def reference_files(course, assignment, workspace):
    """The assignment's extra files made by its reference script (cached between demo runs)."""
    if not assignment.reference_files:
        return {}
    from cs_lib.datasets import data_dir

    cache = data_dir() / ".reference_files" / f"{assignment.id}-{_cache_key(course, assignment)}"
    if not all((cache / name).is_file() for name in assignment.extra_files):
        from autograder.grading.run.overlay import reference_overlay

        overlay = reference_overlay(Path(workspace) / f"overlay-{assignment.id}", course)
        staging = Path(tempfile.mkdtemp(prefix="reference-files-", dir=workspace))
        make_reference_files(assignment, overlay, staging)
        cache.mkdir(parents=True, exist_ok=True)
        for name in assignment.extra_files:
            shutil.copyfile(staging / name, cache / name)
    return {name: cache / name for name in assignment.extra_files}


def graded(course, assignment):
    """[(student file, function)] of every graded function of the assignment, in course order."""
    references = course.references()
    return [
        (name, function)
        for name in assignment.student_files
        for function in graded_functions(references[name].read_text(), str(references[name]))
    ]


def half_done_files(course, assignment):
    """{student file: source} with the first half (rounded down) of the graded functions done and the rest
    left as stubs: a student who is halfway, whatever the number of files."""
    references = course.references()
    functions = graded(course, assignment)
    done = functions[: len(functions) // 2]
    return {
        name: make_stub(references[name].read_text(), str(references[name]), keep={f for n, f in done if n == name})
        for name in assignment.student_files
    }


def make_submissions(course, assignment, release_dir, out_dir, workspace):
    """Write <student>.zip for the three sample students; return the folder."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    references = course.references()
    extra = reference_files(course, assignment, workspace)
    reference = {name: references[name].read_text() for name in assignment.student_files}
    starter = {
        name: (paths.REPO_ROOT / name).read_text()
        if (paths.REPO_ROOT / name).is_file()
        else make_stub(reference[name], str(references[name]))
        for name in assignment.student_files
    }
    plans = {
        "reference": (1.0, reference, True),
        "starter": (0.0, starter, False),
        "halfdone": (0.5, half_done_files(course, assignment), True),
    }
    for student, (fraction, files, with_extra) in plans.items():
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in assignment.notebooks:
                release = nbformat.read(str(Path(release_dir) / f"{name}.ipynb"), as_version=4)
                source = source_notebook(assignment.source_notebook(name), course, assignment.id)
                notebook = solved_notebook(release, source, fraction)
                archive.writestr(f"{assignment.id}/{name}.ipynb", nbformat.writes(notebook))
            for name, text in files.items():
                archive.writestr(name, text)
            if with_extra:
                for name, path in extra.items():
                    archive.write(path, f"{assignment.id}/{name}")
        (out_dir / f"{student}.zip").write_bytes(buffer.getvalue())
    return out_dir


def run_demo(course, workdir=None, assignment_ids=None, jobs=None, keep=False, log=print):
    """Run the demo; returns (course_dir, {assignment: [StudentResult]}, [csv paths])."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="autograder-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    course_dir = workdir / "course"
    roster = workdir / "roster.csv"
    roster.write_text(
        "id,first_name,last_name,email\n" + "".join(f"{s},{s.title()},Student,{s}@example.edu\n" for s in STUDENTS)
    )
    ids = assignment_ids or [a.id for a in course.assignments]
    log(f"course directory: {course_dir}")
    init_course(course_dir, course, roster=roster, assignment_ids=ids)
    known = roster_ids(course_dir)
    all_results = {}
    for assignment_id in ids:
        assignment = course.assignment(assignment_id)
        zips = make_submissions(
            course, assignment, course_dir / "release" / assignment_id, workdir / "submissions" / assignment_id, workdir
        )
        collected = collect(course_dir, course, assignment_id, zips, known)
        for item in collected:
            if item.status not in ("ok", "warnings"):
                log(f"collect {assignment_id}/{item.student}: {item.status}: {'; '.join(item.problems)}")
        results, protections = grade(course_dir, course, assignment_id, jobs=jobs, progress=False)
        feedback(course_dir, course, assignment_id)
        all_results[assignment_id] = results
        log(f"\n{assignment_id}: {assignment.title}\n{table(results)}")
    csv_paths = export(course_dir)
    active = [name for name, on, _ in protections if on]
    missing = [f"{name} ({how})" for name, on, how in protections if not on]
    log(f"\nsandbox: {', '.join(active)}" + (f"\nNOT protected: {', '.join(missing)}" if missing else ""))
    log(f"grades: {csv_paths[0]}\nfeedback: {course_dir / 'feedback'}")
    (workdir / "demo.json").write_text(
        json.dumps({a: [r.__dict__ for r in rs] for a, rs in all_results.items()}, indent=1, default=str)
    )
    return course_dir, all_results, csv_paths
