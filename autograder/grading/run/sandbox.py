"""The sandboxed kernel that runs untrusted student code while grading.

nbgrader executes each notebook through a Jupyter kernel. While grading, the kernel is
started by ``python -m autograder.grading.run.sandbox <profile.json> <connection_file>``, which
(trusted, before any student code exists in the process):

1. applies resource limits: a cgroup (memory, number of processes) when the grader runs as
   root and cgroups are writable, and rlimits always (CPU seconds, file size, address space,
   open files, processes -- the last is not enforced by Linux for root, hence the cgroup);
2. execs bubblewrap, which gives the kernel: no network, a read-only view of the system and
   of the Python environment, the cs_lib overlay and the dataset read-only, a private /tmp and
   working folder on size-limited tmpfs holding read-only copies of the submitted files, no
   view of the course folder, the gradebook, solutions/ or other students, and no privileges;
3. without bubblewrap (macOS, or a Linux without user namespaces) it runs the kernel with the
   limits only, and `protections()` says exactly what is missing.

Kernel and grader talk over ZeroMQ IPC sockets in a per-student runtime folder, the only
writable folder shared with the grader besides the kernel's outbox (where it leaves the notebook
variables stateful tests judge, as plain data).

``python -m autograder.grading.run.sandbox --server <profile.json>`` starts the trusted grader's call
server (trusted/sandboxed/server.py) in the same sandbox with the same limits: it imports the
student's code and calls it on request over its stdin/stdout; points are decided outside.
"""

import json
import os
import resource
import shutil
import subprocess
import sys
import sysconfig
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.grading.run.cgroups import cgroups_usable, enter_cgroup
from autograder.grading.run.lifetime import arm_parent_death_signal, die_with_parent, die_with_pipe_writer
from autograder.grading.run.quota import record_kernel

KERNEL_NAME = "cs-sandbox"
SANDBOX_ROOT = "/sandbox"


@dataclass
class Limits:
    memory_mb: int = 3072
    processes: int = 64
    cpu_seconds: int = 900
    file_size_mb: int = 256
    workdir_mb: int = 512
    open_files: int = 1024
    threads: int = 1


def bwrap_path():
    return shutil.which("bwrap")


def bwrap_works():
    """bubblewrap is installed and can create namespaces here (user namespaces allowed)."""
    path = bwrap_path()
    if not path:
        return False
    probe = [
        path,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--ro-bind",
        "/",
        "/",
        "true",
    ]
    try:
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def protections(use_bwrap=None):
    """[(protection, active, how)] as the grader will apply them on this machine."""
    has_bwrap = bwrap_works() if use_bwrap is None else use_bwrap
    cgroups = cgroups_usable()
    root = os.geteuid() == 0
    processes_how = (
        "cgroup pids.max" if cgroups else ("RLIMIT_NPROC" if not root else "none: root ignores RLIMIT_NPROC")
    )
    return [
        ("no network", has_bwrap, "bubblewrap network namespace" if has_bwrap else "none: needs bubblewrap"),
        (
            "private filesystem (no course folder, gradebook, solutions or other students)",
            has_bwrap,
            "bubblewrap mount namespace" if has_bwrap else "none: needs bubblewrap",
        ),
        ("read-only Python environment and cs_lib", has_bwrap, "bubblewrap read-only binds" if has_bwrap else "none"),
        ("memory limit", True, "cgroup memory limit + RLIMIT_AS" if cgroups else "RLIMIT_AS (address space)"),
        ("process limit", cgroups or not root, processes_how),
        ("CPU time limit", True, "RLIMIT_CPU"),
        ("file size and disk limit", True, "RLIMIT_FSIZE" + (" + size-limited tmpfs" if has_bwrap else "")),
        ("wall-clock limit per cell and per notebook", True, "nbgrader cell timeout + grader deadline"),
    ]


def write_kernelspec(jupyter_dir, profile_path):
    """A kernelspec named cs-sandbox whose kernel is this module's launcher."""
    folder = Path(jupyter_dir) / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "autograder.grading.run.sandbox", str(profile_path), "{connection_file}"],
        "display_name": "Python 3 (sandboxed grading)",
        "language": "python",
        "interrupt_mode": "message",  # signals do not cross into the sandbox; messages do
        "metadata": {"debugger": False},
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))
    return folder


SERVER_DIR = Path(__file__).resolve().parents[1] / "trusted" / "sandboxed"


