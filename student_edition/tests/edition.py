"""Helpers for the tests of the course's commands: the manifest, the published starter state, the environment.

The checks of the untouched starter code skip an assignment once its files changed: .edition.json
records the SHA-256 of every file as the course published it.
"""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def manifest():
    return json.loads((REPO / "assignments" / "manifest.json").read_text())


def assignment(assignment_id):
    return next(entry for entry in manifest()["assignments"] if entry["id"] == assignment_id)


def assignment_files(assignment_id):
    """The files of an assignment a student changes: its notebooks and its cs_lib files."""
    entry = assignment(assignment_id)
    notebooks = [f"assignments/{assignment_id}/{nb['name']}.ipynb" for nb in entry["notebooks"]]
    return notebooks + list(entry["student_files"])


def changed_since_published(assignment_id):
    published = json.loads((REPO / ".edition.json").read_text())["files"]
    return [
        name
        for name in assignment_files(assignment_id)
        if not (REPO / name).is_file() or hashlib.sha256((REPO / name).read_bytes()).hexdigest() != published[name]
    ]


def require_starter(assignment_id):
    """Skip unless the assignment's files are as published (the test checks the untouched starter code)."""
    changed = changed_since_published(assignment_id)
    if changed:
        pytest.skip(
            f"you have started {assignment_id} ({', '.join(changed[:3])} changed): this test checks the "
            "untouched starter code (a fresh clone runs it)"
        )


def env(checkout=REPO):
    """The environment for the commands under test: the checkout's cs_lib first, in every kernel too."""
    return dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(checkout), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    )


def autograder(*args, cwd=REPO, timeout=900):
    """Run `python -m autograder ARGS` as a student does, from cwd (a checkout)."""
    return subprocess.run(
        [sys.executable, "-m", "autograder", *map(str, args)],
        cwd=cwd,
        env=env(cwd),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
