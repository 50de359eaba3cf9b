"""``check("exercise")``: run an exercise's public tests inside a student's notebook.

The released notebook starts with::

    from tfcourse.grading.check import make_check
    check = make_check(globals(), tests="tests_public.py")

and has a ``check("get_batch")`` cell under each exercise. The tests run right there in the
student's kernel (no sandbox: it is their own session) and print one friendly line per test.
The grader itself drops those calls and always runs in its own worker process.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tfcourse.grading.assignment import parse_tests
from tfcourse.grading.errors import GradingError


def _as_module(namespace: dict[str, Any]) -> types.ModuleType:
    module = types.ModuleType("submission")
    module.__dict__.update({k: v for k, v in namespace.items() if not k.startswith("__")})
    return module


def run_checks(
    exercise: str, namespace: dict[str, Any], tests: str | Path = "tests_public.py"
) -> tuple[float, float, list[str]]:
    """Run the tests of ``exercise`` in ``tests`` against the functions in ``namespace``.

    Returns:
        ``(points earned, points possible, report lines)``.

    Raises:
        GradingError: the tests file is missing, or no test grades ``exercise``.
    """
    from tfcourse.grading.worker import explain_failure, reseed

    path = Path(tests)
    if not path.is_file():
        raise GradingError(
            f"cannot find {str(path)!r}; keep the notebook in the folder that "
            "'tfcourse release' wrote (next to tests_public.py) and start Jupyter there"
        )
    source = path.read_text(encoding="utf-8")
    specs = [s for s in parse_tests(source, path, "visible") if s.exercise == exercise]
    if not specs:
        known = sorted({s.exercise for s in parse_tests(source, path, "visible")})
        raise GradingError(f"no public tests for {exercise!r}; exercises: {', '.join(known)}")
    module = types.ModuleType(path.stem)
    module.__file__ = str(path)
    exec(compile(source, str(path), "exec"), module.__dict__)
    sub = _as_module(namespace)
    earned, lines = 0.0, []
    for spec in specs:
        reseed()
        try:
            getattr(module, spec.name)(sub)
        except Exception as exc:
            lines.append(f"  ✗ {spec.name}: {explain_failure(exc, sub, str(path))}")
            continue
        earned += spec.points
        lines.append(f"  ✓ {spec.name}")
    return earned, sum(s.points for s in specs), lines


def make_check(
    namespace: dict[str, Any], tests: str | Path = "tests_public.py"
) -> Callable[[str], bool]:
    """A ``check(exercise) -> bool`` bound to a notebook's ``globals()``.

    The tests file is read when ``check`` is called, not now, so this line also runs fine
    where the file is absent (the grader runs the notebook in an empty folder).
    """

    def check(exercise: str) -> bool:
        earned, possible, lines = run_checks(exercise, namespace, tests)
        if earned == possible:
            passing = f"all {len(lines)} public tests pass" if len(lines) > 1 else "the test passes"
            print(f"{exercise}: {passing} ({earned:g}/{possible:g}).")
        else:
            print(f"{exercise}: {earned:g}/{possible:g} points from the public tests.")
        print("\n".join(lines))
        if earned == possible:
            print("Hidden tests check more cases when you submit.")
        return earned == possible

    return check
