"""The term as its users walk it (CI, after .ci/student_edition set the clone up with its own README).

    .venv/bin/python .ci/term_walk.py CLONE

CLONE is a clone of the published student edition whose README setup ran (CLONE/.venv). In it, two
students complete A1 as students do: the stubs of the assignment's cs_lib files written, the notebook's
solution cells written, the notebook executed top to bottom with the clone's own kernel, then the clone's
`submit`. ada writes the reference; bob the same with the 0.5 * reg convention in svm_loss_naive (loss and
gradient, in both SVM losses: consistent with each other, so only checks against a reference notice). The TA then runs this
checkout's init, collect, grade, feedback and export on the two zips. Checked: ada gets full automatic
marks; bob loses svm_naive's points with a reason on his feedback page; nothing either student receives
(feedback pages) names the instructor repository, and grading logs no changed-checksum warning.
Exit 0 when everything holds, 1 with the failed checks listed.
"""

import csv
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import nbformat  # noqa: E402

from autograder.common.course import load_course  # noqa: E402
from autograder.common.sources import source_notebook  # noqa: E402
from autograder.instructor.demo import _without_markers, solved_notebook  # noqa: E402

ASSIGNMENT = "a1"
BUG = [("reg * np.sum(W * W)", "0.5 * reg * np.sum(W * W)"), ("2 * reg * W", "reg * W")]  # both SVM losses


def run(command, cwd, **kwargs):
    print("$", " ".join(map(str, command)), flush=True)
    result = subprocess.run(list(map(str, command)), cwd=cwd, capture_output=True, text=True, timeout=1200, **kwargs)
    if result.returncode != 0:
        print(result.stdout[-4000:], result.stderr[-4000:], sep="\n")
        raise SystemExit(f"failed ({result.returncode}): {' '.join(map(str, command))}")
    return result


def write_student_work(clone, course, buggy):
    """What a student writes: the assignment's cs_lib files and the notebook's solution cells."""
    assignment = course.assignment(ASSIGNMENT)
    references = course.references()
    for name in assignment.student_files:
        text = _without_markers(references[name].read_text())
        if buggy and name.endswith("linear_svm.py"):
            for right, wrong in BUG:
                assert right in text, right
                text = text.replace(right, wrong)
        (clone / name).write_text(text)
    for notebook in assignment.notebooks:
        path = clone / "assignments" / ASSIGNMENT / f"{notebook}.ipynb"
        release = nbformat.read(str(path), as_version=4)
        source = source_notebook(assignment.source_notebook(notebook), course, ASSIGNMENT)
        nbformat.write(solved_notebook(release, source), str(path))


def execute_notebooks(clone, course):
    python = clone / ".venv" / "bin" / "python"
    for notebook in course.assignment(ASSIGNMENT).notebooks:
        run(
            [
                python,
                "-m",
                "jupyter",
                "nbconvert",
                "--to",
                "notebook",
                "--execute",
                "--allow-errors",
                "--inplace",
                f"{notebook}.ipynb",
            ],
            cwd=clone / "assignments" / ASSIGNMENT,
        )


def main(clone):
    clone = Path(clone).resolve()
    course = load_course()
    problems = []
    work = Path(tempfile.mkdtemp(prefix="term-walk-"))
    zips = work / "zips"
    for student, buggy in (("ada", False), ("bob", True)):
        write_student_work(clone, course, buggy)
        execute_notebooks(clone, course)
        submitted = run(
            [
                clone / ".venv" / "bin" / "python",
                "-m",
                "autograder",
                "submit",
                ASSIGNMENT,
                "--student",
                student,
                "--out",
                zips,
            ],
            cwd=clone,
        )
        print(submitted.stdout[-1500:])
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", "--", "."], check=True)  # the clone as it was

    course_dir, roster = work / "course", work / "roster.csv"
    roster.write_text("id\nada\nbob\n")
    python = sys.executable
    run([python, "-m", "autograder", "init", course_dir, "--roster", roster, "--assignments", ASSIGNMENT], cwd=REPO)
    run([python, "-m", "autograder", "collect", course_dir, ASSIGNMENT, zips], cwd=REPO)
    graded = run([python, "-m", "autograder", "grade", course_dir, ASSIGNMENT], cwd=REPO)
    print(graded.stdout[-3000:])
    if "checksum" in graded.stdout + graded.stderr:
        problems.append("grading logged a checksum warning for a student-edition hand-in")
    run([python, "-m", "autograder", "feedback", course_dir, ASSIGNMENT], cwd=REPO)
    exported = run([python, "-m", "autograder", "export", course_dir, "--out", work / "export"], cwd=REPO)
    print(exported.stdout)

    with open(work / "export" / f"grades_{ASSIGNMENT}.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    maximum, ada, bob = rows.get("(max)"), rows.get("ada"), rows.get("bob")
    if not (maximum and ada and bob):
        problems.append(f"grades_{ASSIGNMENT}.csv has no (max), ada and bob rows: {sorted(rows)}")
    else:
        by_hand = set(re.findall(r"(\S+) \(\d+ points? by hand\)", ada["still_to_grade"]))
        tests = [name for name in maximum if ":" in name and maximum[name] and name not in by_hand]
        short = {name: (ada[name], maximum[name]) for name in tests if float(ada[name]) != float(maximum[name])}
        print(f"ada: {len(tests) - len(short)} of {len(tests)} tests at full marks; hand-graded: {sorted(by_hand)}")
        if not tests or short:
            problems.append(f"ada (the reference, written in the clone) lost automatic points: {short or 'no tests'}")
        naive = next(name for name in tests if name.endswith(":svm_naive"))
        if float(bob[naive]) >= float(maximum[naive]):
            problems.append("bob's 0.5 * reg bug cost him nothing on svm_naive")

    pages = sorted((course_dir / "feedback").rglob("*.html"))
    if len(pages) < 2:
        problems.append(f"expected a feedback page per student, found {[str(p) for p in pages]}")
    instructor = course.repository.rstrip("/")
    named = re.compile(re.escape(instructor) + r"(?![\w.-])")  # not the student repository it may prefix
    for page in pages:
        if named.search(page.read_text()):
            problems.append(f"{page} names the instructor repository {instructor}")
    bob_pages = [page for page in pages if "bob" in page.parts]
    text = " ".join(re.sub(r"<[^>]+>", " ", page.read_text()) for page in bob_pages)
    text = re.sub(r"\s+", " ", text)
    found = re.search(r"svm_naive \(test\) 0 / \d+ failed (.{0,300})", text)
    print("bob's svm_naive row:", found.group(0) if found else None)
    reason = found.group(1) if found else ""
    if not found or reason.startswith("the test did not pass") or "expected" not in reason:
        problems.append("bob's feedback does not give the reason svm_naive failed (its hidden part caught it)")

    for problem in problems:
        print("TERM WALK FAILED:", problem)
    if not problems:
        print("term walk: the student edition's A1, completed and submitted in the clone, graded as it should be")
        shutil.rmtree(work, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
