"""Public tests of the tutorial 1 assignment (students see these; run them with check(...)).

``sub`` is your submission: ``sub.forward(x, ...)`` runs your ``forward`` and gives back its
result as data (a tensor comes back as an array that remembers it was a tensor). Checks that
need your objects alive (variables updated by ``train_step``, a random generator drawn from
twice, gradients) run in small probe functions (``sub.run(_probe, ...)``) that only report
values; every comparison happens here. Every test draws fresh random inputs on every run.

The ``train_step`` tests check ``train_step`` alone: while they run, your ``forward`` and
``loss_fn`` are swapped for simple stand-ins (a tanh hidden layer and a squared error), so a
mistake in those two costs points only in their own tests.
"""

import itertools

import numpy as np

from tfcourse.grading.codec import Handle, RemoteArray, is_tensor, is_variable
from tfcourse.grading.points import points
from tfcourse.grading.session import OutOfTime, StudentError, WorkerLost

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
    if isinstance(value, np.generic):
        return f"numpy.{type(value).__name__}"
    return value.type if isinstance(value, Handle) else type(value).__name__


def _described(value):
    """``value``'s type, with its dtype and shape when it has them (for messages)."""
    if isinstance(value, np.ndarray):
        return f"a {value.dtype.name} {_type_name(value)} of shape {value.shape}"
    return f"a {_type_name(value)}"


def _check_scalar_tensor(value, call):
    """Assert that ``value``, what ``call`` returned, is a scalar float32 tf.Tensor."""
    assert is_tensor(value) and _shape(value) == () and _dtype(value) == np.float32, (
        f"{call} should return a scalar float32 tf.Tensor, got {_described(value)}"
    )


def _each(*calls):
    """The results of ``calls`` (functions of no argument), in order.

    Every call is made before any result is looked at, so that when an early answer is wrong
    the later ones are still on record for the diagnosis of known mistakes; an error that a
    call raised is raised again when its turn comes.
    """
    __tracebackhide__ = True  # a failure shows the test's line, not this helper's
    done = []
    for call in calls:
        try:
            done.append((call(), None))
        except (OutOfTime, WorkerLost):
            raise
        except StudentError as exc:
            done.append((None, exc))
    for value, error in done:
        if error is not None:
            raise error
        yield value


def _dtype(value):
    return np.asarray(value).dtype


def _shape(value):
    return tuple(np.shape(value)) if not isinstance(value, Handle) else None


def _small_problem(rng, sizes=(8, 6, 5, 3)):
    """A network of ``n_in`` inputs, ``n_hidden`` hidden units and ``classes`` outputs, and a
    batch of ``n`` samples (all float32); ``sizes`` is ``(n, n_in, n_hidden, classes)``."""
    n, n_in, n_hidden, classes = sizes
    x = rng.normal(size=(n, n_in)).astype(np.float32)
    y = rng.integers(0, classes, size=n).astype(np.int64)
    values = [
        (0.5 * rng.normal(size=(n_in, n_hidden))).astype(np.float32),
        (0.1 * rng.normal(size=n_hidden)).astype(np.float32),
        (0.5 * rng.normal(size=(n_hidden, classes))).astype(np.float32),
        (0.1 * rng.normal(size=classes)).astype(np.float32),
    ]
    return x, y, values


def _random_sizes(rng):
    """``(n, n_in, n_hidden, classes)`` for :func:`_small_problem`, each drawn at random."""
    return tuple(int(s) for s in rng.integers([1, 2, 2, 2], [12, 10, 10, 7]))


def _numpy_forward(x, W1, b1, W2, b2):
    return np.maximum(x @ W1 + b1, 0.0) @ W2 + b2


def _numpy_cross_entropy(logits, labels):
    """Mean of log(sum(exp(logits))) - logit of the true class, computed stably in float64."""
    logits = np.asarray(logits, np.float64)
    labels = np.asarray(labels, np.int64)
    top = logits.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
    return float(np.mean(log_norm - logits[np.arange(len(labels)), labels]))


def _softmax(logits):
    """Row-wise softmax of ``[n, classes]`` logits, in float64."""
    logits = np.asarray(logits, np.float64)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _rounded(values, decimals):
    """``values`` as nested lists of numbers rounded for a message."""
    return np.round(np.asarray(values, np.float64), decimals).tolist()


def _first_wrong(out, expected, atol=1e-6):
    """The index of the first entry of ``out`` that differs from ``expected``, or None."""
    wrong = np.argwhere(~np.isclose(out, expected, atol=atol))
    return tuple(int(i) for i in wrong[0]) if len(wrong) else None


# ---------------------------------------------------------------- compute_a


def _compute_a_gradients(sub, b, c):
    """Probe: ``[da/db, da/dc]`` (None where no gradient flows) for float32 variables b, c."""
    import tensorflow as tf

    b, c = tf.Variable(b, dtype=tf.float32), tf.Variable(c, dtype=tf.float32)
    with tf.GradientTape() as tape:
        a = sub.compute_a(b, c)
    return [None if g is None else float(g) for g in tape.gradient(a, [b, c])]


