"""Universal adversaries: zero-effort stand-in students, made from the reference, that every test must defeat.

A test that pays points to code which did no work is broken, however plausible the code it was written
against. Each adversary is a student of an assignment whose every graded function and method is
wrapped, in the reference module itself (so it has the right names, signatures and shapes), to do one
hostile thing instead of the work:

    zeros               returns zeros (or an empty, all-zero model) of exactly the reference's shapes
    zeros_and_inputs    the same, and zeroes every argument it was given in place
    data_reader         the same, but returns the labels it can read from the data folder wherever an
                        answer has the shape of a split's labels (or scores of one)
    lying_state         objects lie about their own state: a parameter store that keeps zeros whatever a
                        test writes into it, a load_state_dict that ignores its input; methods compute
                        honestly with that state
    raise_after_change  zeroes its arguments (and leaves a hook on a model) in place, then raises
    reseed              returns zeros and reseeds numpy's and torch's global generators to a fixed state

Their notebooks hold the reference's solution cells (so every cell runs as an honest student's would),
but every variable a test judges (reads=[...]) is made zeros of its structure after the cell that sets it:
a hand-worked answer is work too.

At the notebook level,

    flipped_metadata    the starter, with every written answer's nbgrader metadata changed into a test's
    huge_checkpoint     the starter, with a checkpoint whose tensors expand far beyond the assignment's limit

Each must earn exactly what the starter earns on every test (tests/test_adversaries.py grades them all
through init / collect / grade, with an honest reference student in the same batch). The wrappers are
plain module code: they use no interpreter internals, so the integrity scan holds none of them for review
(which would hide what the tests themselves do).
"""

import ast
import io
import zipfile
from pathlib import Path

import nbformat

from autograder.common import paths
from autograder.common.sources import source_notebook

CODE_ADVERSARIES = ("zeros", "zeros_and_inputs", "data_reader", "lying_state", "raise_after_change", "reseed")
NOTEBOOK_ADVERSARIES = ("flipped_metadata", "huge_checkpoint")

