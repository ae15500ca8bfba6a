"""In a real browser (headless Chromium driven by Playwright) against real `jupyter lab` servers:

(a) a TA opens formgrader from JupyterLab, grades a written answer with a comment, and the score and
    comment show in `export` and in the student's `feedback` page;
(b) a student opens the A1 notebook of the release in JupyterLab (fetched from the exchange, with the
    assignment's cs_lib files beside it), runs its setup cell and a visible test cell, and sees the result;
(c) a hostile student's HTML output and raw HTML in a written answer run neither in the TA's formgrader
    view nor in the student's feedback page (title, DOM and dialogs unchanged), while the same
    notebook left unsanitised does run them (the control that shows this test can fail).

Screenshots go to each test's temporary folder. Chromium is Debian's (`apt-get install chromium`;
.ci/run installs it): browsers are never downloaded. The tests skip only where it is missing.
"""

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

import toy
from autograder.common.course import load_course
from autograder.grading.intake.collect import collect
from autograder.grading.record.course_dir import init_course, roster_ids
from toy import cli

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
WAIT_MS = 180_000  # a slow, shared CI machine; every wait ends as soon as its condition holds
ATTACK = (
    "document.title='pwned';window.__pwned=1;"
    "document.body.insertAdjacentHTML('beforeend','<p id=pwned>pwned</p>');alert('student code ran')"
)
HOSTILE_OUTPUT = f'<script>{ATTACK}</script><img src=x onerror="{ATTACK}">'
HOSTILE_ANSWER = f'Adding is commutative. <img src=x onerror="{ATTACK}"> <script>{ATTACK}</script>'
COMMENT = "Right property; now say why it makes the loss symmetric."


def chromium():
    from optional_tools import chromium_path

    return chromium_path("the browser tests (formgrader, feedback pages, JupyterLab)")


@pytest.fixture(scope="module", autouse=True)
def needs_chromium():
    """Before any module fixture grades a course or starts a server: skip (or fail under CI) without Chromium."""
    return chromium()


@pytest.fixture(scope="module")
def browser():
    path = chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is a dev dependency: pip install -e '.[dev]' (never `playwright install`)")
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.dialogs = []

    def on_dialog(dialog):
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page
    page.screenshot(path=tmp_path / "last.png")  # what the page showed when the test ended, passed or not
    context.close()


def jupyter_env(folder, keep_pythonpath=True):
    """Environment for a jupyter server of the test's own: private runtime, config and settings folders
    (JupyterLab's news prompt off; every notebook cell in the page, so a cell far down can be clicked)."""
    settings = folder / "lab-settings"
    for name, content in {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    }.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(content))
    env = dict(
        os.environ,
        CS_COURSE_FILE=str(toy.COURSE_FILE),
        JUPYTER_RUNTIME_DIR=str(folder / "runtime"),
        JUPYTER_CONFIG_DIR=str(folder / "config"),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(folder / "workspaces"),
    )
    if not keep_pythonpath:
        env.pop("PYTHONPATH", None)  # tests/conftest.py points it at the reference cs_lib
    return env


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory):
    """The toy course graded for ada (an honest written answer) and mal (a hostile output and answer)."""
    root = tmp_path_factory.mktemp("browser-course")
    (root / "roster.csv").write_text("id,first_name,last_name\nada,Ada,Lovelace\nmal,Mal,Icious\n")
    course_dir = root / "course"
    init_course(course_dir, toy.course(), roster=root / "roster.csv", cell_timeout=20)
    for student, answer, extra in (
        ("ada", "Adding is commutative: a + b = b + a.", ""),
        ("mal", HOSTILE_ANSWER, f"\n\nfrom IPython.display import HTML, display\ndisplay(HTML({HOSTILE_OUTPUT!r}))\n"),
    ):
        notebook = toy.notebook(course_dir)
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id == "explain":
                cell.source = answer
            elif grade_id == "double":
                cell.source += extra
        toy.make_zip(root / "subs" / f"{student}.zip", notebook=notebook)
    collect(course_dir, toy.course(), "t1", root / "subs", roster_ids(course_dir))
    graded = cli("grade", course_dir, "t1", "--jobs", "2")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    return course_dir