@points(1, exercise="compute_a")
def test_compute_a_scalars_and_gradients(sub):
    # b = 2, c = 1: d = 3, e = 3, a = 9.   da/db = c + 2 = 3, da/dc = (c + 2) + (b + c) = 6
    a = sub.compute_a(2.0, 1.0)
    assert is_tensor(a), f"compute_a should return a tf.Tensor, got {_type_name(a)}"
    assert np.isclose(float(a), 9.0), f"compute_a(2.0, 1.0) should be 9.0, got {float(a)}"
    assert _dtype(a) == np.float32, f"compute_a should return float32, got {_dtype(a)}"
    rng = np.random.default_rng()
    random_b, random_c = (float(v) for v in rng.uniform(-3.0, 3.0, size=2).astype(np.float32))
    for b, c in [(2.0, 1.0), (random_b, random_c)]:
        expected = (b + c) * (c + 2.0)
        a = sub.compute_a(_tf(b, kind="variable"), _tf(c, kind="variable"))
        assert np.isclose(float(a), expected, rtol=1e-5, atol=1e-5), (
            f"compute_a({b:.4f}, {c:.4f}) on float32 variables should be {expected:.5f}, "
            f"got {float(a)}"
        )
        grad_b, grad_c = sub.run(_compute_a_gradients, b, c)
        assert grad_b is not None and grad_c is not None, (
            "no gradient flows from compute_a's result back to b and c: compute it with "
            "TensorFlow operations only (no numpy, no .numpy())"
        )
        want = [c + 2.0, b + 2.0 * c + 2.0]
        assert np.allclose([grad_b, grad_c], want, atol=1e-4), (
            f"gradients of a at b={b:.4g}, c={c:.4g} should be da/db = {want[0]:.4g} and "
            f"da/dc = {want[1]:.4g}, got {grad_b} and {grad_c}"
        )


@points(1, exercise="compute_a")
def test_compute_a_integer_and_float64_inputs(sub):
    # b = [0, 1, ..., 9] (int64), c = 1: a_k = (k + 1) * 3 = [3, 6, ..., 30]
    rng = np.random.default_rng()
    n = int(rng.integers(4, 12))
    b = rng.integers(-20, 20, size=n)
    c = float(np.float32(rng.uniform(-3.0, 3.0)))
    ints_c = rng.integers(-5, 5, size=n)
    floats = rng.uniform(-3.0, 3.0, size=(2, n))  # float64
    cases = [
        ("np.arange(10) (int64), 1.0", np.arange(10), 1.0),
        (f"{b.tolist()} (int64 array), {c:.4f}", b, c),
        (
            f"{b.tolist()} (int64 tensor), {ints_c.tolist()} (int32 tensor)",
            _tf(b, np.int64),
            _tf(ints_c, np.int32),
        ),
        ("two float64 arrays", floats[0], floats[1]),
    ]
    for shown, b, c in cases:
        a = sub.compute_a(b, c)
        plain_b, plain_c = np.asarray(b, np.float64), np.asarray(c, np.float64)
        expected = (plain_b + plain_c) * (plain_c + 2.0)
        assert _dtype(a) == np.float32, (
            f"compute_a({shown}) should return float32, got {_dtype(a).name}"
        )
        assert _shape(a) == expected.shape, (
            f"compute_a({shown}) should return shape {expected.shape}, got {_shape(a)}"
        )
        assert np.allclose(_as_array(a), expected, rtol=1e-5, atol=1e-4), (
            f"compute_a({shown}) should be {_rounded(expected, 4)}, got {_rounded(_as_array(a), 4)}"
        )


# ---------------------------------------------------------------- prepare_images


def _prepare_and_keep_input(sub, images):
    """Probe: ``prepare_images(images)`` and the input array as it is afterwards."""
    out = sub.prepare_images(images)
    return out, images


def _check_prepared(out, images, shown):
    """Assert that ``out`` is ``images`` flattened row by row and scaled to [0, 1]."""
    n = len(images)
    expected = images.reshape(n, -1).astype(np.float64) / 255.0
    assert isinstance(out, np.ndarray) and not is_tensor(out), (
        f"prepare_images should return a numpy array, got {_type_name(out)}"
    )
    assert out.shape == expected.shape, (
        f"prepare_images on {shown} should return shape {expected.shape}, got {out.shape}"
    )
    assert out.dtype == np.float32, (
        f"prepare_images on {shown} should return float32, got {out.dtype}"
    )
    wrong = _first_wrong(out, expected)
    assert wrong is None, (
        f"prepare_images on {shown}: entry {wrong} should be {expected[wrong]:.4f} "
        f"(pixel {images.reshape(n, -1)[wrong]} / 255), got {out[wrong]:.4f} "
        "(scale by 1/255 and flatten each image row by row)"
    )


@points(1, exercise="prepare_images")
def test_prepare_images_values(sub):
    images = np.zeros((2, 28, 28), np.uint8)
    images[0, 0, 0] = 255  # -> row 0, column 0:              255 / 255 = 1.0
    images[0, 0, 1] = 51  # -> row 0, column 1:               51 / 255 = 0.2
    images[0, 1, 0] = 102  # -> row 0, column 1 * 28 + 0 = 28: 102 / 255 = 0.4
    images[1, 27, 27] = 153  # -> row 1, column 783:           153 / 255 = 0.6
    rng = np.random.default_rng()
    mnist = rng.integers(0, 256, size=(int(rng.integers(2, 6)), 28, 28)).astype(np.uint8)
    n, h, w = (int(s) for s in rng.integers([2, 2, 2], [6, 9, 9]))
    dark = rng.integers(10, 120, size=(n, h, w)).astype(np.uint8)  # a dim batch, no 0 or 255
    h1, w1 = (int(s) for s in rng.integers(1, 5, size=2))
    one = rng.integers(0, 256, size=(1, h1, w1)).astype(np.uint8)  # a batch of one small image
    cases = [
        ("the hand-made [2, 28, 28] images", images),
        (f"random [{len(mnist)}, 28, 28] uint8 images", mnist),
        (f"dim [{n}, {h}, {w}] uint8 images with pixels 10..119", dark),
        (f"a single [1, {h1}, {w1}] image", one),
    ]
    outs = _each(*(lambda x=x: sub.prepare_images(x) for _, x in cases))
    for (shown, images), out in zip(cases, outs, strict=True):
        _check_prepared(out, images, shown)


