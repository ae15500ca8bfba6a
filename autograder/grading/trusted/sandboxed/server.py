"""The call server: imports a student's code inside the sandbox and calls it for the trusted grader.

    python server.py          (started by autograder.grading.run.sandbox in server mode)

The grader sends requests on stdin (pickles: the grader trusts its own data, the sandbox trusts the
grader) and reads replies on stdout, which hold plain data only (wire.py). Student code can print
freely: before anything of the student's is imported, the channel moves to private descriptors and
stdout/stderr point at the sandbox's log. Objects that are not plain data (a model, a module, a
function) stay here and travel as numbered handles.

Nothing in this process is trusted by the grader: a reply is data to validate and compare.
"""

import copy
import importlib
import io
import os
import pickle
import sys
import traceback
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import wire  # noqa: E402

MAX_ITEMS = 100_000  # elements of a materialised iterator
# the names a notebook's __main__ has (IPython's input and output history): student code written for a
# notebook finds them here too, empty -- this process has no history
In, Out = [], {}


class Server:
    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer
        self.objects = {}
        self.numbers = {}  # id(object) -> handle number; self.objects keeps each object alive
        self.descriptions = {}
        self.pinned = set()
        self.next_id = 1
        self.seq = None

    # --- handles --------------------------------------------------------------------------

    def handle(self, obj):
        number = self.numbers.get(id(obj))
        if number is None or self.objects.get(number) is not obj:
            number = self.next_id
            self.next_id += 1
            self.objects[number] = obj
            self.numbers[id(obj)] = number
            self.descriptions[number] = describe(number, obj)
        return self.descriptions[number]

    def resolve(self, number):
        if number not in self.objects:
            raise LookupError(f"handle {number} is not known (handles are per test)")
        return self.objects[number]

    # --- requests ---------------------------------------------------------------------------

    def loads(self, data):
        server = self

        class Unpickler(pickle.Unpickler):
            def persistent_load(self, pid):
                return server.resolve(pid[1])

        return Unpickler(io.BytesIO(data)).load()

    def reply(self, header, buffers=()):
        header["seq"] = self.seq
        header["torch"] = "torch" in sys.modules
        wire.write_frame(self.writer, *wire.message_parts(header, buffers))

    def serve(self):
        while True:
            try:
                data = wire.read_frame(self.reader)
            except EOFError:
                return
            request = self.loads(data)
            self.seq = request.get("seq")
            op = request["op"]
            if op == "exit":
                self.reply({"ok": True})
                return
            try:
                header, buffers = getattr(self, f"op_{op}")(request)
            except BaseException as error:  # noqa: BLE001 - every failure of student code is data for the grader
                header, buffers = {"error": describe_error(error)}, []
            try:
                self.reply(header, buffers)
            except wire.NotPlain as error:
                self.reply({"error": {"type": "TypeError", "mro": ["builtins.TypeError"], "message": str(error)}})

    def value(self, obj, containers=True):
        """(node, buffers) of a value: plain data by value, anything else as a handle."""
        return wire.encode(obj, handle=self.handle, containers=containers)

    def op_ping(self, request):
        return {"ok": True, "pid": os.getpid()}, []

    def op_reset(self, request):
        for number in list(self.objects):
            if number not in self.pinned:
                self.numbers.pop(id(self.objects.pop(number)), None)
                self.descriptions.pop(number, None)
        return {"ok": True}, []

    def op_import(self, request):
        module = importlib.import_module(request["module"])
        node = self.handle(module)
        self.pinned.add(node["h"])
        return {"value": node}, []

    def op_getattr(self, request):
        obj = self.resolve(request["target"])
        value = getattr(obj, request["name"])
        node, buffers = self.value(value, containers=False)
        return {"value": node}, buffers

    def op_setattr(self, request):
        setattr(self.resolve(request["target"]), request["name"], request["value"])
        return {"ok": True}, []

    def op_delattr(self, request):
        delattr(self.resolve(request["target"]), request["name"])
        return {"ok": True}, []

    def op_getitem(self, request):
        value = self.resolve(request["target"])[request["key"]]
        node, buffers = self.value(value, containers=False)
        return {"value": node}, buffers

    def op_setitem(self, request):
        self.resolve(request["target"])[request["key"]] = request["value"]
        return {"ok": True}, []

    def op_delitem(self, request):
        del self.resolve(request["target"])[request["key"]]
        return {"ok": True}, []

    def op_len(self, request):
        return {"value": int(len(self.resolve(request["target"])))}, []

    def op_contains(self, request):
        return {"value": bool(request["item"] in self.resolve(request["target"]))}, []

    def op_bool(self, request):
        return {"value": bool(self.resolve(request["target"]))}, []

    def op_str(self, request):
        return {"value": str(self.resolve(request["target"]))[:100_000]}, []

    def op_iter(self, request):
        items = materialise(iter(self.resolve(request["target"])))
        node, buffers = self.value(items)
        return {"value": node}, buffers

    def op_deepcopy(self, request):
        return {"value": self.handle(copy.deepcopy(self.resolve(request["target"])))}, []

    def op_value(self, request):
        value = self.resolve(request["target"])
        try:
            node, buffers = wire.encode(value)
        except wire.NotPlain as error:
            raise TypeError(f"{type(value).__qualname__} is not plain data ({error})") from None
        return {"value": node}, buffers

    def op_call(self, request):
        function = self.resolve(request["target"])
        args, kwargs = request.get("args", ()), request.get("kwargs", {})
        apply_context(request.get("context", {}))
        snapshots = [(("a", i), snapshot(arg)) for i, arg in enumerate(args)]
        snapshots += [(("k", name), snapshot(arg)) for name, arg in kwargs.items()]
        result = error = None
        with context_managers(request.get("context", {})):
            try:
                result = function(*args, **kwargs)
            except BaseException as raised:  # noqa: BLE001 - reported with what the call changed before raising
                error = raised
        if error is None and (isinstance(result, types.GeneratorType) or is_view(result)):
            result = materialise(result)
        # what the call changed in its arguments, also when it raised: the grader decides whether the
        # function may change them (and copies the change back) or fails the test ("changed its input")
        restored = []
        for where, before in snapshots:
            if before is None:
                continue
            arg = args[where[1]] if where[0] == "a" else kwargs[where[1]]
            after = state_of(arg)
            if not same(before[1], after):
                restored.append([list(where), before[0], after])
        encoder = wire.Encoder(handle=self.handle)
        header = {"restore": [[where, kind, encoder.value(state)] for where, kind, state in restored]}
        if error is not None:
            header["error"] = describe_error(error)
        else:
            header["value"] = encoder.value(result)
        return header, encoder.buffers

    def op_load_checkpoint(self, request):
        """A submitted checkpoint, opened here and sent back as plain data (wire.open_checkpoint)."""
        name = os.path.basename(request["path"])  # a file of the submission, in this working folder
        loaded = wire.open_checkpoint(name, request["max_bytes"])
        node, buffers = wire.encode(loaded, limit=request["max_bytes"] + (1 << 20))
        return {"value": node}, buffers


