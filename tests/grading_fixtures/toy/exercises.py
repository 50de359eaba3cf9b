"""Toy assignment for testing the grader
A numpy-only assignment: small enough that grading it takes a second.
"""

import numpy as np

EXERCISES = ["add", "mean_square", "scale"]


def helper_given(x):
    """Given to students: stays in the released version."""
    return np.asarray(x, dtype=np.float64)


def add(a: float, b: float) -> float:
    """Return ``a + b``."""
    # BEGIN SOLUTION
    return a + b
    # END SOLUTION


def mean_square(x: np.ndarray) -> float:
    """Mean of the squares of ``x: [n]``."""
    x = helper_given(x)
    # BEGIN SOLUTION
    return float(np.mean(x**2))
    # END SOLUTION


def scale(x: np.ndarray, factor: float) -> np.ndarray:
    """``x * factor`` as a new array (do not modify ``x``)."""
    # BEGIN SOLUTION
    return np.asarray(x) * factor
    # END SOLUTION