def write_profile(
    path,
    *,
    workdir,
    runtime_dir,
    overlay,
    data_dir,
    limits,
    use_bwrap,
    env=None,
    read_only_files=None,
    outbox=None,
    mode="kernel",
    cgroup_parents=None,
):
    """Write what the launcher needs: mode "kernel" (a notebook kernel), "server" (the call server) or
    "runner" (the trusted runner, limits only). cgroup_parents: where its cgroups go (cgroups.parent_cgroups
    of the process that starts its starter), else inside the launcher's own."""
    profile = {
        "mode": mode,
        "server_dir": str(SERVER_DIR),
        "outbox": str(Path(outbox).resolve()) if outbox else None,
        "workdir": str(Path(workdir).resolve()),
        "runtime_dir": str(Path(runtime_dir).resolve()),
        "overlay": str(Path(overlay).resolve()),
        "data_dir": str(Path(data_dir).resolve()) if data_dir else None,
        "limits": asdict(limits),
        "use_bwrap": bool(use_bwrap),
        "env": env or {},
        "cgroup_id": uuid.uuid4().hex[:12],
        "read_only_files": read_only_files or {},
        "cgroup_parents": cgroup_parents,
    }
    Path(path).write_text(json.dumps(profile, indent=1))
    return profile


# --- inside the launcher process -------------------------------------------------------


def _set_rlimits(limits):
    def cap(kind, value):
        soft, hard = resource.getrlimit(kind)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (value, value))

    cap(resource.RLIMIT_CPU, limits["cpu_seconds"])
    cap(resource.RLIMIT_FSIZE, limits["file_size_mb"] * 2**20)
    cap(resource.RLIMIT_NOFILE, limits["open_files"])
    cap(resource.RLIMIT_CORE, 0)
    # address space is generous: numpy and torch reserve far more than they touch
    cap(resource.RLIMIT_AS, max(limits["memory_mb"] * 2**20 * 3, 6 * 2**30))
    if os.geteuid() != 0:
        cap(resource.RLIMIT_NPROC, _current_processes() + limits["processes"])


def _current_processes():
    """Processes of this user now (RLIMIT_NPROC counts them all)."""
    uid = os.getuid()
    count = 0
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count


def _python_paths():
    """Folders the kernel's Python needs read-only: the environment, its base and its site-packages."""
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        candidates.add(sysconfig.get_paths()[key])
    paths = sorted({str(Path(p).resolve()) for p in candidates if p and Path(p).exists()}, key=len)
    chosen = []
    for path in paths:
        if path.startswith("/usr/") or path == "/usr":
            continue
        if not any(path == parent or path.startswith(parent + "/") for parent in chosen):
            chosen.append(path)
    return chosen


def bwrap_command(profile, kernel_argv, connection_file=None):
    """The bubblewrap command line around kernel_argv (a kernel with its connection file, or the call server)."""
    limits = profile["limits"]
    work = f"{SANDBOX_ROOT}/work"
    args = [bwrap_path(), "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--disable-userns"]
    args += ["--cap-drop", "ALL", "--hostname", "grading-sandbox"]
    args += ["--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group", "nsswitch.conf", "fonts"):
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    # the private /tmp first: a bind below /tmp made before it (a checkout in /tmp) would be hidden
    args += ["--size", str(256 * 2**20), "--tmpfs", "/tmp"]
    for path in _python_paths():
        args += ["--ro-bind", path, path]
    for inside, outside in (profile.get("read_only_files") or {}).items():
        if os.path.isfile(outside):
            args += ["--ro-bind", outside, inside]
    args += ["--ro-bind", profile["overlay"], f"{SANDBOX_ROOT}/lib"]
    args += ["--ro-bind", profile["server_dir"], f"{SANDBOX_ROOT}/server"]
    if profile.get("outbox"):
        args += ["--bind", profile["outbox"], f"{SANDBOX_ROOT}/out"]
    if profile["data_dir"]:
        args += ["--ro-bind", profile["data_dir"], f"{SANDBOX_ROOT}/data"]
    args += ["--size", str(limits["workdir_mb"] * 2**20), "--tmpfs", work]
    workdir = Path(profile["workdir"])
    for path in sorted(workdir.rglob("*")):
        # notebooks stay outside: nbgrader has already put the hidden tests back into them
        if path.is_file() and not path.is_symlink() and path.suffix != ".ipynb":
            args += ["--ro-bind", str(path), f"{work}/{path.relative_to(workdir).as_posix()}"]
    if profile["mode"] == "kernel":  # the kernel's IPC sockets live there; the call server needs no shared folder
        args += ["--bind", profile["runtime_dir"], profile["runtime_dir"]]
    args += ["--chdir", work]
    if connection_file is not None:
        connection_file = str(Path(connection_file).resolve())
        args += ["--ro-bind", connection_file, connection_file]
    args += ["--clearenv"]
    for key, value in _kernel_env(profile, inside=True).items():
        args += ["--setenv", key, value]
    return args + ["--", *kernel_argv]


