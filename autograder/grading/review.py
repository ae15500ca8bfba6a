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

from autograder.grading.course_dir import load_settings
from autograder.grading.gradebook import record_review, review_state


def _gradebook(course_dir):
    from nbgrader.api import Gradebook

    settings = load_settings(course_dir)
    return Gradebook(settings["db_url"], settings["course_id"])


def held_submissions(course_dir, assignment_id):
    """Every flagged submission of the assignment with its findings, withheld points and decision."""
    with _gradebook(course_dir) as gradebook:
        return review_state(gradebook, assignment_id)


def decide(course_dir, assignment_id, student, decision, reason, by=None):
    """Accept or reject a held submission; returns the recorded decision."""
    with _gradebook(course_dir) as gradebook:
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
