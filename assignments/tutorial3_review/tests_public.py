"""Public tests of the tutorial 3 assignment (TF1 vs TF2, shapes, sine regression, checkpoints).

Run them from the notebook with ``check("fixed_mse")`` (or any other exercise name).

The tests run in the grader; your code runs in a separate worker and only data comes back.
Functions named ``_probe_*`` below run next to your code (in the worker) and only build
objects, call your code and read values; every expected value and check is in the tests.
Every test also draws fresh random cases, so the numbers differ from run to run.
"""

import itertools
import os
import uuid

import keras
import numpy as np
import tensorflow as tf

from tfcourse.grading.codec import Handle, RemoteArray, is_tensor, is_variable
from tfcourse.grading.points import points
from tfcourse.review.compat_v1 import V1, v1_session

W_HAND = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]], np.float32)  # [3, 2]
BIAS = np.array([[0.5, -1.0]], np.float32)  # [1, 2], the constant of the TF1 graph
SINE_SIZES = (1, 20, 20, 1)
SINE_NAMES = [
    "layer_0/W0:0",
    "layer_0/b0:0",
    "layer_1/W1:0",
    "layer_1/b1:0",
    "layer_2/W2:0",
    "layer_2/b2:0",
]


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


def _glorot_draws(sizes, seed: int) -> list[np.ndarray]:
    """The weights SineNet's docstring prescribes: one generator, one uniform draw per layer."""
    gen = tf.random.Generator.from_seed(seed)
    draws = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        limit = float(np.sqrt(6.0 / (fan_in + fan_out)))
        draws.append(gen.uniform([fan_in, fan_out], -limit, limit).numpy())
    return draws


def _number(value, what: str) -> float:
    """``value`` as a float, or a clear failure when it is not a single number."""
    if isinstance(value, bool) or np.size(value) != 1 or np.asarray(value).dtype.kind not in "iuf":
        raise AssertionError(f"{what} should return a single number, got {value!r:.200}")
    return float(np.asarray(value).reshape(()))


def _scalar(value, what: str) -> float:
    """Like :func:`_number`, and the value must be a scalar (shape ``()``), not ``[1]``."""
    number = _number(value, what)
    if np.shape(value) != ():
        raise AssertionError(
            f"{what} should return a scalar (shape ()), got shape {np.shape(value)} "
            f"holding {number}"
        )
    return number


def _kind(value) -> str:
    """What a returned value was in your code, in its own words (tf.Tensor, ndarray, ...)."""
    if isinstance(value, RemoteArray):
        return {"tensor": "tf.Tensor", "variable": "tf.Variable"}.get(value.kind, "ndarray")
    return value.type if isinstance(value, Handle) else type(value).__name__


def _dtype(value) -> np.dtype:
    return np.asarray(value).dtype


def _check_signature(spec) -> None:
    """Fail unless ``spec`` (from :func:`_probe_signature`) is the placeholders' promise."""
    want = [([None, 3], "float32"), ([3, 2], "float32")]
    got = [tuple(s) if isinstance(s, tuple | list) else s for s in spec or []]
    assert spec is not None and got == want, (
        f"port_tf1_to_tf2's tf.function should have the input_signature of the placeholders, "
        f"(shape, dtype) {want}, got {got if spec is not None else None}"
    )


def _expect_refused(outcome: dict, what: str) -> None:
    """Fail unless a call of the ported function was refused by its input_signature."""
    if "returned" in outcome:
        value = np.asarray(outcome["returned"]).round(4).tolist()
        raise AssertionError(f"{what} should be refused by the signature, but it returned {value}")
    assert "refused" in outcome, (
        f"{what} should be refused by the signature before any op runs, but an op raised "
        f"{outcome['raised']}"
    )


def _reference_line_step(w0, b0, offset, x, y, optimizer: str, lr: float) -> tuple:
    """The loss before the update and ``w``, ``b`` after one step on the line model, here."""
    w, b = tf.Variable([[w0]], dtype=tf.float32), tf.Variable([b0], dtype=tf.float32)
    opt = getattr(keras.optimizers, optimizer)(lr)
    with tf.GradientTape() as tape:
        loss = 0.5 * tf.reduce_mean(tf.square(tf.matmul(x, w) + b + offset - y))
    opt.apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b], strict=True))
    return float(loss), float(w[0, 0]), float(b[0])


def _expect_raised(outcome: dict, kind: str, what: str) -> None:
    """Fail unless the probed call raised ``kind`` (a stub's NotImplementedError passed through)."""
    if "returned" in outcome:
        value = outcome["returned"]
        shown = np.asarray(value).tolist() if isinstance(value, np.ndarray) else value
        raise AssertionError(f"{what} should raise {kind}, but it returned {shown!r:.200}")
    if kind not in outcome["is"]:
        raise AssertionError(
            f"{what} should raise {kind} before any op fails, got {outcome['raised']}"
        )


