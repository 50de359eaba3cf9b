"""The grading worker: the only process that runs a submission.

Started by :mod:`tfcourse.grading.session` inside the sandbox (:mod:`tfcourse.grading.sandbox`)
in an empty folder that holds a copy of the submission and nothing else. It never sees a test,
an expected value or a path of the grader's: it loads the submission, then answers requests, one
JSON line each, on a private copy of its original stdout (fd 1 itself is pointed at stderr, so
what the submission prints cannot garble the channel). Its first line, ``{"ready": true}``, says
the worker started (Python, numpy and the grading modules imported) before the submission runs::

    {"id": ID, "op": "load", "file": NAME}  -> {"id", "ok", "errors", "defined_by", "printed"}
    {"id": ID, "op": "begin"}                           -> {"id", "ok"}  (reseed, drop handles)
    {"id": ID, "op": "call", "name": N, "args": [...], "kwargs": {...}}
    {"id": ID, "op": "probe", "source": SRC, "name": N, "args": [...], "kwargs": {...}}
        -> {"id", "ok": true, "value": ENCODED, "printed"}
        or {"id", "ok": false, "error": {"kind", "message"}, "printed"}

Values are encoded with :mod:`tfcourse.grading.codec`: tensors and variables travel as arrays
with their kind, any other object stays here and is sent as a handle. Nothing here is trusted by
the grader: a submission may patch all of it, and can still only choose the data it returns.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import sys
import traceback
import types
from typing import Any

from tfcourse.grading.codec import Handle, decode, encode

MAX_PRINTED = 2000  # last characters of what the submission printed during one request
READY = {"ready": True}  # the first line on the channel, before any request is read


class Tail(io.TextIOBase):
    """A text stream that keeps only its last ``limit`` characters (a flood costs nothing)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.text = limit, ""

    def write(self, text: str) -> int:
        self.text = (self.text + str(text)[-self.limit :])[-self.limit :]
        return len(text)

    def getvalue(self) -> str:
        return self.text


def reseed() -> None:
    """Same seeds before every test, so a test's result never depends on the ones before it."""
    random.seed(0)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(0)
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(0)


def tf_to_array(value: Any) -> tuple[Any, str] | None:
    """``(numpy value, kind)`` for a real tf.Tensor / tf.Variable, else None."""
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return None
    if isinstance(value, tf.Variable):
        return value.numpy(), "variable"
    if isinstance(value, tf.Tensor) and hasattr(value, "numpy"):
        return value.numpy(), "tensor"
    return None


def where_in(exc: BaseException, filename: str) -> str:
    """``" (in your code, line 6: `...`)"`` for the deepest frame in the submission."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if f.filename == filename or f.filename.startswith("<cell ")]
    if not own:
        return ""
    frame = own[-1]
    cell = f"{frame.filename[1:-1]}, " if frame.filename.startswith("<cell ") else ""
    return f" (in your code, {cell}line {frame.lineno}: `{(frame.line or '').strip()}`)"


class Worker:
    """The loaded submission, the handles of this test, and the request handlers."""

    def __init__(self) -> None:
        self.sub: types.ModuleType | None = None
        self.filename = ""
        self.handles: dict[int, Any] = {}

    def _arg(self, value: Any) -> Any:
        """A decoded argument as the submission expects it (tensors, variables, objects)."""
        if isinstance(value, Handle):
            return self.handles[value.id]
        if isinstance(value, list):
            return [self._arg(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._arg(v) for v in value)
        if isinstance(value, dict):
            return {k: self._arg(v) for k, v in value.items()}
        kind = getattr(value, "kind", None)
        if kind in ("tensor", "variable"):
            import tensorflow as tf

            plain = value.numpy()
            return tf.Variable(plain) if kind == "variable" else tf.constant(plain)
        if kind == "ndarray":
            return value.numpy()
        return value

    def _handle(self, value: Any) -> Handle:
        handle = Handle(len(self.handles) + 1, type(value).__name__)
        self.handles[handle.id] = value
        return handle

    def load(self, request: dict[str, Any]) -> dict[str, Any]:
        """Load the submission; reply ``errors`` (messages) and ``defined_by`` (name -> the
        message of the failed cell that was meant to define it), see :func:`.loader.report`."""
        from tfcourse.grading.loader import describe, load_submission, report

        self.filename = os.path.abspath(request["file"])
        try:
            self.sub, failures = load_submission(self.filename)
        except BaseException as exc:
            message = f"the submission could not be read: {describe(exc)}"[:500]
            return {"ok": True, "errors": [message], "defined_by": {}}
        return {"ok": True, **report(failures)}

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        from tfcourse.grading.loader import describe

        if self.sub is None:
            return {"ok": False, "error": {"kind": "raised", "message": "nothing was loaded"}}
        name = request.get("name", "")
        try:
            if request["op"] == "probe":
                space: dict[str, Any] = {}
                exec(compile(request["source"], f"<probe {name}>", "exec"), space)
                func, args = space[name], [self.sub]
            else:
                if not hasattr(self.sub, name):
                    return {"ok": False, "error": {"kind": "missing", "message": name}}
                func, args = getattr(self.sub, name), []
            args += self._arg(decode(request.get("args", [])))
            kwargs = self._arg(decode(request.get("kwargs", {})))
            value = func(*args, **kwargs) if callable(func) and request["op"] != "get" else func
        except NotImplementedError as exc:
            return {"ok": False, "error": {"kind": "not_implemented", "message": str(exc)}}
        except AttributeError as exc:
            if getattr(exc, "obj", None) is not self.sub:
                raise_as = describe(exc) + where_in(exc, self.filename)
                return {"ok": False, "error": {"kind": "raised", "message": raise_as}}
            return {"ok": False, "error": {"kind": "missing", "message": exc.name}}
        except BaseException as exc:
            message = describe(exc) + where_in(exc, self.filename)
            types_ = [t.__name__ for t in type(exc).__mro__]
            return {"ok": False, "error": {"kind": "raised", "message": message, "types": types_}}
        try:
            return {"ok": True, "value": encode(value, tf_to_array, self._handle)}
        except Exception as exc:
            return {"ok": False, "error": {"kind": "unsupported", "message": str(exc)}}

    def serve(self, request: dict[str, Any]) -> dict[str, Any]:
        """:meth:`handle` with what the submission prints kept as the reply's ``printed``."""
        printed = Tail(MAX_PRINTED)
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            reply = self.handle(request)
        reply["printed"] = printed.getvalue()
        return reply

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "load":
            return self.load(request)
        if op == "begin":
            self.handles.clear()
            reseed()
            return {"ok": True}
        if op in ("call", "probe", "get"):
            return self.call(request)
        return {"ok": False, "error": {"kind": "raised", "message": f"unknown op {op!r}"}}


def main() -> None:
    """Serve requests from stdin until it closes."""
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    os.dup2(2, 1)  # C-level prints of the submission go to stderr, not into the channel
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # input() in a submission reads nothing instead of the requests
    sys.stdout, sys.stdin = sys.stderr, open(os.devnull, encoding="utf-8")
    import tfcourse.grading.loader  # noqa: F401 - imported before ready: the grader's own code

    channel.write(json.dumps(READY) + "\n")  # started: what fails from now on is the submission's
    channel.flush()
    worker = Worker()
    for line in requests:
        request = json.loads(line)
        reply = worker.serve(request)
        reply["id"] = request.get("id")
        channel.write(json.dumps(reply) + "\n")
        channel.flush()


if __name__ == "__main__":
    main()
