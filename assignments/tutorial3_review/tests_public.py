"""Public tests of the tutorial 3 assignment (TF1 vs TF2, shapes, sine regression, checkpoints).

Run them from the notebook with ``check("fixed_mse")`` (or any other exercise name).

The tests run in the grader; your code runs in a separate worker and only data comes back.
Functions named ``_probe_*`` below run next to your code (in the worker) and only build
objects, call your code and read values; every expected value and check is in the tests.
"""

import itertools
import os

import numpy as np
import tensorflow as tf

from tfcourse.compat_v1 import V1, v1_session
from tfcourse.grading.points import points

W_HAND = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]], np.float32)  # [3, 2]
BIAS = np.array([[0.5, -1.0]], np.float32)  # [1, 2], the constant of the TF1 graph
SINE_SIZES = (1, 20, 20, 1)


def _tf1_reference(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The TF1 graph of port_tf1_to_tf2's docstring, run in a private graph and session."""
    with v1_session() as (_, sess):
        x_ph = V1.placeholder(tf.float32, shape=[None, 3], name="x")
        w_ph = V1.placeholder(tf.float32, shape=[3, 2], name="w")
        b = tf.constant(BIAS)
        out = tf.reduce_sum(tf.nn.relu(tf.matmul(x_ph, w_ph) + b), axis=1)
        return sess.run(out, feed_dict={x_ph: x, w_ph: w})


def _numpy_port(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """sum(relu(x @ w + b), axis=1) in plain numpy: [batch, 3], [3, 2] -> [batch]."""
    return np.maximum(x @ w + BIAS, 0.0).sum(axis=1)


def _numpy_forward(weights: list, biases: list, x: np.ndarray) -> np.ndarray:
    """A ReLU MLP with a linear last layer, in plain numpy: [batch, in] -> [batch, out]."""
    h = np.asarray(x, np.float32)
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = h @ np.asarray(w) + np.asarray(b)
        if i < len(weights) - 1:
            h = np.maximum(h, 0.0)
    return h


def _random_layers(rng: np.random.Generator, sizes=SINE_SIZES) -> tuple[list, list]:
    """Random float32 weights [sizes[i], sizes[i+1]] and (non-zero) biases [sizes[i+1]]."""
    weights, biases = [], []
    for fan_in, fan_out in itertools.pairwise(sizes):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        weights.append(rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32))
        biases.append(rng.uniform(-0.5, 0.5, fan_out).astype(np.float32))
    return weights, biases


def _number(value, what: str) -> float:
    """``value`` as a float, or a clear failure when it is not a single number."""
    if isinstance(value, bool) or np.size(value) != 1 or np.asarray(value).dtype.kind not in "iuf":
        raise AssertionError(f"{what} should return a single number, got {value!r:.200}")
    return float(np.asarray(value).reshape(()))


# ----------------------------------------------------- probes (they run in the worker)


def _probe_port(sub, batches, w):
    """f = port_tf1_to_tf2(); f(x, w) for each x of ``batches``."""
    import tensorflow as tf

    f = sub.port_tf1_to_tf2()
    return [f(tf.constant(x), tf.constant(w)) for x in batches]


def _probe_outcome(sub, func, *args, **kwargs):
    """What ``func(*args, **kwargs)`` did (``func``: a name in the submission, or an object)."""
    from tfcourse.errors import ShapeError

    if isinstance(func, str):
        func = getattr(sub, func)
    try:
        value = func(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as exc:
        kinds = {
            "ShapeError": ShapeError,
            "FileNotFoundError": FileNotFoundError,
            "AssertionError": AssertionError,
        }
        return {
            "raised": type(exc).__name__,
            "is": [name for name, cls in kinds.items() if isinstance(exc, cls)],
            "message": str(exc)[:500],
        }
    return {"returned": value}


def _probe_call(sub, func, *args):
    """``func(*args)`` (a model's predictions, say)."""
    return func(*args)


def _probe_layers(sub, model):
    """A model's sorted variable names and its ``weights`` and ``biases`` lists."""
    names = sorted(v.name for v in model.trainable_variables)
    return {"names": names, "weights": list(model.weights), "biases": list(model.biases)}


def _probe_assign(sub, model, weights, biases):
    """Give ``model.weights[i]`` and ``model.biases[i]`` these values; the layer counts."""
    counts = (len(model.weights), len(model.biases))
    if counts == (len(weights), len(biases)):
        variables = list(model.weights) + list(model.biases)
        for var, value in zip(variables, list(weights) + list(biases), strict=True):
            var.assign(value)
    return counts


def _probe_sine_mlp(sub, weights, biases):
    """The course's SineMLP holding these weights and biases."""
    from tfcourse.sine import SineMLP

    model = SineMLP(sizes=[len(weights[0])] + [len(b) for b in biases])
    for var, value in zip(model.weights + model.biases, [*weights, *biases], strict=True):
        var.assign(value)
    return model


def _probe_line(sub, w, b):
    """``pred = x @ w + b`` with a [1, 1] ``w`` and a [1] ``b``: a model to step by hand."""
    import tensorflow as tf

    class Line(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weights = [tf.Variable([[w]], dtype=tf.float32)]
            self.biases = [tf.Variable([b], dtype=tf.float32)]

        def __call__(self, x):
            return tf.matmul(x, self.weights[0]) + self.biases[0]

    return Line()


def _probe_optimizer(sub, name, learning_rate):
    """A fresh Keras optimizer (``"SGD"`` or ``"Adam"``)."""
    import keras

    return getattr(keras.optimizers, name)(learning_rate)


def _probe_tmpdir(sub):
    """A new empty folder (in the worker's private /tmp)."""
    import tempfile

    return tempfile.mkdtemp()


def _probe_restore(sub, model, path):
    """Restore ``path`` into ``model`` under the key ``model``; None, or what went wrong."""
    import tensorflow as tf

    try:
        tf.train.Checkpoint(model=model).restore(path).assert_existing_objects_matched()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc)[:300]}"
    return None


def _probe_save_series(sub, directory, key, series):
    """Save a SineMLP under ``key`` with each ``(weights, biases)`` of ``series``, in order."""
    import os

    import tensorflow as tf

    from tfcourse.sine import SineMLP

    model = SineMLP(sizes=[len(series[0][0][0])] + [len(b) for b in series[0][1]])
    checkpoint = tf.train.Checkpoint(**{key: model})
    paths = []
    for weights, biases in series:
        for var, value in zip(model.weights + model.biases, [*weights, *biases], strict=True):
            var.assign(value)
        paths.append(checkpoint.save(os.path.join(directory, "ckpt")))
    return paths


# ------------------------------------------------------------------------ port_tf1_to_tf2


@points(2, exercise="port_tf1_to_tf2")
def test_port_hand_computed(sub):
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 0.0]], np.float32)
    # row 0: x @ w = [1 + 3, 2 - 3] = [4, -1]; + b = [4.5, -2]; relu [4.5, 0]; sum 4.5
    # row 1: x @ w = [-1, 0]; + b = [-0.5, -1]; relu [0, 0]; sum 0
    rng = np.random.default_rng()
    x_rand = rng.normal(size=(int(rng.integers(2, 9)), 3)).astype(np.float32)
    hand, rand = sub.run(_probe_port, [x, x_rand], W_HAND)
    out = np.asarray(hand)
    assert out.shape == (2,), (
        f"f(x, w) for x of shape (2, 3) should have shape (2,), got {out.shape}"
    )
    assert np.allclose(out, [4.5, 0.0]), f"f(x, w) should return [4.5, 0.0], got {out.tolist()}"
    want = _numpy_port(x_rand, W_HAND)
    assert np.shape(rand) == want.shape and np.allclose(rand, want, atol=1e-5), (
        f"f(x, w) with the same w and {len(x_rand)} random rows should return "
        f"{want.round(4).tolist()}, got {np.asarray(rand).round(4).tolist()}"
    )


