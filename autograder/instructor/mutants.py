"""Declared mutants and valid alternatives of an assignment's graded functions (solutions/<id>/mutants.py).

An instructor lists, beside each assignment's sources, the plausible wrong versions of its graded
functions that its tests must catch, and the valid alternatives its tests must accept:

    import numpy as np

    from autograder.instructor.mutants import alternative, mutant

    @mutant("cs_lib.layers.affine_forward", fails=["affine_forward"])
    def forgets_the_bias(x, w, b):
        \"\"\"adds no bias\"\"\"
        return x.reshape(x.shape[0], -1) @ w, (x, w, b)

    @mutant("cs_lib.classifiers.fc_net.FullyConnectedNet.loss", fails=["fc_net_gradients"], hidden_only=True)
    def regularises_the_biases(self, X, y=None): ...

    @alternative("cs_lib.layers.relu_forward")
    def relu_with_where(x): ...

The target is the dotted path of a function of a student file, or of a method of one of its classes.
A mutant's source is appended to the reference module it replaces (so it sees that module's names:
np, helpers, other functions) and rebinds the target; it must make every test named in `fails` lose
points in the trusted grader, and with hidden_only=True the visible part of each of those tests must
still pass (only the hidden part catches it). An alternative must keep full marks on every test.

Two more kinds of target reach what tests judge besides cs_lib code (the function runs in the
instructor's process, on the reference's value, and returns the wrong or alternative one):

    @mutant("notebook:kaiming_scales", fails=["kaiming_scales"])   # a variable a test reads=[...]
    def uses_the_xavier_scale(kaiming_scales):
        \"\"\"sqrt(1 / fan_in): forgets the factor 2\"\"\"
        return [scale / np.sqrt(2) for scale in kaiming_scales]

    @mutant("file:a5_checkpoint.pt", fails=["checkpoint"])          # an extra file handed in
    def truncated_checkpoint(data):
        \"\"\"a checkpoint cut short\"\"\"
        return data[: len(data) // 2]

`python -m autograder verify <id>` and tests/test_contract.py check every declaration
(autograder/instructor/contract.py).
"""

import ast
import importlib.util
import inspect
import textwrap
from dataclasses import dataclass, field, replace
from pathlib import Path

NOTEBOOK_PREFIX = "notebook:"
FILE_PREFIX = "file:"


@dataclass(frozen=True)
class Variant:
    name: str
    target: str
    source: str
    kind: str  # "mutant" or "alternative"
    fails: tuple = field(default_factory=tuple)
    hidden_only: bool = False
    description: str = ""
    # the declared function itself: notebook: and file: variants are called, not patched in
    function: object = field(default=None, compare=False, repr=False)
    # the student module the target lives in, once resolved against the course's student files (located())
    resolved_module: str = ""

    @property
    def target_kind(self):
        """ "code" (a cs_lib function or method), "notebook" (a variable tests read) or "file" (an extra file)."""
        if self.target.startswith(NOTEBOOK_PREFIX):
            return "notebook"
        if self.target.startswith(FILE_PREFIX):
            return "file"
        return "code"

    @property
    def subject(self):
        """What a notebook: or file: variant replaces (the variable or file name)."""
        return self.target.split(":", 1)[1] if self.target_kind != "code" else self.target

    @property
    def module(self):
        """The student module the target lives in ("cs_lib.layers")."""
        if self.resolved_module:
            return self.resolved_module
        parts = self.target.split(".")
        for end in range(len(parts) - 1, 1, -1):
            if parts[end - 1][:1].islower():
                return ".".join(parts[:end])
        return ".".join(parts[:-1])

    @property
    def attribute(self):
        """The target within its module ("affine_forward", "FullyConnectedNet.loss")."""
        return self.target[len(self.module) + 1 :]

    @property
    def student_file(self):
        return self.module.replace(".", "/") + ".py"

    def located(self, student_files):
        """This variant with its module resolved against student files ("cs_lib/a/b.py", ...): the longest
        module among them that the target starts with (the case heuristic of `module` otherwise)."""
        if self.target_kind != "code":
            return self
        modules = sorted((name.removesuffix(".py").replace("/", ".") for name in student_files), key=len)
        found = [module for module in modules if self.target.startswith(module + ".")]
        return replace(self, resolved_module=found[-1]) if found else self

    def patched_source(self, module_source):
        """The module's source with this variant appended and bound to the target."""
        return f"{module_source.rstrip()}\n\n\n# --- {self.kind} {self.name} ---\n{self.source}\n{self.attribute} = {self.name}\n"


def _declare(kind, target, fails=(), hidden_only=False):
    def register(function):
        lines = inspect.getsource(function).splitlines()
        start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("def "))
        source = textwrap.dedent("\n".join(lines[start:]))
        function.__variant__ = Variant(
            name=function.__name__,
            target=target,
            source=source,
            kind=kind,
            fails=tuple(fails),
            hidden_only=hidden_only,
            description=(inspect.getdoc(function) or "").split("\n")[0],
            function=function,
        )
        return function

    return register


def mutant(target, fails, hidden_only=False):
    """A plausible wrong version of target that must lose points on every test in fails."""
    if isinstance(fails, str) or not fails:
        raise ValueError(f"mutant of {target}: fails= takes a non-empty list of test grade ids")
    return _declare("mutant", target, fails, hidden_only)


def alternative(target):
    """A valid way to write target that must keep full marks on every test."""
    return _declare("alternative", target)


def load_variants(path):
    """[Variant] declared in a mutants file, in file order ([] when the file does not exist)."""
    path = Path(path)
    if not path.is_file():
        return []
    spec = importlib.util.spec_from_file_location(f"_cs_mutants_{path.parent.name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = [value.__variant__ for value in vars(module).values() if hasattr(value, "__variant__")]
    order = {name: index for index, name in enumerate(vars(module))}
    return sorted(found, key=lambda variant: order.get(variant.name, 0))


def defined_names(module_source):
    """Every function and method a module defines at its top level ("f", "Class.method")."""
    names = set()
    for node in ast.parse(module_source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
            names |= {
                f"{node.name}.{item.name}"
                for item in node.body
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
            }
    return names
