"""Public tests of the tutorial 1 assignment (students see these; run them with check(...)).

``sub`` is your submission: ``sub.forward(x, ...)`` runs your ``forward`` and gives back its
result as data (a tensor comes back as an array that remembers it was a tensor). Checks that
need your objects alive (variables updated by ``train_step``, a random generator drawn from
twice) run in small probe functions (``sub.run(_probe, ...)``) that only report values; every
comparison happens here. Most tests draw fresh random inputs on every run.
"""

import numpy as np

from tfcourse.grading.codec import Handle, RemoteArray, is_tensor, is_variable
from tfcourse.grading.points import points

NAMES = ["W1", "b1", "W2", "b2"]


def _tf(value, dtype=np.float32, kind="tensor"):
    """``value`` sent as a ``tf.constant`` (kind ``"tensor"``) or a ``tf.Variable``."""
    out = np.array(value, dtype).view(RemoteArray)
    out.kind = kind
    return out


def _as_array(value):
    """A plain numpy copy of a returned tensor, variable or array."""
    return np.array(value)


def _type_name(value):
    """What a returned value was in your code, in its own words (tf.Tensor, ndarray, ...)."""
    if isinstance(value, RemoteArray):
        return {"tensor": "tf.Tensor", "variable": "tf.Variable"}.get(value.kind, "ndarray")
    return value.type if isinstance(value, Handle) else type(value).__name__


def _dtype(value):
    return np.asarray(value).dtype


def _shape(value):
    return tuple(np.shape(value)) if not isinstance(value, Handle) else None


