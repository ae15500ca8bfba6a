"""`similarity`: copied A1 work is flagged however it was disguised, independent work is not, and the flagged
pairs reach `review`, `export` and (with --hold only) the points.

The A1 batch (tests/similarity_batch.py): three honest students (h0, h1, h2), each writing every graded
function their own way (three correct implementations per function family, checked against the reference
here); a copy of each honest student's work per disguise (renamed variables, reordered functions,
rewritten comments, changed whitespace, all four); a student who copied only h1's svm_loss_vectorized
and did nothing else; and a student who handed in the starter untouched.
"""

import csv
import itertools
import re
import sys
import zipfile

import nbformat
import numpy as np
import pytest
import similarity_batch as batch

import toy
from autograder.common import paths
from autograder.common.course import load_course
from autograder.grading.record.course_dir import init_course, load_settings
from toy import cli

pytestmark = pytest.mark.a1

HOSTILE = "# </code></pre><script>document.title='pwned'</script><img src=x onerror=\"alert(1)\"> from a student"


def _source_of(student):
    """The honest student whose work this one's is (None for the starter)."""
    if student == "starter":
        return None
    if student == "one_from_h1":
        return "h1"
    return f"h{student[1]}"


def _zip(path, files, notebook):
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a1/linear_classifiers.ipynb", nbformat.writes(notebook))
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def _with_hostile_comment(files):
    """h2's linear_svm.py with a comment that would run in the report if it were not escaped."""
    name = "cs_lib/classifiers/linear_svm.py"
    lines = files[name].splitlines(keepends=True)
    at = next(index for index, line in enumerate(lines) if "np.eye(" in line)
    lines.insert(at + 1, "    " + HOSTILE + "\n")
    return {**files, name: "".join(lines)}


def batch_work(release):
    """{student: (files, solution cells)} of the batch."""
    work = {}
    for variant in range(batch.NUMBER_OF_VARIANTS):
        files = batch.student_files(variant)
        work[f"h{variant}"] = (
            _with_hostile_comment(files) if variant == 2 else files,
            batch.solution_cells(release, variant),
        )
        for disguise in batch.DISGUISES:
            copied = batch.student_files(variant, disguise)
            if variant == 2 and disguise in ("rename", "reorder"):
                copied = _with_hostile_comment(copied)
            work[f"c{variant}_{disguise}"] = (copied, batch.solution_cells(release, variant, disguise))
    work["one_from_h1"] = (batch.student_files(1, "rename", only={"svm_loss_vectorized"}), {})
    work["starter"] = (batch.student_files(0, only=set()), {})
    return work


@pytest.fixture(scope="module")
def a1_batch(tmp_path_factory):
    """A course directory with A1 initialised and the batch collected from zips, as a TA's collect takes them."""
    root = tmp_path_factory.mktemp("similarity-a1")
    release = nbformat.read(str(paths.ASSIGNMENTS / "a1" / "linear_classifiers.ipynb"), as_version=4)
    work = batch_work(release)
    roster = root / "roster.csv"
    roster.write_text("id\n" + "".join(f"{student}\n" for student in work))
    course_dir = root / "course"
    init_course(course_dir, load_course(), roster=roster, assignment_ids=["a1"])
    release = nbformat.read(str(course_dir / "release" / "a1" / "linear_classifiers.ipynb"), as_version=4)
    for student, (files, cells) in work.items():
        _zip(root / "zips" / f"{student}.zip", files, batch.solved_release(release, cells))
    collected = cli("collect", course_dir, "a1", root / "zips", course_file=paths.COURSE_FILE)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    return course_dir, work


