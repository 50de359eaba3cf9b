import numpy as np

from tfcourse.grading.points import points


@points(1, exercise="add")
def test_add_small(sub):
    assert sub.add(2, 3) == 5, f"add(2, 3) should be 5, got {sub.add(2, 3)!r}"


@points(2, exercise="mean_square")
def test_mean_square(sub):
    # (1 + 4 + 9) / 3 = 14 / 3
    assert abs(sub.mean_square(np.array([1.0, 2.0, 3.0])) - 14 / 3) < 1e-12


@points(1, exercise="scale")
def test_scale(sub):
    np.testing.assert_allclose(sub.scale(np.array([1.0, -2.0]), 3.0), [3.0, -6.0])
