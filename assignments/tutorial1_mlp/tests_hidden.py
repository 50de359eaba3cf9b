"""Hidden tests of the tutorial 1 assignment: fresh cases, other shapes and dtypes.

Gradients, in-place updates and input mutation are observed by probes (``sub.run``) that run
next to the submission and only report values; expected values and assertions stay here.
The helpers both files use (numpy references, ``_tf``, the probes...) live in
``tests_public.py``, which is beside this file wherever the hidden tests run (pytest puts the
folder on ``sys.path``); only helpers are imported, never ``test_*`` functions.
"""

import numpy as np
from tests_public import (
    NAMES,
    _as_array,
    _check_called,
    _check_forward_gradients,
    _check_generator_draws,
    _check_image_logits,
    _check_losses,
    _check_one_hot,
    _check_prepared,
    _check_scalar_tensor,
    _check_variables,
    _compute_a_gradients,
    _dtype,
    _generator,
    _logits_with_right_answers,
    _loss_gradient,
    _numpy_cross_entropy,
    _numpy_forward,
    _prepare_and_keep_input,
    _random_sizes,
    _repeated_draws,
    _rounded,
    _shape,
    _small_problem,
    _softmax,
    _stand_in_loss_and_grads,
    _tf,
    _train,
)

from tfcourse.grading.points import points

# ---------------------------------------------------------------- compute_a


def _compute_a_after_assign(sub, values, index, new_value, c):
    """Probe: ``compute_a(b, c)`` for an int64 variable ``b`` after ``b[index].assign(...)``."""
    import numpy as np
    import tensorflow as tf

    b = tf.Variable(np.asarray(values, np.int64))
    b[index].assign(new_value)
    return sub.compute_a(b, c)


@points(1, exercise="compute_a")
def test_compute_a_assign_broadcast_and_gradients(sub):
    rng = np.random.default_rng()
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
    # broadcasting: b [n, 1] int32 and c [m] uint8 give a [n, m]
    b = rng.integers(-9, 10, size=(int(rng.integers(2, 5)), 1)).astype(np.int32)
    c = rng.integers(0, 9, size=int(rng.integers(2, 5))).astype(np.uint8)
    expected = (b + c.astype(np.float64)) * (c + 2.0)
    a = sub.compute_a(b, c)
    assert _shape(a) == expected.shape and _dtype(a) == np.float32, (
        f"compute_a of an int32 [{len(b)}, 1] and a uint8 [{len(c)}] array should return a "
        f"float32 {expected.shape} result, got {_dtype(a)} {_shape(a)}"
    )
    assert np.allclose(_as_array(a), expected), (
        f"compute_a({b.tolist()}, {c.tolist()}) should be {expected.tolist()}, "
        f"got {_as_array(a).tolist()}"
    )
    b, c = (float(v) for v in rng.uniform(-5.0, 5.0, size=2).astype(np.float32))
    grads = sub.run(_compute_a_gradients, b, c)
    want = [c + 2.0, b + 2.0 * c + 2.0]
    assert None not in grads and np.allclose(grads, want, atol=1e-4), (
        f"gradients of a at b={b:.4g}, c={c:.4g} should be da/db = {want[0]:.4g} and "
        f"da/dc = {want[1]:.4g}, got {grads[0]} and {grads[1]}"
    )


# ---------------------------------------------------------------- prepare_images


@points(1, exercise="prepare_images")
def test_prepare_images_other_shapes_no_mutation(sub):
    rng = np.random.default_rng()
    h, w = (int(s) for s in rng.integers(9, 20, size=2))
    one = rng.integers(0, 256, size=(1, h, w)).astype(np.uint8)
    out, after = sub.run(_prepare_and_keep_input, one)
    assert after.shape == one.shape and np.array_equal(after, one), (
        f"prepare_images must not modify its input: the [1, {h}, {w}] array it was given came "
        f"back with shape {list(after.shape)}"
    )
    _check_prepared(out, one, f"a single [1, {h}, {w}] image")
    width = int(rng.integers(10, 100))
    flat = rng.integers(0, 256, size=(int(rng.integers(2, 6)), width)).astype(np.uint8)
    _check_prepared(sub.prepare_images(flat), flat, f"already flat {list(flat.shape)} images")
    n = int(rng.integers(2, 6))
    bright = rng.integers(130, 256, size=(n, 28, 28)).astype(np.uint8)
    _check_prepared(sub.prepare_images(bright), bright, f"bright [{n}, 28, 28] images")


