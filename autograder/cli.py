"""python -m autograder: one command, one subcommand per verb.

Instructor: new, release, verify, publish, demo.
TA: init, collect, grade, similarity, report, feedback, export, review, formgrader.
Student: check, progress, submit.  Each subcommand's --help says what it reads and writes.
The student edition (`publish`) ships only the student commands.
"""

import argparse
import importlib.util
import os
import sys
from pathlib import Path

from autograder.common.course import CourseError, load_course


def cmd_release(args):
    from autograder.instructor import release

    course = load_course()
    files = release.build(course)
    if args.exchange is not None:
        return _release_to_exchange(course, files, args)
    if args.check:
        changed = release.stale(files)
        if changed:
            print("stale generated files (run `python -m autograder release`):")
            for name in changed:
                print(f"  {name}")
            return 1
        print(f"all {len(files)} generated files are up to date")
        return 0
    changed = release.write(files)
    print(f"regenerated {len(files)} files, {len(changed)} changed")
    for name in changed:
        print(f"  {name}")
    return 0


def _release_to_exchange(course, files, args):
    from autograder.grading.intake.exchange import release_to_exchange
    from autograder.grading.record.nbgrader_course import exchange_root

    root = Path(args.exchange) if args.exchange else exchange_root()
    for assignment_id in args.assignments or [a.id for a in course.assignments]:
        folder = release_to_exchange(root, course.id, course.assignment(assignment_id), files)
        print(
            f"{assignment_id}: released to {folder} (students: Assignment List > Fetch, or nbgrader fetch_assignment)"
        )
    return 0


def cmd_verify(args):
    from autograder.instructor.verify import verify

    course = load_course()
    ids = args.assignments or [a.id for a in course.assignments]
    ok = verify(
        course,
        ids,
        grading=args.grading,
        keep=args.keep,
        contract=not args.no_contract,
        fix_lint=args.fix_lint,
        jobs=args.jobs,
        out=lambda text: print(text, flush=True),
    )
    return 0 if ok else 1


def cmd_new(args):
    from autograder.instructor.scaffold import new_assignment, next_steps

    course = load_course()
    written = new_assignment(
        course, args.assignment, args.title, module=args.module, notebook=args.notebook, summary=args.summary
    )
    for path in written:
        print(f"wrote {os.path.relpath(path)}")
    print(next_steps(args.assignment))
    return 0


def cmd_init(args):
    from autograder.grading.record.course_dir import init_course

    course = load_course()
    settings = init_course(
        args.course_dir,
        course,
        roster=args.roster,
        db_url=args.db,
        assignment_ids=args.assignments or None,
        cell_timeout=args.cell_timeout,
        due=_due_dates(args.due),
        exchange=args.exchange,
    )
    print(
        f"course directory {args.course_dir} ready: gradebook {settings['db_url']}, "
        f"assignments {', '.join(settings['assignments'])}"
    )
    for assignment_id, when in settings.get("due", {}).items():
        print(f"  {assignment_id} due {when}")
    return 0


def _due_dates(values):
    due = {}
    for value in values or []:
        assignment_id, sep, when = value.partition("=")
        if not sep or not assignment_id.strip() or not when.strip():
            raise CourseError(f'--due takes ASSIGNMENT=WHEN, e.g. --due a1="2025-10-03 23:59 UTC" (got {value!r})')
        due[assignment_id.strip()] = when.strip()
    return due


def cmd_collect(args):
    from autograder.grading.intake.collect import collect, report_lines
    from autograder.grading.record.course_dir import roster_ids

    course = load_course()
    if args.exchange is not None:
        from autograder.grading.intake.exchange import collect_exchange
        from autograder.grading.record.course_dir import load_settings
        from autograder.grading.record.nbgrader_course import exchange_root

        if args.submissions is not None:
            raise CourseError("collect takes a folder of zips or --exchange, not both")
        root = Path(args.exchange) if args.exchange else exchange_root(args.course_dir)
        course_id = load_settings(args.course_dir)["course_id"]
        results = collect_exchange(
            args.course_dir, course, args.assignment, root, roster_ids(args.course_dir), course_id
        )
        what = "submissions"
    elif args.submissions is None:
        raise CourseError("collect needs a folder of zips (collect COURSE a1 SUBMISSIONS) or --exchange [PATH]")
    else:
        roster = roster_ids(args.course_dir)
        results = collect(args.course_dir, course, args.assignment, args.submissions, roster, pattern=args.pattern)
        what = "zips"
    print("\n".join(report_lines(results)))
    results = [item for item in results if item.status != "superseded"]
    bad = [item for item in results if item.status not in ("ok", "warnings")]
    print(f"collected {len(results) - len(bad)} of {len(results)} {what}")
    return 1 if bad or not results else 0