@points(1, exercise="port_tf1_to_tf2")
def test_port_matches_tf1_session(sub):
    rng = np.random.default_rng()
    x = rng.normal(size=(5, 3)).astype(np.float32)
    w = rng.normal(size=(3, 2)).astype(np.float32)
    expected = _tf1_reference(x, w)
    [got] = sub.run(_probe_port, [x], w)
    got = np.asarray(got)
    assert got.shape == (5,), (
        f"f(x, w) for x of shape (5, 3) should have shape (5,), got {got.shape}"
    )
    assert np.allclose(got, expected, atol=1e-5), (
        f"f(x, w) should match the TF1 session's {expected.tolist()}, got {got.tolist()}"
    )


# ------------------------------------------------------------------------------- fixed_mse


@points(2, exercise="fixed_mse")
def test_fixed_mse_hand_computed(sub):
    y = np.array([0.0, 1.0, 2.0], np.float32)  # [3]
    pred = np.array([[0.0], [1.0], [4.0]], np.float32)  # [3, 1]
    # right: errors [0, 0, 2] -> (0 + 0 + 4) / 3 = 4/3; the broadcasting bug gives 36 / 9 = 4
    got = _number(sub.fixed_mse(y, pred), "fixed_mse")
    assert not np.isclose(got, 4.0), (
        "fixed_mse returned 4.0, the value of the broadcast [3, 3] table: pred - y still "
        "broadcasts, compare pred[:, 0] with y"
    )
    assert np.isclose(got, 4.0 / 3.0), f"fixed_mse should return 4/3 = 1.3333, got {got}"
    rng = np.random.default_rng()
    n = int(rng.integers(4, 12))
    y_rand = rng.normal(size=n).astype(np.float32)
    pred_rand = rng.normal(size=(n, 1)).astype(np.float32)
    want = float(np.mean((pred_rand[:, 0] - y_rand) ** 2))
    got = _number(sub.fixed_mse(y_rand, pred_rand), "fixed_mse")
    assert np.isclose(got, want, rtol=1e-5), (
        f"fixed_mse on {n} random points should return {want:.6f}, got {got:.6f}"
    )