RUNTIME = '''

# --- a zero-effort grading adversary ({mode}), made by autograder.instructor.adversaries ---
import copy as _adv_copy
import functools as _adv_functools
import os as _adv_os
import pickle as _adv_pickle

import numpy as _adv_np
{torch_import}
_ADV_MODE = "{mode}"
_ADV_DEPTH = [0]


def _adv_is_tensor(value):
    return _adv_torch is not None and isinstance(value, _adv_torch.Tensor)


def _adv_is_module(value):
    return _adv_torch is not None and isinstance(value, _adv_torch.nn.Module)


def _adv_zero_module(module):
    with _adv_torch.no_grad():
        for parameter in module.parameters():
            parameter.zero_()
        for buffer in module.buffers():
            if buffer.is_floating_point():
                buffer.zero_()


def _adv_zero(value):
    """value's structure with every number zero (an all-zero copy for a model)."""
    if isinstance(value, _adv_np.ndarray):
        return _adv_np.zeros_like(value)
    if isinstance(value, _adv_np.generic):
        return value.dtype.type(0)
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float, complex)):
        return type(value)(0)
    if _adv_is_tensor(value):
        return _adv_torch.zeros_like(value.detach())
    if _adv_is_module(value):
        _adv_zero_module(value)
        return value
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_adv_zero(item) for item in value))
    if isinstance(value, (tuple, list)):
        return type(value)(_adv_zero(item) for item in value)
    if isinstance(value, dict):
        return {{key: _adv_zero(item) for key, item in value.items()}}
    if isinstance(value, str):
        return ""
    return value


def _adv_zero_in_place(value, depth=0):
    """Zero what value holds, in place: arrays, tensors, models, and the numbers in dicts and lists."""
    if depth > 4:
        return
    if isinstance(value, _adv_np.ndarray):
        if value.flags.writeable:
            value[...] = 0
    elif _adv_is_tensor(value):
        with _adv_torch.no_grad():
            value.zero_()
    elif _adv_is_module(value):
        _adv_zero_module(value)
    elif isinstance(value, dict):
        for key, item in list(value.items()):
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                value[key] = type(item)(0)
            else:
                _adv_zero_in_place(item, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                value[index] = type(item)(0)
            else:
                _adv_zero_in_place(item, depth + 1)


def _adv_read_labels():
    """Every label list the data folder holds (CIFAR-10-format batches), longest first."""
    found = []
    root = _adv_os.environ.get("CS_DATA_DIR")
    for folder, _, names in _adv_os.walk(root) if root else []:
        for name in names:
            try:
                with open(_adv_os.path.join(folder, name), "rb") as handle:
                    batch = _adv_pickle.load(handle, encoding="bytes")
                found.append(_adv_np.asarray(batch[b"labels"]))
            except Exception:  # noqa: BLE001 - not a batch
                continue
    return sorted(found, key=len, reverse=True)


_ADV_LABELS = _adv_read_labels() if _ADV_MODE == "data_reader" else []


def _adv_answer_from_data(shaped):
    """Labels (or one-hot scores) read from the data folder, where an answer has such a shape."""
    if not isinstance(shaped, _adv_np.ndarray) or not _ADV_LABELS:
        return _adv_zero(shaped)
    count = shaped.shape[0] if shaped.ndim else 0
    labels = next((found for found in _ADV_LABELS if len(found) == count), None)
    if labels is None:
        labels = next((found[:count] for found in _ADV_LABELS if len(found) >= count), None)
    if labels is None or count == 0:
        return _adv_zero(shaped)
    if shaped.ndim == 1 and shaped.dtype.kind in "iu":
        return labels.astype(shaped.dtype)
    if shaped.ndim == 2 and shaped.shape[1] == 10:
        scores = _adv_np.zeros_like(shaped)
        scores[_adv_np.arange(count), labels % 10] = 1
        return scores
    return _adv_zero(shaped)


def _adv_hostile_result(shaped, args, kwargs):
    if _ADV_MODE == "data_reader":
        result = _adv_answer_from_data(shaped)
    else:
        result = _adv_zero(shaped)
    if _ADV_MODE == "zeros_and_inputs":
        for value in list(args) + list(kwargs.values()):
            _adv_zero_in_place(value)
    if _ADV_MODE == "reseed":
        _adv_np.random.seed(0)
        if _adv_torch is not None:
            _adv_torch.manual_seed(0)
    return result


def _adv_hook(module, inputs, output):
    return None


def _adv_change_and_raise(args, kwargs):
    for value in list(args) + list(kwargs.values()):
        _adv_zero_in_place(value)
        if _adv_is_module(value):
            value.register_forward_hook(_adv_hook)
    raise ValueError("a zero-effort stand-in: it changed its arguments, then raised")


def _adv_function(original):
    """A graded function that does the adversary's thing instead of the work."""

    @_adv_functools.wraps(original)
    def adversary(*args, **kwargs):
        if _ADV_DEPTH[0]:
            return original(*args, **kwargs)
        _ADV_DEPTH[0] += 1
        try:
            if _ADV_MODE == "raise_after_change":
                _adv_change_and_raise(args, kwargs)
            # the reference's answer on copies (no change to the arguments), only for its shapes
            shaped = original(*_adv_copy.deepcopy(args), **_adv_copy.deepcopy(kwargs))
            return _adv_hostile_result(shaped, args, kwargs)
        finally:
            _ADV_DEPTH[0] -= 1

    return adversary


def _adv_method(original):
    """A graded method: like _adv_function, on a copy of the object (whose own state never learns)."""

    @_adv_functools.wraps(original)
    def adversary(self, *args, **kwargs):
        if _ADV_DEPTH[0] or _ADV_MODE == "lying_state":  # honest work on state that lies (see _adv_lying_setattr)
            return original(self, *args, **kwargs)
        _ADV_DEPTH[0] += 1
        try:
            if _ADV_MODE == "raise_after_change":
                _adv_zero_own_state(self)
                _adv_change_and_raise(args, kwargs)
            twin = self if _adv_is_module(self) else _adv_copy.deepcopy(self)
            if _adv_is_module(self):
                with _adv_torch.no_grad():
                    shaped = original(twin, *_adv_copy.deepcopy(args), **_adv_copy.deepcopy(kwargs))
            else:
                shaped = original(twin, *_adv_copy.deepcopy(args), **_adv_copy.deepcopy(kwargs))
            return _adv_hostile_result(shaped, args, kwargs)
        finally:
            _ADV_DEPTH[0] -= 1

    return adversary


class _AdvZeroStore(dict):
    """A parameter store that keeps zeros of the right shape whatever is written into it."""

    def __setitem__(self, key, value):
        dict.__setitem__(self, key, _adv_zero(_adv_np.asarray(value) if not _adv_is_tensor(value) else value))

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value


def _adv_zero_own_state(obj):
    if _adv_is_module(obj):
        _adv_zero_module(obj)
        return
    params = getattr(obj, "params", None)
    if isinstance(params, dict):
        for key in list(params):
            params[key] = _adv_zero(params[key])
    weights = getattr(obj, "W", None)
    if isinstance(weights, _adv_np.ndarray):
        weights[...] = 0


def _adv_init(original):
    """__init__ as the reference's, then the object's state made zero (or a lying zero store)."""

    @_adv_functools.wraps(original)
    def adversary(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if _ADV_DEPTH[0]:
            return
        _adv_zero_own_state(self)

    return adversary


def _adv_lying_setattr(self, name, value):
    """Every array (or dict of arrays) an object is given is kept as zeros of its shape: tests that read
    the object's state back to compute their reference see zeros, and so does the object's own work."""
    if isinstance(value, _adv_np.ndarray) or _adv_is_tensor(value):
        value = _adv_zero(value)
    elif isinstance(value, dict) and not isinstance(value, _AdvZeroStore):
        store = _AdvZeroStore()
        for key, item in value.items():
            if isinstance(item, _adv_np.ndarray) or _adv_is_tensor(item):
                store[key] = item
            else:
                dict.__setitem__(store, key, item)
        value = store
    object.__setattr__(self, name, value)


def _adv_ignore_state(self, state_dict, strict=True, assign=False):
    """load_state_dict that keeps the model's own (zero) weights whatever it is given."""
    return _adv_torch.nn.modules.module._IncompatibleKeys([], [])

'''


