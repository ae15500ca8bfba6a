"""`grade`: autograde every collected submission of an assignment, in parallel, each in its own sandbox.

Per student a worker process (autograder.grading.run.worker) runs nbgrader autograde in a private
scratch course with a sandboxed kernel. This process alone writes the course's gradebook: once a
worker finishes, its scores are committed in one transaction and its executed notebooks replace
autograded/<student>/<assignment>/ in one rename, so a crash mid-run loses nothing and a re-run
is safe. A submission that times out, kills its kernel or cannot be read is recorded with the
reason and never stops the batch.

Grading is incremental: a student whose stored grade was computed from the same submission, course
version and grading options (autograder.grading.run.fingerprint) is kept as it stands, untouched, and
reported "unchanged, kept"; `force` grades everyone again. A run killed mid-batch (its workers die
with it: autograder.grading.run.lifetime) or stopped by a gradebook database that went away
(GradebookStopped, nothing of the student being committed written) is completed by running it again.
"""

import contextlib
import hashlib
import os
import shutil
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import tqdm as tqdm_module
from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

from autograder.common.course import CourseError
from autograder.common.printable import printable
from autograder.grading.record.course_dir import course_gradebook, load_settings, nbgrader_api
from autograder.grading.record.gradebook import (
    GradebookStopped,
    StudentResult,
    commit,
    database_failure,
    database_name,
    install_autograded,
    kept_results,
    manifest_kinds,
    submission_timestamp,
)
from autograder.grading.record.gradebook_tables import ensure_tables, stored_gradings
from autograder.grading.record.nbgrader_course import CONFIG_NAME
from autograder.grading.run.cgroups import cgroups_usable, sweep_stale_cgroups
from autograder.grading.run.fingerprint import (
    course_version,
    grading_key,
    grading_options,
    installed_record,
    late_policy_settings,
    submission_part,
    unchanged,
)
from autograder.grading.run.overlay import compile_overlay, grading_overlay
from autograder.grading.run.sandbox import Limits, bwrap_works, protections
from autograder.grading.run.schedule_local import schedule
from autograder.grading.run.trusted_run import strip_hidden_tests
from autograder.grading.run.worker import scratch_root

tqdm_module.tqdm.monitor_interval = 0  # no monitor thread: workers are forked from this process


def grading_data_dir():
    """The data folder every sandbox of a grading run sees: the embedded dataset and nothing else.

    Grading runs each notebook on the embedded dataset whatever else this machine's data folder
    holds: the tests' thresholds, the notebooks' grading sizes and the kernels' memory limit are set
    for it (A1 on all of CIFAR-10 needs more than the 3 GB a kernel may use), every grading machine
    then gives a student the same score, and nothing else there (a downloaded CIFAR-10, the reference
    submissions' files that `verify` and `demo` keep in datasets/.reference_files) is in reach of
    student code. The copy is made once per version of the embedded dataset.
    """
    from cs_lib.datasets import data_dir, embedded_folder

    source = embedded_folder()
    marker = (source / "EMBEDDED").read_text()
    if source.name == "embedded" and [path.name for path in source.parent.iterdir()] == ["embedded"]:
        return source.parent
    version = hashlib.sha256(marker.encode()).hexdigest()[:16]
    tried = []
    for cache in (data_dir() / ".grading", Path(tempfile.gettempdir()) / f"cs-grader-data-{os.getuid()}"):
        folder = cache / version  # holds embedded/ and nothing else
        if (folder / "embedded" / "EMBEDDED").is_file():
            return folder
        try:
            cache.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix="partial-", dir=cache))
            shutil.copytree(source, staging / "embedded")
            try:
                staging.rename(folder)
            except OSError:  # another grading process made the same copy first
                shutil.rmtree(staging, ignore_errors=True)
            if (folder / "embedded" / "EMBEDDED").is_file():
                return folder
        except OSError as error:
            tried.append(f"{cache} ({error.strerror or error})")
    raise CourseError(
        f"no folder could hold the embedded dataset for grading: tried {'; '.join(tried)}; "
        "make one of them writable, or set CS_DATA_DIR to a writable folder"
    )


