"""Adversarial submissions: each attack or fault is one student in one grading batch.

For every crafted submission the batch must complete, the attacker must get no undue points
(points honestly earned elsewhere still count where the attack does not touch them), the honest
students must get exactly the grades they get in a batch without attackers, the gradebook must
stay intact, and no hidden test source may appear in any feedback page.
"""

import http.server
import json
import sqlite3
import threading
from pathlib import Path

import nbformat
import pytest

import toy
from autograder.grading.intake.collect import collect
from autograder.grading.record.course_dir import import_roster, init_course, roster_ids
from autograder.grading.report.feedback import feedback
from autograder.grading.run.batch import grade
from autograder.grading.run.sandbox import Limits, bwrap_works

pytestmark = pytest.mark.slow

GOOD_SCALE = "\n\ndef scale(x, k):\n    return np.asarray(x, dtype=float) * k\n"


def module(add_body, header=""):
    body = "\n".join("    " + line for line in add_body.strip().splitlines())
    return f"import numpy as np\n{header}\n\ndef add(a, b):\n{body}\n{GOOD_SCALE}"


def edited_notebook(course_dir, change):
    notebook = toy.notebook(course_dir)
    change(notebook)
    return notebook


def cell_index(notebook, grade_id):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in notebook.cells].index(grade_id)


class Server:
    """A local HTTP server that records every request (network attacks must never reach it)."""

    def __init__(self):
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"reached")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def attacks(course_dir, server_port):
    """{student: (zip kwargs, expected auto points)}. Full marks are 7 (1 + 2 + 3 + 1)."""
    solved = toy.notebook(course_dir)
    gradebook = course_dir / "gradebook.db"
    secrets = [
        str(gradebook),
        str(course_dir / "source" / "t1" / "toy.ipynb"),
        str(toy.COURSE_FILE),
        str(Path(__file__).resolve().parents[1] / "solutions" / "course.toml"),
        str(course_dir / "submitted" / "honest" / "t1" / "toy.ipynb"),
        "../../../gradebook.db",
        "/etc/shadow",
    ]
    read_everything = "\n".join(
        [
            f"for path in {secrets!r}:",
            "    try:",
            "        print('READ', path, open(path).read()[:2000])",
            "    except Exception as error:",
            "        print('DENIED', path, type(error).__name__)",
            # the grading machine's data folder: the embedded dataset, nothing else, in the kernel; the
            # trusted grader's call server gets no data folder at all
            "import os",
            "if 'CS_DATA_DIR' in os.environ:",
            "    print('DATA', sorted(os.listdir(os.environ['CS_DATA_DIR'])))",
            "return a + b",
        ]
    )
    forge = (
        "import sqlite3\n"
        "for path in [" + repr(str(gradebook)) + ", 'gradebook.db', '../gradebook.db']:\n"
        "    try:\n"
        "        db = sqlite3.connect(path)\n"
        "        db.execute('UPDATE grade SET auto_score = 1000')\n"
        "        db.commit()\n"
        "    except Exception:\n"
        "        pass\n"
        "return a + b"
    )

    def drop_test(notebook):
        del notebook.cells[cell_index(notebook, "test_add")]

    def edit_test(notebook):
        notebook.cells[cell_index(notebook, "test_add")].source = "pass"

    def duplicate_test(notebook):
        index = cell_index(notebook, "test_scale")
        notebook.cells.insert(index, nbformat.from_dict(notebook.cells[index]))
        notebook.cells[index].id = "copy-of-test-scale"

    wrong_add = module("return a - b")
    return {
        "infinite_loop": ({"notebook": solved, "module": module("while True:\n    pass")}, 5),
        "long_sleep": ({"notebook": solved, "module": module("import time\ntime.sleep(10**6)")}, 5),
        "memory_bomb": (
            {"notebook": solved, "module": module("blocks = []\nwhile True:\n    blocks.append(bytearray(2**26))")},
            5,
        ),
        "fork_bomb": (
            {
                "notebook": solved,
                "module": module(
                    "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
                ),
            },
            5,
        ),
        "os_exit": ({"notebook": solved, "module": module("import os\nos._exit(3)")}, 5),
        "segfault": ({"notebook": solved, "module": module("import faulthandler\nfaulthandler._sigsegv()")}, 5),
        "ctypes_segfault": ({"notebook": solved, "module": module("import ctypes\nctypes.string_at(0)")}, 0),
        "output_flood": ({"notebook": solved, "module": module("print('x\\n' * 10**6)\nreturn a + b")}, 7),
        "huge_file": (
            {
                "notebook": solved,
                "module": module(
                    "with open('huge.bin', 'wb') as f:\n    for _ in range(64):\n        f.write(bytes(2**25))\nreturn a + b"
                ),
            },
            5,
        ),
        "network": (
            {
                "notebook": solved,
                "module": module(
                    "import urllib.request\ntry:\n"
                    f"    urllib.request.urlopen('http://127.0.0.1:{server_port}/stolen', timeout=3)\n"
                    "except Exception:\n    pass\nreturn a + b"
                ),
            },
            7,
        ),
        "read_secrets": ({"notebook": solved, "module": module(read_everything)}, 7),
        "sql_forgery": ({"notebook": solved, "module": module(forge)}, 7),
        "read_cwd_notebook": (
            {
                "notebook": solved,
                "module": module(
                    "import glob, os\nprint('FILES', sorted(os.listdir('.')))\n"
                    "for path in glob.glob('*.ipynb') + glob.glob('../*.ipynb'):\n    print(open(path).read())\n"
                    "return a + b"
                ),
            },
            7,
        ),
        "history_snoop": (
            {"notebook": solved, "module": module("import __main__\nprint(__main__.In)\nreturn a + b")},
            7,
        ),
        "edit_locked_test": ({"notebook": edited_notebook(course_dir, edit_test), "module": wrong_add}, 5),
        "delete_locked_test": ({"notebook": edited_notebook(course_dir, drop_test), "module": wrong_add}, 5),
        "duplicate_locked_test": ({"notebook": edited_notebook(course_dir, duplicate_test), "module": wrong_add}, 5),
        "corrupt_json": ({"notebook": '{"cells": [ this is not json'}, 0),
        "missing_notebook": ({"notebook": None}, 0),
        "renamed_notebook": ({"notebook": None, "entries": {"t1/toy_final.ipynb": nbformat.writes(solved)}}, 0),
        "eq_always_true": (
            {
                "notebook": solved,
                "module": module(
                    "class Anything:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\n"
                    "return Anything()"
                ),
            },
            5,
        ),
        "patch_numpy": (
            {
                "notebook": solved,
                "module": module(
                    "return a - b", header="np.allclose = lambda *args, **kwargs: True\nnp.isclose = np.allclose"
                ),
            },
            0,
        ),
        "patch_checks": (
            {
                "notebook": solved,
                "module": module(
                    "return a - b",
                    header="import cs_lib.checks\ncs_lib.checks.check_scalar = lambda *args, **kwargs: None",
                ),
            },
            0,
        ),
        "stderr_warnings": (
            {
                "notebook": solved,
                "module": module(
                    "import sys, warnings\nwarnings.warn('deprecated!')\nprint('noise', file=sys.stderr)\nreturn a + b",
                    header="import warnings\nwarnings.warn('at import')",
                ),
            },
            7,
        ),
        "replace_provided": (
            {
                "notebook": solved,
                "module": wrong_add,
                "entries": {
                    "cs_lib/checks.py": "def check_scalar(*a, **k):\n    pass\n",
                    "cs_lib/__init__.py": "RIGGED = True\n",
                },
            },
            5,
        ),
        "zip_traversal": (
            {
                "notebook": solved,
                "entries": {"../../battery_outside.txt": "escaped", "/tmp/battery_absolute_marker": "escaped"},
            },
            7,
        ),
        "symlink_escape": (
            {
                "notebook": solved,
                "answer": None,
                "links": {"t1/answer.txt": "/etc/passwd", "cs_lib/extra.py": str(gradebook)},
            },
            6,
        ),
    }