def graded_names(source):
    """(functions, {class: [methods]}) a stand-in wraps: the module's public functions and its classes'
    public methods (and __init__), read from the reference source."""
    tree = ast.parse(source)
    functions, classes = [], {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            functions.append(node.name)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            methods = []
            for item in node.body:
                if not isinstance(item, ast.FunctionDef):
                    continue
                static = any(
                    isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod") for d in item.decorator_list
                )
                if item.name == "__init__" or (not item.name.startswith("_") and not static):
                    methods.append(item.name)
            classes[node.name] = methods
    return functions, classes


def imports_torch(source):
    """Whether a module imports torch in any spelling (import torch, import torch.nn, from torch import nn):
    a module that only says `from torch import nn` holds models all the same, and wrappers blind to torch
    would hand its modules and tensors back untouched, i.e. the reference's honest work."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(alias.name.split(".")[0] == "torch" for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "torch":
            return True
    return False


def adversary_source(reference_source, mode):
    """The reference module turned into the `mode` adversary (appended wrappers rebind every graded name)."""
    if mode not in CODE_ADVERSARIES:
        raise ValueError(f"unknown adversary {mode!r}; choose one of {CODE_ADVERSARIES}")
    uses_torch = imports_torch(reference_source)
    torch_import = "import torch as _adv_torch\n" if uses_torch else "_adv_torch = None\n"
    lines = [reference_source.rstrip(), RUNTIME.format(mode=mode, torch_import=torch_import)]
    functions, classes = graded_names(reference_source)
    for name in functions:
        lines.append(f"{name} = _adv_function({name})")
    for cls, methods in classes.items():
        for method in methods:
            wrapper = "_adv_init" if method == "__init__" else "_adv_method"
            lines.append(f"{cls}.{method} = {wrapper}({cls}.{method})")
        if mode == "lying_state":
            if uses_torch:
                lines.append(
                    f"if issubclass({cls}, _adv_torch.nn.Module):\n    {cls}.load_state_dict = _adv_ignore_state\n"
                    f"else:\n    {cls}.__setattr__ = _adv_lying_setattr"
                )
            else:
                lines.append(f"{cls}.__setattr__ = _adv_lying_setattr")
    return "\n".join(lines) + "\n"


def flip_answer_metadata(notebook):
    """The notebook with every written answer and task relabelled as a test (a copy is changed in place)."""
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("task") or (meta.get("solution") and meta.get("grade")):
            meta.update(solution=False, task=False, grade=True, locked=False)
    return notebook


def _reference_state_shapes(config):
    """{name: (shape, dtype)} of the reference architecture's state_dict for config, built on the meta device."""
    import torch

    from autograder.grading.trusted.reference import reference_module

    with torch.device("meta"):
        model = reference_module("cs_lib.pytorch.models").build_model(config)
    return {name: (tuple(value.shape), value.dtype) for name, value in model.state_dict().items()}


def huge_checkpoint(path):
    """A few-kilobyte checkpoint whose tensors have stride 0: a full VGG-16 with a head for 60,000 classes,
    about 1.5 GB once its tensors are made dense (what opening it without a size check would do)."""
    import torch

    from cs_lib.pytorch.checkpoint import FORMAT

    config = {"architecture": "vgg", "kwargs": {"config": "D", "batch_norm": False, "num_classes": 60_000}}
    state = {
        name: torch.zeros(1, dtype=dtype).expand(shape) if shape else torch.zeros((), dtype=dtype)
        for name, (shape, dtype) in _reference_state_shapes(config).items()
    }
    torch.save({"format": FORMAT, "config": config, "state_dict": state}, path)
    return path


ANSWER_ZERO = """

# --- a zero-effort answer, made by autograder.instructor.adversaries: what the tests read, as zeros ---
def _adv_answer_zero(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return type(value)(0)
    if isinstance(value, dict):
        return {key: _adv_answer_zero(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_adv_answer_zero(item) for item in value)
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return value * 0
    return value


"""


def _assigned_names(source):
    """Names a cell's code binds or changes at its top level (x = ..., x += ..., x.update(...), x[k] = ...)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            names.add(node.value.id)
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.value.id)
    return names


def zero_answers(notebook, source):
    """The notebook with the reference's solution cells, where every variable a test judges (reads=[...])
    is made zeros of the same structure right after the cell that sets it: a hand-worked answer (A5's
    table) is work, and a zero-effort stand-in does none of it."""
    read = set()
    for cell in source.cells:
        read.update(cell.get("metadata", {}).get("reads", []))
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        names = sorted(read & _assigned_names(cell.source))
        if names:
            cell.source += ANSWER_ZERO + "".join(f"{name} = _adv_answer_zero({name})\n" for name in names)
    return notebook


def submission_zip(
    course, assignment, release_dir, student_files, notebook_transform=None, extra_files=None, answers="solved"
):
    """Bytes of a submission zip: the assignment's notebooks (solved with the reference's solution cells
    unless notebook_transform says otherwise; answers="zero" then zeroes what the tests read of them), the
    given {"cs_lib/...": source text} and extra files."""
    from autograder.instructor.demo import solved_notebook

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in assignment.notebooks:
            release = nbformat.read(str(Path(release_dir) / f"{name}.ipynb"), as_version=4)
            if notebook_transform is None:
                source = source_notebook(assignment.source_notebook(name), course, assignment.id)
                notebook = solved_notebook(release, source, 1.0)
                if answers == "zero":
                    notebook = zero_answers(notebook, source)
            else:
                notebook = notebook_transform(release)
            archive.writestr(f"{assignment.id}/{name}.ipynb", nbformat.writes(notebook))
        for name, text in student_files.items():
            archive.writestr(name, text)
        for name, path in (extra_files or {}).items():
            archive.write(path, f"{assignment.id}/{name}")
    return buffer.getvalue()


def starter_files(assignment):
    return {name: (paths.REPO_ROOT / name).read_text() for name in assignment.student_files}


def adversary_files(course, assignment, mode):
    """{"cs_lib/...": source} of the assignment's student files as the `mode` adversary."""
    references = course.references()
    return {name: adversary_source(Path(references[name]).read_text(), mode) for name in assignment.student_files}
