"""What `similarity` costs for a class: every pair of A1 submissions compared, 150 to 600 synthetic students.

    .venv/bin/python benchmarks/bench_similarity.py [--students 150,300,600] [--copies 6] [--json out.json]

Synthetic students (tests/similarity_batch.py): each graded function written in one of three independent
variants, chosen at random per student and function, and every student's code made their own by
statements inserted at random (a check, a print, a loop, a temporary) between its lines, as independent
students' code differs; `--copies` students copy another's work and disguise it (renamed, reordered,
recommented, respaced or all four). Timed: `find_similar` (what `python -m autograder similarity` runs,
without the gradebook write), by step: boilerplate, documents and fingerprints (one per student),
screening (set intersections, every pair), copydetect's comparison (the screened-in pairs), naming the
functions of flagged pairs, the report page.

Baseline: copydetect comparing every pair itself (CopyDetector's all-pairs loop, compare_files on each),
projected from a sample of pairs of the largest batch. Growth: fingerprints grow with n, the screening
and the all-pairs baseline with n(n-1)/2; the projection to 1200 and 2400 students uses the per-student
and per-pair CPU costs measured at the largest n. The process's imports (nbformat's validator alone takes
seconds here) are outside the timings. Wall and CPU seconds are both shown: on a shared machine the wall
time also holds other people's work. No assertions: the numbers depend on the machine.
"""

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

INSERT_SHARE = 0.6  # of a body's lines that get a statement of the student's own after them
INSERTS = (
    "assert {a} >= 0, 'check {b}'",
    "_trace_{b} = ({a}, {b}, None)",
    "if {a} > {b}:\n    print('checkpoint', {a}, {b})",
    "for _ in range({a}):\n    pass",
    "history_{b} = [{a}] * {b}",
    "print('step', {b}, 'of', {a})",
)


def mutation(seed):
    """mutate(function, body): the body with a statement of the student's own after INSERT_SHARE of its lines."""

    def mutate(function, body):
        rng = random.Random(f"{seed}/{function}")
        out = []
        depth = 0  # open brackets: a statement goes only between whole statements
        for line in body.splitlines():
            out.append(line)
            stripped = line.strip()
            depth += sum(stripped.count(c) for c in "([{") - sum(stripped.count(c) for c in ")]}")
            if depth == 0 and stripped and not stripped.endswith((":", "\\")) and not stripped.startswith("return"):
                if rng.random() < INSERT_SHARE:
                    indent = line[: len(line) - len(line.lstrip())]
                    statement = rng.choice(INSERTS).format(a=rng.randrange(2, 90), b=rng.randrange(2, 90))
                    out += [indent + part for part in statement.splitlines()]
        return "\n".join(out) + "\n"

    return mutate


def build_batch(folder, count, copies, seed=0):
    """A course folder with A1's release and `count` submissions; returns {copier: (source, disguise)}."""
    import nbformat
    import similarity_batch as batch

    from autograder.common import paths

    course_dir = Path(folder)
    (course_dir / "release" / "a1").mkdir(parents=True)
    shutil.copy(paths.ASSIGNMENTS / "a1" / "linear_classifiers.ipynb", course_dir / "release" / "a1")
    release = nbformat.read(str(course_dir / "release" / "a1" / "linear_classifiers.ipynb"), as_version=4)
    rng = random.Random(seed)
    functions = [*batch.VARIANTS, *batch.CELL_VARIANTS]
    students = {}
    for index in range(count):
        students[f"s{index:04d}"] = ({f: rng.randrange(batch.NUMBER_OF_VARIANTS) for f in functions}, index, None)
    planted = {}
    chosen = rng.sample(sorted(students), 2 * copies)
    for copier, source in zip(chosen[:copies], chosen[copies:]):
        disguise = rng.choice(batch.DISGUISES)
        variant, mutate_seed, _ = students[source]
        students[copier] = (variant, mutate_seed, disguise)
        planted[copier] = (source, disguise)
    for student, (variant, mutate_seed, disguise) in students.items():
        mutate = mutation(mutate_seed)
        files = batch.student_files(variant, disguise, mutate=mutate)
        cells = batch.solution_cells(release, variant, disguise, mutate=mutate)
        batch.write_submission(course_dir, student, files, batch.solved_release(release, cells))
    return planted


