"""Plain data across the sandbox boundary: what student code may send to the grader.

This file runs on both sides: inside the sandbox (the call server and the notebook kernel encode
what student code produced) and in the trusted grader (which decodes it). It imports nothing from
the course, so the sandbox can load it by path.

A message from the sandbox is a JSON header plus raw byte buffers. The header describes values with a
closed set of tags -- numbers, strings, tuples, lists, dicts, sets, numpy arrays and scalars, torch
tensors, dtypes and devices, named tuples, and opaque handles (an integer naming an object that stays
in the sandbox). Arrays travel as raw bytes with an explicit dtype from an allow-list and a shape
that must match the byte count. Nothing in a message can carry code or behaviour: the decoder never
unpickles, never imports a module named by the sandbox and never calls a method of a received
object; every size, depth and count is bounded.
"""

import json
import math
import os
import struct

MAX_FRAME = 1 << 30  # bytes in one message (a test may lower it for one request: Channel.frame_limit)
MAX_DEPTH = 48
MAX_NODES = 2_000_000
MAX_TEXT = 1 << 20  # characters in one string
ARRAY_DTYPES = frozenset(
    "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 complex64 complex128".split()
)
TORCH_DTYPES = frozenset(
    "bool uint8 int8 int16 int32 int64 float16 bfloat16 float32 float64 complex64 complex128".split()
)
TORCH_DEVICES = frozenset({"cpu", "meta"})
_LENGTH = struct.Struct("<Q")


class WireError(Exception):
    """A message that breaks the format or its limits (from the sandbox: never trusted)."""


# --- framing -------------------------------------------------------------------------------


def write_frame(stream, *parts):
    """One message: its total length, then its parts (bytes-like), without joining them."""
    views = [memoryview(part).cast("B") for part in parts]
    stream.write(_LENGTH.pack(sum(view.nbytes for view in views)))
    for view in views:
        stream.write(view)
    stream.flush()


def read_exactly(stream, size):
    """size bytes into one writable buffer (arrays decoded from it need no further copy)."""
    data = bytearray(size)
    view = memoryview(data)
    filled = 0
    while filled < size:
        count = stream.readinto(view[filled:])
        if not count:
            raise EOFError("the other side closed the channel")
        filled += count
    return data


def read_frame(stream, limit=MAX_FRAME):
    (size,) = _LENGTH.unpack(read_exactly(stream, _LENGTH.size))
    if size > limit:
        raise WireError(f"a message of {size} bytes exceeds the {limit} byte limit")
    return read_exactly(stream, size)


def message_parts(header, buffers=()):
    """header (JSON-able) and buffers -> the parts of a message:
    [header length][header JSON][buffer count][buffer lengths][buffers]."""
    buffers = [memoryview(b).cast("B") for b in buffers]
    head = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    sizes = b"".join(_LENGTH.pack(b.nbytes) for b in buffers)
    return [_LENGTH.pack(len(head)) + head + _LENGTH.pack(len(buffers)) + sizes, *buffers]


def pack_message(header, buffers=()):
    return b"".join(bytes(part) for part in message_parts(header, buffers))


def unpack_message(data):
    """The inverse of message_parts, checking every length against the data."""
    view = memoryview(data)
    offset = 0

    def take(size):
        nonlocal offset
        if size < 0 or offset + size > len(view):
            raise WireError("a message is shorter than its own lengths say")
        piece = view[offset : offset + size]
        offset += size
        return piece

    (head_size,) = _LENGTH.unpack(take(_LENGTH.size))
    try:  # a header nested deeper than Python's recursion limit is a RecursionError here, not a crash
        header = json.loads(bytes(take(head_size)))
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise WireError(f"a message header is not JSON ({type(error).__name__}: {str(error)[:200]})") from None
    (count,) = _LENGTH.unpack(take(_LENGTH.size))
    if count > MAX_NODES:
        raise WireError(f"{count} buffers in one message")
    sizes = [_LENGTH.unpack(take(_LENGTH.size))[0] for _ in range(count)]
    buffers = [take(size) for size in sizes]
    if offset != len(view):
        raise WireError("a message has bytes after its last buffer")
    return header, buffers


# --- encoding (the sandbox side) -------------------------------------------------------------


class NotPlain(Exception):
    """A value that cannot travel as plain data."""


def _torch():
    import sys

    return sys.modules.get("torch")


def _is_namedtuple(value):
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