@points(1, exercise="prepare_images")
def test_prepare_images_keeps_its_input(sub):
    rng = np.random.default_rng()
    n, h, w = (int(s) for s in rng.integers([2, 2, 2], [6, 9, 9]))
    images = rng.integers(0, 256, size=(n, h, w)).astype(np.uint8)
    out, after = sub.run(_prepare_and_keep_input, images)
    assert after.shape == images.shape and np.array_equal(after, images), (
        f"prepare_images must not modify its input: the [{n}, {h}, {w}] array it was given "
        f"came back with shape {list(after.shape)} (make a new array instead)"
    )
    _check_prepared(out, images, f"[{n}, {h}, {w}] uint8 images")
    flat = rng.integers(0, 256, size=(int(rng.integers(2, 6)), 784)).astype(np.uint8)
    _check_prepared(sub.prepare_images(flat), flat, f"already flat {list(flat.shape)} images")


# ---------------------------------------------------------------- one_hot


def _check_one_hot(out, labels, classes, shown):
    """Assert that ``out`` is the ``float32`` one-hot encoding of ``labels``."""
    out = _as_array(out)
    expected = np.eye(classes, dtype=np.float32)[np.asarray(labels, np.int64)]
    assert out.shape == expected.shape, (
        f"one_hot({shown}, {classes}) should have shape {expected.shape} (a row per label, "
        f"a column per class), got {out.shape}"
    )
    assert out.dtype == np.float32, f"one_hot should return float32, got {out.dtype}"
    assert np.array_equal(out, expected), (
        f"one_hot({shown}, {classes}) should be\n{expected}\ngot\n{out}"
    )


@points(1, exercise="one_hot")
def test_one_hot_small(sub):
    rng = np.random.default_rng()
    classes = int(rng.integers(4, 11))
    absent_top = rng.integers(0, classes - 1, size=int(rng.integers(5, 20)))  # no class c-1
    other = int(rng.integers(3, 9))
    mnist_like = rng.integers(0, other, size=int(rng.integers(5, 20))).astype(np.uint8)
    single = rng.integers(0, other, size=1)  # a batch of one label: still one row
    cases = [
        (mnist_like, other, f"{mnist_like.tolist()} as uint8"),
        (np.array([3, 0, 9]), 10, "[3, 0, 9]"),
        (absent_top, classes, str(absent_top.tolist())),
        (single, other, f"the single label {single.tolist()}"),
    ]
    outs = _each(*(lambda y=y, k=k: sub.one_hot(y, k) for y, k, _ in cases))
    for (labels, classes, shown), out in zip(cases, outs, strict=True):
        _check_one_hot(out, labels, classes, shown)


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
    for batch_size in [1, *rng.choice(np.arange(3, 13), size=2, replace=False)]:
        generator = sub.run(_generator, int(rng.integers(2**31)))
        xb, yb = sub.get_batch(x, y, int(batch_size), generator)
        assert _shape(xb) == (batch_size, 784) and _shape(yb) == (batch_size,), (
            f"get_batch of {batch_size} should return x of shape ({batch_size}, 784) and y of "
            f"shape ({batch_size},), got {_shape(xb)} and {_shape(yb)}"
        )
        assert _dtype(xb) == np.float32, f"x_batch should keep dtype float32, got {_dtype(xb)}"
        assert np.isin(yb, y).all(), f"y_batch should hold labels taken from y, got {yb}"
        assert np.array_equal(xb, x[row_of_label[np.asarray(yb, np.int64)]]), (
            "each x_batch row must belong to its label: x_batch[k] should be the row of x "
            f"whose label is y_batch[k] (labels {yb})"
        )
    # three uint8 images, each a single shade, and more samples than images
    shades = rng.choice(np.arange(1, 256), size=3, replace=False).astype(np.uint8)
    images = np.stack([np.full((28, 28), s, np.uint8) for s in shades])
    labels = rng.choice(np.arange(10, 250), size=3, replace=False).astype(np.uint8)
    batch_size = int(rng.integers(5, 12))
    xb, yb = sub.get_batch(images, labels, batch_size, sub.run(_generator, int(rng.integers(9))))
    assert _shape(xb) == (batch_size, 28, 28), (
        f"get_batch of {batch_size} from 3 images should return x of shape "
        f"({batch_size}, 28, 28), got {_shape(xb)} (samples may repeat)"
    )
    assert _dtype(xb) == np.uint8 and _dtype(yb) == np.uint8, (
        f"get_batch should keep the dtypes of x and y (uint8, uint8), got "
        f"({_dtype(xb)}, {_dtype(yb)})"
    )
    shade_of = dict(zip(labels.tolist(), shades.tolist(), strict=True))
    assert all(
        shade_of.get(int(label)) == int(px) for label, px in zip(yb, xb[:, 5, 5], strict=True)
    ), "each image of the batch must keep its own label"


@points(1, exercise="get_batch")
def test_get_batch_uses_the_generator(sub):
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    for seed in [42, int(np.random.default_rng().integers(2**31))]:
        ref = np.random.default_rng(seed)
        first, second = ref.integers(0, 10, size=6), ref.integers(0, 10, size=6)
        rng = sub.run(_generator, seed)
        _, y1 = sub.get_batch(x, y, 6, rng)
        assert np.array_equal(y1, first), (
            f"with rng = np.random.default_rng({seed}) get_batch of 6 out of 10 should pick "
            f"indices {first} (one call rng.integers(0, n, size=batch_size)), got {y1}"
        )
        _, y2 = sub.get_batch(x, y, 6, rng)
        assert np.array_equal(y2, second), (
            f"a second call with the same generator should continue its stream and pick "
            f"{second}, got {y2} (use the rng you are given, once per call)"
        )