def test_every_variant_is_a_correct_implementation_and_every_disguise_keeps_it_correct(tmp_path, monkeypatch):
    """The honest students really are independent *correct* solutions, and the copies still work: otherwise the
    check below would prove nothing about real work."""
    import importlib

    def package(folder, files):
        """A cs_lib of just A1's four files (they import nothing else of it)."""
        for name, text in {"cs_lib/__init__.py": "", "cs_lib/classifiers/__init__.py": "", **files}.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
        return folder

    rng = np.random.default_rng(7)
    W, X, y = rng.standard_normal((12, 4)) * 0.1, rng.standard_normal((25, 12)), rng.integers(0, 4, 25)
    images = rng.integers(0, 256, (2, 3, 16, 16)).astype(float)

    def outputs(root):
        for name in [m for m in sys.modules if m == "cs_lib" or m.startswith("cs_lib.")]:
            monkeypatch.delitem(sys.modules, name)
        monkeypatch.syspath_prepend(str(root))
        svm = importlib.import_module("cs_lib.classifiers.linear_svm")
        softmax = importlib.import_module("cs_lib.classifiers.softmax")
        linear = importlib.import_module("cs_lib.classifiers.linear_classifier")
        features = importlib.import_module("cs_lib.features")
        for module in (svm, softmax, linear, features):
            assert str(module.__file__).startswith(str(root)), module.__file__  # this batch's code, not the reference
        found = {
            "svm_loss_naive": svm.svm_loss_naive(W, X, y, 0.1),
            "svm_loss_vectorized": svm.svm_loss_vectorized(W, X, y, 0.1),
            "softmax_loss_naive": softmax.softmax_loss_naive(W, X, y, 0.1),
            "softmax_loss_vectorized": softmax.softmax_loss_vectorized(W, X, y, 0.1),
            "colour_histogram": features.colour_histogram(images, bins=3),
            "gradient_histogram": features.gradient_histogram(images, cell_size=8),
        }
        for name in ("LinearSVM", "Softmax"):
            model = getattr(linear, name)(seed=0)
            history = model.train(X, y, learning_rate=1e-2, reg=1e-3, num_iters=4, batch_size=8)
            found[name] = (np.array(history), model.W, model.predict(X))
        return found

    references = load_course().references()
    reference = outputs(
        package(tmp_path / "reference", {name: references[name].read_text() for name in batch.A1_FILES})
    )
    for variant, disguise in itertools.product(range(batch.NUMBER_OF_VARIANTS), (None, *batch.DISGUISES)):
        got = outputs(package(tmp_path / f"v{variant}-{disguise}", batch.student_files(variant, disguise)))
        for function, expected in reference.items():
            pairs = zip(expected, got[function]) if isinstance(expected, tuple) else [(expected, got[function])]
            for want, have in pairs:
                assert np.allclose(want, have), f"variant {variant} ({disguise or 'as written'}): {function} is wrong"
    for function, variants in {**batch.VARIANTS, **batch.CELL_VARIANTS}.items():
        assert len({re.sub(r"\s+", " ", v) for v in variants}) >= 3, f"{function} needs three different variants"


def _flagged(stdout):
    return {frozenset(found) for found in re.findall(r"^(\S+) ~ (\S+) ", stdout, flags=re.MULTILINE)}


@pytest.mark.slow
def test_disguised_copies_are_flagged_and_independent_implementations_are_not(a1_batch):
    course_dir, work = a1_batch
    run = cli("similarity", course_dir, "a1", course_file=paths.COURSE_FILE)
    assert run.returncode == 0, run.stdout + run.stderr
    flagged = _flagged(run.stdout)
    expected = {
        frozenset((a, b))
        for a, b in itertools.combinations(work, 2)
        if _source_of(a) is not None and _source_of(a) == _source_of(b) and "one_from_h1" not in (a, b)
    }
    # the partial copier shares h1's svm_loss_vectorized with h1 and with every copy of h1
    expected |= {
        frozenset(("one_from_h1", other)) for other in work if _source_of(other) == "h1" and other != "one_from_h1"
    }
    assert flagged - expected == set(), f"independent work flagged: {sorted(map(sorted, flagged - expected))}"
    assert expected - flagged == set(), f"copies missed: {sorted(map(sorted, expected - flagged))}"
    for disguise in batch.DISGUISES:
        assert any({f"c{v}_{disguise}", f"h{v}"} in map(set, flagged) for v in range(3)), disguise
    line = next(line for line in run.stdout.splitlines() if line.startswith(("one_from_h1 ~", "h1 ~ one_from_h1")))
    assert "one_from_h1: svm_loss_vectorized (" in line
    assert re.search(r"(\d+) pair\(s\) of 20 students at or above 50 %", run.stdout)

    listing = cli("review", course_dir, "a1", course_file=paths.COURSE_FILE)
    assert listing.returncode == 0, listing.stderr
    assert re.search(r"^one_from_h1: similar to h1: \d+ % of svm_loss_vectorized", listing.stdout, re.MULTILINE)
    assert "no submission of this assignment is held for review" in listing.stdout  # no --hold: nothing withheld


@pytest.mark.slow
def test_independent_implementations_stay_far_below_the_threshold(a1_batch):
    """The margin, measured: independent work (three students writing every function their own way, each
    copied under every disguise) stays below 40 % (the default threshold is 50 %), while the weakest copy
    (the partial copier) is found at 60 % or more. The run goes down to 20 % so the highest independent
    overlap is seen, not just known to be under the threshold."""
    from autograder.grading.report.similarity import find_similar

    course_dir, work = a1_batch
    result = find_similar(course_dir, load_course(), "a1", threshold=0.2, out_dir=course_dir / "margin")
    independent = [p.overlap for p in result.pairs if _source_of(p.first.student) != _source_of(p.second.student)]
    copies = [p.overlap for p in result.pairs if _source_of(p.first.student) == _source_of(p.second.student)]
    highest, weakest = max(independent, default=0.0), min(copies)
    assert highest < 0.4, highest
    assert weakest >= 0.6, weakest
    print(f"independent work at most {highest:.0%}; weakest copy flagged at {weakest:.0%}")


