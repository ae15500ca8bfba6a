"""The trusted grader's channel to student code: plain data only, faithful calls, bounded failures.

The call server runs here without bubblewrap (its sandboxing is tested with the grading batteries);
what is tested is the boundary: what may come back, how it is decoded and validated, and that a
test in the trusted process sees what it would see next to the student's code.
"""

import sys
import textwrap
import time

import numpy as np
import pytest

from autograder.grading.trusted import remote
from autograder.grading.trusted.sandboxed import wire
from autograder.grading.trusted.sandboxed.server import __file__ as SERVER

STUDENT = """
import os, sys, time
import numpy as np

counter = {"calls": 0}


def add(a, b):
    counter["calls"] += 1
    return a + b


def double_in_place(x):
    x *= 2


def update(config):
    config["velocity"] = config.get("velocity", 0) + 1
    return config


def draw(n):
    return np.random.rand(n)


def draw_and_reseed(n):
    values = np.random.rand(n)
    np.random.seed(1234)  # whatever a student leaves in the global generator
    return values


def zero_then_fail(x, config):
    x[...] = 0
    config["velocity"] = -1
    raise ValueError("after changing its arguments")


def fail(kind):
    if kind == "value":
        raise ValueError("stride 3 does not fit")
    if kind == "custom":
        class Weird(Exception):
            pass
        raise Weird("odd")
    if kind == "exit":
        raise SystemExit(0)
    raise NotImplementedError("add: return the sum")


class Omni(ValueError, TypeError, KeyError):
    pass


def omni():
    raise Omni("claims to be every error")


class Net:
    def __init__(self, size):
        self.params = {"W": np.ones((size, size))}
        self.calls = []

    def loss(self, X):
        self.calls.append(len(X))
        return float((X @ self.params["W"]).sum())


class Frozen:
    @property
    def value(self):
        return 1


class PretendFloat(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


class PretendArray:
    def __array__(self, dtype=None, copy=None):
        return np.zeros(3)

    def __eq__(self, other):
        return True


def pretend(kind):
    return {"float": PretendFloat(1.0), "array": PretendArray(), "str": type("S", (str,), {})("5")}[kind]


def sleep(seconds):
    time.sleep(seconds)
    return 1


def die():
    os._exit(3)


def forge_reply():
    # write a reply of our own into every descriptor that might be the channel, then return normally
    import struct, json
    head = json.dumps({"value": 42, "seq": -1}).encode()
    body = struct.pack("<Q", len(head)) + head + struct.pack("<Q", 0)
    frame = struct.pack("<Q", len(body)) + body
    for fd in range(3, 64):
        try:
            os.write(fd, frame)
        except OSError:
            pass
    return 1


def forge_deep_reply(seq):
    # a reply with the right sequence number whose header nests 100,000 levels deep
    import struct
    head = b'{"seq": %d, "value": ' % seq + b"[" * 100_000 + b"]" * 100_000 + b"}"
    body = struct.pack("<Q", len(head)) + head + struct.pack("<Q", 0)
    frame = struct.pack("<Q", len(body)) + body
    for fd in range(3, 64):
        try:
            os.write(fd, frame)
        except OSError:
            pass
    os._exit(0)


def big_endian(n):
    return np.arange(n, dtype=">f8") * 1.5, np.array([7], dtype=">i4"), np.float32(2.5).astype(">f4")


def huge_answer():
    return np.ones(400_000_000, dtype=bool)


def object_dtype():
    return np.array([object(), 1], dtype=object)


def shout():
    print("student output " * 100)
    sys.stdout.write("more\\n")
    os.write(1, b"raw bytes on fd 1\\n")
    return 7
"""


@pytest.fixture
def channel(tmp_path, monkeypatch):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "student_mod.py").write_text(textwrap.dedent(STUDENT))
    env = {"PYTHONPATH": str(tmp_path / "lib"), "PATH": "/usr/bin:/bin"}
    channel = remote.Channel(
        [sys.executable, "-B", SERVER],
        env=env,
        log=str(tmp_path / "server.log"),
        changes_in_place={"student_mod.update": ["config"], "student_mod.zero_then_fail": ["config"]},
    )
    finder = remote.install(channel, {"student_mod"})
    channel.deadline = time.monotonic() + 60
    sys.modules.pop("student_mod", None)
    yield channel
    remote.forget_student_modules({"student_mod"})
    remote.uninstall(finder)
    channel.close()


