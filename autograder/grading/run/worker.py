"""One student's grading: `run(job)`, called by `grade` in a process of its own (trusted code; only
the notebook kernel it starts runs student code, in the sandbox).

In a private scratch folder it builds an nbgrader course from the assignment template (source
notebooks and a gradebook that knows their cells), copies in the student's submission, scans it for
tampering, builds the student's cs_lib overlay and a sandboxed kernelspec, runs nbgrader's autograde
and returns the scores of the executed notebooks. It never touches the course's gradebook: the parent
process commits results there, one student at a time.
"""

import os
import shutil
import sys
import time
from pathlib import Path

import nbformat

from autograder.common import paths
from autograder.common.course import load_course
from autograder.common.printable import printable
from autograder.common.scoring import cell_score
from autograder.grading.intake.cell_roles import restore_notebook_roles
from autograder.grading.intake.collect import STUDENT_FILES_DIR, submitted_student_files
from autograder.grading.intake.integrity import scan_submission
from autograder.grading.record.course_dir import nbgrader_api
from autograder.grading.record.sanitize import plain_text
from autograder.grading.run.cgroups import release_cgroups
from autograder.grading.run.overlay import copy_overlay
from autograder.grading.run.quota import SharedFolderQuota
from autograder.grading.run.sandbox import KERNEL_NAME, Limits, write_kernelspec, write_profile
from autograder.grading.run.trusted_run import TrustedRun, module_name, trusted_tests

SCRATCH_CONFIG = """\
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.ResilientExecute.kernel_name = {kernel_name!r}
c.ResilientExecute.timeout = {cell_timeout}
c.ResilientExecute.interrupt_on_timeout = True
c.ResilientExecute.startup_timeout = 120
c.KernelManager.transport = "ipc"
c.KernelManager.ip = {ipc_prefix!r}
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100
# scores are read from the executed notebook (scores_from_notebook), so nbgrader's SaveAutoGrades,
# which would zero a test that merely printed a warning, is left out of the scratch course
from nbgrader.preprocessors import IgnorePattern, LimitOutput, CheckCellMetadata
from nbconvert.preprocessors import ClearMetadataPreprocessor
from autograder.grading.run.nbgrader_ext import ResilientExecute
c.Autograde.autograde_preprocessors = [ResilientExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                       CheckCellMetadata]
"""

# job entries that name files or folders the worker reads: a grading machine without the TA's filesystem
# (a Dask worker) gets them as data and unpacks them into its own scratch folder. "scratch" is always
# local to the worker; "data_dir" and "read_only_files" name the worker machine's own dataset and caches.
PATH_KEYS = ("template", "source_dir", "course_file", "release_dir", "overlay_base", "submission")
EXPORT_CELL_ID = "cs-autograder-export"
EXPORT_SOURCE = """\
# added by the grader: hands the variables that tests judge to the trusted grader, as plain data
import importlib.util as _cs_util, os as _cs_os
_cs_spec = _cs_util.spec_from_file_location("_cs_wire", _cs_os.path.join(_cs_os.environ["CS_WIRE_DIR"], "wire.py"))
_cs_wire = _cs_util.module_from_spec(_cs_spec)
_cs_spec.loader.exec_module(_cs_wire)
_cs_wire.export_names(globals(), {names!r}, _cs_os.path.join(_cs_os.environ["CS_OUTBOX"], {file!r}))
"""

FAILURE_NAMES = {
    "CellTimeoutError": "a cell ran past the {cell_timeout} s limit",
    "DeadKernelError": "the kernel died (memory limit, os._exit, a crash or a killed process)",
}


def scratch_root():
    """Memory-backed /dev/shm for per-student scratch folders when it has room, else the system's default."""
    shm = Path("/dev/shm")
    try:
        if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 2 * 2**30:
            return str(shm)
    except OSError:
        pass
    return None


def _release_sources(release_dir, notebooks):
    sources = {}
    for name in notebooks:
        path = Path(release_dir) / f"{name}.ipynb"
        if path.is_file():
            notebook = nbformat.read(str(path), as_version=4)
            sources[f"{name}.ipynb"] = {cell.get("id"): cell.get("source", "") for cell in notebook.cells}
    return sources


