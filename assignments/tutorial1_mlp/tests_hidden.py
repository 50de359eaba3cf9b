"""Hidden tests of the tutorial 1 assignment: edge cases, dtypes, gradients, in-place updates.

Gradients, in-place updates and input mutation are observed by probes (``sub.run``) that run
next to the submission and only report values; expected values and assertions stay here.
The helpers both files use (numpy references, ``_tf``, the ``_train`` probe...) live in
``tests_public.py``, which is beside this file wherever the hidden tests run (pytest puts the
folder on ``sys.path``); only helpers are imported, never ``test_*`` functions.
"""

import numpy as np
from tests_public import (
    NAMES,
    _as_array,
    _dtype,
    _generator,
    _logits_with_right_answers,
    _numpy_cross_entropy,
    _numpy_forward,
    _reference_loss_and_grads,
    _shape,
    _small_problem,
    _softmax,
    _tf,
    _train,
)

from tfcourse.grading.points import points

# ---------------------------------------------------------------- compute_a


def _compute_a_gradients(sub, b, c):
    """Probe: ``[da/db, da/dc]`` (None where no gradient flows) for float32 variables b, c."""
    import tensorflow as tf

    b, c = tf.Variable(b, dtype=tf.float32), tf.Variable(c, dtype=tf.float32)
    with tf.GradientTape() as tape:
        a = sub.compute_a(b, c)
    return [None if g is None else float(g) for g in tape.gradient(a, [b, c])]


def _compute_a_after_assign(sub, values, index, new_value, c):
    """Probe: ``compute_a(b, c)`` for an int64 variable ``b`` after ``b[index].assign(...)``."""
    import numpy as np
    import tensorflow as tf

    b = tf.Variable(np.asarray(values, np.int64))
    b[index].assign(new_value)
    return sub.compute_a(b, c)


@points(1, exercise="compute_a")
def test_compute_a_gradients_and_assign(sub):
    rng = np.random.default_rng()
    random_b, random_c = (float(v) for v in rng.uniform(-3.0, 3.0, size=2).astype(np.float32))
    # da/db = c + 2;  da/dc = (c + 2) + (b + c).   At b = 2, c = 1: 3 and 6
    for b, c in [(2.0, 1.0), (random_b, random_c)]:
        grad_b, grad_c = sub.run(_compute_a_gradients, b, c)
        assert grad_b is not None and grad_c is not None, (
            "no gradient flows from compute_a's result to b and c: use TensorFlow ops, not numpy"
        )
        expected = [c + 2.0, b + 2.0 * c + 2.0]
        assert np.allclose([grad_b, grad_c], expected, atol=1e-5), (
            f"gradients of a at b={b:.4g}, c={c:.4g} should be da/db = {expected[0]:.4g} and "
            f"da/dc = {expected[1]:.4g}, got {grad_b} and {grad_c}"
        )
    # an int64 variable changed in place: b = [0, 10, 2, 3, 4], c = 1 -> (b + 1) * 3
    random_values = rng.integers(-9, 10, size=int(rng.integers(4, 9)))
    random_case = (
        random_values,
        int(rng.integers(len(random_values))),  # index
        int(rng.integers(10, 30)),  # new value
        float(rng.choice([-3, -1, 0, 1, 2, 3])),  # c; not -2, which makes every a_k 0
    )
    for values, index, new_value, c in [(np.arange(5), 1, 10, 1.0), random_case]:
        b = values.copy()
        b[index] = new_value
        expected = (b + c) * (c + 2.0)
        a = _as_array(sub.run(_compute_a_after_assign, values, index, new_value, c))
        assert np.allclose(a, expected), (
            f"compute_a(b, {c:g}) with b = {values.tolist()} after b[{index}].assign({new_value}) "
            f"should be {expected.tolist()}, got {a}"
        )


# ---------------------------------------------------------------- prepare_images


