"""`review`: submissions whose automatic points are withheld because the tamper scan flagged them.

    python -m autograder review COURSE a1                      # held (and decided) submissions, findings, points
    python -m autograder review COURSE a1 ada --accept --reason "ctypes only used to time a loop" [--by NAME]
    python -m autograder review COURSE a1 ada --reject --reason "rebinds numpy.allclose"

--accept restores the automatic points the last `grade` computed (kept in the gradebook, so nothing is
regraded); --reject keeps them at zero. Each decision is stored with who made it, when and why, and
`export` shows it. A later `grade` of the same submission keeps the decision; a different submission
(a late hand-in) is held again until someone decides on it.

`similarity COURSE a1 --hold` holds submissions the same way, with a finding per flagged pair
("similar to bob_2: 91 % of svm_loss_vectorized"), and the listing shows every flagged pair, held or
not. A decision on a similarity hold is kept the same way: `similarity --hold` run again on the same
submission re-applies it rather than holding again (a plain `grade` that regrades the submission writes
only the tamper scan's findings, so run `similarity --hold` after it, as the weekly routine does).
"""

import getpass
import json
from datetime import datetime, timezone

from sqlalchemy import insert, select

from autograder.common.course import CourseError
from autograder.common.printable import printable
from autograder.grading.record.course_dir import course_gradebook
from autograder.grading.record.gradebook_tables import (
    CELLS,
    DECISIONS,
    RESULTS,
    REVIEWS,
    apply_late_penalty,
    ensure_tables,
    late_policy_for,
)
from autograder.grading.record.similarity_pairs import describe_pair, is_similarity_finding, percent, similar_pairs


def applicable_decision(db, assignment_id, student, digest, findings):
    """The latest decision made on this submission (digest) that covers its findings: one made before
    `similarity --hold` added a finding of its own does not decide that finding."""
    query = select(REVIEWS).where(
        REVIEWS.c.assignment == assignment_id, REVIEWS.c.student == student, REVIEWS.c.digest == digest
    )
    similar = any(is_similarity_finding(finding) for finding in findings)
    for row in db.execute(query.order_by(REVIEWS.c.id.desc())).mappings():
        if not similar or any(is_similarity_finding(finding) for finding in json.loads(row["findings"])):
            return dict(row)
    return None


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
        findings = json.loads(row["findings"])
        states.append(
            {
                "student": row["student"],
                "digest": row["digest"],
                "findings": findings,
                "held": bool(row["held"]),
                "graded_at": row["graded_at"],
                "withheld": sum(p or 0.0 for p in points),
                "decision": applicable_decision(db, assignment_id, row["student"], row["digest"], findings),
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
            f"{student}'s submission of {assignment_id} is not held for review (no tamper-scan or similarity findings); "
            f"`python -m autograder review COURSE {assignment_id}` lists those that are"
        )
    state = state[0]
    _set_automatic_points(gradebook, assignment_id, student, "restore" if decision == "accept" else "zero", course_dir)
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


def _set_automatic_points(gradebook, assignment_id, student, how, course_dir=None):
    """Set the automatic points of a submission's test cells (in the session, not committed):
    restore (what the last grading run computed), zero (a rejection) or hold (zero, waiting for a TA).
    A TA's own score on a test cell is left alone; the late penalty follows the new scores."""
    computed = {
        (row["notebook"], row["grade_id"]): row["auto_score"]
        for row in gradebook.db.execute(
            select(CELLS).where(CELLS.c.assignment == assignment_id, CELLS.c.student == student, CELLS.c.kind == "test")
        ).mappings()
    }
    submission = gradebook.find_submission(assignment_id, student)
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            key = (notebook.name, grade.name)
            if key not in computed:
                continue
            grade.auto_score = (computed[key] or 0.0) if how == "restore" else 0.0
            if grade.manual_score is None:
                grade.needs_manual_grade = how == "hold"
    apply_late_penalty(submission, student, late_policy_for(course_dir))


def hold_similar(gradebook, assignment_id, student, findings, course_dir=None):
    """Withhold a graded submission's automatic points for review because `similarity` flagged it.

    findings: the pair descriptions ("similar to bob_2: 91 % of svm_loss_vectorized"); they replace
    the findings of an earlier similarity run and join the tamper scan's. Returns what happened:
    "held"; "accepted" or "rejected" when a TA already decided on a similarity hold of this very
    submission (the decision is re-applied: a regrade may have restored rejected points); "not graded"
    when the gradebook has no graded submission to hold. One transaction.
    """
    ensure_tables(gradebook)
    db = gradebook.db
    where = (RESULTS.c.assignment == assignment_id, RESULTS.c.student == student)
    row = db.execute(select(RESULTS).where(*where)).mappings().first()
    if row is None:
        return "not graded"
    kept = [finding for finding in json.loads(row["findings"]) if not is_similarity_finding(finding)]
    findings = kept + list(findings)
    decision = applicable_decision(db, assignment_id, student, row["digest"], findings)
    if decision is not None:
        _set_automatic_points(
            gradebook, assignment_id, student, "restore" if decision["decision"] == "accept" else "zero", course_dir
        )
        db.execute(RESULTS.update().where(*where).values(findings=json.dumps(findings), held=False))
        db.commit()
        return f"{decision['decision']}ed"
    _set_automatic_points(gradebook, assignment_id, student, "hold", course_dir)
    db.execute(RESULTS.update().where(*where).values(findings=json.dumps(findings), held=True))
    db.commit()
    return "held"


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
        lines.append(f"{state['student']}: {points}; {printable(status, 300)}")
        lines += [f"    {printable(finding, 300)}" for finding in state["findings"]]
    held = sum(1 for state in states if not state["decision"])
    lines.append(f"{held} of {len(states)} flagged submissions wait for a decision")
    return "\n".join(lines)


def similar_work(course_dir, assignment_id):
    """Every pair `similarity` flagged for the assignment, once from each side."""
    with course_gradebook(course_dir) as gradebook:
        return similar_pairs(gradebook, assignment_id)


def similarity_table(rows):
    """Plain text: one line per student and flagged pair."""
    if not rows:
        return "no pair of this assignment was flagged by `similarity`"
    lines = ["similar work (python -m autograder similarity; the report is in similarity/<assignment>/report.html):"]
    for row in rows:
        lines.append(
            f"{row['student']}: {describe_pair(row)} ({percent(row['overlap'])} of {row['student']}'s code, "
            f"{percent(row['other_overlap'])} of {row['other']}'s)"
        )
    return "\n".join(lines)