@pytest.fixture(scope="module")
def battery(tmp_path_factory):
    if not bwrap_works():
        from optional_tools import bwrap_absent

        bwrap_absent("the sandbox battery")
    root = tmp_path_factory.mktemp("battery")
    server = Server()
    limits = Limits(memory_mb=1024, processes=32, cpu_seconds=120, file_size_mb=128, workdir_mb=256)
    runs = {}
    for run in ("baseline", "attacked"):
        course_dir = root / run / "course"
        roster = root / f"{run}.csv"
        roster.write_text("id\nhonest\nhalfway\n")
        settings = init_course(course_dir, toy.course(), roster=roster, cell_timeout=8)
        planned = attacks(course_dir, server.port) if run == "attacked" else {}
        import_roster(settings["db_url"], settings["course_id"], [{"id": student} for student in planned])
        subs = root / run / "subs"
        toy.make_zip(subs / "honest.zip", notebook=toy.notebook(course_dir))
        toy.make_zip(
            subs / "halfway.zip",
            notebook=toy.notebook(course_dir, solved=False),
            module=module("return a + b").replace("return np.asarray(x, dtype=float) * k", "return x"),
        )
        expected = {}
        for student, (kwargs, points) in planned.items():
            toy.make_zip(subs / f"{student}.zip", **kwargs)
            expected[student] = points
        collected = {c.student: c for c in collect(course_dir, toy.course(), "t1", subs, roster_ids(course_dir))}
        results, _ = grade(
            course_dir, toy.course(), "t1", jobs=2, limits=limits, cell_timeout=8, notebook_timeout=90, progress=False
        )
        feedback(course_dir, toy.course(), "t1")
        runs[run] = {
            "course_dir": course_dir,
            "results": {r.student: r for r in results},
            "expected": expected,
            "collected": collected,
            "root": root,
        }
    runs["server"] = server
    return runs


