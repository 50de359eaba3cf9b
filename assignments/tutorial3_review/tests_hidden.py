"""Hidden tests of the tutorial 3 assignment: other shapes, seeds, dtypes and the error cases.

As in the public tests, the ``_probe_*`` functions run in the worker next to the submission and
return data only; every expected value and check stays here. The helpers and probes both files
use live in ``tests_public.py``, which is beside this file wherever the hidden tests run (pytest
puts the folder on ``sys.path``); only helpers are imported, never ``test_*`` functions.
"""

import posixpath

import keras
import numpy as np
import tensorflow as tf
from tests_public import (
    _number,
    _numpy_forward,
    _numpy_port,
    _probe_assign,
    _probe_call,
    _probe_layers,
    _probe_optimizer,
    _probe_outcome,
    _probe_restore,
    _probe_save_series,
    _probe_sine_mlp,
    _probe_tmpdir,
    _random_layers,
)

from tfcourse.grading.points import points
from tfcourse.sine import SineMLP


def _half_mse_step(model: tf.Module, optimizer: keras.optimizers.Optimizer, x, y) -> float:
    """Reference training step: loss before the update, then one optimizer step."""
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        loss = 0.5 * tf.reduce_mean(tf.square(model(x) - y))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    return float(loss)


def _expect_raised(outcome: dict, kind: str, what: str) -> None:
    """Fail unless the probed call raised ``kind`` (a stub's NotImplementedError passed through)."""
    if "returned" in outcome:
        value = outcome["returned"]
        shown = np.asarray(value).tolist() if isinstance(value, np.ndarray) else value
        raise AssertionError(f"{what} should raise {kind}, returned {shown!r:.200}")
    if kind not in outcome["is"]:
        first = (outcome["message"].splitlines() or [""])[0][:120]
        raise AssertionError(
            f"{what} should raise {kind} before any op fails, got {outcome['raised']}: {first}"
        )


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


def _probe_signature(sub, w, x):
    """f's input_signature as (shape, dtype name) pairs; what f does with a [2, 4] x and ``x``."""
    import tensorflow as tf

    f = sub.port_tf1_to_tf2()
    spec = getattr(f, "input_signature", None)
    if spec is not None:
        spec = [
            (s.shape.as_list(), s.dtype.name) if isinstance(s, tf.TensorSpec) else repr(s)[:100]
            for s in spec
        ]
    try:
        wrong = {"returned": f(tf.ones((2, 4)), tf.constant(w))}
    except (TypeError, ValueError):
        wrong = {"refused": True}
    return {"spec": spec, "wrong": wrong, "out": f(tf.constant(x), tf.constant(w))}


