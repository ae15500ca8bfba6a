"""Grading on a Dask cluster (`grade --cluster`): a real `dask scheduler` and `dask worker` processes on
127.0.0.1, each worker in a folder of its own, a real PostgreSQL gradebook, a worker killed mid-task,
a worker with another course package, a worker without bubblewrap; and the packing of jobs and results
as data that lets workers grade without the TA's filesystem."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import batches
import pytest
from test_crash import postgres_server  # noqa: F401 - a fixture
from test_pipeline import _free_port

import toy
from autograder.grading.intake.collect import collect
from autograder.grading.record.course_dir import init_course, load_settings, roster_ids
from autograder.grading.run import transport, versions, worker
from autograder.grading.run.sandbox import bwrap_works
from toy import cli

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).parent / "dask"
HALF_MODULE = toy.REFERENCE_MODULE.replace("return np.asarray(x, dtype=float) * k", "raise NotImplementedError")
# the integrity scan flags `import gc`: points withheld for review, on the cluster as locally
TAMPERED_MODULE = toy.REFERENCE_MODULE + "\nimport gc  # noqa\n"


def _require_distributed():
    try:
        import distributed  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("Dask distributed is not installed, but CI must run the cluster tests (pip install -e .[dev])")
        pytest.skip("Dask distributed is not installed (pip install -e .[cluster])")


class Cluster:
    """A scheduler and named workers, each a process group of its own, logs in their folders."""

    def __init__(self, root):
        self.root = Path(root)
        self.processes = {}
        port = _free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        self._spawn("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"])
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.time() < deadline, self.log("scheduler")
                assert self.processes["scheduler"].poll() is None, self.log("scheduler")
                time.sleep(0.2)

    def _spawn(self, name, argv, env=None, wrap=()):
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "log", "w") as log:
            self.processes[name] = subprocess.Popen(
                [*wrap, str(DASK), *argv],
                cwd=folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env or dict(os.environ),
                start_new_session=True,
            )

    def start_worker(self, name, env=None, hide=()):
        """A worker in root/<name> (its working and local directory); `hide` folders are invisible to it."""
        wrap = []
        if hide:
            wrap = ["bwrap", "--dev-bind", "/", "/"]
            for folder in hide:
                wrap += ["--tmpfs", str(folder)]
            wrap += ["--"]
        argv = ["worker", self.address, "--name", name, "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"]
        self._spawn(name, [*argv, "--local-directory", str(self.root / name / "local")], env, wrap)

    def workers(self, count, timeout=120):
        """{name: address} once exactly `count` workers are connected."""
        import distributed

        with distributed.Client(self.address, timeout="30s", set_as_default=False) as client:
            deadline = time.time() + timeout
            while True:
                info = client.scheduler_info()["workers"]
                if len(info) == count:
                    return {worker["name"]: address for address, worker in info.items()}
                assert time.time() < deadline, f"{len(info)} workers, expected {count}: " + self.logs()
                time.sleep(0.2)

    def descendants(self, name):
        import psutil

        try:
            return psutil.Process(self.processes[name].pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def kill(self, name):
        """SIGKILL the worker's whole process group (its nanny, worker and fork server)."""
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait(30)

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def log(self, name):
        path = self.root / name / "log"
        return path.read_text(errors="replace")[-3000:] if path.is_file() else ""

    def logs(self):
        return "\n".join(f"--- {name}\n{self.log(name)}" for name in self.processes)


@pytest.fixture
def cluster(tmp_path):
    _require_distributed()
    started = Cluster(tmp_path / "cluster")
    try:
        yield started
    finally:
        started.stop()


