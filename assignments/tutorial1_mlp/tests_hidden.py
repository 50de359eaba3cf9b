"""Hidden tests of the tutorial 1 assignment: edge cases, dtypes, gradients, in-place updates."""

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


def _numpy_forward(x, W1, b1, W2, b2):
    return np.maximum(x @ W1 + b1, 0.0) @ W2 + b2


def _numpy_cross_entropy(logits, labels):
    """Mean of log(sum(exp(logits))) - logit of the true class, computed stably in float64."""
    logits = np.asarray(logits, np.float64)
    top = logits.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
    return float(np.mean(log_norm - logits[np.arange(len(labels)), labels]))


# ---------------------------------------------------------------- compute_a


@points(1, exercise="compute_a")
def test_compute_a_gradients_and_assign(sub):
    b, c = tf.Variable(2.0), tf.Variable(1.0)
    with tf.GradientTape() as tape:
        a = sub.compute_a(b, c)
    grad_b, grad_c = tape.gradient(a, [b, c])
    assert grad_b is not None and grad_c is not None, (
        "no gradient flows from compute_a's result to b and c: use TensorFlow ops, not numpy"
    )
    # da/db = c + 2 = 3;  da/dc = (c + 2) + (b + c) = 3 + 3 = 6
    assert np.allclose([float(grad_b), float(grad_c)], [3.0, 6.0]), (
        f"gradients of a at b=2, c=1 should be da/db = 3 and da/dc = 6, "
        f"got {float(grad_b)} and {float(grad_c)}"
    )
    # an int64 variable changed in place: b = [0, 10, 2, 3, 4], c = 1 -> (b + 1) * 3
    bv = tf.Variable(np.arange(5))
    bv[1].assign(10)
    a = _as_array(sub.compute_a(bv, 1.0))
    assert np.allclose(a, [3.0, 33.0, 9.0, 12.0, 15.0]), (
        f"compute_a(b, 1.0) after b[1].assign(10) should be [3, 33, 9, 12, 15], got {a}"
    )


# ---------------------------------------------------------------- prepare_images


@points(1, exercise="prepare_images")
def test_prepare_images_other_shapes_no_mutation(sub):
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(2, 4, 5)).astype(np.uint8)
    before = images.copy()
    out = sub.prepare_images(images)
    assert out.shape == (2, 20), f"prepare_images on [2, 4, 5] should give (2, 20), got {out.shape}"
    assert out.dtype == np.float32, f"prepare_images should return float32, got {out.dtype}"
    assert np.allclose(out, before.reshape(2, 20) / 255.0, atol=1e-6), (
        "prepare_images on [2, 4, 5] images should give pixel / 255, row by row"
    )
    assert np.array_equal(images, before), "prepare_images must not modify its input array"
    flat = rng.integers(0, 256, size=(3, 784)).astype(np.uint8)
    out = sub.prepare_images(flat)
    assert out.shape == (3, 784), (
        f"prepare_images on already flat [3, 784] images should keep shape (3, 784), "
        f"got {out.shape}"
    )
    assert np.allclose(out, flat / 255.0, atol=1e-6), (
        "prepare_images on flat images should give pixel / 255"
    )


# ---------------------------------------------------------------- one_hot


@points(1, exercise="one_hot")
def test_one_hot_uint8_and_num_classes(sub):
    labels = np.array([1, 3, 0, 1], np.uint8)  # MNIST labels are uint8
    out = _as_array(sub.one_hot(labels, num_classes=4))
    expected = np.array([[0, 1, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0]], np.float32)
    assert out.shape == (4, 4), (
        f"one_hot(..., num_classes=4) should have shape (4, 4), got {out.shape}"
    )
    assert np.array_equal(out, expected), (
        f"one_hot([1, 3, 0, 1] as uint8, 4) should be\n{expected}\ngot\n{out}"
    )


