"""What grading costs beyond running the notebooks, what the sandbox costs, what --jobs buys, and what
grading on a Dask cluster costs.

    .venv/bin/python benchmarks/bench_grading.py [--students 4] [--sections local,cluster] [--json out.json]

On assignment 1 with identical reference submissions:
  - plain run: the notebook executed by nbclient with the reference cs_lib, NBGRADER_EXECUTION set
    (what the notebook itself costs, kernel start-up included);
  - grading overhead per notebook: (grade --jobs 1 wall time) / students - plain run;
  - sandbox cost: starting a kernel and running a setup cell through bubblewrap vs a plain kernel, and
    whole-notebook grading with --sandbox bwrap vs --sandbox none;
  - parallel speed-up: grade --jobs 1 vs --jobs 2 wall time;
  - whole course: one reference submission of every assignment, graded assignment by assignment, with
    each notebook's grading time (inside the grading process);
  - cluster (baseline: `grade --jobs 2` on this machine): a real `dask scheduler` and two `dask worker`
    processes (one thread each) on this machine grade the same students with `--cluster`; throughput
    ratio, the cluster's cost per task from the wall times (everything included), and the part of it
    outside the grading processes (packing, transfer, unpacking, the worker's fork, the executed
    notebooks' return) compared with local grading's; the first tasks on fresh workers (fork server
    start, unpacking the shared inputs) are shown apart, as is the TA's commit per result. From these
    and the per-notebook times, the wall time of 600 students x 5 assignments on 1, 8 and 32 workers
    of 2 cores is projected.
The one-time preparation of each assignment (cached in the course folder) is excluded and shown.
No assertions: the numbers depend on the machine.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
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

    from autograder.grading.run.batch import _matplotlib_font_cache
    from autograder.grading.run.cgroups import release_cgroups
    from autograder.grading.run.overlay import compile_overlay
    from autograder.grading.run.sandbox import Limits, bwrap_works, write_kernelspec, write_profile
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
            release_cgroups(folders["runtime"])  # as grading does after each kernel
    return {mode: statistics.median(values) for mode, values in samples.items()}


def make_course(root, course, assignment_ids, students):
    from autograder.grading.record.course_dir import init_course
    from autograder.grading.run.batch import _template

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
    from autograder.grading.intake.collect import collect
    from autograder.grading.record.course_dir import roster_ids
    from autograder.instructor.demo import make_submissions

    zips = make_submissions(
        course, assignment, course_dir / "release" / assignment.id, workdir / assignment.id, workdir
    )
    folder = workdir / f"{assignment.id}-reference"
    folder.mkdir(exist_ok=True)
    for i in range(students):
        shutil.copyfile(zips / "reference.zip", folder / f"s{i:02d}.zip")
    collect(course_dir, course, assignment.id, folder, roster_ids(course_dir))


def graded(course_dir, course, assignment_id, jobs, sandbox, students=None, cluster=None, full_marks=True):
    """(wall seconds, [StudentResult]) of one grading run (of reference submissions: full marks expected)."""
    from autograder.grading.run.batch import grade

    started = time.perf_counter()
    results, _ = grade(
        course_dir,
        course,
        assignment_id,
        jobs=jobs,
        sandbox=sandbox,
        students=students,
        progress=False,
        cluster=cluster,
        force=True,  # every run grades: `grade` would otherwise keep what an earlier run graded the same way
    )
    elapsed = time.perf_counter() - started
    assert not full_marks or all(r.score == r.max_score - r.needs_manual for r in results), [
        (assignment_id, r.student, f"{r.score:g} of {r.max_score - r.needs_manual:g} points", r.reasons)
        for r in results
    ]
    return elapsed, results


def grade_seconds(course_dir, course, assignment_id, jobs, sandbox, students=None):
    return graded(course_dir, course, assignment_id, jobs, sandbox, students)[0]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalCluster:
    """`dask scheduler` and `dask worker` processes on 127.0.0.1, each worker in a folder of its own."""

    def __init__(self, root, workers=2, threads=1):
        import distributed

        dask = str(Path(sys.executable).parent / "dask")
        port = _free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        self.processes = []
        self._spawn(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], root / "scheduler"
        )
        for index in range(workers):
            folder = root / f"worker-{index}"
            argv = [dask, "worker", self.address, "--nthreads", str(threads), "--host", "127.0.0.1", "--no-dashboard"]
            self._spawn([*argv, "--local-directory", str(folder / "local")], folder)
        deadline = time.time() + 120
        while True:
            try:
                with distributed.Client(self.address, timeout="5s", set_as_default=False) as client:
                    client.wait_for_workers(workers, timeout=120)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)

    def _spawn(self, argv, folder):
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "log", "w") as log:
            self.processes.append(
                subprocess.Popen(argv, cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            )

    def idle_cpu(self, seconds=10):
        """Share of one core the idle scheduler and workers (all their processes) use."""
        import psutil

        processes = []
        for process in self.processes:
            parent = psutil.Process(process.pid)
            processes += [parent, *parent.children(recursive=True)]

        def used():
            return sum(sum(process.cpu_times()[:2]) for process in processes)

        before = used()
        time.sleep(seconds)
        return (used() - before) / seconds

    def stop(self):
        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def timed_commits():
    """Wrap the gradebook writer's steps in batch (commit, install) to time the TA's work per result."""
    from autograder.grading.run import batch

    spent = []
    for name in ("commit", "install_autograded"):
        original = getattr(batch, name)

        def timed(*args, _original=original, **kwargs):
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent.append(time.perf_counter() - started)

        setattr(batch, name, timed)
    return spent


def cluster_vs_local(root, course_dir, course, sandbox, students, rounds):
    """Interleaved rounds of `grade --jobs 2` and `grade --cluster` (two one-thread workers) on A1."""
    cluster = LocalCluster(root / "cluster", workers=2, threads=1)
    try:
        first, _ = graded(course_dir, course, "a1", None, sandbox, students=["s00", "s01"], cluster=cluster.address)
        idle = cluster.idle_cpu()
        spent = timed_commits()
        local, remote, local_inside, remote_inside, commits = [], [], [], [], []
        for _ in range(rounds):
            wall, results = graded(course_dir, course, "a1", 2, sandbox)
            local.append(wall)
            local_inside.append(sum(r.seconds for r in results))
            spent.clear()
            wall, results = graded(course_dir, course, "a1", None, sandbox, cluster=cluster.address)
            remote.append(wall)
            remote_inside.append(sum(r.seconds for r in results))
            commits.append(sum(spent) / students)
    finally:
        cluster.stop()
    local_wall, remote_wall = statistics.median(local), statistics.median(remote)
    # cost per task beyond the grading process: the slot-seconds of a run (2 slots) minus the seconds spent
    # inside the grading processes, per student
    local_cost = statistics.median([(2 * w - inside) / students for w, inside in zip(local, local_inside)])
    remote_cost = statistics.median([(2 * w - inside) / students for w, inside in zip(remote, remote_inside)])
    return {
        "a1 students per round": students,
        "jobs 2, this machine (s)": local_wall,
        "2 Dask workers on this machine (s)": remote_wall,
        "cluster throughput / jobs 2 throughput": local_wall / remote_wall,
        "cost per task beyond grading, jobs 2 (s)": local_cost,
        "cost per task beyond grading, cluster (s)": remote_cost,
        "cluster cost per task beyond grading (s)": remote_cost - local_cost,
        # everything included (connecting, the version check, sending the shared inputs once per run, the
        # scheduler's and workers' own CPU on this machine): the wall time difference, per task and slot
        "cluster cost per task, from wall times (s)": 2 * (remote_wall - local_wall) / students,
        "first two tasks on fresh workers (s)": first,
        "idle scheduler and workers (share of one core)": idle,
        "TA commit + install per result (s)": statistics.median(commits),
        "a1 seconds per notebook inside the grading process, cluster": statistics.median(remote_inside) / students,
        "rounds, jobs 2 (s)": local,
        "rounds, cluster (s)": remote,
    }


def projection(per_notebook, cluster, students=600, sizes=(1, 8, 32)):
    """Hours for `students` x every assignment on N workers of 2 cores, from measured per-notebook times.

    A worker of 2 cores runs two tasks at once and grades A1 at the rate measured here with two one-thread
    Dask workers on this 2-core machine (every cost of the cluster included); the other assignments take
    longer or shorter in proportion to their per-notebook grading times. The TA's process commits results
    one at a time, which bounds the rate however many workers there are.
    """
    a1_slot_seconds = 2 * cluster["2 Dask workers on this machine (s)"] / cluster["a1 students per round"]
    per_task = {a: a1_slot_seconds * t / per_notebook["a1"] for a, t in per_notebook.items()}
    worker_seconds = students * sum(per_task.values()) / 2
    commit_bound = students * len(per_notebook) * cluster["TA commit + install per result (s)"]
    hours = {f"{n} workers (h)": max(worker_seconds / n, commit_bound) / 3600 for n in sizes}
    return hours | {"per task on a 2-core worker (s)": per_task, "TA commits alone (h)": commit_bound / 3600}


def _rounded(value):
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return round(value, 2) if isinstance(value, float) else value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved repetitions; medians are reported")
    parser.add_argument(
        "--sections",
        default="local,cluster",
        help="comma-separated: local (plain run, overhead, sandbox, --jobs), cluster (2 Dask workers vs --jobs 2); "
        "the whole-course per-notebook times are always measured",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    sections = set(args.sections.split(","))
    from autograder.common.course import load_course
    from autograder.grading.run.overlay import reference_overlay
    from autograder.grading.run.sandbox import bwrap_works

    course = load_course()
    a1 = course.assignment("a1")
    sandbox = "bwrap" if bwrap_works() else "none"
    results = {"machine": {"cpus": os.cpu_count(), "sandbox": sandbox}}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        root = Path(tmp)
        overlay = reference_overlay(root / "overlay", course)
        ids = [a.id for a in course.assignments]
        course_dir, prepared = make_course(root, course, ids, args.students)
        for assignment in course.assignments:
            collect_reference(course_dir, course, assignment, args.students if assignment.id == "a1" else 1, root)
        if "local" in sections:
            (root / "plain").mkdir()
            plains, sandboxed, opened, parallel = [], [], [], []
            for _ in range(args.rounds):  # interleaved, so a noisy moment slows every variant alike
                plains.append(plain_run_seconds(course, a1, course_dir / "release" / "a1", overlay, root / "plain"))
                sandboxed.append(grade_seconds(course_dir, course, "a1", 1, sandbox))
                opened.append(grade_seconds(course_dir, course, "a1", 1, "none"))
                parallel.append(grade_seconds(course_dir, course, "a1", 2, sandbox))
            plain, jobs1, jobs1_open, jobs2 = map(statistics.median, (plains, sandboxed, opened, parallel))
            kernels = kernel_start_seconds(root, overlay)
            per_notebook = jobs1 / args.students
            results |= {
                "a1 plain notebook run (s)": plain,
                "a1 grading per notebook, jobs 1 (s)": per_notebook,
                "grading overhead per notebook (s)": per_notebook - plain,
                "grading per notebook with vs without the sandbox (s)": (jobs1 - jobs1_open) / args.students,
                "kernel start + setup cell (s)": kernels,
                "sandbox cost per kernel start (s)": kernels.get("bubblewrap", float("nan")) - kernels["plain"],
                "jobs 1 (s)": jobs1,
                "jobs 2 (s)": jobs2,
                "jobs 2 speed-up": jobs1 / jobs2,
            }
        whole, inside, points, trusted = {}, {}, {}, {}
        for assignment in course.assignments:
            # timed whatever the points: a reference that loses some is shown below, not hidden
            wall, graded_results = graded(course_dir, course, assignment.id, 1, sandbox, ["s00"], full_marks=False)
            whole[assignment.id], inside[assignment.id] = wall, graded_results[0].seconds
            record = json.loads((course_dir / "autograded" / "s00" / assignment.id / "grading.json").read_text())
            trusted[assignment.id] = record.get("trusted_seconds", float("nan"))
            earned = graded_results[0]
            points[assignment.id] = f"{earned.score:g} of {earned.max_score - earned.needs_manual:g}"
        results |= {
            "whole course, one reference submission, jobs 1 (s)": sum(whole.values()),
            "whole course per assignment (s)": whole,
            "whole course, automatic points of the reference submission": points,
            "per-notebook grading time, inside the grading process (s)": inside,
            "trusted grader's own time per notebook, beside the kernel (every test, outside the student's process) (s)": trusted,
            "one-time preparation per assignment (s)": prepared,
        }
        if "cluster" in sections:
            cluster = cluster_vs_local(root, course_dir, course, sandbox, args.students, args.rounds)
            results |= {"cluster vs jobs 2 (baseline), A1": cluster}
            results |= {"projection, 600 students x 5 assignments, workers of 2 cores": projection(inside, cluster)}
    for name, value in results.items():
        shown = _rounded(value) if name != "machine" else value
        print(f"{name}: {shown}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
