"""python -m autograder: one command, one subcommand per verb.

Instructor: release, verify, publish, demo.  TA: init, collect, grade, feedback, export.
Student: check, progress, submit.  Each subcommand's --help says what it reads and writes.
The student edition (`publish`) ships only the student commands.
"""

import argparse
import importlib.util
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
    from autograder.instructor.verify import report, verify_assignment

    course = load_course()
    ids = args.assignments or [a.id for a in course.assignments]
    all_ok = True
    for assignment_id in ids:
        runs = verify_assignment(course, assignment_id, grading=args.grading, keep=args.keep)
        ok, text = report(course.assignment(assignment_id), runs, args.grading)
        print(text, flush=True)
        all_ok &= ok
    return 0 if all_ok else 1


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
    from autograder.grading.intake.collect import collect
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
    print(f"{'zip':<28} {'student':<16} {'status':<16} problems")
    for item in results:
        print(f"{item.zip_name:<28} {item.student:<16} {item.status:<16} {'; '.join(item.problems)}")
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

    paths, pending = export_report(args.course_dir, args.out)
    for path in paths:
        print(path)
    if pending:
        print("still to grade:")
        for student, items in pending.items():
            print(f"  {student}: {'; '.join(items)}")
    return 0


def cmd_review(args):
    from autograder.grading.record import review

    if args.student is None:
        if args.accept or args.reject:
            raise CourseError("name the student to decide on: review COURSE ASSIGNMENT STUDENT --accept|--reject")
        print(review.table(review.held_submissions(args.course_dir, args.assignment)))
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
        result = publish(args.dest, course, git=args.git)
    except LeakError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0


def cmd_demo(args):
    from autograder.instructor.demo import run_demo

    course = load_course()
    _, results, _ = run_demo(course, workdir=args.workdir, assignment_ids=args.assignments or None, jobs=args.jobs)
    expected = {"reference": "full", "starter": "zero", "halfdone": "partial"}
    problems = []
    for assignment_id, rows in results.items():
        for row in rows:
            want = expected.get(row.student)
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

    verify = commands.add_parser(
        "verify",
        help="run source notebooks with the reference solutions; every test must pass",
        description="Execute solutions/<id>/*.py with the reference cs_lib and report points and time.",
    )
    verify.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    verify.add_argument("--grading", action="store_true", help="set NBGRADER_EXECUTION, as grading does")
    verify.add_argument("--keep", help="write the executed notebooks to this folder")
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
        help="make DEST a git repository and commit the edition (one commit per publish; history is never rewritten)",
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
        description="Unpack SUBMISSIONS/<student id>[_anything].zip into COURSE_DIR/submitted/<student>/<assignment>/; "
        "report unreadable zips, missing notebooks, unknown students and unsafe paths per student.",
    )
    collect.add_argument("course_dir", type=Path)
    collect.add_argument("assignment")
    collect.add_argument("submissions", type=Path, nargs="?", help="folder of zips (or use --exchange)")
    collect.add_argument("--pattern", help="regex with a (?P<student>...) group to read the id from zip names")
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
        help="write grades.csv and per-question grades_<id>.csv for an LMS upload",
        description="Write grades.csv (one row per student, one column per assignment) and grades_<id>.csv "
        "(one column per question) to --out (default: COURSE_DIR).",
    )
    export.add_argument("course_dir", type=Path)
    export.add_argument("--out", type=Path)
    export.set_defaults(func=cmd_export)

    review = commands.add_parser(
        "review",
        help="submissions held for review: list them, or accept/reject one with a reason",
        description="Without STUDENT: list the submissions whose automatic points are withheld because the "
        "tamper scan flagged them, with findings, points and decisions. With STUDENT and --accept (restore the "
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