def _fresh_name() -> str:
    """A new folder name for checkpoints (the probe creates it in the worker's temp folder)."""
    return f"tfcourse-t3-{uuid.uuid4().hex[:12]}"


def _digit_crossing_steps(rng: np.random.Generator, count: int) -> list[int]:
    """``count`` increasing steps whose last ones have one digit more (``...8, 9, 10, 12``).

    Sorted as text, the file names of such steps put an older one last (``ckpt-9`` after
    ``ckpt-12``), so code that picks the newest checkpoint by its name is caught.
    """
    scale = 10 ** int(rng.integers(0, 3))
    lead = int(rng.integers(2, 9))  # the first step starts with this digit (at least 2 such)
    before = sorted(rng.choice(np.arange(lead, 10), size=min(count - 1, 10 - lead), replace=False))
    after = sorted(rng.choice(np.arange(10, 10 * lead), size=count - len(before), replace=False))
    return [int(s) * scale for s in [*before, *after]]


def _ckpt(directory: str, step: int) -> str:
    """The path prefix ``<directory>/ckpt-<step>``."""
    return os.path.join(directory, f"ckpt-{step}")


def _kept(names: list[str]) -> list[str]:
    """The checkpoint prefixes among file names, in step order (``ckpt-9`` before ``ckpt-10``)."""
    prefixes = [n[: -len(".index")] for n in names if n.endswith(".index")]
    return sorted(prefixes, key=lambda p: (len(p), p))


# ----------------------------------------------------- probes (they run in the worker)


def _probe_port_traced(sub, batches, w):
    """f = port_tf1_to_tf2(); f(x, w) for each x, then f's trace count (None: no tf.function)."""
    import tensorflow as tf

    f = sub.port_tf1_to_tf2()
    kind = type(f).__name__
    if not hasattr(f, "experimental_get_tracing_count"):
        return {"type": kind, "traces": None, "outputs": []}
    outputs = [f(tf.constant(x), tf.constant(w)) for x in batches]
    return {"type": kind, "traces": int(f.experimental_get_tracing_count()), "outputs": outputs}


def _probe_port(sub, batches, w):
    """f = port_tf1_to_tf2(); f(x, w) for each x of ``batches``."""
    import tensorflow as tf

    f = sub.port_tf1_to_tf2()
    return [f(tf.constant(x), tf.constant(w)) for x in batches]


def _probe_signature(sub, calls):
    """f's input_signature as (shape, dtype name) pairs, and what f did with each (x, w)."""
    import tensorflow as tf

    f = sub.port_tf1_to_tf2()
    spec = getattr(f, "input_signature", None)
    if spec is not None:
        spec = [
            (s.shape.as_list() if s.shape.rank is not None else None, s.dtype.name)
            if isinstance(s, tf.TensorSpec)
            else type(s).__name__
            for s in spec
        ]
    outcomes = []
    for x, w in calls:
        try:
            outcomes.append({"returned": f(tf.constant(x), tf.constant(w))})
        except (TypeError, ValueError):  # what a tf.function does with inputs its spec refuses
            outcomes.append({"refused": True})
        except Exception as exc:
            outcomes.append({"raised": type(exc).__name__})
    return {"spec": spec, "outcomes": outcomes}


def _probe_outcome(sub, func, *args, mention=None):
    """What ``func(*args)`` did (``func``: a name in the submission, or an object).

    Of an error only its type comes back, not its text (the text is yours to word); with
    ``mention``, also whether the text holds that string.
    """
    from tfcourse.errors import ShapeError

    if isinstance(func, str):
        func = getattr(sub, func)
    try:
        value = func(*args)
    except NotImplementedError:
        raise
    except Exception as exc:
        kinds = {
            "ShapeError": ShapeError,
            "FileNotFoundError": FileNotFoundError,
            "AssertionError": AssertionError,
        }
        outcome = {
            "raised": type(exc).__name__,
            "is": [name for name, cls in kinds.items() if isinstance(exc, cls)],
        }
        if mention is not None:
            outcome["mentions"] = mention in str(exc)
        return outcome
    return {"returned": value}


def _probe_call(sub, func, *args):
    """``func(*args)`` (a model's predictions, say)."""
    return func(*args)


def _probe_layers(sub, model):
    """A model's sorted variable names, its ``weights`` and ``biases`` lists, its frozen ones.

    ``numbers`` repeats the numbers in each name as numbers (a diagnosis of a failed test
    compares texts up to the numbers in them).
    """
    import re

    names = sorted(v.name for v in model.trainable_variables)
    frozen = [v for v in model.variables if not v.trainable]
    return {
        "names": names,
        "numbers": [[int(n) for n in re.findall(r"\d+", name)] for name in names],
        "weights": list(model.weights),
        "biases": list(model.biases),
        "frozen": frozen,
    }