def test_values_cross_as_plain_data(channel):
    import student_mod

    assert isinstance(student_mod, remote.RemoteModule)
    assert student_mod.add(2, 3) == 5
    result = student_mod.add(np.arange(3.0), 1)
    assert type(result) is np.ndarray and result.tolist() == [1.0, 2.0, 3.0]
    assert student_mod.add((1,), (2,)) == (1, 2)
    assert student_mod.add("a", "b") == "ab"
    assert student_mod.add(2**70, 1) == 2**70 + 1
    assert np.isnan(student_mod.add(float("nan"), 1.0))


def test_student_objects_stay_remote_and_are_changed_by_assignment(channel):
    from student_mod import Net

    net = Net(2)
    assert type(net) is remote.RemoteObject
    copy = net.params["W"]
    copy[0, 0] = 100.0  # a copy: the student's object does not change
    assert net.loss(np.ones((1, 2))) == 4.0
    net.params["W"] = np.full((2, 2), 3.0)  # assignment reaches it
    assert net.loss(np.ones((3, 2))) == 36.0
    assert net.calls == [1, 3] and len(net.params) == 1 and "W" in net.params
    assert sorted(net.params) == ["W"]


def test_a_failed_assignment_is_raised_before_anything_sent_after_it_is_used(channel):
    from student_mod import Frozen, add

    frozen = Frozen()
    frozen.value = 2  # sent without waiting for the reply
    with pytest.raises(AttributeError):
        add(1, 2)
    frozen.value = 3
    with pytest.raises(AttributeError):
        channel.flush()  # the runner flushes after every test, so the test fails
    assert add(1, 2) == 3


def test_arguments_a_function_may_change_are_copied_back_and_any_other_change_fails_the_call(channel):
    from student_mod import double_in_place, update

    config = {"learning_rate": 0.1}
    returned = update(config=config)  # course.toml says update changes config
    assert config == {"learning_rate": 0.1, "velocity": 1} and returned == config
    x = np.arange(4.0)
    with pytest.raises(remote.InputChanged, match="double_in_place changed its input argument 1 in place"):
        double_in_place(x)
    assert x.tolist() == [0.0, 1.0, 2.0, 3.0]  # the test's copy keeps what it passed
    with pytest.raises(remote.InputChanged, match="changed its input x in place"):
        double_in_place(x=x)
    caught = False
    try:
        double_in_place(x)
    except Exception:  # noqa: BLE001 - a test's own except cannot swallow the failure
        caught = True
    except remote.GradingAbort:
        pass
    assert not caught


def test_what_a_raising_call_changed_counts_too(channel):
    from student_mod import zero_then_fail

    x, config = np.ones(3), {"velocity": 0}
    with pytest.raises(remote.InputChanged, match="input x"):  # not the ValueError: x must not change
        zero_then_fail(x=x, config=config)
    assert x.tolist() == [1.0, 1.0, 1.0] and config == {"velocity": -1}
    config = {"velocity": 0}
    with pytest.raises(ValueError, match="after changing"):
        zero_then_fail(x=np.zeros(3), config=config)  # x already zero: unchanged
    assert config == {"velocity": -1}  # a declared change is copied back although the call raised


