"""tfcourse.mlp.basics: the tutorial-1 numbers, worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfcourse.errors import ShapeError, TfcourseError
from tfcourse.mlp import basics
from tfcourse.run import summaries


def test_scalar_variables_are_named_float32():
    v = basics.make_scalar_variables()
    assert {k: float(x.numpy()) for k, x in v.items()} == {"const": 2.0, "b": 2.0, "c": 1.0}
    assert {x.name for x in v.values()} == {"const:0", "b:0", "c:0"}
    assert all(x.dtype == tf.float32 for x in v.values())


def test_compute_a_eager():
    v = basics.make_scalar_variables()
    a = basics.compute_a(v["b"], v["c"], v["const"])  # (2 + 1) * (1 + 2)
    assert a.dtype == tf.float32
    assert float(a) == 9.0
    assert float(basics.compute_a(v["b"], v["c"])) == 9.0  # const defaults to 2.0
    assert float(basics.compute_a(4.0, 0.5)) == 4.5 * 2.5


def test_compute_a_graph_matches_eager_and_names_its_ops():
    v = basics.make_scalar_variables()
    assert float(basics.compute_a_graph(v["b"], v["c"])) == 9.0
    spec = tf.TensorSpec([], tf.float32)
    graph = basics.compute_a_graph.get_concrete_function(spec, spec).graph
    ops = {op.name: op.type for op in graph.get_operations()}
    assert ops["d"] == "AddV2" and ops["e"] == "AddV2" and ops["a"] == "Mul"


def test_array_variable_is_integer_and_needs_a_cast():
    b = basics.make_array_variable()
    assert b.shape == (10,)
    assert b.dtype.is_integer
    assert b.dtype == tf.as_dtype(np.arange(1).dtype)  # int64 on Linux with numpy 2
    c = basics.make_scalar_variables()["c"]
    with pytest.raises(ShapeError, match=r"b is int\d\d, c is float32.*tf\.cast"):
        basics.compute_a(b, c)
    # without the library check TensorFlow itself refuses to mix the dtypes
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.add(b, c)
    a = basics.compute_a_array(b, c)
    np.testing.assert_array_equal(a.numpy(), np.arange(3, 31, 3, dtype=np.float32))


def test_assign_and_slice_assign_flow_into_a():
    b = basics.make_array_variable()
    c = basics.make_scalar_variables()["c"]
    b[1].assign(10)  # (10 + 1) * 3 = 33
    np.testing.assert_array_equal(
        basics.compute_a_array(b, c).numpy(), [3, 33, 9, 12, 15, 18, 21, 24, 27, 30]
    )
    b[6:9].assign([10, 10, 10])
    np.testing.assert_array_equal(
        basics.compute_a_array(b, c).numpy(), [3, 33, 9, 12, 15, 18, 33, 33, 33, 30]
    )
    np.testing.assert_array_equal(b.numpy(), [0, 10, 2, 3, 4, 5, 10, 10, 10, 9])


def test_slice_is_a_new_tensor_not_a_view():
    b = basics.make_array_variable()
    f = b[2:5]
    assert not isinstance(f, tf.Variable)
    b[3].assign(100)
    np.testing.assert_array_equal(f.numpy(), [2, 3, 4])  # unchanged
    np.testing.assert_array_equal(b[2:5].numpy(), [2, 100, 4])


def test_numpy_interop():
    v = tf.Variable([1.0, 2.0, 3.0])
    for arr in (v.numpy(), np.asarray(v), basics.to_numpy(v), basics.to_numpy([1.0, 2.0, 3.0])):
        assert isinstance(arr, np.ndarray)
        np.testing.assert_array_equal(arr, [1.0, 2.0, 3.0])
    copy = basics.to_numpy(v)
    copy[0] = 99.0
    assert float(v[0]) == 1.0  # .numpy() gave a copy
    sq = tf.square(np.array([2.0, 3.0]))  # tf op on numpy -> tensor, numpy dtype kept
    assert isinstance(sq, tf.Tensor) and sq.dtype == tf.float64
    assert isinstance(np.sqrt(tf.constant([4.0])), np.ndarray)  # numpy op on tensor -> ndarray


def test_float64_numpy_meets_float32_variable():
    x = np.arange(3.0)  # float64
    v = tf.Variable([1.0, 1.0, 1.0])  # float32
    with pytest.raises(tf.errors.InvalidArgumentError, match="double tensor but is a float"):
        tf.add(x, v)
    with pytest.raises(TfcourseError, match=r"x\.astype\(np\.float32\)"):
        basics.compute_a(x, v)
    fixed = tf.add(basics.as_float32(x), v)
    assert fixed.dtype == tf.float32
    np.testing.assert_array_equal(fixed.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(basics.compute_a(x.astype(np.float32), v).numpy(), [3, 6, 9])


def test_write_graph_demo(tmp_path):
    run_dir = basics.write_graph_demo(tmp_path / "runs")
    assert run_dir.parent == tmp_path / "runs" and run_dir.name.startswith("basics-")
    assert list(run_dir.glob("events.out.tfevents.*"))
    assert summaries.has_graph(run_dir)
    assert {"b", "c", "d", "e", "a"} <= set(summaries.graph_op_names(run_dir))