def _template(course_dir, assignment_id):
    """A scratch course whose gradebook already knows the assignment's cells (test cells without
    their hidden parts).

    Every student's private course starts as a copy of it. It is made once per version of the
    source notebooks and kept in <course>/.autograder/, so later grading runs start at once.
    """
    source = Path(course_dir) / "source" / assignment_id
    digest = hashlib.sha256()
    for path in sorted(source.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(source).as_posix().encode() + path.read_bytes())
    template = Path(course_dir) / ".autograder" / "templates" / f"{assignment_id}-{digest.hexdigest()[:16]}"
    if (template / "gradebook.db").is_file():
        return template
    staging = template.with_name(template.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "source").mkdir(parents=True)
    # the kernel runs the visible tests only: hidden tests run in the trusted grader, never where
    # student code could read them
    shutil.copytree(source, staging / "source" / assignment_id)
    for path in (staging / "source" / assignment_id).glob("*.ipynb"):
        strip_hidden_tests(path)
    settings = load_settings(course_dir)
    (staging / CONFIG_NAME).write_text(
        f"c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = {settings['course_id']!r}\n"
    )
    outcome = nbgrader_api(staging).generate_assignment(assignment_id, force=True, create=True)
    if not outcome["success"]:
        raise CourseError(f"nbgrader could not prepare {assignment_id} for grading:\n{outcome.get('log', '')[-3000:]}")
    shutil.rmtree(staging / "release", ignore_errors=True)
    (staging / CONFIG_NAME).unlink()
    staging.rename(template)
    return template


def _matplotlib_font_cache():
    """{inside path: file} for matplotlib's font list, so sandboxed kernels do not rebuild it each time."""
    try:
        import matplotlib

        cache = Path(matplotlib.get_cachedir())
    except Exception:  # noqa: BLE001 - without the cache, kernels just rebuild it
        return {}
    return {f"/tmp/matplotlib/{path.name}": str(path) for path in cache.glob("fontlist-*.json")}


