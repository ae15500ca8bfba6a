"""A cell's stored output is bounded: a student's print of hundreds of MB would otherwise be kept in the graded
notebook, then rendered into the feedback page and formgrader (measured: a 200 MB print made a 420 MB
notebook and a 420 MB feedback page, 5.9 GB of memory to write it)."""

import nbformat
import pytest

from autograder.grading.run import nbgrader_ext
from autograder.grading.run.nbgrader_ext import CELL_OUTPUT_LIMIT, ResilientExecute, output_size

pytestmark = pytest.mark.slow


def executed(*sources):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    executor = ResilientExecute(timeout=120, kernel_name="python3", allow_errors=True)
    executor.extra_arguments = ["--IPKernelApp.log_level=ERROR"]
    result, _ = executor.preprocess(notebook, {"metadata": {"path": "."}})
    return result


def test_a_cell_keeps_at_most_the_limit_and_says_it_cut_the_rest(monkeypatch):
    monkeypatch.setattr(nbgrader_ext, "CELL_OUTPUT_LIMIT", 50_000)
    notebook = executed(
        "import sys; sys.stdout.write('B' * 3_000_000); sys.stdout.flush()",  # one huge message
        "for i in range(2000):\n    print('x' * 100, flush=True)",  # many small ones
        "print('next cell keeps its output')",
        "raise ValueError('E' * 200_000)",  # an error past the limit is replaced by the note
    )
    for cell in notebook.cells[:2] + notebook.cells[3:]:
        size = sum(output_size(output) for output in cell.outputs)
        assert size <= 50_000 + 200, size
        assert "output cut by the grader" in "".join(str(o.get("text", "")) for o in cell.outputs)
    # a busy kernel may flush print's text and its newline as two stream messages: the cell's text is both
    kept = "".join(output.get("text", "") for output in notebook.cells[2].outputs if output.output_type == "stream")
    assert kept == "next cell keeps its output\n"
    assert len(nbformat.writes(notebook)) < 4 * 50_000 + 20_000


def test_the_limit_keeps_what_an_honest_notebook_prints():
    """Figures and training logs of the course stay whole: the limit is far above them."""
    assert CELL_OUTPUT_LIMIT >= 1_000_000
    notebook = executed("for epoch in range(200):\n    print(f'epoch {epoch}: loss {1 / (epoch + 1):.4f}')")
    assert "output cut" not in str(notebook.cells[0].outputs) and len(notebook.cells[0].outputs[0]["text"]) > 3000
