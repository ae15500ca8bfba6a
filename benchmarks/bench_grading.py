"""What grading costs beyond running the notebooks, what the sandbox costs, and what --jobs buys.

    .venv/bin/python benchmarks/bench_grading.py [--students 4] [--json out.json]

On assignment 1 with identical reference submissions:
  - plain run: the notebook executed by nbclient with the reference cs_lib, NBGRADER_EXECUTION set
    (what the notebook itself costs, kernel start-up included);
  - grading overhead per notebook: (grade --jobs 1 wall time) / students - plain run;
  - sandbox cost: starting a kernel and running a setup cell through bubblewrap vs a plain kernel, and
    whole-notebook grading with --sandbox bwrap vs --sandbox none;
  - parallel speed-up: grade --jobs 1 vs --jobs 2 wall time;
  - whole course: one reference submission of every assignment, graded assignment by assignment.
The one-time preparation of each assignment (cached in the course folder) is excluded and shown.
No assertions: the numbers depend on the machine.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def plain_run_seconds(course, assignment, release_dir, overlay, workdir, repeat=2):
    import nbformat

    from autograder.common.execute import run_notebook
    from autograder.common.sources import source_notebook
    from autograder.instructor.demo import solved_notebook
    from autograder.instructor.verify import make_reference_files

    make_reference_files(assignment, overlay, workdir)
    times = []
    for name in assignment.notebooks:
        release = nbformat.read(str(release_dir / f"{name}.ipynb"), as_version=4)
        notebook = solved_notebook(release, source_notebook(assignment.source_notebook(name), course, assignment.id))
        samples = [run_notebook(notebook, workdir, overlay=overlay, grading=True).seconds for _ in range(repeat)]
        times.append(statistics.median(samples))
    return sum(times)


def kernel_start_seconds(root, overlay, repeat=5):
    """Median seconds to start a kernel and run a setup-like cell: plain, limits only, bubblewrap."""
    from jupyter_client.manager import KernelManager

    from autograder.grading.batch import _matplotlib_font_cache
    from autograder.grading.overlay import compile_overlay
    from autograder.grading.sandbox import Limits, bwrap_works, write_kernelspec, write_profile
    from cs_lib.datasets import data_dir

    compile_overlay(overlay)  # as grading does: sandboxed kernels cannot write byte-code caches

    code = "from cs_lib.notebook import setup; ENV = setup('a1'); import matplotlib.pyplot as plt; plt.plot([1, 2])"
    folders = {name: root / f"kernel-{name}" for name in ("work", "runtime", "jupyter")}
    for folder in folders.values():
        folder.mkdir(exist_ok=True)
    os.environ["JUPYTER_PATH"] = str(folders["jupyter"])
    os.environ["JUPYTER_RUNTIME_DIR"] = str(folders["runtime"])
    env = dict(os.environ, PYTHONPATH=str(overlay), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    modes = {"plain": None, "limits only": False}
    if bwrap_works():
        modes["bubblewrap"] = True
    samples = {mode: [] for mode in modes}
    for _ in range(repeat):
        for mode, use_bwrap in modes.items():
            if use_bwrap is not None:
                write_profile(
                    folders["jupyter"] / "profile.json",
                    workdir=folders["work"],
                    runtime_dir=folders["runtime"],
                    overlay=overlay,
                    data_dir=str(data_dir()),
                    limits=Limits(),
                    use_bwrap=use_bwrap,
                    read_only_files=_matplotlib_font_cache(),
                )
                write_kernelspec(folders["jupyter"], folders["jupyter"] / "profile.json")
                manager = KernelManager(kernel_name="cs-sandbox", transport="ipc", ip=str(folders["runtime"] / "k"))
            else:
                manager = KernelManager(kernel_name="python3")
            started = time.perf_counter()
            manager.start_kernel(env=env, cwd=str(folders["work"]))
            client = manager.client()
            client.start_channels()
            client.wait_for_ready(timeout=120)
            client.execute_interactive(code, timeout=120, output_hook=lambda message: None)
            samples[mode].append(time.perf_counter() - started)
            client.stop_channels()
            manager.shutdown_kernel(now=True)
    return {mode: statistics.median(values) for mode, values in samples.items()}


def make_course(root, course, assignment_ids, students):
    from autograder.grading.batch import _template
    from autograder.grading.course_dir import init_course

    roster = root / "roster.csv"
    roster.write_text("id\n" + "".join(f"s{i:02d}\n" for i in range(students)))
    course_dir = root / "course"
    init_course(course_dir, course, roster=roster, assignment_ids=assignment_ids)
    prepared = {}
    for assignment_id in assignment_ids:
        started = time.perf_counter()
        _template(course_dir, assignment_id)
        prepared[assignment_id] = time.perf_counter() - started
    return course_dir, prepared


def collect_reference(course_dir, course, assignment, students, workdir):
    from autograder.grading.collect import collect
    from autograder.grading.course_dir import roster_ids
    from autograder.instructor.demo import make_submissions

    zips = make_submissions(
        course, assignment, course_dir / "release" / assignment.id, workdir / assignment.id, workdir
    )
    folder = workdir / f"{assignment.id}-reference"
    folder.mkdir(exist_ok=True)
    for i in range(students):
        shutil.copyfile(zips / "reference.zip", folder / f"s{i:02d}.zip")
    collect(course_dir, course, assignment.id, folder, roster_ids(course_dir))


def grade_seconds(course_dir, course, assignment_id, jobs, sandbox, students=None):
    from autograder.grading.batch import grade

    started = time.perf_counter()
    results, _ = grade(course_dir, course, assignment_id, jobs=jobs, sandbox=sandbox, students=students, progress=False)
    elapsed = time.perf_counter() - started
    assert all(r.score == r.max_score - r.needs_manual for r in results), [
        (r.student, r.score, r.reasons) for r in results
    ]
    return elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved repetitions; medians are reported")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    from autograder.common.course import load_course
    from autograder.grading.overlay import reference_overlay
    from autograder.grading.sandbox import bwrap_works

    course = load_course()
    a1 = course.assignment("a1")
    sandbox = "bwrap" if bwrap_works() else "none"
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        root = Path(tmp)
        overlay = reference_overlay(root / "overlay", course)
        ids = [a.id for a in course.assignments]
        course_dir, prepared = make_course(root, course, ids, args.students)
        for assignment in course.assignments:
            collect_reference(course_dir, course, assignment, args.students if assignment.id == "a1" else 1, root)
        (root / "plain").mkdir()
        plains, sandboxed, opened, parallel = [], [], [], []
        for _ in range(args.rounds):  # interleaved, so a noisy moment slows every variant alike
            plains.append(plain_run_seconds(course, a1, course_dir / "release" / "a1", overlay, root / "plain"))
            sandboxed.append(grade_seconds(course_dir, course, "a1", 1, sandbox))
            opened.append(grade_seconds(course_dir, course, "a1", 1, "none"))
            parallel.append(grade_seconds(course_dir, course, "a1", 2, sandbox))
        plain, jobs1, jobs1_open, jobs2 = map(statistics.median, (plains, sandboxed, opened, parallel))
        whole = {
            a.id: grade_seconds(course_dir, course, a.id, 1, sandbox, students=["s00"]) for a in course.assignments
        }
        kernels = kernel_start_seconds(root, overlay)
    per_notebook = jobs1 / args.students
    results = {
        "machine": {"cpus": os.cpu_count(), "sandbox": sandbox},
        "a1 plain notebook run (s)": plain,
        "a1 grading per notebook, jobs 1 (s)": per_notebook,
        "grading overhead per notebook (s)": per_notebook - plain,
        "grading per notebook with vs without the sandbox (s)": (jobs1 - jobs1_open) / args.students,
        "kernel start + setup cell (s)": kernels,
        "sandbox cost per kernel start (s)": kernels.get("bubblewrap", float("nan")) - kernels["plain"],
        "jobs 1 (s)": jobs1,
        "jobs 2 (s)": jobs2,
        "jobs 2 speed-up": jobs1 / jobs2,
        "whole course, one reference submission, jobs 1 (s)": sum(whole.values()),
        "whole course per assignment (s)": whole,
        "one-time preparation per assignment (s)": prepared,
    }
    for name, value in results.items():
        shown = {k: round(v, 2) for k, v in value.items()} if isinstance(value, dict) and name != "machine" else value
        print(f"{name}: {round(shown, 2) if isinstance(shown, float) else shown}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
