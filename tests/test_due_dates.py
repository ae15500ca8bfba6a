"""`init --due`: a due date in an IANA zone or with a numeric offset is stored as the right UTC time; an
unknown zone, an abbreviation, a date without a time or a local time a clock change skips or repeats is
refused with what to write (a wrong due date would silently change every late penalty)."""

import json

import pytest

import toy
from toy import cli


@pytest.fixture(scope="module")
def toy_template(tmp_path_factory):
    return toy.init_toy_course(tmp_path_factory.mktemp("toy-due"), ["ada"])


@pytest.fixture
def course_dir(toy_template, tmp_path):
    return toy.fresh_course(toy_template, tmp_path / "course")


@pytest.mark.parametrize(
    "written, utc",
    [
        ("2025-10-03 23:59 Europe/Berlin", "2025-10-03 21:59:00 UTC"),  # CEST, +02:00 on that date
        ("2025-12-03 23:59 Europe/Berlin", "2025-12-03 22:59:00 UTC"),  # CET, +01:00
        ("2025-10-03 23:59 +0200", "2025-10-03 21:59:00 UTC"),
        ("2025-10-03 23:59 +02:00", "2025-10-03 21:59:00 UTC"),
        ("2025-10-03T23:59-05:30", "2025-10-04 05:29:00 UTC"),
        ("2025-10-03 23:59 America/New_York", "2025-10-04 03:59:00 UTC"),
        ("2025-10-03 23:59", "2025-10-03 23:59:00 UTC"),
    ],
)
def test_init_due_stores_the_utc_time_of_a_zone_name_or_an_offset(course_dir, written, utc):
    done = cli("init", course_dir, "--due", f"t1={written}")
    assert done.returncode == 0, done.stderr
    assert f"t1 due {utc}" in done.stdout
    assert json.loads((course_dir / "course.json").read_text())["due"] == {"t1": utc}


@pytest.mark.parametrize(
    "written, fix",
    [
        ("2025-10-03 23:59 Europe/Berln", "did you mean Europe/Berlin?"),
        ("2025-10-03 23:59 CEST", "an abbreviation"),
        ("2025-10-03 23:59 EST", "give the zone's IANA name or the offset"),
        ("2025-10-03", "has no time of day"),
        ("2025-03-30 02:30 Europe/Berlin", "does not exist in Europe/Berlin"),
        ("2025-10-26 02:30 Europe/Berlin", "happens twice in Europe/Berlin"),
        ("2025-10-03 23:59 +15:00", "which no place on Earth uses"),
        ("next friday-ish", "is not a date and time"),
    ],
)
def test_init_due_refuses_what_it_cannot_read_exactly_naming_the_fix(course_dir, written, fix):
    kept = cli("init", course_dir, "--due", "t1=2030-03-01 12:00 UTC")
    assert kept.returncode == 0, kept.stderr
    refused = cli("init", course_dir, "--due", f"t1={written}")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert fix in refused.stderr and "Traceback" not in refused.stderr
    assert '"2025-10-03 23:59 Europe/Berlin"' in refused.stderr  # what to write instead
    assert json.loads((course_dir / "course.json").read_text())["due"] == {"t1": "2030-03-01 12:00:00 UTC"}
