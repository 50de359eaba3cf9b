"""Hidden tests of the tutorial 3 assignment: other shapes, seeds, dtypes and the error cases.

As in the public tests, the ``_probe_*`` functions run in the worker next to the submission and
return data only; every expected value and check stays here. The helpers and probes both files
use live in ``tests_public.py``, which is beside this file wherever the hidden tests run (pytest
puts the folder on ``sys.path``); only helpers are imported, never ``test_*`` functions.
"""

import os

import keras
import numpy as np
import tensorflow as tf
from tests_public import (
    _check_signature,
    _ckpt,
    _dtype,
    _expect_raised,
    _expect_refused,
    _fresh_name,
    _glorot_draws,
    _numpy_forward,
    _numpy_port,
    _probe_assign,
    _probe_call,
    _probe_layers,
    _probe_line,
    _probe_listdir,
    _probe_mlp,
    _probe_optimizer,
    _probe_outcome,
    _probe_port_traced,
    _probe_restore,
    _probe_save,
    _probe_save_series,
    _probe_signature,
    _probe_tmpdir,
    _random_layers,
    _save_several,
    _scalar,
)

from tfcourse.grading.points import points
from tfcourse.review.sine import SineMLP


def _half_mse_step(model: tf.Module, optimizer: keras.optimizers.Optimizer, x, y) -> float:
    """Reference training step: loss before the update, then one optimizer step."""
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        loss = 0.5 * tf.reduce_mean(tf.square(model(x) - y))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    return float(loss)


# ----------------------------------------------------- probes (they run in the worker)


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


def _probe_save_module(sub, model, directory, step):
    """Save ``model`` under the key ``model`` as ``<directory>/ckpt-<step>`` (a manager's save)."""
    import tensorflow as tf

    checkpoint = tf.train.Checkpoint(model=model)
    return tf.train.CheckpointManager(checkpoint, directory, None).save(checkpoint_number=step)


# ------------------------------------------------------------------------ port_tf1_to_tf2


@points(1, exercise="port_tf1_to_tf2")
def test_port_traces_once_for_any_batch(sub):
    rng = np.random.default_rng()
    w = rng.normal(size=(3, 2)).astype(np.float32)
    sizes = [1, int(rng.integers(2, 20)), int(rng.integers(20, 200))]
    batches = [rng.normal(size=(batch, 3)).astype(np.float32) for batch in sizes]
    result = sub.run(_probe_port_traced, batches, w)
    assert result["traces"] is not None, (
        f"port_tf1_to_tf2 should return a tf.function, got a {result['type']}"
    )
    for x, got in zip(batches, result["outputs"], strict=True):
        batch = len(x)
        assert np.shape(got) == (batch,), (
            f"f(x, w) for {batch} rows should have shape ({batch},), got {np.shape(got)}"
        )
        assert np.allclose(got, _numpy_port(x, w), atol=1e-5), (
            f"f(x, w) for {batch} random rows should be {_numpy_port(x, w).round(4).tolist()}, "
            f"got {np.asarray(got).round(4).tolist()}"
        )
    traces = result["traces"]
    assert traces == 1, (
        f"batches of {sizes} rows should share one graph, but f was traced {traces} times; "
        "give tf.function an input_signature with a [None, 3] TensorSpec for x"
    )


@points(1, exercise="port_tf1_to_tf2")
def test_port_signature_refuses_wrong_shapes(sub):
    rng = np.random.default_rng()
    w = rng.normal(size=(3, 2)).astype(np.float32)
    x = rng.normal(size=(int(rng.integers(3, 9)), 3)).astype(np.float32)
    k = int(rng.integers(4, 7))
    cases = {
        "x and w of the right shapes": (x, w),
        f"x of shape ({len(x)}, {k}) and w of shape ({k}, 2)": (
            rng.normal(size=(len(x), k)).astype(np.float32),
            rng.normal(size=(k, 2)).astype(np.float32),
        ),
        "a float64 x": (x.astype(np.float64), w),
        "a flat x of shape (3,)": (x[0], w),
    }
    result = sub.run(_probe_signature, list(cases.values()))
    _check_signature(result["spec"])
    outcomes = dict(zip(cases, result["outcomes"], strict=True))
    right = outcomes.pop("x and w of the right shapes")
    want = _numpy_port(x, w)
    out = right.get("returned")
    assert out is not None and np.shape(out) == want.shape and np.allclose(out, want, atol=1e-5), (
        f"with its signature, f(x, w) for {len(x)} random rows should still be "
        f"{want.round(4).tolist()}, got {right}"
    )
    for label, outcome in outcomes.items():
        _expect_refused(outcome, f"f(x, w) with {label}")


