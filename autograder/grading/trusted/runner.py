"""Trusted grading: every test cell of an assignment, run in a process that never runs student code.

    python -m autograder.grading.trusted.runner SPEC.json

SPEC names the test cells (full source: visible and hidden parts), the student modules of the
assignment, how to start the call server in the sandbox, the notebook's exported variables and where
to write the results. Each test cell runs here, in a fresh namespace, with:
- the student modules as RemoteModules (remote.py): their functions and classes run in the sandbox,
  whatever a test passes them is copied there and whatever comes back is plain data;
- the course's own provided cs_lib, and the references of earlier assignments, imported locally;
- for a test that reads notebook variables (reads=[...]), those variables as the plain data the
  sandboxed kernel exported.
A test scores its points when it runs to the end without an exception; the result says why not and
lists what was checked (the labels of the cs_lib.checks calls it made). Nothing a test prints is kept.
"""

import contextlib
import io
import json
import signal
import sys
import time
from pathlib import Path

from autograder.grading.trusted import remote

MAX_LABELS = 60


class _Labels:
    """Records the label of every top-level cs_lib.checks call a test makes."""

    LABEL_ARGUMENT = {  # function name: (position of the label among the arguments, keyword)
        "check_rel_error": (2, "name"),
        "check_close": (2, "name"),
        "check_scalar": (2, "name"),
        "check_shape": (2, "name"),
        "check_true": (1, "message"),
        "check_finite": (1, "name"),
    }

    def __init__(self):
        self.labels = []
        self.depth = 0
        self.test_file, self.hidden_lines = None, set()

    def start(self, test_file, source):
        """Labels of the coming test: those of checks made from its hidden parts are not kept (what was checked
        is shown to the student; a hidden check's label may name its secret inputs)."""
        from autograder.common.markers import BEGIN_HIDDEN, END_HIDDEN

        self.take()
        self.test_file, self.hidden_lines, inside = test_file, set(), False
        for number, line in enumerate(source.splitlines(), start=1):
            if line.strip() == BEGIN_HIDDEN:
                inside = True
            if inside:
                self.hidden_lines.add(number)
            if line.strip() == END_HIDDEN:
                inside = False

    def _from_hidden_part(self):
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename == self.test_file and frame.f_lineno in self.hidden_lines:
                return True
            frame = frame.f_back
        return False

    def install(self):
        import cs_lib.checks as checks

        for function_name, (position, keyword) in self.LABEL_ARGUMENT.items():
            setattr(checks, function_name, self._wrap(getattr(checks, function_name), position, keyword))
        original_raises = checks.check_raises

        def check_raises(error_type, function, *args, name=None, match=None, **kwargs):
            label = name or getattr(function, "__name__", None) or "a call"
            return self._record(
                f"{label} raises {getattr(error_type, '__name__', error_type)}",
                original_raises,
                (error_type, function, *args),
                dict(kwargs, name=name, match=match),
            )

        checks.check_raises = check_raises

    def _wrap(self, function, position, keyword):
        def wrapped(*args, **kwargs):
            label = kwargs.get(keyword, args[position] if len(args) > position else function.__name__)
            return self._record(label, function, args, kwargs)

        wrapped.__name__ = function.__name__
        wrapped.__doc__ = function.__doc__
        return wrapped

    def _record(self, label, function, args, kwargs):
        if self.depth == 0 and len(self.labels) < MAX_LABELS and not self._from_hidden_part():
            text = " ".join(str(label).split())
            self.labels.append(text if len(text) <= 200 else text[:197] + "...")
        self.depth += 1
        try:
            return function(*args, **kwargs)
        finally:
            self.depth -= 1

    def take(self):
        labels, self.labels, self.depth = self.labels, [], 0
        return labels