# ---------------------------------------------------------------- one_hot


@points(1, exercise="one_hot")
def test_one_hot_uint8_and_num_classes(sub):
    rng = np.random.default_rng()
    random_classes = int(rng.integers(2, 8))
    random_labels = rng.integers(0, random_classes, size=int(rng.integers(3, 12)))
    cases = [(np.array([1, 3, 0, 1]), 4), (random_labels, random_classes)]
    for labels, classes in cases:
        labels = labels.astype(np.uint8)  # MNIST labels are uint8
        out = sub.one_hot(labels, num_classes=classes)
        _check_one_hot(out, labels, classes, f"{labels.tolist()} as uint8")


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
    few = rng.integers(0, 3, size=int(rng.integers(3, 10))).astype(np.int32)  # classes 0..2
    _check_one_hot(sub.one_hot(few, 6), few, 6, f"{few.tolist()} as int32")


# ---------------------------------------------------------------- get_batch


@points(1, exercise="get_batch")
def test_get_batch_images_with_replacement(sub):
    rng = np.random.default_rng()
    n = int(rng.integers(2, 5))
    x = rng.normal(size=(n, 4, 4))  # float64 images: image i is x[i]
    y = rng.choice(np.arange(100, 1000), size=n, replace=False).astype(np.int32)
    batch_size = int(rng.integers(10, 20))
    xb, yb = sub.get_batch(x, y, batch_size, sub.run(_generator, int(rng.integers(2**31))))
    assert _shape(xb) == (batch_size, 4, 4) and _shape(yb) == (batch_size,), (
        f"get_batch of {batch_size} from {n} images should return shapes ({batch_size}, 4, 4) "
        f"and ({batch_size},), got {_shape(xb)} and {_shape(yb)} (draw with replacement)"
    )
    assert _dtype(xb) == np.float64 and _dtype(yb) == np.int32, (
        f"get_batch should keep the dtypes (float64, int32), got ({_dtype(xb)}, {_dtype(yb)})"
    )
    image_of = {int(label): x[i] for i, label in enumerate(y)}
    assert all(
        int(label) in image_of and np.array_equal(image_of[int(label)], image)
        for label, image in zip(yb, xb, strict=True)
    ), "each image of the batch must keep its own label"


@points(1, exercise="get_batch")
def test_get_batch_continues_the_stream(sub):
    x = np.arange(100, dtype=np.float32).reshape(50, 2)
    y = np.arange(50)
    seed = int(np.random.default_rng().integers(2**31))
    ref = np.random.default_rng(seed)
    first, second = ref.integers(0, 50, size=4), ref.integers(0, 50, size=7)
    rng = sub.run(_generator, seed)
    _, y1 = sub.get_batch(x, y, 4, rng)
    _, y2 = sub.get_batch(x, y, 7, rng)
    assert np.array_equal(y1, first) and np.array_equal(y2, second), (
        f"two calls with the same generator should pick {first} then {second}, got {y1} then "
        f"{y2} (use the rng you are given, once per call, and do not re-seed it)"
    )


# ---------------------------------------------------------------- init_params


@points(1, exercise="init_params")
def test_init_params_names(sub):
    rng = np.random.default_rng()
    sizes = tuple(int(s) for s in rng.integers(2, 20, size=3))
    values = _check_variables(sub, sizes, int(rng.integers(1000)))
    flat = [name for name, v in zip(NAMES, values, strict=True) if np.ptp(v) == 0]
    assert not flat, f"init_params{sizes}: {', '.join(flat)} hold no random draws (all equal)"