def _prepare_and_keep_input(sub, images):
    """Probe: ``prepare_images(images)`` and the input array as it is afterwards."""
    out = sub.prepare_images(images)
    return out, images


@points(1, exercise="prepare_images")
def test_prepare_images_other_shapes_no_mutation(sub):
    rng = np.random.default_rng()
    n, h, w = (int(s) for s in rng.integers(2, 8, size=3))
    images = rng.integers(0, 256, size=(n, h, w)).astype(np.uint8)
    out, after = sub.run(_prepare_and_keep_input, images)
    shown = f"[{n}, {h}, {w}]"
    assert _shape(out) == (n, h * w), (
        f"prepare_images on {shown} should give ({n}, {h * w}), got {_shape(out)}"
    )
    assert _dtype(out) == np.float32, f"prepare_images should return float32, got {_dtype(out)}"
    assert np.allclose(out, images.reshape(n, h * w) / 255.0, atol=1e-6), (
        f"prepare_images on {shown} images should give pixel / 255, row by row"
    )
    assert np.array_equal(after, images), "prepare_images must not modify its input array"
    flat = rng.integers(0, 256, size=(int(rng.integers(2, 6)), 784)).astype(np.uint8)
    out = sub.prepare_images(flat)
    assert _shape(out) == flat.shape, (
        f"prepare_images on already flat {list(flat.shape)} images should keep shape "
        f"{flat.shape}, got {_shape(out)}"
    )
    assert np.allclose(out, flat / 255.0, atol=1e-6), (
        "prepare_images on flat images should give pixel / 255"
    )


# ---------------------------------------------------------------- one_hot


@points(1, exercise="one_hot")
def test_one_hot_uint8_and_num_classes(sub):
    rng = np.random.default_rng()
    random_classes = int(rng.integers(2, 8))
    random_labels = rng.integers(0, random_classes, size=int(rng.integers(3, 12)))
    cases = [(np.array([1, 3, 0, 1]), 4), (random_labels, random_classes)]
    for labels, classes in cases:
        labels = labels.astype(np.uint8)
        out = _as_array(sub.one_hot(labels, num_classes=classes))  # MNIST labels are uint8
        expected = np.eye(classes, dtype=np.float32)[labels]
        assert out.shape == expected.shape, (
            f"one_hot(..., num_classes={classes}) should have shape {expected.shape}, "
            f"got {out.shape}"
        )
        assert np.array_equal(out, expected), (
            f"one_hot({labels.tolist()} as uint8, {classes}) should be\n{expected}\ngot\n{out}"
        )


@points(1, exercise="one_hot")
def test_one_hot_rows(sub):
    rng = np.random.default_rng()
    n = int(rng.integers(30, 70))
    labels = rng.integers(0, 10, size=n)
    out = _as_array(sub.one_hot(labels))  # default num_classes = 10
    assert out.shape == (n, 10), (
        f"one_hot of {n} labels should have shape ({n}, 10), got {out.shape}"
    )
    assert np.array_equal(out.sum(axis=1), np.ones(n)), "every one-hot row should sum to 1"
    assert np.array_equal(out.argmax(axis=1), labels), "the 1 of row i should sit at labels[i]"


# ---------------------------------------------------------------- get_batch


