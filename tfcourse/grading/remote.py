"""``sub``: what a test holds of the submission, a proxy whose calls cross as data.

::

    def test_forward(sub):
        logits = sub.forward(x, W1, b1, W2, b2)      # runs in the worker, returns an array
        np.testing.assert_allclose(logits, reference_forward(x, W1, b1, W2, b2))

    def _probe(sub, values):                          # runs in the worker: no expected values
        import tensorflow as tf
        params = [tf.Variable(v) for v in values]
        sub.train_step(params, ...)
        return [p.numpy() for p in params]

    def test_train_step(sub):
        after = sub.run(_probe, values)               # compared here, in pytest

Arguments and results are encoded by :mod:`.codec`: numbers, strings, None, bools, lists,
tuples, dicts and numpy arrays; a ``tf.Tensor`` or ``tf.Variable`` argument arrives in the
worker as one, and one returned arrives here as a :class:`~.codec.RemoteArray` whose ``kind``
says which (``is_tensor(value)``). Other objects stay in the worker and come back as a
:class:`~.codec.Handle`, valid as an argument until the test ends. The same proxy can also run
functions in this process (``Inline``): ``check()`` in a student's own notebook does that.
"""

from __future__ import annotations

import inspect
import re
import textwrap
import time
from collections.abc import Callable
from typing import Any

from tfcourse.grading.codec import CodecError, decode, encode
from tfcourse.grading.session import OutOfTime, StudentError, WorkerSession
from tfcourse.grading.worker import Worker, tf_to_array

MAX_LOGGED = 200  # requests of one test kept for diagnosis
_NOT_DEFINED = re.compile(r"NameError: name '(\w+)' is not defined")


def _defined_by(session: Any) -> dict[str, str]:
    """Name -> the failed notebook cell that was meant to define it (empty for ``Inline``)."""
    defined_by = getattr(getattr(session, "session", None), "defined_by", None)
    return defined_by if isinstance(defined_by, dict) else {}


def _explain(error: Any, name: str, defined_by: dict[str, str] | None = None) -> str:
    """The sentence for an error reply; a missing name names the failed cell meant to define it.

    Args:
        error: the reply's ``error`` (``kind``, ``message``, maybe ``types``).
        name: the function or probe the test called.
        defined_by: name -> message of the failed cell (or ``.py`` line) that would define it.
    """
    if not isinstance(error, dict):
        return "your code failed in a way the grader cannot describe"
    kind, message = error.get("kind"), str(error.get("message", ""))[:2000]
    defined_by = defined_by or {}
    if kind == "missing":
        missing = message if message.isidentifier() else name
        if missing in defined_by:
            return f"`{missing}` is not defined: {defined_by[missing]}"
        return f"your submission does not define `{missing}` (check the spelling and run its cell)"
    undefined = _NOT_DEFINED.match(message) if kind == "raised" else None
    if undefined and undefined.group(1) in defined_by:  # e.g. train_step calls a missing forward
        return f"{message}\n`{undefined.group(1)}` is not defined: {defined_by[undefined.group(1)]}"
    if kind == "not_implemented":
        return f"not implemented yet ({message})" if message else "not implemented yet"
    if kind == "unsupported":
        return f"`{name}` returned something the grader cannot read: {message}"
    return message or "your code raised an error"


class Submission:
    """The submission as tests see it; one per test (``deadline`` is that test's)."""

    def __init__(self, session: WorkerSession | Inline, deadline: float) -> None:
        self._session, self._deadline = session, deadline
        self.printed = ""  # what the submission printed during this test (tail)
        self._log: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (request, reply)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True
            return self._request({"op": "call", "name": name}, name, args, kwargs)

        call.__name__ = name
        return call

    def value(self, name: str) -> Any:
        """A module-level value of the submission (``sub.value("EXERCISES")``)."""
        return self._request({"op": "get", "name": name}, name, (), {})

    def run(self, probe: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``probe(submission_module, *args, **kwargs)`` in the worker; return its value.

        The probe travels as source text: keep it self-contained (imports inside), and never
        put expected values in it. Compare what it returns here.
        """
        __tracebackhide__ = True
        source = textwrap.dedent(inspect.getsource(probe))
        message = {"op": "probe", "name": probe.__name__, "source": source}
        return self._request(message, probe.__name__, args, kwargs)

    def _request(self, message: dict[str, Any], name: str, args: Any, kwargs: Any) -> Any:
        __tracebackhide__ = True  # pytest shows the test's line, not the proxy's
        try:
            message["args"] = encode(list(args), tf_to_array)
            message["kwargs"] = encode(dict(kwargs), tf_to_array)
        except CodecError as exc:
            raise TypeError(f"the test cannot send this argument to the worker: {exc}") from None
        reply = self._session.call(message, self._deadline)
        if len(self._log) < MAX_LOGGED:  # replayed against known mistakes if the test fails
            self._log.append(({k: v for k, v in message.items() if k != "id"}, reply))
        self.printed = (self.printed + reply["printed"])[-2000:]
        if not reply["ok"]:
            error = reply.get("error")
            types = error.get("types") if isinstance(error, dict) else None
            names = tuple(str(t)[:100] for t in types[:20]) if isinstance(types, list) else ()
            raise StudentError(_explain(error, name, _defined_by(self._session)), names)
        try:
            return decode(reply.get("value"))
        except CodecError as exc:
            raise StudentError(f"`{name}` sent back data the grader rejects: {exc}") from None


class Remote:
    """Binds a :class:`WorkerSession` to the time limits of calls, tests and the budget."""

    def __init__(self, session: WorkerSession) -> None:
        self.session = session

    def begin(self) -> float:
        """Prepare the worker for a new test; return that test's deadline."""
        limits, session = self.session.limits, self.session
        if session.budget_left() <= 0:
            raise OutOfTime(
                f"not run: the time budget for this submission ({limits.budget:g} s) ran out"
            )
        session.ensure_loaded(time.monotonic() + session.budget_left())
        deadline = time.monotonic() + limits.test_timeout
        self.call({"op": "begin"}, deadline)
        return deadline

    def call(self, message: dict[str, Any], deadline: float) -> dict[str, Any]:
        limits, session = self.session.limits, self.session
        options = [
            (
                limits.call_timeout,
                f"timed out after {limits.call_timeout:g} s (an endless loop, or much too slow?)",
            ),
            (deadline - time.monotonic(), f"this test's {limits.test_timeout:g} s ran out"),
            (
                session.budget_left(),
                f"the time budget for this submission ({limits.budget:g} s) ran out",
            ),
        ]
        seconds, why = min(options, key=lambda o: o[0])
        if seconds <= 0:
            raise OutOfTime(why)
        return session.request(message, seconds, why)


class Inline:
    """Runs requests in this process, through the same codec (a student's own notebook)."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        import types

        module = types.ModuleType("submission")
        module.__dict__.update({k: v for k, v in namespace.items() if not k.startswith("__")})
        self.worker = Worker()
        self.worker.sub = module
        self.worker.filename = "<notebook>"

    def begin(self) -> float:
        self.worker.handle({"op": "begin"})
        return float("inf")

    def call(self, message: dict[str, Any], deadline: float) -> dict[str, Any]:
        return self.worker.serve(message)
