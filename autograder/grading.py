"""`grade`: autograde every collected submission of an assignment, in parallel, each in its own sandbox.

Per student a worker process (autograder.grade_worker) runs nbgrader autograde in a private
scratch course with a sandboxed kernel. This process alone writes the course's gradebook: once a
worker finishes, its scores are committed in one transaction and its executed notebooks replace
autograded/<student>/<assignment>/ in one rename, so a crash mid-run loses nothing and a re-run
is safe. A submission that times out, kills its kernel or cannot be read is recorded with the
reason and never stops the batch.
"""

import hashlib
import json
import multiprocessing as mp
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import tqdm as tqdm_module
from tqdm import tqdm

from autograder.course import CourseError
from autograder.course_dir import load_settings, nbgrader_api
from autograder.nbgrader_course import CONFIG_NAME
from autograder.overlay import compile_overlay, grading_overlay
from autograder.sandbox import Limits, bwrap_works, protections, release_cgroups

tqdm_module.tqdm.monitor_interval = 0  # no monitor thread: workers are forked from this process


@dataclass
class StudentResult:
    student: str
    score: float = 0.0
    max_score: float = 0.0
    needs_manual: float = 0.0
    status: str = "graded"
    reasons: list = field(default_factory=list)
    seconds: float = 0.0


def _template(course_dir, assignment_id):
    """A scratch course whose gradebook already knows the assignment's cells.

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
    shutil.copytree(source, staging / "source" / assignment_id)
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


def _scratch_root():
    """Memory-backed /dev/shm for the per-student scratch courses when there is room, else the default."""
    shm = Path("/dev/shm")
    try:
        if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 2 * 2**30:
            return str(shm)
    except OSError:
        pass
    return None


def _context():
    """fork where it is safe (Linux): workers start with nbgrader already imported."""
    if sys.platform.startswith("linux") and "fork" in mp.get_all_start_methods():
        return mp.get_context("fork")
    return mp.get_context("spawn")


def _worker(job, result_path):
    os.setsid()  # its own process group, so a deadline kills everything it started
    from autograder.grade_worker import run

    try:
        result = run(job)
    except BaseException as error:  # noqa: BLE001 - recorded for this student, never raised into the batch
        result = _failed(job, f"the grading worker failed: {type(error).__name__}: {error}", 0.0)
    Path(result_path).write_text(json.dumps(result))


def _failed(job, reason, seconds):
    return {
        "student": job["student"],
        "failure": reason,
        "scores": {},
        "notebooks": {},
        "findings": [],
        "seconds": seconds,
    }


class _Running:
    def __init__(self, job, workspace, context):
        self.job = job
        self.result_path = Path(workspace) / f"result-{job['student']}.json"
        self.process = context.Process(target=_worker, args=(job, str(self.result_path)), daemon=False)
        self.started = time.monotonic()
        self.process.start()

    def elapsed(self):
        return time.monotonic() - self.started

    def kill(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.join(10)

    def result(self):
        if self.result_path.is_file():
            return json.loads(self.result_path.read_text())
        return _failed(self.job, f"the grading worker died (exit code {self.process.exitcode})", self.elapsed())


def _schedule(jobs, workers, on_result, workspace):
    """Run jobs in at most `workers` processes at once; on_result(job, result) in this thread as they end."""
    context = _context()
    pending = list(jobs)
    running = []
    while pending or running:
        while pending and len(running) < workers:
            running.append(_Running(pending.pop(0), workspace, context))
        for item in list(running):
            if not item.process.is_alive():
                item.process.join()
                item.kill()  # anything the worker left behind in its process group
                running.remove(item)
                on_result(item.job, item.result())
            elif item.elapsed() > item.job["deadline"]:
                item.kill()
                running.remove(item)
                on_result(
                    item.job,
                    _failed(
                        item.job,
                        f"grading stopped after the {item.job['deadline']} s limit for the whole submission",
                        item.elapsed(),
                    ),
                )
            if item not in running:
                release_cgroups(Path(item.job["scratch"]) / "runtime")
        time.sleep(0.05)


def _manifest_kinds(course_dir, assignment):
    """{notebook: {grade_id: kind}} from the release notebooks (test, answer or task)."""
    import nbformat

    from autograder.authoring import notebook_tests

    kinds = {}
    for name in assignment.notebooks:
        path = Path(course_dir) / "release" / assignment.id / f"{name}.ipynb"
        notebook = nbformat.read(str(path), as_version=4)
        kinds[name] = {gid: kind for gid, _, kind in notebook_tests(notebook)}
    return kinds


def commit(gradebook, assignment, result, kinds, timestamp=None):
    """Write one student's scores into the open course gradebook in one transaction; return a StudentResult."""
    summary = StudentResult(student=result["student"], seconds=result.get("seconds", 0.0))
    flagged = bool(result.get("findings"))
    if result.get("failure"):
        summary.reasons.append(result["failure"])
    summary.reasons += result.get("notes", [])
    if flagged:
        summary.status = "review"
        summary.reasons.append("possible tampering, points withheld for review: " + "; ".join(result["findings"][:3]))
    submission = gradebook.update_or_create_submission(assignment.id, result["student"], timestamp=timestamp)
    for notebook in submission.notebooks:
        notebook_scores = result.get("scores", {}).get(notebook.name, {})
        cells = notebook_scores.get("cells", {})
        info = result.get("notebooks", {}).get(notebook.name, {})
        if not info.get("submitted", False):
            summary.reasons.append(f"{notebook.name}.ipynb was not submitted")
        summary.reasons += [f"{notebook.name}: {reason}" for reason in info.get("reasons", [])]
        for grade in notebook.grades:
            kind = kinds.get(notebook.name, {}).get(grade.name, "test")
            found = cells.get(grade.name)
            if kind == "test":
                score = found["auto_score"] if found and found["auto_score"] is not None else 0.0
                grade.auto_score = 0.0 if flagged else score
                grade.needs_manual_grade = flagged
            else:
                grade.auto_score = found["auto_score"] if found else 0.0
                grade.needs_manual_grade = found["needs_manual_grade"] if found else False
    gradebook.db.commit()
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            summary.max_score += grade.max_score
            summary.score += grade.auto_score or 0.0
            if grade.needs_manual_grade:
                summary.needs_manual += grade.max_score
    if result.get("failure") and summary.status == "graded":
        summary.status = "failed"
    elif summary.reasons and summary.status == "graded":
        summary.status = "graded (issues)"
    return summary


