import numpy as np

from tfcourse.grading.points import points


@points(1, exercise="add")
def test_add_negative(sub):
    assert sub.add(-2, 0.5) == -1.5


@points(1, exercise="scale")
def test_scale_does_not_modify_input(sub):
    x = np.array([1.0, 2.0])
    sub.scale(x, 2.0)
    assert x.tolist() == [1.0, 2.0], "scale must not modify its input"
