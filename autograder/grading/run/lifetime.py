"""No process a grading starts outlives the process that started it.

Grading processes live in sessions of their own (so a deadline can kill a whole process group), which
also means they do not die with the TA's terminal or a SIGKILLed `grade`. Each one therefore asks the
kernel for a parent-death signal (Linux PR_SET_PDEATHSIG, SIGKILL): the grading worker for `grade`'s
process, the trusted runner for its worker, the sandbox launchers for whoever started them (bubblewrap's
--die-with-parent keeps it for the sandboxed process). The signal is armed only after the fork, so a
parent that died in between would never send it: each process checks right after arming it that its
parent is still the one that started it, and exits otherwise.

PR_SET_PDEATHSIG fires when the *thread* that forked the child ends: grading forks only from threads
that outlive their children (the main thread of `grade`, of a worker, of the fork server).
"""

import os
import select
import signal
import sys

PR_SET_PDEATHSIG = 1


def arm_parent_death_signal():
    """SIGKILL this process when its parent dies (Linux); False where the kernel offers no such thing."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent):
    """In a child just forked by process `parent`: die with it, and at once if it is already gone."""
    arm_parent_death_signal()
    if os.getppid() != parent:
        os._exit(1)


def preexec_die_with(parent):
    """A subprocess preexec_fn for children of `parent` (normally os.getpid() of the caller)."""
    return lambda: die_with_parent(parent)


def die_with_pipe_writer(descriptor=0):
    """Arm the parent-death signal, then exit when nobody holds the write end of the pipe on `descriptor`.

    For a process whose parent is known only as the other end of its stdin (the call server): a pipe
    whose writers have all closed it (the parent died before the signal was armed) reports POLLHUP,
    without a byte of what is waiting in it being read (nobody would read the replies to it).
    """
    arm_parent_death_signal()
    poller = select.poll()
    poller.register(descriptor, 0)  # POLLHUP is always reported
    if any(events & select.POLLHUP for _, events in poller.poll(0)):
        os._exit(1)
