"""The grading worker: a child process that loads one submission and runs tests on request.

Started by :mod:`tfcourse.grading.runner` as ``python -m tfcourse.grading.worker`` in an empty
temporary directory. It talks JSON lines over a private copy of its original stdout; file
descriptor 1 itself is pointed at stderr, so nothing the submission prints (from Python or C)
can corrupt the protocol. Test sources arrive over stdin, never as paths, so the worker knows
no tests directory. Requests and replies::

    {"op": "load", "submission": PATH, "tests": {"tests_public": SOURCE, ...}}
        -> {"op": "loaded", "errors": [...], "output": STR}
    {"op": "run", "file": "tests_public", "name": "test_shapes"}
        -> {"op": "result", "passed": BOOL, "output": STR, "seconds": FLOAT}

The worker trusts nothing it runs: it catches ``BaseException`` (``sys.exit`` included) around
loading and every test. What it cannot catch (``os._exit``, a segfault, an endless loop) the
parent sees as a dead or silent worker, reports, and replaces.
"""

from __future__ import annotations

import contextlib
import io
import json
import linecache
import os
import random
import sys
import time
import traceback
import types
from typing import Any

MAX_OUTPUT = 3000
MAX_PRINTED = 500  # last characters of what a failing test printed


def reseed() -> None:
    """Same seeds before every test, so a test's result never depends on the ones before it."""
    random.seed(0)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(0)
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(0)


def _clip(text: str) -> str:
    if len(text) <= MAX_OUTPUT:
        return text
    return text[: MAX_OUTPUT // 2] + "\n... (output shortened) ...\n" + text[-MAX_OUTPUT // 2 :]


def explain_failure(exc: BaseException, sub: types.ModuleType, test_file: str) -> str:
    """A student-facing sentence for a failed test: what broke and where."""
    from tfcourse.grading.loader import describe

    if isinstance(exc, AttributeError) and getattr(exc, "obj", None) is sub:
        return f"your submission does not define `{exc.name}` (check the spelling and run its cell)"
    if isinstance(exc, NotImplementedError):
        return f"not implemented yet ({exc})" if str(exc) else "not implemented yet"
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if f.filename == getattr(sub, "__grading_file__", None)]
    if isinstance(exc, AssertionError):
        message = str(exc).strip()
        test_line = next((f for f in reversed(frames) if f.filename == test_file), None)
        if message:
            return message
        if test_line is not None and test_line.line:
            return f"check failed: `{test_line.line.strip()}`"
        return "check failed"
    where = ""
    if own:
        where = f" (in your code, line {own[-1].lineno}: `{(own[-1].line or '').strip()}`)"
    return f"{describe(exc)}{where}"


class Worker:
    """State of one worker process: the loaded submission and the test modules."""

    def __init__(self) -> None:
        self.sub: types.ModuleType | None = None
        self.tests: dict[str, types.ModuleType] = {}

    def load(self, submission: str, tests: dict[str, str]) -> dict[str, Any]:
        """Compile the test files, then run the submission into a module."""
        from tfcourse.grading.loader import describe, load_submission

        for stem, source in tests.items():
            filename = f"{stem}.py"
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            module = types.ModuleType(stem)
            module.__file__ = filename
            exec(compile(source, filename, "exec"), module.__dict__)
            self.tests[stem] = module
        out = io.StringIO()
        errors: list[str] = []
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                self.sub, errors = load_submission(submission)
        except BaseException as exc:
            errors = [f"the submission could not be read: {describe(exc)}"]
        if self.sub is not None:
            self.sub.__grading_file__ = (
                submission if submission.endswith(".py") else None
            )  # notebook cells use "<cell N>"
        return {"op": "loaded", "errors": errors, "output": _clip(out.getvalue())}

    def run(self, file: str, name: str) -> dict[str, Any]:
        """Run one test function on the submission; never raises."""
        out = io.StringIO()
        start = time.perf_counter()
        passed, message = False, ""
        try:
            test = getattr(self.tests[file], name)
            if self.sub is None:
                raise RuntimeError("the submission was not loaded")
            reseed()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                test(self.sub)
            passed = True
        except BaseException as exc:
            message = explain_failure(exc, self.sub, f"{file}.py")
        printed = out.getvalue().strip()
        if printed and not passed:
            tail = printed if len(printed) <= MAX_PRINTED else "..." + printed[-MAX_PRINTED:]
            message += "\nyour code printed:\n" + tail
        return {
            "op": "result",
            "passed": passed,
            "output": _clip(message),
            "seconds": round(time.perf_counter() - start, 3),
        }


def main() -> None:
    """Serve requests from stdin until it closes."""
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    os.dup2(2, 1)  # C-level prints of the submission go to stderr, not into the protocol
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # input() in a submission reads nothing instead of the requests
    sys.stdout, sys.stdin = sys.stderr, open(os.devnull, encoding="utf-8")
    worker = Worker()
    for line in requests:
        request = json.loads(line)
        if request["op"] == "load":
            reply = worker.load(request["submission"], request["tests"])
        else:
            reply = worker.run(request["file"], request["name"])
        proto.write(json.dumps(reply) + "\n")
        proto.flush()


if __name__ == "__main__":
    main()