def _kernel_env(profile, inside):
    threads = str(profile["limits"]["threads"])
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "PYTHONPATH": f"{SANDBOX_ROOT}/lib" if inside else profile["overlay"],
        "HOME": "/tmp" if inside else os.environ.get("HOME", "/tmp"),
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "PYTHONDONTWRITEBYTECODE": "1",
        "JUPYTER_RUNTIME_DIR": profile["runtime_dir"],
        "LANG": "C.UTF-8",
    }
    if inside:
        env["MPLCONFIGDIR"] = "/tmp/matplotlib"  # holds a read-only copy of the grader's font list
    elif os.environ.get("MPLCONFIGDIR"):
        env["MPLCONFIGDIR"] = os.environ["MPLCONFIGDIR"]
    if profile["data_dir"]:
        env["CS_DATA_DIR"] = f"{SANDBOX_ROOT}/data" if inside else profile["data_dir"]
    env["CS_WIRE_DIR"] = f"{SANDBOX_ROOT}/server" if inside else profile["server_dir"]
    if profile.get("outbox"):
        env["CS_OUTBOX"] = f"{SANDBOX_ROOT}/out" if inside else profile["outbox"]
    if os.environ.get("NBGRADER_EXECUTION"):
        env["NBGRADER_EXECUTION"] = os.environ["NBGRADER_EXECUTION"]
    env.update(profile.get("env") or {})
    return env


def limit_this_process(profile):
    """Enter fresh cgroups (recorded in the runtime folder, for release_cgroups) and set the rlimits."""
    if cgroups_usable():
        record = Path(profile["runtime_dir"], f"cgroups-{profile['cgroup_id']}-{os.getpid()}.json")
        created = enter_cgroup(profile)
        record.write_text(json.dumps(created))
    _set_rlimits(profile["limits"])


def _log_to(profile, name, descriptors):
    """Point the given descriptors at a log in the runtime folder (never the TA's terminal)."""
    log = os.open(os.path.join(profile["runtime_dir"], name), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    for descriptor in descriptors:
        os.dup2(log, descriptor)
    os.close(log)


def _exec(profile, argv, connection_file=None):
    if profile["use_bwrap"]:
        command = bwrap_command(profile, argv, connection_file)
        os.execv(command[0], command)
    # without bubblewrap: limits only, in a private copy of the working folder
    work = Path(profile["runtime_dir"]) / f"work-{profile['mode']}"
    if not work.exists():
        shutil.copytree(profile["workdir"], work, symlinks=False, ignore_dangling_symlinks=True)
    os.chdir(work)
    os.execve(argv[0], argv, _kernel_env(profile, inside=False))


def launch(profile_path, connection_file, extra_args):
    # jupyter_client starts this launcher in a session of its own and names itself in JPY_PARENT_PID: the
    # kernel dies with the grading process that runs the notebook (the signal survives the exec)
    parent = os.environ.get("JPY_PARENT_PID", "")
    if parent.isdigit():
        die_with_parent(int(parent))
    else:
        arm_parent_death_signal()
    profile = json.loads(Path(profile_path).read_text())
    record_kernel(profile["runtime_dir"])  # the grader's watchdog on the shared folders may kill this pid
    limit_this_process(profile)
    kernel_argv = [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file, *extra_args]
    # the kernel's own stdout/stderr (start-up notes, os.write(2, ...) from student code) go to a log
    _log_to(profile, "kernel.log", (1, 2))
    _exec(profile, kernel_argv, connection_file)


def launch_server(profile_path):
    """The call server: stdin and stdout stay the channel to the grader; stderr goes to a log."""
    die_with_pipe_writer(0)  # the trusted runner that started it holds the other end of stdin
    profile = json.loads(Path(profile_path).read_text())
    limit_this_process(profile)
    _log_to(profile, "server.log", (2,))
    inside = f"{SANDBOX_ROOT}/server" if profile["use_bwrap"] else profile["server_dir"]
    _exec(profile, [sys.executable, "-u", "-B", f"{inside}/server.py"])


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) == 2 and argv[0] == "--server":
        launch_server(argv[1])
        return 1  # launch_server only returns if exec failed
    if len(argv) < 2:
        print(
            "usage: python -m autograder.grading.run.sandbox PROFILE.json CONNECTION_FILE [kernel args]\n"
            "       python -m autograder.grading.run.sandbox --server PROFILE.json",
            file=sys.stderr,
        )
        return 2
    launch(argv[0], argv[1], argv[2:])
    return 1  # launch only returns if exec failed


if __name__ == "__main__":
    sys.exit(main())