def test_seeding_reaches_student_code_and_what_it_does_with_the_generator_never_comes_back(channel):
    from student_mod import draw, draw_and_reseed

    np.random.seed(0)  # noqa: NPY002
    expected = np.random.rand(6)  # noqa: NPY002
    np.random.seed(0)  # noqa: NPY002
    remote_draw = draw(3)
    local_next = np.random.rand(2)  # noqa: NPY002 - the test's own stream, untouched by the student's draw
    assert remote_draw.tolist() == expected[:3].tolist()
    assert local_next.tolist() == expected[:2].tolist()
    np.random.seed(0)  # noqa: NPY002
    assert draw(3).tolist() == expected[:3].tolist()
    assert draw(3).tolist() == expected[3:].tolist()  # the student's stream goes on between calls
    np.random.seed(5)  # noqa: NPY002
    mine = np.random.rand(4)  # noqa: NPY002
    np.random.seed(5)  # noqa: NPY002
    draw_and_reseed(2)  # leaves the generator at a state of the student's choosing
    assert np.random.rand(4).tolist() == mine.tolist()  # noqa: NPY002


def test_student_exceptions_are_raised_as_safe_builtins_with_where_they_came_from(channel):
    from student_mod import fail, omni

    with pytest.raises(ValueError, match="stride 3 does not fit") as raised:
        fail("value")
    assert "raised ValueError" in remote.describe(raised.value)
    with pytest.raises(NotImplementedError):
        fail("stub")
    with pytest.raises(remote.StudentError):
        fail("custom")
    with pytest.raises(remote.StudentError):  # SystemExit from student code cannot stop the grader
        fail("exit")
    with pytest.raises(ValueError):  # a class claiming many bases is only ever one builtin here
        omni()


@pytest.mark.parametrize("kind", ["float", "array", "str"])
def test_objects_that_pretend_to_be_numbers_cannot_pass_a_check(channel, kind):
    from student_mod import pretend

    from cs_lib.checks import CheckError, check_close, check_scalar

    value = pretend(kind)
    assert type(value) is remote.RemoteObject
    with pytest.raises((CheckError, TypeError)):
        check_scalar(value, 5.0, "a pretend number")
    with pytest.raises((CheckError, TypeError)):
        check_close(value, np.zeros(3), "a pretend array")


def test_a_call_that_runs_past_the_deadline_aborts_the_test_and_the_server_restarts(channel):
    from student_mod import add, sleep

    channel.deadline = time.monotonic() + 1.0
    with pytest.raises(remote.StudentTimeout):
        sleep(30)
    channel.deadline = time.monotonic() + 60
    remote.forget_student_modules({"student_mod"})
    from student_mod import add as fresh_add

    assert fresh_add(1, 1) == 2 and channel.restarts == 1
    with pytest.raises(remote.StudentError, match="earlier run"):
        add(1, 2)  # objects of the killed server are gone


def test_a_dying_server_aborts_the_test_with_the_reason(channel):
    from student_mod import die

    with pytest.raises(remote.StudentCrash, match="exit code 3"):
        die()


def test_a_reply_forged_into_the_channel_is_detected(channel):
    from student_mod import forge_reply

    with pytest.raises(remote.ProtocolError):
        forge_reply()


def test_a_reply_nested_past_the_recursion_limit_is_a_wire_error_and_the_server_restarts(channel):
    import student_mod

    with pytest.raises(remote.ProtocolError, match="could not be read"):
        student_mod.forge_deep_reply(channel.seq + 2)  # the getattr of the function is one request, the call the next
    restarts = channel.restarts
    assert student_mod.add(1, 2) == 3  # a fresh server
    assert channel.restarts == restarts + 1


def test_arrays_of_any_byte_order_arrive_with_their_values(channel):
    from student_mod import big_endian

    values, integers, scalar = big_endian(4)
    assert values.dtype == np.float64 and values.tolist() == [0.0, 1.5, 3.0, 4.5]
    assert integers.tolist() == [7] and float(scalar) == 2.5


def test_an_answer_of_the_wrong_shape_is_refused_before_it_is_converted(channel):
    import resource

    from student_mod import huge_answer

    from cs_lib.checks import CheckError, check_rel_error

    answer = huge_answer()  # 400 MB of bools: 3.2 GB as float64
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckError, match=r"has shape \(400000000,\), expected \(3,\)"):
        check_rel_error(answer, np.zeros(3), "scale")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100, f"the check converted the wrong-shaped answer ({grown_mb:.0f} MB more)"