def _drop_duplicate_cells(path):
    """Remove repeated copies of a graded cell (nbgrader would fail the whole notebook on them)."""
    try:
        notebook = nbformat.read(str(path), as_version=4)
    except Exception:  # noqa: BLE001 - nbgrader reports the unreadable notebook itself
        return []
    seen, kept, notes = set(), [], []
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id and grade_id in seen:
            notes.append(f"{path.stem}: removed a duplicated copy of cell '{printable(grade_id, 80)}'")
            continue
        seen.add(grade_id)
        kept.append(cell)
    if notes:
        notebook.cells = kept
        nbformat.write(notebook, str(path))
    return notes


def _notebook_reasons(path, cell_timeout):
    """Why cells of an executed notebook failed beyond ordinary test failures (timeouts, dead kernel)."""
    if not path.is_file():
        return []
    try:
        notebook = nbformat.read(str(path), as_version=4)
    except Exception:  # noqa: BLE001 - an unreadable output notebook is itself the reason
        return ["the executed notebook could not be read back"]
    reasons = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") in FAILURE_NAMES:
                label = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or cell.get("id")
                reasons.append(f"{label}: " + FAILURE_NAMES[output["ename"]].format(cell_timeout=cell_timeout))
    return reasons


def _nbgrader_errors(log):
    lines = [line.strip() for line in log.splitlines() if "| ERROR]" in line or "Error:" in line]
    return lines[-5:]


def _add_export_cells(path, reads):
    """Put, right before each stateful test cell ({grade_id: names}), a cell that exports the variables
    it reads as they are when the test would run (at the end when the test cell is missing)."""
    try:
        notebook = nbformat.read(str(path), as_version=4)
    except Exception:  # noqa: BLE001 - nbgrader reports the unreadable notebook itself
        return
    cells = [cell for cell in notebook.cells if not str(cell.get("id", "")).startswith(EXPORT_CELL_ID)]
    placed = set()
    out = []
    for cell in cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in reads and grade_id not in placed:
            out.append(_export_cell(path.stem, grade_id, reads[grade_id]))
            placed.add(grade_id)
        out.append(cell)
    out += [_export_cell(path.stem, grade_id, names) for grade_id, names in reads.items() if grade_id not in placed]
    notebook.cells = out
    nbformat.write(notebook, str(path))


def _export_cell(notebook_name, grade_id, names):
    cell = nbformat.v4.new_code_cell(EXPORT_SOURCE.format(names=list(names), file=export_file(notebook_name, grade_id)))
    cell.id = f"{EXPORT_CELL_ID}-{grade_id}"[:64]
    return cell


def export_file(notebook_name, grade_id):
    return f"exports-{notebook_name}-{grade_id}.bin"


def _annotate(path, trusted):
    """The executed notebook as students and TAs see it: without the export cell, and each test cell
    carrying its trusted result in metadata["autograder"] (score, points, passed, message, checked)."""
    if not path.is_file():
        return
    notebook = nbformat.read(str(path), as_version=4)
    notebook.cells = [cell for cell in notebook.cells if not str(cell.get("id", "")).startswith(EXPORT_CELL_ID)]
    for cell in notebook.cells:
        cell.get("metadata", {}).pop("autograder", None)  # only the trusted grader writes this record
        meta = cell.get("metadata", {}).get("nbgrader", {})
        result = trusted.get(meta.get("grade_id")) if meta.get("grade") and not meta.get("solution") else None
        if result is not None:
            cell.metadata["autograder"] = {
                key: result.get(key) for key in ("score", "points", "passed", "message", "checked")
            }
    nbformat.write(notebook, str(path))


def autograde(course_dir, assignment_id, student_id):
    """nbgrader autograde, in this process: {"success", "log", "error"}."""
    os.chdir(course_dir)
    return nbgrader_api(course_dir).autograde(assignment_id, student_id, force=True, create=True)


def scores_from_notebook(path):
    """{"cells": {grade id: {"auto_score", "max_score", "needs_manual_grade"}}} of an executed notebook.

    The same rule nbgrader's SaveAutoGrades applies (without its stderr quirk): a test cell scores by
    its outputs; a written answer left as released scores 0, a changed one waits for a TA.
    """
    from nbgrader.utils import compute_checksum

    cells = {}
    if path is None or not Path(path).is_file():
        return {"cells": cells}
    notebook = nbformat.read(str(path), as_version=4)
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("grade"):
            continue
        points = float(meta.get("points", 0))
        if meta.get("solution"):
            unchanged = meta.get("checksum") == compute_checksum(cell)
            cells[meta["grade_id"]] = {
                "auto_score": 0.0 if unchanged else None,
                "max_score": points,
                "needs_manual_grade": not unchanged,
            }
        else:
            cells[meta["grade_id"]] = {
                "auto_score": cell_score(cell, points),
                "max_score": points,
                "needs_manual_grade": False,
            }
    return {"cells": cells}


