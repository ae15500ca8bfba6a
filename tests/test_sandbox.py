"""The sandbox's bubblewrap command line and the protections report (no kernel started here)."""

from autograder.grading.run import sandbox
from autograder.grading.run.sandbox import Limits, bwrap_command, protections, write_profile


def make_profile(tmp_path):
    workdir = tmp_path / "autograded"
    workdir.mkdir()
    (workdir / "toy.ipynb").write_text("{}")  # nbgrader's copy, hidden tests restored
    (workdir / "answer.txt").write_text("42")
    (workdir / "data").mkdir()
    (workdir / "data" / "weights.pt").write_bytes(b"x")
    for name in ("runtime", "overlay"):
        (tmp_path / name).mkdir()
    return write_profile(
        tmp_path / "profile.json",
        workdir=workdir,
        runtime_dir=tmp_path / "runtime",
        overlay=tmp_path / "overlay",
        data_dir=tmp_path,
        limits=Limits(),
        use_bwrap=True,
    )


def mounts(args):
    """(option, source, destination) for every mount option, in order."""
    found, index = [], 0
    while index < len(args):
        if args[index] in ("--ro-bind", "--bind", "--ro-bind-try", "--symlink"):
            found.append((args[index], args[index + 1], args[index + 2]))
            index += 3
        elif args[index] == "--tmpfs":
            found.append(("--tmpfs", None, args[index + 1]))
            index += 2
        else:
            index += 1
    return found


def test_nothing_is_mounted_below_tmp_before_the_private_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "_python_paths", lambda: ["/tmp/checkout/.venv", "/opt/python"])
    order = mounts(bwrap_command(make_profile(tmp_path), ["python"], tmp_path / "runtime" / "kernel.json"))
    tmpfs = next(i for i, (kind, _, dest) in enumerate(order) if kind == "--tmpfs" and dest == "/tmp")
    below_tmp = [i for i, (_, _, dest) in enumerate(order) if dest.startswith("/tmp/")]
    assert below_tmp and min(below_tmp) > tmpfs


def test_the_kernel_sees_submitted_files_but_not_the_graded_notebook(tmp_path):
    order = mounts(bwrap_command(make_profile(tmp_path), ["python"], tmp_path / "runtime" / "kernel.json"))
    inside = {dest for _, _, dest in order}
    assert "/sandbox/work/answer.txt" in inside and "/sandbox/work/data/weights.pt" in inside
    assert not any(dest.endswith(".ipynb") for dest in inside)
    assert "/sandbox/lib" in inside and "/sandbox/data" in inside


def test_the_sandbox_has_no_network_no_privileges_and_a_clean_environment(tmp_path):
    args = bwrap_command(make_profile(tmp_path), ["python", "-m", "ipykernel_launcher"], tmp_path / "k.json")
    for flag in ("--unshare-all", "--unshare-user", "--die-with-parent", "--disable-userns", "--clearenv"):
        assert flag in args
    assert args[args.index("--cap-drop") + 1] == "ALL"
    assert "--share-net" not in args
    assert "PYTHONPATH" in args and args[args.index("PYTHONPATH") + 1] == "/sandbox/lib"
    assert args[-4:] == ["--", "python", "-m", "ipykernel_launcher"]


def test_protections_report_names_what_is_missing_without_bubblewrap():
    report = {name: (active, how) for name, active, how in protections(use_bwrap=False)}
    assert report["no network"] == (False, "none: needs bubblewrap")
    assert report["CPU time limit"][0] is True
    assert all(isinstance(how, str) and how for _, how in report.values())