@points(1, exercise="fixed_mse")
def test_fixed_mse_refuses_column_targets(sub):
    y = np.array([[0.0], [1.0], [2.0]], np.float32)  # [3, 1]: wrong, targets must be [3]
    pred = np.array([[0.0], [1.0], [4.0]], np.float32)
    outcome = sub.run(_probe_outcome, "fixed_mse", y, pred)
    if "returned" in outcome:
        raise AssertionError(
            f"fixed_mse(y of shape (3, 1), pred of shape (3, 1)) should raise ShapeError "
            f"(y must be [N]), but it returned {np.asarray(outcome['returned']).tolist()}"
        )
    assert "ShapeError" in outcome["is"], (
        f"fixed_mse(y of shape (3, 1), pred of shape (3, 1)) should raise ShapeError "
        f"(y must be [N]), got {outcome['raised']}: {outcome['message'][:200]}"
    )


# --------------------------------------------------------------------------------- SineNet


@points(2, exercise="SineNet")
def test_sinenet_variable_names_and_shapes(sub):
    layers = sub.run(_probe_layers, sub.SineNet())
    expected = [
        "layer_0/W0:0",
        "layer_0/b0:0",
        "layer_1/W1:0",
        "layer_1/b1:0",
        "layer_2/W2:0",
        "layer_2/b2:0",
    ]
    names = layers["names"]
    assert names == expected, f"SineNet() variable names should be {expected}, got {names}"
    w_shapes = [tuple(np.shape(w)) for w in layers["weights"]]
    b_shapes = [tuple(np.shape(b)) for b in layers["biases"]]
    assert w_shapes == [(1, 20), (20, 20), (20, 1)], (
        f"net.weights should have shapes [(1, 20), (20, 20), (20, 1)], got {w_shapes}"
    )
    assert b_shapes == [(20,), (20,), (1,)], (
        f"net.biases should have shapes [(20,), (20,), (1,)], got {b_shapes}"
    )
    rng = np.random.default_rng()
    sizes = (int(rng.integers(1, 4)), *(int(k) for k in rng.integers(2, 30, size=2)), 1)
    layers = sub.run(_probe_layers, sub.SineNet(sizes=sizes))
    want_w = [(sizes[i], sizes[i + 1]) for i in range(3)]
    want_b = [(sizes[i + 1],) for i in range(3)]
    got_w = [tuple(np.shape(w)) for w in layers["weights"]]
    got_b = [tuple(np.shape(b)) for b in layers["biases"]]
    assert (got_w, got_b) == (want_w, want_b), (
        f"SineNet(sizes={sizes}) should have weights of shapes {want_w} and biases of shapes "
        f"{want_b}, got {got_w} and {got_b}"
    )


