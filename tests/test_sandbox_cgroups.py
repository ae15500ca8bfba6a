"""Kernels' and call servers' cgroups nest under the grader's own cgroup in every controller, and every
cgroup a grading run creates is removed when it ends (also after a kernel was killed and restarted).

The grader runs, in a child process, inside a parent cgroup made for this test in each controller
(as an administrator's limit on the grading service would be); the test looks from outside.
"""

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from autograder.grading.run.cgroups import cgroups_usable

pytestmark = pytest.mark.slow
ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("pids", "memory")

CHILD = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path

    parents = json.loads(sys.argv[1])
    for parent in parents.values():
        Path(parent, "cgroup.procs").write_text(str(os.getpid()))

    from autograder.grading.run.cgroups import release_cgroups
    from autograder.grading.run.sandbox import Limits, write_profile, bwrap_works
    from autograder.grading.trusted import remote

    work = Path(sys.argv[2])
    for name in ("runtime", "work", "lib"):
        (work / name).mkdir(parents=True, exist_ok=True)
    write_profile(work / "profile.json", workdir=work / "work", runtime_dir=work / "runtime", overlay=work / "lib",
                  data_dir=None, limits=Limits(), use_bwrap=bwrap_works(), mode="server")
    channel = remote.Channel([sys.executable, "-m", "autograder.grading.run.sandbox", "--server", str(work / "profile.json")])
    channel.deadline = time.monotonic() + 60
    channel.request({"op": "ping"})
    seen = Path(f"/proc/{channel.process.pid}/cgroup").read_text()
    channel.kill()
    release_cgroups(work / "runtime")
    print(json.dumps({"cgroup": seen}))
    """
)


@pytest.fixture
def parents():
    if not cgroups_usable() or not all((ROOT / c).is_dir() for c in CONTROLLERS):
        pytest.skip("needs root and writable cgroup v1 pids and memory controllers (the grading box's setup)")
    own = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            own[controller] = path
    name = f"cs-test-parent-{uuid.uuid4().hex[:8]}"
    made = {c: ROOT / c / own.get(c, "/").lstrip("/") / name for c in CONTROLLERS}
    for folder in made.values():
        folder.mkdir()
    yield {c: str(folder) for c, folder in made.items()}
    for folder in made.values():
        for child in folder.glob("cs-grader-*"):
            child.rmdir()
        for _ in range(100):
            try:
                folder.rmdir()
                break
            except OSError:
                import time

                time.sleep(0.05)


def grader_groups(parents):
    return sorted(str(path) for folder in parents.values() for path in Path(folder).rglob("cs-grader-*"))


def test_the_call_servers_cgroups_nest_under_the_graders_and_are_removed(parents, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(parents), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = json.loads(done.stdout.strip().splitlines()[-1])["cgroup"].splitlines()
    paths = {controllers: path for _, controllers, path in (line.split(":", 2) for line in lines)}
    for controller, parent in parents.items():
        inside = paths[controller]
        expected = "/" + os.path.relpath(parent, ROOT / controller)
        assert inside.startswith(expected + "/cs-grader-"), (controller, inside, expected)
    assert grader_groups(parents) == []


def test_a_grading_run_with_killed_kernels_leaves_no_cgroup_behind(parents, tmp_path):
    script = textwrap.dedent(
        """
        import json, os, sys
        from pathlib import Path
        parents = json.loads(sys.argv[1])
        for parent in parents.values():
            Path(parent, "cgroup.procs").write_text(str(os.getpid()))
        sys.path.insert(0, sys.argv[3])
        import toy
        from autograder.grading.run.batch import grade
        from autograder.grading.intake.collect import collect
        from autograder.grading.record.course_dir import init_course, roster_ids
        root = Path(sys.argv[2])
        roster = root / "roster.csv"
        roster.write_text("id\\nhonest\\nkiller\\n")
        course_dir = root / "course"
        init_course(course_dir, toy.course(), roster=roster, cell_timeout=8)
        toy.make_zip(root / "subs" / "honest.zip", notebook=toy.notebook(course_dir))
        killer = "import os\\n\\ndef add(a, b):\\n    os._exit(3)\\n\\ndef scale(x, k):\\n    os._exit(4)\\n"
        toy.make_zip(root / "subs" / "killer.zip", notebook=toy.notebook(course_dir), module=killer)
        collect(course_dir, toy.course(), "t1", root / "subs", roster_ids(course_dir))
        results, _ = grade(course_dir, toy.course(), "t1", jobs=2, cell_timeout=8, progress=False)
        print(json.dumps({r.student: r.score for r in results}))
        """
    )
    tests_dir = str(Path(__file__).resolve().parent)
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(parents), str(tmp_path), tests_dir],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    scores = json.loads(done.stdout.strip().splitlines()[-1])
    assert scores["honest"] == 7 and scores["killer"] < 7
    assert grader_groups(parents) == []


def test_groups_left_by_a_killed_run_are_swept_and_live_ones_kept(parents, tmp_path):
    script = textwrap.dedent(
        """
        import json, os, subprocess, sys
        from pathlib import Path
        parents = json.loads(sys.argv[1])
        for parent in parents.values():
            Path(parent, "cgroup.procs").write_text(str(os.getpid()))
        from autograder.grading.run.cgroups import sweep_stale_cgroups
        for parent in parents.values():
            Path(parent, "cs-grader-leftover-1").mkdir()
            Path(parent, "cs-grader-live-2").mkdir()
        sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        for parent in parents.values():
            Path(parent, "cs-grader-live-2", "cgroup.procs").write_text(str(sleeper.pid))
        removed = sweep_stale_cgroups(min_age=0)
        left = sorted(p.name for parent in parents.values() for p in Path(parent).glob("cs-grader-*"))
        sleeper.kill()
        sleeper.wait()
        print(json.dumps({"removed": removed, "left": left}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(parents)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"removed": 2, "left": ["cs-grader-live-2", "cs-grader-live-2"]}