class Encoder:
    """Turns values into header nodes and buffers.

    handle(obj) -> handle node, or None where objects may not become handles (exports: plain only).
    by_value(obj) decides for a container met while encoding whether it travels by value.
    """

    def __init__(self, handle=None, limit=MAX_FRAME):
        self.handle = handle
        self.buffers = []
        self.bytes = 0
        self.nodes = 0
        self.limit = limit

    def _room_for(self, nbytes):
        """Refuse, before anything is made, data that would not fit: a view with stride 0 (numpy's
        broadcast_to, torch's expand) holds a few bytes until it is made contiguous."""
        if self.bytes + nbytes > self.limit:
            raise NotPlain(f"more than {self.limit} bytes of data")

    def _buffer(self, data):
        data = memoryview(data).cast("B")
        self.bytes += data.nbytes
        if self.bytes > self.limit:
            raise NotPlain(f"more than {self.limit} bytes of data")
        self.buffers.append(data)
        return len(self.buffers) - 1

    def _as_handle(self, value, why):
        if self.handle is None:
            raise NotPlain(why)
        return self.handle(value)

    def encode(self, value, depth=0, containers=True):
        """containers=False: lists, dicts and sets become handles (they are someone's mutable state)."""
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise NotPlain("too large or too deeply nested")
        if value is None or type(value) in (bool, str):
            if isinstance(value, str) and len(value) > MAX_TEXT:
                raise NotPlain(f"a string of {len(value)} characters")
            return value
        kind = type(value)
        if kind is int:
            return value if abs(value) < 2**63 else {"i": str(value)}
        if kind is float:
            return value if math.isfinite(value) else {"f": repr(value)}
        if kind is complex:
            return {"c": [self.encode(value.real, depth + 1), self.encode(value.imag, depth + 1)]}
        if kind is bytes:
            return {"b": self._buffer(value)}
        if value is Ellipsis:
            return {"E": 1}
        if kind is slice:
            return {"sl": [self.encode(v, depth + 1) for v in (value.start, value.stop, value.step)]}
        numpy = _numpy()
        if numpy is not None:
            if kind is numpy.ndarray:
                return self._array(value)
            if isinstance(value, numpy.generic) and value.dtype.name in ARRAY_DTYPES:
                array = numpy.asarray(value)
                if not array.dtype.isnative:
                    array = array.astype(array.dtype.newbyteorder("="))
                return {"n": self._buffer(array.tobytes()), "dtype": array.dtype.name}
        torch = _torch()
        if torch is not None:
            if isinstance(value, torch.Tensor):
                return self._tensor(value, torch)
            if isinstance(value, torch.dtype):
                return {"dt": str(value).removeprefix("torch.")}
            if isinstance(value, torch.device):
                return {"dev": str(value)}
        if _is_namedtuple(value):
            fields = [str(f) for f in type(value)._fields]
            return {"nt": fields, "name": type(value).__name__[:100], "v": self._items(value, depth, containers)}
        if kind is tuple or (torch is not None and kind is torch.Size):
            return {"t": self._items(value, depth, containers)}
        if kind is list:
            if not containers:
                return self._as_handle(value, "a list")
            return {"l": self._items(value, depth, containers)}
        if kind is dict or (kind.__name__ == "OrderedDict" and kind.__module__ == "collections"):
            if not containers:
                return self._as_handle(value, "a dict")
            return {"d": [[self.encode(k, depth + 1), self._item(v, depth, containers)] for k, v in value.items()]}
        if kind in (set, frozenset):
            if not containers and kind is set:
                return self._as_handle(value, "a set")
            return {"s": self._items(value, depth, containers)}
        return self._as_handle(value, f"a {kind.__module__}.{kind.__qualname__} object")

    def value(self, value, containers=True):
        """The node of a top-level value: plain data by value, else (with a handle maker) a handle."""
        return self._item(value, -1, containers)

    def _item(self, value, depth, containers):
        try:
            return self.encode(value, depth + 1, containers)
        except NotPlain:
            if self.handle is None:
                raise
            return self.handle(value)

    def _items(self, values, depth, containers):
        return [self._item(v, depth, containers) for v in values]

    def _array(self, array):
        if array.dtype.name not in ARRAY_DTYPES:
            raise NotPlain(f"an array of dtype {array.dtype}")
        numpy = _numpy()
        self._room_for(array.size * array.itemsize)
        if not array.dtype.isnative:  # the wire carries native byte order: values arrive unchanged
            array = array.astype(array.dtype.newbyteorder("="))
        array = numpy.ascontiguousarray(array)
        return {
            "a": self._buffer(array.data if array.size else b""),
            "dtype": array.dtype.name,
            "shape": list(array.shape),
        }

    def _tensor(self, tensor, torch):
        dtype = str(tensor.dtype).removeprefix("torch.")
        if dtype not in TORCH_DTYPES:
            raise NotPlain(f"a tensor of dtype {tensor.dtype}")
        node = {
            "T": None,
            "dtype": dtype,
            "shape": list(tensor.shape),
            "grad": bool(tensor.requires_grad),
            "param": isinstance(tensor, torch.nn.Parameter),
        }
        if tensor.device.type == "meta":
            node["meta"] = True
            return node
        self._room_for(tensor.numel() * tensor.element_size())
        data = tensor.detach().to("cpu").contiguous()
        if data.is_conj():
            data = data.resolve_conj()
        node["T"] = self._buffer(data.reshape(-1).view(torch.uint8).numpy() if data.numel() else b"")
        return node


