"""Shape guards: readable errors, None = any size, and the [N] vs [N, 1] MSE pitfall."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfcourse.errors import ShapeError
from tfcourse.review.shapes import (
    assert_same_shape,
    assert_shape,
    format_shape,
    guarded_mse,
    naive_mse,
)


def test_format_shape():
    assert format_shape([None, 1]) == "[None, 1]"
    assert format_shape(tf.TensorShape([3, None])) == "[3, None]"
    assert format_shape(tf.TensorShape(None)) == "unknown rank"
    assert format_shape([]) == "[]"


def test_matching_shapes_pass_and_none_means_any_size():
    x = np.zeros((7, 1), np.float32)
    out = assert_shape(x, [None, 1], name="x")
    assert isinstance(out, tf.Tensor) and out.shape == (7, 1)
    assert assert_shape(x, [7, 1]).shape == (7, 1)
    assert assert_shape(x, [None, None]).shape == (7, 1)
    assert assert_shape(3.0, []).shape == ()


def test_missing_trailing_axis_is_a_rank_error_with_the_fix():
    with pytest.raises(ShapeError) as info:
        assert_shape(np.zeros(10000), [None, 1], name="inputs")
    assert str(info.value) == (
        "inputs: expected rank 2 with shape [None, 1], got rank 1 with shape [10000]; "
        "add the trailing axis with x[:, None] or tf.expand_dims(x, -1)"
    )


def test_extra_trailing_axis_suggests_squeeze():
    with pytest.raises(ShapeError, match=r"got rank 3 with shape \[5, 1, 1\]; drop the trailing"):
        assert_shape(np.zeros((5, 1, 1)), [None, 1], name="x")
    with pytest.raises(ShapeError, match=r"tf.reshape\(x, \[-1, 4\]\)"):
        assert_shape(np.zeros((2, 2, 2, 2)), [None, 4], name="x")


def test_size_mismatch_names_the_axis_and_both_shapes():
    with pytest.raises(ShapeError) as info:
        assert_shape(np.zeros((32, 3)), [None, 1], name="predictions")
    assert str(info.value).startswith(
        "predictions: axis 1 has size 3 but 1 was expected (expected [None, 1], got [32, 3]; "
        "None means any size)"
    )


def test_inside_tf_function_static_sizes_fail_at_trace_and_unknown_ones_at_run_time():
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def needs_four_rows(x):
        return assert_shape(x, [4, 3], name="x") * 2

    assert needs_four_rows(tf.ones([4, 3])).shape == (4, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="x: axis 0 must have size 4"):
        needs_four_rows(tf.ones([5, 3]))

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def needs_one_column(x):
        return assert_shape(x, [None, 1], name="x")

    # AutoGraph re-raises errors from traced code; it keeps the type only for exceptions whose
    # __init__ is Exception.__init__ (or builtins), otherwise it raises a StagingError with
    # the same message. So check the message, which survives either way.
    with pytest.raises(Exception, match=r"x: axis 1 has size 3 but 1 was expected"):
        needs_one_column.get_concrete_function()


def test_the_broadcasting_pitfall_by_hand():
    # a perfect fit: predictions equal targets, but targets lost their trailing axis
    predictions = tf.constant([[0.0], [1.0]])  # [2, 1]
    targets = tf.constant([0.0, 1.0])  # [2]
    # predictions - targets = [[0-0, 0-1], [1-0, 1-1]] = [[0, -1], [1, 0]] -> mean of squares 0.5
    assert float(naive_mse(predictions, targets)) == 0.5
    assert float(naive_mse(predictions, targets[:, None])) == 0.0  # the intended answer
    with pytest.raises(
        ShapeError, match=r"targets: expected rank 2 .* got rank 1 with shape \[2\]"
    ):
        guarded_mse(predictions, targets)


def test_pitfall_on_sine_data_averages_all_pairs():
    y = np.sin(np.linspace(-2 * np.pi, 2 * np.pi, 500))[:, None].astype(np.float32)
    # mean over all pairs of (y_i - y_j)² = 2·var(y), not 0
    wrong = float(naive_mse(y, y[:, 0]))
    assert wrong == pytest.approx(2 * np.var(y), rel=1e-4)
    assert wrong > 0.9


def test_guarded_mse_value_by_hand():
    # ((1-0)² + (3-1)²) / 2 = 2.5
    assert float(guarded_mse([[1.0], [3.0]], [[0.0], [1.0]])) == 2.5


def test_assert_same_shape_says_what_broadcasting_would_do():
    with pytest.raises(ShapeError) as info:
        assert_same_shape(tf.zeros([2, 1]), tf.zeros([2]), ("predictions", "targets"))
    assert str(info.value).startswith(
        "predictions has shape [2, 1] but targets has shape [2]; "
        "an elementwise op would broadcast them to [2, 2]"
    )
    with pytest.raises(ShapeError, match="they do not even broadcast"):
        assert_same_shape(tf.zeros([2, 3]), tf.zeros([4]))
    assert_same_shape(tf.zeros([2, 1]), tf.zeros([2, 1]))  # no error
