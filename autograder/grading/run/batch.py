"""`grade`: autograde every collected submission of an assignment, in parallel, each in its own sandbox.

Per student a worker process (autograder.grading.run.worker) runs nbgrader autograde in a private
scratch course with a sandboxed kernel. This process alone writes the course's gradebook: once a
worker finishes, its scores are committed in one transaction and its executed notebooks replace
autograded/<student>/<assignment>/ in one rename, so a crash mid-run loses nothing and a re-run
is safe. A submission that times out, kills its kernel or cannot be read is recorded with the
reason and never stops the batch.
"""

import hashlib
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

import tqdm as tqdm_module
from tqdm import tqdm

from autograder.common.course import CourseError
from autograder.grading.record.course_dir import course_gradebook, load_settings, nbgrader_api
from autograder.grading.record.gradebook import (
    StudentResult,
    commit,
    install_autograded,
    manifest_kinds,
    submission_timestamp,
)
from autograder.grading.record.nbgrader_course import CONFIG_NAME
from autograder.grading.run.cgroups import cgroups_usable, sweep_stale_cgroups
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
):
    """Grade every submission of assignment_id; returns ([StudentResult], protections in force).

    With cluster (a Dask scheduler address, e.g. tcp://host:8786) the students are graded on its workers
    (autograder.grading.run.schedule_dask), each of which applies the sandbox it can; jobs is then unused.
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
    jobs = max(1, jobs or os.cpu_count() or 1)
    data = grading_data_dir()  # the embedded dataset only, read-only inside every sandbox
    kinds = manifest_kinds(course_dir, assignment)
    results = []
    with tempfile.TemporaryDirectory(prefix=f"grade-{assignment_id}-", dir=scratch_root()) as workspace:
        template = _template(course_dir, assignment_id)
        base = compile_overlay(grading_overlay(Path(workspace) / "overlay", course, assignment, {}))
        base_job = {
            "template": str(template),
            "source_dir": str(course_dir / "source" / assignment_id),
            "course_file": str(course.course_file),
            "assignment": assignment_id,
            "release_dir": str(course_dir / "release" / assignment_id),
            "data_dir": str(data),
            "limits": asdict(limits),
            "use_bwrap": use_bwrap,
            "overlay_base": str(base),
            "read_only_files": _matplotlib_font_cache(),
            "cell_timeout": cell_timeout,
            "deadline": notebook_timeout * max(1, len(assignment.notebooks)) + 30,
        }
        bar = tqdm(total=len(submitted), desc=f"grading {assignment_id}", unit="student", disable=not progress)
        jobs_list = [
            dict(
                base_job,
                student=student,
                submission=str(course_dir / "submitted" / student / assignment_id),
                scratch=str(Path(workspace) / "students" / student),
            )
            for student in submitted
        ]

        def record(job, result):
            if result.get("not_graded"):
                # the grading machinery could not grade this student (e.g. a cluster worker refused):
                # nothing is written, so an earlier grade stands
                results.append(StudentResult(student=job["student"], status="not graded", reasons=[result["failure"]]))
            else:
                timestamp = submission_timestamp(course_dir / "submitted" / job["student"] / assignment_id)
                results.append(commit(gradebook, assignment, result, kinds, timestamp, course_dir=course_dir))
                install_autograded(course_dir, assignment_id, result)
            bar.update(1)
            bar.set_postfix(last=job["student"], refresh=False)

        with course_gradebook(course_dir) as gradebook:
            if cluster:
                from autograder.grading.run.schedule_dask import schedule as schedule_on_cluster

                in_force = schedule_on_cluster(cluster, jobs_list, record, workspace, sandbox)
            else:
                schedule(jobs_list, jobs, record, workspace)
                in_force = protections(use_bwrap)
        bar.close()
    return sorted(results, key=lambda r: r.student), in_force


def table(results):
    """A plain-text table of students, scores and what went wrong."""
    lines = [f"{'student':<16} {'score':>13} {'status':<16} notes"]
    for result in results:
        score = f"{result.score:g}/{result.max_score:g}"
        notes = "; ".join(result.reasons)
        if result.needs_manual:
            notes = f"{result.needs_manual:g} points to grade by hand" + ("; " + notes if notes else "")
        lines.append(f"{result.student:<16} {score:>13} {result.status:<16} {notes[:160]}")
    return "\n".join(lines)