def _probe_assign(sub, model, weights, biases):
    """Give ``model.weights[i]`` and ``model.biases[i]`` these values; the layer counts."""
    counts = (len(model.weights), len(model.biases))
    if counts == (len(weights), len(biases)):
        variables = list(model.weights) + list(model.biases)
        for var, value in zip(variables, list(weights) + list(biases), strict=True):
            var.assign(value)
    return counts


def _probe_mlp(sub, weights, biases):
    """A ReLU network (linear last layer) holding these weights and biases, made here.

    It is the test's own model, not your SineNet: the tests of train_step and of the
    checkpoint functions do not depend on your network.
    """
    import tensorflow as tf

    class Mlp(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weights = [tf.Variable(w, dtype=tf.float32) for w in weights]
            self.biases = [tf.Variable(b, dtype=tf.float32) for b in biases]

        def __call__(self, x):
            h = tf.cast(x, tf.float32)
            for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
                h = tf.matmul(h, w) + b
                if i < len(self.weights) - 1:
                    h = tf.nn.relu(h)
            return h

    return Mlp()


def _probe_line(sub, w, b, offset=0.0):
    """``pred = x @ w + b + offset`` with a [1, 1] ``w``, a [1] ``b`` and a frozen [1] offset.

    A model to step by hand: ``offset`` is a variable with ``trainable=False``, used in the
    forward pass, that no training step may move.
    """
    import tensorflow as tf

    class Line(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weights = [tf.Variable([[w]], dtype=tf.float32)]
            self.biases = [tf.Variable([b], dtype=tf.float32)]
            self.offset = tf.Variable([offset], dtype=tf.float32, trainable=False)

        def __call__(self, x):
            return tf.matmul(x, self.weights[0]) + self.biases[0] + self.offset

    return Line()


def _probe_step(sub, model, optimizer, x, y):
    """``train_step(model, optimizer, x, y)``; how often Keras warned of a gradient-less variable.

    Keras skips a variable whose gradient is None with the warning "Gradients do not exist for
    variables ...": the step asked the tape about variables it does not watch.
    """
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss = sub.train_step(model, optimizer, x, y)
    missing = sum("Gradients do not exist" in str(w.message) for w in caught)
    return {"loss": loss, "no_gradient_warnings": missing}


def _probe_optimizer(sub, name, learning_rate):
    """A fresh Keras optimizer (``"SGD"`` or ``"Adam"``)."""
    import keras

    return getattr(keras.optimizers, name)(learning_rate)


def _probe_save(sub, model, directory, step, **options):
    """``save_checkpoint(model, directory, step, **options)``; the number its path ends with.

    The number comes back as a number as well (a diagnosis compares texts up to their numbers).
    """
    path = sub.save_checkpoint(model, directory, step, **options)
    tail = str(path).rsplit("-", 1)[-1]
    return {"path": path, "number": int(tail) if tail.isdigit() else None}


def _probe_tmpdir(sub, name):
    """A new, empty folder ``name`` in the worker's temp folder (emptied if it exists)."""
    import os
    import shutil
    import tempfile

    path = os.path.join(tempfile.gettempdir(), name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def _probe_listdir(sub, directory):
    """The sorted names in ``directory`` of the worker."""
    import os

    return sorted(os.listdir(directory))


def _probe_latest(sub, directory):
    """``tf.train.latest_checkpoint(directory)``."""
    import tensorflow as tf

    return tf.train.latest_checkpoint(directory)


def _probe_restore(sub, model, path):
    """Restore ``path`` into ``model`` under the key ``model``; None, or the error's type."""
    import tensorflow as tf

    try:
        tf.train.Checkpoint(model=model).restore(path).assert_existing_objects_matched()
    except Exception as exc:
        return type(exc).__name__
    return None


def _probe_keys(sub, path):
    """The sorted object paths a checkpoint holds (``model/weights/0``, ...); None: unreadable."""
    import tensorflow as tf

    try:
        names = [name for name, _ in tf.train.list_variables(path)]
    except Exception:
        return None
    keys = {name.split("/.ATTRIBUTES")[0] for name in names}
    return sorted(keys - {"_CHECKPOINTABLE_OBJECT_GRAPH"})


def _probe_save_series(sub, directory, key, model, series, steps):
    """Save ``model`` under ``key`` with each ``(weights, biases)`` of ``series`` as ckpt-<step>.

    The saves go through one ``tf.train.CheckpointManager`` (nothing deleted), in the order
    given, so the last one is the newest whatever its number.
    """
    import tensorflow as tf

    checkpoint = tf.train.Checkpoint(**{key: model})
    manager = tf.train.CheckpointManager(checkpoint, directory, max_to_keep=None)
    paths = []
    for (weights, biases), step in zip(series, steps, strict=True):
        for var, value in zip(model.weights + model.biases, [*weights, *biases], strict=True):
            var.assign(value)
        paths.append(manager.save(checkpoint_number=step))
    return paths


# ------------------------------------------------------------------------ port_tf1_to_tf2


@points(2, exercise="port_tf1_to_tf2")
def test_port_hand_computed(sub):
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 0.0], [4.0, 1.0, 4.0]], np.float32)
    # row 0: x @ w = [1 + 3, 2 - 3] = [4, -1]; + b = [4.5, -2]; relu [4.5, 0]; sum 4.5
    # row 1: x @ w = [-1, 0]; + b = [-0.5, -1]; relu [0, 0]; sum 0
    # row 2: x @ w = [4 + 4, 1 - 4] = [8, -3]; + b = [8.5, -4]; relu [8.5, 0]; sum 8.5
    rng = np.random.default_rng()
    x_rand = rng.normal(scale=3.0, size=(int(rng.integers(3, 9)), 3)).astype(np.float32)
    hand, one, rand = sub.run(_probe_port, [x, x[:1], x_rand], W_HAND)
    out = np.asarray(hand)
    assert out.shape == (3,), (
        f"f(x, w) for x of shape (3, 3) should have shape (3,), one number per row, got {out.shape}"
    )
    assert np.allclose(out, [4.5, 0.0, 8.5]), (
        f"f(x, w) for the docstring's w and x = {x.tolist()} should return [4.5, 0.0, 8.5], "
        f"got {out.tolist()}"
    )
    assert np.shape(one) == (1,) and np.allclose(one, [4.5]), (
        f"f(x, w) for the single row x = {x[:1].tolist()} should return [4.5] (shape (1,)), got "
        f"{np.asarray(one).tolist()} of shape {np.shape(one)}"
    )
    assert is_tensor(hand) and _dtype(hand) == np.float32, (
        f"f(x, w) should return a float32 tf.Tensor, got a {_kind(hand)} of dtype {_dtype(hand)}"
    )
    want = _numpy_port(x_rand, W_HAND)
    assert np.shape(rand) == want.shape and np.allclose(rand, want, atol=1e-5), (
        f"f(x, w) with the same w and {len(x_rand)} random rows should return "
        f"{want.round(4).tolist()}, got {np.asarray(rand).round(4).tolist()}"
    )