def make_course(root, students, db_url=None):
    """A toy course with one zip per student {id: kind}, collected."""
    root.mkdir(parents=True, exist_ok=True)
    roster = root / "roster.csv"
    roster.write_text("id\n" + "".join(f"{student}\n" for student in students))
    course_dir = root / "course"
    init_course(course_dir, toy.course(), roster=roster, db_url=db_url, cell_timeout=20)
    subs = root / "subs"
    for student, kind in students.items():
        solved = toy.notebook(course_dir, solved=kind != "stub")
        if kind == "hangs":  # a solution cell that never ends: only the grading deadline stops it
            cell = next(c for c in solved.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "double")
            cell.source += "\nimport time\n\ntime.sleep(3600)\n"
        module = {"stub": toy.STUB_MODULE, "half": HALF_MODULE, "tampered": TAMPERED_MODULE}.get(
            kind, toy.REFERENCE_MODULE
        )
        toy.make_zip(
            subs / f"{student}.zip", notebook=solved, module=module, answer=None if kind == "no answer" else "42\n"
        )
    collect(course_dir, toy.course(), "t1", subs, roster_ids(course_dir))
    return course_dir


def gradebook_grades(course_dir, assignment_id="t1"):
    """{student: {cell: score}} and {student: number of submissions}, read from the course's gradebook."""
    from nbgrader.api import Gradebook

    settings = load_settings(course_dir)
    grades, submissions = {}, {}
    with Gradebook(settings["db_url"], settings["course_id"]) as gradebook:
        for student in gradebook.students:
            found = [s for s in gradebook.assignment_submissions(assignment_id) if s.student_id == student.id]
            submissions[student.id] = len(found)
            for submission in found:
                grades[student.id] = {
                    grade.name: (grade.score, grade.needs_manual_grade)
                    for notebook in submission.notebooks
                    for grade in notebook.grades
                }
    return grades, submissions


def _kernel_scratch(process):
    """(student, scratch folder) when process is a notebook kernel grading on a worker, else None.

    The kernel's command line names only its connection file (in the system's temporary folder) unless
    bubblewrap wraps it, but both sandboxes give it the scratch folder's runtime folder as JUPYTER_RUNTIME_DIR."""
    try:
        command = " ".join(process.cmdline())
        runtime = process.environ().get("JUPYTER_RUNTIME_DIR", "") if "ipykernel_launcher" in command else ""
    except Exception:  # noqa: BLE001 - the process ended while we looked (or is bubblewrap's, unreadable)
        return None
    match = re.search(r"(/\S*/cs-grade-\d+-([a-z]+)-[^/]+)/", runtime + "/")
    return (match.group(2), Path(match.group(1))) if match else None


def table_rows(stdout):
    """{student: (score, status)} from the grade table."""
    rows = {}
    for line in stdout.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 3 and "/" in parts[1]:
            assert parts[0] not in rows, f"{parts[0]} appears twice in the table"
            rows[parts[0]] = (parts[1], parts[2])
    return rows


STUDENTS = {"ada": "full", "bea": "stub", "cyd": "half", "dan": "full", "eve": "tampered", "fay": "no answer"}