def _small_problem(rng):
    """A 6-input, 5-hidden, 3-class network and a batch of 8 samples (all float32)."""
    x = rng.normal(size=(8, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=8).astype(np.int64)
    values = [
        (0.5 * rng.normal(size=(6, 5))).astype(np.float32),
        (0.1 * rng.normal(size=5)).astype(np.float32),
        (0.5 * rng.normal(size=(5, 3))).astype(np.float32),
        np.zeros(3, np.float32),
    ]
    return x, y, values


def _numpy_forward(x, W1, b1, W2, b2):
    return np.maximum(x @ W1 + b1, 0.0) @ W2 + b2


def _numpy_cross_entropy(logits, labels):
    """Mean of log(sum(exp(logits))) - logit of the true class, computed stably in float64."""
    logits = np.asarray(logits, np.float64)
    top = logits.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
    return float(np.mean(log_norm - logits[np.arange(len(labels)), labels]))


def _softmax(logits):
    """Row-wise softmax of ``[n, classes]`` logits, in float64."""
    logits = np.asarray(logits, np.float64)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _reference_loss_and_grads(x, y, values):
    """Loss and gradients of [W1, b1, W2, b2], backpropagation written out in float64 numpy."""
    W1, b1, W2, b2 = (np.asarray(v, np.float64) for v in values)
    z1 = x @ W1 + b1
    hidden = np.maximum(z1, 0.0)
    logits = hidden @ W2 + b2
    d_logits = (_softmax(logits) - np.eye(logits.shape[1])[y]) / len(y)  # d mean-loss / d logits
    active = x @ values[0] + values[1] > 0  # in float32, as TensorFlow decides it
    d_z1 = (d_logits @ W2.T) * active
    grads = [x.T @ d_z1, d_z1.sum(axis=0), hidden.T @ d_logits, d_logits.sum(axis=0)]
    return _numpy_cross_entropy(logits, y), grads


def _first_wrong(out, expected, atol=1e-6):
    """The index of the first entry of ``out`` that differs from ``expected``, or None."""
    wrong = np.argwhere(~np.isclose(out, expected, atol=atol))
    return tuple(int(i) for i in wrong[0]) if len(wrong) else None


# ---------------------------------------------------------------- compute_a


@points(1, exercise="compute_a")
def test_compute_a_scalars(sub):
    # b = 2, c = 1: d = 3, e = 3, a = 9.   b = -1, c = 3: d = 2, e = 5, a = 10.
    a = sub.compute_a(2.0, 1.0)
    assert is_tensor(a), f"compute_a should return a tf.Tensor, got {_type_name(a)}"
    assert np.isclose(float(a), 9.0), f"compute_a(2.0, 1.0) should be 9.0, got {float(a)}"
    a = sub.compute_a(_tf(-1.0, kind="variable"), _tf(3.0, kind="variable"))
    assert np.isclose(float(a), 10.0), f"compute_a(-1.0, 3.0) should be 10.0, got {float(a)}"
    b, c = np.random.default_rng().uniform(-3.0, 3.0, size=2).astype(np.float32)
    expected = (float(b) + float(c)) * (float(c) + 2.0)
    a = sub.compute_a(_tf(b, kind="variable"), _tf(c, kind="variable"))
    assert np.isclose(float(a), expected, rtol=1e-5, atol=1e-5), (
        f"compute_a({b:.4f}, {c:.4f}) should be {expected:.5f}, got {float(a)}"
    )


@points(1, exercise="compute_a")
def test_compute_a_integer_array(sub):
    # b = [0, 1, ..., 9] (int64), c = 1: a_k = (k + 1) * 3 = [3, 6, ..., 30]
    rng = np.random.default_rng()
    b = rng.integers(-20, 20, size=int(rng.integers(5, 15)))
    c = float(np.float32(rng.uniform(-3.0, 3.0)))
    cases = [("np.arange(10), 1.0", np.arange(10), 1.0), (f"{b}, {c:.4f}", b, c)]
    for shown, b, c in cases:
        a = sub.compute_a(b, c)
        expected = (b + c) * (c + 2.0)
        assert _dtype(a) == np.float32, f"compute_a should return float32, got {_dtype(a).name}"
        assert _shape(a) == b.shape, f"compute_a should return shape {b.shape}, got {_shape(a)}"
        assert np.allclose(_as_array(a), expected, rtol=1e-5, atol=1e-4), (
            f"compute_a({shown}) should be {expected}, got {_as_array(a)}"
        )


# ---------------------------------------------------------------- prepare_images


@points(1, exercise="prepare_images")
def test_prepare_images_shape_and_dtype(sub):
    rng = np.random.default_rng()
    for n in rng.choice(np.arange(2, 9), size=2, replace=False):
        images = rng.integers(0, 256, size=(n, 28, 28)).astype(np.uint8)
        out = sub.prepare_images(images)
        assert isinstance(out, np.ndarray) and not is_tensor(out), (
            f"prepare_images should return a numpy array, got {_type_name(out)}"
        )
        assert out.shape == (n, 784), (
            f"prepare_images should return shape ({n}, 784), got {out.shape}"
        )
        assert out.dtype == np.float32, f"prepare_images should return float32, got {out.dtype}"


@points(1, exercise="prepare_images")
def test_prepare_images_values(sub):
    images = np.zeros((2, 28, 28), np.uint8)
    images[0, 0, 0] = 255  # -> row 0, column 0:              255 / 255 = 1.0
    images[0, 0, 1] = 51  # -> row 0, column 1:               51 / 255 = 0.2
    images[0, 1, 0] = 102  # -> row 0, column 1 * 28 + 0 = 28: 102 / 255 = 0.4
    images[1, 27, 27] = 153  # -> row 1, column 783:           153 / 255 = 0.6
    expected = np.zeros((2, 784), np.float32)
    expected[0, 0], expected[0, 1], expected[0, 28], expected[1, 783] = 1.0, 0.2, 0.4, 0.6
    rng = np.random.default_rng()
    random_images = rng.integers(0, 256, size=(int(rng.integers(2, 6)), 28, 28)).astype(np.uint8)
    cases = [(images, expected), (random_images, random_images.reshape(-1, 784) / 255.0)]
    for images, expected in cases:
        out = _as_array(sub.prepare_images(images))
        assert out.shape == expected.shape, (
            f"prepare_images should return shape {expected.shape}, got {out.shape}"
        )
        wrong = _first_wrong(out, expected)
        assert wrong is None, (
            f"prepare_images: entry {wrong} should be {expected[wrong]:.3f}, "
            f"got {out[wrong]:.3f} (scale by 1/255 and flatten row by row)"
        )


# ---------------------------------------------------------------- one_hot


@points(1, exercise="one_hot")
def test_one_hot_small(sub):
    rng = np.random.default_rng()
    num_classes = int(rng.integers(3, 13))
    random_labels = rng.integers(0, num_classes, size=int(rng.integers(5, 30)))
    for labels, classes in [(np.array([3, 0, 9]), 10), (random_labels, num_classes)]:
        out = _as_array(sub.one_hot(labels, classes))
        expected = np.eye(classes, dtype=np.float32)[labels]
        shown = labels.tolist()
        assert out.shape == expected.shape, (
            f"one_hot({shown}, {classes}) should have shape {expected.shape}, got {out.shape}"
        )
        assert out.dtype == np.float32, f"one_hot should return float32, got {out.dtype}"
        assert np.array_equal(out, expected), (
            f"one_hot({shown}, {classes}) should be\n{expected}\ngot\n{out}"
        )


# ---------------------------------------------------------------- get_batch


def _generator(sub, seed):
    """Probe: ``np.random.default_rng(seed)``, kept in the worker for ``get_batch``."""
    import numpy as np

    return np.random.default_rng(seed)


@points(1, exercise="get_batch")
def test_get_batch_shapes_and_pairs(sub):
    # y is 0..19 in a random order and x a random row per sample, so pairs are easy to check
    rng = np.random.default_rng()
    y = rng.permutation(20)
    x = rng.normal(size=(20, 784)).astype(np.float32)
    row_of_label = np.argsort(y)
    for batch_size in rng.choice(np.arange(3, 13), size=2, replace=False):
        generator = sub.run(_generator, int(rng.integers(2**31)))
        xb, yb = sub.get_batch(x, y, int(batch_size), generator)
        assert _shape(xb) == (batch_size, 784), (
            f"get_batch should return x of shape ({batch_size}, 784), got {_shape(xb)}"
        )
        assert _shape(yb) == (batch_size,), (
            f"get_batch should return y of shape ({batch_size},), got {_shape(yb)}"
        )
        assert _dtype(xb) == np.float32, f"x_batch should keep dtype float32, got {_dtype(xb)}"
        assert np.isin(yb, y).all(), f"y_batch should hold labels taken from y, got {yb}"
        assert np.array_equal(xb, x[row_of_label[np.asarray(yb, np.int64)]]), (
            "each x_batch row must belong to its label: x_batch[k] should be the row of x "
            f"whose label is y_batch[k] (labels {yb})"
        )


@points(1, exercise="get_batch")
def test_get_batch_uses_the_generator(sub):
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    for seed in [42, int(np.random.default_rng().integers(2**31))]:
        expected = np.random.default_rng(seed).integers(0, 10, size=6)
        _, yb = sub.get_batch(x, y, 6, sub.run(_generator, seed))
        assert np.array_equal(yb, expected), (
            f"with rng = np.random.default_rng({seed}) get_batch should pick indices {expected} "
            f"(one call rng.integers(0, n, size=batch_size)), got {yb}"
        )


# ---------------------------------------------------------------- init_params


@points(1, exercise="init_params")
def test_init_params_shapes(sub):
    rng = np.random.default_rng()
    sizes = [(784, 300, 10), tuple(int(s) for s in rng.integers(2, 40, size=3))]
    for n_in, n_hidden, n_out in sizes:
        params = sub.init_params(n_in, n_hidden, n_out, seed=int(rng.integers(1000)))
        assert len(params) == 4, (
            f"init_params should return [W1, b1, W2, b2], got {len(params)} items"
        )
        shapes = [(n_in, n_hidden), (n_hidden,), (n_hidden, n_out), (n_out,)]
        for name, v, shape in zip(NAMES, params, shapes, strict=True):
            assert is_variable(v), f"{name} should be a tf.Variable, got {_type_name(v)}"
            assert _shape(v) == shape, (
                f"init_params({n_in}, {n_hidden}, {n_out}): {name} should have shape {shape}, "
                f"got {_shape(v)}"
            )
            assert v.dtype == np.float32, f"{name} should be float32, got {v.dtype.name}"


@points(1, exercise="init_params")
def test_init_params_statistics(sub):
    rng = np.random.default_rng()
    n_in, n_hidden = int(rng.integers(700, 900)), int(rng.integers(300, 400))
    params = sub.init_params(n_in, n_hidden, 10, seed=int(rng.integers(1000)))
    W1, b1, W2, _ = (_as_array(v) for v in params)
    assert W1.shape == (n_in, n_hidden), (
        f"init_params({n_in}, {n_hidden}, 10): W1 should have shape {(n_in, n_hidden)}, "
        f"got {W1.shape}"
    )
    # over 200,000 draws: the sample std is 0.03 to within about 0.2 %
    assert 0.0285 < W1.std() < 0.0315, f"W1 should have std 0.03, got {W1.std():.4f}"
    assert abs(W1.mean()) < 0.001, f"W1 should have mean 0, got {W1.mean():.4f}"
    assert 0.027 < W2.std() < 0.033, f"W2 should have std 0.03, got {W2.std():.4f}"
    assert 0.75 < b1.std() < 1.25, f"b1 should have std 1 (standard normal), got {b1.std():.3f}"


# ---------------------------------------------------------------- forward


@points(2, exercise="forward")
def test_forward_hand_computed(sub):
    x = np.array([[1.0, -1.0]], np.float32)
    W1 = _tf([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]])
    b1 = _tf([0.0, 0.0, -2.0])
    W2 = _tf([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    b2 = _tf([0.5, -0.5])
    # x @ W1 = [1, -1, 1]; + b1 = [1, -1, -1]; relu -> [1, 0, 0]
    # [1, 0, 0] @ W2 = [1, 2]; + b2 = [1.5, 1.5]   (without relu it would be [-6.5, -8.5])
    rng = np.random.default_rng()
    random_x = rng.normal(size=(int(rng.integers(2, 6)), 2)).astype(np.float32)
    cases = [(x, np.array([[1.5, 1.5]])), (random_x, _numpy_forward(random_x, W1, b1, W2, b2))]
    for x, expected in cases:
        logits = _as_array(sub.forward(x, W1, b1, W2, b2))
        assert logits.shape == expected.shape, (
            f"forward should return shape {expected.shape}, got {logits.shape}"
        )
        assert np.allclose(logits, expected, atol=1e-5), (
            f"forward of x = {x.tolist()} should give logits {np.round(expected, 4).tolist()} "
            f"(ReLU on the hidden layer only, no softmax), got {logits.tolist()}"
        )


@points(1, exercise="forward")
def test_forward_mnist_shapes(sub):
    rng = np.random.default_rng()
    W1 = _tf(0.03 * rng.normal(size=(784, 300)))
    b1 = _tf(np.zeros(300))
    W2 = _tf(0.03 * rng.normal(size=(300, 10)))
    b2 = _tf(np.zeros(10))
    for batch in rng.choice(np.arange(1, 9), size=2, replace=False):
        x = rng.random((batch, 784)).astype(np.float32)
        logits = sub.forward(x, W1, b1, W2, b2)
        assert _shape(logits) == (batch, 10), (
            f"forward should return logits of shape ({batch}, 10), got {_shape(logits)}"
        )
        assert _dtype(logits) == np.float32, f"forward should return float32, got {_dtype(logits)}"


# ---------------------------------------------------------------- loss_fn


def _random_logits_and_labels(rng):
    """``[n, classes]`` float32 logits and ``[n]`` int64 class ids, n and classes random."""
    n, classes = int(rng.integers(3, 12)), int(rng.integers(2, 8))
    logits = (2.0 * rng.normal(size=(n, classes))).astype(np.float32)
    return logits, rng.integers(0, classes, size=n)


@points(2, exercise="loss_fn")
def test_loss_fn_hand_computed(sub):
    logits = np.array([[np.log(2.0), 0.0, 0.0], [0.0, np.log(2.0), np.log(5.0)]], np.float32)
    labels = np.array([0, 2])
    # sample 1: exp(logits) = [2, 1, 1], p(class 0) = 2/4, loss = log 2
    # sample 2: exp(logits) = [1, 2, 5], p(class 2) = 5/8, loss = log 1.6
    # mean = (log 2 + log 1.6) / 2 = log(3.2) / 2 = 0.581575
    random_logits, random_labels = _random_logits_and_labels(np.random.default_rng())
    cases = [
        (logits, labels, np.log(3.2) / 2),
        (random_logits, random_labels, _numpy_cross_entropy(random_logits, random_labels)),
    ]
    for logits, labels, expected in cases:
        loss = sub.loss_fn(_tf(logits), labels)
        assert _shape(loss) == (), f"loss_fn should return a scalar, got shape {_shape(loss)}"
        assert np.isclose(float(loss), expected, atol=1e-5), (
            f"loss_fn should give mean cross-entropy {expected:.6f}, got {float(loss):.6f}"
        )


@points(1, exercise="loss_fn")
def test_loss_fn_one_hot_labels(sub):
    logits = np.array([[np.log(2.0), 0.0, 0.0], [0.0, np.log(2.0), np.log(5.0)]], np.float32)
    random_logits, random_labels = _random_logits_and_labels(np.random.default_rng())
    cases = [
        (logits, np.array([0, 2]), np.log(3.2) / 2),
        (random_logits, random_labels, _numpy_cross_entropy(random_logits, random_labels)),
    ]
    for logits, labels, expected in cases:
        one_hot = np.eye(logits.shape[1], dtype=np.float32)[labels]
        loss = sub.loss_fn(_tf(logits), one_hot)
        assert np.isclose(float(loss), expected, atol=1e-5), (
            f"loss_fn with one-hot labels should give {expected:.6f}, got {float(loss):.6f}"
        )


# ---------------------------------------------------------------- accuracy


def _logits_with_right_answers(rng, n, classes, right):
    """Random ``[n, classes]`` logits and ``[n]`` labels where exactly ``right`` rows are right."""
    labels = rng.integers(0, classes, size=n)
    predicted = labels.copy()
    wrong = rng.choice(n, size=n - right, replace=False)
    predicted[wrong] = (labels[wrong] + rng.integers(1, classes, size=n - right)) % classes
    logits = rng.normal(size=(n, classes)).astype(np.float32)
    logits[np.arange(n), predicted] = logits.max(axis=1) + 1.0
    return logits, labels


@points(1, exercise="accuracy")
def test_accuracy_hand_computed(sub):
    logits = np.array(
        [[3.0, 1.0, 0.0], [0.0, 1.0, 2.0], [0.0, 5.0, 1.0], [0.0, 2.0, 1.0]], np.float32
    )  # arg-max per row: 0, 2, 1, 1
    labels = np.array([0, 2, 1, 0])  # the last row is wrong -> 3 / 4
    acc = float(sub.accuracy(_tf(logits), labels))
    assert np.isclose(acc, 0.75), f"accuracy should be 0.75 (3 of 4 right), got {acc}"
    rng = np.random.default_rng()
    for right in rng.choice(21, size=2, replace=False):  # two different fractions of 20
        logits, labels = _logits_with_right_answers(rng, 20, 5, int(right))
        acc = float(sub.accuracy(_tf(logits), labels))
        assert np.isclose(acc, right / 20), (
            f"accuracy should be {right / 20:g} ({right} of 20 right), got {acc}"
        )


# ---------------------------------------------------------------- train_step


def _train(sub, x, labels, values, optimizer, learning_rate, steps):
    """Probe: ``steps`` calls of ``train_step`` on fresh variables and a fresh optimizer.

    Returns what the tests compare: the losses ``train_step`` returned, the variables' values
    afterwards, whether ``params`` still holds the same variable objects, and the optimizer's
    step count.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    params = [tf.Variable(v) for v in values]
    originals = list(params)
    make = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam}[optimizer]
    opt = make(learning_rate=learning_rate)
    losses = [sub.train_step(x, labels, params, opt) for _ in range(steps)]
    return {
        "losses": losses,
        "values": [np.array(v.numpy()) for v in originals],
        "same": len(params) == len(originals)
        and all(p is q for p, q in zip(params, originals, strict=True)),
        "iterations": int(opt.iterations.numpy()),
    }


@points(3, exercise="train_step")
def test_train_step_matches_sgd(sub):
    x, y, values = _small_problem(np.random.default_rng())
    lr = 0.5
    _, grads = _reference_loss_and_grads(x, y, values)
    after = sub.run(_train, x, y, values, "sgd", lr, 1)["values"]
    # plain SGD: new value = old value - lr * gradient
    for name, new, old, g in zip(NAMES, after, values, grads, strict=True):
        expected = old - lr * g
        assert np.allclose(new, expected, atol=1e-5), (
            f"after one SGD step (lr={lr}) {name} should be old - lr * gradient; largest "
            f"difference {np.abs(new - expected).max():.2e} "
            "(check the loss, the gradient variables and apply_gradients)"
        )


@points(2, exercise="train_step")
def test_train_step_loss_goes_down(sub):
    x, y, values = _small_problem(np.random.default_rng())
    report = sub.run(_train, x, y, values, "adam", 0.05, 10)
    losses = [float(loss) for loss in report["losses"]]
    assert losses[-1] < losses[0] - 0.1, (
        f"10 Adam steps on one batch should lower the loss clearly; losses were "
        f"{np.round(losses, 3).tolist()}"
    )
    before = _reference_loss_and_grads(x, y, values)[0]
    after = _reference_loss_and_grads(x, y, report["values"])[0]
    assert after < before - 0.1, (
        f"10 Adam steps on one batch should lower the loss of the variables clearly; it went "
        f"from {before:.3f} to {after:.3f} (update the variables you are given)"
    )