# ------------------------------------------------------------------------------- fixed_mse


@points(1, exercise="fixed_mse")
def test_fixed_mse_random_batch_float64(sub):
    rng = np.random.default_rng()
    n = int(rng.integers(30, 70))
    y = rng.normal(size=n)  # float64 [n]
    pred = rng.normal(size=(n, 1))  # float64 [n, 1]
    y_one, pred_one = rng.normal(size=1), rng.normal(size=(1, 1))  # a batch of one point
    out, one = sub.fixed_mse(y, pred), sub.fixed_mse(y_one, pred_one)
    expected = np.mean((pred[:, 0] - y) ** 2)
    got = _scalar(out, "fixed_mse")
    assert np.isclose(got, expected, rtol=1e-5), (
        f"fixed_mse on {n} random float64 points should be {expected:.6f}, got {got:.6f}"
    )
    assert _dtype(out) == np.float32, (
        f"fixed_mse should return float32 for float64 inputs, got {_dtype(out)}"
    )
    expected = float((pred_one[0, 0] - y_one[0]) ** 2)
    got = _scalar(one, "fixed_mse")
    assert np.isclose(got, expected, rtol=1e-5), (
        f"fixed_mse on one point (y of shape (1,), pred of shape (1, 1)) should be "
        f"{expected:.6f}, got {got:.6f}"
    )


@points(1, exercise="fixed_mse")
def test_fixed_mse_refuses_other_layouts(sub):
    rng = np.random.default_rng()
    n, fewer = int(rng.integers(4, 12)), int(rng.integers(1, 3))
    y = rng.normal(size=n).astype(np.float32)
    pred = rng.normal(size=(n, 1)).astype(np.float32)
    cases = {
        f"pred of shape ({n}, 2)": (y, rng.normal(size=(n, 2)).astype(np.float32)),
        f"pred of shape ({n}, 1, 1)": (y, pred[:, :, None]),
        "a scalar y": (np.float32(0.5), pred),
        f"y of shape ({n}, 1) and a flat pred of shape ({n},)": (y[:, None], pred[:, 0]),
        f"y of shape ({n},) and pred of shape ({n - fewer}, 1)": (y, pred[: n - fewer]),
    }
    for label, (y_case, pred_case) in cases.items():
        outcome = sub.run(_probe_outcome, "fixed_mse", y_case, pred_case)
        _expect_raised(outcome, "ShapeError", f"fixed_mse with {label}")


# --------------------------------------------------------------------------------- SineNet


