"""Grade one submission: the parent process side of the sandbox.

The parent never imports the submission. It starts a worker (:mod:`tfcourse.grading.worker`)
in an empty temporary directory, sends it the test sources and asks for one test at a time,
each with a deadline. A worker that exits, crashes or overruns is killed with its whole
process group, the test is reported as failed with the reason, and a fresh worker carries on
with the next test. Only the parent writes ``results.json`` (Gradescope format), atomically.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tfcourse.grading.assignment import Assignment, TestSpec
from tfcourse.grading.errors import SubmissionError
from tfcourse.rundir import atomic_write_json

DEFAULT_TIMEOUT = 60.0  # seconds per test: the first TensorFlow call of a worker can be slow
LOAD_TIMEOUT = 300.0  # seconds to run the submission (a notebook may train a small model)


class WorkerDied(Exception):
    """The worker exited, crashed or missed its deadline; ``str()`` says which, for students."""


class WorkerProcess:
    """One ``python -m tfcourse.grading.worker`` child with a JSON-lines channel."""

    def __init__(self, workdir: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TFCOURSE_ASSIGN")}
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tfcourse.grading.worker"],
            cwd=workdir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            start_new_session=True,  # so a timeout kills anything the submission spawned
        )
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        self.buffer = b""

    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and wait at most ``timeout`` seconds for its reply."""
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise WorkerDied(self._death()) from None
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not self.selector.select(left):
                self.close()
                raise WorkerDied(
                    f"timed out after {timeout:g} s (an endless loop, or much too slow?)"
                )
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise WorkerDied(self._death())
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        try:
            reply = json.loads(line)
            if not isinstance(reply, dict) or "op" not in reply:
                raise ValueError(line[:80])
        except ValueError:
            self.close()
            raise WorkerDied("the grader lost contact with your code (garbled reply)") from None
        return reply

    def _death(self) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self.close()
        if code is not None and code < 0:
            return f"your code crashed the Python process (signal {-code})"
        return f"your code ended the Python process (exit code {code}, e.g. os._exit or exit)"

    def close(self) -> None:
        """Kill the worker's process group and release its pipes."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.selector.close()
        self.log.close()


def _test_entry(spec: TestSpec, passed: bool, output: str) -> dict[str, Any]:
    return {
        "name": spec.title,
        "score": spec.points if passed else 0.0,
        "max_score": spec.points,
        "output": output if output else ("passed" if passed else "failed"),
        "visibility": spec.visibility,
    }


def grade(
    submission: str | Path,
    assignment: Assignment,
    timeout: float = DEFAULT_TIMEOUT,
    load_timeout: float = LOAD_TIMEOUT,
) -> dict[str, Any]:
    """Grade ``submission`` against every test of ``assignment``.

    Args:
        submission: the student's ``.py`` or ``.ipynb`` file.
        assignment: from :func:`tfcourse.grading.assignment.load`.
        timeout: seconds allowed per test.
        load_timeout: seconds allowed to run the submission itself.

    Returns:
        Gradescope ``results.json`` content: ``score``, ``max_score``, ``output``,
        ``execution_time`` and ``tests`` (``name``, ``score``, ``max_score``, ``output``,
        ``visibility``).

    Raises:
        SubmissionError: the file is missing or not a ``.py`` / ``.ipynb``.
    """
    path = Path(submission).resolve()
    if not path.is_file():
        raise SubmissionError(f"submission {str(submission)!r} does not exist")
    if path.suffix not in (".py", ".ipynb"):
        raise SubmissionError(f"{path.name}: submit a .py or .ipynb file, not {path.suffix!r}")
    start = time.perf_counter()
    entries: list[dict[str, Any]] = []
    notes: list[str] = []
    worker: WorkerProcess | None = None
    fatal = ""  # once loading itself kills the worker, every later test gets this message
    with tempfile.TemporaryDirectory(prefix="tfcourse-grade-") as workdir:
        try:
            for spec in assignment.tests:
                if fatal:
                    entries.append(_test_entry(spec, False, fatal))
                    continue
                if worker is None:
                    worker = WorkerProcess(Path(workdir))
                    load = {"op": "load", "submission": str(path), "tests": assignment.sources}
                    try:
                        loaded = worker.request(load, load_timeout)
                    except WorkerDied as exc:
                        worker, fatal = None, f"loading your submission failed: {exc}"
                        entries.append(_test_entry(spec, False, fatal))
                        continue
                    for error in loaded.get("errors", []):
                        if error not in notes:
                            notes.append(error)
                try:
                    reply = worker.request(
                        {"op": "run", "file": spec.file, "name": spec.name}, timeout
                    )
                    entries.append(_test_entry(spec, bool(reply["passed"]), reply["output"]))
                except WorkerDied as exc:
                    worker = None
                    entries.append(_test_entry(spec, False, str(exc)))
        finally:
            if worker is not None:
                worker.close()
    score = sum(e["score"] for e in entries)
    output = "\n".join(f"Problem while loading your submission: {n}" for n in notes)
    return {
        "score": score,
        "max_score": assignment.max_score,
        "output": output or "Your submission loaded without errors.",
        "execution_time": round(time.perf_counter() - start, 2),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": entries,
    }


def write_results(results: dict[str, Any], path: str | Path) -> Path:
    """Write ``results`` to ``path`` atomically (a reader never sees half a file)."""
    return atomic_write_json(Path(path), results)


def format_report(results: dict[str, Any], show_hidden: bool = True) -> str:
    """A readable report: one line per test, failures with their output, then the total."""
    lines = [results["output"], ""]
    for test in results["tests"]:
        if not show_hidden and test["visibility"] != "visible":
            continue
        mark = "PASS" if test["score"] == test["max_score"] else "FAIL"
        lines.append(f"{mark} {test['score']:g}/{test['max_score']:g}  {test['name']}")
        if mark == "FAIL":
            lines += [f"       {ln}" for ln in test["output"].splitlines()]
    lines += ["", f"Score: {results['score']:g} / {results['max_score']:g}"]
    return "\n".join(lines)