def describe(number, obj):
    """A handle's node: its number, the names of its type and bases, and a short label built without
    calling anything of the object's own (a student's __repr__ could be slow, or run anything)."""
    kind = type(obj)
    types_ = [f"{getattr(k, '__module__', '?')}.{getattr(k, '__qualname__', '?')}" for k in kind.__mro__][:64]
    name = None
    if isinstance(obj, types.ModuleType):
        name = obj.__name__
        text = f"<module {name}>"
    elif isinstance(obj, type):
        name = f"{obj.__module__}.{obj.__qualname__}"
        text = f"<class {name}>"
    elif isinstance(obj, (types.FunctionType, types.MethodType, types.BuiltinFunctionType)):
        name = obj.__qualname__
        text = f"<function {name}>"
    else:
        text = f"<{types_[0]} object>"
        if kind in (dict, list, set, tuple):
            text = f"<{kind.__name__} of {len(obj)} items>"
    return {"h": number, "types": types_, "name": name, "repr": text}


def describe_error(error):
    kind = type(error)
    frames = traceback.extract_tb(error.__traceback__)
    student = [f for f in frames if "/sandbox/server/" not in f.filename and not f.filename.endswith("server.py")]
    where = f"{os.path.basename(student[-1].filename)}:{student[-1].lineno} in {student[-1].name}" if student else ""
    try:
        message = str(error)
    except Exception:  # noqa: BLE001
        message = "(the exception's message could not be read)"
    return {
        "type": kind.__name__,
        "mro": [f"{getattr(k, '__module__', '?')}.{getattr(k, '__qualname__', '?')}" for k in kind.__mro__][:32],
        "message": message[:2000],
        "where": where,
    }