def test_the_batch_completes_with_a_result_for_every_student(battery):
    attacked = battery["attacked"]
    assert set(attacked["results"]) == set(attacked["expected"]) | {"honest", "halfway"}


def test_attackers_get_no_undue_points_and_keep_honest_ones(battery):
    attacked = battery["attacked"]
    wrong = {}
    for student, expected in attacked["expected"].items():
        result = attacked["results"][student]
        if result.score != expected:
            wrong[student] = (result.score, expected, result.status, result.reasons[:2])
    assert not wrong, wrong


def test_honest_students_get_the_same_grades_as_without_attackers(battery):
    for student in ("honest", "halfway"):
        base = battery["baseline"]["results"][student]
        attacked = battery["attacked"]["results"][student]
        assert (attacked.score, attacked.max_score, attacked.status) == (base.score, base.max_score, base.status)
    assert battery["attacked"]["results"]["honest"].score == 7


def test_the_gradebook_is_intact(battery):
    course_dir = battery["attacked"]["course_dir"]
    with sqlite3.connect(course_dir / "gradebook.db") as db:
        scores = [row[0] for row in db.execute("SELECT auto_score FROM grade WHERE auto_score IS NOT NULL")]
        students = {row[0] for row in db.execute("SELECT id FROM student")}
    assert max(scores) <= 3  # no cell is worth more than 3 points
    assert students == set(battery["attacked"]["results"])


def test_tampering_is_flagged_for_review(battery):
    results = battery["attacked"]["results"]
    for student in ("patch_numpy", "patch_checks", "ctypes_segfault"):
        assert results[student].status == "review", (student, results[student].reasons)
        assert results[student].needs_manual > 0


def test_failures_are_recorded_with_their_reason(battery):
    reasons = {student: " ".join(result.reasons) for student, result in battery["attacked"]["results"].items()}
    assert (
        "limit" in reasons["infinite_loop"]
        or "timed out" in reasons["infinite_loop"]
        or "past the" in reasons["infinite_loop"]
    )
    assert "kernel died" in reasons["os_exit"]
    assert "not submitted" in reasons["missing_notebook"] and "not submitted" in reasons["renamed_notebook"]
    collected = battery["attacked"]["collected"]
    assert any("not valid notebook JSON" in p for p in collected["corrupt_json"].problems)
    assert any("symbolic link" in p for p in collected["symlink_escape"].problems)
    assert any("outside the submission" in p for p in collected["zip_traversal"].problems)
    assert any("provided files" in p for p in collected["replace_provided"].problems)


def test_nothing_escaped_the_sandbox(battery):
    assert battery["server"].requests == []
    root = battery["attacked"]["root"]
    assert not Path("/tmp/battery_absolute_marker").exists()
    assert not any(root.rglob("battery_outside.txt"))
    assert not any(root.rglob("huge.bin"))
    course_dir = battery["attacked"]["course_dir"]
    executed = (course_dir / "autograded" / "read_secrets" / "t1" / "toy.ipynb").read_text()
    assert "DENIED" in executed and "READ" not in executed.replace("'READ'", "")
    assert "DATA ['embedded']" in executed  # no downloaded CIFAR-10, no reference submissions' files
    # the notebook being graded (hidden tests already restored into it) is not in the kernel's folder
    looked = nbformat.read(str(course_dir / "autograded" / "read_cwd_notebook" / "t1" / "toy.ipynb"), as_version=4)
    printed = "".join(o.get("text", "") for c in looked.cells for o in c.get("outputs", []))
    listing = next(line for line in printed.splitlines() if line.startswith("FILES"))
    assert "answer.txt" in listing and ".ipynb" not in listing and "secret numbers" not in printed
    flood = course_dir / "autograded" / "output_flood" / "t1" / "toy.ipynb"
    assert flood.stat().st_size < 2_000_000


def test_no_feedback_page_shows_hidden_test_code(battery):
    course_dir = battery["attacked"]["course_dir"]
    pages = list((course_dir / "feedback").rglob("*.html"))
    assert len(pages) >= 20
    for page in pages:
        text = page.read_text()
        for secret in ("secret numbers", "hidden-check-marker", "add(-7, 19)", "scale(np.arange(4), -0.5)"):
            assert secret not in text, (page, secret)
    # hidden tests never enter the kernel: what student code printed from its history holds none
    snooped = (course_dir / "autograded" / "history_snoop" / "t1" / "toy.ipynb").read_text()
    for secret in ("secret numbers", "hidden-check-marker", "add(-7, 19)"):
        assert secret not in snooped


def test_grading_json_records_every_student(battery):
    course_dir = battery["attacked"]["course_dir"]
    for student in battery["attacked"]["results"]:
        record = json.loads((course_dir / "autograded" / student / "t1" / "grading.json").read_text())
        assert record["student"] == student