@pytest.mark.slow
def test_a_cluster_grades_like_local_grading_when_a_worker_is_killed_mid_task(cluster, postgres_server, tmp_path):  # noqa: F811
    ta = tmp_path / "ta"
    course_dir = make_course(ta, STUDENTS, db_url=postgres_server.url)
    # workers see no file of the TA's course folder: everything they grade with arrives as data
    hidden = [ta] if bwrap_works() else []
    for name in ("w1", "w2"):
        cluster.start_worker(name, hide=hidden)
    addresses = cluster.workers(2)
    worker_names = {address: name for name, address in addresses.items()}

    env = dict(os.environ, CS_COURSE_FILE=str(toy.COURSE_FILE))
    grading = subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", str(course_dir), "t1", "--cluster", cluster.address],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    victim = student = None
    deadline = time.time() + 180
    while victim is None and grading.poll() is None and time.time() < deadline:
        for name in ("w1", "w2"):
            for process in cluster.descendants(name):
                found = _kernel_scratch(process)
                if found:
                    victim, (student, scratch) = name, found
                    doomed = cluster.descendants(name)
                    break
            if victim:
                break
        time.sleep(0.05)
    assert victim, "no worker was seen running a notebook kernel: " + cluster.logs()
    cluster.kill(victim)  # mid-task: its kernel is running {student}'s notebook
    stdout, stderr = grading.communicate(timeout=600)
    assert grading.returncode == 0, stdout + stderr + cluster.logs()

    # nothing of the killed worker survives it (fork server, grading process, sandboxed kernel)
    import psutil

    _, alive = psutil.wait_procs(doomed, timeout=30)
    assert not alive, [" ".join(process.cmdline()) for process in alive]
    assert not scratch.exists(), "the surviving worker removes the dead worker's scratch folder"

    rows = table_rows(stdout)
    assert sorted(rows) == sorted(STUDENTS), stdout
    assert "grading t1: 100%" in stderr and "6/6" in stderr  # the progress bar of local grading
    survivor = addresses["w2" if victim == "w1" else "w1"]
    graded_on = {}
    for name in STUDENTS:
        record = json.loads((course_dir / "autograded" / name / "t1" / "grading.json").read_text())
        graded_on[name] = record["worker"]["address"]
        assert (course_dir / "autograded" / name / "t1" / "toy.ipynb").is_file()
        for key, path in record["worker"]["inputs"].items():  # unpacked on the worker that graded it
            assert not path.startswith(str(ta)), (key, path)
            if key != "submission":
                assert path.startswith(str(cluster.root / worker_names[graded_on[name]])), (key, path)
    assert graded_on[student] == survivor, "the killed worker's task was graded again on the other worker"

    cluster_grades, submissions = gradebook_grades(course_dir)
    assert submissions == {name: 1 for name in STUDENTS}

    local_dir = make_course(tmp_path / "local", STUDENTS)
    local = cli("grade", local_dir, "t1", "--jobs", "2")
    assert local.returncode == 0, local.stdout + local.stderr
    local_grades, _ = gradebook_grades(local_dir)
    assert cluster_grades == local_grades
    assert rows == table_rows(local.stdout)
    assert rows["ada"] == ("7/9", "graded") and rows["bea"][0] == "1/9" and rows["eve"] == ("0/9", "review")
    cluster.start_worker(victim)  # again, so that both workers grade what follows
    cluster.workers(2)
    _incremental_on_the_cluster_survives_a_killed_ta_and_a_lost_database(cluster, postgres_server, course_dir, rows)


def _grading_tasks(cluster):
    """The keys of every grading task the scheduler has seen."""
    import distributed

    def keys(dask_scheduler):
        return sorted({str(entry[0]) for entry in dask_scheduler.transition_log if str(entry[0]).startswith("grade-")})

    with distributed.Client(cluster.address, timeout="30s", set_as_default=False) as client:
        return client.run_on_scheduler(keys)


def _gradings(cluster):
    """The processes grading on the workers: whatever their fork servers started."""
    found = []
    for name in ("w1", "w2"):
        for process in cluster.descendants(name):
            if "autograder.grading.run.schedule_dask" in batches.command_line(process):
                found += batches.process_tree(process.pid)
    return found