@points(1, exercise="port_tf1_to_tf2")
def test_port_one_graph_matches_tf1_session(sub):
    rng = np.random.default_rng()
    w = rng.normal(size=(3, 2)).astype(np.float32)
    sizes = [int(n) for n in rng.choice(np.arange(1, 12), size=3, replace=False)]
    batches = [rng.normal(scale=3.0, size=(n, 3)).astype(np.float32) for n in sizes]
    wrong = rng.normal(size=(int(rng.integers(2, 6)), 4)).astype(np.float32)
    result = sub.run(_probe_port_traced, batches, w)
    signed = sub.run(_probe_signature, [(wrong, np.ones((4, 2), np.float32))])
    assert result["traces"] is not None, (
        f"port_tf1_to_tf2 should return a tf.function (tf.function(..., input_signature=...)), "
        f"got a {result['type']}"
    )
    for x, got in zip(batches, result["outputs"], strict=True):
        want = _tf1_reference(x, w)
        assert np.shape(got) == want.shape and np.allclose(got, want, atol=1e-5), (
            f"f(x, w) for {len(x)} random rows and a random w should match the TF1 session's "
            f"{want.round(4).tolist()}, got {np.asarray(got).round(4).tolist()}"
        )
    assert result["traces"] == 1, (
        f"batches of {sizes} rows should share one graph, like one [None, 3] placeholder, but "
        f"f was traced {result['traces']} times: give tf.function an input_signature"
    )
    _check_signature(signed["spec"])
    _expect_refused(signed["outcomes"][0], f"f(x, w) with x of shape {wrong.shape} and w (4, 2)")


# ------------------------------------------------------------------------------- fixed_mse


@points(2, exercise="fixed_mse")
def test_fixed_mse_hand_computed(sub):
    y = np.array([0.0, 1.0, 2.0], np.float32)  # [3]
    pred = np.array([[0.0], [1.0], [4.0]], np.float32)  # [3, 1]
    # right: errors [0, 0, 2] -> (0 + 0 + 4) / 3 = 4/3; the broadcasting bug gives 36 / 9 = 4
    rng = np.random.default_rng()
    n = int(rng.integers(4, 12))
    y_rand = rng.normal(size=n)  # float64 [n]: cast to float32
    pred_rand = rng.normal(size=(n, 1))  # float64 [n, 1]
    hand, rand = sub.fixed_mse(y, pred), sub.fixed_mse(y_rand, pred_rand)
    got = _scalar(hand, "fixed_mse")
    table = float(np.mean((pred_rand - y_rand) ** 2))  # the [n, n] table's mean
    assert not (np.isclose(got, 4.0) and np.isclose(_number(rand, "fixed_mse"), table)), (
        "fixed_mse(y=[0, 1, 2], pred=[[0], [1], [4]]) returned 4.0, the mean of the broadcast "
        "[3, 3] table (and the same mistake on random points): pred - y still broadcasts"
    )
    assert np.isclose(got, 4.0 / 3.0), (
        f"fixed_mse(y=[0, 1, 2], pred=[[0], [1], [4]]) should return (0² + 0² + 2²) / 3 = 1.3333, "
        f"got {got}"
    )
    assert is_tensor(hand) and _dtype(hand) == np.float32, (
        f"fixed_mse should return a scalar float32 tf.Tensor, got a {_kind(hand)} of dtype "
        f"{_dtype(hand)}"
    )
    want = float(np.mean((pred_rand[:, 0] - y_rand) ** 2))
    got = _scalar(rand, "fixed_mse")
    assert np.isclose(got, want, rtol=1e-5), (
        f"fixed_mse on {n} random float64 points should return mean((pred[:, 0] - y)²) = "
        f"{want:.6f}, got {got:.6f}"
    )
    assert is_tensor(rand) and _dtype(rand) == np.float32, (
        f"fixed_mse on float64 inputs should return a float32 tf.Tensor (cast them first), got a "
        f"{_kind(rand)} of dtype {_dtype(rand)}"
    )