def cmd_grade(args):
    from autograder.grading.record.gradebook import GradebookStopped
    from autograder.grading.run.batch import grade, table
    from autograder.grading.run.sandbox import Limits

    course = load_course()
    limits = Limits(memory_mb=args.memory_mb, processes=args.max_processes, cpu_seconds=args.cpu_seconds)
    try:
        results, protections = grade(
            args.course_dir,
            course,
            args.assignment,
            jobs=args.jobs,
            students=args.students,
            sandbox=args.sandbox,
            limits=limits,
            cell_timeout=args.cell_timeout,
            notebook_timeout=args.notebook_timeout,
            cluster=args.cluster,
            force=args.force,
        )
    except GradebookStopped as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    missing = [f"{name} ({how})" for name, on, how in protections if not on]
    if missing:
        print("WARNING: grading without these protections: " + "; ".join(missing), file=sys.stderr)
    print(table(results))
    failed = [r for r in results if r.status in ("failed", "not graded")]
    return 1 if failed else 0


def cmd_feedback(args):
    from autograder.grading.report.feedback import feedback

    course = load_course()
    written = feedback(args.course_dir, course, args.assignment, students=args.students)
    for student, pages in written.items():
        for page in pages:
            print(f"{student}: {page}")
    missing = sorted(student for student, pages in written.items() if not pages)
    if missing:
        print(
            f"feedback not written for {len(missing)} student(s): {', '.join(missing)} (reasons above)", file=sys.stderr
        )
    return 1 if missing else 0


def cmd_export(args):
    from autograder.grading.report.export import export_report

    if args.format != "course":
        return _export_lms(args)
    paths, pending = export_report(args.course_dir, args.out)
    for path in paths:
        print(path)
    if pending:
        print("still to grade:")
        for student, items in pending.items():
            print(f"  {student}: {'; '.join(items)}")
    return 0


def _export_lms(args):
    from autograder.grading.report.lms_export import export_lms

    try:
        titles = {a.id: a.title for a in load_course().assignments}
    except CourseError:
        titles = {}  # without the course description the columns are named by assignment id
    path, warnings = export_lms(args.course_dir, args.format, args.out, titles)
    print(path)
    for warning in warnings:
        print(f"note: {warning}", file=sys.stderr)
    return 0


def cmd_report(args):
    from autograder.grading.report.class_report import write_class_report

    try:
        title = load_course().assignment(args.assignment).title
    except CourseError:
        title = ""
    path, data = write_class_report(args.course_dir, args.assignment, title, out=args.out)
    broken = [test.question for test in data.tests if test.likely_broken]
    print(f"{path} ({path.stat().st_size / 1024:.0f} KiB): {len(data.totals)} submissions, {len(data.tests)} tests")
    if broken:
        print(f"likely broken (high scorers fail them more than half the time): {', '.join(broken)}")
    return 0


def cmd_similarity(args):
    from autograder.grading.report.similarity import similarity, table

    course = load_course()
    result = similarity(args.course_dir, course, args.assignment, threshold=args.threshold, hold=args.hold)
    print(table(result))
    return 0


