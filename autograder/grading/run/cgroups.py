"""cgroups for the sandboxed processes: memory and process limits, nested under the grader's own group.

Each launch of a kernel or call server (as root, with writable cgroups) moves itself into fresh
groups with its limits, made inside the grader's own group in every controller (cgroup v1), so
limits an administrator puts on the grading service hold for every kernel too. cgroup v2 allows no
process in an inner group, so there the groups are made beside the grader's. The launcher records
the groups in the runtime folder; release_cgroups removes them when the run ends.
"""

import json
import os
import time
from pathlib import Path


def _own_cgroups():
    """{controller: this process's cgroup path} from /proc/self/cgroup ("" for cgroup v2)."""
    own = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            own[controller] = path
    return own


def _cgroup_v1_dirs():
    """The grader's own pids and memory cgroups (cgroup v1): kernels' groups are made inside them, so
    limits an administrator puts on the grading service hold for every kernel too."""
    base = Path("/sys/fs/cgroup")
    if not (base / "pids").is_dir() or not (base / "memory").is_dir():
        return None
    own = _own_cgroups()
    return tuple(base / controller / own.get(controller, "/").lstrip("/") for controller in ("pids", "memory"))


def _cgroup_v2_dir():
    base = Path("/sys/fs/cgroup")
    if not (base / "cgroup.controllers").is_file():
        return None
    own = Path("/proc/self/cgroup").read_text().strip().split("::", 1)[-1]
    return base / own.lstrip("/")


def cgroups_usable():
    """Whether the launcher can put each kernel in its own cgroup (root with writable cgroups)."""
    if os.geteuid() != 0:
        return False
    v1 = _cgroup_v1_dirs()
    if v1:
        return all(os.access(path, os.W_OK) for path in v1)
    v2 = _cgroup_v2_dir()
    return bool(v2 and os.access(v2.parent, os.W_OK))


def parent_cgroups():
    """This process's own groups, as enter_cgroup's profile["cgroup_parents"]: a process started further
    down (the trusted runner's call server) then gets groups beside its starter's, not inside them."""
    v1 = _cgroup_v1_dirs()
    if v1:
        return [str(path) for path in v1]
    v2 = _cgroup_v2_dir()
    return [str(v2)] if v2 else None


def enter_cgroup(profile):
    """Move this process into fresh cgroups with memory and process limits; return their paths."""
    limits = profile["limits"]
    # a fresh group per launch: a restarted kernel must not inherit a full pids.max from its predecessor
    name = f"cs-grader-{profile['cgroup_id']}-{os.getpid()}"
    created = []
    v1 = _cgroup_v1_dirs()
    if v1 and profile.get("cgroup_parents") and len(profile["cgroup_parents"]) == 2:
        v1 = tuple(Path(path) for path in profile["cgroup_parents"])
    if v1:
        pids_dir, memory_dir = v1[0] / name, v1[1] / name
        for folder in (pids_dir, memory_dir):
            folder.mkdir(exist_ok=True)
            created.append(str(folder))
        (pids_dir / "pids.max").write_text(str(limits["processes"]))
        (memory_dir / "memory.limit_in_bytes").write_text(str(limits["memory_mb"] * 2**20))
        for folder in (pids_dir, memory_dir):
            (folder / "cgroup.procs").write_text(str(os.getpid()))
        return created
    v2 = _cgroup_v2_dir()
    if profile.get("cgroup_parents") and len(profile["cgroup_parents"]) == 1:
        v2 = Path(profile["cgroup_parents"][0])
    folder = v2.parent / name
    folder.mkdir(exist_ok=True)
    (folder / "pids.max").write_text(str(limits["processes"]))
    (folder / "memory.max").write_text(str(limits["memory_mb"] * 2**20))
    (folder / "cgroup.procs").write_text(str(os.getpid()))
    return [str(folder)]


def release_cgroups(runtime_dir, wait=5.0):
    """Remove the cgroups the launchers of this runtime folder made, killing what is left in them.

    A group can only be removed once the kernel has left it; killed processes leave when their
    parent has reaped them, so the removal waits a little for that.
    """

    for record in Path(runtime_dir).glob("cgroups-*.json"):
        try:
            folders = json.loads(record.read_text())
        except (OSError, ValueError):
            folders = []
        for folder in folders:
            procs = Path(folder, "cgroup.procs")
            deadline = time.monotonic() + wait
            while True:
                try:
                    pids = procs.read_text().split()
                except OSError:
                    break  # already gone
                for pid in pids:
                    try:
                        os.kill(int(pid), 9)
                    except (OSError, ValueError):
                        pass
                try:
                    os.rmdir(folder)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.02)
        if not any(os.path.isdir(folder) for folder in folders):
            record.unlink(missing_ok=True)


def sweep_stale_cgroups(min_age=120.0):
    """Remove empty cs-grader groups left under the grader's own groups by runs that were killed before
    they could clean up (older than min_age seconds: a group a concurrent launch just made stays)."""
    parents = []
    v1 = _cgroup_v1_dirs()
    if v1:
        parents = list(v1)
    elif _cgroup_v2_dir() is not None:
        parents = [_cgroup_v2_dir().parent]
    removed = 0
    now = time.time()
    for parent in parents:
        for folder in Path(parent).glob("cs-grader-*"):
            try:
                if now - folder.stat().st_mtime < min_age or Path(folder, "cgroup.procs").read_text().strip():
                    continue
                os.rmdir(folder)
                removed += 1
            except OSError:
                continue  # in use, or already gone
    return removed