@points(2, exercise="SineNet")
def test_sinenet_forward_hand_computed(sub):
    net = sub.SineNet(sizes=(1, 2, 1), seed=0)
    weights = [np.array([[1.0, -1.0]], np.float32), np.array([[2.0], [3.0]], np.float32)]
    biases = [np.array([0.0, 0.5], np.float32), np.array([0.25], np.float32)]
    counts = sub.run(_probe_assign, net, weights, biases)
    assert tuple(counts) == (2, 2), (
        f"SineNet(sizes=(1, 2, 1)) should have 2 weights and 2 biases, got {tuple(counts)}"
    )
    # x = 1:  relu([1, -1] + [0, 0.5]) = [1, 0];    2·1 + 3·0 + 0.25 = 2.25
    # x = -2: relu([-2, 2] + [0, 0.5]) = [0, 2.5];  2·0 + 3·2.5 + 0.25 = 7.75
    out = np.asarray(sub.run(_probe_call, net, np.array([[1.0], [-2.0]], np.float32)))
    assert out.shape == (2, 1), f"net(x) for x of shape (2, 1) should be (2, 1), got {out.shape}"
    assert np.allclose(out[:, 0], [2.25, 7.75]), (
        f"net(x) should be [[2.25], [7.75]] with the weights of the docstring example, "
        f"got {out.tolist()}"
    )
    rng = np.random.default_rng()
    weights, biases = _random_layers(rng, (1, 2, 1))
    x = rng.uniform(-3.0, 3.0, size=(5, 1)).astype(np.float32)
    sub.run(_probe_assign, net, weights, biases)
    out = np.asarray(sub.run(_probe_call, net, x))
    want = _numpy_forward(weights, biases, x)
    assert out.shape == want.shape and np.allclose(out, want, atol=1e-5), (
        f"with random weights W0={weights[0].round(3).tolist()}, b0={biases[0].round(3).tolist()}, "
        f"W1={weights[1].round(3).tolist()}, b1={biases[1].round(3).tolist()}, net(x) for "
        f"x={x[:, 0].round(3).tolist()} should be {want[:, 0].round(4).tolist()}, "
        f"got {out.round(4).tolist()}"
    )


# ------------------------------------------------------------------------------ train_step


@points(2, exercise="train_step")
def test_train_step_hand_computed_sgd(sub):
    model = sub.run(_probe_line, 2.0, 0.0)
    x = tf.constant([[1.0], [2.0]])
    y = tf.constant([[1.0], [1.0]])
    # pred [2, 4], errors [1, 3]: loss 0.5 · (1 + 9) / 2 = 2.5
    # dw = mean(error · x) = 3.5 -> 2 - 0.1 · 3.5 = 1.65;  db = mean(error) = 2 -> -0.2
    opt = sub.run(_probe_optimizer, "SGD", 0.1)
    loss = _number(sub.train_step(model, opt, x, y), "train_step")
    assert np.isclose(loss, 2.5), (
        f"train_step should return the loss before the update, 0.5 · mean((pred - y)²) = 2.5, "
        f"got {loss}"
    )
    layers = sub.run(_probe_layers, model)
    w, b = float(layers["weights"][0][0, 0]), float(layers["biases"][0][0])
    assert np.isclose(w, 1.65) and np.isclose(b, -0.2), (
        f"after one SGD(0.1) step w should be 1.65 and b -0.2, got w={w}, b={b}"
    )
    rng = np.random.default_rng()
    w0, b0, lr = float(rng.normal()), float(rng.normal()), float(rng.uniform(0.01, 0.2))
    x = rng.normal(size=(6, 1)).astype(np.float32)
    y = rng.normal(size=(6, 1)).astype(np.float32)
    error = (x * np.float32(w0) + np.float32(b0) - y)[:, 0]  # [6]
    want_loss = 0.5 * np.mean(error**2)
    want_w, want_b = w0 - lr * np.mean(error * x[:, 0]), b0 - lr * np.mean(error)
    model = sub.run(_probe_line, w0, b0)
    opt = sub.run(_probe_optimizer, "SGD", lr)
    loss = _number(sub.train_step(model, opt, tf.constant(x), tf.constant(y)), "train_step")
    layers = sub.run(_probe_layers, model)
    w, b = float(layers["weights"][0][0, 0]), float(layers["biases"][0][0])
    assert np.isclose(loss, want_loss, rtol=1e-4, atol=1e-6), (
        f"on a random line model and batch train_step should return the loss before the "
        f"update {want_loss:.6f}, got {loss:.6f}"
    )
    assert np.isclose(w, want_w, atol=1e-5) and np.isclose(b, want_b, atol=1e-5), (
        f"on a random line model, one SGD({lr:.3f}) step should give w={want_w:.5f} and "
        f"b={want_b:.5f}, got w={w:.5f}, b={b:.5f}"
    )