def _share(text):
    """A share of a student's code: 0.6 or 60%."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share: write e.g. 0.6 or 60%") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and 1 (or 0% and 100%)")
    return value


def cmd_review(args):
    from autograder.grading.record import review

    if args.student is None:
        if args.accept or args.reject:
            raise CourseError("name the student to decide on: review COURSE ASSIGNMENT STUDENT --accept|--reject")
        print(review.table(review.held_submissions(args.course_dir, args.assignment)))
        print(review.similarity_table(review.similar_work(args.course_dir, args.assignment)))
        return 0
    if args.accept == args.reject:
        raise CourseError("say --accept (restore the automatic points) or --reject (keep them at 0), with --reason")
    decision = review.decide(
        args.course_dir, args.assignment, args.student, "accept" if args.accept else "reject", args.reason, by=args.by
    )
    print(f"{args.student} {args.assignment}: {review.describe(decision)}")
    return 0


def cmd_formgrader(args):
    from autograder.grading.record.formgrader import serve

    return serve(args.course_dir, ip=args.ip, port=args.port, out=lambda line: print(line, flush=True))


def cmd_check(args):
    from autograder.student.check import check

    report = check(args.assignment, args.notebook)
    print(report.table())
    return 0 if report.ok else 1


def cmd_progress(args):
    from autograder.student.progress import progress, table

    rows = progress(assignment_ids=args.assignments or None)
    print(table(rows))
    return 0


def cmd_submit(args):
    from autograder.student.submit import SubmitError, submit

    try:
        submission = submit(args.assignment, args.student, out_dir=args.out, run_check=not args.no_check)
    except SubmitError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if submission.report is not None:
        print(submission.report.table())
    print(submission.summary())
    return 0


def cmd_publish(args):
    from autograder.instructor.leakcheck import LeakError
    from autograder.instructor.publish import publish

    course = load_course()
    try:
        if args.remote and not args.git:
            print("error: --remote names the edition's git remote: use it with --git", file=sys.stderr)
            return 2
        result = publish(args.dest, course, git=args.git, remote=args.remote)
    except LeakError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0


def cmd_demo(args):
    from autograder.instructor.demo import run_demo

    course = load_course()
    _, results, _ = run_demo(course, workdir=args.workdir, assignment_ids=args.assignments or None, jobs=args.jobs)
    from autograder.instructor.demo import graded

    expected = {"reference": "full", "starter": "zero", "halfdone": "partial"}
    problems = []
    for assignment_id, rows in results.items():
        # with one graded function there is no half to do: the half-done student has none of it
        splittable = len(graded(course, course.assignment(assignment_id))) >= 2
        for row in rows:
            want = expected.get(row.student) if splittable or row.student != "halfdone" else None
            got = "full" if row.score == row.max_score - row.needs_manual else ("zero" if row.score == 0 else "partial")
            if want and want != got:
                problems.append(f"{assignment_id}/{row.student}: expected {want} marks, got {row.score:g}")
    for problem in problems:
        print(f"UNEXPECTED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    # the student edition ships autograder/common and autograder/student only, so it offers their commands only
    if importlib.util.find_spec("autograder.instructor") is not None:
        _add_instructor_commands(commands)
    if importlib.util.find_spec("autograder.grading") is not None:
        _add_ta_commands(commands)
    _add_student_commands(commands)
    return parser


def _add_instructor_commands(commands):
    release = commands.add_parser(
        "release",
        help="regenerate the starter stubs, assignments/ notebooks and manifest from solutions/",
        description="Regenerate cs_lib starter stubs, assignments/<id>/*.ipynb (nbgrader generate_assignment), "
        "assignments/manifest.json and README's Colab links from solutions/.",
    )
    release.add_argument("--check", action="store_true", help="write nothing; exit 1 if any generated file is stale")
    release.add_argument(
        "--exchange",
        nargs="?",
        const="",
        metavar="PATH",
        help="JupyterHub: put the student release (notebooks and the assignment's starter cs_lib files) into "
        "nbgrader's exchange PATH/<course id>/outbound/<assignment>/ (default PATH /srv/nbgrader/exchange) "
        "instead of writing the repository",
    )
    release.add_argument("--assignments", nargs="*", help="with --exchange: the assignments to release (default: all)")
    release.set_defaults(func=cmd_release)

    new = commands.add_parser(
        "new",
        help="scaffold a new assignment that releases, verifies and keeps the contract as generated",
        description="Append the assignment to solutions/course.toml and write solutions/cs_lib/<module>.py (a "
        "reference with one solution region) and its stub in cs_lib/, the source notebook "
        "solutions/<id>/<notebook>.py (explanation, locked, solution, visible+hidden test and written-answer "
        "cells) and solutions/<id>/mutants.py (a hidden-only mutant and an alternative). Module and notebook "
        "are named after the title unless given. Then: release, verify <id>.",
    )
    new.add_argument("assignment", help="the new assignment's id, e.g. a6")
    new.add_argument("--title", required=True, help='e.g. "Depthwise-separable convolution"')
    new.add_argument("--module", help="the student module cs_lib/<module>.py (default: from the title)")
    new.add_argument("--notebook", help="the notebook's name (default: from the title)")
    new.add_argument("--summary", help="one line on what students implement (README's assignment table)")
    new.set_defaults(func=cmd_new)

    verify = commands.add_parser(
        "verify",
        help="lint an assignment's sources, run its notebooks with the reference and check its contract",
        description="For each assignment: ruff over its sources (notebooks cell by cell, references, mutants); "
        "its source notebooks run full size with the reference cs_lib (points and time against time_budget, in "
        "seconds); then its contract (autograder/instructor/contract.py): the grading run (NBGRADER_EXECUTION, "
        "within grading_time_budget), the reference at full marks and the starter at zero in the trusted grader, "
        "every mutant of solutions/<id>/mutants.py caught, every alternative accepted. Exit 1 on any problem.",
    )
    verify.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    verify.add_argument(
        "--grading", action="store_true", help="skip the full-size run: only the grading run (NBGRADER_EXECUTION)"
    )
    verify.add_argument("--keep", help="write the executed notebooks to this folder")
    verify.add_argument("--no-contract", action="store_true", help="lint and run the notebooks only")
    verify.add_argument("--fix-lint", action="store_true", help="apply ruff's fixes and formatting first, cell by cell")
    verify.add_argument("--jobs", type=int, default=None, help="parallel trusted runs of the contract (default: cores)")
    verify.set_defaults(func=cmd_verify)

    publish = commands.add_parser(
        "publish",
        help="write the student edition (no solutions, hidden tests or grading tools) into DEST",
        description="Write the student edition into DEST: starter cs_lib, assignments/ (Colab cells fetch "
        "[course] student_repository), datasets/ tooling, packaging, the student commands, its README and tests. "
        "Refuses (writing nothing) when the leak check finds a line of a solution, hidden test or instructor-only "
        "file in it. DEST must be empty, new or an earlier edition.",
    )
    publish.add_argument("dest", type=Path)
    publish.add_argument(
        "--git",
        action="store_true",
        help="make DEST a git repository and commit the edition (one commit per publish that changes something; "
        "history is never rewritten)",
    )
    publish.add_argument(
        "--remote",
        metavar="URL",
        help="with --git: DEST's origin remote, so `git -C DEST push origin <branch>` works "
        "(default: [course] student_repository)",
    )
    publish.set_defaults(func=cmd_publish)

    demo = commands.add_parser(
        "demo",
        help="the whole TA workflow on three sample students, offline",
        description="In a temporary course directory: release every assignment, make three sample students "
        "(reference, starter, halfdone), collect, grade in parallel, write feedback and grades.csv, "
        "and print the grade table.",
    )
    demo.add_argument("--workdir", type=Path, help="keep everything here instead of a temporary folder")
    demo.add_argument("--assignments", nargs="*")
    demo.add_argument("--jobs", type=int, default=None)
    demo.set_defaults(func=cmd_demo)


def _add_ta_commands(commands):
    init = commands.add_parser(
        "init",
        help="create a TA course directory: nbgrader config, gradebook, roster, assignments",
        description="Create or update COURSE_DIR: nbgrader_config.py, the gradebook (SQLite in COURSE_DIR "
        "unless --db names another SQLAlchemy URL), the roster and every assignment's source/ and release/.",
    )
    init.add_argument("course_dir", type=Path)
    init.add_argument("--roster", type=Path, help="CSV with an id column (first_name, last_name, email optional)")
    init.add_argument("--db", help="gradebook SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db")
    init.add_argument("--assignments", nargs="*", help="assignment ids (default: all)")
    init.add_argument("--cell-timeout", type=int, default=120, help="seconds per cell while grading")
    init.add_argument(
        "--due",
        action="append",
        metavar="ASSIGNMENT=WHEN",
        help='due date for late penalties, e.g. --due a1="2025-10-03 23:59 Europe/Berlin" (repeatable; UTC '
        "without a zone; kept when init runs again)",
    )
    init.add_argument("--exchange", type=Path, help="nbgrader exchange folder for JupyterHub hand-ins")
    init.set_defaults(func=cmd_init)

    collect = commands.add_parser(
        "collect",
        help="unpack per-student zips into submitted/",
        description="Unpack SUBMISSIONS/<student id>_<assignment>.zip (or <student id>[_anything].zip; ids may "
        "hold letters, digits and . _ - @ +, matched against the roster) into "
        "COURSE_DIR/submitted/<student>/<assignment>/; report unreadable zips, missing notebooks, unknown students "
        "and unsafe paths per student.",
    )
    collect.add_argument("course_dir", type=Path)
    collect.add_argument("assignment")
    collect.add_argument("submissions", type=Path, nargs="?", help="folder of zips (or use --exchange)")
    collect.add_argument(
        "--pattern",
        help="regex with a (?P<student>...) group that reads the id from a zip's name, e.g. '(?P<student>.+)_a1\\.zip'",
    )
    collect.add_argument(
        "--exchange",
        nargs="?",
        const="",
        metavar="PATH",
        help="JupyterHub: take each student's latest submission from nbgrader's exchange inbound folder "
        "(default PATH: c.Exchange.root in the course's nbgrader_config.py); timestamps are kept",
    )
    collect.set_defaults(func=cmd_collect)

    grade = commands.add_parser(
        "grade",
        help="autograde collected submissions in parallel, each in a sandbox",
        description="Autograde the collected submissions of ASSIGNMENT (nbgrader, sandboxed kernels) and write "
        "scores to the gradebook and executed notebooks to autograded/. A submission already graded from the same "
        'files, course version and grading options is kept as it stands ("unchanged, kept"); --force grades '
        "all. Exit 1 if any submission failed to grade or the gradebook database stopped answering (run grade "
        "again once it is back: what was committed is kept).",
    )
    grade.add_argument("course_dir", type=Path)
    grade.add_argument("assignment")
    grade.add_argument("--jobs", type=int, default=None, help="parallel students (default: CPU cores)")
    grade.add_argument(
        "--cluster",
        metavar="tcp://HOST:8786",
        help="grade on the workers of this Dask scheduler instead of here, one task per student "
        "(needs pip install .[cluster] here and on the workers; --jobs is then unused)",
    )
    grade.add_argument("--students", nargs="*", help="only these students")
    grade.add_argument(
        "--force", action="store_true", help="grade every submission again, also those unchanged since graded"
    )
    grade.add_argument(
        "--sandbox",
        choices=["auto", "bwrap", "none"],
        default="auto",
        help="auto: bubblewrap when usable, else resource limits only (with a warning)",
    )
    grade.add_argument("--cell-timeout", type=int, default=120, help="seconds per cell")
    grade.add_argument("--notebook-timeout", type=int, default=600, help="seconds per notebook")
    grade.add_argument("--memory-mb", type=int, default=3072)
    grade.add_argument("--max-processes", type=int, default=64)
    grade.add_argument("--cpu-seconds", type=int, default=900)
    grade.set_defaults(func=cmd_grade)

    feedback = commands.add_parser(
        "feedback",
        help="write per-student HTML feedback (visible tests and results, never hidden test code)",
        description="Write COURSE_DIR/feedback/<student>/<assignment>/<notebook>.html from the graded notebooks.",
    )
    feedback.add_argument("course_dir", type=Path)
    feedback.add_argument("assignment")
    feedback.add_argument("--students", nargs="*")
    feedback.set_defaults(func=cmd_feedback)

    export = commands.add_parser(
        "export",
        help="write grades.csv and per-question grades_<id>.csv, or an LMS's grade import file",
        description="Write grades.csv (one row per student, one column per assignment) and grades_<id>.csv "
        "(one column per question) to --out (default: COURSE_DIR). With --format canvas or moodle, write only "
        "grades_canvas.csv (Canvas's gradebook import layout: Student, ID, SIS User ID, SIS Login ID, Section, a "
        "column per assignment, a Points Possible row) or grades_moodle.csv (Moodle's CSV grade import: ID number "
        "and Email address to identify students by, a column per assignment), late penalties applied.",
    )
    export.add_argument("course_dir", type=Path)
    export.add_argument("--out", type=Path)
    export.add_argument(
        "--format",
        choices=["course", "canvas", "moodle"],
        default="course",
        help="course: this course's CSV files (default); canvas, moodle: that LMS's grade import file",
    )
    export.set_defaults(func=cmd_export)

    report = commands.add_parser(
        "report",
        help="one HTML page of an assignment's class: scores, test pass rates, hand grading, late, timing, similarity",
        description="Write COURSE_DIR/reports/<assignment>.html (or --out): a self-contained page (no script, no "
        "request) with the score distribution, each test's pass rate (tests that even high scorers fail are marked "
        "likely broken), points still to grade by hand, late hand-ins, grading time per student and the pairs "
        "`similarity` flagged, all from the gradebook.",
    )
    report.add_argument("course_dir", type=Path)
    report.add_argument("assignment")
    report.add_argument("--out", type=Path, help="where to write the page")
    report.set_defaults(func=cmd_report)

    review = commands.add_parser(
        "review",
        help="submissions held for review: list them, or accept/reject one with a reason",
        description="Without STUDENT: list the submissions whose automatic points are withheld because the "
        "tamper scan (or `similarity --hold`) flagged them, with findings, points and decisions, and every pair "
        "`similarity` flagged. With STUDENT and --accept (restore the "
        "automatic points) or --reject (keep them at 0) and --reason: record the decision (who, when, why) in "
        "the gradebook; export shows it and a regrade of the same submission keeps it.",
    )
    review.add_argument("course_dir", type=Path)
    review.add_argument("assignment")
    review.add_argument("student", nargs="?")
    verdict = review.add_mutually_exclusive_group()
    verdict.add_argument("--accept", action="store_true", help="restore the automatic points")
    verdict.add_argument("--reject", action="store_true", help="keep the automatic points at 0")
    review.add_argument("--reason", help="why (required with --accept or --reject)")
    review.add_argument("--by", help="who decides (default: your user name)")
    review.set_defaults(func=cmd_review)

    from autograder.grading.report.similarity import DEFAULT_THRESHOLD

    similarity = commands.add_parser(
        "similarity",
        help="find pairs of students whose work is too alike (copydetect, MOSS-style winnowing)",
        description="Compare every pair of collected submissions of ASSIGNMENT (their cs_lib files and the code of "
        "their solution cells; starter stubs, provided code and release cells never count) and print the pairs "
        "where one student's code is found in the other's at or above --threshold. Writes "
        "COURSE_DIR/similarity/<assignment>/report.html (copydetect's report, inert) and records the pairs in the "
        "gradebook: `review` lists them, `export` shows them. Points are withheld only with --hold.",
    )
    similarity.add_argument("course_dir", type=Path)
    similarity.add_argument("assignment")
    similarity.add_argument(
        "--threshold",
        type=_share,
        default=DEFAULT_THRESHOLD,
        help=f"share of a student's own code found in the other's that flags a pair, e.g. 0.6 or 60%% "
        f"(default {DEFAULT_THRESHOLD:g})",
    )
    similarity.add_argument(
        "--hold",
        action="store_true",
        help="also withhold the automatic points of every flagged, graded submission until a TA decides with "
        "`review COURSE ASSIGNMENT STUDENT --accept|--reject --reason ...`",
    )
    similarity.set_defaults(func=cmd_similarity)

    formgrader = commands.add_parser(
        "formgrader",
        help="grade written answers by hand: JupyterLab with nbgrader's formgrader on the course, on localhost",
        description="Start JupyterLab on COURSE_DIR with nbgrader's formgrader (manual grading of written answers "
        "and tasks with comments, the autograded notebooks, made inert) and print its URL with the token. "
        "No browser is opened; serves until Ctrl-C.",
    )
    formgrader.add_argument("course_dir", type=Path)
    formgrader.add_argument("--port", type=int, help="default: a free port")
    formgrader.add_argument("--ip", default="127.0.0.1", help="address to listen on (default: 127.0.0.1 only)")
    formgrader.set_defaults(func=cmd_formgrader)


def _add_student_commands(commands):
    check = commands.add_parser(
        "check",
        help="students: run the visible tests on your work and print a per-question table",
        description="Run assignments/<id>/*.ipynb (or --notebook) with your cs_lib, score every visible test "
        "and exit 1 if any fails.",
    )
    check.add_argument("assignment")
    check.add_argument("--notebook", type=Path)
    check.set_defaults(func=cmd_check)

    progress_parser = commands.add_parser(
        "progress",
        help="students: which graded functions pass their visible tests, across all assignments",
        description="Run every self-contained visible test of the release notebooks against your cs_lib and "
        "show, per graded function, done / failing / not started. Takes seconds; runs no whole notebooks.",
    )
    progress_parser.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    progress_parser.set_defaults(func=cmd_progress)

    submit = commands.add_parser(
        "submit",
        help="students: run the visible tests, then pack an assignment into <student>_<assignment>.zip to hand in",
        description="Run the assignment's visible tests (reported, never blocking), then write "
        "OUT/<student>_<assignment>.zip holding exactly what the TA's collect takes: the notebooks, your cs_lib "
        "files for the assignment and its extra files. Refuses (exit 1, no zip) when a file is missing, unreadable "
        "or over collect's size limit.",
    )
    submit.add_argument("assignment")
    submit.add_argument("--student", required=True, help="your student id; the zip is named after it")
    submit.add_argument("--out", type=Path, default=Path("."), help="folder for the zip (default: here)")
    submit.add_argument("--no-check", action="store_true", help="pack without running the visible tests")
    submit.set_defaults(func=cmd_submit)


def main(argv=None):
    import warnings

    # nbgrader's gradebook API trips SQLAlchemy's autoflush warnings on every submission; they are harmless
    warnings.filterwarnings("ignore", message=".*not in session.*")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CourseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
