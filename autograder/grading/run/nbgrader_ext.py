"""nbgrader plug-ins used while grading."""

import copy

import nbformat
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader.preprocessors import Execute

MAX_RESTARTS = 10


class ResilientExecute(Execute):
    """nbgrader's Execute, but one cell that kills or hangs the kernel does not cost every later test.

    When a cell kills the kernel (os._exit, a segfault, the memory limit) or times out, the cell
    keeps its error, the kernel is restarted, the notebook's setup cell is run again, and execution
    goes on with the next cell. Self-contained test cells then still earn their points; cells that
    needed the lost state fail as they should.
    """

    def preprocess(self, nb, resources=None, km=None):
        self._setup_cell = next((copy.deepcopy(c) for c in nb.cells if c.cell_type == "code"), None)
        self.restarts = 0
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
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
