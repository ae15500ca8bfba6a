"""What a `grade` costs when nothing changed since the last one, against grading the same batch.

    .venv/bin/python benchmarks/bench_incremental.py [--students 50] [--repeat 5] [--json out.json]

On the toy course (tests/fixtures/toy_course) with N identical full-marks submissions:
  - baseline: `python -m autograder grade COURSE t1 --jobs 2` grading all N (the first run);
  - unchanged regrade: the same command again, every student "unchanged, kept" (median and minimum of
    --repeat runs; the minimum is the run least disturbed by other load on a shared machine), interleaved
    with the same on a course of a tenth of the students, so that the fixed part (Python start-up,
    imports, the sandbox probe, preparing the assignment) and the part per student (fingerprinting the
    submission, reading its stored key, grading.json and gradebook rows) can be told apart;
  - projection: the unchanged regrade of 600 students from that fixed part and per-student part.
The toy submissions are small: a real assignment's notebooks (outputs included) take longer to fingerprint,
the SHA-256 rate of this machine is printed for that. No assertions: the numbers depend on the machine.
"""

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def make_batch(root, count):
    import toy
    from autograder.grading.intake.collect import collect
    from autograder.grading.record.course_dir import roster_ids

    root.mkdir(parents=True)
    students = [f"s{number:03d}" for number in range(count)]
    course_dir = toy.init_toy_course(root, students)
    solved = toy.notebook(course_dir)
    for student in students:
        toy.make_zip(root / "subs" / f"{student}.zip", notebook=solved)
    collect(course_dir, toy.course(), "t1", root / "subs", roster_ids(course_dir))
    return course_dir


def timed_grade(course_dir):
    import toy

    env = dict(os.environ, CS_COURSE_FILE=str(toy.COURSE_FILE))
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(course_dir), "t1", "--jobs", "2"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"grade failed:\n{run.stdout}\n{run.stderr}")
    rows = [line for line in run.stdout.splitlines()[1:] if line.strip()]
    return seconds, sum("unchanged, kept" in line for line in rows), len(rows)


def sha256_ms_per_mib():
    data = os.urandom(32 * 2**20)
    started = time.perf_counter()
    hashlib.sha256(data).hexdigest()
    return (time.perf_counter() - started) * 1000 / 32


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-incremental-"))
    try:
        numbers = {"students": args.students, "cpus": os.cpu_count(), "load average": os.getloadavg()[0]}
        small = max(1, args.students // 10)
        courses = {args.students: make_batch(root / "large", args.students), small: make_batch(root / "small", small)}
        for count, course_dir in courses.items():
            first, kept, rows = timed_grade(course_dir)
            assert kept == 0 and rows == count, (kept, rows)
            numbers[f"grade {count} students"] = first
        again = {count: [] for count in courses}
        for _ in range(args.repeat):  # interleaved, so that a change in the machine's load hits both alike
            for count, course_dir in courses.items():
                seconds, kept, rows = timed_grade(course_dir)
                assert kept == rows == count, (kept, rows)
                again[count].append(seconds)
        for count, samples in again.items():
            numbers[f"unchanged regrade of {count}"] = {"median": statistics.median(samples), "min": min(samples)}
        baseline = numbers[f"grade {args.students} students"]
        print(
            f"toy course, {args.students} students, --jobs 2, {numbers['cpus']} CPUs, load {numbers['load average']:.1f}"
        )
        print(f"baseline: grading all {args.students}: {baseline:.1f} s")
        for statistic in ("median", "min"):
            large = numbers[f"unchanged regrade of {args.students}"][statistic]
            low = numbers[f"unchanged regrade of {small}"][statistic]
            per_student = max(0.0, (large - low) / (args.students - small))
            fixed = low - per_student * small
            projected = fixed + 600 * per_student
            numbers[f"projected unchanged regrade of 600 ({statistic})"] = projected
            print(
                f"unchanged regrade ({statistic} of {args.repeat}) of {args.students}: {large:.1f} s = "
                f"{large / baseline:.1%} of the baseline; of {small}: {low:.1f} s; fixed part {fixed:.1f} s + "
                f"{per_student * 1000:.0f} ms per student; projected for 600: {projected:.0f} s"
            )
        numbers["sha256 ms per MiB"] = sha256_ms_per_mib()
        print(f"fingerprinting real notebooks adds {numbers['sha256 ms per MiB']:.1f} ms per MiB handed in")
        if args.json:
            args.json.write_text(json.dumps(numbers, indent=1))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
