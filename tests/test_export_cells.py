"""`export` writes names as text a spreadsheet shows, never runs: the roster comes from an LMS where
students set their own names, so a cell starting with =, +, -, @ gets a ' in front and control
characters are escaped; ids and numbers stay as they are."""

import csv

from toy import cli

NAMES = {
    "ada": ('=HYPERLINK("http://evil.example","x")', "+SUM(A1:A9)", "@cmd"),
    "bea": ("-2+3", "Toy\x1b[2J", "bea@example.edu"),
    "cyd": ("Cyd", "O'Toy", "cyd@example.edu"),
}


def test_export_keeps_roster_names_from_being_read_as_formulas_or_escapes(tmp_path):
    roster = tmp_path / "roster.csv"
    with open(roster, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "first_name", "last_name", "email"])
        writer.writerows([student, *names] for student, names in NAMES.items())
    course_dir = tmp_path / "course"
    assert cli("init", course_dir, "--roster", roster).returncode == 0
    done = cli("export", course_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(course_dir / "grades.csv", newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert (rows["ada"]["first_name"], rows["ada"]["last_name"], rows["ada"]["email"]) == (
        "'" + NAMES["ada"][0],
        "'+SUM(A1:A9)",
        "'@cmd",
    )
    assert (rows["bea"]["first_name"], rows["bea"]["last_name"]) == ("'-2+3", "Toy\\x1b[2J")
    assert (rows["cyd"]["first_name"], rows["cyd"]["last_name"], rows["cyd"]["email"]) == NAMES["cyd"]
    assert rows["cyd"]["total"] == "0"
    for row in rows.values():
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row.values())
