"""The trusted runs the assignment contract judges (contract.py): one assignment's test cells, overlays,
the reference notebooks' exported variables, and one run per overlay of the reference, the starter, each
mutant and each round of alternatives -- all through the trusted grader, as grading runs a submission.

    bench = Bench(course, assignment, root, contract)
    bench.run_reference_notebooks()                      # the grading run; exports what stateful tests read
    summary = bench.execute(bench.mutant_run(variant))   # trusted_run's summary of the tests the mutant names
"""

import ast
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.common.sources import source_notebook
from autograder.grading.run.batch import grading_data_dir
from autograder.grading.run.overlay import compile_overlay, copy_overlay, grading_overlay
from autograder.grading.run.sandbox import bwrap_works
from autograder.grading.run.trusted_run import module_name, run_trusted, strip_hidden_tests, trusted_tests
from autograder.grading.trusted.sandboxed import wire
from autograder.instructor.authoring import graded_functions, make_stub
from autograder.instructor.demo import reference_files
from autograder.instructor.verify import report, run_source_notebooks
from cs_lib.notebook import NOT_SEEN

# seconds a test may take in a contract run (grading's cell timeout is 120 s): a mutant that makes a test
# hang loses its points after this long, as it would in grading
TEST_TIMEOUT = 60
VISIBLE = " (visible part)"


def visible_id(grade_id):
    """The grade id the visible part of a test (hidden region stripped, as released) runs under."""
    return grade_id + VISIBLE


@dataclass
class Run:
    name: str
    tests: list
    overlay: Path
    replacements: dict = field(default_factory=dict)  # {student file: source text} on top of overlay
    exports: dict = field(default_factory=dict)  # {grade id: exports file}
    extra_files: dict = field(default_factory=dict)  # {name: file handed in beside the notebook}


