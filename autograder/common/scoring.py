"""How a test cell's outputs become points (nbgrader's rule, minus its stderr quirk).

nbgrader gives a test cell zero when it printed anything on stderr, so a harmless
DeprecationWarning would fail a correct submission. Here only an error fails a cell:
  - an error output (exception, timeout, dead kernel) scores 0;
  - a number as the cell's result scores that many points (partial credit, capped);
  - anything else scores full points.
"""


def cell_score(cell, max_points):
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return 0.0
    for output in cell.get("outputs", []):
        if output.get("output_type") == "execute_result":
            text = output.get("data", {}).get("text/plain", "")
            try:
                return max(0.0, min(float(max_points), float(text)))
            except (TypeError, ValueError):
                return float(max_points)
    return float(max_points)


def test_results(notebook):
    """[(grade_id, score, max_points, error_summary)] for every autograded test cell."""
    results = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        points = float(meta.get("points", 0))
        error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
        summary = f"{error.get('ename')}: {error.get('evalue')}" if error else ""
        results.append((meta["grade_id"], cell_score(cell, points), points, summary))
    return results
