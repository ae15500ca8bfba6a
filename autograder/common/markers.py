"""The markers nbgrader reads in source cells, apart from sources.py so that the trusted runner, which
needs only these, does not import nbformat (over a second of start-up, with its schema validators)."""

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