def test_values_that_are_not_plain_data_never_cross(channel):
    from student_mod import object_dtype

    value = object_dtype()
    assert type(value) is remote.RemoteObject
    with pytest.raises(TypeError):
        np.asarray(value)


def test_what_student_code_prints_never_reaches_the_channel(channel, tmp_path):
    from student_mod import shout

    assert shout() == 7
    assert "raw bytes on fd 1" in (tmp_path / "server.log").read_text()


def test_local_functions_cannot_be_sent_to_student_code(channel):
    from student_mod import add

    with pytest.raises(TypeError, match="cannot send"):
        add(lambda: 1, 2)


@pytest.mark.parametrize(
    "node, buffers, problem",
    [
        ({"a": 0, "dtype": "object", "shape": [1]}, [b"x" * 8], "dtype"),
        ({"a": 0, "dtype": "float64", "shape": [3]}, [b"x" * 8], "bytes"),
        ({"a": 5, "dtype": "float64", "shape": [1]}, [b"x" * 8], "buffer"),
        ({"zz": 1}, [], "unknown value tag"),
        ({"nt": ["a b"], "name": "X", "v": [1]}, [], "named tuple"),
        ({"d": [[{"l": []}, 1]]}, [], "key"),
        ({"h": 1, "types": [], "repr": ""}, [], "only plain data"),
    ],
)
def test_the_decoder_rejects_malformed_data(node, buffers, problem):
    with pytest.raises(wire.WireError, match=problem):
        wire.decode(node, [memoryview(b) for b in buffers])


def test_the_decoder_bounds_nesting():
    node = 1
    for _ in range(wire.MAX_DEPTH + 5):
        node = {"l": [node]}
    with pytest.raises(wire.WireError, match="deeply nested"):
        wire.decode(node, [])