@points(1, exercise="get_batch")
def test_get_batch_images_with_replacement(sub):
    rng = np.random.default_rng()
    shades = rng.choice(np.arange(1, 256), size=3, replace=False).astype(np.uint8)
    x = np.stack([np.full((28, 28), s, np.uint8) for s in shades])  # image i is all shades[i]
    y = rng.choice(np.arange(10, 250), size=3, replace=False).astype(np.uint8)
    batch_size = int(rng.integers(10, 20))
    xb, yb = sub.get_batch(x, y, batch_size, sub.run(_generator, int(rng.integers(2**31))))
    assert _shape(xb) == (batch_size, 28, 28), (
        f"get_batch of {batch_size} from 3 images should return x of shape "
        f"({batch_size}, 28, 28), got {_shape(xb)} (draw with replacement)"
    )
    assert _shape(yb) == (batch_size,), (
        f"get_batch should return y of shape ({batch_size},), got {_shape(yb)}"
    )
    assert _dtype(xb) == np.uint8 and _dtype(yb) == np.uint8, (
        f"get_batch should keep the dtypes (uint8, uint8), got ({_dtype(xb)}, {_dtype(yb)})"
    )
    shade_of = dict(zip(y.tolist(), shades.tolist(), strict=True))
    assert all(
        shade_of.get(int(label)) == int(px) for label, px in zip(yb, xb[:, 5, 5], strict=True)
    ), "each image of the batch must keep its own label"


@points(1, exercise="get_batch")
def test_get_batch_continues_the_stream(sub):
    x = np.arange(100, dtype=np.float32).reshape(50, 2)
    y = np.arange(50)
    seed = int(np.random.default_rng().integers(2**31))
    ref = np.random.default_rng(seed)
    first, second = ref.integers(0, 50, size=4), ref.integers(0, 50, size=4)
    rng = sub.run(_generator, seed)
    _, y1 = sub.get_batch(x, y, 4, rng)
    _, y2 = sub.get_batch(x, y, 4, rng)
    assert np.array_equal(y1, first) and np.array_equal(y2, second), (
        f"two calls with the same generator should pick {first} then {second}, got {y1} then "
        f"{y2} (use the rng you are given, once per call, and do not re-seed it)"
    )


# ---------------------------------------------------------------- init_params


def _variable_names(sub, n_in, n_hidden, n_out, seed):
    """Probe: ``(name, shape)`` of each variable ``init_params`` returns (None: no name)."""
    params = sub.init_params(n_in, n_hidden, n_out, seed=seed)
    return [(getattr(v, "name", None), tuple(getattr(v, "shape", ()))) for v in params]


@points(1, exercise="init_params")
def test_init_params_names(sub):
    rng = np.random.default_rng()
    n_in, n_hidden, n_out = (int(s) for s in rng.integers(2, 20, size=3))
    found = sub.run(_variable_names, n_in, n_hidden, n_out, int(rng.integers(1000)))
    assert len(found) == 4, f"init_params should return [W1, b1, W2, b2], got {len(found)} items"
    shapes = [(n_in, n_hidden), (n_hidden,), (n_hidden, n_out), (n_out,)]
    for expected, (name, shape), want in zip(NAMES, found, shapes, strict=True):
        short = str(name).split(":")[0].split("/")[-1]
        assert short == expected, f"variable should be named {expected!r}, got {name!r}"
        assert tuple(int(s) for s in shape) == want, (
            f"init_params({n_in}, {n_hidden}, {n_out}): {expected} should have shape {want}, "
            f"got {tuple(shape)}"
        )


@points(1, exercise="init_params")
def test_init_params_seeded(sub):
    rng = np.random.default_rng()
    seed, other = (int(s) for s in rng.choice(1000, size=2, replace=False))
    n_in, n_hidden, n_out = (int(s) for s in rng.integers(2, 20, size=3))
    a = [_as_array(v) for v in sub.init_params(n_in, n_hidden, n_out, seed=seed)]
    b = [_as_array(v) for v in sub.init_params(n_in, n_hidden, n_out, seed=seed)]
    c = [_as_array(v) for v in sub.init_params(n_in, n_hidden, n_out, seed=other)]
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True)), (
        "init_params with the same seed should return the same values twice "
        "(use tf.random.Generator.from_seed(seed))"
    )
    assert not np.array_equal(a[0], c[0]), (
        f"init_params with seeds {seed} and {other} gave the same W1"
    )
    shapes = [tuple(v.shape) for v in a]
    want = [(n_in, n_hidden), (n_hidden,), (n_hidden, n_out), (n_out,)]
    assert shapes == want, (
        f"init_params({n_in}, {n_hidden}, {n_out}) should give shapes {want}, got {shapes}"
    )


