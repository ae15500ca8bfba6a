"""`similarity`: pairs of students whose work on an assignment is too alike to be independent.

    python -m autograder similarity COURSE a1 [--threshold 0.5] [--hold]

What is compared: per student, one document of everything they wrote for the assignment -- their
collected cs_lib files (submitted/<student>/<a>/_student_files/cs_lib/...) and the code of the notebook's
solution cells. Which cells those are comes from the release notebook (its nbgrader roles, matched by
grade id), never from the submission's own metadata. A file or cell a student left out counts as the
starter's.

How: copydetect (winnowing, as MOSS). Code is tokenised (names become V, F or O, strings S; comments and
whitespace go), so renaming variables, rewording comments and reformatting change nothing, and k-grams
of the tokens are hashed and winnowed into fingerprints, so moving functions around changes little.
Fingerprints of the boilerplate never count: the released stubs and provided code (the course's
cs_lib), every code cell of the release notebooks, and the starter document itself (what a student who
changed nothing would hand in, so the seams between files are boilerplate too). A pair's overlap is
copydetect's: the share of one student's own code (boilerplate left out) that the other's contains.
A pair is flagged when either side's overlap reaches the threshold and at least MIN_TOKENS tokens
match (tiny pieces of obvious code alike are not evidence). Every pair is first screened by the share
of fingerprints the two have in common (cheap set intersections); only pairs that share at least
SCREEN times the threshold are compared by copydetect. For a flagged pair, each side's functions (split
with ast; a cell without functions is one piece) are compared with the other's whole work, and the
function with the most matching tokens is named: "similar to bob_2: 91 % of svm_loss_vectorized".

Deterministic: copydetect hashes k-grams with Python's hash(), which is salted per process, so which
fingerprints winnowing keeps -- and so every overlap -- would change from one run to the next. Its
k-gram hash is replaced (stable_kgram_hashes) by a fixed polynomial hash: the same hand-ins give the
same pairs and the same percentages on every run and every machine.

Writes COURSE/similarity/<a>/: report.html (copydetect's report of the flagged pairs, student code
escaped, made self-contained and inert), code/<student>.py (the documents compared) and boilerplate/;
records the flagged pairs in the gradebook (review lists them, export shows them); with hold, holds
each flagged, graded submission for review (review --accept/--reject decides).
"""

import io
import itertools
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from autograder.common import paths
from autograder.common.printable import printable
from autograder.common.student_ids import ALLOWED, is_student_id
from autograder.grading.report.similarity_documents import (
    document,
    release_cells,
    solution_cell_ids,
    starter_pieces,
    student_pieces,
    units,
)

NOISE = 25  # copydetect's noise threshold: the shortest match (in tokenised characters) that counts
GUARANTEE = 30  # every match this long is found; winnowing keeps one fingerprint per window of 6
DEFAULT_THRESHOLD = 0.5
MIN_TOKENS = 100
SCREEN = 0.5


@dataclass
class Side:
    """What one student of a flagged pair has in common with the other."""

    student: str
    overlap: float
    function: str = ""
    function_overlap: float = 0.0


@dataclass
class Pair:
    first: Side
    second: Side
    tokens: int

    @property
    def overlap(self):
        return max(self.first.overlap, self.second.overlap)


@dataclass
class Result:
    assignment_id: str
    threshold: float
    students: list
    pairs: list
    report: Path = None
    compared: int = 0
    screened: int = 0
    skipped: list = field(default_factory=list)
    holds: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    cpu_seconds: dict = field(default_factory=dict)


_MULTIPLIER = 0x100000001B3  # FNV-64's prime: odd, so the polynomial hash below uses every bit
_MIX = 0x9E3779B97F4A7C15