def run(job):
    started = time.perf_counter()
    scratch = Path(job["scratch"])
    course_dir = scratch / "course"
    runtime = scratch / "runtime"
    jupyter = scratch / "jupyter"
    for folder in (runtime, jupyter, scratch / "jupyter_config"):
        folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(job["template"], course_dir)
    course = load_course(job["course_file"])
    assignment = course.assignment(job["assignment"])
    student = job["student"]
    submission = Path(job["submission"])
    target = course_dir / "submitted" / student / assignment.id
    shutil.copytree(
        submission,
        target,
        ignore=shutil.ignore_patterns(STUDENT_FILES_DIR, "collect.json"),
        symlinks=False,
        ignore_dangling_symlinks=True,
    )
    student_files = submitted_student_files(submission)
    notebooks = {p.name: p for p in target.glob("*.ipynb")}
    # cell roles (test, answer, task, locked, points) come from the release, never from the submission
    release_dir = Path(job["release_dir"])
    notes = [note for path in notebooks.values() for note in restore_notebook_roles(path, release_dir / path.name)]
    notes += [note for path in notebooks.values() for note in _drop_duplicate_cells(path)]
    stubs = {
        name: (paths.REPO_ROOT / name).read_text()
        for name in assignment.student_files
        if (paths.REPO_ROOT / name).is_file()
    }
    phases = {"setup": time.perf_counter() - started}
    mark = time.perf_counter()
    findings = scan_submission(
        notebooks, student_files, _release_sources(job["release_dir"], assignment.notebooks), stubs
    )

    # the assignment's overlay is built and compiled once per run; only the student's own files differ
    own = {name: path for name, path in student_files.items() if name in assignment.student_files}
    phases["scan"] = time.perf_counter() - mark
    mark = time.perf_counter()
    overlay = copy_overlay(job["overlay_base"], scratch / "overlay", own)
    limits = Limits(**job["limits"])
    tests = trusted_tests(job["source_dir"], assignment)
    outbox = scratch / "outbox"
    outbox.mkdir(exist_ok=True)
    for path in notebooks.values():
        reads = {test["grade_id"]: test["reads"] for test in tests if test["reads"] and test["notebook"] == path.stem}
        if reads:
            _add_export_cells(path, reads)
    profile_path = scratch / "profile.json"
    write_profile(
        profile_path,
        workdir=course_dir / "autograded" / student / assignment.id,
        runtime_dir=runtime,
        overlay=overlay,
        data_dir=job["data_dir"],
        limits=limits,
        use_bwrap=job["use_bwrap"],
        read_only_files=job.get("read_only_files"),
        outbox=outbox,
    )
    write_kernelspec(jupyter, profile_path)
    (course_dir / "nbgrader_config.py").write_text(
        SCRATCH_CONFIG.format(
            course_id=course.id,
            kernel_name=KERNEL_NAME,
            cell_timeout=job["cell_timeout"],
            ipc_prefix=str(runtime / "kernel"),
        )
    )
    for key, value in {
        "JUPYTER_PATH": str(jupyter),
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "JUPYTER_CONFIG_DIR": str(scratch / "jupyter_config"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }.items():
        os.environ[key] = value
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    # points of every test are decided by the trusted grader, which calls the student's code in a
    # second sandboxed process and compares outside it. It starts now: the tests that only call the
    # student's code run beside the notebook's kernel; those judging notebook variables as soon as the
    # kernel has exported them, just before their cell.
    handed_in = {path.stem for path in notebooks.values()}
    trusted = TrustedRun(
        [test for test in tests if test["notebook"] in handed_in],
        student_modules={module_name(name) for name in assignment.student_files},
        student_overlay=overlay,
        trusted_overlay=job["overlay_base"],
        data_dir=job["data_dir"],
        scratch=scratch / "trusted",
        limits=limits,
        use_bwrap=job["use_bwrap"],
        exports={
            test["grade_id"]: outbox / export_file(test["notebook"], test["grade_id"])
            for test in tests
            if test["reads"]
        },
        extra_files={name: target / name for name in assignment.extra_files if (target / name).is_file()},
        timeout=job["cell_timeout"],
        read_only_files=job.get("read_only_files"),
        changes_in_place=course.changes_in_place,
        max_extra_file_bytes=assignment.max_extra_file_bytes,
    )
    failure = None
    log = ""
    if notebooks:
        try:
            with SharedFolderQuota(runtime, outbox, limits.workdir_mb * 2**20) as quota:
                phases["prepare"] = time.perf_counter() - mark
                mark = time.perf_counter()
                outcome = autograde(course_dir, assignment.id, student)
                phases["notebook"] = time.perf_counter() - mark
            log = outcome.get("log", "") + outcome.get("error", "")
            if not outcome.get("success"):
                failure = "; ".join(_nbgrader_errors(log)) or "nbgrader autograde failed"
            if quota.message():
                notes.append(quota.message())
        finally:
            release_cgroups(runtime)
    trusted.notebook_done()
    mark = time.perf_counter()
    summary = trusted.result()
    # what the trusted grader says of a test quotes student values: plain text from here on (gradebook,
    # feedback, formgrader, the TA's terminal, CSV)
    for outcome in summary.get("tests", {}).values():
        if isinstance(outcome.get("message"), str):
            outcome["message"] = plain_text(outcome["message"])
        if isinstance(outcome.get("checked"), list):
            outcome["checked"] = [plain_text(item) for item in outcome["checked"] if isinstance(item, str)]
    phases["trusted wait"] = time.perf_counter() - mark
    mark = time.perf_counter()
    # the notebook is the unit of a hand-in: the tests of a notebook that was not handed in, or that
    # nbgrader could not run, score nothing
    autograded = course_dir / "autograded" / student / assignment.id
    missing = {name for name in assignment.notebooks if not (autograded / f"{name}.ipynb").is_file()}
    if summary.get("failure"):
        failure = "; ".join(filter(None, [failure, summary["failure"]]))
    for name in missing:
        why = "was not handed in" if not (target / f"{name}.ipynb").is_file() else "could not be run by nbgrader"
        for test in tests:
            if test["notebook"] == name:
                summary["tests"][test["grade_id"]] = {"score": 0.0, "message": f"{name}.ipynb {why}"}
    scores = {}
    for name in assignment.notebooks:
        _annotate(autograded / f"{name}.ipynb", summary["tests"])
        cells = scores_from_notebook(autograded / f"{name}.ipynb")["cells"]
        for test in tests:
            if test["notebook"] == name:
                outcome = summary["tests"].get(test["grade_id"], {})
                cells[test["grade_id"]] = {
                    "auto_score": float(outcome.get("score", 0.0)),
                    "max_score": test["points"],
                    "needs_manual_grade": False,
                    "message": outcome.get("message", "not run"),
                }
        scores[name] = {"cells": cells}
    result = _result(student, assignment, scores, target, course_dir, job, findings, started, failure, log, notes)
    # the trusted grader's own time (not counting its wait for the kernel, which it runs beside)
    result["trusted_seconds"] = summary.get("seconds", 0.0) - summary.get("waited", 0.0)
    phases["scores"] = time.perf_counter() - mark
    # where a student's grading time goes (the benchmark and the class report show it)
    result["phases"] = {name: round(seconds, 3) for name, seconds in phases.items()}
    return result


def _result(student, assignment, scores, target, course_dir, job, findings, started, failure, log, notes):
    autograded = course_dir / "autograded" / student / assignment.id
    notebooks_out = {}
    for name in assignment.notebooks:
        executed = autograded / f"{name}.ipynb"
        notebooks_out[name] = {
            "executed": str(executed) if executed.is_file() else None,
            "reasons": _notebook_reasons(executed, job["cell_timeout"]),
            "submitted": (target / f"{name}.ipynb").is_file(),
        }
    return {
        "student": student,
        "assignment": assignment.id,
        "scores": scores,
        "notebooks": notebooks_out,
        "failure": failure,
        "findings": [str(finding) for finding in findings],
        "notes": notes,
        "seconds": time.perf_counter() - started,
        "log_tail": log[-3000:],
    }
