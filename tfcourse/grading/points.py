"""``@points``: a test's weight and exercise, as the pytest marker ``points``.

Example (in an assignment's ``tests_public.py`` or ``tests_hidden.py``)::

    from tfcourse.grading.points import points

    @points(2, exercise="get_batch")
    def test_batch_shapes(sub):
        x, y = sub.get_batch(X, Y, 5, 0)
        assert x.shape == (5, 784)

It is ``pytest.mark.points(2, exercise="get_batch")`` with its arguments checked. The tools
that list an assignment's tests read the arguments *statically* (with :mod:`ast`, without
importing the tests), so write them as literals.
"""

from __future__ import annotations

import pytest


def points(value: float, exercise: str) -> pytest.MarkDecorator:
    """Mark a test function as worth ``value`` points towards ``exercise``.

    Args:
        value: points earned when the test passes (0 points when it fails); must be >= 0.
        exercise: name of the exercise (an entry of the assignment's ``EXERCISES``).

    Returns:
        The marker ``pytest.mark.points(value, exercise=exercise)``.

    Raises:
        ValueError: if ``value`` is negative or not a number, or ``exercise`` is empty.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"points must be a number >= 0, got {value!r}")
    if not isinstance(exercise, str) or not exercise:
        raise ValueError(f"exercise must be a non-empty string, got {exercise!r}")
    return pytest.mark.points(float(value), exercise=exercise)