@points(1, exercise="SineNet")
def test_sinenet_deeper_seeded_init(sub):
    rng = np.random.default_rng()
    seed = int(rng.integers(0, 10**6))
    sizes = (int(rng.integers(1, 5)), *(int(k) for k in rng.integers(4, 16, size=3)), 1)
    net = sub.SineNet(sizes=sizes, seed=seed)
    layers = sub.run(_probe_layers, net)
    names = layers["names"]
    want_names = [f"layer_{i}/{k}{i}:0" for i in range(4) for k in "Wb"]
    assert names == want_names, (
        f"SineNet(sizes={sizes}) variable names should be {want_names}, got {names}"
    )
    draws = _glorot_draws(sizes, seed)
    for i, (w, b, want) in enumerate(zip(layers["weights"], layers["biases"], draws, strict=True)):
        assert np.allclose(np.asarray(w), want, atol=1e-6), (
            f"SineNet(sizes={sizes}, seed={seed}): W{i} should be the draw number {i + 1} "
            f"gen.uniform({list(want.shape)}, -l, l) of gen = tf.random.Generator.from_seed"
            f"({seed}) with l = sqrt(6 / ({want.shape[0]} + {want.shape[1]})); its first row "
            f"should start {want[0, :3].round(4).tolist()}, got "
            f"{np.asarray(w)[0, :3].round(4).tolist()}"
        )
        assert np.all(np.asarray(b) == 0), f"b{i} should start at zeros"


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
    out, one = sub.run(_probe_call, net, x), sub.run(_probe_call, net, x[:1])
    expected = _numpy_forward(weights, biases, x.astype(np.float32))
    assert np.shape(one) == (1, 1) and np.allclose(one, expected[:1], atol=1e-5), (
        f"SineNet() with random weights: net(x) for one input x = {x[:1].tolist()} should be "
        f"{expected[:1].round(4).tolist()}, got {np.asarray(one).round(4).tolist()}"
    )
    assert np.shape(out) == (7, 1) and np.allclose(out, expected, atol=1e-5), (
        f"SineNet() with random weights: net(x) for 7 float64 inputs should be "
        f"{expected[:, 0].round(4).tolist()}, got {np.asarray(out).round(4).tolist()}"
    )
    assert out.dtype == tf.float32, f"net(x) for float64 x should be float32, got {out.dtype.name}"
    for shape in [(7,), (7, 2), (7, 1, 1)]:
        outcome = sub.run(_probe_outcome, net, np.zeros(shape, np.float32))
        _expect_raised(outcome, "ShapeError", f"SineNet()(x) with x of shape {shape}")


# ------------------------------------------------------------------------------ train_step


@points(2, exercise="train_step")
def test_train_step_matches_reference_adam(sub):
    rng = np.random.default_rng()
    batch = int(rng.integers(16, 48))
    x = rng.uniform(-6.0, 6.0, size=(batch, 1)).astype(np.float32)
    y = (np.sin(x) + 0.05 * rng.normal(size=(batch, 1))).astype(np.float32)
    weights, biases = _random_layers(rng)
    reference = SineMLP()
    for var, value in zip(reference.weights + reference.biases, weights + biases, strict=True):
        var.assign(value)
    model = sub.run(_probe_mlp, weights, biases)
    opt, ref_opt = sub.run(_probe_optimizer, "Adam", 0.01), keras.optimizers.Adam(0.01)
    for step in range(3):
        loss = _scalar(sub.train_step(model, opt, x, y), "train_step")
        want = _half_mse_step(reference, ref_opt, x, y)
        assert np.isclose(loss, want, rtol=1e-5), (
            f"step {step} on the sine network (batch of {batch}): train_step should return the "
            f"loss before the update, 0.5 · mean((pred - y)²) = {want:.6f}, got {loss:.6f}"
        )
    layers = sub.run(_probe_layers, model)
    for name, mine, ref in zip(
        ["W0", "W1", "W2", "b0", "b1", "b2"],
        layers["weights"] + layers["biases"],
        reference.weights + reference.biases,
        strict=True,
    ):
        assert np.allclose(mine, ref.numpy(), atol=1e-5), (
            f"after 3 steps of the given Adam(0.01) on the sine network, {name} differs from a "
            f"reference step by up to {np.abs(mine - ref.numpy()).max():.2e}"
        )


@points(1, exercise="train_step")
def test_train_step_refuses_mismatched_targets(sub):
    rng = np.random.default_rng()
    n = int(rng.integers(3, 9))
    x = rng.normal(size=(n, 1)).astype(np.float32)
    cases = {
        f"y of shape ({n}, 2)": rng.normal(size=(n, 2)).astype(np.float32),
        "y of shape (1, 1)": rng.normal(size=(1, 1)).astype(np.float32),
    }
    for label, y in cases.items():
        w0, b0 = float(rng.normal()), float(rng.normal())
        model = sub.run(_probe_line, w0, b0)
        opt = sub.run(_probe_optimizer, "Adam", 0.1)
        outcome = sub.run(_probe_outcome, "train_step", model, opt, x, y)
        _expect_raised(outcome, "ShapeError", f"train_step with {label} and x ({n}, 1)")
        layers = sub.run(_probe_layers, model)
        w, b = float(layers["weights"][0][0, 0]), float(layers["biases"][0][0])
        assert w == np.float32(w0) and b == np.float32(b0), (
            f"a refused step ({label}) must leave the variables alone: w and b were "
            f"{np.float32(w0)} and {np.float32(b0)}, they are now {w} and {b}"
        )