@points(1, exercise="init_params")
def test_init_params_seeded(sub):
    rng = np.random.default_rng()
    seed, other = (int(s) for s in rng.choice(1000, size=2, replace=False))
    sizes = tuple(int(s) for s in rng.integers([20, 40, 20], [60, 80, 40]))
    a = [_as_array(v) for v in sub.init_params(*sizes, seed=seed)]
    b = [_as_array(v) for v in sub.init_params(*sizes, seed=seed)]
    c = [_as_array(v) for v in sub.init_params(*sizes, seed=other)]
    assert [v.shape for v in a] == [(sizes[0], sizes[1]), (sizes[1],), sizes[1:], (sizes[2],)], (
        f"init_params{sizes} gave shapes {[v.shape for v in a]}"
    )
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True)), (
        f"init_params{sizes} with the same seed should return the same values twice"
    )
    changed = [not np.array_equal(u, v) for u, v in zip(a, c, strict=True)]
    assert all(changed), (
        f"init_params{sizes} with seeds {seed} and {other}: every variable should change with "
        f"the seed; changed: {dict(zip(NAMES, changed, strict=True))}"
    )
    repeated = _repeated_draws(a)
    assert repeated is None, (
        f"{repeated[1]} repeats the random numbers of {repeated[0]} (entry by entry, up to a "
        "scale factor): every variable should get its own fresh draws"
    )
    _check_generator_draws(c, sizes, other)


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
    params = [_tf(v) for v in values]
    inputs = [
        ("uint8 [3, 28, 28] images", images),
        ("int32 [3, 28, 28] images", images.astype(np.int32)),
        ("float64 [3, 784] inputs", flat.astype(np.float64)),
    ]
    for shown, x in inputs:
        logits = sub.forward(x, *params)
        assert _shape(logits) == (3, 10) and _dtype(logits) == np.float32, (
            f"forward on {shown} should flatten them and return float32 logits of shape "
            f"(3, 10), got {_dtype(logits)} {_shape(logits)}"
        )
        _check_image_logits(logits, flat, values, shown)


@points(1, exercise="forward")
def test_forward_gradients_flow(sub):
    rng = np.random.default_rng()
    x, _, values = _small_problem(rng, _random_sizes(rng))
    _check_forward_gradients(sub, x, values)


# ---------------------------------------------------------------- loss_fn


@points(1, exercise="loss_fn")
def test_loss_fn_large_logits_stable(sub):
    # every entry is -1000, 0 or 1000: a naive log(softmax) gives inf or nan here
    rng = np.random.default_rng()
    logits = rng.choice([-1000.0, 0.0, 1000.0], size=(int(rng.integers(4, 9)), 3))
    labels = rng.integers(0, 3, size=len(logits))
    for given in [labels, np.eye(3, dtype=np.float32)[labels]]:
        expected = _numpy_cross_entropy(logits, labels)
        loss = float(sub.loss_fn(_tf(logits), given))
        assert np.isfinite(loss), f"loss_fn overflowed on logits of size 1000: got {loss}"
        assert np.isclose(loss, expected, rtol=1e-5, atol=1e-3), (
            f"loss_fn on logits {logits.tolist()} and labels {given.tolist()} should give "
            f"{expected:.4f}, got {loss}"
        )


@points(1, exercise="loss_fn")
def test_loss_fn_int32_and_uint8_labels(sub):
    rng = np.random.default_rng()
    n = int(rng.integers(10, 30))
    logits = (3.0 * rng.normal(size=(n, 10))).astype(np.float32)
    labels = rng.integers(0, 10, size=n)
    expected = _numpy_cross_entropy(logits, labels)
    for dtype in [np.uint8, np.int32]:
        loss = sub.loss_fn(_tf(logits), labels.astype(dtype))
        assert _dtype(loss) == np.float32, f"loss_fn should return float32, got {_dtype(loss)}"
        assert np.isclose(float(loss), expected, atol=1e-4), (
            f"loss_fn with {np.dtype(dtype).name} labels should give {expected:.5f}, "
            f"got {float(loss):.5f}"
        )