def stable_kgram_hashes(string, k):
    """The hashes of every k-gram of string (as copydetect.utils.hashed_kgrams), the same in every process:
    a polynomial hash of the k characters' code points modulo 2**64, then a multiply-xorshift mix so that
    winnowing's minimum is not biased towards low code points."""
    import numpy as np

    codes = np.frombuffer(string.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    count = len(codes) - k + 1
    if count <= 0:
        return np.array([], dtype=np.int64)
    with np.errstate(over="ignore"):
        hashes = np.zeros(count, dtype=np.uint64)
        for offset in range(k):
            hashes = hashes * np.uint64(_MULTIPLIER) + codes[offset : offset + count]
        hashes ^= hashes >> np.uint64(31)
        hashes *= np.uint64(_MIX)
        hashes ^= hashes >> np.uint64(29)
    return hashes.view(np.int64)


def _use_stable_hashes():
    """copydetect's fingerprints call utils.hashed_kgrams by module lookup: point it at the stable hash."""
    from copydetect import utils

    utils.hashed_kgrams = stable_kgram_hashes


def _fingerprint(path_or_name, boilerplate, text=None):
    from copydetect import CodeFingerprint

    _use_stable_hashes()

    stream = io.StringIO(text) if text is not None else None
    window = GUARANTEE - NOISE + 1
    return CodeFingerprint(str(path_or_name), NOISE, window, boilerplate, language="python", fp=stream)


def boilerplate_hashes(texts):
    """copydetect's boilerplate: every k-gram hash (no winnowing) of the given texts."""
    import numpy as np
    from copydetect import CodeFingerprint

    _use_stable_hashes()
    hashes = set()
    for text in texts:
        hashes |= CodeFingerprint("boilerplate.py", NOISE, 1, language="python", fp=io.StringIO(text)).hashes
    return np.unique(np.array(sorted(hashes), dtype=np.int64))


def _screen(fingerprints, floor):
    """Index pairs (i, j) whose shares of common fingerprints reach `floor` on either side."""
    sets = [frozenset(int(h) for h in fp.hashes) for fp in fingerprints]
    for i, j in itertools.combinations(range(len(sets)), 2):
        small, large = (sets[i], sets[j]) if len(sets[i]) <= len(sets[j]) else (sets[j], sets[i])
        if not small:
            continue
        if len(small & large) >= floor * len(small):
            yield i, j


def unit_fingerprints(pieces, boilerplate):
    """[(name, fingerprint)] of a student's units that have code of their own (boilerplate left out)."""
    found = []
    for name, source in units(pieces):
        fingerprint = _fingerprint("unit.py", boilerplate, source)
        if fingerprint.hashes:
            found.append((name, fingerprint))
    return found


def _best_unit(own_units, other_fingerprint):
    """(name, overlap) of the unit with the most tokens found in the other side's work."""
    from copydetect import compare_files

    best = ("", 0.0, 0)
    for name, fingerprint in own_units:
        tokens, (share, _), _ = compare_files(fingerprint, other_fingerprint)
        if tokens > best[2]:
            best = (name, float(share), int(tokens))
    return best[:2]


@contextmanager
def _timed(result, step):
    """Add the step's wall and CPU seconds to result.seconds and result.cpu_seconds."""
    start, cpu = time.perf_counter(), time.process_time()
    yield
    result.seconds[step] = result.seconds.get(step, 0.0) + time.perf_counter() - start
    result.cpu_seconds[step] = result.cpu_seconds.get(step, 0.0) + time.process_time() - cpu


def _boilerplate(assignment, roles, cells, release_code, folder):
    """Write the boilerplate texts into folder (for the TA to see) and return their copydetect hashes."""
    provided = {
        path.relative_to(paths.CS_LIB).as_posix(): path.read_text(encoding="utf-8", errors="replace")
        for path in sorted(paths.CS_LIB.rglob("*.py"))
        if "__pycache__" not in path.parts
    }
    texts = {
        "starter.py": document(starter_pieces(assignment, roles, cells)),
        "release_cells.py": "\n\n".join(release_code),
    }
    texts |= {f"cs_lib__{name.replace('/', '__')}": text for name, text in provided.items()}
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    return boilerplate_hashes(texts.values())


def find_similar(course_dir, course, assignment_id, threshold=DEFAULT_THRESHOLD, out_dir=None):
    """Compare every pair of the assignment's submissions; write the documents and the report; return a Result
    (with the seconds each step took)."""
    from copydetect import compare_files

    from autograder.grading.report.similarity_report import write_report

    if not 0 < threshold <= 1:
        raise ValueError(f"the threshold is a share of a student's code, between 0 and 1 (got {threshold})")
    assignment = course.assignment(assignment_id)
    course_dir = Path(course_dir)
    for name in assignment.notebooks:
        if not (course_dir / "release" / assignment_id / f"{name}.ipynb").is_file():
            from autograder.common.course import CourseError

            raise CourseError(
                f"{course_dir} has no release of {assignment_id} ({name}.ipynb): run "
                f"`python -m autograder init {course_dir} --assignments {assignment_id}` first"
            )
    out_dir = Path(out_dir or course_dir / "similarity" / assignment_id)
    result = Result(assignment_id=assignment_id, threshold=threshold, students=[], pairs=[])
    with _timed(result, "boilerplate"):
        roles = solution_cell_ids(course_dir, assignment)
        cells, release_code = release_cells(course_dir, assignment)
        code_dir, boilerplate_dir = out_dir / "code", out_dir / "boilerplate"
        for folder in (code_dir, boilerplate_dir):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
        boilerplate = _boilerplate(assignment, roles, cells, release_code, boilerplate_dir)

    with _timed(result, "documents and fingerprints"):
        pieces = {}
        for folder in sorted((course_dir / "submitted").glob(f"*/{assignment_id}")):
            student = folder.parent.name
            if not folder.is_dir() or folder.is_symlink():
                continue
            if not is_student_id(student):
                result.skipped.append(f"'{printable(student)}': not a student id ({ALLOWED}); not compared")
                continue
            pieces[student] = student_pieces(folder, assignment, roles, cells)
            (code_dir / f"{student}.py").write_text(document(pieces[student]), encoding="utf-8")
        result.students = list(pieces)
        fingerprints = [_fingerprint(code_dir / f"{student}.py", boilerplate) for student in result.students]

    with _timed(result, "screening"):
        candidates = list(_screen(fingerprints, SCREEN * threshold))
    with _timed(result, "comparison"):
        compared = {(i, j): compare_files(fingerprints[i], fingerprints[j]) for i, j in candidates}
    result.compared = len(compared)
    result.screened = len(result.students) * (len(result.students) - 1) // 2 - len(compared)
    flagged = {}
    for (i, j), (tokens, (share_i, share_j), _) in compared.items():
        if max(share_i, share_j) >= threshold and tokens >= MIN_TOKENS:
            flagged[i, j] = (float(share_i), float(share_j), int(tokens))

    with _timed(result, "attribution"):
        own_units = {}
        for (i, j), (share_i, share_j, tokens) in sorted(flagged.items(), key=lambda item: -max(item[1][:2])):
            sides = []
            for student, share, other in ((result.students[i], share_i, j), (result.students[j], share_j, i)):
                if student not in own_units:
                    own_units[student] = unit_fingerprints(pieces[student], boilerplate)
                name, function_share = _best_unit(own_units[student], fingerprints[other])
                sides.append(Side(student, share, name, function_share))
            result.pairs.append(Pair(sides[0], sides[1], tokens))
    with _timed(result, "report"):
        result.report = write_report(
            out_dir / "report.html",
            code_dir,
            boilerplate_dir,
            result,
            fingerprints,
            compared,
            flagged,
            NOISE,
            GUARANTEE,
        )
    return result


def pair_rows(pairs):
    """The gradebook rows of the flagged pairs (autograder.grading.record.similarity_pairs), both directions."""
    rows = []
    for pair in pairs:
        for own, other in ((pair.first, pair.second), (pair.second, pair.first)):
            rows.append(
                {
                    "student": own.student,
                    "other": other.student,
                    "overlap": own.overlap,
                    "other_overlap": other.overlap,
                    "tokens": pair.tokens,
                    "function": own.function or None,
                    "function_overlap": own.function_overlap if own.function else None,
                }
            )
    return rows


def similarity(course_dir, course, assignment_id, threshold=DEFAULT_THRESHOLD, hold=False):
    """find_similar, then record the flagged pairs in the gradebook (and, with hold, hold their submissions)."""
    from autograder.grading.record.course_dir import course_gradebook
    from autograder.grading.record.review import hold_similar
    from autograder.grading.record.similarity_pairs import describe_pair, replace_pairs

    result = find_similar(course_dir, course, assignment_id, threshold)
    rows = pair_rows(result.pairs)
    with course_gradebook(course_dir) as gradebook:
        replace_pairs(gradebook, assignment_id, rows, threshold)
        if hold:
            findings = {}
            for row in rows:
                findings.setdefault(row["student"], []).append(describe_pair(row))
            for student, found in findings.items():
                result.holds[student] = hold_similar(gradebook, assignment_id, student, found, course_dir=course_dir)
    return result


def table(result):
    """Plain text for the TA: one line per flagged pair, then what was compared and where the report is."""
    from autograder.grading.record.similarity_pairs import percent

    lines = []
    if result.pairs:
        lines.append(f"{'pair':<36} {'overlap':<16} most overlap in")
        for pair in result.pairs:
            names = f"{pair.first.student} ~ {pair.second.student}"
            overlap = f"{percent(pair.first.overlap)} / {percent(pair.second.overlap)}"
            where = "; ".join(
                f"{side.student}: {side.function} ({percent(side.function_overlap)})"
                for side in (pair.first, pair.second)
                if side.function
            )
            lines.append(f"{names:<36} {overlap:<16} {where}")
    for student, outcome in sorted(result.holds.items()):
        what = {
            "held": "automatic points withheld for review (review --accept/--reject decides)",
            "not graded": "not graded yet, so nothing to withhold (run grade, then similarity --hold)",
        }.get(outcome, f"{outcome} by a TA before; the decision stands")
        lines.append(f"{student}: {what}")
    lines += [f"skipped {item}" for item in result.skipped]
    count = len(result.students)
    lines.append(
        f"{len(result.pairs)} pair(s) of {count} students at or above {percent(result.threshold)} "
        f"({count * (count - 1) // 2} pairs: {result.compared} compared by copydetect, {result.screened} screened "
        f"out sharing under {percent(SCREEN * result.threshold)} of their fingerprints); report: {result.report}"
    )
    return "\n".join(lines)