@points(1, exercise="one_hot")
def test_one_hot_rows(sub):
    labels = np.random.default_rng(5).integers(0, 10, size=50)
    out = _as_array(sub.one_hot(labels))  # default num_classes = 10
    assert out.shape == (50, 10), (
        f"one_hot of 50 labels should have shape (50, 10), got {out.shape}"
    )
    assert np.array_equal(out.sum(axis=1), np.ones(50)), "every one-hot row should sum to 1"
    assert np.array_equal(out.argmax(axis=1), labels), "the 1 of row i should sit at labels[i]"


# ---------------------------------------------------------------- get_batch


@points(1, exercise="get_batch")
def test_get_batch_images_with_replacement(sub):
    x = np.stack([np.full((28, 28), i, np.uint8) for i in range(3)])  # image i is all i
    y = np.arange(3, dtype=np.uint8)
    xb, yb = sub.get_batch(x, y, 12, np.random.default_rng(1))
    assert xb.shape == (12, 28, 28), (
        f"get_batch of 12 from 3 images should return x of shape (12, 28, 28), got {xb.shape} "
        "(draw with replacement)"
    )
    assert xb.dtype == np.uint8 and yb.dtype == np.uint8, (
        f"get_batch should keep the dtypes (uint8, uint8), got ({xb.dtype}, {yb.dtype})"
    )
    assert np.array_equal(xb[:, 5, 5], yb), "each image of the batch must keep its own label"


@points(1, exercise="get_batch")
def test_get_batch_continues_the_stream(sub):
    x = np.arange(100, dtype=np.float32).reshape(50, 2)
    y = np.arange(50)
    ref = np.random.default_rng(7)
    first, second = ref.integers(0, 50, size=4), ref.integers(0, 50, size=4)
    rng = np.random.default_rng(7)
    _, y1 = sub.get_batch(x, y, 4, rng)
    _, y2 = sub.get_batch(x, y, 4, rng)
    assert np.array_equal(y1, first) and np.array_equal(y2, second), (
        f"two calls with the same generator should pick {first} then {second}, got {y1} then "
        f"{y2} (use the rng you are given, once per call, and do not re-seed it)"
    )


# ---------------------------------------------------------------- init_params


@points(1, exercise="init_params")
def test_init_params_names(sub):
    params = sub.init_params(6, 5, 3, seed=0)
    for expected, v in zip(["W1", "b1", "W2", "b2"], params, strict=True):
        name = v.name.split(":")[0].split("/")[-1]
        assert name == expected, f"variable should be named {expected!r}, got {v.name!r}"


@points(1, exercise="init_params")
def test_init_params_seeded(sub):
    a = [_as_array(v) for v in sub.init_params(6, 5, 3, seed=7)]
    b = [_as_array(v) for v in sub.init_params(6, 5, 3, seed=7)]
    c = [_as_array(v) for v in sub.init_params(6, 5, 3, seed=8)]
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True)), (
        "init_params with the same seed should return the same values twice "
        "(use tf.random.Generator.from_seed(seed))"
    )
    assert not np.array_equal(a[0], c[0]), "init_params with seeds 7 and 8 gave the same W1"
    shapes = [tuple(v.shape) for v in a]
    assert shapes == [(6, 5), (5,), (5, 3), (3,)], (
        f"init_params(6, 5, 3) should give shapes [(6, 5), (5,), (5, 3), (3,)], got {shapes}"
    )


# ---------------------------------------------------------------- forward


@points(1, exercise="forward")
def test_forward_matches_numpy(sub):
    rng = np.random.default_rng(11)
    x = rng.random((5, 784)).astype(np.float32)
    values = [
        (0.03 * rng.normal(size=(784, 300))).astype(np.float32),
        rng.normal(size=300).astype(np.float32),
        (0.03 * rng.normal(size=(300, 10))).astype(np.float32),
        rng.normal(size=10).astype(np.float32),
    ]
    expected = _numpy_forward(x, *values)
    logits = _as_array(sub.forward(x, *(tf.constant(v) for v in values)))
    assert logits.shape == (5, 10), f"forward should return shape (5, 10), got {logits.shape}"
    assert np.allclose(logits, expected, atol=1e-4), (
        f"forward differs from relu(x @ W1 + b1) @ W2 + b2 by up to "
        f"{np.abs(logits - expected).max():.2e}"
    )


