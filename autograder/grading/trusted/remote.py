"""The trusted side of the call channel: student modules as stand-ins that forward every use.

In the trusted grading process, ``import cs_lib.layers`` (for the assignment being graded) gives a
RemoteModule: its functions and classes are RemoteObjects, and calling one sends the arguments to the
call server in the sandbox, which runs the student's code and replies with plain data (wire.py).
Objects that are not plain data stay in the sandbox behind a RemoteObject, which forwards attribute
access, item access, calls, iteration and ``len``. Nothing of the student's runs here.

So that a test cell behaves as it would next to the student's code:
- arguments that student code may change in place by its specification (numpy arrays, lists, dicts,
  tensors, torch modules, optimizers and grad scalers) get their new state back, also when it raised;
- arguments a function may not change (all but those course.toml's [changes_in_place] names) keep
  their value here, and a call that changed one fails the test: references computed from them after the
  call see what the test passed in;
- seeding numpy's or torch's global generator in a test reaches the student code it calls; what student
  code leaves in them is never taken back;
- torch's default device (``with torch.device("meta")``) and grad mode hold for remote calls too;
- an exception of student code is raised here as the same built-in exception type (ValueError,
  NotImplementedError, ...; anything else as StudentError), carrying what raised it;
- isinstance() of a remote torch or numpy object against its local class works.
A sandbox that hangs, dies or breaks the format aborts the current test with a GradingAbort, which
test code cannot catch by accident (it is not an Exception).
"""

import builtins
import hashlib
import importlib
import importlib.abc
import importlib.machinery
import io
import os
import pickle
import select
import signal
import subprocess
import sys
import time
import types

from autograder.grading.trusted.sandboxed import wire

SAFE_EXCEPTIONS = {
    name: getattr(builtins, name)
    for name in (
        "ValueError",
        "TypeError",
        "NotImplementedError",
        "IndexError",
        "KeyError",
        "LookupError",
        "ZeroDivisionError",
        "ArithmeticError",
        "OverflowError",
        "FloatingPointError",
        "AssertionError",
        "AttributeError",
        "RuntimeError",
        "RecursionError",
        "MemoryError",
        "UnicodeError",
    )
}
# the modules whose classes a remote object may claim for isinstance(); never the student's own
LOCAL_CLASS_MODULES = ("torch", "numpy", "collections")
FORWARDED_DUNDERS = {"__all__", "__version__", "__name__", "__qualname__", "__doc__", "__module__", "__wrapped__"}


# the channel of the running trusted grader (the runner sets it): for what tests open in the sandbox
# through autograder.grading.trusted.judging (a submitted checkpoint)
CURRENT = []


class GradingAbort(BaseException):
    """The sandboxed process hung, died or broke the protocol: the current test fails."""


class StudentTimeout(GradingAbort):
    pass


class StudentCrash(GradingAbort):
    pass


class ProtocolError(GradingAbort):
    pass


class InputChanged(GradingAbort):
    """Student code changed an argument its specification leaves alone: the test fails (a test cannot
    catch this), and the test's own copy keeps the value it had before the call."""


class StudentError(Exception):
    """An exception raised by student code whose type is not one of the safe built-ins."""


class _DeadlineReader:
    """A file-like reader of a pipe that gives up at the channel's deadline."""

    def __init__(self, fd, channel):
        self.fd = fd
        self.channel = channel

    def readinto(self, view):
        remaining = self.channel.deadline - time.monotonic()
        if remaining <= 0:
            raise StudentTimeout(self.channel.timeout_message())
        ready, _, _ = select.select([self.fd], [], [], remaining)
        if not ready:
            raise StudentTimeout(self.channel.timeout_message())
        return os.readv(self.fd, [view])


