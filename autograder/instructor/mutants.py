"""Declared mutants and valid alternatives of an assignment's graded functions (solutions/<id>/mutants.py).

An instructor lists, beside each assignment's sources, the plausible wrong versions of its graded
functions that its tests must catch, and the valid alternatives its tests must accept:

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
"""

import importlib.util
import inspect
import textwrap
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Variant:
    name: str
    target: str
    source: str
    kind: str  # "mutant" or "alternative"
    fails: tuple = field(default_factory=tuple)
    hidden_only: bool = False
    description: str = ""

    @property
    def module(self):
        """The student module the target lives in ("cs_lib.layers")."""
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
