"""``check("exercise")``: run an exercise's public tests from a student's notebook.

The released notebook's setup cell (:mod:`tfcourse.grading.handout`) binds::

    from tfcourse.notebook_setup import handout_check
    check = handout_check(globals(), tests="tests_public.py")

(:func:`tfcourse.notebook_setup.handout_check` wraps :func:`make_check`, writing the public
tests from the copy embedded in the notebook when the file is missing), and the notebook has a
``check("get_batch")`` cell under each exercise. ``check`` runs pytest with the grading
plugin (:mod:`tfcourse.grading.plugin`) on the public tests of that exercise. The same tests,
the same ``sub`` proxy and the same codec as the grader, with one difference: the functions run
right here in the student's kernel (``Inline``), since it is their own session, so a check is
instant and sees what the student just defined. The grader drops those calls and always runs
the submission in a contained worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tfcourse.grading.assignment import parse_tests
from tfcourse.grading.errors import GradingError


def run_checks(
    exercise: str, namespace: dict[str, Any], tests: str | Path = "tests_public.py"
) -> tuple[float, float, list[str]]:
    """Run the tests of ``exercise`` in ``tests`` against the functions in ``namespace``.

    Returns:
        ``(points earned, points possible, report lines)``.

    Raises:
        GradingError: the tests file is missing, or no test grades ``exercise``.
    """
    import pytest

    from tfcourse.grading.plugin import GradingPlugin

    path = Path(tests).resolve()
    if not path.is_file():
        raise GradingError(
            f"cannot find {str(tests)!r}; keep the notebook in the folder that "
            "'tfcourse release' wrote (next to tests_public.py) and start Jupyter there"
        )
    specs = parse_tests(path.read_text(encoding="utf-8"), path, "visible")
    if not any(s.exercise == exercise for s in specs):
        known = sorted({s.exercise for s in specs})
        raise GradingError(f"no public tests for {exercise!r}; exercises: {', '.join(known)}")
    plugin = GradingPlugin(inline=namespace)
    args = [str(path), "--exercise", exercise, "-p", "no:cacheprovider"]
    args += ["-p", "no:terminal", "--capture=no", "--import-mode=importlib"]
    args += ["-c", os.devnull, "--rootdir", str(path.parent)]  # no project's pytest settings
    code = pytest.main(args, plugins=[plugin])
    if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        raise GradingError(f"the public tests in {path.name} could not run (pytest exit {code})")
    outcomes = list(plugin.outcomes.values())
    lines = [
        f"  ✓ {o.name}" if o.passed else f"  ✗ {o.name}: {o.output or 'failed'}" for o in outcomes
    ]
    earned = sum(o.points for o in outcomes if o.passed)
    return earned, sum(o.points for o in outcomes), lines


def make_check(
    namespace: dict[str, Any], tests: str | Path = "tests_public.py"
) -> Callable[[str], None]:
    """A ``check(exercise)`` bound to a notebook's ``globals()``; it prints and returns None.

    The tests file is read when ``check`` is called, not now, so this line also runs fine
    where the file is absent (the grader runs the notebook in an empty folder).
    """

    def check(exercise: str) -> None:
        earned, possible, lines = run_checks(exercise, namespace, tests)
        if earned == possible:
            passing = f"all {len(lines)} public tests pass" if len(lines) > 1 else "the test passes"
            print(f"{exercise}: {passing} ({earned:g}/{possible:g}).")
        else:
            print(f"{exercise}: {earned:g}/{possible:g} points from the public tests.")
        print("\n".join(lines))
        if earned == possible:
            print("Hidden tests check more cases when you submit.")

    return check