# ---------------------------------------------------------------- forward


@points(1, exercise="forward")
def test_forward_matches_numpy(sub):
    rng = np.random.default_rng()
    batch = int(rng.integers(2, 9))
    x = rng.random((batch, 784)).astype(np.float32)
    values = [
        (0.03 * rng.normal(size=(784, 300))).astype(np.float32),
        rng.normal(size=300).astype(np.float32),
        (0.03 * rng.normal(size=(300, 10))).astype(np.float32),
        rng.normal(size=10).astype(np.float32),
    ]
    expected = _numpy_forward(x, *values)
    logits = _as_array(sub.forward(x, *(_tf(v) for v in values)))
    assert logits.shape == (batch, 10), (
        f"forward should return shape ({batch}, 10), got {logits.shape}"
    )
    assert np.allclose(logits, expected, atol=1e-4), (
        f"forward differs from relu(x @ W1 + b1) @ W2 + b2 by up to "
        f"{np.abs(logits - expected).max():.2e}"
    )


@points(1, exercise="forward")
def test_forward_images_and_dtypes(sub):
    rng = np.random.default_rng()
    images = rng.integers(0, 256, size=(3, 28, 28)).astype(np.uint8)
    values = [
        (0.001 * rng.normal(size=(784, 4))).astype(np.float32),
        np.zeros(4, np.float32),
        rng.normal(size=(4, 10)).astype(np.float32),
        np.zeros(10, np.float32),
    ]
    flat = images.reshape(3, 784).astype(np.float32)
    expected = _numpy_forward(flat, *values)
    params = [_tf(v) for v in values]
    from_uint8 = _as_array(sub.forward(images, *params))
    assert from_uint8.shape == (3, 10), (
        f"forward on [3, 28, 28] uint8 images should flatten them and return (3, 10), "
        f"got {from_uint8.shape}"
    )
    assert np.allclose(from_uint8, expected, atol=1e-3), (
        "forward on uint8 images gives wrong logits (cast to float32, do not rescale)"
    )
    from_float64 = sub.forward(images.reshape(3, 784).astype(np.float64), *params)
    assert _dtype(from_float64) == np.float32, (
        f"forward on float64 input should cast to float32, got {_dtype(from_float64)}"
    )
    assert np.allclose(_as_array(from_float64), expected, atol=1e-3), (
        "forward on float64 input gives wrong logits"
    )


def _forward_gradients(sub, x, values):
    """Probe: gradients of ``sum(forward(x, *params))`` for each parameter (None: no gradient)."""
    import tensorflow as tf

    params = [tf.Variable(v) for v in values]
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(sub.forward(x, *params))
    return [None if g is None else g.numpy() for g in tape.gradient(total, params)]


@points(1, exercise="forward")
def test_forward_gradients_flow(sub):
    rng = np.random.default_rng()
    _, _, values = _small_problem(rng)
    batch = int(rng.integers(2, 9))
    x = rng.normal(size=(batch, 6)).astype(np.float32)
    grads = sub.run(_forward_gradients, x, values)
    missing = [n for n, g in zip(NAMES, grads, strict=True) if g is None]
    assert not missing, f"no gradient reaches {missing}: keep the forward pass in TensorFlow"
    # d(sum of logits)/db2 = number of rows for every class
    assert np.allclose(grads[3], batch), (
        f"d(sum of logits)/d b2 should be {batch} (the batch size) everywhere, got {grads[3]}"
    )
    W1, b1, W2, _ = (np.asarray(v, np.float64) for v in values)
    z1 = x @ W1 + b1
    active = x @ values[0] + values[1] > 0  # in float32, as TensorFlow decides it
    d_z1 = np.ones((batch, W2.shape[1])) @ W2.T * active
    expected = [x.T @ d_z1, d_z1.sum(axis=0), np.maximum(z1, 0.0).T @ np.ones((batch, 3))]
    for name, g, e in zip(NAMES, grads, expected, strict=False):
        assert np.allclose(g, e, atol=1e-4), (
            f"d(sum of logits)/d {name} differs from relu(x @ W1 + b1) @ W2 + b2's by up to "
            f"{np.abs(np.asarray(g) - e).max():.2e}"
        )


