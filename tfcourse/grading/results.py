"""Turning pytest outcomes into what students and Gradescope read.

:func:`failure_message` writes the one sentence a failed test shows (the assertion's message,
what the submission raised, or why the worker was stopped); :func:`gradescope` assembles
``results.json``; :func:`format_report` prints the same as text; :func:`failing_results` is the
``results.json`` of a submission that could not be graded at all.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from tfcourse.grading.loader import describe
from tfcourse.grading.printable import printable
from tfcourse.grading.session import StudentError

if TYPE_CHECKING:
    from tfcourse.grading.assignment import Assignment

VISIBILITY = {"tests_public": "visible", "tests_hidden": "after_published"}
MAX_OUTPUT = 3000


@dataclasses.dataclass
class Outcome:
    """One graded test: its weight, whether it passed, and what the student reads."""

    name: str
    exercise: str
    points: float
    file: str
    passed: bool = False
    output: str = ""
    mistakes: list[str] = dataclasses.field(default_factory=list)  # known mistakes recognised

    @property
    def title(self) -> str:
        return f"{self.exercise}: {self.name} ({self.file})"


def _clip(text: str) -> str:
    if len(text) <= MAX_OUTPUT:
        return text
    return text[: MAX_OUTPUT // 2] + "\n... (output shortened) ...\n" + text[-MAX_OUTPUT // 2 :]


def failure_message(exc: BaseException, statement: str | None, printed: str = "") -> str:
    """The sentence for a failed test.

    Args:
        exc: what the test raised.
        statement: the source line of the test where it was raised, if known.
        printed: the tail of what the submission printed during the test.
    """
    if isinstance(exc, StudentError):
        message = str(exc)
    elif isinstance(exc, AssertionError):
        text = str(exc).strip()
        if not text or text.startswith("assert "):
            message = f"check failed: `{statement}`" if statement else "check failed"
        else:
            message = text.split("\nassert ")[0].strip()
    else:
        message = describe(exc)
    printed = printed.strip()
    if printed:
        tail = printed if len(printed) <= 500 else "..." + printed[-500:]
        message += "\nyour code printed:\n" + tail
    return _clip(message)


def mistake_note(found: list[Any]) -> str:
    """The lines a failure message gets for the known mistakes it matched (name and hint)."""
    if not found:
        return ""
    lines = [f"This looks like a known mistake ({m.name}): {m.hint}" for m in found]
    return "\n" + "\n".join(lines)


def gradescope(outcomes: list[Outcome], notes: list[str], seconds: float) -> dict[str, Any]:
    """``results.json`` content (Gradescope's format); a test whose failure matched known
    mistakes names them in ``extra_data`` as ``{"mistakes": [names]}``."""
    tests = [
        {
            "name": o.title,
            "score": o.points if o.passed else 0.0,
            "max_score": o.points,
            "output": o.output or ("passed" if o.passed else "failed"),
            "visibility": VISIBILITY.get(o.file, "visible"),
            **({"extra_data": {"mistakes": list(o.mistakes)}} if o.mistakes else {}),
        }
        for o in outcomes
    ]
    output = "\n".join(notes) or "Your submission loaded without errors."
    return {
        "score": sum(t["score"] for t in tests),
        "max_score": sum(t["max_score"] for t in tests),
        "output": output,
        "execution_time": round(seconds, 2),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def format_report(results: dict[str, Any], show_hidden: bool = True) -> str:
    """A readable report: one line per test, failures with their output, then the total.

    Text from the results (messages quote the submission) goes through :func:`.printable`,
    so no control character in it can rewrite the report on a terminal.
    """
    lines = [printable(str(results["output"])), ""]
    for test in results["tests"]:
        if not show_hidden and test["visibility"] != "visible":
            continue
        mark = "PASS" if test["score"] == test["max_score"] else "FAIL"
        name = printable(str(test["name"]), multiline=False)
        lines.append(f"{mark} {test['score']:g}/{test['max_score']:g}  {name}")
        if mark == "FAIL":
            lines += [f"       {ln}" for ln in printable(str(test["output"])).splitlines()]
    lines += ["", f"Score: {results['score']:g} / {results['max_score']:g}"]
    return "\n".join(lines)


def failing_results(assignment: Assignment, message: str) -> dict[str, Any]:
    """``results.json`` giving 0 to every test of ``assignment``, each with ``message``."""
    outcomes = [
        Outcome(t.name, t.exercise, t.points, t.file, passed=False, output=message)
        for t in assignment.tests
    ]
    return gradescope(outcomes, [message], 0.0)