@points(1, exercise="fixed_mse")
def test_fixed_mse_refuses_wrong_layouts(sub):
    rng = np.random.default_rng()
    n, extra = int(rng.integers(2, 9)), int(rng.integers(1, 4))
    y, pred = rng.normal(size=n).astype(np.float32), rng.normal(size=(n, 1)).astype(np.float32)
    cases = {
        f"y of shape ({n}, 1) and pred of shape ({n}, 1) (y must be [N])": (y[:, None], pred),
        f"y of shape ({n},) and a flat pred of shape ({n},) (pred must be [N, 1])": (
            y,
            pred[:, 0],
        ),
        f"y of shape ({n},) and pred of shape ({n + extra}, 1) (not the same N)": (
            y,
            rng.normal(size=(n + extra, 1)).astype(np.float32),
        ),
    }
    outcomes = {
        label: sub.run(_probe_outcome, "fixed_mse", y_case, pred_case)
        for label, (y_case, pred_case) in cases.items()
    }
    for label, outcome in outcomes.items():
        _expect_raised(outcome, "ShapeError", f"fixed_mse with {label}")


# --------------------------------------------------------------------------------- SineNet


@points(2, exercise="SineNet")
def test_sinenet_variables_and_glorot_init(sub):
    names = sub.run(_probe_layers, sub.SineNet())["names"]
    rng = np.random.default_rng()
    seed = int(rng.integers(0, 10**6))
    sizes = (int(rng.integers(1, 4)), *(int(k) for k in rng.integers(8, 30, size=2)), 1)
    layers = sub.run(_probe_layers, sub.SineNet(sizes=sizes, seed=seed))
    assert names == SINE_NAMES, f"SineNet() variable names should be {SINE_NAMES}, got {names}"
    want_w = [(sizes[i], sizes[i + 1]) for i in range(3)]
    got_w = [tuple(np.shape(w)) for w in layers["weights"]]
    assert got_w == want_w, (
        f"SineNet(sizes={sizes}).weights should have shapes {want_w}, got {got_w}"
    )
    for i, b in enumerate(layers["biases"]):
        shown = np.asarray(b)
        assert shown.shape == (sizes[i + 1],) and np.all(shown == 0), (
            f"SineNet(sizes={sizes}): b{i} should start as {sizes[i + 1]} zeros (shape "
            f"({sizes[i + 1]},)), got shape {shown.shape} holding "
            f"{shown.ravel()[:5].round(3).tolist()}{'...' if shown.size > 5 else ''}"
        )
    for i, v in enumerate([*layers["weights"], *layers["biases"]]):
        what = f"W{i}" if i < 3 else f"b{i - 3}"
        assert is_variable(v) and _dtype(v) == np.float32, (
            f"SineNet: {what} should be a float32 tf.Variable, got a {_kind(v)} of dtype "
            f"{_dtype(v)}"
        )
    draws = _glorot_draws(sizes, seed)
    for i, (w, want) in enumerate(zip(layers["weights"], draws, strict=True)):
        w = np.asarray(w)
        limit = np.sqrt(6.0 / sum(want.shape))
        assert np.abs(w).max() <= limit + 1e-6, (
            f"SineNet(sizes={sizes}): W{i} of shape {want.shape} should lie in Glorot's "
            f"[-{limit:.3f}, {limit:.3f}], but max |W{i}| is {np.abs(w).max():.3f}"
        )
        assert np.allclose(w, want, atol=1e-6), (
            f"SineNet(sizes={sizes}, seed={seed}): W{i} should be the next draw "
            f"gen.uniform({list(want.shape)}, -l, l) of the one generator "
            f"gen = tf.random.Generator.from_seed({seed}), layer after layer; its first row "
            f"should be {want[0, :4].round(4).tolist()}..., got {w[0, :4].round(4).tolist()}..."
        )