class Channel:
    """A call server in the sandbox, started on first use and restarted after a failure."""

    def __init__(self, argv, env=None, cwd=None, log=None, changes_in_place=None):
        self.argv = list(argv)
        # {"cs_lib.optim.sgd_momentum": {"config"}}: the arguments a function may change in place (from
        # course.toml); a change to any other argument fails the test
        self.changes_in_place = {key: set(value) for key, value in (changes_in_place or {}).items()}
        self.frame_limit = wire.MAX_FRAME
        self.env = env
        self.cwd = cwd
        self.log = log
        self.process = None
        self.generation = 0
        self.seq = 0
        self.deadline = float("inf")
        self.current = ""
        self.remote_torch = False
        self.synced = {}
        self.restarts = 0
        self.modules = {}
        self.pending = []  # (seq, what it was doing) of requests whose reply is still to be read

    # --- the process ------------------------------------------------------------------------

    def start(self):
        self.generation += 1
        self.pending = []
        self.synced = {}
        self.remote_torch = False
        self.modules = {}
        stderr = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=die_with_parent if sys.platform.startswith("linux") else None,
            )
        finally:
            if stderr is not subprocess.DEVNULL:
                stderr.close()
        for stream in (self.process.stdin, self.process.stdout):
            _widen_pipe(stream.fileno())
        self.reader = _DeadlineReader(self.process.stdout.fileno(), self)

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def kill(self):
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.process = None
        self.generation += 1  # handles of the dead process are void from now on (RemoteModules re-import)

    def close(self):
        if self.alive():
            try:
                old = self.deadline
                self.deadline = time.monotonic() + 5
                self.request({"op": "exit"})
                self.deadline = old
            except GradingAbort:
                pass
        self.kill()

    def ensure(self):
        """Start the server if it is not running; True when that was a restart."""
        if self.alive():
            return False
        restarted = self.process is not None or self.generation > 0
        if restarted:
            self.restarts += 1
        self.kill()
        self.start()
        return restarted

    def timeout_message(self):
        doing = f" (in {self.current})" if self.current else ""
        return f"student code ran past the time limit{doing}"

    # --- requests ---------------------------------------------------------------------------

    def _dumps(self, request):
        channel = self

        class Pickler(pickle.Pickler):
            def persistent_id(self, obj):
                if type(obj) is RemoteObject:
                    if object.__getattribute__(obj, "_generation") != channel.generation:
                        raise StudentError("an object from an earlier run of the sandbox (it was restarted)")
                    return ("h", object.__getattribute__(obj, "_id"))
                if type(obj) is RemoteModule:
                    return ("h", obj._handle_id)
                return None

        buffer = io.BytesIO()
        try:
            Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(request)
        except (pickle.PicklingError, TypeError, AttributeError) as error:
            raise TypeError(
                f"cannot send this value to student code ({error}); pass numbers, arrays, tensors, "
                "dicts, lists and torch or cs_lib objects, not functions or classes defined in a test"
            ) from None
        return buffer.getvalue()

    def request(self, request, doing="", wait=True):
        """Send one request; return (header, buffers) of its reply, or raise what student code raised.

        With wait=False (assignments, whose reply is only "done") the reply is read later, before the
        next reply or at flush(): a loop that assigns and calls costs one round trip per call. An error
        of such a request is raised there, before anything sent after it is looked at.
        """
        if self.deadline - time.monotonic() <= 0:
            raise StudentTimeout(self.timeout_message())
        if self.ensure() and request.get("op") not in ("import", "reset", "exit", "ping", "load_checkpoint"):
            # the request names an object of the process that died: it is gone with it
            raise StudentError("an object from an earlier run of the sandbox (it was restarted after a failure)")
        self.seq += 1
        request["seq"] = self.seq
        payload = self._dumps(request)
        self._guarded(lambda: wire.write_frame(self.process.stdin, payload), doing)
        self.pending.append((self.seq, doing))
        if not wait:
            return None
        return self._receive_all()

    def flush(self):
        """Read the replies still outstanding; raise the first error among them."""
        if self.pending and self.alive():
            self._receive_all()

    def _receive_all(self):
        first_error = None
        reply = None
        while self.pending:
            seq, doing = self.pending.pop(0)
            header, buffers = self._guarded(
                lambda: wire.unpack_message(wire.read_frame(self.reader, self.frame_limit)), doing
            )
            if type(header) is not dict or header.get("seq") != seq:
                self.kill()
                raise ProtocolError("the sandbox answered out of turn (something wrote into the grading channel)")
            if isinstance(header.get("torch"), bool):
                self.remote_torch = header["torch"]
            if "error" in header and first_error is None:
                first_error = _exception(header["error"], doing)
                if not self.pending:  # the reply of the request just made: a call may have changed arguments
                    first_error.reply = (header, buffers)
            reply = (header, buffers)
        if first_error is not None:
            raise first_error
        return reply

    def _guarded(self, step, doing):
        """Run one read or write of the channel, turning its failures into a GradingAbort."""
        self.current = doing
        try:
            return step()
        except StudentTimeout:
            self.kill()
            raise
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            code = self.process.poll() if self.process else None
            try:
                code = self.process.wait(5) if self.process else code
            except subprocess.TimeoutExpired:
                pass
            self.kill()
            raise StudentCrash(_crash_message(code, doing)) from None
        except wire.WireError as error:
            self.kill()
            raise ProtocolError(f"the sandbox sent data that could not be read ({error})") from None
        finally:
            self.current = ""

    def decode(self, node, buffers):
        generation = self.generation

        def make_handle(number, type_names, name, text):
            return RemoteObject._make(self, generation, number, type_names, name, text)

        try:
            return wire.decode(node, buffers, make_handle)
        except wire.WireError as error:
            self.kill()
            raise ProtocolError(f"the sandbox sent data that could not be read ({error})") from None

    def value_of(self, request, doing=""):
        header, buffers = self.request(request, doing)
        return self.decode(header.get("value"), buffers)

    def reset(self):
        """Forget the objects of the last test (modules stay imported)."""
        self.pending = [] if not self.alive() else self.pending
        if self.alive():
            self.request({"op": "reset"})

    # --- calls -----------------------------------------------------------------------------

    def _context(self):
        """What a call needs of the test's state: the global generators when the test reseeded or drew
        since they were last sent (so seeding before a call reaches student code), torch's default device
        and grad mode. The generators' state after a call is never taken back: what the test draws next
        does not depend on what student code did with them."""
        context = {}
        rng = {}
        watch_seeding()
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            _, keys, pos, has_gauss, cached = numpy.random.get_state()  # noqa: NPY002 - the global generator student code may use
            state = [keys, int(pos), int(has_gauss), float(cached)]
            if self.synced.get("numpy") != (_fingerprint(state), SEEDINGS["numpy"]):
                rng["numpy"] = state
        torch = sys.modules.get("torch")
        if torch is not None:
            if self.remote_torch:
                state = torch.get_rng_state()
                if self.synced.get("torch") != (_fingerprint(state), SEEDINGS["torch"]):
                    rng["torch"] = state
            device = torch.get_default_device()
            if device.type != "cpu":
                context["torch_device"] = str(device)
            if not torch.is_grad_enabled():
                context["grad"] = False
        if rng:
            context["rng"] = rng
            for name, state in rng.items():
                self.synced[name] = (_fingerprint(state), SEEDINGS[name])
        return context

    def call(self, target, args, kwargs, doing, origin=None):
        """Call a student function or method; origin is its dotted path as the trusted side reached it
        ("cs_lib.layers.affine_forward", "cs_lib.classifiers.fc_net.FullyConnectedNet().loss") or None."""
        request = {"op": "call", "target": target, "args": tuple(args), "kwargs": dict(kwargs)}
        request["context"] = self._context()
        error = None
        try:
            header, buffers = self.request(request, doing)
        except Exception as raised:  # noqa: BLE001 - student code raised: what it changed still counts
            if getattr(raised, "reply", None) is None:
                raise
            (header, buffers), error = raised.reply, raised
            del raised.reply
        self._changed_arguments(header, buffers, args, kwargs, doing, origin)
        if error is not None:
            raise error
        return self.decode(header.get("value"), buffers)

    def _changed_arguments(self, header, buffers, args, kwargs, doing, origin):
        """Copy back the changes a function may make to its arguments; fail on any other change."""
        restores = header.get("restore", [])
        if type(restores) is not list:
            raise ProtocolError("malformed reply to a call")
        key = _policy_key(origin)
        allowed = self.changes_in_place.get(key, set()) if key else set()
        names = None
        changed = []
        for entry in restores:
            if type(entry) is not list or len(entry) != 3:
                raise ProtocolError("malformed reply to a call")
            where, kind, node = entry
            if type(where) is list and len(where) == 2 and where[0] == "a" and type(where[1]) is int:
                if not 0 <= where[1] < len(args):
                    continue
                if names is None:
                    names = reference_parameters(key) if key else []
                name = names[where[1]] if where[1] < len(names) else f"argument {where[1] + 1}"
                local = args[where[1]]
            elif type(where) is list and len(where) == 2 and where[0] == "k" and where[1] in kwargs:
                name, local = where[1], kwargs[where[1]]
            else:
                continue
            state = self.decode(node, buffers)
            aspects = _changed_aspects(local, kind, state)
            if name in allowed or (aspects and all(f"{name}.{aspect}" in allowed for aspect in aspects)):
                _restore(local, kind, state)
            else:
                changed.append(name if not aspects else f"{name} ({', '.join(sorted(aspects))})")
        if changed:
            label = ".".join(key.split(".")[-2 if _is_method(key) else -1 :]) if key else doing or "student code"
            what = ", ".join(changed)
            raise InputChanged(
                f"{label} changed its input {what} in place; it must leave "
                f"{'it' if len(changed) == 1 else 'them'} as {'it was' if len(changed) == 1 else 'they were'} "
                "(compute on a copy, e.g. x.copy(), or write the result into a new array)"
            )

    def import_module(self, name):
        header, buffers = self.request({"op": "import", "module": name}, f"import {name}")
        node = header.get("value")
        if type(node) is not dict or type(node.get("h")) is not int:
            raise ProtocolError("malformed reply to an import")
        return node["h"]


