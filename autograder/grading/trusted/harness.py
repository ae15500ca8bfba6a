"""Running the trusted tests of one submission: the runner process here, the call server in the sandbox.

    tests = trusted_tests(source_folder, assignment)          # every test cell, hidden parts included
    summary = run_trusted(tests, student_modules=..., student_overlay=..., trusted_overlay=..., ...)
    summary["tests"]["svm_naive"]   # {"score", "points", "passed", "message", "checked", "seconds"}

The runner (runner.py) imports cs_lib from the trusted overlay -- the course's provided code, the
references of earlier assignments and the starter stubs of this one, never a student's file -- and
reaches the student's modules only through the call server, which runs in the sandbox with the
student's overlay, the same limits as the notebook kernel, no network and no view of the course.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder.common.sources import BEGIN_HIDDEN, END_HIDDEN
from autograder.grading.cgroups import release_cgroups
from autograder.grading.sandbox import Limits, write_profile

RUNNER_MODULE = "autograder.grading.trusted.runner"


def strip_hidden_tests(path):
    """Rewrite an nbgrader source notebook without the hidden parts of its test cells, exactly as
    nbgrader's ClearHiddenTests does for the release (so cell checksums agree with the release)."""
    notebook = nbformat.read(str(path), as_version=4)
    for cell in notebook.cells:
        if cell.get("cell_type") != "code" or BEGIN_HIDDEN not in cell.get("source", ""):
            continue
        kept, hidden = [], False
        for line in cell.source.split("\n"):
            if BEGIN_HIDDEN in line:
                hidden = True
            elif END_HIDDEN in line:
                hidden = False
            elif not hidden:
                kept.append(line)
        cell.source = "\n".join(kept)
    nbformat.write(notebook, str(path))


def module_name(student_file):
    """ "cs_lib/classifiers/linear_svm.py" -> "cs_lib.classifiers.linear_svm"."""
    return student_file.removesuffix(".py").replace("/", ".")


def trusted_tests(source_folder, assignment):
    """[{"grade_id", "points", "source", "reads", "notebook"}] of every test cell of the assignment's
    source notebooks (nbgrader's source version: visible and hidden parts), in notebook order."""
    tests = []
    for name in assignment.notebooks:
        notebook = nbformat.read(str(Path(source_folder) / f"{name}.ipynb"), as_version=4)
        for cell in notebook.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.get("cell_type") != "code" or not meta.get("grade") or meta.get("solution"):
                continue
            tests.append(
                {
                    "grade_id": meta["grade_id"],
                    "points": float(meta.get("points", 0)),
                    "source": cell.get("source", ""),
                    "reads": list(cell.get("metadata", {}).get("reads", [])),
                    "notebook": name,
                }
            )
    return tests


def failed_summary(tests, reason):
    return {
        "tests": {
            t["grade_id"]: {"points": t["points"], "score": 0.0, "passed": False, "message": reason, "checked": []}
            for t in tests
        },
        "restarts": 0,
        "seconds": 0.0,
        "failure": reason,
    }


def run_trusted(
    tests,
    *,
    student_modules,
    student_overlay,
    trusted_overlay,
    data_dir,
    scratch,
    limits=None,
    use_bwrap=False,
    exports=None,  # {grade id: the file the kernel exported that test's variables to}
    extra_files=None,
    timeout=120,
    read_only_files=None,
):
    """Run the tests against a student's overlay; returns the runner's summary (never raises for the student)."""
    scratch = Path(scratch)
    runtime, server_work, work = scratch / "runtime", scratch / "server-work", scratch / "work"
    for folder in (runtime, server_work, work):
        folder.mkdir(parents=True, exist_ok=True)
    for name, path in (extra_files or {}).items():
        target = work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        target.chmod(0o444)
    profile = scratch / "server-profile.json"
    write_profile(
        profile,
        workdir=server_work,
        runtime_dir=runtime,
        overlay=student_overlay,
        data_dir=data_dir,
        limits=limits or Limits(),
        use_bwrap=use_bwrap,
        read_only_files=read_only_files,
        mode="server",
    )
    spec = {
        "tests": tests,
        "student_modules": sorted(student_modules),
        "server_argv": [sys.executable, "-m", "autograder.grading.sandbox", "--server", str(profile)],
        "server_log": str(runtime / "server-stderr.log"),
        "exports": {name: str(path) for name, path in (exports or {}).items()},
        "timeout": timeout,
        "result": str(scratch / "trusted-result.json"),
    }
    (scratch / "trusted-spec.json").write_text(json.dumps(spec))
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join([str(trusted_overlay), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        NBGRADER_EXECUTION="autograde",
        MPLBACKEND="Agg",
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    if data_dir:
        env["CS_DATA_DIR"] = str(data_dir)
    budget = timeout * max(1, len(tests)) + 60
    try:
        completed = subprocess.run(
            [sys.executable, "-m", RUNNER_MODULE, str(scratch / "trusted-spec.json")],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=budget,
        )
    except subprocess.TimeoutExpired:
        return failed_summary(tests, f"trusted grading stopped after {budget} s")
    finally:
        release_cgroups(runtime)
    result = scratch / "trusted-result.json"
    if completed.returncode != 0 or not result.is_file():
        tail = (completed.stderr or "").strip().splitlines()[-3:]
        return failed_summary(tests, "trusted grading failed: " + " | ".join(tail))
    return json.loads(result.read_text())