@pytest.mark.slow
def test_the_same_hand_ins_give_the_same_pairs_and_percentages_on_every_run(a1_batch):
    """copydetect hashes with Python's salted hash(): without the stable hash two runs of the TA's command would
    keep different fingerprints and report different overlaps (a pair at 31 % in one run, 28 % in the next)."""
    import os
    import subprocess

    course_dir, _ = a1_batch
    outputs = []
    for seed in ("1", "2"):
        run = subprocess.run(
            [sys.executable, "-m", "autograder", "similarity", str(course_dir), "a1", "--threshold", "0.2"],
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHONHASHSEED=seed, CS_COURSE_FILE=str(paths.COURSE_FILE)),
            cwd=paths.REPO_ROOT,
            timeout=900,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        outputs.append(re.findall(r"^\S+ ~ \S+ .*$", run.stdout, flags=re.MULTILINE))
    assert outputs[0] and outputs[0] == outputs[1], outputs


def test_the_stable_kgram_hash_is_copydetects_contract_and_does_not_depend_on_the_process():
    from autograder.grading.report.similarity import stable_kgram_hashes

    text = "def f(V):\n    return V * 2  # ünïcode"
    hashes = stable_kgram_hashes(text, 5)
    assert hashes.dtype == np.int64 and len(hashes) == len(text) - 4
    assert len(set(hashes.tolist())) == len(set(text[i : i + 5] for i in range(len(text) - 4)))
    assert stable_kgram_hashes(text[3:12], 5).tolist() == hashes[3:8].tolist()  # a k-gram's hash is its own
    assert len(stable_kgram_hashes("abc", 5)) == 0
    script = (
        "from autograder.grading.report.similarity import stable_kgram_hashes as h; print(h('abcdefgh', 3).tolist())"
    )
    seen = {subprocess_output(script, seed) for seed in ("0", "7")}
    assert len(seen) == 1, seen


@pytest.mark.slow
def test_the_report_shows_student_code_escaped_and_loads_nothing(a1_batch):
    from bs4 import BeautifulSoup

    from autograder.grading.report.feedback_html import active_content

    course_dir, _ = a1_batch
    if not (course_dir / "similarity" / "a1" / "report.html").is_file():
        assert cli("similarity", course_dir, "a1", course_file=paths.COURSE_FILE).returncode == 0
    page = (course_dir / "similarity" / "a1" / "report.html").read_text()
    soup = BeautifulSoup(page, "html.parser")
    assert active_content(soup) == []
    assert soup.find_all(["script", "link", "iframe"]) == [] and soup.find("img", attrs={"onerror": True}) is None
    assert all(img["src"].startswith("data:image/png;base64,") for img in soup.find_all("img"))
    assert "document.title='pwned'" in soup.get_text()  # shown as text in h2's listing
    assert soup.find_all("details") and "flagged pair(s) of 20 students" in soup.get_text()
    assert "c2_rename.py" in soup.get_text() and "h2.py" in soup.get_text()


# -- recorded in the gradebook, withheld only with --hold (the toy course, graded for real) -----------------

COPIED_MODULE = '''"""Toy student module."""

import numpy as np


def _checked(values, name):
    """values as a float array; a ValueError naming the argument when it holds NaN or inf."""
    array = np.asarray(values, dtype=float)
    bad = [index for index, value in enumerate(array.ravel()) if not np.isfinite(value)]
    if bad:
        raise ValueError(f"{name} holds {len(bad)} values that are not finite, the first at {bad[0]}")
    return array


def add(a, b):
    """Return a + b."""
    total = a
    for _ in range(1):
        total = total + b
    return total


def scale(x, k):
    """Return the array x multiplied by k, as a new float array."""
    values = _checked(x, "x")
    result = np.empty_like(values)
    for index in range(values.size):
        result.flat[index] = values.flat[index] * float(k)
    return result.reshape(values.shape)
'''
OWN_MODULE = '''"""Toy student module."""

import numpy as np


def add(a, b):
    """Return a + b."""
    return b + a


def scale(x, k):
    """Return the array x multiplied by k, as a new float array."""
    return np.multiply(np.array(x, dtype=np.float64), k)
'''


