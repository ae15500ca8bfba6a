"""`report`: an assignment's class on one self-contained page, whose numbers are the gradebook's.

A toy class graded for real: six students with different mistakes, two of them late (a 10 % per day
policy), one who copied another (flagged by `similarity`), everyone's written answer waiting for a TA,
and a test the two best students fail (answer.txt holds 41 in their hand-ins): it must be marked likely
broken. The expected numbers are computed here from the gradebook (plain SQL and nbgrader's API), the
export CSV and the grading records, never from the report's own code; the page is checked as HTML
and in Chromium (figures rendered with a size, no request, no script, the same numbers on screen).
"""

import csv
import json
import math
import os
import re
import sqlite3
import statistics
from datetime import datetime, timedelta, timezone

import pytest

import toy
from autograder.grading.record.course_dir import load_settings
from toy import cli

DUE = datetime(2030, 3, 1, 12, 0, tzinfo=timezone.utc)
COPIED = '''"""Toy student module."""

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
WRONG_ADD = toy.REFERENCE_MODULE.replace("return a + b", "return a - b")
WRONG_SCALE = toy.REFERENCE_MODULE.replace("* k", "* (k + 1)")
# student: (module, solved notebook, answer.txt, hours after the due date)
CLASS = {
    "ada": (COPIED, True, "41\n", -2),
    "fay": (COPIED.replace("total", "running"), True, "41\n", -1),
    "bea": (toy.REFERENCE_MODULE, True, "42\n", 36),
    "cyd": (WRONG_ADD, True, "42\n", -3),
    "dan": (WRONG_SCALE, True, "42\n", 2),
    "eve": (toy.STUB_MODULE, False, "42\n", -5),
}
ROSTER = [*CLASS, "gus"]  # gus hands in nothing


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("class-report")
    course_dir = toy.init_toy_course(root, ROSTER, due={"t1": f"{DUE:%Y-%m-%d %H:%M} UTC"})
    config = course_dir / "nbgrader_config.py"
    config.write_text(
        config.read_text()
        + '\nc.AssignLatePenalties.plugin_class = "autograder.grading.record.nbgrader_course.PercentPerDay"\n'
        + "c.PercentPerDay.percent = 10\n"
    )
    for student, (module, solved, answer, hours) in CLASS.items():
        path = toy.make_zip(
            root / "subs" / f"{student}.zip",
            notebook=toy.notebook(course_dir, solved=solved),
            module=module,
            answer=answer,
        )
        when = (DUE + timedelta(hours=hours)).timestamp()
        os.utime(path, (when, when))
    assert cli("collect", course_dir, "t1", root / "subs").returncode == 0
    graded = cli("grade", course_dir, "t1", "--jobs", "2")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    similar = cli("similarity", course_dir, "t1")
    assert similar.returncode == 0, similar.stdout + similar.stderr
    report = cli("report", course_dir, "t1")
    assert report.returncode == 0, report.stdout + report.stderr
    exported = cli("export", course_dir)
    assert exported.returncode == 0, exported.stderr
    page = course_dir / "reports" / "t1.html"
    print(f"class report: {page.stat().st_size} bytes for {len(CLASS)} students")
    return course_dir, page, report.stdout


def expected_numbers(course_dir):
    """What the page must show, from the gradebook, the export CSV and the grading records."""
    with open(course_dir / "grades_t1.csv") as f:
        rows = [row for row in csv.DictReader(f) if row["student_id"] != "(max)"]
    submitted = {row["student_id"]: float(row["total"]) for row in rows if row["still_to_grade"] != "not submitted"}
    database = load_settings(course_dir)["db_url"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        cells = db.execute(
            "SELECT student, notebook || ':' || grade_id, auto_score, max_score FROM autograder_cells "
            "WHERE assignment = 't1' AND kind = 'test'"
        ).fetchall()
        pairs = db.execute("SELECT student, other FROM autograder_similarity WHERE assignment = 't1'").fetchall()
    ranked = sorted(submitted.values(), reverse=True)
    cut = ranked[math.ceil(len(ranked) / 4) - 1]
    high = {student for student, total in submitted.items() if total >= cut}
    tests = {}
    for student, question, score, maximum in cells:
        entry = tests.setdefault(question, {"passed": 0, "graded": 0, "high_passed": 0, "high_graded": 0})
        full = score is not None and score >= maximum
        entry["graded"] += 1
        entry["passed"] += full
        entry["high_graded"] += student in high
        entry["high_passed"] += full and student in high
    from nbgrader.api import Gradebook

    settings = load_settings(course_dir)
    manual = {}
    with Gradebook(settings["db_url"], settings["course_id"]) as gradebook:
        for student in submitted:
            for notebook in gradebook.find_submission("t1", student).notebooks:
                for grade in notebook.grades:
                    if grade.needs_manual_grade:
                        entry = manual.setdefault(f"{notebook.name}:{grade.name}", {"points": 0.0, "students": 0})
                        entry["points"] += grade.max_score
                        entry["students"] += 1
    late = {row["student_id"]: float(row["late_penalty"]) for row in rows if row["late_by"]}
    seconds = {
        student: json.loads((course_dir / "autograded" / student / "t1" / "grading.json").read_text())["seconds"]
        for student in submitted
    }
    return {
        "totals": submitted,
        "tests": tests,
        "broken": {q for q, e in tests.items() if e["high_graded"] and e["high_passed"] * 2 < e["high_graded"]},
        "manual": manual,
        "late": late,
        "seconds": seconds,
        "pairs": {frozenset(pair) for pair in pairs},
    }


def _cell_number(text):
    return float(re.sub(r"[^0-9.\-]", "", text))


def shown_numbers(soup):
    """The numbers the page shows, read from its tables."""
    summary = [cell.get_text() for cell in soup.select("#score-summary tr")[1].find_all("td")]
    tests = {}
    for row in soup.select("#tests tr[data-question]"):
        passed, graded = map(int, re.findall(r"\d+", row.select_one(".passed").get_text()))
        high_passed, high_graded = map(int, re.findall(r"\d+", row.select_one(".high").get_text()))
        tests[row["data-question"]] = {
            "passed": passed,
            "graded": graded,
            "high_passed": high_passed,
            "high_graded": high_graded,
        }
    return {
        "summary": summary,
        "bins": [int(row.find_all("td")[1].get_text()) for row in soup.select("#score-bins tr")],
        "tests": tests,
        "broken": {row["data-question"] for row in soup.select("#tests tr.broken")},
        "manual": {
            row["data-question"]: {
                "points": _cell_number(row.select_one(".points").get_text()),
                "students": int(row.select_one(".students").get_text()),
            }
            for row in soup.select("#manual tr[data-question]")
        },
        "late": {
            row["data-student"]: _cell_number(row.select_one(".penalty").get_text())
            for row in soup.select("#late tr[data-student]")
        },
        "slowest": {
            row["data-student"]: _cell_number(row.find_all("td")[1].get_text())
            for row in soup.select("#slowest tr[data-student]")
        },
        "pairs": {
            frozenset(cell.get_text() for cell in row.find_all("td")[:2]) for row in soup.select("#pairs tr")[1:]
        },
    }


def check_numbers(shown, expected):
    totals = sorted(expected["totals"].values())
    assert shown["summary"][0] == str(len(totals))
    assert float(shown["summary"][1]) == pytest.approx(statistics.mean(totals), abs=0.005)
    assert float(shown["summary"][2]) == pytest.approx(statistics.median(totals))
    assert (float(shown["summary"][3]), float(shown["summary"][4])) == (totals[0], totals[-1])
    maximum = 9.0  # the toy notebook's points: 1 + 2 + 3 + 1 tests and a 2-point written answer
    assert float(shown["summary"][5]) == maximum
    bins = [0] * 9  # one bin per point: [0, 1), [1, 2), ... with the maximum in the last
    for total in totals:
        bins[min(8, int(total))] += 1
    assert shown["bins"] == bins
    assert shown["tests"] == expected["tests"]
    assert shown["broken"] == expected["broken"] == {"toy:test_answer_file"}
    assert shown["manual"] == expected["manual"] and expected["manual"]
    assert shown["late"] == expected["late"] and set(expected["late"]) == {"bea", "dan"}
    slowest = sorted(expected["seconds"].items(), key=lambda item: -item[1])[:10]
    assert shown["slowest"] == pytest.approx({student: round(value, 1) for student, value in slowest}, abs=0.051)
    assert shown["pairs"] == expected["pairs"] == {frozenset(("ada", "fay"))}


@pytest.mark.slow
def test_the_page_shows_the_gradebooks_numbers_and_marks_the_test_high_scorers_fail(graded_class):
    from bs4 import BeautifulSoup

    from autograder.grading.report.feedback_html import active_content

    course_dir, page, stdout = graded_class
    soup = BeautifulSoup(page.read_text(), "html.parser")
    assert active_content(soup) == [] and not soup.find_all(["script", "link", "img", "iframe"])
    check_numbers(shown_numbers(soup), expected_numbers(course_dir))
    assert "likely broken (high scorers fail them more than half the time): toy:test_answer_file" in stdout
    assert len(soup.find_all("svg")) == 6
    assert "gus" in soup.select_one("#section-scores").get_text()  # not submitted


@pytest.mark.slow
@pytest.mark.browser
def test_in_chromium_the_figures_render_nothing_is_requested_and_the_numbers_match(graded_class, tmp_path):
    playwright = pytest.importorskip(
        "playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[dev]')"
    )
    from optional_tools import chromium_path

    chromium = chromium_path("the class report in a browser")
    from bs4 import BeautifulSoup

    course_dir, page_path, _ = graded_class
    url = page_path.as_uri()
    requests, dialogs = [], []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 900}, java_script_enabled=True)
            page = context.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(url, wait_until="load")
            page.screenshot(path=str(tmp_path / "class_report.png"), full_page=True)
            figures = page.locator("figure svg")
            assert figures.count() == 6
            for index in range(figures.count()):
                box = figures.nth(index).bounding_box()
                assert box and box["width"] > 100 and box["height"] > 50, box
                assert figures.nth(index).locator("rect").count() > 0
            bars = page.locator("#test-pass-rates rect.marked")
            assert bars.count() == 1 and bars.first.bounding_box()["width"] > 0
            assert page.evaluate("document.scripts.length") == 0
            rendered = page.content()
        finally:
            browser.close()
    assert dialogs == []
    assert requests == [url]  # the page itself, nothing else
    assert (tmp_path / "class_report.png").stat().st_size > 10_000
    check_numbers(shown_numbers(BeautifulSoup(rendered, "html.parser")), expected_numbers(course_dir))