@points(1, exercise="train_step")
def test_train_step_adam_lowers_loss(sub):
    weights, biases = _random_layers(np.random.default_rng())
    model = sub.run(_probe_sine_mlp, weights, biases)
    optimizer = sub.run(_probe_optimizer, "Adam", 0.01)
    x = np.linspace(-2 * np.pi, 2 * np.pi, 64, dtype=np.float32)[:, None]
    y = np.sin(x)
    losses = [_number(sub.train_step(model, optimizer, x, y), "train_step") for _ in range(20)]
    assert losses[-1] < 0.9 * losses[0], (
        f"20 Adam(0.01) steps should lower the loss by more than 10%, went from "
        f"{losses[0]:.4f} to {losses[-1]:.4f}"
    )
    first = 0.5 * np.mean((_numpy_forward(weights, biases, x) - y) ** 2)
    assert np.isclose(losses[0], first, rtol=1e-4), (
        f"the first step should return the loss before the update, {first:.6f}, got {losses[0]:.6f}"
    )


# ------------------------------------------------------------------------- save_checkpoint


@points(2, exercise="save_checkpoint")
def test_save_then_restore_predictions_identical(sub):
    rng = np.random.default_rng()
    directory = sub.run(_probe_tmpdir)
    weights, biases = _random_layers(rng)
    model = sub.run(_probe_sine_mlp, weights, biases)
    path = sub.save_checkpoint(model, directory, 1000)
    want = os.path.join(directory, "ckpt-1000")
    assert path == want, (
        f"save_checkpoint(model, directory, 1000) should return {want!r}, got {path!r}"
    )
    fresh = sub.run(_probe_sine_mlp, *_random_layers(rng))  # other values until the restore
    problem = sub.run(_probe_restore, fresh, path)
    assert problem is None, (
        f"tf.train.Checkpoint(model=fresh).restore({path!r}) failed on your checkpoint: {problem}"
    )
    x = np.linspace(-6.0, 6.0, 11, dtype=np.float32)[:, None]
    got = np.asarray(sub.run(_probe_call, fresh, x))
    assert np.allclose(got, _numpy_forward(weights, biases, x), atol=1e-5), (
        "a model restored from your checkpoint (tf.train.Checkpoint(model=...)) should predict "
        "exactly what the saved model predicts"
    )


# ---------------------------------------------------------------------- restore_checkpoint


@points(2, exercise="restore_checkpoint")
def test_restore_into_fresh_model(sub):
    rng = np.random.default_rng()
    directory = sub.run(_probe_tmpdir)
    weights, biases = _random_layers(rng)
    [saved] = sub.run(_probe_save_series, directory, "model", [(weights, biases)])
    fresh = sub.run(_probe_sine_mlp, *_random_layers(rng))
    path = sub.restore_checkpoint(fresh, directory)
    assert path == saved, f"restore_checkpoint should return {saved!r}, got {path!r}"
    x = np.linspace(-6.0, 6.0, 11, dtype=np.float32)[:, None]
    got = np.asarray(sub.run(_probe_call, fresh, x))
    assert np.allclose(got, _numpy_forward(weights, biases, x), atol=1e-5), (
        "after restore_checkpoint the fresh model should predict exactly what the saved "
        "model predicts"
    )