# ---------------------------------------------------------------- loss_fn


@points(1, exercise="loss_fn")
def test_loss_fn_large_logits_stable(sub):
    # sample 1: true class has the huge logit -> loss 0; sample 2: true class 0 is 1000 below
    # the other -> loss 1000; mean = 500. A naive log(softmax) gives inf or nan here.
    rng = np.random.default_rng()
    logits = rng.choice([-1000.0, 0.0, 1000.0], size=(int(rng.integers(4, 9)), 3))
    labels = rng.integers(0, 3, size=len(logits))
    cases = [
        (np.array([[1000.0, 0.0], [0.0, 1000.0]]), np.array([0, 0]), 500.0),
        (logits, labels, _numpy_cross_entropy(logits, labels)),
    ]
    for logits, labels, expected in cases:
        loss = float(sub.loss_fn(_tf(logits), labels))
        assert np.isfinite(loss), f"loss_fn overflowed on logits of size 1000: got {loss}"
        assert np.isclose(loss, expected, rtol=1e-5, atol=1e-3), (
            f"loss_fn on logits {logits.tolist()} and labels {labels.tolist()} should give "
            f"{expected:.4f}, got {loss}"
        )


@points(1, exercise="loss_fn")
def test_loss_fn_uint8_labels_match_reference(sub):
    rng = np.random.default_rng()
    logits = (3.0 * rng.normal(size=(16, 10))).astype(np.float32)
    labels = rng.integers(0, 10, size=16).astype(np.uint8)  # MNIST labels are uint8
    expected = _numpy_cross_entropy(logits, labels)
    loss = sub.loss_fn(_tf(logits), labels)
    assert _dtype(loss) == np.float32, f"loss_fn should return float32, got {_dtype(loss)}"
    assert np.isclose(float(loss), expected, atol=1e-4), (
        f"loss_fn with uint8 labels should give {expected:.5f}, got {float(loss):.5f}"
    )


def _loss_gradient(sub, logits, labels):
    """Probe: d loss_fn(logits, labels) / d logits, for logits held in a variable (or None)."""
    import tensorflow as tf

    logits = tf.Variable(logits, dtype=tf.float32)
    with tf.GradientTape() as tape:
        loss = sub.loss_fn(logits, labels)
    grad = tape.gradient(loss, logits)
    return None if grad is None else grad.numpy()


@points(1, exercise="loss_fn")
def test_loss_fn_gradient_is_mean(sub):
    # softmax rows: [1/2, 1/4, 1/4] and [1/8, 2/8, 5/8]; gradient = (softmax - one_hot) / batch
    fixed = np.array([[np.log(2.0), 0.0, 0.0], [0.0, np.log(2.0), np.log(5.0)]], np.float32)
    rng = np.random.default_rng()
    random_logits = (2.0 * rng.normal(size=(int(rng.integers(3, 9)), 4))).astype(np.float32)
    random_labels = rng.integers(0, 4, size=len(random_logits))
    for logits, labels in [(fixed, np.array([0, 2])), (random_logits, random_labels)]:
        grad = sub.run(_loss_gradient, logits, labels)
        assert grad is not None, "no gradient flows from loss_fn to the logits"
        one_hot = np.eye(logits.shape[1])[labels]
        expected = (_softmax(logits) - one_hot) / len(labels)
        assert np.allclose(grad, expected, atol=1e-5), (
            f"d loss / d logits should be (softmax - one_hot) / batch_size = "
            f"{np.round(expected, 4).tolist()}, got {np.round(grad, 4).tolist()} "
            "(is the loss the mean over the batch?)"
        )


