"""Public tests of the tutorial 1 assignment (students see these; run them with check(...))."""

import keras
import numpy as np
import tensorflow as tf

from tfcourse.grading.points import points


def _as_array(value):
    """A numpy copy of a tensor, variable or array."""
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


def _small_problem(seed=0):
    """A 6-input, 5-hidden, 3-class network and a batch of 8 samples (all float32)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(8, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=8).astype(np.int64)
    values = [
        (0.5 * rng.normal(size=(6, 5))).astype(np.float32),
        (0.1 * rng.normal(size=5)).astype(np.float32),
        (0.5 * rng.normal(size=(5, 3))).astype(np.float32),
        np.zeros(3, np.float32),
    ]
    return x, y, values


def _reference_loss_and_grads(x, y, values):
    """Loss and gradients of [W1, b1, W2, b2], written out with plain TensorFlow ops."""
    params = [tf.constant(v) for v in values]
    with tf.GradientTape() as tape:
        tape.watch(params)
        W1, b1, W2, b2 = params
        logits = tf.matmul(tf.nn.relu(tf.matmul(x, W1) + b1), W2) + b2
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
        )
    return float(loss), [g.numpy() for g in tape.gradient(loss, params)]


# ---------------------------------------------------------------- compute_a


@points(1, exercise="compute_a")
def test_compute_a_scalars(sub):
    # b = 2, c = 1: d = 3, e = 3, a = 9.   b = -1, c = 3: d = 2, e = 5, a = 10.
    a = sub.compute_a(2.0, 1.0)
    assert tf.is_tensor(a), f"compute_a should return a tf.Tensor, got {type(a).__name__}"
    assert np.isclose(float(a), 9.0), f"compute_a(2.0, 1.0) should be 9.0, got {float(a)}"
    a = sub.compute_a(tf.Variable(-1.0), tf.Variable(3.0))
    assert np.isclose(float(a), 10.0), f"compute_a(-1.0, 3.0) should be 10.0, got {float(a)}"


@points(1, exercise="compute_a")
def test_compute_a_integer_array(sub):
    # b = [0, 1, ..., 9] (int64), c = 1: a_k = (k + 1) * 3 = [3, 6, ..., 30]
    a = sub.compute_a(np.arange(10), 1.0)
    assert a.dtype == tf.float32, f"compute_a should return float32, got {a.dtype.name}"
    assert tuple(a.shape) == (10,), f"compute_a should return shape (10,), got {tuple(a.shape)}"
    expected = 3.0 * np.arange(1, 11)
    assert np.allclose(_as_array(a), expected), (
        f"compute_a(np.arange(10), 1.0) should be {expected}, got {_as_array(a)}"
    )


# ---------------------------------------------------------------- prepare_images


@points(1, exercise="prepare_images")
def test_prepare_images_shape_and_dtype(sub):
    images = np.zeros((3, 28, 28), np.uint8)
    out = sub.prepare_images(images)
    assert isinstance(out, np.ndarray), (
        f"prepare_images should return a numpy array, got {type(out).__name__}"
    )
    assert out.shape == (3, 784), f"prepare_images should return shape (3, 784), got {out.shape}"
    assert out.dtype == np.float32, f"prepare_images should return float32, got {out.dtype}"


@points(1, exercise="prepare_images")
def test_prepare_images_values(sub):
    images = np.zeros((2, 28, 28), np.uint8)
    images[0, 0, 0] = 255  # -> row 0, column 0:              255 / 255 = 1.0
    images[0, 0, 1] = 51  # -> row 0, column 1:               51 / 255 = 0.2
    images[0, 1, 0] = 102  # -> row 0, column 1 * 28 + 0 = 28: 102 / 255 = 0.4
    images[1, 27, 27] = 153  # -> row 1, column 783:           153 / 255 = 0.6
    out = sub.prepare_images(images)
    expected = np.zeros((2, 784), np.float32)
    expected[0, 0], expected[0, 1], expected[0, 28], expected[1, 783] = 1.0, 0.2, 0.4, 0.6
    wrong = [tuple(int(i) for i in ij) for ij in np.argwhere(~np.isclose(out, expected, atol=1e-6))]
    assert not wrong, (
        f"prepare_images: entry {wrong[0]} should be {expected[wrong[0]]:.3f}, "
        f"got {out[wrong[0]]:.3f} (scale by 1/255 and flatten row by row)"
    )


# ---------------------------------------------------------------- one_hot


@points(1, exercise="one_hot")
def test_one_hot_small(sub):
    out = _as_array(sub.one_hot(np.array([3, 0, 9]), 10))
    expected = np.zeros((3, 10), np.float32)
    expected[0, 3] = expected[1, 0] = expected[2, 9] = 1.0
    assert out.shape == (3, 10), f"one_hot([3, 0, 9]) should have shape (3, 10), got {out.shape}"
    assert out.dtype == np.float32, f"one_hot should return float32, got {out.dtype}"
    assert np.array_equal(out, expected), (
        f"one_hot([3, 0, 9]) should be\n{expected}\ngot\n{out}"
    )


# ---------------------------------------------------------------- get_batch


@points(1, exercise="get_batch")
def test_get_batch_shapes_and_pairs(sub):
    # sample i has all 784 features equal to i and label i, so pairs are easy to check
    x = np.repeat(np.arange(20, dtype=np.float32)[:, None], 784, axis=1)
    y = np.arange(20)
    xb, yb = sub.get_batch(x, y, 5, np.random.default_rng(0))
    assert xb.shape == (5, 784), f"get_batch should return x of shape (5, 784), got {xb.shape}"
    assert yb.shape == (5,), f"get_batch should return y of shape (5,), got {yb.shape}"
    assert xb.dtype == np.float32, f"x_batch should keep dtype float32, got {xb.dtype}"
    assert np.array_equal(xb[:, 0], yb), (
        f"each x_batch row must belong to its label: rows {xb[:, 0]} vs labels {yb}"
    )


@points(1, exercise="get_batch")
def test_get_batch_uses_the_generator(sub):
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    expected = np.random.default_rng(42).integers(0, 10, size=6)
    _, yb = sub.get_batch(x, y, 6, np.random.default_rng(42))
    assert np.array_equal(yb, expected), (
        f"with rng = np.random.default_rng(42) get_batch should pick indices {expected} "
        f"(one call rng.integers(0, n, size=batch_size)), got {yb}"
    )


# ---------------------------------------------------------------- init_params


@points(1, exercise="init_params")
def test_init_params_shapes(sub):
    params = sub.init_params(784, 300, 10, seed=0)
    assert len(params) == 4, f"init_params should return [W1, b1, W2, b2], got {len(params)} items"
    shapes = [(784, 300), (300,), (300, 10), (10,)]
    for name, v, shape in zip(["W1", "b1", "W2", "b2"], params, shapes, strict=True):
        assert isinstance(v, tf.Variable), f"{name} should be a tf.Variable, got {type(v).__name__}"
        assert tuple(v.shape) == shape, f"{name} should have shape {shape}, got {tuple(v.shape)}"
        assert v.dtype == tf.float32, f"{name} should be float32, got {v.dtype.name}"


@points(1, exercise="init_params")
def test_init_params_statistics(sub):
    W1, b1, W2, _ = (_as_array(v) for v in sub.init_params(784, 300, 10, seed=1))
    # 235,200 draws: the sample std is 0.03 to within about 0.2 %
    assert 0.0285 < W1.std() < 0.0315, f"W1 should have std 0.03, got {W1.std():.4f}"
    assert abs(W1.mean()) < 0.001, f"W1 should have mean 0, got {W1.mean():.4f}"
    assert 0.027 < W2.std() < 0.033, f"W2 should have std 0.03, got {W2.std():.4f}"
    assert 0.85 < b1.std() < 1.15, f"b1 should have std 1 (standard normal), got {b1.std():.3f}"


# ---------------------------------------------------------------- forward


@points(2, exercise="forward")
def test_forward_hand_computed(sub):
    x = np.array([[1.0, -1.0]], np.float32)
    W1 = tf.constant([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]])
    b1 = tf.constant([0.0, 0.0, -2.0])
    W2 = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    b2 = tf.constant([0.5, -0.5])
    # x @ W1 = [1, -1, 1]; + b1 = [1, -1, -1]; relu -> [1, 0, 0]
    # [1, 0, 0] @ W2 = [1, 2]; + b2 = [1.5, 1.5]   (without relu it would be [-6.5, -8.5])
    logits = _as_array(sub.forward(x, W1, b1, W2, b2))
    assert logits.shape == (1, 2), f"forward should return shape (1, 2), got {logits.shape}"
    assert np.allclose(logits, [[1.5, 1.5]]), (
        f"forward should give logits [[1.5, 1.5]] (ReLU on the hidden layer only, no softmax), "
        f"got {logits.tolist()}"
    )


@points(1, exercise="forward")
def test_forward_mnist_shapes(sub):
    rng = np.random.default_rng(0)
    x = rng.random((4, 784)).astype(np.float32)
    W1 = tf.constant(0.03 * rng.normal(size=(784, 300)), tf.float32)
    b1 = tf.zeros([300])
    W2 = tf.constant(0.03 * rng.normal(size=(300, 10)), tf.float32)
    b2 = tf.zeros([10])
    logits = sub.forward(x, W1, b1, W2, b2)
    assert tuple(logits.shape) == (4, 10), (
        f"forward should return logits of shape (4, 10), got {tuple(logits.shape)}"
    )
    assert logits.dtype == tf.float32, f"forward should return float32, got {logits.dtype}"


# ---------------------------------------------------------------- loss_fn


@points(2, exercise="loss_fn")
def test_loss_fn_hand_computed(sub):
    logits = tf.constant([[np.log(2.0), 0.0, 0.0], [0.0, np.log(2.0), np.log(5.0)]], tf.float32)
    labels = np.array([0, 2])
    # sample 1: exp(logits) = [2, 1, 1], p(class 0) = 2/4, loss = log 2
    # sample 2: exp(logits) = [1, 2, 5], p(class 2) = 5/8, loss = log 1.6
    # mean = (log 2 + log 1.6) / 2 = log(3.2) / 2 = 0.581575
    loss = sub.loss_fn(logits, labels)
    assert tuple(loss.shape) == (), f"loss_fn should return a scalar, got shape {loss.shape}"
    assert np.isclose(float(loss), np.log(3.2) / 2, atol=1e-5), (
        f"loss_fn should give mean cross-entropy {np.log(3.2) / 2:.6f}, got {float(loss):.6f}"
    )


@points(1, exercise="loss_fn")
def test_loss_fn_one_hot_labels(sub):
    logits = tf.constant([[np.log(2.0), 0.0, 0.0], [0.0, np.log(2.0), np.log(5.0)]], tf.float32)
    labels = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], np.float32)  # one-hot of [0, 2]
    loss = sub.loss_fn(logits, labels)
    assert np.isclose(float(loss), np.log(3.2) / 2, atol=1e-5), (
        f"loss_fn with one-hot labels should give {np.log(3.2) / 2:.6f}, got {float(loss):.6f}"
    )


# ---------------------------------------------------------------- accuracy


@points(1, exercise="accuracy")
def test_accuracy_hand_computed(sub):
    logits = tf.constant(
        [[3.0, 1.0, 0.0], [0.0, 1.0, 2.0], [0.0, 5.0, 1.0], [0.0, 2.0, 1.0]]
    )  # arg-max per row: 0, 2, 1, 1
    labels = np.array([0, 2, 1, 0])  # the last row is wrong -> 3 / 4
    acc = float(sub.accuracy(logits, labels))
    assert np.isclose(acc, 0.75), f"accuracy should be 0.75 (3 of 4 right), got {acc}"


# ---------------------------------------------------------------- train_step


@points(3, exercise="train_step")
def test_train_step_matches_sgd(sub):
    x, y, values = _small_problem(0)
    lr = 0.5
    _, grads = _reference_loss_and_grads(x, y, values)
    params = [tf.Variable(v) for v in values]
    sub.train_step(x, y, params, keras.optimizers.SGD(learning_rate=lr))
    # plain SGD: new value = old value - lr * gradient
    for name, v, old, g in zip(["W1", "b1", "W2", "b2"], params, values, grads, strict=True):
        expected = old - lr * g
        assert np.allclose(v.numpy(), expected, atol=1e-5), (
            f"after one SGD step (lr={lr}) {name} should be old - lr * gradient; largest "
            f"difference {np.abs(v.numpy() - expected).max():.2e} "
            "(check the loss, the gradient variables and apply_gradients)"
        )


@points(2, exercise="train_step")
def test_train_step_loss_goes_down(sub):
    x, y, values = _small_problem(1)
    params = [tf.Variable(v) for v in values]
    optimizer = keras.optimizers.Adam(learning_rate=0.05)
    losses = [float(sub.train_step(x, y, params, optimizer)) for _ in range(10)]
    assert losses[-1] < losses[0] - 0.1, (
        f"10 Adam steps on one batch should lower the loss clearly; losses were "
        f"{np.round(losses, 3).tolist()}"
    )
