"""Grade a submission from Python or the command line: a fresh ``pytest`` run of the plugin.

:func:`grade` starts ``python -m pytest`` on the assignment's test files with ``--submission``
and ``--results`` (see :mod:`.plugin`) and returns the ``results.json`` it wrote. Each grading
is its own pytest process, so no state is shared between submissions; :mod:`.batch` grades
several at once for a class (``tfcourse grade DIR --jobs N --csv grades.csv``).

When the grader itself fails (its worker cannot start, the reference solution fails the
self-check), the plugin exits with :data:`GRADER_FAILURE_EXIT` and writes no ``results.json``;
:func:`grade` then raises :class:`~.errors.GraderFailure` with the plugin's message.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from tfcourse.grading.assignment import Assignment
from tfcourse.grading.autograder import link_problem
from tfcourse.grading.errors import GraderFailure, GradingError, SubmissionError
from tfcourse.grading.limits import Limits
from tfcourse.grading.results import format_report  # noqa: F401 - re-exported
from tfcourse.safe_write import atomic_write_json

DEFAULT_TIMEOUT = 60.0  # seconds per call into the submission
INI = "[pytest]\naddopts =\n"  # the graded run ignores any project's pytest settings
GRADER_FAILURE_EXIT = 6  # pytest's exit status when the grader itself failed (no results.json)
GRADER_FAILURE_MARK = "tfcourse: GRADER FAILURE: nothing was graded, no results were written:"


def report_grader_failure(message: str, stream: TextIO) -> None:
    """Write :data:`GRADER_FAILURE_MARK` and ``message`` (indented) for people and the runner."""
    lines = [f"  {line}" for line in message.splitlines() or [""]]
    stream.write("\n".join(["", GRADER_FAILURE_MARK, *lines, ""]))
    stream.flush()


def grader_failure(returncode: int, stderr: str) -> str | None:
    """The grader failure a pytest run reported (exit status :data:`GRADER_FAILURE_EXIT`).

    The plugin writes it with :func:`report_grader_failure`; a ``pytest.exit`` before the tests
    (during ``pytest_sessionstart``) leaves pytest's own ``Exit: message`` instead.
    """
    if returncode != GRADER_FAILURE_EXIT:
        return None
    lines = stderr.splitlines()
    if GRADER_FAILURE_MARK in lines:
        after = lines[lines.index(GRADER_FAILURE_MARK) + 1 :]
        kept = []
        for line in after:
            if not line.startswith("  "):
                break
            kept.append(line[2:])
        return "\n".join(kept).strip() or "the grader failed"
    for i, line in enumerate(lines):
        if line.startswith("Exit: "):
            return "\n".join([line.removeprefix("Exit: "), *lines[i + 1 :]]).strip()
    return stderr.strip()[-2000:] or "the grader failed"


def check_submission(submission: str | Path) -> Path:
    """The resolved path of a gradable file.

    Raises:
        SubmissionError: the file is missing, not a ``.py`` / ``.ipynb``, or a link (symbolic,
            or one of several hard links: it may be the instructor's solution; see
            :func:`.autograder.link_problem`).
    """
    given = Path(submission)
    problem = link_problem(given)
    if problem:
        raise SubmissionError(f"submission {str(submission)!r} was not graded: {problem}")
    path = given.resolve()
    if not path.is_file():
        raise SubmissionError(f"submission {str(submission)!r} does not exist")
    if path.suffix not in (".py", ".ipynb"):
        raise SubmissionError(f"{path.name}: submit a .py or .ipynb file, not {path.suffix!r}")
    return path


def pytest_command(
    submission: Path, assignment: Assignment | list[Path], results: Path, options: dict[str, Any]
) -> list[str]:
    """The ``python -m pytest ...`` line that grades ``submission``.

    ``assignment`` gives the test files (or is their list); ``options`` become flags
    (``call_timeout=5`` -> ``--call-timeout 5``; None is left out).
    """
    if isinstance(assignment, Assignment):
        tests = [assignment.path.resolve() / f"{stem}.py" for stem in assignment.sources]
    else:
        tests = assignment
    cmd = [sys.executable, "-m", "pytest", *map(str, tests), "--submission", str(submission)]
    cmd += ["--results", str(results), "-q", "--tb=no", "-p", "no:cacheprovider"]
    for key, value in options.items():
        if value is not None:
            cmd += [
                f"--{key.replace('_', '-')}",
                f"{value:g}" if isinstance(value, float) else str(value),
            ]
    return cmd


def grade(
    submission: str | Path,
    assignment: Assignment,
    timeout: float = DEFAULT_TIMEOUT,
    **limits: Any,
) -> dict[str, Any]:
    """Grade ``submission`` against every test of ``assignment``.

    Args:
        submission: the student's ``.py`` or ``.ipynb`` file.
        assignment: from :func:`tfcourse.grading.assignment.load`.
        timeout: seconds allowed per call into the submission.
        **limits: more :class:`~.limits.Limits` fields (``budget=``, ``memory_mb=``...) and
            ``sandbox="bwrap" | "uid" | "none"``.

    Returns:
        Gradescope ``results.json`` content: ``score``, ``max_score``, ``output``,
        ``execution_time`` and ``tests`` (``name``, ``score``, ``max_score``, ``output``,
        ``visibility``).

    Raises:
        SubmissionError: the file is missing or not a ``.py`` / ``.ipynb``.
        GraderFailure: the grader itself could not grade (its worker could not start, the
            reference solution failed the self-check...): the message names the fix.
        GradingError: pytest ran no test, or did not finish.
    """
    path = check_submission(submission)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tfcourse-grade-") as tmp:
        results, ini = Path(tmp) / "results.json", Path(tmp) / "pytest.ini"
        ini.write_text(INI)
        cmd = pytest_command(path, assignment, results, {"call_timeout": timeout, **limits})
        cmd += ["-c", str(ini), "--rootdir", tmp]
        budget = float(limits.get("budget", Limits.budget))
        try:  # the plugin stops at its budget; this only guards against a hung grader
            done = subprocess.run(
                cmd, cwd=tmp, capture_output=True, text=True, check=False, timeout=budget + 180
            )
        except subprocess.TimeoutExpired:
            raise GradingError(
                f"grading {path.name} did not finish within {budget + 180:g} s"
            ) from None
        failure = grader_failure(done.returncode, done.stderr)
        if failure is not None:
            raise GraderFailure(failure)
        data = json.loads(results.read_text()) if results.is_file() else {}
        if not data.get("tests") and assignment.tests:
            raise GradingError(
                f"grading {path.name} ran no test (pytest exit code {done.returncode}):\n"
                + (done.stderr.strip() or done.stdout.strip())[-2000:]
            )
    data["execution_time"] = round(time.monotonic() - start, 2)
    return data


def write_results(results: dict[str, Any], path: str | Path) -> Path:
    """Write ``results`` to ``path`` atomically (a reader never sees half a file)."""
    return atomic_write_json(Path(path), results)
