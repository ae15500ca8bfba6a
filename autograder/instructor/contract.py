"""The assignment contract: what every assignment in course.toml must satisfy, however new.

    contract = check_assignment(course, "a3")      # runs everything below; contract.problems == [] when it holds
    print(contract.text())

tests/test_contract.py runs it for every assignment of the course, and `python -m autograder verify`
for the ones named. The assignment must show that
1. its sources pass the course's lint rules, cell by cell (lint.py);
2. the reference scores full marks: its notebooks' grading run (NBGRADER_EXECUTION set) passes every
   test within grading_time_budget and shows every effect its text states, and every test cell scores
   full points in the trusted grader (stateful ones judging the variables that run exported);
3. the starter (the stubs `release` generates) scores 0 on every test, each with a reason;
4. every test cell is killed: each mutant of solutions/<id>/mutants.py makes every test it names lose
   points, every test cell is named by a mutant, and every graded function (a function holding a
   solution region) is the target of one; at least one mutant is caught by a hidden part only (the
   visible part passes, the whole test fails, with a reason the feedback page can show);
5. each alternative keeps full marks on every test.
Trusted runs are batched: one runner and call server per overlay, a mutant runs only the tests it names
(and their visible parts when hidden_only), alternatives with different targets share a run, and runs
go in parallel (`jobs`).
"""

import os
import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from autograder.common import paths
from autograder.common.course import CourseError
from autograder.instructor import contract_runs
from autograder.instructor.authoring import graded_functions
from autograder.instructor.lint import lint_assignment
from autograder.instructor.mutants import defined_names, load_variants

# an exception type alone (or nothing) does not tell a student what went wrong
GENERIC = re.compile(r"^\s*(\w*(Error|Exception)\s*:?\s*)?$")


@dataclass
class Contract:
    assignment: str
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.problems

    def problem(self, text):
        self.problems.append(f"{self.assignment}: {text}")

    def text(self):
        count = len(self.problems)
        status = "holds" if self.ok else f"FAILED ({count} problem{'s' if count != 1 else ''})"
        lines = [f"{self.assignment}: contract {status}"]
        lines += [f"  {line}" for line in self.notes]
        lines += [f"  - {line}" for line in self.problems]
        return "\n".join(lines)


def shown(path):
    """A path as an instructor types it: relative to the working folder or the repository when inside."""
    path = Path(path).resolve()
    for root in (Path.cwd().resolve(), paths.REPO_ROOT):
        if path.is_relative_to(root):
            return path.relative_to(root).as_posix()
    return str(path)


def mutants_file(course, assignment):
    return Path(course.root) / assignment.id / "mutants.py"