def test_plain_values_round_trip_through_the_wire():
    import torch

    value = {
        "array": np.arange(6, dtype=np.int32).reshape(2, 3),
        "scalar": np.float32(1.5),
        "tensor": torch.arange(4.0, requires_grad=True),
        "param": torch.nn.Parameter(torch.ones(2), requires_grad=False),
        "meta": torch.empty(3, 4, device="meta"),
        "bf16": torch.ones(2, dtype=torch.bfloat16),
        "nested": [(1, "a", None, True), {2.5, 3}],
        "special": [float("inf"), complex(1, 2), b"raw", slice(1, None, 2)],
        "dtype": torch.float64,
    }
    node, buffers = wire.encode(value)
    data = wire.pack_message({"v": node}, buffers)
    header, views = wire.unpack_message(data)
    back = wire.decode(header["v"], views)
    assert back["array"].dtype == np.int32 and back["array"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert back["scalar"] == np.float32(1.5) and type(back["scalar"]) is np.float32
    assert back["tensor"].requires_grad and back["tensor"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert isinstance(back["param"], torch.nn.Parameter) and not back["param"].requires_grad
    assert back["meta"].device.type == "meta" and tuple(back["meta"].shape) == (3, 4)
    assert back["bf16"].dtype == torch.bfloat16
    assert back["nested"] == [(1, "a", None, True), {2.5, 3}]
    assert back["special"][0] == float("inf") and back["special"][1] == complex(1, 2)
    assert back["special"][2:] == [b"raw", slice(1, None, 2)] and back["dtype"] is torch.float64


def test_exports_hold_plain_data_and_name_what_was_not():
    import tempfile
    from pathlib import Path

    class Model:
        pass

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "exports.bin"
        namespace = {"best": {"learning_rate": 1e-2, "reg": 0.5}, "weights": np.ones(3), "model": Model()}
        wire.export_names(namespace, ["best", "weights", "model", "missing"], path)
        values, problems = wire.read_exports(path)
    assert values["best"] == {"learning_rate": 1e-2, "reg": 0.5} and values["weights"].tolist() == [1.0] * 3
    assert "not plain data" in problems["model"] and problems["missing"] == "not defined"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_trusted_runner_and_call_server_die_with_the_process_that_started_them():
    import signal
    import subprocess

    import psutil

    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            "from autograder.grading.trusted.remote import die_with_parent\n"
            "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], preexec_fn=die_with_parent)\n"
            "print(child.pid, flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    child = psutil.Process(int(parent.stdout.readline()))
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    child.wait(timeout=10)  # raises psutil.TimeoutExpired if it outlived its parent


def test_a_test_that_reads_notebook_variables_runs_once_they_are_exported_not_when_the_notebook_ends(tmp_path):
    from autograder.grading.run.trusted_run import TrustedRun

    student = tmp_path / "student"
    student.mkdir()
    (student / "student_mod.py").write_text("def add(a, b):\n    return a + b\n")
    marker = tmp_path / "judged"
    source = f"from student_mod import add\nassert add(best['a'], 1) == 3\nopen({str(marker)!r}, 'w').write('judged')\n"
    tests = [
        {"grade_id": "early", "points": 1.0, "source": source, "reads": ["best"], "notebook": "nb"},
        {"grade_id": "never", "points": 1.0, "source": "pass", "reads": ["other"], "notebook": "nb"},
    ]
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    exports = {"early": outbox / "early.bin", "never": outbox / "never.bin"}
    run = TrustedRun(
        tests,
        student_modules={"student_mod"},
        student_overlay=student,
        trusted_overlay=student,
        data_dir=None,
        scratch=tmp_path / "scratch",
        exports=exports,
        timeout=60,
    )
    try:
        wire.export_names({"best": {"a": 2}}, ["best"], exports["early"])  # what the kernel does before the cell
        deadline = time.monotonic() + 20
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the test waited for the end of the notebook although its variables were exported"
    finally:
        summary = run.result()  # the notebook is done: the test whose variables never came is judged now
    assert summary["tests"]["early"]["passed"], summary["tests"]["early"]
    assert not summary["tests"]["never"]["passed"]
    assert "did not run to its end" in summary["tests"]["never"]["message"]
    assert not list(outbox.glob("*.part")), "an export is written whole, then renamed into place"


def test_the_trusted_runner_starts_without_importing_nbformat():
    """nbformat (with its schema validators) costs over a second of every student's grading."""
    import subprocess

    code = (
        "import sys\n"
        "from autograder.grading.trusted import runner\n"
        "runner._Labels().start('<test t>', 'x = 1\\n### BEGIN HIDDEN TESTS\\ny = 2\\n### END HIDDEN TESTS\\n')\n"
        "print(sorted(name for name in ('nbformat', 'jsonschema') if name in sys.modules))\n"
    )
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert imported.strip() == "[]", imported


def test_a_handed_in_archive_that_would_inflate_when_read_never_reaches_the_trusted_runners_folder(tmp_path):
    """torch.load inflates deflated records: a 1.5 MB checkpoint became 1.6 GB in the trusted runner. Only a
    torch archive of stored records within the limit is put where a test's visible part may open it; the
    call server (in the sandbox) gets every handed-in file."""
    import zipfile

    import torch

    from autograder.grading.run.trusted_run import TrustedRun

    good, bad = tmp_path / "good.pt", tmp_path / "bad.pt"
    torch.save({"weight": torch.zeros(100)}, good)
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            target.writestr(member.filename, source.read(member.filename))
    big = tmp_path / "big.pt"
    torch.save({"weight": torch.zeros(300_000)}, big)  # 1.2 MB of stored numbers, over the 1 MB limit below
    student = tmp_path / "student"
    student.mkdir()
    (student / "student_mod.py").write_text("def add(a, b):\n    return a + b\n")
    source = (
        "from pathlib import Path\n"
        "assert Path('good.pt').is_file() and not Path('bad.pt').exists() and not Path('big.pt').exists()\n"
    )
    run = TrustedRun(
        [{"grade_id": "files", "points": 1.0, "source": source, "reads": [], "notebook": "nb"}],
        student_modules={"student_mod"},
        student_overlay=student,
        trusted_overlay=student,
        data_dir=None,
        scratch=tmp_path / "scratch",
        extra_files={"good.pt": good, "bad.pt": bad, "big.pt": big},
        timeout=60,
        max_extra_file_bytes=2**20,
    )
    summary = run.result()
    assert summary["tests"]["files"]["passed"], summary["tests"]["files"]
    assert {p.name for p in (tmp_path / "scratch" / "server-work").iterdir()} == {"good.pt", "bad.pt", "big.pt"}


def _deflated_copy(source, target):
    import zipfile

    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for member in archive.infolist():
            out.writestr(member.filename, archive.read(member.filename))


def test_the_call_server_refuses_a_checkpoint_that_would_inflate_before_torch_opens_it(tmp_path, monkeypatch):
    """submitted_checkpoint asks the call server (in the sandbox) to open the file: a deflated archive
    (8 MB could become 8 GB there) or stored records over the limit are refused from the zip's directory
    alone; a checkpoint as torch.save writes it comes back as plain tensors. Without a sandbox (the
    course's own tests) the same check runs here."""
    import torch

    from autograder.grading.trusted import judging

    work = tmp_path / "work"
    work.mkdir()
    torch.save({"format": "f", "state_dict": {"w": torch.arange(1000.0)}}, work / "good.pt")
    _deflated_copy(work / "good.pt", work / "deflated.pt")
    torch.save({"state_dict": {"w": torch.zeros(300_000)}}, work / "big.pt")  # 1.2 MB of numbers
    channel = remote.Channel(
        [sys.executable, "-B", SERVER], env={"PATH": "/usr/bin:/bin"}, cwd=str(work), log=str(tmp_path / "log")
    )
    channel.deadline = time.monotonic() + 60
    remote.CURRENT.append(channel)
    try:
        loaded = judging.submitted_checkpoint("good.pt", max_bytes=2**20)
        assert loaded["state_dict"]["w"].tolist() == list(range(1000))
        for name in ("deflated.pt", "big.pt"):
            with pytest.raises(Exception, match="compressed records or more than 1,048,576 bytes"):
                judging.submitted_checkpoint(name, max_bytes=2**20)
    finally:
        remote.CURRENT.remove(channel)
        channel.close()
    monkeypatch.chdir(work)
    assert judging.submitted_checkpoint("good.pt", max_bytes=2**20)["state_dict"]["w"].shape == (1000,)
    for name in ("deflated.pt", "big.pt"):
        with pytest.raises(ValueError, match="compressed records or more than"):
            judging.submitted_checkpoint(name, max_bytes=2**20)


def test_a_view_larger_than_the_limit_is_refused_before_it_is_made():
    """A stride-0 view (torch's expand, numpy's broadcast_to) holds a few bytes until it is made contiguous:
    the encoder counts what it would become first."""
    import torch

    limit = 1 << 20
    for view in (torch.zeros(1).expand(10**12), np.broadcast_to(np.zeros(1), (10**12,))):  # 8 TB once made
        with pytest.raises(wire.NotPlain, match="more than 1048576 bytes"):
            wire.encode(view, limit=limit)
    node, buffers = wire.encode(torch.zeros(1).expand(1000), limit=limit)
    assert wire.decode(node, buffers).tolist() == [0.0] * 1000


def test_a_trusted_runner_killed_at_its_limit_gives_every_test_the_reason(tmp_path):
    """A runner killed at its memory limit writes nothing: the reason comes from its exit (the red team's
    wide checkpoint left "trusted grading failed: " and nothing after it)."""
    from autograder.grading.run.trusted_run import TrustedRun

    student = tmp_path / "student"
    student.mkdir()
    (student / "student_mod.py").write_text("def add(a, b):\n    return a + b\n")
    source = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"  # as the memory limit kills it
    run = TrustedRun(
        [{"grade_id": "killed", "points": 1.0, "source": source, "reads": [], "notebook": "nb"}],
        student_modules={"student_mod"},
        student_overlay=student,
        trusted_overlay=student,
        data_dir=None,
        scratch=tmp_path / "scratch",
        timeout=60,
    )
    record = run.result()["tests"]["killed"]
    assert not record["passed"] and "the trusted runner died: SIGKILL (killed: the memory limit" in record["message"]
