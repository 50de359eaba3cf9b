"""The ``@points`` decorator that gives a test its weight and its exercise.

Example (in an assignment's ``tests_public.py`` or ``tests_hidden.py``)::

    from tfcourse.grading.points import points

    @points(2, exercise="get_batch")
    def test_batch_shapes(sub):
        x, y = sub.get_batch(X, Y, 5, np.random.default_rng(0))
        assert x.shape == (5, 784)

The grader reads the decorator's arguments *statically* (with :mod:`ast`, without importing the
tests), so write them as literals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def points(value: float, exercise: str) -> Callable[[F], F]:
    """Mark a test function as worth ``value`` points towards ``exercise``.

    Args:
        value: points earned when the test passes (0 points when it fails); must be >= 0.
        exercise: name of the exercise (an entry of the assignment's ``EXERCISES``).

    Returns:
        A decorator that sets ``__points__`` and ``__exercise__`` on the function and returns
        the function itself.

    Raises:
        ValueError: if ``value`` is negative or not a number, or ``exercise`` is empty.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"points must be a number >= 0, got {value!r}")
    if not isinstance(exercise, str) or not exercise:
        raise ValueError(f"exercise must be a non-empty string, got {exercise!r}")

    def decorate(func: F) -> F:
        func.__points__ = float(value)  # type: ignore[attr-defined]
        func.__exercise__ = exercise  # type: ignore[attr-defined]
        return func

    return decorate