def default_jobs():
    """Parallel trusted runs: the cores, shared with the other pytest-xdist workers when there are some."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
    return max(1, (os.cpu_count() or 1) // workers)


def specific(message):
    return bool(message) and not GENERIC.match(message)


def check_assignment(course, assignment_id, jobs=None, workspace=None, lint=True, log=None, keep=None):
    """The assignment's Contract: every problem found, each naming what to change (keep: a folder for the
    executed notebooks of the grading run)."""
    assignment = course.assignment(assignment_id)
    contract = Contract(assignment.id)
    log = log or (lambda text: None)
    root = Path(workspace or tempfile.mkdtemp(prefix=f"contract-{assignment.id}-", dir=_scratch()))
    started = time.monotonic()
    try:
        if lint:
            contract.problems += [f"{assignment.id}: lint: {line}" for line in lint_assignment(course, assignment)]
        variants = _variants(course, assignment, contract)
        try:
            bench = contract_runs.Bench(course, assignment, root, contract)
        except CourseError as error:  # a source the course cannot read: nothing else can be judged
            contract.problem(str(error))
            return contract
        _check_declarations(bench, variants, contract)
        log(f"{assignment.id}: running the reference notebooks (grading run)")
        try:
            bench.run_reference_notebooks(keep=keep)
        except (CourseError, subprocess.CalledProcessError) as error:
            contract.problem(f"the reference's notebooks could not be run: {error}")
        # the reference runs alone, so that its time is measured as grading would see it
        reference = bench.execute(bench.reference_run())
        runs = [bench.starter_run()]
        # building a run calls notebook: and file: variants' functions; one that raises is reported and left out
        planned = {v.name: bench.mutant_run(v) for v in variants if v.kind == "mutant" and v.name not in bench.invalid}
        for variant in variants:
            if variant.kind == "alternative" and variant.name not in bench.invalid:
                bench.alternatives_run(f"alternative-{variant.name}", [variant])
        mutants = [v for v in variants if v.kind == "mutant" and v.name not in bench.invalid]
        runs += [planned[variant.name] for variant in mutants]
        alternatives = [v for v in variants if v.kind == "alternative" and v.name not in bench.invalid]
        rounds = _rounds(alternatives)
        runs += [bench.alternatives_run(f"alternatives-{index}", group) for index, group in enumerate(rounds)]
        log(f"{assignment.id}: {len(runs)} trusted runs ({len(mutants)} mutants, {len(alternatives)} alternatives)")
        results = _run_all(bench, runs, jobs)
        _judge_reference(bench, reference, contract)
        _judge_starter(bench, results["starter"], contract)
        passing = {gid for gid, result in reference["tests"].items() if result["passed"]}
        killed = set()
        for variant in mutants:
            killed |= _judge_mutant(bench, variant, results[f"mutant-{variant.name}"], passing, contract)
        retry = []
        for index, group in enumerate(rounds):
            lost = _lost(results[f"alternatives-{index}"], passing)
            if lost and len(group) > 1:
                retry += group
            elif lost:
                _alternative_problem(group[0], lost, contract)
        if retry:  # a shared run lost points: find which alternatives did
            singles = [bench.alternatives_run(f"alternative-{variant.name}", [variant]) for variant in retry]
            again = _run_all(bench, singles, jobs)
            for variant in retry:
                lost = _lost(again[f"alternative-{variant.name}"], passing)
                if lost:
                    _alternative_problem(variant, lost, contract)
        _check_coverage(course, bench, variants, mutants, killed, contract)
        contract.notes.append(
            f"{_count(bench.tests, 'test cell')}, {_count(mutants, 'mutant')}, {_count(alternatives, 'alternative')}, "
            f"{bench.trusted_runs} trusted runs, {time.monotonic() - started:.1f} s"
        )
    finally:
        if workspace is None:
            shutil.rmtree(root, ignore_errors=True)
    return contract


def _count(items, noun):
    return f"{len(items)} {noun}{'s' if len(items) != 1 else ''}"


def _scratch():
    from autograder.grading.run.worker import scratch_root

    return scratch_root()


def _variants(course, assignment, contract):
    path = mutants_file(course, assignment)
    if not path.is_file():
        contract.problem(
            f"no mutants file {shown(path)}: declare there the plausible wrong versions of the graded functions "
            "that its tests must catch, and valid alternatives they must accept (solutions/AUTHORING.md, "
            '"Mutants"): from autograder.instructor.mutants import alternative, mutant'
        )
        return []
    try:
        variants = load_variants(path)
    except Exception as error:  # noqa: BLE001 - an instructor's file that does not load is reported, not raised
        contract.problem(f"{shown(path)} does not load: {type(error).__name__}: {error}")
        return []
    return [variant.located(assignment.student_files) for variant in variants]


def _check_declarations(bench, variants, contract):
    """Targets that exist, tests that exist, sources that compile: a broken declaration kills nothing."""
    where = shown(mutants_file(bench.course, bench.assignment))
    tests = {test["grade_id"]: test for test in bench.tests}
    names = [variant.name for variant in variants]
    for name in sorted({name for name in names if names.count(name) > 1}):
        contract.problem(f"{where}: two declarations are named {name}")
    for variant in variants:
        label = f"{variant.kind} {variant.name} ({where})"
        unknown = [gid for gid in variant.fails if gid not in tests]
        if unknown:
            known = ", ".join(sorted(tests))
            bench.invalid.add(variant.name)
            contract.problem(f"{label} names tests that do not exist: {unknown}; the test cells are {known}")
        if variant.target_kind == "notebook":
            readers = [gid for gid, test in tests.items() if variant.subject in test["reads"]]
            if not readers:
                bench.invalid.add(variant.name)
                contract.problem(f"{label}: no test cell reads the notebook variable {variant.subject!r} (reads=[...])")
            continue
        if variant.target_kind == "file":
            if variant.subject not in bench.assignment.extra_files:
                bench.invalid.add(variant.name)
                contract.problem(
                    f"{label}: {variant.subject!r} is not one of the assignment's extra_files "
                    f"{list(bench.assignment.extra_files)}"
                )
            continue
        reference = bench.references.get(variant.student_file)
        if variant.student_file not in bench.assignment.student_files or reference is None:
            bench.invalid.add(variant.name)
            contract.problem(
                f"{label}: the target {variant.target} is not in a student file of {bench.assignment.id} "
                f"({', '.join(bench.assignment.student_files)})"
            )
            continue
        source = reference.read_text()
        if variant.attribute not in defined_names(source):
            bench.invalid.add(variant.name)
            contract.problem(f"{label}: the target {variant.target} is not defined in {shown(reference)}")
            continue
        try:
            compile(variant.patched_source(source), variant.student_file, "exec")
        except SyntaxError as error:
            bench.invalid.add(variant.name)
            contract.problem(f"{label}: the patched {variant.student_file} does not compile: {error}")


def _rounds(alternatives):
    """Groups of alternatives with pairwise different targets (each group shares one trusted run)."""
    rounds = []
    for variant in alternatives:
        for group in rounds:
            if all(other.target != variant.target for other in group):
                group.append(variant)
                break
        else:
            rounds.append([variant])
    return rounds


def _run_all(bench, runs, jobs):
    with ThreadPoolExecutor(max_workers=max(1, jobs or default_jobs())) as pool:
        results = list(pool.map(bench.execute, runs))
    return {run.name: result for run, result in zip(runs, results)}


def _lost(summary, passing):
    """{grade id: message} of the tests the reference passes and this run lost points on."""
    return {
        gid: result.get("message", "")
        for gid, result in summary["tests"].items()
        if gid in passing and result.get("score", 0) < result.get("points", 0)
    }


def _judge_reference(bench, summary, contract):
    budget = bench.assignment.grading_time_budget
    for gid, result in summary["tests"].items():
        if not result["passed"]:
            contract.problem(f"the reference fails test {gid!r} in the trusted grader: {result['message']}")
        elif not result.get("checked"):
            contract.problem(f"test {gid!r} names nothing it checked: use cs_lib.checks (check_close, check_true, ...)")
    if summary.get("failure"):
        contract.problem(f"the trusted grader failed on the reference: {summary['failure']}")
    if summary.get("restarts"):
        contract.problem(f"the call server restarted {summary['restarts']} times on the reference")
    if summary.get("seconds", 0) > budget:
        contract.problem(
            f"the trusted grader took {summary['seconds']:.1f} s on the reference, over grading_time_budget "
            f"({budget} s, in course.toml)"
        )
    contract.notes.append(f"reference: trusted grader {summary.get('seconds', 0):.1f} s (budget {budget} s)")


def _judge_starter(bench, summary, contract):
    for gid, result in summary["tests"].items():
        if result.get("score", 0) > 0 or result.get("passed"):
            contract.problem(
                f"the starter (the stubs release generates) scores on test {gid!r}: its checks pass unwritten code"
            )
        elif not result.get("message", "").strip():
            contract.problem(f"test {gid!r} fails the starter without a reason: give its checks messages")


def _judge_mutant(bench, variant, summary, passing, contract):
    """The tests this mutant verifiably kills; problems for claims that do not hold."""
    label = f"mutant {variant.name} ({variant.description or variant.target})"
    killed = set()
    for gid in variant.fails:
        result = summary["tests"].get(gid, {})
        if gid not in passing:
            continue  # the reference fails it already (reported): a kill would prove nothing
        if result.get("score", 0) < result.get("points", 0):
            killed.add(gid)
        else:
            contract.problem(
                f"{label} keeps full marks on test {gid!r}: the test does not catch it. Add a check that does "
                f"(a hidden one if students should not see the case), or drop {gid!r} from its fails"
            )
    if not variant.hidden_only:
        return killed
    for gid in variant.fails:
        visible = summary["tests"].get(contract_runs.visible_id(gid), {})
        if gid not in passing or not visible:
            continue
        if not visible.get("passed"):
            contract.problem(
                f"{label} is declared hidden_only, but the visible part of test {gid!r} already catches it "
                f"({visible.get('message', '')}): drop hidden_only=True, or choose a mutant only the hidden part catches"
            )
            killed.discard(gid)
        elif gid in killed and not specific(summary["tests"][gid].get("message", "")):
            contract.problem(
                f"{label} loses test {gid!r} in its hidden part with the reason {summary['tests'][gid].get('message')!r}, "
                "which tells a student nothing: give the hidden check a message (check_true(..., 'what was wrong'))"
            )
            killed.discard(gid)
    if killed:
        bench.hidden_kills.add(variant.name)
    return killed


def _alternative_problem(variant, lost, contract):
    for gid, message in lost.items():
        contract.problem(
            f"alternative {variant.name} ({variant.description or variant.target}) loses points on test {gid!r}: "
            f"{message}. A valid solution must keep full marks: loosen the check, or correct the alternative"
        )


def _check_coverage(course, bench, variants, mutants, killed, contract):
    where = shown(mutants_file(course, bench.assignment))
    claimed = {gid for variant in mutants for gid in variant.fails}
    for test in bench.tests:
        if test["grade_id"] not in claimed:
            target = bench.suggested_target(test)
            contract.problem(
                f"no mutant fails test {test['grade_id']!r} — add one to {where}: "
                f"@mutant({target!r}, fails=[{test['grade_id']!r}])"
            )
    if mutants and not bench.hidden_kills:
        contract.problem(
            f"no mutant is caught by a hidden part only — declare one in {where} whose wrong case only the hidden "
            "tests hold: @mutant(..., fails=[...], hidden_only=True)"
        )
    targeted = _targets_of_other_assignments(course, bench.assignment)
    targeted |= {
        (variant.student_file, variant.attribute)
        for variant in variants
        if variant.kind == "mutant" and variant.target_kind == "code"
    }
    for name in bench.assignment.student_files:
        reference = bench.references.get(name)
        if reference is None:
            continue
        module = name.removesuffix(".py").replace("/", ".")
        for function in graded_functions(reference.read_text(), str(reference)):
            if (name, function) in targeted:
                continue
            tests = bench.tests_checking(module, function)
            fails = [test["grade_id"] for test in tests[:1]] or ["<the test cell that checks it>"]
            hint = "" if tests else " (no test cell imports it: write one that checks it first)"
            contract.problem(
                f"no mutant replaces {module}.{function}, a graded function of {shown(reference)}{hint} — add one to "
                f"{where}: @mutant({module + '.' + function!r}, fails={fails!r})"
            )


def _targets_of_other_assignments(course, assignment):
    """(student file, attribute) that mutants of the other assignments sharing a student file replace."""
    found = set()
    for other in course.assignments:
        if other.id == assignment.id or not set(other.student_files) & set(assignment.student_files):
            continue
        try:
            variants = load_variants(mutants_file(course, other))
        except Exception:  # noqa: BLE001 - that assignment's own contract reports its broken file
            continue
        for variant in variants:
            located = variant.located(other.student_files)
            if located.kind == "mutant" and located.target_kind == "code":
                found.add((located.student_file, located.attribute))
    return found