@points(2, exercise="SineNet")
def test_sinenet_forward_hand_computed(sub):
    net = sub.SineNet(sizes=(1, 2, 1), seed=0)
    weights = [np.array([[1.0, -1.0]], np.float32), np.array([[2.0], [-3.0]], np.float32)]
    biases = [np.array([0.0, 0.5], np.float32), np.array([0.25], np.float32)]
    counts = sub.run(_probe_assign, net, weights, biases)
    rng = np.random.default_rng()
    sizes = (int(rng.integers(2, 5)), *(int(k) for k in rng.integers(2, 9, size=2)), 1)
    deep = sub.SineNet(sizes=sizes)
    deep_w, deep_b = _random_layers(rng, sizes)
    deep_counts = sub.run(_probe_assign, deep, deep_w, deep_b)
    x = rng.uniform(-8.0, 8.0, size=(6, sizes[0]))  # float64: cast to float32
    wide_x = rng.normal(size=(4, sizes[0] + 1)).astype(np.float32)
    # every call first, the checks after: a failed check then reports all the answers
    hand = sub.run(_probe_call, net, np.array([[1.0], [-2.0], [8.0]], np.float32))
    out = sub.run(_probe_call, deep, x)
    flat = sub.run(_probe_outcome, net, np.array([1.0, -2.0, 0.5], np.float32))
    wide = sub.run(_probe_outcome, deep, wide_x)
    assert tuple(counts) == (2, 2) and tuple(deep_counts) == (3, 3), (
        f"SineNet(sizes=(1, 2, 1)) should have 2 weights and 2 biases, got {tuple(counts)}; "
        f"SineNet(sizes={sizes}) 3 and 3, got {tuple(deep_counts)}"
    )
    # x = 1:  relu([1, -1] + [0, 0.5]) = [1, 0];    2·1 - 3·0 + 0.25 = 2.25
    # x = -2: relu([-2, 2] + [0, 0.5]) = [0, 2.5];  2·0 - 3·2.5 + 0.25 = -7.25 (linear output)
    # x = 8:  relu([8, -8] + [0, 0.5]) = [8, 0];    2·8 - 3·0 + 0.25 = 16.25
    shown = np.asarray(hand)
    assert shown.shape == (3, 1), (
        f"net(x) for x of shape (3, 1) should be (3, 1), got {shown.shape}"
    )
    assert np.allclose(shown[:, 0], [2.25, -7.25, 16.25]), (
        f"with W0 = [[1, -1]], b0 = [0, 0.5], W1 = [[2], [-3]], b1 = [0.25], net(x) for "
        f"x = [[1], [-2], [8]] should be [[2.25], [-7.25], [16.25]] (ReLU on the hidden layer, "
        f"a linear output), got {shown.tolist()}"
    )
    want = _numpy_forward(deep_w, deep_b, x.astype(np.float32))
    shown = np.asarray(out)
    assert shown.shape == want.shape and np.allclose(shown, want, atol=1e-5), (
        f"SineNet(sizes={sizes}) with random weights (ReLU after layers 0 and 1, layer 2 "
        f"linear) should predict {want[:, 0].round(4).tolist()} for 6 random inputs, got "
        f"{shown.round(4).tolist()}"
    )
    assert is_tensor(out) and _dtype(out) == np.float32, (
        f"net(x) for a float64 x should be a float32 tf.Tensor, got a {_kind(out)} of dtype "
        f"{_dtype(out)}"
    )
    _expect_raised(flat, "ShapeError", "net(x) for a flat x of shape (3,)")
    _expect_raised(
        wide,
        "ShapeError",
        f"SineNet(sizes={sizes})(x) for x of shape {wide_x.shape} ({sizes[0] + 1} features, "
        f"not {sizes[0]})",
    )


# ------------------------------------------------------------------------------ train_step


