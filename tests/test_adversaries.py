"""Universal adversaries: for every assignment in course.toml, zero-effort stand-ins earn what the starter earns.

Each adversary (autograder/instructor/adversaries.py) is the reference with every graded function and
method made hostile: zeros of the right shapes, zeros plus every argument zeroed in place, labels read
from the data folder, objects that lie about their state, calls that raise after changing their
arguments, calls that reseed the global generators, each handing in the reference's own extra files
(A5: its trained checkpoint, good weights earned by someone else); plus the starter with its written
answers relabelled as tests, and (where the assignment takes extra files) a checkpoint that expands to gigabytes. They are
graded through the TA's own path (init, collect, grade: sandboxed kernel and trusted grader) in one batch
with the untouched starter and an honest reference student. A test an adversary scores on is a test that
pays for no work: the failure names the assignment, the adversary and the test.
"""

import json

import pytest

from autograder.common.course import load_course
from autograder.common.submission import zip_name
from autograder.grading.intake.collect import collect
from autograder.grading.record.course_dir import course_gradebook, init_course, roster_ids
from autograder.grading.record.gradebook import manifest_kinds
from autograder.grading.run.batch import grade
from autograder.instructor import adversaries
from autograder.instructor.demo import reference_files

pytestmark = pytest.mark.slow
COURSE = load_course()


def _students(assignment):
    names = ["starter", "reference", *adversaries.CODE_ADVERSARIES, "flipped_metadata"]
    if assignment.extra_files:
        names.append("huge_checkpoint")
    return names


def _zips(assignment, course_dir, out, workspace):
    release = course_dir / "release" / assignment.id
    references = {name: path.read_text() for name, path in COURSE.references().items()}
    reference_code = {name: references[name] for name in assignment.student_files}
    starter_code = adversaries.starter_files(assignment)
    extra_reference = reference_files(COURSE, assignment, workspace)
    huge = {name: adversaries.huge_checkpoint(workspace / f"huge-{name}") for name in assignment.extra_files}
    plans = {
        "starter": (starter_code, lambda notebook: notebook, {}),
        "reference": (reference_code, None, extra_reference),
        "flipped_metadata": (starter_code, adversaries.flip_answer_metadata, {}),
        "huge_checkpoint": (starter_code, lambda notebook: notebook, huge),
    }
    for mode in adversaries.CODE_ADVERSARIES:
        # with someone else's good files (the reference's trained checkpoint): points for those are points
        # for no work of the student's
        plans[mode] = (adversaries.adversary_files(COURSE, assignment, mode), None, extra_reference)
    out.mkdir(parents=True, exist_ok=True)
    for student in _students(assignment):
        files, transform, extra = plans[student]
        answers = "zero" if student in adversaries.CODE_ADVERSARIES else "solved"
        data = adversaries.submission_zip(COURSE, assignment, release, files, transform, extra, answers=answers)
        (out / zip_name(student.replace("_", "-"), assignment.id)).write_bytes(data)
    return out


def _per_test(course_dir, assignment, student):
    """{grade id: (automatic score, max, needs manual grading)} from the gradebook."""
    with course_gradebook(course_dir) as gradebook:
        submission = gradebook.find_submission(assignment.id, student)
        return {
            grade.name: (float(grade.auto_score or 0.0), float(grade.max_score or 0.0), bool(grade.needs_manual_grade))
            for notebook in submission.notebooks
            for grade in notebook.grades
        }


def _reasons(course_dir, assignment, student):
    record = course_dir / "autograded" / student / assignment.id / "grading.json"
    return json.loads(record.read_text()) if record.is_file() else {}


@pytest.fixture(
    scope="module", params=[pytest.param(a.id, marks=getattr(pytest.mark, a.id)) for a in COURSE.assignments]
)
def graded(request, tmp_path_factory):
    assignment = COURSE.assignment(request.param)
    workdir = tmp_path_factory.mktemp(f"adversaries-{assignment.id}")
    students = [name.replace("_", "-") for name in _students(assignment)]
    roster = workdir / "roster.csv"
    roster.write_text("id\n" + "".join(f"{student}\n" for student in students))
    course_dir = workdir / "course"
    init_course(course_dir, COURSE, roster=roster, assignment_ids=[assignment.id])
    zips = _zips(assignment, course_dir, workdir / "zips", workdir)
    collected = collect(course_dir, COURSE, assignment.id, zips, roster_ids(course_dir))
    assert all(item.status in ("ok", "warnings") for item in collected), [(i.student, i.problems) for i in collected]
    results, _ = grade(course_dir, COURSE, assignment.id, jobs=2, progress=False)
    return assignment, course_dir, {result.student: result for result in results}