def _install_autograded(course_dir, assignment_id, result):
    """Replace autograded/<student>/<assignment>/ with the executed notebooks, atomically."""
    destination = Path(course_dir) / "autograded" / result["student"] / assignment_id
    staging = destination.with_name(destination.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name, info in result.get("notebooks", {}).items():
        if info.get("executed") and Path(info["executed"]).is_file():
            shutil.copyfile(info["executed"], staging / f"{name}.ipynb")
    (staging / "grading.json").write_text(json.dumps({k: v for k, v in result.items() if k != "scores"}, indent=1))
    old = destination.with_name(destination.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if destination.exists():
        destination.rename(old)
    staging.rename(destination)
    shutil.rmtree(old, ignore_errors=True)


def _timestamp(submission_dir):
    from nbgrader.utils import parse_utc

    stamp = Path(submission_dir) / "timestamp.txt"
    if stamp.is_file():
        try:
            return parse_utc(stamp.read_text().strip())
        except (ValueError, TypeError):
            return None
    return None


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
):
    """Grade every submission of assignment_id; returns ([StudentResult], protections in force)."""
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
    if sandbox == "auto":
        use_bwrap = bwrap_works()
    elif sandbox == "bwrap":
        if not bwrap_works():
            raise CourseError("bubblewrap is not usable here (install it: apt-get install bubblewrap)")
        use_bwrap = True
    else:
        use_bwrap = False
    limits = limits or Limits()
    jobs = max(1, jobs or os.cpu_count() or 1)
    from cs_lib.datasets import data_dir, embedded_folder

    embedded_folder()  # generated once here, read-only inside every sandbox
    kinds = _manifest_kinds(course_dir, assignment)
    results = []
    with tempfile.TemporaryDirectory(prefix=f"grade-{assignment_id}-", dir=_scratch_root()) as workspace:
        template = _template(course_dir, assignment_id)
        base = compile_overlay(grading_overlay(Path(workspace) / "overlay", course, assignment, {}))
        base_job = {
            "template": str(template),
            "course_file": str(course.course_file),
            "assignment": assignment_id,
            "release_dir": str(course_dir / "release" / assignment_id),
            "data_dir": str(data_dir()),
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
            timestamp = _timestamp(course_dir / "submitted" / job["student"] / assignment_id)
            results.append(commit(gradebook, assignment, result, kinds, timestamp))
            _install_autograded(course_dir, assignment_id, result)
            bar.update(1)
            bar.set_postfix(last=job["student"], refresh=False)

        from nbgrader.api import Gradebook

        with Gradebook(settings["db_url"], settings["course_id"]) as gradebook:
            _schedule(jobs_list, jobs, record, workspace)
        bar.close()
    return sorted(results, key=lambda r: r.student), protections(use_bwrap)


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