class _Alarm:
    """A last-resort limit on a test's own running time (student calls have the channel's deadline)."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __enter__(self):
        def expired(signum, frame):
            raise remote.StudentTimeout(f"the test ran past its {self.seconds:g} s limit")

        self.previous = signal.signal(signal.SIGALRM, expired)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.previous)
        return False


def run_test(test, channel, student_modules, exports, problems, labels, timeout):
    """{"score", "points", "passed", "message", "checked", "seconds"} for one test cell."""
    started = time.monotonic()
    points = float(test["points"])
    result = {"points": points, "score": 0.0, "passed": False, "message": "", "checked": []}
    scope = {"__name__": "__test__", "__builtins__": __builtins__}
    for name in test.get("reads", []):
        if name in exports:
            scope[name] = exports[name]
        else:
            why = problems.get(name, "not defined")
            result["message"] = (
                f"the notebook's variable {name} could not be judged: {why}. Run the notebook from the top so the "
                f"cell that sets {name} runs, and keep it plain data (numbers, strings, lists, dicts, numpy arrays)"
            )
            result["seconds"] = time.monotonic() - started
            return result
    remote.forget_student_modules(student_modules)
    test_file = f"<test {test['grade_id']}>"
    labels.start(test_file, test["source"])
    channel.deadline = time.monotonic() + timeout
    try:
        channel.reset()
        with _Alarm(timeout + 5), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(test["source"], test_file, "exec"), scope)
            channel.flush()  # an assignment's error counts for the test that made it
    except remote.GradingAbort as error:
        result["message"] = remote.describe(error) if not str(error) else str(error)
    except Exception as error:  # noqa: BLE001 - any failure of a test fails that test only
        result["message"] = remote.describe(error)
    else:
        result.update(score=points, passed=True)
    finally:
        channel.deadline = float("inf")
    result["checked"] = labels.take()
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


def _wait_for(paths, limit):
    """Wait until one of the files exists -- the test's exported variables, which the kernel writes whole
    just before the test's cell, or the grader's word that the notebook's kernel is done -- at most limit
    seconds; return the seconds waited. A test that reads notebook variables so runs beside the rest of the
    notebook, as soon as the kernel has passed its cell."""
    started = time.monotonic()
    paths = [Path(path) for path in paths if path]
    if not paths:
        return 0.0
    deadline = started + limit
    while not any(path.exists() for path in paths) and time.monotonic() < deadline:
        time.sleep(0.02)
    return time.monotonic() - started


def _read_exports(path, names):
    """({name: value}, {name: why not}) of the variables the kernel exported just before a test's cell."""
    from autograder.grading.trusted.sandboxed import wire

    if not Path(path).is_file():
        return {}, dict.fromkeys(names, "the notebook did not run to its end (or was not submitted)")
    try:
        return wire.read_exports(path)
    except (wire.WireError, OSError) as error:
        return {}, dict.fromkeys(names, f"the exported variables could not be read ({error})")


def main(spec_path):
    spec = json.loads(Path(spec_path).read_text())
    started = time.monotonic()
    channel = remote.Channel(
        spec["server_argv"],
        env=spec.get("server_env"),
        log=spec.get("server_log"),
        changes_in_place=spec.get("changes_in_place"),
    )
    remote.CURRENT.append(channel)
    student_modules = set(spec["student_modules"])
    finder = remote.install(channel, student_modules)
    labels = _Labels()
    labels.install()
    exports = spec.get("exports") or {}
    results = {}
    waited = 0.0
    # tests that only call student code first (they run while the notebook's kernel still works), then
    # those that judge the variables it exports, each once the kernel has passed its cell
    ordered = [test for test in spec["tests"] if not test.get("reads")]
    ordered += [test for test in spec["tests"] if test.get("reads")]
    try:
        for test in ordered:
            values, problems = {}, {}
            if test.get("reads"):
                waited += _wait_for(
                    [exports.get(test["grade_id"]), spec.get("notebook_done")], float(spec.get("timeout", 120)) * 10
                )
                if test["grade_id"] in exports:
                    values, problems = _read_exports(exports[test["grade_id"]], test["reads"])
            results[test["grade_id"]] = run_test(
                test, channel, student_modules, values, problems, labels, float(spec.get("timeout", 120))
            )
    finally:
        channel.close()
        remote.uninstall(finder)
    summary = {
        "tests": results,
        "restarts": channel.restarts,
        "seconds": round(time.monotonic() - started, 3),
        "waited": round(waited, 3),  # for the notebook's kernel, before the tests that read its variables
    }
    Path(spec["result"]).write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