# ------------------------------------------------------------------------- save_checkpoint


@points(1, exercise="save_checkpoint")
def test_save_any_module_only_inside_directory(sub):
    rng = np.random.default_rng()
    cwd_before = sub.run(_probe_listdir, ".")
    directory = sub.run(_probe_tmpdir, _fresh_name())
    value = float(np.float32(rng.uniform(-5.0, 5.0)))
    step = int(rng.integers(1, 10**6))
    holder = sub.run(_probe_holder, value)
    path = sub.run(_probe_save, holder, directory, step, max_to_keep=1)["path"]
    assert path == _ckpt(directory, step), (
        f"save_checkpoint(module, directory, {step}, max_to_keep=1) should return "
        f"{_ckpt(directory, step)!r}, got {path!r}"
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


@points(1, exercise="save_checkpoint")
def test_save_keeps_other_counts(sub):
    rng = np.random.default_rng()
    first, second = (int(k) for k in rng.choice([1, 2, 3, 4, 6], size=2, replace=False))
    _save_several(sub, rng, first)
    _save_several(sub, rng, second)


# ---------------------------------------------------------------------- restore_checkpoint


@points(1, exercise="restore_checkpoint")
def test_restore_newest_is_last_saved(sub):
    rng = np.random.default_rng()
    directory = sub.run(_probe_tmpdir, _fresh_name())
    first = int(rng.integers(1, 5000))
    later = int(rng.integers(first + 2, 10**4))
    restart = int(rng.integers(first + 1, later))
    steps = [first, later, restart]  # training restarted from `first` after the save at `later`
    series = [_random_layers(rng) for _ in steps]
    saver = sub.run(_probe_mlp, *series[0])
    sub.run(_probe_save_series, directory, "model", saver, series, steps)
    fresh = sub.run(_probe_mlp, *_random_layers(rng))
    path = sub.restore_checkpoint(fresh, directory)
    x = np.linspace(-6.0, 6.0, 5, dtype=np.float32)[:, None]
    got = sub.run(_probe_call, fresh, x)
    newest = _ckpt(directory, restart)
    assert path == newest, (
        f"after saves at steps {steps} in that order (a restart), the newest checkpoint is the "
        f"last one saved, {newest!r} (tf.train.latest_checkpoint reads the index file), got "
        f"{path!r}"
    )
    assert np.allclose(got, _numpy_forward(*series[-1], x), atol=1e-5), (
        f"after restore_checkpoint the model should predict what the model saved at step "
        f"{restart} did"
    )


@points(1, exercise="restore_checkpoint")
def test_restore_missing_directory_and_any_module(sub):
    rng = np.random.default_rng()
    parent = sub.run(_probe_tmpdir, _fresh_name())
    missing = os.path.join(parent, "never-written")
    model = sub.run(_probe_mlp, *_random_layers(rng))
    outcome = sub.run(_probe_outcome, "restore_checkpoint", model, missing, mention=missing)
    _expect_raised(outcome, "FileNotFoundError", "restore_checkpoint on a missing directory")
    assert outcome["mentions"], (
        f"the FileNotFoundError should name the directory it looked in, {missing!r}"
    )
    directory = sub.run(_probe_tmpdir, _fresh_name())
    value = float(np.float32(rng.uniform(-5.0, 5.0)))
    step = int(rng.integers(1, 10**6))
    saved = sub.run(_probe_save_module, sub.run(_probe_holder, value), directory, step)
    target = sub.run(_probe_holder, 0.0)
    path = sub.restore_checkpoint(target, directory)
    restored = np.asarray(sub.run(_probe_attr, target, "v")).tolist()
    assert path == saved and restored == [value, 2 * value], (
        f"restore_checkpoint on a bare tf.Module saved as {saved!r} should return that path and "
        f"give v = {[value, 2 * value]}, got {path!r} and v = {restored}"
    )
