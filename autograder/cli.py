"""python -m autograder: one command, one subcommand per verb.

Instructor: release, verify.  TA: init, collect, grade, feedback, export, demo.
Student: check, progress.  Each subcommand's --help says what it reads and writes.
"""

import argparse
import sys

from autograder.course import CourseError, load_course


def cmd_release(args):
    from autograder import release

    course = load_course()
    files = release.build(course)
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


def cmd_verify(args):
    from autograder.verify import report, verify_assignment

    course = load_course()
    ids = args.assignments or [a.id for a in course.assignments]
    all_ok = True
    for assignment_id in ids:
        runs = verify_assignment(course, assignment_id, grading=args.grading, keep=args.keep)
        ok, text = report(course.assignment(assignment_id), runs, args.grading)
        print(text, flush=True)
        all_ok &= ok
    return 0 if all_ok else 1


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    release = commands.add_parser(
        "release",
        help="regenerate the starter stubs, assignments/ notebooks and manifest from solutions/",
        description="Regenerate cs_lib starter stubs, assignments/<id>/*.ipynb (nbgrader generate_assignment), "
        "assignments/manifest.json and README's Colab links from solutions/.",
    )
    release.add_argument("--check", action="store_true", help="write nothing; exit 1 if any generated file is stale")
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
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CourseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