@points(1, exercise="forward")
def test_forward_images_and_dtypes(sub):
    rng = np.random.default_rng(12)
    images = rng.integers(0, 256, size=(3, 28, 28)).astype(np.uint8)
    values = [
        tf.constant(0.001 * rng.normal(size=(784, 4)), tf.float32),
        tf.zeros([4]),
        tf.constant(rng.normal(size=(4, 10)), tf.float32),
        tf.zeros([10]),
    ]
    flat = images.reshape(3, 784).astype(np.float32)
    expected = _numpy_forward(flat, *(v.numpy() for v in values))
    from_uint8 = _as_array(sub.forward(images, *values))
    assert from_uint8.shape == (3, 10), (
        f"forward on [3, 28, 28] uint8 images should flatten them and return (3, 10), "
        f"got {from_uint8.shape}"
    )
    assert np.allclose(from_uint8, expected, atol=1e-3), (
        "forward on uint8 images gives wrong logits (cast to float32, do not rescale)"
    )
    from_float64 = sub.forward(images.reshape(3, 784).astype(np.float64), *values)
    assert from_float64.dtype == tf.float32, (
        f"forward on float64 input should cast to float32, got {from_float64.dtype}"
    )
    assert np.allclose(_as_array(from_float64), expected, atol=1e-3), (
        "forward on float64 input gives wrong logits"
    )


@points(1, exercise="forward")
def test_forward_gradients_flow(sub):
    _, _, values = _small_problem(2)
    params = [tf.Variable(v) for v in values]
    x = np.random.default_rng(2).normal(size=(4, 6)).astype(np.float32)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(sub.forward(x, *params))
    grads = tape.gradient(total, params)
    missing = [n for n, g in zip(["W1", "b1", "W2", "b2"], grads, strict=True) if g is None]
    assert not missing, f"no gradient reaches {missing}: keep the forward pass in TensorFlow"
    # d(sum of logits)/db2 = number of rows = 4 for every class
    assert np.allclose(grads[3].numpy(), 4.0), (
        f"d(sum of logits)/d b2 should be 4 (the batch size) everywhere, got {grads[3].numpy()}"
    )


# ---------------------------------------------------------------- loss_fn


@points(1, exercise="loss_fn")
def test_loss_fn_large_logits_stable(sub):
    logits = tf.constant([[1000.0, 0.0], [0.0, 1000.0]])
    # sample 1: true class has the huge logit -> loss 0; sample 2: true class 0 is 1000 below
    # the other -> loss 1000; mean = 500. A naive log(softmax) gives inf or nan here.
    loss = float(sub.loss_fn(logits, np.array([0, 0])))
    assert np.isfinite(loss), f"loss_fn overflowed on logits of size 1000: got {loss}"
    assert np.isclose(loss, 500.0, rtol=1e-5), f"loss_fn should give 500.0, got {loss}"


@points(1, exercise="loss_fn")
def test_loss_fn_uint8_labels_match_reference(sub):
    rng = np.random.default_rng(21)
    logits = (3.0 * rng.normal(size=(16, 10))).astype(np.float32)
    labels = rng.integers(0, 10, size=16).astype(np.uint8)  # MNIST labels are uint8
    expected = _numpy_cross_entropy(logits, labels)
    loss = sub.loss_fn(tf.constant(logits), labels)
    assert loss.dtype == tf.float32, f"loss_fn should return float32, got {loss.dtype}"
    assert np.isclose(float(loss), expected, atol=1e-4), (
        f"loss_fn with uint8 labels should give {expected:.5f}, got {float(loss):.5f}"
    )