# ---------------------------------------------------------------- init_params


def _variable_names(sub, n_in, n_hidden, n_out, seed):
    """Probe: ``(name, shape)`` of each variable ``init_params`` returns (None: no name)."""
    params = sub.init_params(n_in, n_hidden, n_out, seed=seed)
    return [(getattr(v, "name", None), tuple(getattr(v, "shape", ()))) for v in params]


def _check_variables(sub, sizes, seed):
    """Assert that ``init_params(*sizes, seed)`` returns four float32 variables with the right
    names and shapes; return their values."""
    n_in, n_hidden, n_out = sizes
    call = f"init_params({n_in}, {n_hidden}, {n_out}, seed={seed})"
    params = sub.init_params(n_in, n_hidden, n_out, seed=seed)
    assert len(params) == 4, f"{call} should return [W1, b1, W2, b2], got {len(params)} items"
    shapes = [(n_in, n_hidden), (n_hidden,), (n_hidden, n_out), (n_out,)]
    found = sub.run(_variable_names, n_in, n_hidden, n_out, seed)
    for expected, v, shape, (name, _) in zip(NAMES, params, shapes, found, strict=True):
        assert is_variable(v), f"{expected} should be a tf.Variable, got {_type_name(v)}"
        assert _shape(v) == shape, f"{call}: {expected} should have shape {shape}, got {_shape(v)}"
        assert v.dtype == np.float32, f"{expected} should be float32, got {v.dtype.name}"
        short = str(name).split(":")[0].split("/")[-1]
        assert short == expected, f"{call}: variable should be named {expected!r}, got {name!r}"
    return [_as_array(v) for v in params]


_PHILOX_M = (np.uint64(0xD2511F53), np.uint64(0xCD9E8D57))
_PHILOX_W = (0x9E3779B9, 0xBB67AE85)