@pytest.fixture(scope="module")
def formgrader(course_dir, tmp_path_factory):
    """`python -m autograder formgrader COURSE`, as a TA starts it; yields the URLs it prints."""
    folder = tmp_path_factory.mktemp("formgrader")
    process = subprocess.Popen(
        [sys.executable, "-m", "autograder", "formgrader", str(course_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=jupyter_env(folder),
        cwd=REPO,
        start_new_session=True,
    )
    urls, printed = {}, []
    try:
        for line in process.stdout:  # ends when the command exits
            printed.append(line)
            match = re.match(r"(formgrader|JupyterLab): (http://\S+)", line)
            if match:
                urls[match.group(1)] = match.group(2)
            if len(urls) == 2:
                break
        assert len(urls) == 2, "formgrader printed no URLs:\n" + "".join(printed)
        base, token = re.match(r"(http://[^/]+)/formgrader\?token=(\w+)", urls["formgrader"]).groups()
        yield {"lab": urls["JupyterLab"], "base": base, "token": token}
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # as a service manager stops it
        process.wait(60)
    with pytest.raises(urllib.error.URLError):  # nothing answers: the JupyterLab it started stopped with it
        urllib.request.urlopen(f"{base}/api/status", timeout=5)


def open_submission_in_lab(page, formgrader, name, shots):
    """JupyterLab > Nbgrader > Formgrader > Manual Grading > t1 > toy > (names shown) > the student."""
    page.goto(formgrader["lab"])
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Formgrader", exact=True).click()
    frame = page.frame_locator("iframe[src*='formgrader']")
    frame.get_by_role("link", name="Manual Grading").click()
    frame.get_by_role("link", name="t1", exact=True).click()
    frame.get_by_role("link", name="toy", exact=True).click()
    frame.get_by_role("link", name="Submission #2").wait_for()  # the table has loaded
    frame.get_by_role("button", name="Show All Names").click()
    page.screenshot(path=shots / "formgrader-submissions.png")
    frame.get_by_role("link", name=name).click()
    frame.locator("#explain").wait_for()
    # formgrader fetches the scores and comments after the page shows, and only then listens to the boxes:
    # what is typed before that is never saved
    submission = next(f for f in page.frames if "/formgrader/submissions/" in f.url)
    submission.wait_for_function("() => window.formgrader && formgrader.grades.loaded && formgrader.comments.loaded")
    return frame


def answer_panel(frame):
    """The written answer `explain` as formgrader shows it, with its score and comment boxes."""
    return frame.locator(".nbgrader_cell", has=frame.locator("#explain-comment"))


def grades(course_dir):
    with open(course_dir / "grades_t1.csv") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


def test_ta_grades_a_written_answer_in_formgrader_and_export_and_feedback_show_it(
    formgrader, course_dir, page, tmp_path
):
    from playwright.sync_api import expect

    frame = open_submission_in_lab(page, formgrader, "Lovelace, Ada", tmp_path)
    expect(answer_panel(frame)).to_contain_text("Adding is commutative")
    saved = lambda kind: lambda r: f"/formgrader/api/{kind}/" in r.url and r.request.method == "PUT"  # noqa: E731
    with page.expect_response(saved("grade")) as grade_saved:
        frame.locator("#explain").fill("1.5")
        frame.locator("#explain").press("Tab")
    with page.expect_response(saved("comment")) as comment_saved:
        frame.locator("#explain-comment").fill(COMMENT)
        frame.locator("#explain-comment").press("Tab")
    assert grade_saved.value.ok and grade_saved.value.json()["manual_score"] == 1.5
    assert comment_saved.value.ok and comment_saved.value.json()["manual_comment"] == COMMENT
    page.screenshot(path=tmp_path / "formgrader-graded.png")

    exported = cli("export", course_dir)
    assert exported.returncode == 0, exported.stderr
    ada = grades(course_dir)["ada"]
    assert ada["toy:explain"] == "1.5" and ada["manual_points"] == "1.5" and ada["total"] == "8.5"
    assert ada["comments"] == f"toy:explain: {COMMENT}" and ada["still_to_grade"] == ""

    written = cli("feedback", course_dir, "t1", "--students", "ada")
    assert written.returncode == 0, written.stdout + written.stderr
    page.goto((course_dir / "feedback" / "ada" / "t1" / "toy.html").as_uri())
    body = page.locator("body")
    expect(body).to_contain_text(COMMENT)
    expect(body).to_contain_text(re.compile(r"explain[\s\S]{0,200}1\.5 */ *2"))
    page.screenshot(path=tmp_path / "feedback-ada.png", full_page=True)


def assert_nothing_ran(page, title):
    assert page.dialogs == [], f"student code opened dialogs: {page.dialogs}"
    assert page.title() == title
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("#pwned").count() == 0


def unsanitised(notebook_path):
    """The installed notebook with mal's hostile output and answer as the kernel and the student wrote them."""
    notebook = nbformat.read(str(notebook_path), as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "double":
            cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": HOSTILE_OUTPUT})]
        elif grade_id == "explain":
            cell.source = HOSTILE_ANSWER
    return notebook


def test_hostile_output_and_answer_run_neither_in_formgrader_nor_in_feedback(formgrader, course_dir, page, tmp_path):
    from nbconvert import HTMLExporter
    from playwright.sync_api import expect

    installed = course_dir / "autograded" / "mal" / "t1" / "toy.ipynb"
    outputs = [o for c in nbformat.read(str(installed), as_version=4).cells for o in c.get("outputs", [])]
    assert outputs and not any(set(o.get("data", {})) - {"text/plain", "image/png"} for o in outputs)

    # the TA's view, inside JupyterLab
    frame = open_submission_in_lab(page, formgrader, "Icious, Mal", tmp_path)
    expect(frame.locator("body")).to_contain_text("[text/html output shown as text]")
    expect(answer_panel(frame)).to_contain_text("onerror=")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=tmp_path / "formgrader-hostile.png")
    lab_title = page.title()
    assert_nothing_ran(page, lab_title)
    view = next(f for f in page.frames if "/formgrader/submissions/" in f.url)
    assert view.evaluate("typeof window.__pwned") == "undefined" and view.title() == "toy"

    # the same page on its own, with its own title
    page.goto(view.url)
    page.wait_for_load_state("networkidle")
    assert_nothing_ran(page, "toy")

    # the student's feedback page
    written = cli("feedback", course_dir, "t1", "--students", "mal")
    assert written.returncode == 0, written.stdout + written.stderr
    feedback = course_dir / "feedback" / "mal" / "t1" / "toy.html"
    title = re.search(r"<title>(.*?)</title>", feedback.read_text(), re.S).group(1).strip()
    page.goto(feedback.as_uri())
    page.wait_for_load_state("networkidle")
    expect(page.locator("body")).to_contain_text("onerror=")
    page.screenshot(path=tmp_path / "feedback-hostile.png", full_page=True)
    assert_nothing_ran(page, title)

    # control: the same notebook not made inert runs the student's code in both views
    control = tmp_path / "unsanitised.html"
    control.write_text(HTMLExporter(template_name="lab").from_notebook_node(unsanitised(installed))[0])
    page.goto(control.as_uri())
    page.wait_for_load_state("networkidle")
    assert page.dialogs and page.title() == "pwned"
    page.dialogs.clear()
    kept = installed.read_bytes()
    try:
        nbformat.write(unsanitised(installed), str(installed))
        page.goto(view.url)
        page.wait_for_load_state("networkidle")
        assert page.dialogs and page.evaluate("typeof window.__pwned") == "number"
    finally:
        installed.write_bytes(kept)


def test_student_runs_the_a1_setup_and_a_visible_test_in_jupyterlab(page, tmp_path):
    from playwright.sync_api import expect

    from autograder.grading.intake.exchange import outbound_files
    from autograder.grading.record.formgrader import start_lab

    assignment = load_course().assignment("a1")
    release = {
        "assignments/a1/linear_classifiers.ipynb": (REPO / "assignments/a1/linear_classifiers.ipynb").read_bytes()
    }
    release.update({name: (REPO / name).read_bytes() for name in assignment.student_files})
    folder = tmp_path / "home" / "a1"  # what the student fetched from the exchange
    for name, data in outbound_files(assignment, release).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    implemented = REPO / "solutions" / "cs_lib" / "classifiers" / "linear_svm.py"
    shutil.copyfile(implemented, folder / "cs_lib" / "classifiers" / "linear_svm.py")  # the student's work

    server = start_lab(tmp_path / "home", env=jupyter_env(tmp_path, keep_pythonpath=False), log=tmp_path / "lab.log")
    try:
        page.goto(f"{server.base}/lab/tree/a1/linear_classifiers.ipynb?token={server.token}")
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()  # the kernel is up and connected
        setup = page.locator(".jp-Notebook .jp-CodeCell").first
        setup.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        expect(setup.locator(".jp-OutputArea")).to_contain_text("a1 on this machine")
        expect(setup.locator(".jp-OutputArea")).to_contain_text("ready")

        test = page.locator(".jp-Notebook .jp-CodeCell", has_text="svm_loss_naive on the lecture's example")
        test.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        output = test.locator(".jp-OutputArea")
        expect(output).to_contain_text("reg = 0.1: dW relative error")
        assert "Error" not in output.inner_text()
        test.scroll_into_view_if_needed()
    finally:
        page.screenshot(path=tmp_path / "student-a1.png")
        server.stop()