def die_with_parent():
    """For subprocess's preexec_fn: the child is killed when the process that started it dies (Linux),
    so nothing of a grading outlives a grading process killed at its deadline or with its machine."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass


def _widen_pipe(fd, size=1 << 20):
    """Big arrays cross in fewer, larger pieces through a 1 MiB pipe (Linux; elsewhere the default)."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (ImportError, OSError):
        pass


def _fingerprint(state):
    digest = hashlib.blake2b(digest_size=16)
    for part in state if isinstance(state, (list, tuple)) else [state]:
        if hasattr(part, "numpy"):
            part = part.numpy()
        digest.update(part.tobytes() if hasattr(part, "tobytes") else repr(part).encode())
    return digest.hexdigest()


def _changed_aspects(local, kind, state):
    """For a torch module argument: which of its state, requires_grad, training and hooks the call changed
    (course.toml may allow one alone: "model.training"); None for other kinds."""
    if kind != "module" or not isinstance(state, dict):
        return None
    import torch

    if not isinstance(local, torch.nn.Module):
        return None
    changed = set()
    own = local.state_dict()
    tensors = state.get("state", {})
    if not isinstance(tensors, dict) or set(tensors) != set(own):
        changed.add("state")
    else:
        for key, value in tensors.items():
            mine = own[key]
            if not isinstance(value, torch.Tensor) or value.shape != mine.shape or value.dtype != mine.dtype:
                changed.add("state")
            elif mine.device.type != "meta" and not torch.equal(value, mine):
                changed.add("state")
    if state.get("requires_grad") != {name: bool(p.requires_grad) for name, p in local.named_parameters()}:
        changed.add("requires_grad")
    if state.get("training") != {name: bool(m.training) for name, m in local.named_modules()}:
        changed.add("training")
    hooks = {name: len(m._forward_hooks) + len(m._forward_pre_hooks) for name, m in local.named_modules()}
    if state.get("hooks") != hooks:
        changed.add("hooks")
    return changed