def is_view(value):
    return type(value).__name__ in (
        "dict_keys",
        "dict_values",
        "dict_items",
        "odict_keys",
        "odict_values",
        "odict_items",
    )


def materialise(iterator):
    items = []
    for item in iterator:
        items.append(item)
        if len(items) > MAX_ITEMS:
            raise ValueError(f"more than {MAX_ITEMS} items")
    return items


# --- context: random generators, torch's default device and grad mode ----------------------------


def apply_context(context):
    """Set the generators the grader sent (the test reseeded or drew since the last call); the grader never
    takes the state a call leaves, so student code cannot steer what a test draws after it."""
    rng = context.get("rng", {})
    if "numpy" in rng:
        import numpy

        keys, pos, has_gauss, cached = rng["numpy"]
        numpy.random.set_state(("MT19937", keys, pos, has_gauss, cached))  # noqa: NPY002 - the global generator
    if "torch" in rng:
        import torch

        torch.set_rng_state(rng["torch"])


class _Contexts:
    def __init__(self, context):
        self.context = context
        self.stack = []

    def __enter__(self):
        torch = sys.modules.get("torch")
        if torch is None and ("torch_device" in self.context or "grad" in self.context):
            import torch
        if torch is not None:
            if "grad" in self.context:
                manager = torch.set_grad_enabled(bool(self.context["grad"]))
                manager.__enter__()
                self.stack.append(manager)
            device = self.context.get("torch_device")
            if device and device != "cpu":
                manager = torch.device(device)
                manager.__enter__()
                self.stack.append(manager)
        return self

    def __exit__(self, *exc):
        while self.stack:
            self.stack.pop().__exit__(None, None, None)
        return False


def context_managers(context):
    return _Contexts(context)


# --- arguments changed in place --------------------------------------------------------------------


def snapshot(arg):
    """(kind, state) of an argument whose in-place changes go back to the grader, else None."""
    kind = state_kind(arg)
    if kind is None:
        return None
    try:
        return kind, copy.deepcopy(state_of(arg))
    except Exception:  # noqa: BLE001 - an argument that cannot be copied is not restored
        return None


def state_kind(arg):
    numpy = sys.modules.get("numpy")
    torch = sys.modules.get("torch")
    if numpy is not None and type(arg) is numpy.ndarray:
        return "array"
    if type(arg) in (list, dict):
        return type(arg).__name__
    if torch is not None:
        if isinstance(arg, torch.nn.Module):
            return "module"
        if isinstance(arg, torch.optim.Optimizer):
            return "optimizer"
        if isinstance(arg, torch.amp.GradScaler):
            return "scaler"
        if isinstance(arg, torch.Tensor):
            return "tensor"
    return None


def state_of(arg):
    kind = state_kind(arg)
    if kind in ("array", "list", "dict"):
        return arg
    if kind == "tensor":
        return arg.detach()
    if kind == "module":
        modules = dict(arg.named_modules())
        return {
            "state": dict(arg.state_dict()),
            "requires_grad": {name: bool(p.requires_grad) for name, p in arg.named_parameters()},
            "training": {name: bool(m.training) for name, m in modules.items()},
            "hooks": {name: len(m._forward_hooks) + len(m._forward_pre_hooks) for name, m in modules.items()},
        }
    if kind in ("optimizer", "scaler"):
        return arg.state_dict()
    return None


def same(a, b):
    """Deep equality of plain states (arrays and tensors compared by value, NaN equal to NaN)."""
    numpy = sys.modules.get("numpy")
    torch = sys.modules.get("torch")
    if numpy is not None and isinstance(a, numpy.ndarray):
        return (
            isinstance(b, numpy.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and numpy.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    if torch is not None and isinstance(a, torch.Tensor):
        if not isinstance(b, torch.Tensor) or a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.device.type == "meta" or b.device.type == "meta":
            return a.device == b.device
        return bool(torch.equal(a, b)) or bool(((a != a) & (b != b) | (a == b)).all())
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


def main():
    reader = os.fdopen(os.dup(0), "rb")
    writer = os.fdopen(os.dup(1), "wb", buffering=0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)  # what student code prints goes to the sandbox's log, never into the channel
    sys.stdin = open(os.devnull)  # noqa: SIM115
    sys.stdout = sys.stderr
    Server(reader, writer).serve()


if __name__ == "__main__":
    main()