@pytest.fixture(scope="module")
def toy_graded(tmp_path_factory):
    """The toy course graded: ada wrote her module, cyd copied it (renamed), bea wrote her own."""
    root = tmp_path_factory.mktemp("similarity-toy")
    course_dir = toy.init_toy_course(root, ["ada", "bea", "cyd"])
    renamed = COPIED_MODULE.replace("total", "running").replace("values", "vals").replace("result", "out")
    for student, module in (("ada", COPIED_MODULE), ("bea", OWN_MODULE), ("cyd", renamed)):
        toy.make_zip(root / "subs" / f"{student}.zip", notebook=toy.notebook(course_dir), module=module)
    assert cli("collect", course_dir, "t1", root / "subs").returncode == 0
    graded = cli("grade", course_dir, "t1", "--jobs", "2")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    return course_dir


@pytest.fixture
def toy_course(toy_graded, tmp_path):
    return toy.fresh_course(toy_graded, tmp_path / "course")


def exported(course_dir):
    result = cli("export", course_dir)
    assert result.returncode == 0, result.stderr
    with open(course_dir / "grades_t1.csv") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


def automatic_points(course_dir, student):
    from nbgrader.api import Gradebook

    settings = load_settings(course_dir)
    with Gradebook(settings["db_url"], settings["course_id"]) as gradebook:
        submission = gradebook.find_submission("t1", student)
        return sum(grade.auto_score or 0 for notebook in submission.notebooks for grade in notebook.grades)


@pytest.mark.slow
def test_flagged_pairs_reach_review_and_export_but_withhold_nothing_without_hold(toy_course):
    before = {student: automatic_points(toy_course, student) for student in ("ada", "bea", "cyd")}
    run = cli("similarity", toy_course, "t1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert _flagged(run.stdout) == {frozenset(("ada", "cyd"))}
    assert (toy_course / "similarity" / "t1" / "report.html").is_file()
    listing = cli("review", toy_course, "t1").stdout
    assert re.search(r"^ada: similar to cyd: \d+ % of _checked", listing, re.MULTILINE), listing
    assert re.search(r"^cyd: similar to ada: \d+ % of _checked", listing, re.MULTILINE), listing
    rows = exported(toy_course)
    assert rows["cyd"]["similarity"].startswith("similar to ada: ") and rows["bea"]["similarity"] == ""
    assert {student: automatic_points(toy_course, student) for student in before} == before
    assert rows["cyd"]["total"] == rows["ada"]["total"] == "7" and "held" not in rows["cyd"]["still_to_grade"]


@pytest.mark.slow
def test_hold_withholds_the_points_until_review_decides_and_a_rerun_keeps_the_decision(toy_course):
    run = cli("similarity", toy_course, "t1", "--hold")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "cyd: automatic points withheld for review" in run.stdout
    assert automatic_points(toy_course, "ada") == automatic_points(toy_course, "cyd") == 0
    assert automatic_points(toy_course, "bea") == 7
    listing = cli("review", toy_course, "t1").stdout
    assert "cyd: 7 automatic points withheld; held: waiting for a decision" in listing
    assert re.search(r"^    similar to ada: \d+ % of _checked", listing, re.MULTILINE)
    rows = exported(toy_course)
    assert (
        rows["cyd"]["total"] == "0" and "held for review (7 automatic points withheld)" in rows["cyd"]["still_to_grade"]
    )
    # grading the same hand-ins again (--force) keeps them held: the similarity finding stays with the submission
    assert cli("grade", toy_course, "t1", "--jobs", "2", "--force").returncode == 0
    assert automatic_points(toy_course, "ada") == automatic_points(toy_course, "cyd") == 0
    assert automatic_points(toy_course, "bea") == 7

    decided = cli("review", toy_course, "t1", "ada", "--accept", "--reason", "cyd copied from ada", "--by", "tara")
    assert decided.returncode == 0, decided.stderr
    assert cli("review", toy_course, "t1", "cyd", "--reject", "--reason", "copied", "--by", "tara").returncode == 0
    assert automatic_points(toy_course, "ada") == 7 and automatic_points(toy_course, "cyd") == 0
    # a forced regrade keeps the decisions, and similarity --hold after it re-applies them
    assert cli("grade", toy_course, "t1", "--jobs", "2", "--force").returncode == 0
    assert automatic_points(toy_course, "ada") == 7 and automatic_points(toy_course, "cyd") == 0
    again = cli("similarity", toy_course, "t1", "--hold")
    assert "ada: accepted by a TA before; the decision stands" in again.stdout
    assert "cyd: rejected by a TA before; the decision stands" in again.stdout
    assert automatic_points(toy_course, "ada") == 7 and automatic_points(toy_course, "cyd") == 0
    rows = exported(toy_course)
    assert rows["ada"]["total"] == "7" and rows["cyd"]["total"] == "0"
    assert rows["cyd"]["review"].startswith("rejected by tara")


def subprocess_output(script, hash_seed):
    import os
    import subprocess

    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=paths.REPO_ROOT
    ).stdout