def _incremental_on_the_cluster_survives_a_killed_ta_and_a_lost_database(cluster, database, course_dir, graded):
    """Part of the test above (its cluster, with one worker killed and one left): nothing unchanged is sent to a
    worker; a TA's grade SIGKILLed mid-batch stops its gradings on the workers and a re-run grades only what was
    not committed; a gradebook database stopped mid-batch stops grade with what to do, and a re-run completes."""
    sent = _grading_tasks(cluster)
    assert sent, "the scheduler's transition log names no grading task: nothing would show one being sent"
    again = cli("grade", course_dir, "t1", "--cluster", cluster.address)
    assert again.returncode == 0, again.stdout + again.stderr
    assert batches.table_rows(again.stdout) == {s: (score, "unchanged, kept") for s, (score, _) in graded.items()}
    assert _grading_tasks(cluster) == sent, "an unchanged submission was sent to a worker"

    # other grading options (a longer cell timeout): everyone is graded again, and the TA's grade is killed
    before = batches.committed(course_dir)
    grading = batches.start_grade(course_dir, "--cluster", cluster.address, "--cell-timeout", "21")
    try:

        def mid_batch():
            regraded = [s for s, at in batches.committed(course_dir).items() if at != before[s]]
            kernel = any("ipykernel_launcher" in batches.command_line(p) for p in _gradings(cluster))
            return len(regraded) >= 2 and kernel

        batches.wait_until(mid_batch, 300, "two students were committed and a worker grades the next", grading)
        doomed = _gradings(cluster)
        grading.kill()
        grading.wait(10)
        killed_at = time.monotonic()
    finally:
        batches.kill_session(grading)
    done = {s for s, at in batches.committed(course_dir).items() if at != before[s]}
    assert len(done) < len(STUDENTS), "the batch ended before the kill"
    time.sleep(max(0.0, killed_at + 1.0 - time.monotonic()))
    assert not batches.survivors(doomed), "the killed TA's gradings still run on the workers"
    rerun = cli("grade", course_dir, "t1", "--cluster", cluster.address, "--cell-timeout", "21")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    rows = batches.table_rows(rerun.stdout)
    kept = {student for student, (_, status) in rows.items() if status == "unchanged, kept"}
    assert sorted(rows) == sorted(STUDENTS) and kept <= done and len(done - kept) <= 1, (done, rows)
    assert {student: score for student, (score, _) in rows.items()} == {s: score for s, (score, _) in graded.items()}

    # the gradebook database stops mid-batch (yet other options), then comes back
    before = batches.committed(course_dir)
    grading = batches.start_grade(course_dir, "--cluster", cluster.address, "--cell-timeout", "22")
    try:
        regraded = lambda: [s for s, at in batches.committed(course_dir).items() if at != before[s]]  # noqa: E731
        batches.wait_until(lambda: len(regraded()) >= 1, 300, "a student was committed", grading)
        database.stop()
        out, err = grading.communicate(timeout=120)
    finally:
        batches.kill_session(grading)
    assert grading.returncode == 1 and "Traceback" not in out + err, out + err
    assert "stopped answering after" in err and "start the database and run grade again" in err, err
    database.start()
    assert len(regraded()) < len(STUDENTS)
    rerun = cli("grade", course_dir, "t1", "--cluster", cluster.address, "--cell-timeout", "22")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert sorted(batches.table_rows(rerun.stdout)) == sorted(STUDENTS)
    assert gradebook_grades(course_dir)[1] == {name: 1 for name in STUDENTS}


@pytest.mark.slow
def test_assignment_1_on_the_cluster_scores_like_local_grading(cluster, tmp_path):
    """The real course (trusted tests, torch, the dataset, the compiled overlay) graded on two workers."""
    from autograder.common.course import load_course
    from autograder.instructor.demo import make_submissions

    course = load_course()
    courses = {}
    for name in ("cluster", "local"):
        root = tmp_path / f"course-{name}"
        root.mkdir()
        (root / "roster.csv").write_text("id\nreference\nstarter\nhalfdone\n")
        courses[name] = root / "course"
        init_course(courses[name], course, roster=root / "roster.csv", assignment_ids=["a1"])
    zips = make_submissions(
        course, course.assignment("a1"), courses["local"] / "release" / "a1", tmp_path / "zips", tmp_path
    )
    for course_dir in courses.values():
        collect(course_dir, course, "a1", zips, roster_ids(course_dir))
    for name in ("w1", "w2"):
        cluster.start_worker(name)
    cluster.workers(2)
    env = {key: value for key, value in os.environ.items() if key != "CS_COURSE_FILE"}
    graded = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(courses["cluster"]), "a1", "--cluster", cluster.address],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    local = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(courses["local"]), "a1", "--jobs", "2"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert graded.returncode == local.returncode == 0, graded.stdout + graded.stderr + local.stdout + local.stderr
    rows = table_rows(graded.stdout)
    assert rows == table_rows(local.stdout) and sorted(rows) == ["halfdone", "reference", "starter"]
    points = {student: float(score.split("/")[0]) for student, (score, _) in rows.items()}
    assert points["reference"] > points["halfdone"] > points["starter"] == 0, rows
    cluster_grades = gradebook_grades(courses["cluster"], "a1")[0]
    assert cluster_grades == gradebook_grades(courses["local"], "a1")[0]