@points(1, exercise="loss_fn")
def test_loss_fn_gradient_is_mean(sub):
    logits = tf.Variable(
        [[np.log(2.0), 0.0, 0.0], [0.0, np.log(2.0), np.log(5.0)]], dtype=tf.float32
    )
    with tf.GradientTape() as tape:
        loss = sub.loss_fn(logits, np.array([0, 2]))
    grad = tape.gradient(loss, logits)
    assert grad is not None, "no gradient flows from loss_fn to the logits"
    # softmax rows: [1/2, 1/4, 1/4] and [1/8, 2/8, 5/8]; gradient = (softmax - one_hot) / batch
    expected = np.array([[-0.25, 0.125, 0.125], [0.0625, 0.125, -0.1875]])
    assert np.allclose(grad.numpy(), expected, atol=1e-5), (
        f"d loss / d logits should be (softmax - one_hot) / batch_size = {expected.tolist()}, "
        f"got {np.round(grad.numpy(), 4).tolist()} (is the loss the mean over the batch?)"
    )


# ---------------------------------------------------------------- accuracy


@points(1, exercise="accuracy")
def test_accuracy_one_hot_labels(sub):
    logits = tf.constant([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.0, 1.0]])
    labels = np.array([[0, 1], [0, 1], [0, 1], [1, 0], [1, 0]], np.float32)
    # predictions 1, 0, 1, 0, 1 vs classes 1, 1, 1, 0, 0 -> 3 of 5 right
    acc = float(sub.accuracy(logits, labels))
    assert np.isclose(acc, 0.6), f"accuracy with one-hot labels should be 0.6, got {acc}"


@points(1, exercise="accuracy")
def test_accuracy_extremes_uint8(sub):
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 10, size=20).astype(np.uint8)
    logits = rng.normal(size=(20, 10)).astype(np.float32)
    logits[np.arange(20), labels] = 10.0  # the true class always wins
    right = float(sub.accuracy(tf.constant(logits), labels))
    assert np.isclose(right, 1.0), f"accuracy should be 1.0 when every row is right, got {right}"
    wrong = float(sub.accuracy(tf.constant(logits), (labels + 1) % 10))
    assert np.isclose(wrong, 0.0), f"accuracy should be 0.0 when every row is wrong, got {wrong}"


# ---------------------------------------------------------------- train_step


@points(1, exercise="train_step")
def test_train_step_returns_loss_before_update(sub):
    x, y, values = _small_problem(3)
    expected = _numpy_cross_entropy(_numpy_forward(x, *values), y)
    params = [tf.Variable(v) for v in values]
    loss = sub.train_step(x, y, params, keras.optimizers.SGD(learning_rate=1.0))
    assert tuple(np.shape(loss)) == (), (
        f"train_step should return a scalar loss, got shape {np.shape(loss)}"
    )
    assert np.isclose(float(loss), expected, atol=1e-5), (
        f"train_step should return the loss before the update, {expected:.5f}; "
        f"got {float(loss):.5f}"
    )


@points(1, exercise="train_step")
def test_train_step_updates_in_place_once(sub):
    x, y, values = _small_problem(4)
    params = [tf.Variable(v) for v in values]
    originals = list(params)
    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    sub.train_step(x, y, params, optimizer)
    assert all(p is q for p, q in zip(params, originals, strict=True)), (
        "train_step must update the given variables, not replace them in the list"
    )
    assert int(optimizer.iterations.numpy()) == 1, (
        f"one train_step should call optimizer.apply_gradients once; the optimizer counted "
        f"{int(optimizer.iterations.numpy())} steps"
    )
    changed = [not np.array_equal(p.numpy(), v) for p, v in zip(params, values, strict=True)]
    assert all(changed), f"every variable should change after one Adam step; changed: {changed}"


@points(1, exercise="train_step")
def test_train_step_one_hot_labels(sub):
    x, y, values = _small_problem(5)
    by_id = [tf.Variable(v) for v in values]
    by_one_hot = [tf.Variable(v) for v in values]
    sub.train_step(x, y, by_id, keras.optimizers.SGD(learning_rate=0.5))
    one_hot = np.eye(3, dtype=np.float32)[y]
    sub.train_step(x, one_hot, by_one_hot, keras.optimizers.SGD(learning_rate=0.5))
    for name, a, b in zip(["W1", "b1", "W2", "b2"], by_id, by_one_hot, strict=True):
        assert np.allclose(a.numpy(), b.numpy(), atol=1e-6), (
            f"train_step with one-hot labels should update {name} exactly as with class ids"
        )
