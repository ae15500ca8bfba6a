"""Grading jobs and their results as data, for grading machines that do not share the TA's filesystem.

A job (see autograder.grading.run.worker) names files and folders on the TA's machine in the entries
listed in `worker.PATH_KEYS`. `pack_jobs` turns each distinct file or folder into one blob (its bytes,
or an uncompressed tar of a folder) named by its SHA-256, and each job into a task that refers to its
blobs and holds no path of the TA's machine: "scratch" is chosen by the grading machine and
"data_dir" / "read_only_files" name that machine's own dataset and caches, so they travel empty.
On the grading machine `unpack_job` checks every blob's hash and rebuilds the job with local paths.
The executed notebooks return as bytes in the result (`pack_result`) and the TA's side writes them
to a local folder (`unpack_result`) before they are installed.
"""

import hashlib
import io
import os
import shutil
import tarfile
from pathlib import Path

# set by the grading machine, never sent: they would name the TA's folders
LOCAL_KEYS = ("scratch", "data_dir", "read_only_files")


class TransportError(RuntimeError):
    """A blob did not arrive intact, or a task refers to one that was not sent."""


def pack_path(path):
    """({"kind", "name", "sha256"}, bytes) for a file (its bytes) or a folder (a tar of its contents)."""
    path = Path(path)
    if path.is_dir():
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for item in sorted(path.rglob("*")):
                archive.add(item, arcname=item.relative_to(path).as_posix(), recursive=False)
        data, kind = buffer.getvalue(), "folder"
    elif path.is_file():
        data, kind = path.read_bytes(), "file"
    else:
        raise TransportError(f"cannot send {path}: it is neither a file nor a folder")
    return {"kind": kind, "name": path.name, "sha256": hashlib.sha256(data).hexdigest()}, data


def pack_jobs(jobs):
    """(blobs {sha256: bytes}, tasks): one task per job, with its PATH_KEYS entries as references to blobs.

    A file or folder used by several jobs (the grading template, the compiled overlay) is packed once
    and marked "shared", so it can be sent to each grading machine once rather than with every task.
    """
    from autograder.grading.run.worker import PATH_KEYS

    blobs, packed, tasks = {}, {}, []
    for job in jobs:
        inputs = {}
        for key in PATH_KEYS:
            if job.get(key) is None:
                continue
            source = str(Path(job[key]).resolve())
            if source not in packed:
                reference, data = pack_path(source)
                blobs[reference["sha256"]] = data
                packed[source] = reference
            inputs[key] = packed[source]
        plain = {key: value for key, value in job.items() if key not in PATH_KEYS and key not in LOCAL_KEYS}
        tasks.append({"job": plain, "inputs": inputs})
    uses = {}
    for task in tasks:
        for reference in task["inputs"].values():
            uses[reference["sha256"]] = uses.get(reference["sha256"], 0) + 1
    for task in tasks:
        for reference in task["inputs"].values():
            reference["shared"] = uses[reference["sha256"]] > 1
    return blobs, tasks


def _checked(blobs, reference, what):
    data = blobs.get(reference["sha256"])
    if data is None:
        raise TransportError(f"{what} ({reference['name']}) was not sent with the task")
    if hashlib.sha256(data).hexdigest() != reference["sha256"]:
        raise TransportError(f"{what} ({reference['name']}) arrived damaged: its SHA-256 does not match")
    return data


def _unpack(reference, data, folder):
    """Write a blob into folder; return the path of the file or folder it held."""
    staging = folder.with_name(folder.name + f".partial-{os.getpid()}-{id(data)}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    target = staging / reference["name"]
    if reference["kind"] == "folder":
        target.mkdir()
        with tarfile.open(fileobj=io.BytesIO(data), mode="r") as archive:
            archive.extractall(target, filter="data")
    else:
        target.write_bytes(data)
    try:
        staging.rename(folder)
    except OSError:  # another task on this machine unpacked the same blob first
        shutil.rmtree(staging, ignore_errors=True)
    return folder / reference["name"]


def unpack_job(task, blobs, scratch, cache=None):
    """The task's job with local paths: inputs under scratch/inputs, or under cache for shared blobs.

    `cache` keeps a blob's unpacked copy across tasks (the same template and overlay serve every
    student); the grader only reads these inputs, it copies what it changes.
    """
    scratch = Path(scratch)
    job = dict(task["job"])
    for key, reference in task["inputs"].items():
        data = _checked(blobs, reference, key)
        shared = cache is not None and reference.get("shared")
        folder = (Path(cache) if shared else scratch / "inputs" / key) / reference["sha256"]
        if shared and folder.is_dir():
            job[key] = str(folder / reference["name"])
            continue
        job[key] = str(_unpack(reference, data, folder))
    job["scratch"] = str(scratch / "work")
    return job


def pack_result(result):
    """The result with each executed notebook's bytes in result["executed_files"] instead of a local path."""
    result = dict(result, notebooks={name: dict(info) for name, info in result.get("notebooks", {}).items()})
    files = {}
    for name, info in result["notebooks"].items():
        path = info.get("executed")
        if path and Path(path).is_file():
            files[name] = Path(path).read_bytes()
        info["executed"] = None
    result["executed_files"] = files
    return result


def unpack_result(result, folder):
    """The result with its executed notebooks written to folder/<name>.ipynb and named by those paths."""
    folder = Path(folder)
    files = result.pop("executed_files", {}) or {}
    for name, info in result.get("notebooks", {}).items():
        if name in files:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{Path(name).name}.ipynb"
            path.write_bytes(files[name])
            info["executed"] = str(path)
        else:
            info["executed"] = None
    return result