def _restore(local, kind, state):
    """Apply the new state of an argument that student code changed in place."""
    try:
        _restore_unchecked(local, kind, state)
    except (TypeError, ValueError, RuntimeError, KeyError, AttributeError) as error:
        raise StudentError(f"student code changed an argument in a way that cannot be copied back ({error})") from None


def _restore_unchecked(local, kind, state):
    import numpy

    if kind == "array" and type(local) is numpy.ndarray and isinstance(state, numpy.ndarray):
        if state.shape != local.shape:
            raise ValueError(f"an array of shape {local.shape} came back with shape {state.shape}")
        numpy.copyto(local, state, casting="unsafe")
    elif kind == "list" and type(local) is list and isinstance(state, list):
        local[:] = state
    elif kind == "dict" and type(local) is dict and isinstance(state, dict):
        local.clear()
        local.update(state)
    elif kind == "tensor":
        import torch

        if isinstance(local, torch.Tensor) and isinstance(state, torch.Tensor) and local.device.type != "meta":
            with torch.no_grad():
                local.copy_(state.reshape(local.shape))
    elif kind == "module":
        _restore_module(local, state)
    elif kind in ("optimizer", "scaler") and isinstance(state, dict):
        local.load_state_dict(state)


def _restore_module(module, state):
    import torch

    if not isinstance(module, torch.nn.Module) or not isinstance(state, dict):
        return
    tensors = state.get("state", {})
    own = module.state_dict()
    with torch.no_grad():
        for name, value in tensors.items():
            if name in own and isinstance(value, torch.Tensor) and own[name].device.type != "meta":
                if own[name].shape != value.shape:
                    raise ValueError(f"{name} came back with shape {tuple(value.shape)}")
                own[name].copy_(value)
    parameters = dict(module.named_parameters())
    for name, flag in state.get("requires_grad", {}).items():
        if name in parameters and isinstance(flag, bool):
            parameters[name].requires_grad_(flag)
    modules = dict(module.named_modules())
    for name, flag in state.get("training", {}).items():
        if name in modules and isinstance(flag, bool):
            modules[name].training = flag
    for name, count in state.get("hooks", {}).items():
        if name in modules and type(count) is int and 0 <= count < 10_000:
            target = modules[name]
            target._forward_hooks.clear()
            target._forward_pre_hooks.clear()
            for index in range(count):
                target._forward_hooks[-1 - index] = _left_behind_hook