@pytest.mark.slow
def test_workers_with_another_course_package_refuse_and_one_without_bubblewrap_says_so(cluster, tmp_path):
    import distributed

    from autograder.grading.run.schedule_dask import WorkerRefused, run_task

    course_dir = make_course(tmp_path / "ta", {"ada": "full", "hal": "hangs"})
    other = tmp_path / "other-checkout"
    shutil.copytree(REPO / "autograder", other / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "cs_lib", other / "cs_lib", ignore=shutil.ignore_patterns("__pycache__", "build", "*.c"))
    with open(other / "cs_lib" / "checks.py", "a") as f:
        f.write("\n# a worker whose cs_lib was edited\n")
    cluster.start_worker(
        "edited", env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(other), os.environ.get("PYTHONPATH", "")]))
    )
    no_bwrap = tmp_path / "bin"
    no_bwrap.mkdir()
    cluster.start_worker("plain", env=dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{no_bwrap}"))
    addresses = cluster.workers(2)

    refused = cli("grade", course_dir, "t1", "--cluster", cluster.address)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "nothing was graded" in refused.stderr and addresses["edited"] in refused.stderr
    assert re.search(r"cs_lib: source hash \w+ on this machine .*source hash \w+ on the worker", refused.stderr)
    assert addresses["plain"] not in refused.stderr
    assert not (course_dir / "autograded").exists()

    # a task reaching a worker that joined later: the worker itself refuses it, naming what differs
    blobs, tasks = transport.pack_jobs([{"student": "ada", "assignment": "t1", "course_file": str(toy.COURSE_FILE)}])
    with distributed.Client(cluster.address, timeout="30s", set_as_default=False) as client:
        future = client.submit(
            run_task, tasks[0], blobs, versions.installed(), "auto", workers=[addresses["edited"]], pure=False
        )
        with pytest.raises(WorkerRefused, match=r"refuses to grade ada .*cs_lib: source hash \w+ on the worker"):
            future.result(timeout=120)

    cluster.kill("edited")
    cluster.workers(1)
    # the worker's deadline stops a grading that never ends (--notebook-timeout 1: 1 x 1 notebook + 30 s),
    # its process group killed, the batch goes on
    graded = cli(
        "grade", course_dir, "t1", "--cluster", cluster.address, "--cell-timeout", "300", "--notebook-timeout", "1"
    )
    assert graded.returncode == 1, graded.stdout + graded.stderr
    rows = table_rows(graded.stdout)
    assert rows["ada"] == ("7/9", "graded") and rows["hal"][1] == "failed", graded.stdout
    assert "grading stopped after the 31 s limit for the whole submission" in graded.stdout
    import psutil

    kernels = [p for p in cluster.descendants("plain") if "ipykernel" in " ".join(p.cmdline())]
    assert not psutil.wait_procs(kernels, timeout=15)[1], "the killed grading left its kernel running"
    warning = [line for line in graded.stderr.splitlines() if line.startswith("WARNING: grading without")]
    assert warning and "no network (none: needs bubblewrap (on " + addresses["plain"] in warning[0], graded.stderr


@pytest.mark.slow
def test_an_unreachable_scheduler_is_named_with_the_fix(tmp_path):
    _require_distributed()
    course_dir = make_course(tmp_path, {"ada": "full"})
    result = cli("grade", course_dir, "t1", "--cluster", f"tcp://127.0.0.1:{_free_port()}")
    assert result.returncode == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:" in result.stderr and "dask scheduler" in result.stderr


def test_a_fork_server_that_died_is_started_again(tmp_path):
    """On a worker, grading processes are forked from a fork server; one that died is replaced."""
    from autograder.grading.run import schedule_dask

    _require_distributed()
    job = {
        "student": "ada",
        "template": str(tmp_path / "missing"),
        "scratch": str(tmp_path / "s" / "work"),
        "deadline": 60,
    }
    (tmp_path / "s").mkdir()
    first = schedule_dask._launch(job, tmp_path / "s")
    assert first["student"] == "ada" and "the grading worker failed" in first["failure"], first
    server = schedule_dask._FORKSERVER["process"]
    server.kill()
    server.wait()
    (tmp_path / "t").mkdir()
    second = schedule_dask._launch(dict(job, scratch=str(tmp_path / "t" / "work")), tmp_path / "t")
    assert second["failure"] == first["failure"].replace(str(tmp_path / "s"), str(tmp_path / "t"))
    replacement = schedule_dask._FORKSERVER["process"]
    assert replacement.pid != server.pid and replacement.poll() is None
    replacement.stdin.close()  # the fork server ends when its worker does
    assert replacement.wait(30) == 0


# --- jobs and results as data -------------------------------------------------------------------


def _tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def test_jobs_travel_as_data_with_every_path_key_and_no_path_of_the_ta(tmp_path, monkeypatch):
    # whatever worker.PATH_KEYS lists (the lead may add keys) is packed: here one more, a file
    monkeypatch.setattr(worker, "PATH_KEYS", (*worker.PATH_KEYS, "extra_file"))
    ta = tmp_path / "ta-machine"
    shared = {}
    for key in worker.PATH_KEYS:
        if key == "submission":
            continue
        if key.endswith("_file"):
            shared[key] = ta / f"{key}.toml"
            shared[key].parent.mkdir(parents=True, exist_ok=True)
            shared[key].write_bytes(os.urandom(300))
        else:
            shared[key] = ta / key
            (shared[key] / "inner" / "__pycache__").mkdir(parents=True)
            (shared[key] / "inner" / "__pycache__" / "x.pyc").write_bytes(os.urandom(500))
            (shared[key] / "top.ipynb").write_text(key)
    jobs = []
    for student in ("ada", "bea"):
        (ta / "submitted" / student).mkdir(parents=True)
        (ta / "submitted" / student / "toy.ipynb").write_text(student)
        local = {
            "scratch": str(ta / "scratch" / student),
            "data_dir": str(ta / "datasets"),
            "read_only_files": {"/tmp/matplotlib/fontlist.json": str(ta / "fontlist.json")},
        }
        paths = {key: str(path) for key, path in shared.items()}
        jobs.append(
            {"student": student, "deadline": 60, "submission": str(ta / "submitted" / student), **paths, **local}
        )
    blobs, tasks = transport.pack_jobs(jobs)
    assert str(ta) not in json.dumps(tasks)
    assert [sorted(task["inputs"]) for task in tasks] == [sorted(worker.PATH_KEYS)] * 2
    assert len(blobs) == len(shared) + 2  # shared inputs once, one submission each
    assert {key: ref["shared"] for key, ref in tasks[0]["inputs"].items()} == {
        key: key != "submission" for key in worker.PATH_KEYS
    }

    machine = tmp_path / "grading-machine"
    job = transport.unpack_job(tasks[1], blobs, machine / "scratch", cache=machine / "cache")
    assert job["student"] == "bea" and job["deadline"] == 60 and "data_dir" not in job
    assert job["scratch"].startswith(str(machine))
    for key in worker.PATH_KEYS:
        assert job[key].startswith(str(machine)), key
        if Path(jobs[1][key]).is_dir():
            assert _tree(job[key]) == _tree(jobs[1][key]) != {}, key
        else:
            assert Path(job[key]).read_bytes() == Path(jobs[1][key]).read_bytes(), key
    again = transport.unpack_job(tasks[0], blobs, machine / "scratch-2", cache=machine / "cache")
    assert again["template"] == job["template"] and again["submission"] != job["submission"]  # shared: unpacked once

    damaged = dict(blobs)
    sha = tasks[0]["inputs"]["template"]["sha256"]
    damaged[sha] = damaged[sha][:-1] + b"x"
    with pytest.raises(transport.TransportError, match="template .* arrived damaged"):
        transport.unpack_job(tasks[0], damaged, tmp_path / "elsewhere")


def test_executed_notebooks_return_as_bytes_and_land_in_a_local_folder(tmp_path):
    executed = tmp_path / "worker" / "toy.ipynb"
    executed.parent.mkdir()
    executed.write_bytes(b'{"cells": []}')
    result = {"student": "ada", "notebooks": {"toy": {"executed": str(executed)}, "other": {"executed": None}}}
    packed = transport.pack_result(result)
    assert packed["executed_files"] == {"toy": b'{"cells": []}'} and str(tmp_path) not in json.dumps(
        packed["notebooks"]
    )
    unpacked = transport.unpack_result(packed, tmp_path / "ta")
    assert Path(unpacked["notebooks"]["toy"]["executed"]).read_bytes() == b'{"cells": []}'
    assert unpacked["notebooks"]["other"]["executed"] is None and "executed_files" not in unpacked


def test_course_versions_change_with_the_content_of_cs_lib_and_name_what_differs(tmp_path):
    copy = tmp_path / "cs_lib"
    shutil.copytree(REPO / "cs_lib", copy, ignore=shutil.ignore_patterns("__pycache__", "build"))
    before = versions.tree_hash(copy)
    assert versions.tree_hash(copy) == before == versions.tree_hash(REPO / "cs_lib")
    (copy / "__pycache__").mkdir(exist_ok=True)
    (copy / "__pycache__" / "x.pyc").write_bytes(b"caches do not count")
    assert versions.tree_hash(copy) == before
    with open(copy / "layers.py", "a") as f:
        f.write("\n")
    assert versions.tree_hash(copy) != before
    ours = versions.installed()
    theirs = dict(ours, cs_lib="source hash 0123456789abcdef", nbgrader="0.1")
    lines = versions.differences(theirs, ours, them="the worker tcp://w:1")
    assert len(lines) == 2
    assert lines[0].startswith(f"cs_lib: {ours['cs_lib']} on this machine ({REPO / 'cs_lib'})")
    assert lines[0].endswith("source hash 0123456789abcdef on the worker tcp://w:1")
    assert lines[1] == f"nbgrader: {ours['nbgrader']} on this machine, 0.1 on the worker tcp://w:1"
    assert versions.differences(ours, ours) == []


def test_a_worker_with_another_numpy_or_torch_release_is_named_and_a_build_label_is_not(monkeypatch):
    import numpy
    import torch

    ours = versions.installed()
    assert (ours["numpy"], ours["torch"]) == (numpy.__version__, torch.__version__.split("+")[0])
    lines = versions.differences(dict(ours, torch="2.5.1", numpy="1.26.4"), ours, them="the worker tcp://w:1")
    assert lines == [
        f"numpy: {ours['numpy']} on this machine, 1.26.4 on the worker tcp://w:1",
        f"torch: {ours['torch']} on this machine, 2.5.1 on the worker tcp://w:1",
    ]
    # a CUDA build on the TA's machine, a CPU build on the worker: the same release
    monkeypatch.setattr(versions.metadata, "version", lambda name: "2.13.0+cu128")
    assert versions._release("torch") == "2.13.0"


def test_committing_the_same_result_twice_keeps_one_submission_with_the_same_grades(tmp_path):
    from nbgrader.api import Gradebook

    from autograder.grading.record.gradebook import commit, manifest_kinds

    course_dir = make_course(tmp_path, {"ada": "full"})
    assignment = toy.course().assignment("t1")
    cells = {
        "test_double": {"auto_score": 1.0, "max_score": 1.0, "needs_manual_grade": False},
        "test_add": {"auto_score": 2.0, "max_score": 2.0, "needs_manual_grade": False},
        "test_scale": {"auto_score": 0.0, "max_score": 3.0, "needs_manual_grade": False},
    }
    result = {
        "student": "ada",
        "scores": {"toy": {"cells": cells}},
        "notebooks": {"toy": {"submitted": True, "reasons": []}},
        "findings": [],
    }
    settings = load_settings(course_dir)
    kinds = manifest_kinds(course_dir, assignment)
    summaries = []
    for _ in range(2):
        with Gradebook(settings["db_url"], settings["course_id"]) as gradebook:
            summaries.append(commit(gradebook, assignment, result, kinds))
    assert summaries[0] == summaries[1] and summaries[0].score == 3.0
    grades, submissions = gradebook_grades(course_dir)
    assert submissions["ada"] == 1
    assert grades["ada"]["test_add"] == (2.0, False) and grades["ada"]["test_scale"] == (0.0, False)


def test_the_cluster_extra_is_optional_and_in_the_dev_extra():
    from test_packaging import expanded

    assert any(name.startswith("distributed") for name in expanded("cluster"))
    assert any(name.startswith("distributed") for name in expanded("dev"))
    assert not any(name.startswith("distributed") for name in expanded("grading"))
    # local grading and the students' commands work without it: nothing imports it until --cluster
    code = "import sys, autograder.grading.run.batch, autograder.student.check; print('distributed' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO / "tests")
    assert result.returncode == 0 and result.stdout.strip() == "False", result.stderr