def _numpy():
    import sys

    return sys.modules.get("numpy")


def encode(value, handle=None, containers=True, limit=MAX_FRAME):
    """(node, buffers) for value."""
    encoder = Encoder(handle, limit)
    return encoder.value(value, containers=containers), encoder.buffers


# --- decoding (the trusted side) ---------------------------------------------------------------


class Decoder:
    """Rebuilds values from nodes; make_handle(node) builds the local stand-in of a handle."""

    def __init__(self, buffers, make_handle=None):
        self.buffers = buffers
        self.make_handle = make_handle
        self.nodes = 0

    def _buffer(self, index):
        if type(index) is not int or not 0 <= index < len(self.buffers):
            raise WireError(f"a reference to buffer {index!r}, which does not exist")
        return self.buffers[index]

    def decode(self, node, depth=0):
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise WireError("a value too large or too deeply nested")
        if node is None or type(node) in (bool, int, str):
            if type(node) is str and len(node) > MAX_TEXT:
                raise WireError("a string too long")
            return node
        if type(node) is float:
            if not math.isfinite(node):
                raise WireError("a non-finite number outside its tag")
            return node
        if type(node) is not dict or len(node) == 0:
            raise WireError(f"an unknown value {str(node)[:80]!r}")
        tag = next(iter(node))
        decode_tag = _TAGS.get(tag)
        if decode_tag is None:
            raise WireError(f"an unknown value tag {tag!r}")
        return decode_tag(self, node, depth + 1)

    def _list(self, items, depth):
        if type(items) is not list:
            raise WireError("a container whose items are not a list")
        return [self.decode(item, depth) for item in items]

    def _list_node(self, node, depth):
        return self._list(node["l"], depth)

    def _int(self, node, depth):
        text = node["i"]
        if type(text) is not str or len(text) > 5000 or not text.lstrip("-").isdigit():
            raise WireError("a malformed big integer")
        return int(text)

    def _float(self, node, depth):
        if node["f"] not in ("nan", "inf", "-inf"):
            raise WireError("a malformed special float")
        return float(node["f"])

    def _complex(self, node, depth):
        real, imag = self._list(node["c"], depth)
        if not all(type(v) in (int, float) for v in (real, imag)):
            raise WireError("a malformed complex number")
        return complex(real, imag)

    def _bytes(self, node, depth):
        return bytes(self._buffer(node["b"]))

    def _ellipsis(self, node, depth):
        return Ellipsis

    def _slice(self, node, depth):
        parts = self._list(node["sl"], depth)
        if len(parts) != 3 or not all(p is None or type(p) is int for p in parts):
            raise WireError("a malformed slice")
        return slice(*parts)

    def _shape(self, node):
        shape = node.get("shape")
        if type(shape) is not list or len(shape) > 32 or not all(type(s) is int and 0 <= s < 2**40 for s in shape):
            raise WireError(f"a malformed shape {str(shape)[:80]}")
        return tuple(shape)

    def _array(self, node, depth):
        import numpy

        dtype = node.get("dtype")
        if dtype not in ARRAY_DTYPES:
            raise WireError(f"an array of dtype {str(dtype)[:40]!r}")
        shape = self._shape(node)
        data = self._buffer(node["a"])
        dtype = numpy.dtype(dtype)
        if math.prod(shape) * dtype.itemsize != data.nbytes:
            raise WireError(f"an array of shape {shape} and dtype {dtype} with {data.nbytes} bytes")
        array = numpy.frombuffer(data, dtype=dtype).reshape(shape)
        return array if array.flags.writeable else array.copy()

    def _numpy_scalar(self, node, depth):
        import numpy

        dtype = node.get("dtype")
        if dtype not in ARRAY_DTYPES:
            raise WireError(f"a numpy scalar of dtype {str(dtype)[:40]!r}")
        data = self._buffer(node["n"])
        if data.nbytes != numpy.dtype(dtype).itemsize:
            raise WireError("a malformed numpy scalar")
        return numpy.frombuffer(data, dtype=dtype)[0]

    def _tensor(self, node, depth):
        import torch

        dtype = node.get("dtype")
        if dtype not in TORCH_DTYPES:
            raise WireError(f"a tensor of dtype {str(dtype)[:40]!r}")
        shape = self._shape(node)
        torch_dtype = getattr(torch, dtype)
        if node.get("meta"):
            tensor = torch.empty(shape, dtype=torch_dtype, device="meta")
        else:
            data = self._buffer(node["T"])
            itemsize = torch.empty((), dtype=torch_dtype).element_size()
            if math.prod(shape) * itemsize != data.nbytes:
                raise WireError(f"a tensor of shape {shape} and dtype {dtype} with {data.nbytes} bytes")
            if data.nbytes:
                if data.readonly:
                    data = bytearray(data)
                tensor = torch.frombuffer(data, dtype=torch_dtype).reshape(shape)
            else:
                tensor = torch.empty(shape, dtype=torch_dtype)
        grad = node.get("grad") is True and tensor.is_floating_point()
        if node.get("param") is True:
            return torch.nn.Parameter(tensor, requires_grad=grad)
        return tensor.requires_grad_(grad)

    def _torch_dtype(self, node, depth):
        import torch

        if node["dt"] not in TORCH_DTYPES:
            raise WireError(f"a torch dtype {str(node['dt'])[:40]!r}")
        return getattr(torch, node["dt"])

    def _device(self, node, depth):
        import torch

        name = node["dev"]
        if type(name) is not str or name.split(":")[0] not in TORCH_DEVICES | {"cuda", "mps"}:
            raise WireError(f"a torch device {str(name)[:40]!r}")
        return torch.device(name)

    def _tuple(self, node, depth):
        return tuple(self._list(node["t"], depth))

    def _namedtuple(self, node, depth):
        import collections

        fields, name = node["nt"], node.get("name")
        if type(fields) is not list or not all(type(f) is str and f.isidentifier() for f in fields):
            raise WireError("a named tuple with malformed fields")
        if type(name) is not str or not name.isidentifier():
            name = "Row"
        values = self._list(node["v"], depth)
        if len(values) != len(fields):
            raise WireError("a named tuple whose values do not match its fields")
        try:
            kind = collections.namedtuple(name, fields)
        except ValueError as error:
            raise WireError(f"a malformed named tuple ({error})") from None
        return kind(*values)

    def _dict(self, node, depth):
        pairs = node["d"]
        if type(pairs) is not list:
            raise WireError("a dict whose items are not a list")
        result = {}
        for pair in pairs:
            if type(pair) is not list or len(pair) != 2:
                raise WireError("a dict item that is not a pair")
            key = self.decode(pair[0], depth)
            try:
                hash(key)
            except TypeError:
                raise WireError("a dict key that cannot be a key") from None
            result[key] = self.decode(pair[1], depth)
        return result

    def _set(self, node, depth):
        items = self._list(node["s"], depth)
        try:
            return set(items)
        except TypeError:
            raise WireError("a set of unhashable items") from None

    def _handle(self, node, depth):
        if self.make_handle is None or type(node["h"]) is not int:
            raise WireError("an object where only plain data is allowed")
        types = node.get("types", [])
        if type(types) is not list or not all(type(t) is str and len(t) < 300 for t in types[:64]):
            raise WireError("a handle with malformed type names")
        name = node.get("name")
        text = node.get("repr", "")
        return self.make_handle(
            node["h"], types[:64], name if type(name) is str else None, text[:300] if type(text) is str else ""
        )


