"""What a grade is computed from, so that `grade` grades again only what could come out differently.

A student's grading key is a SHA-256 of everything that can change the score:
- the submission: every collected file (gradebook.submission_digest) and the hand-in time (the late penalty);
- the course version: the course package that grades (autograder.grading.run.versions, the hash the cluster
  check compares), the assignment's source and release notebooks in the course folder (hidden tests
  included), the course description, the cs_lib the submission is graded with (provided code and the
  references of earlier assignments) and the embedded dataset;
- the grading options: resource limits, cell and notebook timeouts, the sandbox (bubblewrap or limits only),
  the assignment's due date and the course's late-submission policy.
`grade` keeps a student whose stored key (gradebook_tables.RESULTS.grading_key, next to graded_with, the
parts it hashes) and installed notebooks (grading.json) both carry the key it would compute now.
"""

import hashlib
import json
from pathlib import Path

from autograder.grading.record.gradebook import submission_digest
from autograder.grading.record.nbgrader_course import load_course_config
from autograder.grading.run import versions

SANDBOXES = {True: "bubblewrap", False: "limits only"}


def _tree_digest(root):
    """SHA-256 of every file under root, caches left out (relative paths and contents)."""
    root = Path(root)
    digest = hashlib.sha256()
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and "__pycache__" not in relative.parts and path.suffix != ".pyc":
                digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def course_version(course_dir, course, assignment_id, overlay, data_dir):
    """{part: version} of what the course grades assignment_id with; overlay: the grading cs_lib (built by
    overlay.grading_overlay), data_dir: the grading data folder (batch.grading_data_dir)."""
    course_dir = Path(course_dir)
    marker = Path(data_dir) / "embedded" / "EMBEDDED"
    return {
        **versions.installed(),
        "source notebooks": _tree_digest(course_dir / "source" / assignment_id)[:16],
        "release notebooks": _tree_digest(course_dir / "release" / assignment_id)[:16],
        "course description": hashlib.sha256(Path(course.course_file).read_bytes()).hexdigest()[:16],
        "grading cs_lib": _tree_digest(overlay)[:16],
        "dataset": hashlib.sha256(marker.read_bytes()).hexdigest()[:16] if marker.is_file() else "none",
    }


def late_policy_settings(course_dir):
    """The course configuration's late-submission settings (nbgrader's AssignLatePenalties and its plugin)."""
    config = load_course_config(course_dir)
    penalties = dict(config.get("AssignLatePenalties", {}))
    plugin = penalties.get("plugin_class", "LateSubmissionPlugin")
    name = plugin if isinstance(plugin, str) else getattr(plugin, "__qualname__", repr(plugin))
    name = name.rsplit(".", 1)[-1]
    return {
        "AssignLatePenalties": {key: repr(value) for key, value in sorted(penalties.items())},
        name: {key: repr(value) for key, value in sorted(dict(config.get(name, {})).items())},
    }


def grading_options(limits, cell_timeout, notebook_timeout, due, late_policy):
    """The options of a run that can change a score (the sandbox is added per student: see grading_key)."""
    return {
        "limits": dict(sorted(limits.items())),
        "cell timeout": cell_timeout,
        "notebook timeout": notebook_timeout,
        "due": str(due) if due is not None else None,
        "late policy": late_policy,
    }


def submission_part(submission_dir):
    """The submission's share of the key: its files and its hand-in time."""
    stamp = Path(submission_dir) / "timestamp.txt"
    return {
        "files": submission_digest(submission_dir),
        "timestamp": stamp.read_text().strip() if stamp.is_file() else None,
    }


def grading_key(version, options, submission, use_bwrap):
    """(key, graded_with): the key of grading `submission` with this course version, these options and this
    sandbox, and the parts it is a hash of."""
    graded_with = {
        "course": version,
        "options": dict(options, sandbox=SANDBOXES[bool(use_bwrap)]),
        "submission": submission,
    }
    key = hashlib.sha256(json.dumps(graded_with, sort_keys=True).encode()).hexdigest()
    return key, graded_with


def installed_record(course_dir, assignment_id, student):
    """The grading record (grading.json) of the notebooks installed in autograded/<student>/<assignment>/,
    {} when there is none that can be read."""
    path = Path(course_dir) / "autograded" / student / assignment_id / "grading.json"
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def unchanged(stored_key, keys, record):
    """The stored grade was computed from what this run would grade with (one of keys), and the installed
    notebooks (their grading record) come from that same grading: a run killed between the commit and the
    install leaves the two apart, and the student is graded again."""
    return stored_key in keys and record.get("grading_key") == stored_key
