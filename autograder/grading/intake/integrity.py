"""A static scan of submitted code for attempts to tamper with grading.

Student code runs in the same Python process as the tests that check it, so code that rebinds
numpy or the check helpers, reaches into interpreter internals or executes generated code could
make a failing test look like a pass. Such code has no place in the assignments: the scan reads
(never runs) every student module and every code cell a student can edit, and a submission with
findings is graded but its automatic points are withheld and marked for manual review.
"""

import ast
from dataclasses import dataclass

import nbformat

DANGEROUS_MODULES = {"ctypes", "gc", "cffi", "importlib", "builtins", "marshal", "pickletools", "_ctypes"}
# builtins that matter when called by their bare name (model.eval() and model.compile() are fine)
DANGEROUS_BUILTINS = {
    "exec": "runs generated code",
    "eval": "runs generated code",
    "compile": "compiles generated code",
    "__import__": "imports by computed name",
    "setattr": "rebinds attributes by name",
    "delattr": "deletes attributes by name",
    "globals": "edits module globals",
    "get_ipython": "reaches into the notebook kernel",
}
# module functions that matter when called as an attribute (sys._getframe(), os.system())
DANGEROUS_ATTRIBUTE_CALLS = {
    "_getframe": "reads interpreter frames",
    "currentframe": "reads interpreter frames",
    "settrace": "installs a tracer",
    "setprofile": "installs a profiler hook",
    "system": "runs a shell command",
    "get_ipython": "reaches into the notebook kernel",
}
# rebinding these changes how other code runs; reading the last four reaches into the interpreter
SENSITIVE_ATTRIBUTES = {
    "__dict__",
    "__class__",
    "excepthook",
    "__globals__",
    "__code__",
    "__builtins__",
    "__subclasses__",
}
SENSITIVE_READS = {"__globals__", "__code__", "__builtins__", "__subclasses__"}


@dataclass(frozen=True)
class Finding:
    where: str
    line: int
    what: str

    def __str__(self):
        return f"{self.where}:{self.line}: {self.what}"


def _root_name(node):
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


class _Scanner(ast.NodeVisitor):
    def __init__(self, where):
        self.where = where
        self.findings = []
        self.modules = set()

    def flag(self, node, what):
        self.findings.append(Finding(self.where, getattr(node, "lineno", 0), what))

    def visit_Import(self, node):
        for alias in node.names:
            self.modules.add((alias.asname or alias.name).split(".")[0])
            if alias.name.split(".")[0] in DANGEROUS_MODULES:
                self.flag(node, f"imports {alias.name}")
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        module = (node.module or "").split(".")[0]
        for alias in node.names:
            self.modules.add(alias.asname or alias.name)
        if module in DANGEROUS_MODULES:
            self.flag(node, f"imports from {node.module}")
        self.generic_visit(node)

    def _check_target(self, target, node):
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._check_target(element, node)
            return
        if isinstance(target, ast.Attribute):
            root = _root_name(target)
            if root in self.modules:
                self.flag(node, f"rebinds {ast.unparse(target)} in an imported module")
            elif target.attr in SENSITIVE_ATTRIBUTES:
                self.flag(node, f"assigns to {ast.unparse(target)}")
        elif isinstance(target, ast.Subscript) and _root_name(target) in self.modules:
            self.flag(node, f"assigns into {ast.unparse(target)}")
        elif isinstance(target, ast.Subscript) and "modules" in ast.unparse(target.value):
            self.flag(node, f"assigns into {ast.unparse(target.value)}")

    def visit_Assign(self, node):
        for target in node.targets:
            self._check_target(target, node)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self._check_target(node.target, node)
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        self._check_target(node.target, node)
        self.generic_visit(node)

    def visit_Delete(self, node):
        for target in node.targets:
            if isinstance(target, ast.Attribute) and _root_name(target) in self.modules:
                self.flag(node, f"deletes {ast.unparse(target)}")
        self.generic_visit(node)

    def visit_Global(self, node):
        self.generic_visit(node)

    def visit_Call(self, node):
        function = node.func
        if isinstance(function, ast.Name) and function.id in DANGEROUS_BUILTINS:
            self.flag(node, f"calls {function.id}() ({DANGEROUS_BUILTINS[function.id]})")
        elif isinstance(function, ast.Attribute) and function.attr in DANGEROUS_ATTRIBUTE_CALLS:
            self.flag(node, f"calls {ast.unparse(function)}() ({DANGEROUS_ATTRIBUTE_CALLS[function.attr]})")
        self.generic_visit(node)

    def visit_Attribute(self, node):
        if node.attr in SENSITIVE_READS and isinstance(node.ctx, ast.Load):
            self.flag(node, f"reads {ast.unparse(node)}")
        if node.attr == "modules" and _root_name(node) == "sys":
            self.flag(node, "uses sys.modules")
        self.generic_visit(node)


def scan_source(source, where, course_lines=frozenset()):
    """Findings in one piece of Python source (a syntax error is not a finding: it just fails).

    Lines the course itself wrote (course_lines: the starter stub's lines) are never findings.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    scanner = _Scanner(where)
    scanner.visit(tree)
    lines = source.splitlines()
    return [f for f in scanner.findings if not (0 < f.line <= len(lines) and lines[f.line - 1].strip() in course_lines)]


def _cell_python(source):
    """IPython cell source as plain Python (magics and !shell lines become get_ipython() calls)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # a cell IPython cannot parse fails at run time; nothing to scan here
        return source


def scan_notebook(path, name, release_sources=None):
    """Findings in every code cell a student wrote or changed.

    Locked and test cells are skipped (grading restores them) and so are cells whose source is
    still exactly the release's (release_sources: {cell id: source}), which is the course's code.
    """
    release_sources = release_sources or {}
    try:
        notebook = nbformat.read(str(path), as_version=4)
    except Exception:  # an unreadable notebook scores zero anyway
        return []
    findings = []
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("locked") or (meta.get("grade") and not meta.get("solution")):
            continue
        if cell.get("id") in release_sources and release_sources[cell.get("id")] == cell.get("source", ""):
            continue
        findings += scan_source(_cell_python(cell.get("source", "")), f"{name} cell {index + 1}")
    return findings


def scan_submission(notebooks, student_files, release_sources=None, stubs=None):
    """notebooks: {name: path}; student_files: {"cs_lib/...": path}; release_sources: {name: {cell id: source}};
    stubs: {"cs_lib/...": the course's starter stub text}, whose lines are never findings."""
    release_sources = release_sources or {}
    stubs = stubs or {}
    findings = []
    for name, path in sorted(student_files.items()):
        try:
            source = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        course_lines = frozenset(line.strip() for line in stubs.get(name, "").splitlines() if line.strip())
        findings += scan_source(source, name, course_lines)
    for name, path in sorted(notebooks.items()):
        findings += scan_notebook(path, name, release_sources.get(name))
    return findings