_TAGS = {
    "i": Decoder._int,
    "f": Decoder._float,
    "c": Decoder._complex,
    "b": Decoder._bytes,
    "E": Decoder._ellipsis,
    "sl": Decoder._slice,
    "a": Decoder._array,
    "n": Decoder._numpy_scalar,
    "T": Decoder._tensor,
    "dt": Decoder._torch_dtype,
    "dev": Decoder._device,
    "t": Decoder._tuple,
    "nt": Decoder._namedtuple,
    "l": Decoder._list_node,
    "d": Decoder._dict,
    "s": Decoder._set,
    "h": Decoder._handle,
}


def decode(node, buffers, make_handle=None):
    try:
        return Decoder(buffers, make_handle).decode(node)
    except WireError:
        raise
    except (KeyError, TypeError, ValueError, OverflowError, RuntimeError, MemoryError) as error:
        raise WireError(f"malformed data ({type(error).__name__}: {str(error)[:200]})") from None


# --- submitted files -------------------------------------------------------------------------------


def archive_fits(path, limit):
    """Whether the file reads without inflating: not a zip archive (its own size is what collect limited),
    or one (torch.save's format, numpy's .npz) of stored, uncompressed records holding at most limit bytes."""
    import zipfile

    try:
        if not zipfile.is_zipfile(path):
            return True
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False
    return all(member.compress_type == zipfile.ZIP_STORED for member in members) and (
        sum(member.file_size for member in members) <= limit
    )