@points(2, exercise="train_step")
def test_train_step_hand_computed_and_adam(sub):
    rng = np.random.default_rng()
    w0, b0, offset = (float(np.float32(v)) for v in rng.normal(size=3))
    lr = float(rng.uniform(0.01, 0.2))
    n = int(rng.integers(3, 9))
    x_rand = rng.normal(size=(n, 1)).astype(np.float32)
    y_rand = rng.normal(size=(n, 1)).astype(np.float32)
    # every call first, the checks after: a failed check then reports all the answers
    hand_model = sub.run(_probe_line, 2.0, 0.0)
    rand_model = sub.run(_probe_line, w0, b0, offset)
    hand_step = sub.run(
        _probe_step,
        hand_model,
        sub.run(_probe_optimizer, "SGD", 0.1),
        tf.constant([[1.0], [2.0]]),
        tf.constant([[1.0], [1.0]]),
    )
    rand_step = sub.run(
        _probe_step,
        rand_model,
        sub.run(_probe_optimizer, "Adam", lr),
        tf.constant(x_rand),
        tf.constant(y_rand),
    )
    hand, rand = sub.run(_probe_layers, hand_model), sub.run(_probe_layers, rand_model)
    # pred [2, 4], errors [1, 3]: loss 0.5 · (1 + 9) / 2 = 2.5
    # dw = mean(error · x) = 3.5 -> 2 - 0.1 · 3.5 = 1.65;  db = mean(error) = 2 -> -0.2
    loss = _scalar(hand_step["loss"], "train_step")
    assert np.isclose(loss, 2.5), (
        f"on the docstring's example train_step should return the loss before the update, "
        f"0.5 · mean((pred - y)²) = 2.5, got {loss}"
    )
    w, b = float(hand["weights"][0][0, 0]), float(hand["biases"][0][0])
    assert np.isclose(w, 1.65) and np.isclose(b, -0.2), (
        f"on the docstring's example, one step of the given SGD(0.1) should move w to 1.65 and "
        f"b to -0.2, got w={w}, b={b}"
    )
    assert is_tensor(hand_step["loss"]) and _dtype(hand_step["loss"]) == np.float32, (
        f"train_step should return the loss as a scalar float32 tf.Tensor, got a "
        f"{_kind(hand_step['loss'])} of dtype {_dtype(hand_step['loss'])}"
    )
    want_loss, want_w, want_b = _reference_line_step(w0, b0, offset, x_rand, y_rand, "Adam", lr)
    loss = _scalar(rand_step["loss"], "train_step")
    w, b = float(rand["weights"][0][0, 0]), float(rand["biases"][0][0])
    assert np.isclose(loss, want_loss, rtol=1e-4, atol=1e-6), (
        f"on a random line model and a batch of {n}, train_step should return the loss before "
        f"the update {want_loss:.6f}, got {loss:.6f}"
    )
    assert np.isclose(w, want_w, atol=1e-5) and np.isclose(b, want_b, atol=1e-5), (
        f"on a random line model, one step of the given Adam({lr:.3f}) should give "
        f"w={want_w:.5f} and b={want_b:.5f}, got w={w:.5f}, b={b:.5f} (use the optimizer "
        f"you are given)"
    )
    frozen = float(rand["frozen"][0][0])
    assert frozen == np.float32(offset), (
        f"the line model's offset is a variable with trainable=False: a step must leave it at "
        f"{offset}, it is now {frozen}"
    )
    warned = hand_step["no_gradient_warnings"] + rand_step["no_gradient_warnings"]
    assert warned == 0, (
        "Keras warned 'Gradients do not exist for variables ...' during train_step: the step "
        "asked the tape for gradients of variables it does not watch (the line model's offset "
        "has trainable=False); ask for the gradients of model.trainable_variables only"
    )


@points(1, exercise="train_step")
def test_train_step_refuses_flat_targets(sub):
    rng = np.random.default_rng()
    n = int(rng.integers(3, 9))
    x = rng.normal(size=(n, 1)).astype(np.float32)
    cases = {
        f"y of shape ({n},)": rng.normal(size=n).astype(np.float32),
        f"y of shape ({n + 1}, 1)": rng.normal(size=(n + 1, 1)).astype(np.float32),
    }
    for label, y in cases.items():
        w0, b0 = float(rng.normal()), float(rng.normal())
        model = sub.run(_probe_line, w0, b0)
        opt = sub.run(_probe_optimizer, "SGD", 0.1)
        outcome = sub.run(_probe_outcome, "train_step", model, opt, x, y)
        layers = sub.run(_probe_layers, model)
        _expect_raised(outcome, "ShapeError", f"train_step with {label} and x ({n}, 1)")
        w, b = float(layers["weights"][0][0, 0]), float(layers["biases"][0][0])
        assert w == np.float32(w0) and b == np.float32(b0), (
            f"a refused step ({label}) must leave the variables alone: w and b were "
            f"{np.float32(w0)} and {np.float32(b0)}, they are now {w} and {b}"
        )


# ------------------------------------------------------------------------- save_checkpoint


def _check_keys(keys: list[str] | None, path: str, layers: int) -> None:
    """Fail unless the checkpoint at ``path`` holds the test model under the key ``model``."""
    want = sorted(f"model/{kind}/{i}" for kind in ("weights", "biases") for i in range(layers))
    under_model = [k for k in keys or [] if k.startswith("model/")]
    assert under_model == want, (
        f"the checkpoint {path!r} should hold the model's variables under the key 'model' "
        f"({want[0]}, ...), as tf.train.Checkpoint(model=model) saves them; it holds "
        f"{keys if keys is not None else 'nothing readable'}"
    )


@points(1, exercise="save_checkpoint")
def test_save_numbered_and_restorable(sub):
    rng = np.random.default_rng()
    directory = sub.run(_probe_tmpdir, _fresh_name())
    weights, biases = _random_layers(rng)
    model = sub.run(_probe_mlp, weights, biases)
    step = int(rng.integers(1, 10**5))
    path = sub.run(_probe_save, model, directory, step)["path"]
    want = _ckpt(directory, step)
    assert path == want, (
        f"save_checkpoint(model, directory, {step}) should return {want!r}, got {path!r}"
    )
    _check_keys(sub.run(_probe_keys, path), path, len(weights))
    fresh = sub.run(_probe_mlp, *_random_layers(rng))  # other values until the restore
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


