"""`review`: submissions whose automatic points are withheld because the tamper scan flagged them.

    python -m autograder review COURSE a1                      # held (and decided) submissions, findings, points
    python -m autograder review COURSE a1 ada --accept --reason "ctypes only used to time a loop" [--by NAME]
    python -m autograder review COURSE a1 ada --reject --reason "rebinds numpy.allclose"

--accept restores the automatic points the last `grade` computed (kept in the gradebook, so nothing is
regraded); --reject keeps them at zero. Each decision is stored with who made it, when and why, and
`export` shows it. A later `grade` of the same submission keeps the decision; a different submission
(a late hand-in) is held again until someone decides on it.
"""

import getpass
import json
from datetime import datetime, timezone

from sqlalchemy import insert, select

from autograder.common.course import CourseError
from autograder.grading.record.course_dir import course_gradebook
from autograder.grading.record.gradebook_tables import (
    CELLS,
    DECISIONS,
    RESULTS,
    REVIEWS,
    apply_late_penalty,
    ensure_tables,
    late_policy_for,
    latest_decision,
)


def review_state(gradebook, assignment_id, student=None):
    """[{student, digest, findings, held, graded_at, withheld, decision}] of flagged submissions."""
    ensure_tables(gradebook)
    db = gradebook.db
    query = select(RESULTS).where(RESULTS.c.assignment == assignment_id, RESULTS.c.findings != "[]")
    if student is not None:
        query = query.where(RESULTS.c.student == student)
    states = []
    for row in db.execute(query.order_by(RESULTS.c.student)).mappings().all():
        points = db.execute(
            select(CELLS.c.auto_score).where(
                CELLS.c.assignment == assignment_id, CELLS.c.student == row["student"], CELLS.c.kind == "test"
            )
        ).scalars()
        states.append(
            {
                "student": row["student"],
                "digest": row["digest"],
                "findings": json.loads(row["findings"]),
                "held": bool(row["held"]),
                "graded_at": row["graded_at"],
                "withheld": sum(p or 0.0 for p in points),
                "decision": latest_decision(db, assignment_id, row["student"], row["digest"]),
            }
        )
    return states


def review_history(gradebook, assignment_id=None):
    """Every review decision, oldest first, as dicts."""
    ensure_tables(gradebook)
    query = select(REVIEWS)
    if assignment_id is not None:
        query = query.where(REVIEWS.c.assignment == assignment_id)
    return [dict(row) for row in gradebook.db.execute(query.order_by(REVIEWS.c.id)).mappings()]


def record_review(gradebook, assignment_id, student, decision, reason, by, course_dir=None):
    """Record a TA's decision on a submission held for review and apply it, in one transaction.

    accept: the automatic points the last grading run computed are restored; reject: they stay at 0.
    A TA's own score on a test cell is left alone either way. Returns the decision as a dict.
    """
    if decision not in DECISIONS:
        raise CourseError(f"a review decision is one of {', '.join(DECISIONS)}, not {decision!r}")
    if not (reason or "").strip():
        raise CourseError('a review decision needs a reason (--reason "..."): it is kept in the gradebook')
    ensure_tables(gradebook)
    db = gradebook.db
    state = review_state(gradebook, assignment_id, student)
    if not state:
        raise CourseError(
            f"{student}'s submission of {assignment_id} is not held for review (no tamper-scan findings); "
            f"`python -m autograder review COURSE {assignment_id}` lists those that are"
        )
    state = state[0]
    computed = {
        (row["notebook"], row["grade_id"]): row["auto_score"]
        for row in db.execute(
            select(CELLS).where(CELLS.c.assignment == assignment_id, CELLS.c.student == student, CELLS.c.kind == "test")
        ).mappings()
    }
    submission = gradebook.find_submission(assignment_id, student)
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            key = (notebook.name, grade.name)
            if key not in computed:
                continue
            grade.auto_score = (computed[key] or 0.0) if decision == "accept" else 0.0
            if grade.manual_score is None:
                grade.needs_manual_grade = False
    apply_late_penalty(submission, student, late_policy_for(course_dir))
    entry = {
        "assignment": assignment_id,
        "student": student,
        "decision": decision,
        "reason": reason.strip(),
        "decided_by": by,
        "decided_at": datetime.now(timezone.utc).replace(tzinfo=None),
        "digest": state["digest"],
        "findings": json.dumps(state["findings"]),
        "points": state["withheld"],
    }
    db.execute(insert(REVIEWS).values(**entry))
    db.execute(
        RESULTS.update().where(RESULTS.c.assignment == assignment_id, RESULTS.c.student == student).values(held=False)
    )
    db.commit()
    return entry


def held_submissions(course_dir, assignment_id):
    """Every flagged submission of the assignment with its findings, withheld points and decision."""
    with course_gradebook(course_dir) as gradebook:
        return review_state(gradebook, assignment_id)


def decide(course_dir, assignment_id, student, decision, reason, by=None):
    """Accept or reject a held submission; returns the recorded decision."""
    with course_gradebook(course_dir) as gradebook:
        return record_review(
            gradebook, assignment_id, student, decision, reason, by or getpass.getuser(), course_dir=course_dir
        )


def describe(decision):
    if not decision:
        return "held: waiting for a decision"
    when = decision["decided_at"].strftime("%Y-%m-%d %H:%M UTC")
    verb = "accepted" if decision["decision"] == "accept" else "rejected"
    return f"{verb} by {decision['decided_by']} on {when}: {decision['reason']}"


def table(states):
    """Plain text: one block per flagged submission."""
    if not states:
        return "no submission of this assignment is held for review"
    lines = []
    for state in states:
        points = f"{state['withheld']:g} automatic points"
        status = describe(state["decision"])
        if state["decision"] and state["decision"]["decision"] == "accept":
            points += " restored"
        elif state["decision"]:
            points += " withheld (kept at 0)"
        else:
            points += " withheld"
        lines.append(f"{state['student']}: {points}; {status}")
        lines += [f"    {finding}" for finding in state["findings"]]
    held = sum(1 for state in states if not state["decision"])
    lines.append(f"{held} of {len(states)} flagged submissions wait for a decision")
    return "\n".join(lines)
