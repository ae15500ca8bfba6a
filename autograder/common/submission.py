"""What a submission zip may hold, shared by the student's `submit` and the TA's `collect`.

A zip is ``<student id>_<assignment>.zip`` (an id may hold '_': collect reads the name with the roster and
the assignment ids, autograder/common/student_ids.py) holding

    <assignment>/<notebook>.ipynb     every notebook of the assignment
    cs_lib/...                        the assignment's student files
    <assignment>/<extra file>         files the assignment asks for beside its notebooks (A5's checkpoint)

`collect` ignores any member larger than its limit, so `submit` refuses to pack one.
"""

MIB = 2**20
# the largest member collect takes, by kind: notebooks (outputs included), student .py files, extra files
MAX_MEMBER_BYTES = {".ipynb": 50 * MIB, ".py": 2 * MIB}
MAX_EXTRA_BYTES = 512 * MIB


def zip_name(student, assignment_id):
    return f"{student}_{assignment_id}.zip"


def limit_for(kind):
    """The size limit of a member: kind is "notebook", "student file" or "extra file"."""
    return {"notebook": MAX_MEMBER_BYTES[".ipynb"], "student file": MAX_MEMBER_BYTES[".py"]}.get(kind, MAX_EXTRA_BYTES)
