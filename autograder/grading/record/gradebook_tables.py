"""The tables the autograder keeps beside nbgrader's in the course gradebook, and what reads them.

    autograder_results   per submission: its fingerprint, the tamper-scan findings, whether it is held,
                         and what its grade was computed from (grading_key, a hash of graded_with: the
                         submission, the course version and the grading options), so `grade` regrades
                         only what changed
    autograder_cells     per graded cell: the automatic score the last run computed (kept even while
                         held for review, so a decision can restore it without regrading) and, for
                         written answers and tasks, a checksum of the text that was graded
    autograder_reviews   every review decision: accept or reject, who, when, why (never deleted)

Both writers of the gradebook use them: `gradebook.commit` (a grading run) and `review.record_review`
(a TA's decision); nbgrader's own tables stay as formgrader expects them. A gradebook made by an earlier
version of the course package gains the columns added since on first use (ensure_tables).
"""

from sqlalchemy import Boolean, Column, DateTime, Float, Integer, MetaData, String, Table, Text, inspect, select, text

METADATA = MetaData()
RESULTS = Table(
    "autograder_results",
    METADATA,
    Column("assignment", String(128), primary_key=True),
    Column("student", String(128), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("findings", Text, nullable=False, default="[]"),
    Column("held", Boolean, nullable=False, default=False),
    Column("graded_at", DateTime, nullable=False),
    # added after the first release: NULL in rows written before (such a grade is simply computed again)
    Column("grading_key", String(64)),
    Column("graded_with", Text),
)
CELLS = Table(
    "autograder_cells",
    METADATA,
    Column("assignment", String(128), primary_key=True),
    Column("student", String(128), primary_key=True),
    Column("notebook", String(128), primary_key=True),
    Column("grade_id", String(128), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("auto_score", Float),
    Column("max_score", Float, nullable=False, default=0.0),
    Column("checksum", String(64)),
)
REVIEWS = Table(
    "autograder_reviews",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("assignment", String(128), nullable=False, index=True),
    Column("student", String(128), nullable=False, index=True),
    Column("decision", String(8), nullable=False),
    Column("reason", Text, nullable=False),
    Column("decided_by", String(128), nullable=False),
    Column("decided_at", DateTime, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("findings", Text, nullable=False),
    Column("points", Float, nullable=False),
)
DECISIONS = ("accept", "reject")


def ensure_tables(gradebook):
    """Create the autograder_* tables in the gradebook's database if they are missing, and add the columns
    an older version of them lacks (nullable columns only: every row already there stays valid)."""
    if getattr(gradebook, "_autograder_tables", False):
        return
    connection = gradebook.db.connection()
    METADATA.create_all(bind=connection)
    inspector = inspect(connection)
    for table in METADATA.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                kind = column.type.compile(dialect=connection.dialect)
                connection.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"))
    gradebook.db.commit()
    gradebook._autograder_tables = True


def stored_gradings(db, assignment_id):
    """{student: (grading_key, graded_at)} of every student of the assignment with stored results (a key of
    None: what the grade was computed from is not known)."""
    query = select(RESULTS.c.student, RESULTS.c.grading_key, RESULTS.c.graded_at)
    rows = db.execute(query.where(RESULTS.c.assignment == assignment_id))
    return {row.student: (row.grading_key, row.graded_at) for row in rows}


def latest_decision(db, assignment_id, student, digest=None):
    query = select(REVIEWS).where(REVIEWS.c.assignment == assignment_id, REVIEWS.c.student == student)
    rows = db.execute(query.order_by(REVIEWS.c.id.desc())).mappings().all()
    for row in rows:
        if digest is None or row["digest"] == digest:
            return dict(row)
    return None


def grade_score(grade):
    base = grade.manual_score if grade.manual_score is not None else grade.auto_score
    return (base or 0.0) + (grade.extra_credit or 0.0)


def apply_late_penalty(submission, student, late_policy):
    """nbgrader's per-notebook late penalty from the scores as they now stand; returns the total."""
    seconds = submission.total_seconds_late
    total = 0.0
    for notebook in submission.notebooks:
        penalty = late_policy(student, sum(grade_score(g) for g in notebook.grades), seconds) if late_policy else 0.0
        notebook.late_submission_penalty = penalty or None
        total += penalty
    return seconds, total


def late_policy_for(course_dir):
    if course_dir is None:
        return None
    from autograder.grading.record.nbgrader_course import late_policy

    return late_policy(course_dir)