class Bench:
    """One assignment's test cells and overlays, built once; every Run goes through execute()."""

    def __init__(self, course, assignment, root, contract):
        self.course, self.assignment, self.root, self.contract = course, assignment, Path(root), contract
        self.references = {name: path for name, path in course.references().items() if name in assignment.student_files}
        self.invalid = set()  # variants whose declaration is broken (reported), never run
        self.hidden_kills = set()
        self.trusted_runs = 0
        self._lock = threading.Lock()
        self.data_dir = grading_data_dir()
        self.use_bwrap = bwrap_works()
        source, visible = self.root / "source", self.root / "visible"
        for folder in (source, visible):
            folder.mkdir(parents=True, exist_ok=True)
        for name in assignment.notebooks:
            notebook = source_notebook(assignment.source_notebook(name), course, assignment.id)
            nbformat.write(notebook, source / f"{name}.ipynb")
            nbformat.write(notebook, visible / f"{name}.ipynb")
            strip_hidden_tests(visible / f"{name}.ipynb")  # what the release holds
        self.tests = trusted_tests(source, assignment)
        self.by_id = {test["grade_id"]: test for test in self.tests}
        self.visible = {test["grade_id"]: test for test in trusted_tests(visible, assignment)}
        self.student_modules = {module_name(name) for name in assignment.student_files}
        stubs = {}
        for name, path in self.references.items():
            stubs[name] = self.root / "stubs" / name
            stubs[name].parent.mkdir(parents=True, exist_ok=True)
            stubs[name].write_text(make_stub(path.read_text(), str(path)))
        # what grading builds: this assignment's files as generated stubs, earlier ones' references
        self.base = compile_overlay(grading_overlay(self.root / "base", course, assignment, stubs))
        self.reference = compile_overlay(copy_overlay(self.base, self.root / "reference", self.references))
        self.exports = {}
        self.extra_files = {}

    # --- the reference notebooks -----------------------------------------------------------------

    def run_reference_notebooks(self, keep=None):
        """Run the notebooks as grading does (NBGRADER_EXECUTION set) and keep what their stateful tests read."""
        outbox = self.root / "outbox"
        outbox.mkdir(exist_ok=True)
        runs, self.exports = run_source_notebooks(
            self.course,
            self.assignment,
            self.reference,
            self.root / "notebook-work",
            grading=True,
            keep=keep,
            outbox=outbox,
        )
        ok, text = report(self.assignment, runs, grading=True)
        self.contract.notes += text.splitlines()[: len(runs)]
        if not ok:
            self.contract.problem("the reference's grading run of its notebooks does not hold:\n" + text)
        for name, run in runs:
            missing = [line for line in _output_lines(run.notebook) if line.startswith(NOT_SEEN)]
            if missing:
                self.contract.problem(f"the grading run of {name} does not show what its text states: {missing}")
        self.extra_files = reference_files(self.course, self.assignment, self.root)

    # --- runs ---------------------------------------------------------------------------------------

    def reference_run(self):
        return Run("reference", self.tests, self.reference, exports=dict(self.exports), extra_files=self.extra_files)

    def starter_run(self):
        return Run("starter", self.tests, self.base)

    def mutant_run(self, variant):
        tests = [self.by_id[gid] for gid in variant.fails]
        exports = {gid: path for gid, path in self.exports.items()}
        if variant.hidden_only:
            for gid in variant.fails:
                if gid in self.visible:
                    tests.append(dict(self.visible[gid], grade_id=visible_id(gid)))
                    if gid in self.exports:
                        exports[visible_id(gid)] = self.exports[gid]
        return self._variant_run(f"mutant-{variant.name}", [variant], tests, exports)

    def alternatives_run(self, name, variants):
        return self._variant_run(name, variants, self.tests, dict(self.exports))

    def _variant_run(self, name, variants, tests, exports):
        run = Run(name, tests, self.reference, exports=exports, extra_files=dict(self.extra_files))
        folder = self.root / "runs" / _safe(name)
        folder.mkdir(parents=True, exist_ok=True)
        for variant in variants:
            if variant.target_kind == "code":
                source = run.replacements.get(variant.student_file) or self.references[variant.student_file].read_text()
                run.replacements[variant.student_file] = variant.patched_source(source)
                continue
            try:
                if variant.target_kind == "notebook":
                    self._replace_variable(run, variant, folder)
                else:
                    self._replace_file(run, variant, folder)
            except Exception as error:  # noqa: BLE001 - the instructor's function is reported, never raised
                self.contract.problem(f"{variant.kind} {variant.name} raised {type(error).__name__}: {error}")
                self.invalid.add(variant.name)
        return run

    def _replace_variable(self, run, variant, folder):
        for test in run.tests:
            reference = self.exports.get(test["grade_id"].removesuffix(VISIBLE))
            if variant.subject not in test["reads"] or reference is None or not Path(reference).is_file():
                continue
            values, _ = wire.read_exports(reference)
            if variant.subject in values:
                values[variant.subject] = variant.function(values[variant.subject])
            path = folder / f"exports-{_safe(test['grade_id'])}.bin"
            wire.export_names(values, list(test["reads"]), path)
            run.exports[test["grade_id"]] = path

    def _replace_file(self, run, variant, folder):
        original = self.extra_files.get(variant.subject)
        data = Path(original).read_bytes() if original else b""
        path = folder / "extra" / variant.subject
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(variant.function(data)))
        run.extra_files[variant.subject] = path

    def execute(self, run):
        """The trusted grader's summary of run.tests against run's overlay (one runner, one call server)."""
        folder = self.root / "runs" / _safe(run.name)
        overlay = run.overlay
        if run.replacements:
            files = {}
            for name, text in run.replacements.items():
                files[name] = folder / "files" / name
                files[name].parent.mkdir(parents=True, exist_ok=True)
                files[name].write_text(text)
            overlay = copy_overlay(run.overlay, folder / "overlay", files)
        try:
            return run_trusted(
                run.tests,
                student_modules=self.student_modules,
                student_overlay=overlay,
                trusted_overlay=self.base,
                data_dir=self.data_dir,
                scratch=folder / "scratch",
                use_bwrap=self.use_bwrap,
                timeout=TEST_TIMEOUT,
                exports=run.exports,
                extra_files=run.extra_files,
                changes_in_place=self.course.changes_in_place,
                max_extra_file_bytes=self.assignment.max_extra_file_bytes,
            )
        finally:
            with self._lock:
                self.trusted_runs += 1
            if run.replacements:
                shutil.rmtree(folder / "overlay", ignore_errors=True)

    # --- hints -------------------------------------------------------------------------------------

    def _imports(self, test):
        """{(module, name)} a test cell imports from student modules."""
        try:
            tree = ast.parse(test["source"])
        except SyntaxError:
            return set()
        return {
            (node.module, alias.name)
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module in self.student_modules
            for alias in node.names
        }

    def graded(self):
        """[(module, "f" or "Class.method")] of every graded function of the assignment's student files."""
        found = []
        for name, path in self.references.items():
            module = module_name(name)
            found += [(module, function) for function in graded_functions(path.read_text(), str(path))]
        return found

    def _match(self, test, module, function):
        """How surely a test checks a graded function: 2 imports it (or its class and calls the method),
        1 calls a method of that name, 0 neither."""
        imported = self._imports(test)
        top, _, method = function.partition(".")
        calls = bool(method) and re.search(rf"\.{re.escape(method)}\(", test["source"]) is not None
        if (module, top) in imported and (not method or calls):
            return 2
        return 1 if calls else 0

    def suggested_target(self, test):
        """The mutant target a test most likely checks: a graded function it uses, else what it reads."""
        ranked = sorted(((self._match(test, *graded), index, graded) for index, graded in enumerate(self.graded())))
        ranked = [item for item in ranked if item[0] > 0]
        if ranked:
            best = max(score for score, _, _ in ranked)
            module, function = next(graded for score, _, graded in ranked if score == best)
            return f"{module}.{function}"
        if test["reads"]:
            return f"notebook:{test['reads'][0]}"
        if self.assignment.extra_files:
            return f"file:{self.assignment.extra_files[0]}"
        return f"{sorted(self.student_modules)[0]}.<the function it checks>"

    def tests_checking(self, module, function):
        """The test cells that most likely check a graded function (best matches first)."""
        ranked = [(self._match(test, module, function), index, test) for index, test in enumerate(self.tests)]
        best = max((score for score, _, _ in ranked), default=0)
        return [test for score, _, test in ranked if best and score == best]


def _safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:80]


def _output_lines(notebook):
    """Every line of text the executed notebook's cells printed."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "") or output.get("data", {}).get("text/plain", "")
            yield from (line.strip() for line in str(text).splitlines())
