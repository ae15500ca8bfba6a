"""`report`: one assignment's class at a glance, as one self-contained HTML page with inline SVG figures.

    python -m autograder report COURSE a1 [--out PAGE]       # default COURSE/reports/a1.html

What it shows, all from the gradebook and the course folder:
  - the score distribution: the submitted students' totals (late penalty applied, as `export` counts them);
  - each test's pass rate: the share of graded students whose automatic result was full marks (the
    result the tests computed, also where a review hold withholds it). High scorers are the top quartile
    by total (at least one student; ties at the cut included); a test that high scorers fail more than
    half the time is marked "likely broken": when good work fails a test, the test is often the bug;
  - the points still to grade by hand, per question (and the points held for review);
  - late hand-ins: how late, and the penalty;
  - grading time per student (autograded/<student>/<a>/grading.json, seconds in the grading process);
  - the pairs `similarity` flagged.
No script, no request: like the feedback pages, and checked the same way before it is written
(autograder.grading.report.feedback_html.active_content). Every name on it is escaped.
"""

import html
import json
import math
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from autograder.grading.report.class_figures import bar_rows, histogram

CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1000px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
.meta, .note { color: #555; }
table { border-collapse: collapse; margin: .6em 0; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; vertical-align: top; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
tr.broken td { background: #fde8e8; }
.broken-mark { color: #b00020; font-weight: 600; }
figure { margin: .8em 0; } figcaption { color: #555; font-size: 90%; }
svg text { font-family: system-ui, sans-serif; }
"""


@dataclass
class TestRate:
    question: str
    points: float
    passed: int
    graded: int
    high_passed: int
    high_graded: int

    @property
    def likely_broken(self):
        return self.high_graded > 0 and self.high_passed * 2 < self.high_graded


@dataclass
class ClassData:
    assignment_id: str
    title: str
    roster: int
    totals: dict
    max_total: float
    high_cut: float
    high_scorers: list
    tests: list
    pending: dict
    late: list
    grading_seconds: dict
    pairs: list
    not_submitted: list = field(default_factory=list)


def high_scorers(totals):
    """(cut, [students]): the top quartile by total (at least one student), ties at the cut included."""
    if not totals:
        return 0.0, []
    ranked = sorted(totals.values(), reverse=True)
    cut = ranked[max(1, math.ceil(len(ranked) / 4)) - 1]
    return cut, sorted(student for student, total in totals.items() if total >= cut)


def _grading_seconds(course_dir, assignment_id, students):
    found = {}
    for student in students:
        path = Path(course_dir) / "autograded" / student / assignment_id / "grading.json"
        try:
            seconds = json.loads(path.read_text()).get("seconds")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds >= 0:
            found[student] = float(seconds)
    return found


def class_data(course_dir, assignment_id, title=""):
    """Everything the page shows, read from the gradebook and the course folder."""
    from sqlalchemy import select

    from autograder.grading.record.course_dir import course_gradebook
    from autograder.grading.record.gradebook_tables import CELLS, ensure_tables
    from autograder.grading.record.similarity_pairs import similar_pairs
    from autograder.grading.report.export import course_standing

    students, standings, maxima, _ = course_standing(course_dir)
    if assignment_id not in standings:
        from autograder.common.course import CourseError

        raise CourseError(f"{assignment_id} is not an assignment of this course directory ({', '.join(standings)})")
    per_student = standings[assignment_id]
    submitted = {student: standing for student, standing in per_student.items() if standing.submitted}
    totals = {student: standing.total for student, standing in submitted.items()}
    cut, high = high_scorers(totals)
    with course_gradebook(course_dir) as gradebook:
        ensure_tables(gradebook)
        cells = gradebook.db.execute(
            select(CELLS).where(CELLS.c.assignment == assignment_id, CELLS.c.kind == "test")
        ).mappings()
        results = {}
        for row in cells:
            if row["student"] in submitted:
                results.setdefault(f"{row['notebook']}:{row['grade_id']}", []).append(dict(row))
        pairs = similar_pairs(gradebook, assignment_id)
    tests = []
    for question, points in maxima[assignment_id].items():
        rows = results.get(question)
        if not rows:
            continue  # not a test cell (a written answer or task), or nobody graded yet
        passed = [row for row in rows if _full_marks(row)]
        tests.append(
            TestRate(
                question=question,
                points=float(points),
                passed=len(passed),
                graded=len(rows),
                high_passed=sum(row["student"] in high for row in passed),
                high_graded=sum(row["student"] in high for row in rows),
            )
        )
    pending = {}
    for student, standing in submitted.items():
        for question, points in standing.pending.items():
            entry = pending.setdefault(question, {"students": [], "points": 0.0})
            entry["students"].append(student)
            entry["points"] += points
    late = sorted(
        (
            (student, standing.seconds_late, standing.late_penalty)
            for student, standing in submitted.items()
            if standing.seconds_late > 0
        ),
        key=lambda item: -item[1],
    )
    return ClassData(
        assignment_id=assignment_id,
        title=title,
        roster=len(students),
        totals=totals,
        max_total=float(sum(maxima[assignment_id].values())),
        high_cut=cut,
        high_scorers=high,
        tests=tests,
        pending=pending,
        late=late,
        grading_seconds=_grading_seconds(course_dir, assignment_id, submitted),
        pairs=[row for row in pairs if row["student"] < row["other"]],
        not_submitted=sorted(student for student, standing in per_student.items() if not standing.submitted),
    )


def _full_marks(row):
    return (row["max_score"] or 0) > 0 and (row["auto_score"] or 0.0) >= row["max_score"] - 1e-9


def _number(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


def _late_text(seconds):
    hours = seconds / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"


def _percent(part, whole):
    return f"{100 * part / whole:.0f} %" if whole else "-"


def _scores_section(data):
    totals = sorted(data.totals.values())
    if not totals:
        return "<p>No submission yet.</p>"
    bins = max(1, min(10, math.ceil(data.max_total))) if data.max_total > 0 else 1
    width = data.max_total / bins if data.max_total > 0 else 1.0
    counts = [0] * bins
    for total in totals:
        counts[min(bins - 1, max(0, int(total // width)))] += 1
    labels = [f"{_number(round(i * width, 2))}-{_number(round((i + 1) * width, 2))}" for i in range(bins)]
    figure = histogram(
        counts, labels, "points", f"Totals of {len(totals)} submitted students", element_id="score-histogram"
    )
    summary = (
        f'<table id="score-summary"><tr><th>submitted</th><th>mean</th><th>median</th><th>lowest</th><th>highest</th>'
        f"<th>out of</th></tr><tr><td class='number'>{len(totals)}</td>"
        f"<td class='number'>{statistics.mean(totals):.2f}</td><td class='number'>{_number(statistics.median(totals))}</td>"
        f"<td class='number'>{_number(totals[0])}</td><td class='number'>{_number(totals[-1])}</td>"
        f"<td class='number'>{_number(data.max_total)}</td></tr></table>"
    )
    rows = "".join(
        f"<tr data-bin='{i}'><td>{html.escape(label)}</td><td class='number'>{count}</td></tr>"
        for i, (label, count) in enumerate(zip(labels, counts))
    )
    missing = (
        f"<p class='note'>Not submitted ({len(data.not_submitted)}): {html.escape(', '.join(data.not_submitted))}</p>"
        if data.not_submitted
        else ""
    )
    return f"{figure}{summary}<details><summary>Students per bin</summary><table id='score-bins'>{rows}</table></details>{missing}"


def _tests_section(data):
    if not data.tests:
        return "<p>No test graded yet.</p>"
    note = (
        f"<p class='note'>Pass: the tests gave full marks. High scorers: the top quartile by total, "
        f"{len(data.high_scorers)} student(s) with at least {_number(data.high_cut)} points. A test that high "
        "scorers fail more than half the time is marked likely broken.</p>"
    )
    bars = [
        (
            test.question,
            test.passed / test.graded if test.graded else 0.0,
            f"{test.passed} of {test.graded}",
            test.likely_broken,
        )
        for test in data.tests
    ]
    figure = bar_rows(
        bars, 1.0, "share of graded students who passed", "Pass rate per test", element_id="test-pass-rates"
    )
    rows = "".join(
        f"<tr data-question='{html.escape(t.question)}'{' class=broken' if t.likely_broken else ''}>"
        f"<td>{html.escape(t.question)}</td><td class='number'>{_number(t.points)}</td>"
        f"<td class='number passed'>{t.passed} of {t.graded}</td><td class='number'>{_percent(t.passed, t.graded)}</td>"
        f"<td class='number high'>{t.high_passed} of {t.high_graded}</td>"
        f"<td>{'<span class=broken-mark>likely broken</span>' if t.likely_broken else ''}</td></tr>"
        for t in data.tests
    )
    table = (
        "<table id='tests'><tr><th>test</th><th>points</th><th>passed</th><th>pass rate</th>"
        f"<th>high scorers passed</th><th></th></tr>{rows}</table>"
    )
    return note + figure + table


def _manual_section(data):
    if not data.pending:
        return "<p>Nothing waits for a TA.</p>"
    ordered = sorted(data.pending.items(), key=lambda item: (-item[1]["points"], item[0]))
    top = max(entry["points"] for _, entry in ordered)
    bars = [
        (question, entry["points"], f"{_number(entry['points'])} points, {len(entry['students'])} students", False)
        for question, entry in ordered
    ]
    figure = bar_rows(bars, top, "points", "Points still to grade by hand", element_id="manual-points")
    rows = "".join(
        f"<tr data-question='{html.escape(question)}'><td>{html.escape(question)}</td>"
        f"<td class='number points'>{_number(entry['points'])}</td><td class='number students'>{len(entry['students'])}</td>"
        f"<td>{html.escape(', '.join(sorted(entry['students'])))}</td></tr>"
        for question, entry in ordered
    )
    total = sum(entry["points"] for entry in data.pending.values())
    return (
        f"{figure}<table id='manual'><tr><th>question</th><th>points</th><th>students</th><th>who</th></tr>{rows}"
        f"<tr><th>all</th><td class='number' id='manual-total'>{_number(total)}</td><td></td><td></td></tr></table>"
    )


LATE_BUCKETS = (("up to 1 hour", 3600), ("1 to 24 hours", 86400), ("1 to 3 days", 3 * 86400), ("over 3 days", math.inf))


def _late_section(data):
    if not data.late:
        return "<p>No late hand-in.</p>"
    counts = [0] * len(LATE_BUCKETS)
    for _, seconds, _ in data.late:
        counts[next(i for i, (_, limit) in enumerate(LATE_BUCKETS) if seconds <= limit)] += 1
    figure = histogram(
        counts,
        [label for label, _ in LATE_BUCKETS],
        "late by",
        f"{len(data.late)} late hand-ins",
        element_id="late-histogram",
    )
    rows = "".join(
        f"<tr data-student='{html.escape(student)}'><td>{html.escape(student)}</td><td class='number'>{_late_text(seconds)}</td>"
        f"<td class='number penalty'>{_number(penalty)}</td></tr>"
        for student, seconds, penalty in data.late
    )
    return f"{figure}<table id='late'><tr><th>student</th><th>late by</th><th>penalty (points)</th></tr>{rows}</table>"


def _timing_section(data):
    seconds = data.grading_seconds
    if not seconds:
        return "<p>No grading record (autograded/&lt;student&gt;/&lt;assignment&gt;/grading.json) yet.</p>"
    values = sorted(seconds.values())
    top = values[-1] or 1.0
    bins = 10
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int(value / top * bins))] += 1
    digits = 0 if top >= 50 else 1
    labels = [f"{top * i / bins:.{digits}f}-{top * (i + 1) / bins:.{digits}f} s" for i in range(bins)]
    figure = histogram(
        counts, labels, "seconds", f"Grading time of {len(values)} students", element_id="timing-histogram"
    )
    slowest = sorted(seconds.items(), key=lambda item: -item[1])[:10]
    rows = "".join(
        f"<tr data-student='{html.escape(student)}'><td>{html.escape(student)}</td><td class='number'>{value:.1f}</td></tr>"
        for student, value in slowest
    )
    return (
        f"{figure}<table id='timing-summary'><tr><th>students</th><th>median (s)</th><th>slowest (s)</th><th>all (s)</th></tr>"
        f"<tr><td class='number'>{len(values)}</td><td class='number'>{statistics.median(values):.1f}</td>"
        f"<td class='number'>{values[-1]:.1f}</td><td class='number'>{sum(values):.1f}</td></tr></table>"
        f"<table id='slowest'><tr><th>slowest students</th><th>seconds</th></tr>{rows}</table>"
    )


def _similarity_section(data):
    from autograder.grading.record.similarity_pairs import describe_pair, percent

    if not data.pairs:
        return "<p>No pair flagged (or `python -m autograder similarity` has not run).</p>"
    pairs = sorted(data.pairs, key=lambda row: -max(row["overlap"], row["other_overlap"]))
    bars = [
        (
            f"{row['student']} ~ {row['other']}",
            max(row["overlap"], row["other_overlap"]),
            percent(max(row["overlap"], row["other_overlap"])),
            False,
        )
        for row in pairs
    ]
    figure = bar_rows(
        bars, 1.0, "share of one student's own code found in the other's", "Flagged pairs", element_id="similar-pairs"
    )
    rows = "".join(
        f"<tr><td>{html.escape(row['student'])}</td><td>{html.escape(row['other'])}</td>"
        f"<td class='number'>{percent(row['overlap'])} / {percent(row['other_overlap'])}</td><td>{html.escape(describe_pair(row))}</td></tr>"
        for row in pairs
    )
    return (
        f"{figure}<table id='pairs'><tr><th>student</th><th>other</th><th>overlap</th><th>most overlap</th></tr>{rows}</table>"
        f"<p class='note'>The code side by side: similarity/{html.escape(data.assignment_id)}/report.html.</p>"
    )


def render(data):
    """The page (HTML text) for ClassData."""
    title = f"Class report: {data.assignment_id}" + (f", {data.title}" if data.title else "")
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sections = (
        ("scores", "Score distribution", _scores_section),
        ("tests", "Tests: pass rates", _tests_section),
        ("manual", "Still to grade by hand", _manual_section),
        ("late", "Late hand-ins", _late_section),
        ("timing", "Grading time per student", _timing_section),
        ("similarity", "Similar work", _similarity_section),
    )
    body = "".join(f"<section id='section-{key}'><h2>{name}</h2>{make(data)}</section>" for key, name, make in sections)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class='meta'>{len(data.totals)} of {data.roster} students submitted; "
        f"written {when} from the gradebook.</p>{body}</body></html>"
    )


def write_class_report(course_dir, assignment_id, title="", out=None):
    """Write the page; return (path, ClassData)."""
    from autograder.grading.report.feedback_html import active_content

    data = class_data(course_dir, assignment_id, title)
    page = render(data)
    problems = active_content(page)
    if problems:
        raise RuntimeError(f"the class report has active content ({problems[0]}); not written")
    path = Path(out) if out else Path(course_dir) / "reports" / f"{assignment_id}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path, data
