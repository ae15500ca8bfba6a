"""`formgrader`: JupyterLab on the course directory with nbgrader's formgrader, for grading by hand.

    python -m autograder formgrader COURSE [--port 8888] [--ip 127.0.0.1]

starts `jupyter lab` with the course directory as its root (nbgrader reads the course's
nbgrader_config.py from there), waits until the server answers, checks that the formgrader extension
answers too, and prints the URLs with their token. No browser is opened: paste the URL, or forward
the port over SSH from a grading server. It serves until interrupted (Ctrl-C).

The server runs as the TA, with the gradebook and a terminal one request away, so it listens on
127.0.0.1 unless --ip says otherwise, needs its token, and shows students' work only as
install_autograded left it: inert (autograder.grading.record.sanitize).
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from autograder.common.course import CourseError
from autograder.grading.record.course_dir import load_settings

READY_SECONDS = 180


@dataclass
class Server:
    process: subprocess.Popen
    base: str
    token: str
    log: Path

    @property
    def lab_url(self):
        return f"{self.base}/lab?token={self.token}"

    @property
    def formgrader_url(self):
        return f"{self.base}/formgrader?token={self.token}"

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def free_port(ip="127.0.0.1"):
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def _get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return None


def lab_command(course_dir, ip, port, token, extra=()):
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--ServerApp.ip={ip}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={course_dir}",
        f"--IdentityProvider.token={token}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=",
        *(["--allow-root"] if os.geteuid() == 0 else []),  # containers run as root; say so when serving
        *extra,
    ]


def start_lab(root, ip="127.0.0.1", port=None, token=None, log=None, env=None, extra=()):
    """Start `jupyter lab` serving root (its working directory too) and wait until it answers; returns a Server."""
    root = Path(root).resolve()
    port = port or free_port(ip)
    token = token or secrets.token_hex(24)
    log = Path(log or root / ".autograder" / "formgrader.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    host = f"[{ip}]" if ":" in ip else ip
    base = f"http://{host}:{port}"
    environment = dict(env if env is not None else os.environ)
    environment["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), environment.get("PATH", "")])
    with open(log, "wb") as output:
        process = subprocess.Popen(
            lab_command(root, ip, port, token, extra),
            cwd=root,  # nbgrader reads nbgrader_config.py from the working directory
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,
        )
    server = Server(process=process, base=base, token=token, log=log)
    deadline = time.monotonic() + READY_SECONDS
    try:
        while True:
            if process.poll() is not None:
                raise CourseError(f"jupyter lab stopped (exit code {process.returncode}); its log:\n{_tail(log)}")
            if _get(f"{base}/api/status?token={token}") == 200:
                return server
            if time.monotonic() > deadline:
                raise CourseError(f"jupyter lab did not answer on {base} within {READY_SECONDS} s; log:\n{_tail(log)}")
            time.sleep(0.25)
    except BaseException:  # never leave a server behind: it runs in a session of its own
        server.stop()
        raise


def start(course_dir, ip="127.0.0.1", port=None, token=None, log=None, env=None, extra=()):
    """Start JupyterLab with formgrader on course_dir and wait until formgrader answers; returns a Server."""
    course_dir = Path(course_dir).resolve()
    load_settings(course_dir)  # a course directory made by `init`, or a clear error
    server = start_lab(course_dir, ip=ip, port=port, token=token, log=log, env=env, extra=extra)
    status = _get(f"{server.base}/formgrader/api/assignments?token={server.token}", timeout=60)
    if status != 200:
        server.stop()
        raise CourseError(
            f"JupyterLab started but nbgrader's formgrader did not answer (HTTP {status}). Enable it with "
            "`jupyter server extension enable --sys-prefix nbgrader.server_extensions.formgrader` and "
            f"`jupyter labextension enable @jupyter/nbgrader`. Server log:\n{_tail(server.log)}"
        )
    return server


def _tail(path, lines=30):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop_on(*signals):
    """Turn these signals into SystemExit, so `finally` blocks run (the server is in a session of its own
    and would outlive this process otherwise)."""

    def leave(number, frame):
        raise SystemExit(128 + number)

    for number in signals:
        signal.signal(number, leave)


def serve(course_dir, ip="127.0.0.1", port=None, out=print):
    """Start the server, print how to reach it, and serve until interrupted; returns the exit code."""
    _stop_on(signal.SIGTERM, signal.SIGHUP)
    server = start(course_dir, ip=ip, port=port)
    if os.geteuid() == 0:
        out("WARNING: running as root (a container?): the server and every terminal it opens are root's")
    if ip not in ("127.0.0.1", "localhost", "::1"):
        out(f"WARNING: listening on {ip}: anyone who can reach it and has the token can grade and run code")
    out(f"formgrader: {server.formgrader_url}")
    out(f"JupyterLab: {server.lab_url}  (menu Nbgrader > Formgrader)")
    out(f"server log: {server.log}; stop with Ctrl-C")
    try:
        return server.process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()
