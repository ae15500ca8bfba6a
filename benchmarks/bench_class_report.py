"""How large the class report page is, and how long it takes to draw, for a class of 600 on A1.

    .venv/bin/python benchmarks/bench_class_report.py [--students 600]

The page is drawn (autograder.grading.report.class_report.render) from synthetic class data shaped like a
graded A1: the release notebook's tests and written answers with their points, totals spread over the
points, one student in ten late, every written answer waiting for a TA, grading times around A1's, and
a dozen flagged pairs. Baseline: the same page for a class of 60. Reading the gradebook (what `report`
also does) is not timed here. No assertions on the numbers.
"""

import argparse
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def synthetic_class(count, seed=0):
    import nbformat

    from autograder.common import paths
    from autograder.common.sources import notebook_tests
    from autograder.grading.report.class_report import ClassData, TestRate, high_scorers

    release = nbformat.read(str(paths.ASSIGNMENTS / "a1" / "linear_classifiers.ipynb"), as_version=4)
    graded = notebook_tests(release)
    rng = random.Random(seed)
    students = [f"student{index:04d}" for index in range(count)]
    maximum = float(sum(points for _, points, _ in graded))
    totals = {
        student: round(min(maximum, max(0.0, rng.gauss(0.75 * maximum, 0.15 * maximum))), 1) for student in students
    }
    cut, high = high_scorers(totals)
    tests = []
    for grade_id, points, kind in graded:
        if kind != "test":
            continue
        passed = rng.randrange(count // 2, count)
        tests.append(
            TestRate(
                f"linear_classifiers:{grade_id}",
                float(points),
                passed,
                count,
                rng.randrange(len(high) // 2, len(high) + 1),
                len(high),
            )
        )
    pending = {
        f"linear_classifiers:{grade_id}": {"students": list(students), "points": float(points) * count}
        for grade_id, points, kind in graded
        if kind != "test"
    }
    late = [(student, rng.uniform(60, 5 * 86400), 1.0) for student in rng.sample(students, count // 10)]
    seconds = {student: rng.uniform(8, 20) for student in students}
    pairs = [
        {
            "student": a,
            "other": b,
            "overlap": 0.9,
            "other_overlap": 0.8,
            "function": "svm_loss_vectorized",
            "function_overlap": 0.95,
        }
        for a, b in zip(rng.sample(students, 12), rng.sample(students, 12))
        if a < b
    ]
    return ClassData(
        "a1", "Linear classifiers", count, totals, maximum, cut, high, tests, pending, late, seconds, pairs
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=600)
    args = parser.parse_args()

    from autograder.grading.report.class_report import render
    from autograder.grading.report.feedback_html import active_content

    active_content(render(synthetic_class(30)))  # the first page pays for imports
    sizes = {}
    for count in (60, args.students):
        data = synthetic_class(count)
        start = time.perf_counter()
        page = render(data)
        problems = active_content(page)
        sizes[count] = (len(page.encode()), time.perf_counter() - start)
        if problems:
            raise SystemExit(f"the page has active content: {problems[0]}")
    (small, small_time), (large, large_time) = sizes[60], sizes[args.students]
    print(f"class of 60: {small / 1024:.0f} KiB in {small_time:.2f} s (drawn and checked for active content)")
    print(
        f"class of {args.students}: {large / 1024:.0f} KiB in {large_time:.2f} s; {large / small:.1f}x the size of the "
        "class of 60 (the per-student lists: students waiting for hand grading, late hand-ins)"
    )


if __name__ == "__main__":
    main()
