"""The pairs of submissions `similarity` found too alike, kept in the course gradebook beside nbgrader's tables.

    autograder_similarity   one row per flagged pair and direction: how much of `student`'s code (and of
                            `other`'s) the other's work contains, and the function of `student`'s with the most
                            overlap; a run of `similarity` replaces the assignment's rows in one transaction

`review` lists them, `export` shows them (grades_<id>.csv's similarity column) and the class report
draws them. Holding points back is review's business (review.hold_similar): a flagged pair alone
withholds nothing.
"""

from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, Float, Integer, MetaData, String, Table, delete, insert, select

METADATA = MetaData()
SIMILARITY = Table(
    "autograder_similarity",
    METADATA,
    Column("assignment", String(128), primary_key=True),
    Column("student", String(128), primary_key=True),
    Column("other", String(128), primary_key=True),
    # fractions (0..1) of each side's own code, boilerplate left out, that the other side's work contains
    Column("overlap", Float, nullable=False),
    Column("other_overlap", Float, nullable=False),
    # copydetect's token overlap: matching characters of the tokenised code (names as V, strings as S)
    Column("tokens", Integer, nullable=False),
    Column("function", String(256)),
    Column("function_overlap", Float),
    Column("threshold", Float, nullable=False),
    Column("found_at", DateTime, nullable=False),
)


def ensure_similarity_table(gradebook):
    """Create autograder_similarity in the gradebook's database if it is missing."""
    if not getattr(gradebook, "_autograder_similarity", False):
        METADATA.create_all(bind=gradebook.db.connection())
        gradebook._autograder_similarity = True


def replace_pairs(gradebook, assignment_id, rows, threshold):
    """Make `rows` the assignment's flagged pairs, in one transaction (an earlier run's rows go).

    rows: dicts with student, other, overlap, other_overlap, tokens, function, function_overlap;
    give each pair twice, once from each side, so a student's rows name what of theirs matched.
    """
    ensure_similarity_table(gradebook)
    db = gradebook.db
    when = datetime.now(timezone.utc).replace(tzinfo=None)
    db.execute(delete(SIMILARITY).where(SIMILARITY.c.assignment == assignment_id))
    if rows:
        db.execute(
            insert(SIMILARITY),
            [{**row, "assignment": assignment_id, "threshold": threshold, "found_at": when} for row in rows],
        )
    db.commit()


def similar_pairs(gradebook, assignment_id=None, student=None):
    """The flagged pairs as dicts, by assignment, student and falling overlap."""
    ensure_similarity_table(gradebook)
    query = select(SIMILARITY)
    if assignment_id is not None:
        query = query.where(SIMILARITY.c.assignment == assignment_id)
    if student is not None:
        query = query.where(SIMILARITY.c.student == student)
    rows = [dict(row) for row in gradebook.db.execute(query).mappings()]
    return sorted(rows, key=lambda row: (row["assignment"], row["student"], -row["overlap"], row["other"]))


def percent(fraction):
    return f"{100 * fraction:.0f} %"


def describe_pair(row):
    """What a TA reads: "similar to bob_2: 91 % of svm_loss_vectorized" (or "... 91 % of the code")."""
    if row.get("function"):
        return f"similar to {row['other']}: {percent(row['function_overlap'])} of {row['function']}"
    return f"similar to {row['other']}: {percent(row['overlap'])} of the code"


def is_similarity_finding(text):
    """Whether a review finding is one `similarity --hold` wrote (tamper-scan findings never start so)."""
    return str(text).startswith("similar to ")