def _left_behind_hook(module, inputs, output):
    """Stands for a hook student code left registered on a module it was given (does nothing)."""
    return None


def exit_cause(code):
    """How a process with this return code ended, in words: "died: SIGKILL (killed: the memory limit, ...)"."""
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        cause = {"SIGKILL": "killed: the memory limit, or too many processes", "SIGSEGV": "a crash"}.get(name, name)
        return f"died: {name} ({cause})"
    return f"exited (exit code {code})"


def _crash_message(code, doing):
    where = f" (in {doing})" if doing else ""
    return f"the sandboxed process running student code{where} {exit_cause(code)}"


def _exception(info, doing):
    if type(info) is not dict:
        return ProtocolError("malformed error reply")
    mro = [str(name) for name in info.get("mro", [])][:32] if type(info.get("mro")) is list else []
    message = str(info.get("message", ""))[:2000]
    kind = str(info.get("type", "Exception"))[:100]
    where = str(info.get("where", ""))[:200]
    builtin = next(
        (
            SAFE_EXCEPTIONS[name.split(".", 1)[1]]
            for name in mro
            if name.startswith("builtins.") and name.split(".", 1)[1] in SAFE_EXCEPTIONS
        ),
        None,
    )
    error = builtin(message) if builtin is not None else StudentError(message)
    error.remote = {"type": kind, "message": message, "where": where, "doing": doing}
    return error