# ---------------------------------------------------------------- accuracy


@points(1, exercise="accuracy")
def test_accuracy_one_hot_labels(sub):
    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.0, 1.0]], np.float32)
    labels = np.array([[0, 1], [0, 1], [0, 1], [1, 0], [1, 0]], np.float32)
    # predictions 1, 0, 1, 0, 1 vs classes 1, 1, 1, 0, 0 -> 3 of 5 right
    acc = float(sub.accuracy(_tf(logits), labels))
    assert np.isclose(acc, 0.6), f"accuracy with one-hot labels should be 0.6, got {acc}"
    rng = np.random.default_rng()
    right = int(rng.choice([r for r in range(21) if r != 12]))  # any fraction but 0.6
    logits, classes = _logits_with_right_answers(rng, 20, 4, right)
    acc = float(sub.accuracy(_tf(logits), np.eye(4, dtype=np.float32)[classes]))
    assert np.isclose(acc, right / 20), (
        f"accuracy with one-hot labels should be {right / 20:g} ({right} of 20 right), got {acc}"
    )


@points(1, exercise="accuracy")
def test_accuracy_extremes_uint8(sub):
    rng = np.random.default_rng()
    labels = rng.integers(0, 10, size=20).astype(np.uint8)
    logits = rng.normal(size=(20, 10)).astype(np.float32)
    logits[np.arange(20), labels] = 10.0  # the true class always wins
    right = float(sub.accuracy(_tf(logits), labels))
    assert np.isclose(right, 1.0), f"accuracy should be 1.0 when every row is right, got {right}"
    wrong = float(sub.accuracy(_tf(logits), (labels + 1) % 10))
    assert np.isclose(wrong, 0.0), f"accuracy should be 0.0 when every row is wrong, got {wrong}"


# ---------------------------------------------------------------- train_step


@points(1, exercise="train_step")
def test_train_step_returns_loss_before_update(sub):
    x, y, values = _small_problem(np.random.default_rng())
    expected = _numpy_cross_entropy(_numpy_forward(x, *values), y)
    (loss,) = sub.run(_train, x, y, values, "sgd", 1.0, 1)["losses"]
    assert _shape(loss) == (), f"train_step should return a scalar loss, got shape {_shape(loss)}"
    assert np.isclose(float(loss), expected, atol=1e-5), (
        f"train_step should return the loss before the update, {expected:.5f}; "
        f"got {float(loss):.5f}"
    )


@points(1, exercise="train_step")
def test_train_step_updates_in_place_once(sub):
    x, y, values = _small_problem(np.random.default_rng())
    report = sub.run(_train, x, y, values, "adam", 0.01, 1)
    assert report["same"] is True, (
        "train_step must update the given variables, not replace them in the list"
    )
    assert report["iterations"] == 1, (
        f"one train_step should call optimizer.apply_gradients once; the optimizer counted "
        f"{report['iterations']} steps"
    )
    changed = [not np.array_equal(a, v) for a, v in zip(report["values"], values, strict=True)]
    assert all(changed), f"every variable should change after one Adam step; changed: {changed}"


@points(1, exercise="train_step")
def test_train_step_one_hot_labels(sub):
    x, y, values = _small_problem(np.random.default_rng())
    _, grads = _reference_loss_and_grads(x, y, values)
    expected = [v - 0.5 * g for v, g in zip(values, grads, strict=True)]  # SGD with class ids
    one_hot = np.eye(3, dtype=np.float32)[y]
    after = sub.run(_train, x, one_hot, values, "sgd", 0.5, 1)["values"]
    for name, a, b in zip(NAMES, after, expected, strict=True):
        assert np.allclose(a, b, atol=1e-5), (
            f"train_step with one-hot labels should update {name} exactly as with class ids"
        )