def _save_several(sub, rng, max_to_keep: int | None) -> None:
    """Save a changing model several times; check paths, index, what is kept, the newest."""
    directory = sub.run(_probe_tmpdir, _fresh_name())
    keep = 3 if max_to_keep is None else max_to_keep
    steps = _digit_crossing_steps(rng, max(keep + int(rng.integers(1, 3)), 5))
    how = "max_to_keep left at its default" if max_to_keep is None else f"max_to_keep={keep}"
    options = {} if max_to_keep is None else {"max_to_keep": max_to_keep}
    weights, biases = _random_layers(rng)
    model = sub.run(_probe_mlp, weights, biases)
    paths = []
    for step in steps:
        weights, biases = [w + 1 for w in weights], [b - 1 for b in biases]
        sub.run(_probe_assign, model, weights, biases)
        paths.append(sub.run(_probe_save, model, directory, step, **options)["path"])
    want = [_ckpt(directory, s) for s in steps]
    assert paths == want, f"saves at steps {steps} should return {want}, got {paths}"
    latest = sub.run(_probe_latest, directory)
    assert latest == want[-1], (
        f"after saves at steps {steps}, tf.train.latest_checkpoint should find the last one "
        f"{want[-1]!r}, got {latest!r}"
    )
    kept = _kept(sub.run(_probe_listdir, directory))
    newest = [f"ckpt-{s}" for s in steps[-keep:]]
    assert kept == newest, (
        f"with {how}, after {len(steps)} saves at steps {steps} only the {keep} newest "
        f"{newest} should remain, found {kept}"
    )
    fresh = sub.run(_probe_mlp, *_random_layers(rng))
    problem = sub.run(_probe_restore, fresh, latest)
    assert problem is None, f"the newest checkpoint could not be restored: {problem}"
    x = np.linspace(-6.0, 6.0, 5, dtype=np.float32)[:, None]
    got = sub.run(_probe_call, fresh, x)
    assert np.allclose(got, _numpy_forward(weights, biases, x), atol=1e-5), (
        f"the newest checkpoint {latest!r} should hold the values of the last save"
    )


@points(1, exercise="save_checkpoint")
def test_save_keeps_max_to_keep_newest(sub):
    rng = np.random.default_rng()
    _save_several(sub, rng, int(rng.choice([1, 2, 4, 5])))
    _save_several(sub, rng, None)


# ---------------------------------------------------------------------- restore_checkpoint


@points(1, exercise="restore_checkpoint")
def test_restore_newest_into_fresh_model(sub):
    rng = np.random.default_rng()
    directory = sub.run(_probe_tmpdir, _fresh_name())
    steps = _digit_crossing_steps(rng, 3)
    series = [_random_layers(rng) for _ in steps]
    saver = sub.run(_probe_mlp, *series[0])
    paths = sub.run(_probe_save_series, directory, "model", saver, series, steps)
    newest = paths[-1]
    fresh = sub.run(_probe_mlp, *_random_layers(rng))
    path = sub.restore_checkpoint(fresh, directory)
    x = np.linspace(-6.0, 6.0, 5, dtype=np.float32)[:, None]
    got = sub.run(_probe_call, fresh, x)
    names = [os.path.basename(p) for p in paths]
    assert path == newest, (
        f"after saves {names} (in that order), restore_checkpoint should restore and return "
        f"the newest, {newest!r}, got {path!r}"
    )
    assert np.allclose(got, _numpy_forward(*series[-1], x), atol=1e-5), (
        f"after restore_checkpoint the model should predict what the model saved in {names[-1]} did"
    )


@points(1, exercise="restore_checkpoint")
def test_restore_refuses_missing_and_mismatched(sub):
    rng = np.random.default_rng()
    directory = sub.run(_probe_tmpdir, _fresh_name())
    model = sub.run(_probe_mlp, *_random_layers(rng))
    missing = sub.run(_probe_outcome, "restore_checkpoint", model, directory, mention=directory)
    other = sub.run(_probe_tmpdir, _fresh_name())
    step = int(rng.integers(1, 10**4))
    series = [_random_layers(rng)]
    saver = sub.run(_probe_mlp, *series[0])
    sub.run(_probe_save_series, other, "net", saver, series, [step])  # key "net"
    target = sub.run(_probe_mlp, *_random_layers(rng))
    mismatched = sub.run(_probe_outcome, "restore_checkpoint", target, other)
    _expect_raised(missing, "FileNotFoundError", "restore_checkpoint on an empty directory")
    assert missing["mentions"], (
        f"the FileNotFoundError should name the directory it looked in, {directory!r}"
    )
    _expect_raised(
        mismatched,
        "AssertionError",
        "restore_checkpoint on a checkpoint saved under the key 'net' (it holds no 'model', so "
        "nothing is restored)",
    )
