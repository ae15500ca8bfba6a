"""nbgrader plug-ins used while grading."""

import copy

import nbformat
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader.preprocessors import Execute

MAX_RESTARTS = 10
CELL_OUTPUT_LIMIT = 2_000_000  # characters of output one cell may store (figures' base64 included)
CUT_NOTE = "\n[output cut by the grader: this cell's output passed {limit:,} characters; the rest was not kept]\n"


def output_size(output):
    """Characters an output holds: stream text, an error's value and traceback, every mime bundle's data."""
    size = len(str(output.get("text", ""))) + len(str(output.get("evalue", "")))
    size += sum(len(str(line)) for line in output.get("traceback", []) or [])
    return size + sum(len(str(value)) for value in (output.get("data") or {}).values())


def capped_outputs(outputs, limit=None):
    """outputs with at most limit characters in all (CELL_OUTPUT_LIMIT): what passes it is cut, an error keeps
    its name and the start of its message, and a note says what was cut."""
    limit = CELL_OUTPUT_LIMIT if limit is None else limit
    kept, used = [], 0
    for output in outputs:
        size = output_size(output)
        if used + size <= limit:
            kept.append(output)
            used += size
            continue
        room = max(0, limit - used)
        if output.get("output_type") == "stream":
            kept.append(
                nbformat.v4.new_output(
                    "stream", name=output.get("name", "stdout"), text=str(output.get("text", ""))[:room]
                )
            )
        elif output.get("output_type") == "error":
            evalue = str(output.get("evalue", ""))[: min(room, 2000)]
            ename = str(output.get("ename", ""))[:200]
            kept.append(nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"]))
        kept.append(nbformat.v4.new_output("stream", name="stderr", text=CUT_NOTE.format(limit=limit)))
        break
    return kept


class ResilientExecute(Execute):
    """nbgrader's Execute, but one cell that kills or hangs the kernel does not cost every later test.

    When a cell kills the kernel (os._exit, a segfault, the memory limit) or times out, the cell
    keeps its error, the kernel is restarted, the notebook's setup cell is run again, and execution
    goes on with the next cell. Self-contained test cells then still earn their points; cells that
    needed the lost state fail as they should.

    A cell keeps at most CELL_OUTPUT_LIMIT characters of output: a print of hundreds of MB would
    otherwise be stored in the graded notebook and rendered into the feedback page and formgrader.
    Past the limit later outputs are not even held while the cell runs; then what passed it is cut
    and a note says so (capped_outputs).
    """

    def output(self, outs, msg, display_id, cell_index):
        used = self._output_used.get(cell_index, 0)
        if used > CELL_OUTPUT_LIMIT:
            return None  # past the limit while the cell runs: nothing more is held (capped_outputs notes it)
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None:
            self._output_used[cell_index] = used + output_size(out)
        return out

    def preprocess_cell(self, cell, resources, index):
        self._output_used = {}
        cell, resources = self._preprocess_cell(cell, resources, index)
        if cell.cell_type == "code":
            cell.outputs = capped_outputs(cell.outputs)
        return cell, resources

    def preprocess(self, nb, resources=None, km=None):
        self._setup_cell = next((copy.deepcopy(c) for c in nb.cells if c.cell_type == "code"), None)
        self.restarts = 0
        return super().preprocess(nb, resources, km)

    def _preprocess_cell(self, cell, resources, index):
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except (DeadKernelError, CellTimeoutError) as error:
            # a dead kernel, or one so wedged that even its output stopped (a fork bomb)
            ename = type(error).__name__
            evalue = (
                "the kernel died while running this cell (memory limit, os._exit or a crash)"
                if isinstance(error, DeadKernelError)
                else "the kernel stopped responding while running this cell"
            )
            cell.outputs.append(
                nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])
            )
            self._restart()
            return cell, self.resources
        if cell.cell_type == "code" and any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])):
            self._restart()  # an interrupt may not have stopped it; start clean
        return cell, resources

    def _restart(self):
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            raise DeadKernelError(f"the kernel had to be restarted more than {MAX_RESTARTS} times")
        run_sync(self.km.restart_kernel)(now=True)
        self.kc.stop_channels()
        self.kc = self.km.client()
        self.kc.start_channels()
        run_sync(self.kc.wait_for_ready)(timeout=self.startup_timeout)
        if self._setup_cell is not None:
            scratch = copy.deepcopy(self._setup_cell)
            try:
                self.execute_cell(scratch, 0, store_history=False)
            except Exception:  # noqa: BLE001 - a failing setup shows up in the cells that need it
                pass