@points(1, exercise="loss_fn")
def test_loss_fn_gradient_is_mean(sub):
    # softmax rows: [1/2, 1/4, 1/4] and [1/8, 2/8, 5/8]; gradient = (softmax - one_hot) / batch
    fixed = np.array([[np.log(2.0), 0.0, 0.0], [0.0, np.log(2.0), np.log(5.0)]], np.float32)
    rng = np.random.default_rng()
    random_logits = (2.0 * rng.normal(size=(int(rng.integers(3, 9)), 4))).astype(np.float32)
    random_labels = rng.integers(0, 4, size=len(random_logits))
    for logits, labels in [(fixed, np.array([0, 2])), (random_logits, random_labels)]:
        one_hot = np.eye(logits.shape[1], dtype=np.float32)[labels]
        grad = sub.run(_loss_gradient, logits, one_hot)
        assert grad is not None, "no gradient flows from loss_fn to the logits"
        expected = (_softmax(logits) - one_hot) / len(labels)
        assert np.allclose(grad, expected, atol=1e-5), (
            f"with one-hot labels, d loss / d logits should be (softmax - one_hot) / batch_size "
            f"= {_rounded(expected, 4)}, got {_rounded(grad, 4)}"
        )


# ---------------------------------------------------------------- accuracy


@points(1, exercise="accuracy")
def test_accuracy_one_hot_labels(sub):
    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.0, 1.0]], np.float32)
    labels = np.array([[0, 1], [0, 1], [0, 1], [1, 0], [1, 0]], np.float32)
    # predictions 1, 0, 1, 0, 1 vs classes 1, 1, 1, 0, 0 -> 3 of 5 right
    acc = sub.accuracy(_tf(logits), labels)
    _check_scalar_tensor(acc, "accuracy with one-hot labels")
    acc = float(acc)
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
    right = sub.accuracy(_tf(logits), labels)
    _check_scalar_tensor(right, "accuracy with uint8 class ids")
    right = float(right)
    assert np.isclose(right, 1.0), f"accuracy should be 1.0 when every row is right, got {right}"
    wrong = float(sub.accuracy(_tf(logits), (labels + 1) % 10))
    assert np.isclose(wrong, 0.0), f"accuracy should be 0.0 when every row is wrong, got {wrong}"


# ---------------------------------------------------------------- train_step


@points(1, exercise="train_step")
def test_train_step_returns_loss_before_update(sub):
    rng = np.random.default_rng()
    x, y, values = _small_problem(rng, _random_sizes(rng))
    report = sub.run(_train, x, y, values, "sgd", 1.0, 2)
    _check_called(report)
    _check_losses(report, x, y, values)


@points(1, exercise="train_step")
def test_train_step_updates_in_place_once(sub):
    rng = np.random.default_rng()
    x, y, values = _small_problem(rng, _random_sizes(rng))
    report = sub.run(_train, x, y, values, "adam", 0.01, 1)
    assert report["same"] is True, (
        "train_step must update the given variables, not replace them in the list"
    )
    assert report["iterations"] == 1, (
        f"one train_step should call optimizer.apply_gradients once; the optimizer counted "
        f"{report['iterations']} steps"
    )
    changed = [not np.array_equal(a, v) for a, v in zip(report["history"][0], values, strict=True)]
    assert all(changed), (
        f"every variable should change after one Adam step; changed: "
        f"{dict(zip(NAMES, changed, strict=True))}"
    )


def _close(a, b):
    """Whether two variable values agree to the tolerance of the train_step tests."""
    return np.allclose(a, b, atol=1e-5)


@points(1, exercise="train_step")
def test_train_step_one_hot_labels(sub):
    rng = np.random.default_rng()
    sizes = _random_sizes(rng)
    x, y, values = _small_problem(rng, sizes)
    one_hot = np.eye(sizes[3], dtype=np.float32)[y]
    _, grads = _stand_in_loss_and_grads(x, one_hot, values)
    expected = [v - 0.5 * g for v, g in zip(values, grads, strict=True)]
    report = sub.run(_train, x, one_hot, values, "sgd", 0.5, 1)
    _check_called(report)
    after = report["history"][0]
    wrong = [n for n, a, e in zip(NAMES, after, expected, strict=True) if not _close(a, e)]
    note = ""
    if wrong:  # does train_step get it right with class ids? Then the labels are the problem
        with_ids = sub.run(_train, x, y, values, "sgd", 0.5, 1)["history"][0]
        if all(_close(a, e) for a, e in zip(with_ids, expected, strict=True)):
            note = " (with class ids they do: pass the labels on to loss_fn as they are)"
    assert not wrong, (
        f"with one-hot labels, one SGD step (lr=0.5) should move each variable to old - lr * "
        f"d loss / d variable; {', '.join(wrong)} ended elsewhere{note}"
    )