def test_the_reference_earns_full_automatic_marks_beside_the_adversaries(graded):
    assignment, course_dir, results = graded
    kinds = {gid: kind for per in manifest_kinds(course_dir, assignment).values() for gid, kind in per.items()}
    scores = _per_test(course_dir, assignment, "reference")
    lost = {gid: s for gid, s in scores.items() if kinds.get(gid) == "test" and s[0] < s[1]}
    assert not lost, f"{assignment.id}: the reference lost points beside the adversaries: {lost}"
    assert results["reference"].status != "review", results["reference"].reasons


@pytest.mark.parametrize("adversary", [*adversaries.CODE_ADVERSARIES, "flipped_metadata", "huge_checkpoint"])
def test_each_adversary_earns_exactly_what_the_starter_earns_on_every_test(graded, adversary):
    assignment, course_dir, results = graded
    student = adversary.replace("_", "-")
    if student not in results:
        pytest.skip(f"{assignment.id} takes no extra files")
    result = results[student]
    # a submission held for review would hide what the tests themselves do
    assert result.status not in ("review", "failed"), f"{assignment.id} {adversary}: {result.status} {result.reasons}"
    kinds = {gid: kind for per in manifest_kinds(course_dir, assignment).values() for gid, kind in per.items()}
    starter = _per_test(course_dir, assignment, "starter")
    mine = _per_test(course_dir, assignment, student)
    paid = {
        gid: f"{mine[gid][0]:g} of {mine[gid][1]:g} points (the starter earns {starter[gid][0]:g})"
        for gid in starter
        if kinds.get(gid) == "test" and mine[gid][0] != starter[gid][0]
    }
    assert not paid, (
        f"{assignment.id}: the zero-effort adversary '{adversary}' earned points the starter does not on {sorted(paid)}: "
        f"{paid}; these tests pay for no work (see autograder/instructor/adversaries.py)"
    )
    automatic_answers = {gid: mine[gid] for gid in mine if kinds.get(gid) != "test" and mine[gid][0] > 0}
    assert not automatic_answers, (
        f"{assignment.id} {adversary}: written answers scored automatically: {automatic_answers}"
    )


def test_zero_effort_answers_zero_what_the_tests_read_and_keep_its_structure():
    import nbformat

    from autograder.common.sources import source_notebook
    from autograder.instructor.demo import solved_notebook

    assignment = COURSE.assignment("a5")
    source = source_notebook(assignment.source_notebook("pytorch_models"), COURSE, "a5")
    release = nbformat.read(str(adversaries.paths.REPO_ROOT / "assignments" / "a5" / "pytorch_models.ipynb"), 4)
    notebook = adversaries.zero_answers(solved_notebook(release, source), source)
    cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "fill_alexnet_table")
    scope = {}
    exec(cell.source, scope)
    table = scope["alexnet_table"]
    assert sorted(table) == sorted(["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"])
    assert table["conv2"] == ((0, 0, 0), 0, 0) and table["fc6"] == ((0,), 0, 0)


def test_stand_ins_of_a_module_importing_only_from_torch_return_zero_models():
    # A5's models.py imports torch only as `from torch import nn`: stand-ins blind to torch were the reference
    source = (COURSE.references()["cs_lib/pytorch/models.py"]).read_text()
    assert "\nimport torch\n" not in source
    namespace = {"__name__": "zeros_models"}
    exec(compile(adversaries.adversary_source(source, "zeros"), "zeros_models", "exec"), namespace)
    layers = namespace["make_vgg_layers"]([4, "M", 6], batch_norm=True)
    assert [name for name, _ in layers.named_parameters()], "the stand-in built no layers"
    assert all(not parameter.any() for parameter in layers.parameters())
    model = namespace["AlexNet"](num_classes=3).eval()
    import torch

    with torch.no_grad():
        assert not model(torch.randn(1, 3, 63, 63)).any()
