"""A size limit on the folders a sandboxed kernel shares with the grader (its runtime folder and outbox).

The kernel must write there (its IPC sockets, its log, the variables stateful tests judge), so those
folders cannot be read-only or private tmpfs like its working folder; and on a shared grading machine
they live on memory-backed /dev/shm. While a notebook runs, a watchdog thread totals what they hold;
past the limit it kills the kernel (nbgrader's executor records a dead kernel and goes on with a fresh
one), removes what does not belong to the grader, and says why. The student's scratch folder is removed
when the student's grading ends, so nothing a student wrote is left for the students after them.
"""

import os
import signal
import threading
from pathlib import Path

PID_PREFIX = "kernel-pid-"
KEEP_PREFIXES = ("kernel-", "cgroups-")


def folder_bytes(folder):
    """Bytes of the regular files under folder (sockets and links not counted, links not followed)."""
    total = 0
    stack = [str(folder)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
            except OSError:
                continue
    return total


def record_kernel(runtime_dir):
    """Called by the kernel's launcher (before it becomes bubblewrap): the pid the watchdog may kill."""
    Path(runtime_dir, f"{PID_PREFIX}{os.getpid()}").touch()


class SharedFolderQuota:
    """Watch runtime_dir and outbox while a notebook runs: `with SharedFolderQuota(...) as quota:`;
    quota.exceeded says whether (and how far) the limit was passed."""

    def __init__(self, runtime_dir, outbox, limit_bytes, interval=0.2):
        self.runtime_dir = Path(runtime_dir)
        self.outbox = Path(outbox)
        self.limit = int(limit_bytes)
        self.interval = interval
        self.exceeded = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="shared-folder-quota", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        self._check()  # what the last moments wrote
        return False

    def _watch(self):
        while not self._stop.wait(self.interval):
            self._check()

    def _check(self):
        used = folder_bytes(self.runtime_dir) + folder_bytes(self.outbox)
        if used <= self.limit:
            return
        self.exceeded = max(self.exceeded or 0, used)
        self._kill_kernels()
        self._clear()

    def _kill_kernels(self):
        for marker in self.runtime_dir.glob(f"{PID_PREFIX}*"):
            try:
                os.kill(int(marker.name[len(PID_PREFIX) :]), signal.SIGKILL)
            except (ValueError, ProcessLookupError, PermissionError):
                pass
            marker.unlink(missing_ok=True)

    def _clear(self):
        """Remove what the student wrote: everything in the outbox, and in the runtime folder all but the
        grader's own files (connection files, cgroup records, sockets); the kernel log is emptied."""
        for folder, keep in ((self.outbox, ()), (self.runtime_dir, KEEP_PREFIXES)):
            for path in sorted(folder.rglob("*"), reverse=True):
                try:
                    if path.is_symlink() or path.is_file():
                        if path.name.startswith(keep) and path.stat().st_size < 1 << 20:
                            continue
                        path.unlink()
                    elif path.is_dir():
                        path.rmdir()
                except OSError:
                    continue
            log = self.runtime_dir / "kernel.log"
            if folder == self.runtime_dir and log.exists():
                try:
                    os.truncate(log, 0)
                except OSError:
                    pass

    def message(self):
        if not self.exceeded:
            return None
        return (
            f"the notebook wrote {self.exceeded / 2**20:.0f} MB into the folders it shares with the grader (more "
            f"than {self.limit / 2**20:.0f} MB): its kernel was stopped and what it wrote removed"
        )