def all_pairs_seconds_per_pair(course_dir, result, sample=3000, seed=1):
    """copydetect's compare_files on a random sample of pairs: what its all-pairs loop costs per pair."""
    import itertools

    from copydetect import compare_files

    from autograder.grading.report.similarity import _fingerprint, boilerplate_hashes

    boilerplate_dir = course_dir / "similarity" / "a1" / "boilerplate"
    boilerplate = boilerplate_hashes(path.read_text() for path in sorted(boilerplate_dir.iterdir()))
    code_dir = course_dir / "similarity" / "a1" / "code"
    fingerprints = [_fingerprint(code_dir / f"{student}.py", boilerplate) for student in result.students]
    pairs = list(itertools.combinations(range(len(fingerprints)), 2))
    chosen = random.Random(seed).sample(pairs, min(sample, len(pairs)))
    start = time.process_time()
    for i, j in chosen:
        compare_files(fingerprints[i], fingerprints[j])
    return (time.process_time() - start) / len(chosen)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", default="150,300,600")
    parser.add_argument("--copies", type=int, default=6)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from autograder.common.course import load_course
    from autograder.grading.report.similarity import find_similar

    course = load_course()
    sizes = [int(n) for n in args.students.split(",")]
    runs = []
    work = Path(tempfile.mkdtemp(prefix="bench-similarity-"))
    try:
        for count in sizes:
            course_dir = work / f"course-{count}"
            planted = build_batch(course_dir, count, min(args.copies, count // 2))
            start, cpu = time.perf_counter(), time.process_time()
            result = find_similar(course_dir, course, "a1")
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            pairs = {frozenset((p.first.student, p.second.student)) for p in result.pairs}
            found = sum(frozenset((copier, source)) in pairs for copier, (source, _) in planted.items())
            run = {
                "students": count,
                "pairs": count * (count - 1) // 2,
                "seconds": wall,
                "cpu seconds": cpu,
                "steps": result.seconds,
                "cpu steps": result.cpu_seconds,
                "compared": result.compared,
                "flagged": len(result.pairs),
                "planted copies found": f"{found} of {len(planted)}",
                "report bytes": result.report.stat().st_size,
            }
            if count == sizes[-1]:
                run["all-pairs seconds per pair"] = all_pairs_seconds_per_pair(course_dir, result)
            runs.append(run)
            steps = ", ".join(f"{name} {value:.1f} s" for name, value in result.cpu_seconds.items())
            print(
                f"{count} students ({run['pairs']} pairs): {wall:.1f} s wall, {cpu:.1f} s CPU [CPU: {steps}]; "
                f"{result.compared} pairs compared "
                f"by copydetect, {len(result.pairs)} flagged, planted copies found {run['planted copies found']}, "
                f"report {run['report bytes'] / 1e6:.2f} MB",
                flush=True,
            )
            shutil.rmtree(course_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    # projections from CPU seconds: the work is one process on one core, and on a shared machine the wall
    # time also holds other people's work (on an idle one the two agree)
    largest = runs[-1]
    n = largest["students"]
    steps = largest["cpu steps"]
    per_student = steps["documents and fingerprints"] / n
    per_pair = steps["screening"] / largest["pairs"]
    fixed = largest["cpu seconds"] - per_student * n - per_pair * largest["pairs"]
    baseline_per_pair = largest["all-pairs seconds per pair"]
    baseline = per_student * n + baseline_per_pair * largest["pairs"]
    print(
        f"\nbaseline, copydetect comparing all {largest['pairs']} pairs itself: {baseline_per_pair * 1e3:.2f} ms CPU a "
        f"pair (sampled), {baseline:.0f} s CPU for {n} students with the same fingerprints; similarity took "
        f"{largest['cpu seconds']:.0f} s CPU ({largest['seconds']:.0f} s wall): {baseline / largest['cpu seconds']:.1f}x "
        "less"
    )
    if len(runs) > 1:
        first = runs[0]
        print(
            f"growth {first['students']} -> {n} students ({n / first['students']:.0f}x): CPU time "
            f"{largest['cpu seconds'] / first['cpu seconds']:.1f}x, fingerprints "
            f"{steps['documents and fingerprints'] / first['cpu steps']['documents and fingerprints']:.1f}x, "
            f"screening {steps['screening'] / max(first['cpu steps']['screening'], 1e-9):.1f}x "
            f"(pairs {largest['pairs'] / first['pairs']:.1f}x)"
        )
    print(f"per student {per_student * 1e3:.0f} ms (fingerprints), per pair {per_pair * 1e6:.1f} us (screening), CPU")
    for projected in (1200, 2400):
        pairs = projected * (projected - 1) // 2
        ours = fixed + per_student * projected + per_pair * pairs
        theirs = per_student * projected + baseline_per_pair * pairs
        print(f"projected {projected} students: similarity {ours:.0f} s, all-pairs copydetect {theirs:.0f} s (CPU)")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs}, indent=1))


if __name__ == "__main__":
    main()