def describe(error):
    """One line saying why a test failed, for the gradebook and the student's feedback."""
    remote = getattr(error, "remote", None)
    if remote:
        doing = f"{remote['doing']} " if remote.get("doing") else "student code "
        where = f" ({remote['where']})" if remote.get("where") else ""
        text = f"{doing}raised {remote['type']}: {remote['message']}"
        return _one_line(text) + where
    return _one_line(f"{type(error).__name__}: {error}" if not isinstance(error, AssertionError) else str(error))


def _one_line(text, limit=400):
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    text = lines[0] if lines else ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class RemoteObject:
    """A local stand-in for an object that lives in the sandbox."""

    __slots__ = ("_channel", "_generation", "_id", "_types", "_name", "_repr", "_origin")

    @classmethod
    def _make(cls, channel, generation, number, type_names, name, text, origin=None):
        self = object.__new__(cls)
        values = (channel, generation, number, tuple(type_names), name, text, origin)
        for slot, value in zip(cls.__slots__, values):
            object.__setattr__(self, slot, value)
        return self

    def _ref(self):
        channel = object.__getattribute__(self, "_channel")
        if object.__getattribute__(self, "_generation") != channel.generation:
            raise StudentError("an object from an earlier run of the sandbox (it was restarted after a failure)")
        return channel, object.__getattribute__(self, "_id")

    def _label(self):
        name = object.__getattribute__(self, "_name")
        if name:
            return name
        types_ = object.__getattribute__(self, "_types")
        return f"a {types_[0].rsplit('.', 1)[-1]}" if types_ else "a student object"

    @property
    def __class__(self):
        for name in object.__getattribute__(self, "_types"):
            module, _, qualname = name.rpartition(".")
            if module in ("builtins",) and qualname in ("dict", "list", "set", "tuple"):
                return getattr(builtins, qualname)
            if module.split(".")[0] not in LOCAL_CLASS_MODULES or module not in sys.modules:
                continue
            found = sys.modules[module]
            for part in qualname.split("."):
                found = getattr(found, part, None)
                if found is None:
                    break
            if isinstance(found, type):
                return found
        return RemoteObject

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__") and name not in FORWARDED_DUNDERS:
            raise AttributeError(name)
        channel, number = RemoteObject._ref(self)
        value = channel.value_of(
            {"op": "getattr", "target": number, "name": name}, f"{RemoteObject._label(self)}.{name}"
        )
        origin = object.__getattribute__(self, "_origin")
        return _with_origin(value, f"{origin}.{name}" if origin else None)

    def __setattr__(self, name, value):
        channel, number = RemoteObject._ref(self)
        channel.request(
            {"op": "setattr", "target": number, "name": name, "value": value},
            f"setting {RemoteObject._label(self)}.{name}",
            wait=False,
        )

    def __delattr__(self, name):
        channel, number = RemoteObject._ref(self)
        channel.request(
            {"op": "delattr", "target": number, "name": name}, f"deleting {RemoteObject._label(self)}.{name}"
        )

    def __call__(self, *args, **kwargs):
        channel, number = RemoteObject._ref(self)
        origin = object.__getattribute__(self, "_origin")
        result = channel.call(number, args, kwargs, RemoteObject._label(self), origin=origin)
        return _with_origin(result, f"{origin}()" if origin else None)

    def __getitem__(self, key):
        channel, number = RemoteObject._ref(self)
        return channel.value_of(
            {"op": "getitem", "target": number, "key": key}, f"{RemoteObject._label(self)}[{key!r}]"
        )

    def __setitem__(self, key, value):
        channel, number = RemoteObject._ref(self)
        channel.request(
            {"op": "setitem", "target": number, "key": key, "value": value},
            f"setting {RemoteObject._label(self)}[{key!r}]",
            wait=False,
        )

    def __delitem__(self, key):
        channel, number = RemoteObject._ref(self)
        channel.request(
            {"op": "delitem", "target": number, "key": key}, f"deleting {RemoteObject._label(self)}[{key!r}]"
        )

    def __len__(self):
        channel, number = RemoteObject._ref(self)
        value = channel.value_of({"op": "len", "target": number}, f"len({RemoteObject._label(self)})")
        if type(value) is not int or value < 0:
            raise ProtocolError("len() of a student object was not a non-negative int")
        return value

    def __iter__(self):
        channel, number = RemoteObject._ref(self)
        items = channel.value_of({"op": "iter", "target": number}, f"iterating over {RemoteObject._label(self)}")
        if type(items) is not list:
            raise ProtocolError("iterating over a student object gave no list")
        return iter(items)

    def __contains__(self, item):
        channel, number = RemoteObject._ref(self)
        value = channel.value_of(
            {"op": "contains", "target": number, "item": item}, f"... in {RemoteObject._label(self)}"
        )
        return value is True

    def __bool__(self):
        channel, number = RemoteObject._ref(self)
        return channel.value_of({"op": "bool", "target": number}, f"bool({RemoteObject._label(self)})") is True

    def __str__(self):
        channel, number = RemoteObject._ref(self)
        value = channel.value_of({"op": "str", "target": number}, f"str({RemoteObject._label(self)})")
        return value if type(value) is str else ""

    def __repr__(self):
        text = object.__getattribute__(self, "_repr")
        return f"<student object {text}>" if text else "<student object>"

    def __array__(self, dtype=None, copy=None):
        import numpy

        channel, number = RemoteObject._ref(self)
        value = channel.value_of({"op": "value", "target": number}, f"the value of {RemoteObject._label(self)}")
        return numpy.asarray(value, dtype=dtype)

    def __eq__(self, other):
        """Equal to a plain value when its own value (fetched as plain data) is; else only to itself."""
        if type(other) is RemoteObject:
            return RemoteObject._ref(self) == RemoteObject._ref(other)
        channel, number = RemoteObject._ref(self)
        try:
            value = channel.value_of({"op": "value", "target": number}, f"the value of {RemoteObject._label(self)}")
        except (TypeError, StudentError):
            return NotImplemented
        return value == other

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = object.__hash__

    def __deepcopy__(self, memo):
        channel, number = RemoteObject._ref(self)
        return channel.value_of({"op": "deepcopy", "target": number}, f"copying {RemoteObject._label(self)}")

    def __reduce_ex__(self, protocol):
        raise TypeError("a student object can only be passed to student code, not pickled")