def _probe_holder(sub, value):
    """Not a SineMLP: a bare tf.Module holding one variable ``v = [value, 2 · value]``."""
    import tensorflow as tf

    class Holder(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.v = tf.Variable([value, 2 * value], dtype=tf.float32)

    return Holder()


def _probe_attr(sub, obj, name):
    """``obj.<name>``."""
    return getattr(obj, name)


def _probe_listdir(sub, directory):
    """The sorted names in ``directory`` of the worker."""
    import os

    return sorted(os.listdir(directory))


def _probe_latest(sub, directory):
    """``tf.train.latest_checkpoint(directory)``."""
    import tensorflow as tf

    return tf.train.latest_checkpoint(directory)


# ------------------------------------------------------------------------ port_tf1_to_tf2


@points(1, exercise="port_tf1_to_tf2")
def test_port_traces_once_for_any_batch(sub):
    rng = np.random.default_rng()
    w = rng.normal(size=(3, 2)).astype(np.float32)
    batches = [rng.normal(size=(batch, 3)).astype(np.float32) for batch in (1, 4, 7)]
    result = sub.run(_probe_port_traced, batches, w)
    assert result["traces"] is not None, (
        f"port_tf1_to_tf2 should return a tf.function, got {result['type']}"
    )
    for x, got in zip(batches, result["outputs"], strict=True):
        batch = len(x)
        assert np.shape(got) == (batch,), (
            f"f(x, w) for {batch} rows should have shape ({batch},), got {np.shape(got)}"
        )
        assert np.allclose(got, _numpy_port(x, w), atol=1e-5), (
            f"f(x, w) for {batch} rows should be {_numpy_port(x, w).tolist()}, "
            f"got {np.asarray(got).tolist()}"
        )
    traces = result["traces"]
    assert traces == 1, (
        f"batches of 1, 4 and 7 rows should share one graph, but f was traced {traces} times; "
        "give tf.function an input_signature with a [None, 3] TensorSpec for x"
    )


@points(1, exercise="port_tf1_to_tf2")
def test_port_signature_refuses_wrong_shapes(sub):
    rng = np.random.default_rng()
    w = rng.normal(size=(3, 2)).astype(np.float32)
    x = rng.normal(size=(3, 3)).astype(np.float32)
    result = sub.run(_probe_signature, w, x)
    spec = result["spec"]
    assert spec is not None and len(spec) == 2, (
        f"port_tf1_to_tf2 should return a tf.function with an input_signature of 2 TensorSpecs, "
        f"got input_signature={spec}"
    )
    got = [tuple(s) if isinstance(s, tuple | list) else s for s in spec]
    want = [([None, 3], "float32"), ([3, 2], "float32")]
    assert got == want, f"the input_signature should be (shape, dtype) {want}, got {got}"
    if "returned" in result["wrong"]:
        value = np.asarray(result["wrong"]["returned"]).tolist()
        raise AssertionError(
            f"f(x of shape (2, 4), w) should be refused by the signature, but it returned {value}"
        )
    out = result["out"]
    assert np.shape(out) == (3,) and np.allclose(out, _numpy_port(x, w), atol=1e-5), (
        f"with its signature, f(x, w) for 3 rows should still be {_numpy_port(x, w).tolist()}, "
        f"got {np.asarray(result['out']).tolist()}"
    )


# ------------------------------------------------------------------------------- fixed_mse


@points(1, exercise="fixed_mse")
def test_fixed_mse_random_batch_float64(sub):
    rng = np.random.default_rng()
    n = int(rng.integers(30, 70))
    y = rng.normal(size=n)  # float64 [n]
    pred = rng.normal(size=(n, 1))  # float64 [n, 1]
    expected = np.mean((pred[:, 0] - y) ** 2)
    out = sub.fixed_mse(y, pred)
    dtype = np.asarray(out).dtype
    assert dtype == np.float32, f"fixed_mse should return float32 for float64 inputs, got {dtype}"
    assert np.shape(out) == (), f"fixed_mse should return a scalar, got shape {np.shape(out)}"
    assert np.isclose(float(out), expected, rtol=1e-5), (
        f"fixed_mse on {n} random points should be {expected:.6f}, got {float(out):.6f}"
    )


@points(1, exercise="fixed_mse")
def test_fixed_mse_refuses_bad_layouts(sub):
    y3 = np.array([0.0, 1.0, 2.0], np.float32)
    cases = {
        "pred flat (3,), y (3,)": (y3, np.array([0.0, 1.0, 4.0], np.float32)),
        "pred (4, 1), y (3,)": (y3, np.zeros((4, 1), np.float32)),
        "pred (3, 2), y (3,)": (y3, np.zeros((3, 2), np.float32)),
    }
    for label, (y, pred) in cases.items():
        outcome = sub.run(_probe_outcome, "fixed_mse", y, pred)
        _expect_raised(outcome, "ShapeError", f"fixed_mse with {label}")


# --------------------------------------------------------------------------------- SineNet


@points(1, exercise="SineNet")
def test_sinenet_init_glorot_zero_biases_seeded(sub):
    seed = int(np.random.default_rng().integers(0, 10**6))
    net = sub.run(_probe_layers, sub.SineNet(seed=seed))
    for i, (w, b) in enumerate(zip(net["weights"], net["biases"], strict=True)):
        fan_in, fan_out = np.shape(w)
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        assert w.dtype == tf.float32, f"W{i} should be float32, got {w.dtype}"
        assert np.abs(w).max() <= limit + 1e-6, (
            f"W{i} should lie in [-{limit:.3f}, {limit:.3f}] (Glorot uniform), "
            f"max |W{i}| is {np.abs(w).max():.3f}"
        )
        assert np.all(np.asarray(b) == 0), (
            f"b{i} should start at zeros, got {np.asarray(b).tolist()}"
        )
    std, want = np.std(net["weights"][1]), np.sqrt(6.0 / 40) / np.sqrt(3.0)  # U(-l, l): l/√3
    assert abs(std - want) < 0.2 * want, (
        f"W1 (20 x 20) should be uniform on [-l, l] with std l/√3 = {want:.3f}, got std {std:.3f}"
    )
    again = sub.run(_probe_layers, sub.SineNet(seed=seed))
    other = sub.run(_probe_layers, sub.SineNet(seed=seed + 1))
    assert np.array_equal(again["weights"][1], net["weights"][1]), (
        f"two SineNet(seed={seed}) should have identical weights: draw them with the given `gen`"
    )
    assert not np.array_equal(other["weights"][1], net["weights"][1]), (
        f"SineNet(seed={seed}) and SineNet(seed={seed + 1}) should have different weights"
    )
    names = sub.run(_probe_layers, sub.SineNet(sizes=(1, 8, 8, 8, 1)))["names"]
    assert len(names) == 8 and names[-2:] == ["layer_3/W3:0", "layer_3/b3:0"], (
        f"SineNet(sizes=(1, 8, 8, 8, 1)) should have 8 variables ending with layer_3/W3:0 and "
        f"layer_3/b3:0, got {names}"
    )


@points(1, exercise="SineNet")
def test_sinenet_forward_reference_and_guard(sub):
    rng = np.random.default_rng()
    net = sub.SineNet(seed=int(rng.integers(0, 10**6)))
    weights, biases = _random_layers(rng)
    counts = sub.run(_probe_assign, net, weights, biases)
    assert tuple(counts) == (3, 3), (
        f"SineNet() should have 3 weights and 3 biases, got {tuple(counts)}"
    )
    x = np.sort(rng.uniform(-6.0, 6.0, size=7))[:, None]  # float64 [7, 1]
    out = sub.run(_probe_call, net, x)
    assert out.dtype == tf.float32 and np.shape(out) == (7, 1), (
        f"net(x) for float64 x of shape (7, 1) should be float32 (7, 1), "
        f"got {out.dtype.name} {np.shape(out)}"
    )
    expected = _numpy_forward(weights, biases, x.astype(np.float32))
    assert np.allclose(out, expected, atol=1e-5), (
        f"net(x) should be {expected[:, 0].round(4).tolist()}, "
        f"got {np.asarray(out)[:, 0].round(4).tolist()}"
    )
    small = sub.SineNet(sizes=(1, 2, 1))
    hand_w = [np.array([[1.0, -1.0]], np.float32), np.array([[-2.0], [3.0]], np.float32)]
    hand_b = [np.array([0.0, 0.5], np.float32), np.array([0.25], np.float32)]
    sub.run(_probe_assign, small, hand_w, hand_b)
    # x = 1: hidden relu([1, -0.5]) = [1, 0]; output -2·1 + 0.25 = -1.75 (no ReLU on the output)
    value = _number(sub.run(_probe_call, small, np.array([[1.0]], np.float32)), "net(x)")
    assert np.isclose(value, -1.75), (
        f"the last layer is linear: the docstring example with W1 = [[-2], [3]] should give "
        f"-1.75, got {value}"
    )
    for shape in [(7,), (7, 2)]:
        outcome = sub.run(_probe_outcome, net, np.zeros(shape, np.float32))
        _expect_raised(outcome, "ShapeError", f"net(x) with x of shape {shape}")


# ------------------------------------------------------------------------------ train_step


@points(2, exercise="train_step")
def test_train_step_matches_reference_adam(sub):
    rng = np.random.default_rng()
    x = rng.uniform(-6.0, 6.0, size=(32, 1)).astype(np.float32)
    y = (np.sin(x) + 0.05 * rng.normal(size=(32, 1))).astype(np.float32)
    weights, biases = _random_layers(rng)
    reference = SineMLP()
    for var, value in zip(reference.weights + reference.biases, weights + biases, strict=True):
        var.assign(value)
    model = sub.run(_probe_sine_mlp, weights, biases)
    opt, ref_opt = sub.run(_probe_optimizer, "Adam", 0.01), keras.optimizers.Adam(0.01)
    for step in range(3):
        loss = sub.train_step(model, opt, x, y)
        want = _half_mse_step(reference, ref_opt, x, y)
        dtype = np.asarray(loss).dtype
        assert np.shape(loss) == () and dtype == np.float32, (
            f"train_step should return a float32 scalar, got {dtype} of shape {np.shape(loss)}"
        )
        assert np.isclose(float(loss), want, rtol=1e-5), (
            f"step {step}: train_step should return the loss before the update, "
            f"0.5 · mean((pred - y)²) = {want:.6f}, got {float(loss):.6f}"
        )
    layers = sub.run(_probe_layers, model)
    for name, mine, ref in zip(
        ["W0", "W1", "W2", "b0", "b1", "b2"],
        layers["weights"] + layers["biases"],
        reference.weights + reference.biases,
        strict=True,
    ):
        assert np.allclose(mine, ref.numpy(), atol=1e-5), (
            f"after 3 Adam steps {name} differs from a reference step by up to "
            f"{np.abs(mine - ref.numpy()).max():.2e}"
        )


@points(1, exercise="train_step")
def test_train_step_refuses_flat_targets(sub):
    weights, biases = _random_layers(np.random.default_rng())
    model = sub.run(_probe_sine_mlp, weights, biases)
    opt = sub.run(_probe_optimizer, "SGD", 0.1)
    x = np.linspace(-1.0, 1.0, 8, dtype=np.float32)[:, None]
    outcome = sub.run(_probe_outcome, "train_step", model, opt, x, np.sin(x[:, 0]))
    what = "train_step with y of shape (8,) and predictions (8, 1)"
    _expect_raised(outcome, "ShapeError", what)
    layers = sub.run(_probe_layers, model)
    changed = [
        f"{kind}{i}"
        for kind, after, before in (
            ("W", layers["weights"], weights),
            ("b", layers["biases"], biases),
        )
        for i, (a, b) in enumerate(zip(after, before, strict=True))
        if not np.array_equal(a, b)
    ]
    assert not changed, f"a refused step must leave the variables alone, but {changed} changed"


# ------------------------------------------------------------------------- save_checkpoint


@points(1, exercise="save_checkpoint")
def test_save_latest_is_newest_and_keeps_three(sub):
    rng = np.random.default_rng()
    directory = sub.run(_probe_tmpdir)
    weights, biases = _random_layers(rng)
    model = sub.run(_probe_sine_mlp, weights, biases)
    paths = []
    for step in (1000, 2000, 3000, 4000):
        weights, biases = [w + 1 for w in weights], [b + 1 for b in biases]
        sub.run(_probe_assign, model, weights, biases)
        paths.append(sub.save_checkpoint(model, directory, step))
    want = [posixpath.join(directory, f"ckpt-{step}") for step in (1000, 2000, 3000, 4000)]
    assert paths == want, f"four saves at steps 1000..4000 should return {want}, got {paths}"
    latest = sub.run(_probe_latest, directory)
    assert latest == want[-1], (
        f"tf.train.latest_checkpoint should find the last save {want[-1]!r}, got {latest!r}; "
        "save through a tf.train.CheckpointManager, which updates the checkpoint index file"
    )
    kept = sorted(
        name[: -len(".index")]
        for name in sub.run(_probe_listdir, directory)
        if name.endswith(".index")
    )
    assert kept == ["ckpt-2000", "ckpt-3000", "ckpt-4000"], (
        f"with max_to_keep=3 only the 3 newest checkpoints should remain, found {kept}"
    )
    fresh = sub.run(_probe_sine_mlp, *_random_layers(rng))
    problem = sub.run(_probe_restore, fresh, latest)
    assert problem is None, f"the newest checkpoint could not be restored: {problem}"
    x = np.linspace(-6.0, 6.0, 5, dtype=np.float32)[:, None]
    got = sub.run(_probe_call, fresh, x)
    assert np.allclose(got, _numpy_forward(weights, biases, x), atol=1e-5), (
        "the newest checkpoint should hold the values of the last save"
    )


@points(1, exercise="save_checkpoint")
def test_save_any_module_only_inside_directory(sub):
    cwd_before = sub.run(_probe_listdir, ".")
    directory = sub.run(_probe_tmpdir)
    value = float(np.float32(np.random.default_rng().uniform(-5.0, 5.0)))
    path = sub.save_checkpoint(sub.run(_probe_holder, value), directory, 7, max_to_keep=1)
    assert isinstance(path, str) and posixpath.dirname(posixpath.normpath(path)) == directory, (
        f"the checkpoint should be written in {directory!r}, got {path!r}"
    )
    assert sub.run(_probe_listdir, ".") == cwd_before, (
        "save_checkpoint wrote files into the current directory; write only into `directory`"
    )
    target = sub.run(_probe_holder, 0.0)
    problem = sub.run(_probe_restore, target, path)
    assert problem is None, f"the saved tf.Module could not be restored: {problem}"
    restored = np.asarray(sub.run(_probe_attr, target, "v")).tolist()
    assert restored == [value, 2 * value], (
        f"restoring the saved tf.Module should give v = {[value, 2 * value]}, got {restored}"
    )


# ---------------------------------------------------------------------- restore_checkpoint


@points(1, exercise="restore_checkpoint")
def test_restore_missing_checkpoint_raises(sub):
    directory = sub.run(_probe_tmpdir)
    model = sub.run(_probe_sine_mlp, *_random_layers(np.random.default_rng()))
    outcome = sub.run(_probe_outcome, "restore_checkpoint", model, directory)
    if "returned" in outcome:
        raise AssertionError(
            "restore_checkpoint on an empty directory should raise FileNotFoundError"
        )
    _expect_raised(outcome, "FileNotFoundError", "restore_checkpoint on an empty directory")
    assert directory in outcome["message"], (
        f"the FileNotFoundError should name the directory {directory!r}, got: {outcome['message']}"
    )


@points(1, exercise="restore_checkpoint")
def test_restore_newest_and_detect_mismatch(sub):
    rng = np.random.default_rng()
    directory = sub.run(_probe_tmpdir)
    weights, biases = _random_layers(rng)
    doubled = ([2.0 * w for w in weights], [2.0 * b for b in biases])
    paths = sub.run(_probe_save_series, directory, "model", [(weights, biases), doubled])
    newest = paths[-1]
    fresh = sub.run(_probe_sine_mlp, *_random_layers(rng))
    path = sub.restore_checkpoint(fresh, directory)
    assert path == newest, f"restore_checkpoint should restore the newest {newest!r}, got {path!r}"
    x = np.linspace(-6.0, 6.0, 5, dtype=np.float32)[:, None]
    got = sub.run(_probe_call, fresh, x)
    assert np.allclose(got, _numpy_forward(*doubled, x), atol=1e-5), (
        "after restore_checkpoint the model should predict what the newest checkpoint's model did"
    )
    other = sub.run(_probe_tmpdir)
    sub.run(_probe_save_series, other, "net", [doubled])  # key "net", not "model"
    target = sub.run(_probe_sine_mlp, *_random_layers(rng))
    outcome = sub.run(_probe_outcome, "restore_checkpoint", target, other)
    message = (
        "a checkpoint saved under the key 'net' holds no 'model': restore_checkpoint should "
        "raise AssertionError (call .assert_existing_objects_matched() on the restore status)"
    )
    if "returned" in outcome:
        raise AssertionError(message)
    assert "AssertionError" in outcome["is"], (
        f"{message}; got {outcome['raised']}: {outcome['message'][:200]}"
    )
