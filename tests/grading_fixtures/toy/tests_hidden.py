import numpy as np

from tfcourse.grading.points import points


@points(1, exercise="add")
def test_add_negative(sub):
    assert sub.add(-2, 0.5) == -1.5


def _scale_twice(sub, values):
    """Probe, run in the worker: the input array after ``sub.scale(x, 2.0)``."""
    import numpy as np

    x = np.array(values)
    sub.scale(x, 2.0)
    return x


@points(1, exercise="scale")
def test_scale_does_not_modify_input(sub):
    values = np.random.default_rng().normal(size=3)
    after = sub.run(_scale_twice, values)
    assert np.array_equal(after, values), "scale must not modify its input"