class RemoteModule(types.ModuleType):
    """A student module: attribute access forwards to the module imported in the sandbox."""

    def __init__(self, name, channel):
        super().__init__(name)
        self._channel = channel
        self._generation = channel.generation
        self._handle_id = channel.import_module(name)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__") and name not in FORWARDED_DUNDERS:
            raise AttributeError(name)
        if self._generation != self._channel.generation:
            self._handle_id = self._channel.import_module(self.__name__)
            self._generation = self._channel.generation
        value = self._channel.value_of(
            {"op": "getattr", "target": self._handle_id, "name": name}, f"{self.__name__}.{name}"
        )
        return _with_origin(value, f"{self.__name__}.{name}")


class _RemoteLoader(importlib.abc.Loader):
    def __init__(self, channel):
        self.channel = channel

    def create_module(self, spec):
        return RemoteModule(spec.name, self.channel)

    def exec_module(self, module):
        return None


class RemoteFinder(importlib.abc.MetaPathFinder):
    """Imports of the named student modules resolve to RemoteModules on the channel."""

    def __init__(self, channel, names):
        self.channel = channel
        self.names = set(names)

    def find_spec(self, fullname, path=None, target=None):
        if fullname in self.names:
            return importlib.machinery.ModuleSpec(fullname, _RemoteLoader(self.channel), is_package=False)
        return None


# how often the test (re)seeded each global generator: seeding back to a state already sent must still
# reach student code, whose own stream has moved on since
SEEDINGS = {"numpy": 0, "torch": 0}