def _generator_normal(seed, sizes):
    """The draws of ``g = tf.random.Generator.from_seed(seed)``: ``g.normal([size])`` for each
    size in turn, as float32 arrays.

    TensorFlow's Philox-4x32-10 generator and its Box-Muller transform, written out in numpy so
    that no TensorFlow runs in the grader's process (equal to TensorFlow's draws up to float32
    rounding). ``from_seed`` puts the seed in the 128-bit counter and 0 in the key; a draw of
    ``size`` numbers reads one counter value per 4 numbers and then moves the counter on by
    ``256 * size``. Seeds and sizes here keep the counter below 2**64.
    """
    mask, counter, out = np.uint64(0xFFFFFFFF), int(seed), []
    for size in sizes:
        c = np.uint64(counter) + np.arange(-(-size // 4), dtype=np.uint64)
        x = [c & mask, c >> np.uint64(32), np.zeros_like(c), np.zeros_like(c)]
        k0, k1 = 0, 0
        for _ in range(10):
            p0, p1 = _PHILOX_M[0] * x[0], _PHILOX_M[1] * x[2]
            x = [
                (p1 >> np.uint64(32)) ^ x[1] ^ np.uint64(k0),
                p1 & mask,
                (p0 >> np.uint64(32)) ^ x[3] ^ np.uint64(k1),
                p0 & mask,
            ]
            k0, k1 = (k0 + _PHILOX_W[0]) & 0xFFFFFFFF, (k1 + _PHILOX_W[1]) & 0xFFFFFFFF
        bits = np.stack(x, axis=1).astype(np.uint32).ravel()
        u = ((bits & np.uint32(0x7FFFFF)) | np.uint32(127 << 23)).view(np.float32) - np.float32(1)
        radius = np.sqrt(np.float32(-2) * np.log(np.maximum(u[0::2], np.float32(1e-7))))
        angle = np.float32(2 * np.pi) * u[1::2]
        normal = np.stack([np.sin(angle) * radius, np.cos(angle) * radius], axis=1).ravel()
        out.append(normal[:size])
        counter += 256 * size
    return out


STDDEVS = [0.03, 1.0, 0.03, 1.0]  # of W1, b1, W2, b2


def _generator_values(sizes, seed, order):
    """W1, b1, W2, b2 as ``tf.random.Generator.from_seed(seed)`` draws them when its normal
    method is called once per variable, in ``order`` (indices into [W1, b1, W2, b2])."""
    n_in, n_hidden, n_out = sizes
    shapes = [(n_in, n_hidden), (n_hidden,), (n_hidden, n_out), (n_out,)]
    draws = _generator_normal(seed, [int(np.prod(shapes[i])) for i in order])
    values = [None] * 4
    for i, draw in zip(order, draws, strict=True):
        values[i] = (draw * np.float32(STDDEVS[i])).reshape(shapes[i])
    return values


def _check_generator_draws(values, sizes, seed):
    """Assert that ``values`` (W1, b1, W2, b2) are draws of the normal method of
    ``tf.random.Generator.from_seed(seed)``, one call per variable, in any order."""
    orders = itertools.permutations(range(4))
    drawn = any(
        all(np.allclose(v, e, rtol=1e-5, atol=1e-5) for v, e in zip(values, expected, strict=True))
        for expected in (_generator_values(sizes, seed, order) for order in orders)
    )
    first = _generator_values(sizes, seed, range(4))[0]
    assert drawn, (
        f"init_params{(*sizes,)} with seed={seed} should draw each variable with the normal "
        f"method of tf.random.Generator.from_seed({seed}), one call per variable; its values "
        f"are not such draws (drawn first, W1 would start with "
        f"{_rounded(np.ravel(first)[:3], 5)}, got {_rounded(np.ravel(values[0])[:3], 5)})"
    )


def _repeated_draws(values):
    """The first two variables whose values repeat each other's draws (up to a scale factor,
    compared entry by entry from the start), or None."""
    flat = [np.ravel(v).astype(np.float64) for v in values]
    with np.errstate(invalid="ignore", divide="ignore"):
        for i in range(len(flat)):
            for j in range(i + 1, len(flat)):
                k = min(len(flat[i]), len(flat[j]))
                if k >= 20 and np.corrcoef(flat[i][:k], flat[j][:k])[0, 1] > 0.9:
                    return NAMES[i], NAMES[j]
    return None


@points(1, exercise="init_params")
def test_init_params_shapes_names_and_seed(sub):
    rng = np.random.default_rng()
    seed, other = (int(s) for s in rng.choice(1000, size=2, replace=False))
    for sizes in [(784, 300, 10), tuple(int(s) for s in rng.integers(1, 40, size=3))]:
        first = _check_variables(sub, sizes, seed)
        again = [_as_array(v) for v in sub.init_params(*sizes, seed=seed)]
        assert all(np.array_equal(u, v) for u, v in zip(first, again, strict=True)), (
            f"init_params{sizes} with seed={seed} gave different values on a second call: the "
            "same seed should always give the same network"
        )
        different = _as_array(sub.init_params(*sizes, seed=other)[0])
        assert not np.array_equal(first[0], different), (
            f"init_params{sizes} with seeds {seed} and {other} gave the same W1: the seed "
            "should decide the values"
        )
    _check_generator_draws(first, sizes, seed)


@points(1, exercise="init_params")
def test_init_params_statistics(sub):
    rng = np.random.default_rng()
    n_in, n_hidden, n_out = (int(s) for s in rng.integers([700, 300, 100], [900, 400, 200]))
    sizes = (n_in, n_hidden, n_out)
    values = [_as_array(v) for v in sub.init_params(*sizes, seed=int(rng.integers(1000)))]
    shapes = [v.shape for v in values]
    want = [(n_in, n_hidden), (n_hidden,), (n_hidden, n_out), (n_out,)]
    assert shapes == want, f"init_params{sizes} should give shapes {want}, got {shapes}"
    W1, b1, W2, b2 = values
    # W1 has over 200,000 draws and W2 over 30,000: their sample std is 0.03 to within 1 %
    assert 0.0285 < W1.std() < 0.0315, f"W1 should have std 0.03, got {W1.std():.4f}"
    assert abs(W1.mean()) < 0.001, f"W1 should have mean 0, got {W1.mean():.4f}"
    assert 0.0285 < W2.std() < 0.0315, f"W2 should have std 0.03, got {W2.std():.4f}"
    assert 0.75 < b1.std() < 1.25, f"b1 should have std 1 (standard normal), got {b1.std():.3f}"
    assert abs(b1.mean()) < 0.3, f"b1 should have mean 0, got {b1.mean():.3f}"
    assert 0.6 < b2.std() < 1.4, f"b2 should have std 1 (standard normal), got {b2.std():.3f}"
    repeated = _repeated_draws(values)
    assert repeated is None, (
        f"{repeated[1]} repeats the random numbers of {repeated[0]} (entry by entry, up to a "
        "scale factor): every variable should get its own fresh draws"
    )


# ---------------------------------------------------------------- forward


def _forward_gradients(sub, x, values):
    """Probe: gradients of ``sum(forward(x, *params))`` for each parameter (None: no gradient)."""
    import tensorflow as tf

    params = [tf.Variable(v) for v in values]
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(sub.forward(x, *params))
    return [None if g is None else g.numpy() for g in tape.gradient(total, params)]


def _check_forward_gradients(sub, x, values):
    """Assert that the gradients of ``sum(forward(x, *values))`` match numpy's."""
    grads = sub.run(_forward_gradients, x, values)
    missing = [n for n, g in zip(NAMES, grads, strict=True) if g is None]
    assert not missing, (
        f"no gradient reaches {missing} from forward's logits: keep the forward pass in "
        "TensorFlow (no numpy, no .numpy())"
    )
    W1, b1, W2, _ = (np.asarray(v, np.float64) for v in values)
    batch, classes = len(x), W2.shape[1]
    active = x @ values[0] + values[1] > 0  # in float32, as TensorFlow decides it
    d_z1 = np.ones((batch, classes)) @ W2.T * active
    hidden = np.maximum(x @ W1 + b1, 0.0)
    expected = [x.T @ d_z1, d_z1.sum(axis=0), hidden.T @ np.ones((batch, classes))]
    expected.append(np.full(classes, float(batch)))
    for name, g, e in zip(NAMES, grads, expected, strict=True):
        assert np.allclose(g, e, atol=1e-4), (
            f"d(sum of logits)/d {name} differs from that of relu(x @ W1 + b1) @ W2 + b2 by up "
            f"to {np.abs(np.asarray(g) - e).max():.2e}"
        )


def _check_image_logits(logits, flat, values, shown):
    """Assert that ``logits`` are ``relu(flat @ W1 + b1) @ W2 + b2`` for the images ``flat``
    (flattened, in float32 and not rescaled)."""
    logits = _as_array(logits)
    expected = _numpy_forward(flat, *values)
    close = np.allclose(logits, expected, rtol=1e-4, atol=1e-3)
    note = ""
    if not close and np.allclose(logits, _numpy_forward(flat / 255.0, *values), atol=1e-3):
        note = " (they match pixels divided by 255: use the values as given, cast to float32)"
    assert close, (
        f"forward on {shown} gives logits that differ from relu(x @ W1 + b1) @ W2 + b2 of the "
        f"flattened values by up to {np.abs(logits - expected).max():.3g}{note}"
    )


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
    small = rng.normal(size=(int(rng.integers(2, 6)), 2)).astype(np.float32)
    large = (8.0 * rng.normal(size=(int(rng.integers(2, 6)), 2))).astype(np.float32)
    large[0] = [7.5, rng.uniform(0.0, 1.0)]  # hidden values above 6 in every draw (ReLU6 differs)
    cases = [
        (x, np.array([[1.5, 1.5]])),
        (small, _numpy_forward(small, W1, b1, W2, b2)),
        (large, _numpy_forward(large, W1, b1, W2, b2)),
    ]
    outs = _each(*(lambda x=x: sub.forward(x, W1, b1, W2, b2) for x, _ in cases))
    for (x, expected), out in zip(cases, outs, strict=True):
        assert is_tensor(out) and _dtype(out) == np.float32, (
            f"forward should return float32 logits as a tf.Tensor, got {_described(out)}"
        )
        logits = _as_array(out)
        assert logits.shape == expected.shape, (
            f"forward of a [{len(x)}, 2] batch should return shape {expected.shape}, "
            f"got {logits.shape}"
        )
        assert np.allclose(logits, expected, rtol=1e-5, atol=1e-4), (
            f"forward of x = {_rounded(x, 3)} should give logits {_rounded(expected, 4)} "
            f"(ReLU on the hidden layer only, no softmax), got {_rounded(logits, 4)}"
        )


@points(1, exercise="forward")
def test_forward_images_and_gradients(sub):
    rng = np.random.default_rng()
    n, h, w = (int(s) for s in rng.integers([2, 3, 3], [6, 9, 9]))
    images = rng.integers(0, 256, size=(n, h, w)).astype(np.uint8)
    values = [
        (0.01 * rng.normal(size=(h * w, 4))).astype(np.float32),
        rng.normal(size=4).astype(np.float32),
        rng.normal(size=(4, 3)).astype(np.float32),
        rng.normal(size=3).astype(np.float32),
    ]
    flat = images.reshape(n, h * w).astype(np.float32)
    params = [_tf(v) for v in values]
    inputs = [
        (f"[{n}, {h}, {w}] uint8 images", images),
        (f"[{n}, {h * w}] float64 inputs", flat.astype(np.float64)),
    ]
    for shown, x in inputs:
        logits = sub.forward(x, *params)
        assert _shape(logits) == (n, 3), (
            f"forward on {shown} should flatten them and return ({n}, 3), got {_shape(logits)}"
        )
        assert _dtype(logits) == np.float32, (
            f"forward on {shown} should return float32, got {_dtype(logits)}"
        )
        _check_image_logits(logits, flat, values, shown)
    x, _, values = _small_problem(rng, _random_sizes(rng))
    _check_forward_gradients(sub, x, values)


# ---------------------------------------------------------------- loss_fn


def _random_logits_and_labels(rng, classes=None):
    """``[n, classes]`` float32 logits and ``[n]`` int64 class ids (random sizes)."""
    n = int(rng.integers(3, 12))
    classes = int(rng.integers(2, 8)) if classes is None else classes
    logits = (2.0 * rng.normal(size=(n, classes))).astype(np.float32)
    return logits, rng.integers(0, classes, size=n)


def _loss_gradient(sub, logits, labels):
    """Probe: d loss_fn(logits, labels) / d logits, for logits held in a variable (or None)."""
    import tensorflow as tf

    logits = tf.Variable(logits, dtype=tf.float32)
    with tf.GradientTape() as tape:
        loss = sub.loss_fn(logits, labels)
    grad = tape.gradient(loss, logits)
    return None if grad is None else grad.numpy()


def _check_loss(loss, expected, shown):
    """Assert that ``loss`` is a finite scalar float32 tensor equal to ``expected``."""
    assert _shape(loss) == (), (
        f"loss_fn on {shown} should return a scalar (the mean over the batch), got shape "
        f"{_shape(loss)}"
    )
    _check_scalar_tensor(loss, f"loss_fn on {shown}")
    assert np.isfinite(float(loss)), (
        f"loss_fn on {shown} gave {float(loss)}: compute the loss from the logits in a way "
        "that cannot overflow"
    )
    assert np.isclose(float(loss), expected, rtol=1e-5, atol=1e-5), (
        f"loss_fn on {shown} should give the mean cross-entropy {expected:.6f}, "
        f"got {float(loss):.6f}"
    )


@points(2, exercise="loss_fn")
def test_loss_fn_hand_computed(sub):
    rng = np.random.default_rng()
    mnist_logits, mnist_labels = _random_logits_and_labels(rng, classes=10)
    logits = np.array([[np.log(2.0), 0.0, 0.0], [0.0, np.log(2.0), np.log(5.0)]], np.float32)
    # sample 1: exp(logits) = [2, 1, 1], p(class 0) = 2/4, loss = log 2
    # sample 2: exp(logits) = [1, 2, 5], p(class 2) = 5/8, loss = log 1.6
    # mean = (log 2 + log 1.6) / 2 = log(3.2) / 2 = 0.581575
    random_logits, random_labels = _random_logits_and_labels(rng)
    uint8_labels = random_labels.astype(np.uint8)  # MNIST labels are uint8
    # sample 1: the true class has the huge logit -> loss 0; sample 2: the true class is 1000
    # below the other -> loss 1000; mean = 500. A naive log(softmax) gives inf or nan here.
    huge = np.array([[1000.0, 0.0], [0.0, 1000.0]], np.float32)
    one_logits, one_label = _random_logits_and_labels(rng)
    one_logits, one_label = one_logits[:1], one_label[:1]  # a batch of one sample
    cases = [
        ("10-class logits and int64 class ids", mnist_logits, mnist_labels, None),
        ("the hand-made logits and class ids [0, 2]", logits, np.array([0, 2]), np.log(3.2) / 2),
        (
            f"{random_logits.shape[1]}-class logits and uint8 class ids",
            random_logits,
            uint8_labels,
            None,
        ),
        ("logits [[1000, 0], [0, 1000]] and class ids [0, 0]", huge, np.array([0, 0]), 500.0),
        (f"a batch of one sample, class id {one_label.tolist()}", one_logits, one_label, None),
    ]
    outs = _each(*(lambda z=z, y=y: sub.loss_fn(_tf(z), y) for _, z, y, _ in cases))
    for (shown, logits, labels, expected), loss in zip(cases, outs, strict=True):
        if expected is None:
            expected = _numpy_cross_entropy(logits, labels)
        _check_loss(loss, expected, shown)


@points(1, exercise="loss_fn")
def test_loss_fn_one_hot_labels_and_gradient(sub):
    logits = np.array([[np.log(2.0), 0.0, 0.0], [0.0, np.log(2.0), np.log(5.0)]], np.float32)
    rng = np.random.default_rng()
    random_logits, random_labels = _random_logits_and_labels(rng)
    cases = [(logits, np.array([0, 2])), (random_logits, random_labels)]
    for logits, labels in cases:
        one_hot = np.eye(logits.shape[1], dtype=np.float32)[labels]
        shown = f"{logits.shape[1]}-class logits and one-hot labels {one_hot.tolist()}"
        loss = sub.loss_fn(_tf(logits), one_hot)
        _check_loss(loss, _numpy_cross_entropy(logits, labels), shown)
    # gradient = (softmax - one_hot) / batch_size
    grad = sub.run(_loss_gradient, random_logits, random_labels)
    assert grad is not None, (
        "no gradient flows from loss_fn back to the logits: compute it with TensorFlow "
        "operations only (no numpy, no .numpy())"
    )
    one_hot = np.eye(random_logits.shape[1])[random_labels]
    expected = (_softmax(random_logits) - one_hot) / len(random_labels)
    assert np.allclose(grad, expected, atol=1e-5), (
        f"d loss / d logits should be (softmax - one_hot) / batch_size = "
        f"{_rounded(expected, 4)}, got {_rounded(grad, 4)}"
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
    cases = [("the hand-made class ids [0, 2, 1, 0]", logits, labels, 3, 4)]
    rng = np.random.default_rng()
    n, classes = int(rng.integers(12, 30)), int(rng.integers(3, 7))
    rights = rng.choice(np.arange(1, n), size=3, replace=False)  # three fractions, not 0 or 1
    kinds = ["int64 class ids", "uint8 class ids", "one-hot rows"]
    for right, kind in zip(rights, kinds, strict=True):
        logits, labels = _logits_with_right_answers(rng, n, classes, int(right))
        if kind == "uint8 class ids":
            labels = labels.astype(np.uint8)
        elif kind == "one-hot rows":
            labels = np.eye(classes, dtype=np.float32)[labels]
        cases.append((kind, logits, labels, int(right), n))
    right = int(rng.integers(2))  # a batch of one sample, its one-hot row right or wrong
    logits, labels = _logits_with_right_answers(rng, 1, classes, right)
    one_hot = np.eye(classes, dtype=np.float32)[labels]
    cases.append(("the one-hot row of a single sample", logits, one_hot, right, 1))
    outs = _each(*(lambda z=z, y=y: sub.accuracy(_tf(z), y) for _, z, y, _, _ in cases))
    for (kind, _, _, right, n), acc in zip(cases, outs, strict=True):
        _check_scalar_tensor(acc, f"accuracy with {kind} as labels")
        assert np.isclose(float(acc), right / n), (
            f"accuracy with {kind} as labels should be {right / n:g} ({right} of {n} right), "
            f"got {float(acc)}"
        )


# ---------------------------------------------------------------- train_step


def _stand_in_forward(x, W1, b1, W2, b2):
    """The ``forward`` stand-in of the train_step tests: a tanh hidden layer, in numpy."""
    return np.tanh(x @ W1 + b1) @ W2 + b2


def _stand_in_targets(labels, classes):
    """One-hot float64 rows for class ids or one-hot labels."""
    labels = np.asarray(labels)
    return labels.astype(np.float64) if labels.ndim == 2 else np.eye(classes)[labels]


def _stand_in_loss(logits, labels):
    """The ``loss_fn`` stand-in: half the squared distance to the one-hot rows, batch mean."""
    targets = _stand_in_targets(labels, logits.shape[1])
    return float(0.5 * np.mean(np.sum((logits - targets) ** 2, axis=1)))


def _stand_in_loss_and_grads(x, labels, values):
    """Stand-in loss and its gradients for ``[W1, b1, W2, b2]``, written out in float64."""
    W1, b1, W2, b2 = (np.asarray(v, np.float64) for v in values)
    x = np.asarray(x, np.float64)
    hidden = np.tanh(x @ W1 + b1)
    logits = hidden @ W2 + b2
    d_logits = (logits - _stand_in_targets(labels, logits.shape[1])) / len(x)
    d_z1 = (d_logits @ W2.T) * (1.0 - hidden**2)
    grads = [x.T @ d_z1, d_z1.sum(axis=0), hidden.T @ d_logits, d_logits.sum(axis=0)]
    return _stand_in_loss(logits, labels), grads


def _train(sub, x, labels, values, optimizer, learning_rate, steps):
    """Probe: ``steps`` calls of ``train_step`` on fresh variables and a fresh optimizer.

    While it runs, ``forward`` and ``loss_fn`` in train_step's module are stand-ins (a tanh
    hidden layer and half the squared error to the one-hot labels), so only train_step itself
    is tested. Returns the losses it returned, the variables' values after each step, whether
    ``params`` still holds the same variable objects, the optimizer's step count, and how often
    each stand-in was called.
    """
    import inspect

    import keras
    import numpy as np
    import tensorflow as tf

    calls = {"forward": 0, "loss_fn": 0}

    @tf.autograph.experimental.do_not_convert  # plain Python in a tf.function too
    def forward(x, W1, b1, W2, b2):
        calls["forward"] += 1
        x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32)
        return tf.matmul(tf.tanh(tf.matmul(x, W1) + b1), W2) + b2

    @tf.autograph.experimental.do_not_convert  # plain Python in a tf.function too
    def loss_fn(logits, labels):
        calls["loss_fn"] += 1
        labels = tf.convert_to_tensor(labels)
        if labels.shape.rank == 1:
            labels = tf.one_hot(tf.cast(labels, tf.int32), tf.shape(logits)[-1])
        error = logits - tf.cast(labels, tf.float32)
        return 0.5 * tf.reduce_mean(tf.reduce_sum(tf.square(error), axis=-1))

    step = inspect.unwrap(getattr(sub.train_step, "python_function", sub.train_step))
    space = getattr(step, "__globals__", {})
    stand_ins = {"forward": forward, "loss_fn": loss_fn}
    saved = {name: space[name] for name in stand_ins if name in space}
    space.update(stand_ins)
    try:
        params = [tf.Variable(v) for v in values]
        originals = list(params)
        make = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam}[optimizer]
        opt = make(learning_rate=learning_rate)
        opt.build(params)  # its variables exist before any step, as after a first step
        losses, history = [], []
        for _ in range(steps):
            losses.append(sub.train_step(x, labels, params, opt))
            history.append([np.array(v.numpy()) for v in originals])
    finally:
        for name in stand_ins:
            if name in saved:
                space[name] = saved[name]
            else:
                space.pop(name, None)
    return {
        "losses": losses,
        "history": history,
        "same": len(params) == len(originals)
        and all(p is q for p, q in zip(params, originals, strict=True)),
        "iterations": int(opt.iterations.numpy()),
        "calls": calls,
    }


def _check_called(report):
    """Assert that train_step called the forward and loss_fn stand-ins (once per step, or once
    per trace when it is a tf.function)."""
    missing = [name for name, count in report["calls"].items() if not count]
    assert not missing, (
        f"train_step did not call {' and '.join(missing)}: use your own forward and loss_fn by "
        "those names (these tests swap in stand-ins for them, to test train_step alone)"
    )


def _check_losses(report, x, labels, values):
    """Assert that step k returned the stand-in loss of the variables before step k, as a
    scalar float32 tensor."""
    before = [values, *report["history"][:-1]]
    for k, (loss, current) in enumerate(zip(report["losses"], before, strict=True)):
        assert loss is not None and _shape(loss) == (), (
            f"train_step should return the loss of the batch as a scalar, got {loss!r}"
        )
        expected = _stand_in_loss(_stand_in_forward(x, *current), labels)
        after = _stand_in_loss(_stand_in_forward(x, *report["history"][k]), labels)
        assert np.isclose(float(loss), expected, rtol=1e-5, atol=1e-5), (
            f"call {k + 1} of train_step should return the loss of the batch before its update, "
            f"{expected:.5f}; got {float(loss):.5f} (the loss after the update is {after:.5f})"
        )
        _check_scalar_tensor(loss, f"call {k + 1} of train_step")


@points(3, exercise="train_step")
def test_train_step_matches_sgd(sub):
    x, y, values = _small_problem(np.random.default_rng())
    lr = 0.5
    report = sub.run(_train, x, y, values, "sgd", lr, 1)
    _check_called(report)
    assert report["iterations"] == 1, (
        f"one train_step should take one step with the optimizer it is given (one call of "
        f"its apply_gradients); that optimizer counted {report['iterations']} steps"
    )
    _, grads = _stand_in_loss_and_grads(x, y, values)
    # plain SGD: new value = old value - lr * gradient
    for name, new, old, g in zip(NAMES, report["history"][0], values, grads, strict=True):
        expected = old - lr * g
        assert np.allclose(new, expected, atol=1e-5), (
            f"after one SGD step (lr={lr}) {name} should be old - lr * d loss / d {name}; "
            f"largest difference {np.abs(new - expected).max():.2e}"
            + (" (it did not change)" if np.array_equal(new, old) else "")
        )


@points(2, exercise="train_step")
def test_train_step_adam_steps(sub):
    x, y, values = _small_problem(np.random.default_rng())
    steps = 4
    report = sub.run(_train, x, y, values, "adam", 0.01, steps)
    _check_called(report)
    assert report["same"] is True, (
        "train_step must update the variables in params, not replace them in the list"
    )
    assert report["iterations"] == steps, (
        f"after {steps} calls of train_step the optimizer counted {report['iterations']} steps: "
        "each call should call its apply_gradients once, with every gradient"
    )
    _check_losses(report, x, y, values)
    before = _stand_in_loss(_stand_in_forward(x, *values), y)
    after = _stand_in_loss(_stand_in_forward(x, *report["history"][-1]), y)
    assert after < before, (
        f"{steps} Adam steps on one batch should lower its loss; it went from {before:.4f} to "
        f"{after:.4f}"
    )