def _remove_stale_workspaces(root):
    """Remove the workspaces of grading runs on this machine that were killed (their process is gone)."""
    for folder in Path(root or tempfile.gettempdir()).glob("grade-*-*-*"):
        owner = folder.name.rsplit("-", 2)[-2]
        if owner.isdigit() and int(owner) != os.getpid() and not _alive(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _open_gradebook(course_dir, db_url):
    """The course gradebook, or GradebookStopped saying that its database does not answer."""
    try:
        gradebook = course_gradebook(course_dir)
    except SQLAlchemyError as error:
        _, said = database_failure(error)
        raise GradebookStopped(
            f"the gradebook database at {database_name(db_url)} is not answering ({said}); nothing was graded; "
            "start the database and run grade again"
        ) from None
    try:
        yield gradebook
    finally:
        try:
            gradebook.close()
        except SQLAlchemyError:  # the database is gone: there is nothing left to close
            pass


def _plan(gradebook, course_dir, assignment_id, submitted, version, options, sandboxes, force):
    """({student: submission part of its key} to grade, [StudentResult] of those kept unchanged)."""
    ensure_tables(gradebook)
    stored = stored_gradings(gradebook.db, assignment_id)
    rows = {submission.student_id: submission for submission in gradebook.assignment_submissions(assignment_id)}
    to_grade, kept, failures = {}, {}, {}
    for student in submitted:
        part = submission_part(course_dir / "submitted" / student / assignment_id)
        if student in rows and rows[student].extension is not None:
            part["extension"] = str(rows[student].extension)
        key, graded_at = stored.get(student, (None, None))
        keys = {grading_key(version, options, part, use)[0] for use in sandboxes}
        record = installed_record(course_dir, assignment_id, student)
        if not force and student in rows and unchanged(key, keys, record):
            kept[student] = graded_at
            if record.get("failure"):  # the submission's own doing (a machinery failure is never kept)
                failures[student] = f"that grading failed: {record['failure']}"
        else:
            to_grade[student] = part
    summaries = kept_results(gradebook, assignment_id, kept)
    for student, reason in failures.items():
        summaries[student].reasons.append(reason)
    return to_grade, [summaries[student] for student in kept]


def grade(
    course_dir,
    course,
    assignment_id,
    jobs=None,
    students=None,
    sandbox="auto",
    limits=None,
    cell_timeout=120,
    notebook_timeout=600,
    progress=True,
    cluster=None,
    force=False,
):
    """Grade the submissions of assignment_id not graded yet from what they would be graded from now (all of
    them with force); returns ([StudentResult], protections in force). Those kept have status KEPT.

    With cluster (a Dask scheduler address, e.g. tcp://host:8786) the students are graded on its workers
    (autograder.grading.run.schedule_dask), each of which applies the sandbox it can; jobs is then unused.
    Raises GradebookStopped when the gradebook database fails: what was committed before stays.
    """
    course_dir = Path(course_dir).resolve()
    settings = load_settings(course_dir)
    assignment = course.assignment(assignment_id)
    if assignment_id not in settings["assignments"]:
        raise CourseError(f"{assignment_id} is not set up in {course_dir}; run `init` with it")
    submitted = sorted(p.parent.name for p in (course_dir / "submitted").glob(f"*/{assignment_id}") if p.is_dir())
    if students:
        unknown = sorted(set(students) - set(submitted))
        if unknown:
            raise CourseError(f"no collected submission of {assignment_id} for: {', '.join(unknown)}")
        submitted = [s for s in submitted if s in set(students)]
    if cluster:
        use_bwrap = None  # each Dask worker decides for itself, as `sandbox` asks
    elif sandbox == "auto":
        use_bwrap = bwrap_works()
    elif sandbox == "bwrap":
        if not bwrap_works():
            raise CourseError("bubblewrap is not usable here (install it: apt-get install bubblewrap)")
        use_bwrap = True
    else:
        use_bwrap = False
    limits = limits or Limits()
    if cgroups_usable():
        sweep_stale_cgroups()  # left by a grading run that was killed before it could clean up
    _remove_stale_workspaces(scratch_root())
    jobs = max(1, jobs or os.cpu_count() or 1)
    data = grading_data_dir()  # the embedded dataset only, read-only inside every sandbox
    kinds = manifest_kinds(course_dir, assignment)
    results = []
    with contextlib.ExitStack() as stack:
        on_cluster = None
        if cluster:
            from autograder.grading.run.schedule_dask import Cluster

            on_cluster = stack.enter_context(Cluster(cluster))
        sandboxes = on_cluster.sandboxes(sandbox) if on_cluster else {use_bwrap}
        workspace = stack.enter_context(
            tempfile.TemporaryDirectory(prefix=f"grade-{assignment_id}-{os.getpid()}-", dir=scratch_root())
        )
        overlay = grading_overlay(Path(workspace) / "overlay", course, assignment, {})
        version = course_version(course_dir, course, assignment_id, overlay, data)
        gradebook = stack.enter_context(_open_gradebook(course_dir, settings["db_url"]))
        try:
            due = gradebook.find_assignment(assignment_id).duedate
            options = grading_options(
                asdict(limits), cell_timeout, notebook_timeout, due, late_policy_settings(course_dir)
            )
            to_grade, results = _plan(
                gradebook, course_dir, assignment_id, submitted, version, options, sandboxes, force
            )
        except SQLAlchemyError as error:
            _, said = database_failure(error)
            raise GradebookStopped(
                f"the gradebook database at {database_name(settings['db_url'])} failed ({said}); nothing was "
                "graded; start the database and run grade again"
            ) from None
        if progress:
            kept = f"; {len(results)} unchanged since graded, kept (--force grades them again)" if results else ""
            print(f"{assignment_id}: {len(to_grade)} of {len(submitted)} submissions to grade{kept}", file=sys.stderr)
        # what only grading needs (the template, the compiled overlay, matplotlib's fonts) is made only for it
        base_job = {
            "template": str(_template(course_dir, assignment_id)) if to_grade else None,
            "source_dir": str(course_dir / "source" / assignment_id),
            "course_file": str(course.course_file),
            "assignment": assignment_id,
            "release_dir": str(course_dir / "release" / assignment_id),
            "data_dir": str(data),
            "limits": asdict(limits),
            "use_bwrap": use_bwrap,
            "overlay_base": str(compile_overlay(overlay)) if to_grade else None,
            "read_only_files": _matplotlib_font_cache() if to_grade else {},
            "cell_timeout": cell_timeout,
            "deadline": notebook_timeout * max(1, len(assignment.notebooks)) + 30,
        }
        bar = tqdm(total=len(to_grade), desc=f"grading {assignment_id}", unit="student", disable=not progress)
        jobs_list = [
            dict(
                base_job,
                student=student,
                submission=str(course_dir / "submitted" / student / assignment_id),
                scratch=str(Path(workspace) / "students" / student),
            )
            for student in to_grade
        ]
        committed = []

        def record(job, result):
            student = job["student"]
            if result.get("not_graded"):
                # the grading machinery could not grade this student (e.g. a cluster worker refused):
                # nothing is written, so an earlier grade stands
                results.append(StudentResult(student=student, status="not graded", reasons=[result["failure"]]))
            else:
                used_bwrap = result.get("worker", {}).get("use_bwrap", use_bwrap)
                # a grading the machinery failed (not the submission) is recorded, and tried again next run
                grading = None if result.get("retry") else grading_key(version, options, to_grade[student], used_bwrap)
                result["grading_key"] = grading[0] if grading else None
                timestamp = submission_timestamp(course_dir / "submitted" / student / assignment_id)
                try:
                    summary = commit(gradebook, assignment, result, kinds, timestamp, course_dir, grading)
                except SQLAlchemyError as error:
                    message = _stopped_message(settings["db_url"], error, student, committed, to_grade)
                    raise GradebookStopped(message) from None
                committed.append(student)
                results.append(summary)
                install_autograded(course_dir, assignment_id, result)
            bar.update(1)
            bar.set_postfix(last=student, refresh=False)

        try:
            if on_cluster:
                in_force = on_cluster.grade(jobs_list, record, workspace, sandbox)
            else:
                schedule(jobs_list, jobs, record, workspace)
                in_force = protections(use_bwrap)
        finally:
            bar.close()
    return sorted(results, key=lambda r: r.student), in_force


def _stopped_message(db_url, error, student, committed, to_grade):
    lost, said = database_failure(error)
    what = "stopped answering" if lost else "refused a write"
    return (
        f"the gradebook database at {database_name(db_url)} {what} after {len(committed)} of the {len(to_grade)} "
        f"students to grade were committed ({said}); nothing of {student}'s grading was written; start the "
        "database and run grade again: students already committed are kept, the others are graded"
    )


def table(results):
    """A plain-text table of students, scores and what went wrong."""
    lines = [f"{'student':<16} {'score':>13} {'status':<16} notes"]
    for result in results:
        score = f"{result.score:g}/{result.max_score:g}"
        # reasons quote what students wrote (grade ids, names): shown escaped, never sent to the terminal
        notes = "; ".join(printable(reason, 160) for reason in result.reasons)
        if result.needs_manual:
            notes = f"{result.needs_manual:g} points to grade by hand" + ("; " + notes if notes else "")
        lines.append(f"{printable(result.student, 60):<16} {score:>13} {result.status:<16} {printable(notes, 160)}")
    return "\n".join(lines)