def _counting(kind, function):
    def seeding(*args, **kwargs):
        SEEDINGS[kind] += 1
        return function(*args, **kwargs)

    seeding.cs_counted = True
    seeding.__name__ = getattr(function, "__name__", "seed")
    seeding.__doc__ = getattr(function, "__doc__", None)
    return seeding


def watch_seeding():
    """Count the trusted process's calls that set numpy's or torch's global generator (torch's once the
    test has imported it: importing it here would cost every assignment that never uses it)."""
    numpy = sys.modules.get("numpy")
    torch = sys.modules.get("torch")
    owners = [("numpy", numpy.random, ("seed", "set_state"))] if numpy is not None else []
    if torch is not None:
        owners += [("torch", owner, ("manual_seed", "set_rng_state", "seed")) for owner in (torch, torch.random)]
    for kind, owner, names in owners:
        for name in names:
            function = getattr(owner, name, None)
            if function is not None and not getattr(function, "cs_counted", False):
                setattr(owner, name, _counting(kind, function))


def install(channel, names):
    """Put a RemoteFinder first on sys.meta_path; return it (remove it with uninstall)."""
    watch_seeding()
    finder = RemoteFinder(channel, names)
    sys.meta_path.insert(0, finder)
    return finder


def uninstall(finder):
    if finder in sys.meta_path:
        sys.meta_path.remove(finder)


def forget_student_modules(names):
    """Before a test: drop the student modules, and every cs_lib module that kept a reference to their
    objects, so that the test imports them afresh (and the objects of the last test can go)."""
    for name in list(sys.modules):
        module = sys.modules[name]
        if not (name.startswith("cs_lib") or name in names):
            continue
        if isinstance(module, RemoteModule) or (not hasattr(module, "__path__") and _holds_student_code(module)):
            del sys.modules[name]
            parent, _, child = name.rpartition(".")
            if parent in sys.modules and getattr(sys.modules[parent], child, None) is module:
                delattr(sys.modules[parent], child)
        elif hasattr(module, "__path__"):
            for attribute, value in list(vars(module).items()):
                if isinstance(value, RemoteModule) or type(value) is RemoteObject:
                    delattr(module, attribute)


def _holds_student_code(module):
    return any(isinstance(value, RemoteModule) or type(value) is RemoteObject for value in list(vars(module).values()))


def _with_origin(value, origin):
    """A remote object reached by the trusted side, labelled with the path it was reached by (never with
    anything the sandbox says about itself)."""
    if type(value) is RemoteObject and origin and object.__getattribute__(value, "_origin") is None:
        object.__setattr__(value, "_origin", origin)
    return value


def _policy_key(origin):
    """ "cs_lib.classifiers.fc_net.FullyConnectedNet().loss" -> "cs_lib.classifiers.fc_net.FullyConnectedNet.loss"."""
    return origin.replace("()", "") if origin else None


def _is_method(key):
    parts = key.split(".")
    return len(parts) >= 2 and parts[-2][:1].isupper()


_PARAMETERS = {}


def reference_parameters(key):
    """The positional parameter names of a graded function or method ("cs_lib.layers.affine_forward" ->
    ["x", "w", "b"]), read from the reference source (never from the student's code, which could rename
    them), without importing it; [] when it cannot be found."""
    if key in _PARAMETERS:
        return _PARAMETERS[key]
    import ast

    from autograder.grading.trusted.reference import reference_source

    names = []
    parts = key.split(".")
    for end in range(len(parts) - 1, 1, -1):
        source = reference_source(".".join(parts[:end]))
        if source is None:
            continue
        scope = ast.parse(source).body
        found = None
        for part in parts[end:]:
            found = next(
                (
                    node
                    for node in scope
                    if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and node.name == part
                ),
                None,
            )
            if found is None:
                break
            scope = found.body
        if isinstance(found, ast.ClassDef):
            found = next((n for n in found.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
            method = True
        else:
            method = len(parts) - end >= 2
        if isinstance(found, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names = [a.arg for a in [*found.args.posonlyargs, *found.args.args]]
            if method and names:
                names = names[1:]
        break
    _PARAMETERS[key] = names
    return names
