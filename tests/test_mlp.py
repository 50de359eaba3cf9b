"""The raw-variable MLP: shapes, initialisation, hand-computed loss, gradients, input checks."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfcourse.errors import ConfigError, ShapeError
from tfcourse.mlp.data import check_classification_data
from tfcourse.mlp.model import MLP, accuracy, loss_fn


def test_tutorial_variables_have_names_and_shapes():
    m = MLP()
    shapes = {v.name: tuple(v.shape) for v in m.params}
    assert shapes == {
        "mlp/W1:0": (784, 300),
        "mlp/b1:0": (300,),
        "mlp/W2:0": (300, 10),
        "mlp/b2:0": (10,),
    }
    assert len(m.trainable_variables) == 4


def test_forward_flattens_images_and_returns_logits():
    m = MLP()
    x = np.random.default_rng(0).random((5, 28, 28))
    logits = m(x)
    assert logits.shape == (5, 10) and logits.dtype == tf.float32
    np.testing.assert_allclose(logits.numpy(), m(x.reshape(5, 784)).numpy(), rtol=1e-6)


def test_forward_matches_numpy():
    m = MLP((4, 3, 2), init="he", seed=3)
    x = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    W1, b1, W2, b2 = (v.numpy() for v in m.params)
    expected = np.maximum(x @ W1 + b1, 0) @ W2 + b2
    np.testing.assert_allclose(m(x).numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("init", "w_std", "b_std"),
    [
        ("normal", 0.03, 1.0),
        ("glorot", math.sqrt(2 / (784 + 300)), 0.0),
        ("he", math.sqrt(2 / 784), 0.0),
    ],
)
def test_initialisers_have_the_documented_spread(init, w_std, b_std):
    m = MLP(init=init, seed=0)
    assert np.std(m.W1.numpy()) == pytest.approx(w_std, rel=0.02)
    assert np.std(m.b1.numpy()) == pytest.approx(b_std, rel=0.2, abs=1e-7)


def test_same_seed_same_weights_different_seed_different_weights():
    a, b, c = MLP(seed=5), MLP(seed=5), MLP(seed=6)
    np.testing.assert_array_equal(a.W1.numpy(), b.W1.numpy())
    assert not np.array_equal(a.W1.numpy(), c.W1.numpy())


def test_bad_construction_arguments():
    with pytest.raises(ConfigError, match="unknown init 'zeros'"):
        MLP(init="zeros")
    with pytest.raises(ConfigError, match="at least two positive widths"):
        MLP(sizes=(784,))


def test_wrong_input_width_is_a_clear_error():
    with pytest.raises(ShapeError, match=r"expects inputs of shape \[batch, 784\], got \(2, 100\)"):
        MLP()(np.zeros((2, 100)))


def test_loss_matches_hand_computation_for_two_samples():
    # sample 1: logits [2, 1, 0], true class 0 -> -log(e^2 / (e^2 + e + 1)) = log(e^2+e+1) - 2
    # sample 2: logits [0, 0, 0], true class 2 -> -log(1/3) = log 3
    logits = tf.constant([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    expected = 0.5 * ((math.log(math.e**2 + math.e + 1) - 2) + math.log(3))
    assert expected == pytest.approx(0.7531091, abs=1e-7)
    assert float(loss_fn(logits, tf.constant([0, 2]))) == pytest.approx(expected, rel=1e-6)
    one_hot = tf.constant([[1.0, 0, 0], [0, 0, 1.0]])  # the tutorial's label format
    assert float(loss_fn(logits, one_hot)) == pytest.approx(expected, rel=1e-6)


def test_loss_rejects_mismatched_one_hot_width():
    with pytest.raises(ShapeError, match="one-hot labels have 4 classes but logits have 3"):
        loss_fn(tf.zeros([2, 3]), tf.zeros([2, 4]))


def test_accuracy_counts_argmax_hits():
    logits = tf.constant([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    assert float(accuracy(logits, tf.constant([1, 0, 0, 0]))) == pytest.approx(0.75)
    assert float(accuracy(logits, tf.one_hot([1, 1, 1, 1], 2))) == pytest.approx(0.5)


def test_gradient_wrt_logits_is_softmax_minus_onehot_over_batch():
    logits = tf.Variable([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    labels = tf.constant([0, 2])
    with tf.GradientTape() as tape:
        loss = loss_fn(logits, labels)
    grad = tape.gradient(loss, logits).numpy()
    p = tf.nn.softmax(logits).numpy()
    np.testing.assert_allclose(grad, (p - np.eye(3)[[0, 2]]) / 2, rtol=1e-5, atol=1e-7)


def test_parameter_gradients_match_central_finite_differences():
    # tutorial init: biases ~ N(0, 1) keep pre-activations away from ReLU's kink at 0
    m = MLP((5, 4, 3), init="normal", seed=2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 5)).astype(np.float32)
    y = rng.integers(0, 3, 8)
    with tf.GradientTape() as tape:
        loss = loss_fn(m(x), y)
    grads = tape.gradient(loss, m.params)
    eps = 1e-3
    for var, grad in zip(m.params, grads, strict=True):
        flat = var.numpy().ravel()
        for k in range(0, flat.size, 3):
            plus, minus = flat.copy(), flat.copy()
            plus[k] += eps
            minus[k] -= eps
            var.assign(plus.reshape(var.shape))
            l_plus = float(loss_fn(m(x), y))
            var.assign(minus.reshape(var.shape))
            l_minus = float(loss_fn(m(x), y))
            var.assign(flat.reshape(var.shape))
            numeric = (l_plus - l_minus) / (2 * eps)
            assert grad.numpy().ravel()[k] == pytest.approx(numeric, abs=5e-4), var.name


def test_check_classification_data_names_each_problem():
    x = np.zeros((4, 784), np.float32)
    y = np.array([0, 1, 2, 3])
    check_classification_data(x, y, 784, 10)  # fine
    with pytest.raises(ShapeError, match=r"x must have shape \[n, 784\], got \[4, 28, 28\]"):
        check_classification_data(np.zeros((4, 28, 28)), y, 784, 10)
    with pytest.raises(ShapeError, match=r"label 12 is outside \[0, 10\)"):
        check_classification_data(x, np.array([0, 12, 1, 2]), 784, 10)
    x_nan = x.copy()
    x_nan[2, 5] = np.nan
    with pytest.raises(ShapeError, match=r"NaN or inf in 1 row.*first: row 2"):
        check_classification_data(x_nan, y, 784, 10)
    with pytest.raises(ShapeError, match=r"y must have shape \[4\]"):
        check_classification_data(x, y[:3], 784, 10)


def _numpy_cross_entropy(logits, targets):
    """Mean over rows of -sum_c target_c * log softmax(logits)_c, in float64."""
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-(targets * log_p).sum(axis=1).mean())


def test_train_step_returns_objective_and_plain_cross_entropy():
    import keras

    from tfcourse.mlp.model import train_step

    m = MLP((6, 5, 3), init="he", seed=4)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 6)).astype(np.float32)
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    logits = m(x).numpy().astype(np.float64)  # before the update
    eps, onehot = 0.1, np.eye(3)[y]
    plain = _numpy_cross_entropy(logits, onehot)
    smoothed = _numpy_cross_entropy(logits, onehot * (1 - eps) + eps / 3)
    out = train_step(m, keras.optimizers.Adam(1e-2), x, y, label_smoothing=eps)
    assert float(out["cross_entropy"]) == pytest.approx(plain, rel=1e-5)
    assert float(out["loss"]) == pytest.approx(smoothed, rel=1e-5)
    assert float(out["correct"]) == float((logits.argmax(1) == y).sum())
    # without smoothing the two are the same number
    out = train_step(m, keras.optimizers.Adam(1e-2), x, y)
    assert float(out["cross_entropy"]) == float(out["loss"])


def test_smoothed_objective_exceeds_plain_cross_entropy_for_confident_logits():
    logits = tf.constant([[8.0, 0.0, 0.0], [0.0, 9.0, 0.0]])  # confident and right
    labels = tf.constant([0, 1])
    plain, smoothed = float(loss_fn(logits, labels)), float(loss_fn(logits, labels, 0.1))
    targets = np.eye(3)[[0, 1]] * 0.9 + 0.1 / 3
    assert plain == pytest.approx(_numpy_cross_entropy(logits.numpy(), np.eye(3)[[0, 1]]))
    assert smoothed == pytest.approx(_numpy_cross_entropy(logits.numpy(), targets), rel=1e-6)
    assert smoothed > 10 * plain  # ~0.55 vs ~0.0004: the two must not share one name


def test_traced_forward_pass_groups_ops_by_layer(tmp_path):
    from tfcourse.run import summaries

    m = MLP((6, 5, 3), seed=0)
    writer = summaries.create_writer(tmp_path)
    summaries.trace_graph(writer, tf.function(m.__call__), tf.zeros([1, 6]))
    writer.close()
    names = summaries.graph_op_names(tmp_path)
    for op in ("layer1/MatMul", "layer1/add", "layer1/Relu", "layer2/MatMul", "layer2/add"):
        assert op in names
    assert "MatMul_1" not in names and "add_1" not in names