def open_checkpoint(path, max_bytes):
    """A submitted checkpoint, opened with weights_only=True (tensors and plain values, never code) once its
    zip directory shows nothing that inflates, and returned only if the numbers it holds, counted as the
    dense tensors they become (a stride-0 view is a few bytes on disk), fit max_bytes; else ValueError."""
    import torch

    if not archive_fits(path, max_bytes):
        raise ValueError(
            f"{os.path.basename(path)} holds compressed records or more than {max_bytes:,} bytes: "
            "save it with save_checkpoint (torch.save writes stored records)"
        )
    loaded = torch.load(path, map_location="cpu", weights_only=True)
    total = 0
    for value in _checkpoint_tensors(loaded, torch.Tensor):
        total += value.numel() * value.element_size()
        if total > max_bytes:
            raise ValueError(
                f"the checkpoint's tensors hold more than {max_bytes:,} bytes of numbers "
                "(the assignment's limit for the file)"
            )
    return loaded


def _checkpoint_tensors(value, tensor_type, depth=0):
    """Every tensor in a loaded checkpoint (nested dicts, lists and tuples)."""
    if depth > 16:
        raise ValueError("the checkpoint nests its values too deeply")
    if isinstance(value, tensor_type):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _checkpoint_tensors(item, tensor_type, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _checkpoint_tensors(item, tensor_type, depth + 1)


# --- exports: notebook variables handed to the grader ---------------------------------------------


def export_names(namespace, names, path):
    """Write the named variables of a notebook namespace as plain data (a missing or non-plain one is
    recorded with the reason instead). Runs in the student's kernel; the grader trusts none of it."""
    values, problems = {}, {}
    for name in names:
        if name not in namespace:
            problems[name] = "not defined"
            continue
        values[name] = namespace[name]
    encoder = Encoder(handle=None, limit=256 << 20)
    nodes = {}
    for name, value in values.items():
        try:
            nodes[name] = encoder.encode(value)
        except NotPlain as error:
            problems[name] = f"not plain data ({error})"
        except Exception as error:  # noqa: BLE001 - whatever the value does, it is reported, never raised
            problems[name] = f"could not be read ({type(error).__name__})"
    # written whole, then renamed: the trusted runner starts the test as soon as the file appears
    partial = f"{path}.part"
    with open(partial, "wb") as f:
        f.write(pack_message({"values": nodes, "problems": problems}, encoder.buffers))
    os.replace(partial, path)


def read_exports(path, limit=256 << 20):
    """({name: value}, {name: problem}) from an exports file written by export_names."""
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise WireError(f"the exported variables exceed {limit} bytes")
    header, buffers = unpack_message(data)
    if type(header) is not dict or type(header.get("values")) is not dict or type(header.get("problems")) is not dict:
        raise WireError("a malformed exports file")
    values = {}
    for name, node in header["values"].items():
        values[str(name)] = decode(node, buffers)
    problems = {str(k): str(v)[:300] for k, v in header["problems"].items()}
    return values, problems
