"""Hidden tests of the tutorial 3 assignment: other shapes, seeds, dtypes and the error cases."""

import os
import tempfile

import keras
import numpy as np
import tensorflow as tf

from tfcourse.errors import ShapeError
from tfcourse.grading.points import points
from tfcourse.sine import SineMLP

BIAS = np.array([[0.5, -1.0]], np.float32)


def _numpy_port(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """sum(relu(x @ w + b), axis=1) in plain numpy."""
    return np.maximum(x @ w + BIAS, 0.0).sum(axis=1)


def _numpy_forward(weights: list, biases: list, x: np.ndarray) -> np.ndarray:
    """A ReLU MLP with a linear last layer, in plain numpy."""
    h = x
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = h @ np.asarray(w) + np.asarray(b)
        if i < len(weights) - 1:
            h = np.maximum(h, 0.0)
    return h


def _half_mse_step(model: tf.Module, optimizer: keras.optimizers.Optimizer, x, y) -> float:
    """Reference training step: loss before the update, then one optimizer step."""
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        loss = 0.5 * tf.reduce_mean(tf.square(model(x) - y))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    return float(loss)


def _expect_shape_error(call, what: str) -> None:
    """Fail unless ``call()`` raises ShapeError (a stub's NotImplementedError passes through)."""
    try:
        value = call()
    except ShapeError:
        return
    except NotImplementedError:
        raise
    except Exception as exc:  # e.g. a TensorFlow error from deep inside an op
        raise AssertionError(
            f"{what} should raise ShapeError before any op fails, got {type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:120]}"
        ) from None
    raise AssertionError(f"{what} should raise ShapeError, returned {value}")


class _Holder(tf.Module):
    """Not a SineMLP: any tf.Module with variables must save the same way."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.v = tf.Variable([value, 2 * value])


# ------------------------------------------------------------------------ port_tf1_to_tf2


@points(1, exercise="port_tf1_to_tf2")
def test_port_traces_once_for_any_batch(sub):
    f = sub.port_tf1_to_tf2()
    assert hasattr(f, "experimental_get_tracing_count"), (
        f"port_tf1_to_tf2 should return a tf.function, got {type(f).__name__}"
    )
    rng = np.random.default_rng(1)
    w = rng.normal(size=(3, 2)).astype(np.float32)
    for batch in (1, 4, 7):
        x = rng.normal(size=(batch, 3)).astype(np.float32)
        got = np.asarray(f(tf.constant(x), tf.constant(w)))
        assert got.shape == (batch,), (
            f"f(x, w) for {batch} rows should have shape ({batch},), got {got.shape}"
        )
        assert np.allclose(got, _numpy_port(x, w), atol=1e-5), (
            f"f(x, w) for {batch} rows should be {_numpy_port(x, w).tolist()}, got {got.tolist()}"
        )
    traces = f.experimental_get_tracing_count()
    assert traces == 1, (
        f"batches of 1, 4 and 7 rows should share one graph, but f was traced {traces} times; "
        "give tf.function an input_signature with a [None, 3] TensorSpec for x"
    )


@points(1, exercise="port_tf1_to_tf2")
def test_port_signature_refuses_wrong_shapes(sub):
    f = sub.port_tf1_to_tf2()
    spec = getattr(f, "input_signature", None)
    assert spec is not None and len(spec) == 2, (
        f"port_tf1_to_tf2 should return a tf.function with an input_signature of 2 TensorSpecs, "
        f"got input_signature={spec}"
    )
    got = [(s.shape.as_list(), s.dtype) for s in spec]
    want = [([None, 3], tf.float32), ([3, 2], tf.float32)]
    assert got == want, f"the input_signature should be (shape, dtype) {want}, got {got}"
    w = np.ones((3, 2), np.float32)
    try:
        value = f(tf.ones((2, 4)), tf.constant(w))
    except (TypeError, ValueError):
        return
    raise AssertionError(
        f"f(x of shape (2, 4), w) should be refused by the signature, but it returned {value}"
    )


# ------------------------------------------------------------------------------- fixed_mse


@points(1, exercise="fixed_mse")
def test_fixed_mse_random_batch_float64(sub):
    rng = np.random.default_rng(2)
    y = rng.normal(size=50)  # float64 [50]
    pred = rng.normal(size=(50, 1))  # float64 [50, 1]
    expected = np.mean((pred[:, 0] - y) ** 2)
    out = sub.fixed_mse(y, pred)
    dtype = tf.convert_to_tensor(out).dtype
    assert dtype == tf.float32, f"fixed_mse should return float32 for float64 inputs, got {dtype}"
    assert np.shape(out) == (), f"fixed_mse should return a scalar, got shape {np.shape(out)}"
    assert np.isclose(float(out), expected, rtol=1e-5), (
        f"fixed_mse on 50 random points should be {expected:.6f}, got {float(out):.6f}"
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
        _expect_shape_error(
            lambda y=y, pred=pred: sub.fixed_mse(y, pred), f"fixed_mse with {label}"
        )


# --------------------------------------------------------------------------------- SineNet


@points(1, exercise="SineNet")
def test_sinenet_init_glorot_zero_biases_seeded(sub):
    net = sub.SineNet(seed=3)
    for i, (w, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        fan_in, fan_out = w.shape
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        values = w.numpy()
        assert w.dtype == tf.float32, f"W{i} should be float32, got {w.dtype}"
        assert np.abs(values).max() <= limit + 1e-6, (
            f"W{i} should lie in [-{limit:.3f}, {limit:.3f}] (Glorot uniform), "
            f"max |W{i}| is {np.abs(values).max():.3f}"
        )
        assert np.all(b.numpy() == 0), f"b{i} should start at zeros, got {b.numpy().tolist()}"
    std, want = net.weights[1].numpy().std(), np.sqrt(6.0 / 40) / np.sqrt(3.0)  # U(-l, l): l/√3
    assert abs(std - want) < 0.2 * want, (
        f"W1 (20 x 20) should be uniform on [-l, l] with std l/√3 = {want:.3f}, got std {std:.3f}"
    )
    again, other = sub.SineNet(seed=3), sub.SineNet(seed=4)
    assert np.array_equal(again.weights[1].numpy(), net.weights[1].numpy()), (
        "two SineNet(seed=3) should have identical weights: draw them with the given `gen`"
    )
    assert not np.array_equal(other.weights[1].numpy(), net.weights[1].numpy()), (
        "SineNet(seed=3) and SineNet(seed=4) should have different weights"
    )
    deep = sub.SineNet(sizes=(1, 8, 8, 8, 1))
    names = sorted(v.name for v in deep.trainable_variables)
    assert len(names) == 8 and names[-2:] == ["layer_3/W3:0", "layer_3/b3:0"], (
        f"SineNet(sizes=(1, 8, 8, 8, 1)) should have 8 variables ending with layer_3/W3:0 and "
        f"layer_3/b3:0, got {names}"
    )


@points(1, exercise="SineNet")
def test_sinenet_forward_reference_and_guard(sub):
    net = sub.SineNet(seed=5)
    x = np.linspace(-6.0, 6.0, 7)[:, None]  # float64 [7, 1]
    out = net(x)
    assert out.dtype == tf.float32 and tuple(out.shape) == (7, 1), (
        f"net(x) for float64 x of shape (7, 1) should be float32 (7, 1), "
        f"got {out.dtype.name} {tuple(out.shape)}"
    )
    expected = _numpy_forward(net.weights, net.biases, x.astype(np.float32))
    assert np.allclose(out.numpy(), expected, atol=1e-5), (
        f"net(x) should be {expected[:, 0].round(4).tolist()}, "
        f"got {out.numpy()[:, 0].round(4).tolist()}"
    )
    small = sub.SineNet(sizes=(1, 2, 1))
    small.weights[0].assign([[1.0, -1.0]])
    small.biases[0].assign([0.0, 0.5])
    small.weights[1].assign([[-2.0], [3.0]])
    small.biases[1].assign([0.25])
    # x = 1: hidden relu([1, -0.5]) = [1, 0]; output -2·1 + 0.25 = -1.75 (no ReLU on the output)
    value = float(small(np.array([[1.0]], np.float32))[0, 0])
    assert np.isclose(value, -1.75), (
        f"the last layer is linear: the docstring example with W1 = [[-2], [3]] should give "
        f"-1.75, got {value}"
    )
    for shape in [(7,), (7, 2)]:
        x_bad = np.zeros(shape, np.float32)
        _expect_shape_error(lambda x_bad=x_bad: net(x_bad), f"net(x) with x of shape {shape}")


# ------------------------------------------------------------------------------ train_step


@points(2, exercise="train_step")
def test_train_step_matches_reference_adam(sub):
    rng = np.random.default_rng(3)
    x = rng.uniform(-6.0, 6.0, size=(32, 1)).astype(np.float32)
    y = (np.sin(x) + 0.05 * rng.normal(size=(32, 1))).astype(np.float32)
    model, reference = SineMLP(seed=1), SineMLP(seed=1)
    opt, ref_opt = keras.optimizers.Adam(0.01), keras.optimizers.Adam(0.01)
    for step in range(3):
        loss = sub.train_step(model, opt, x, y)
        want = _half_mse_step(reference, ref_opt, x, y)
        dtype = tf.convert_to_tensor(loss).dtype
        assert np.shape(loss) == () and dtype == tf.float32, (
            f"train_step should return a float32 scalar, got {dtype.name} of shape {np.shape(loss)}"
        )
        assert np.isclose(float(loss), want, rtol=1e-5), (
            f"step {step}: train_step should return the loss before the update, "
            f"0.5 · mean((pred - y)²) = {want:.6f}, got {float(loss):.6f}"
        )
    for mine, ref in zip(model.params, reference.params, strict=True):
        assert np.allclose(mine.numpy(), ref.numpy(), atol=1e-5), (
            f"after 3 Adam steps {mine.name} differs from a reference step by up to "
            f"{np.abs(mine.numpy() - ref.numpy()).max():.2e}"
        )


@points(1, exercise="train_step")
def test_train_step_refuses_flat_targets(sub):
    model = SineMLP(seed=2)
    before = [v.numpy().copy() for v in model.params]
    x = np.linspace(-1.0, 1.0, 8, dtype=np.float32)[:, None]
    try:
        value = sub.train_step(model, keras.optimizers.SGD(0.1), x, np.sin(x[:, 0]))
    except ShapeError:
        value = None
    assert value is None, (
        f"train_step with y of shape (8,) and predictions (8, 1) should raise ShapeError, "
        f"returned {value}"
    )
    after = [v.numpy() for v in model.params]
    changed = [
        v.name for v, a, b in zip(model.params, after, before, strict=True) if (a != b).any()
    ]
    assert not changed, f"a refused step must leave the variables alone, but {changed} changed"


# ------------------------------------------------------------------------- save_checkpoint


@points(1, exercise="save_checkpoint")
def test_save_latest_is_newest_and_keeps_three(sub):
    directory = tempfile.mkdtemp()
    model = SineMLP(seed=0)
    paths = []
    for step in (1000, 2000, 3000, 4000):
        for v in model.params:
            v.assign_add(tf.ones_like(v))
        paths.append(sub.save_checkpoint(model, directory, step))
    want = [os.path.join(directory, f"ckpt-{step}") for step in (1000, 2000, 3000, 4000)]
    assert paths == want, f"four saves at steps 1000..4000 should return {want}, got {paths}"
    latest = tf.train.latest_checkpoint(directory)
    assert latest == want[-1], (
        f"tf.train.latest_checkpoint should find the last save {want[-1]!r}, got {latest!r}; "
        "save through a tf.train.CheckpointManager, which updates the checkpoint index file"
    )
    kept = sorted(
        name[: -len(".index")] for name in os.listdir(directory) if name.endswith(".index")
    )
    assert kept == ["ckpt-2000", "ckpt-3000", "ckpt-4000"], (
        f"with max_to_keep=3 only the 3 newest checkpoints should remain, found {kept}"
    )
    fresh = SineMLP(seed=9)
    tf.train.Checkpoint(model=fresh).restore(latest).assert_existing_objects_matched()
    x = np.linspace(-6.0, 6.0, 5, dtype=np.float32)[:, None]
    assert np.array_equal(fresh(x).numpy(), model(x).numpy()), (
        "the newest checkpoint should hold the values of the last save"
    )


@points(1, exercise="save_checkpoint")
def test_save_any_module_only_inside_directory(sub):
    cwd_before = sorted(os.listdir(os.getcwd()))
    directory = tempfile.mkdtemp()
    path = sub.save_checkpoint(_Holder(1.5), directory, 7, max_to_keep=1)
    assert os.path.dirname(os.path.abspath(path)) == os.path.abspath(directory), (
        f"the checkpoint should be written in {directory!r}, got {path!r}"
    )
    assert sorted(os.listdir(os.getcwd())) == cwd_before, (
        "save_checkpoint wrote files into the current directory; write only into `directory`"
    )
    target = _Holder(0.0)
    tf.train.Checkpoint(model=target).restore(path).assert_existing_objects_matched()
    assert target.v.numpy().tolist() == [1.5, 3.0], (
        f"restoring the saved tf.Module should give v = [1.5, 3.0], got {target.v.numpy().tolist()}"
    )


# ---------------------------------------------------------------------- restore_checkpoint


@points(1, exercise="restore_checkpoint")
def test_restore_missing_checkpoint_raises(sub):
    directory = tempfile.mkdtemp()
    try:
        sub.restore_checkpoint(SineMLP(seed=0), directory)
    except FileNotFoundError as err:
        assert directory in str(err), (
            f"the FileNotFoundError should name the directory {directory!r}, got: {err}"
        )
        return
    raise AssertionError("restore_checkpoint on an empty directory should raise FileNotFoundError")


@points(1, exercise="restore_checkpoint")
def test_restore_newest_and_detect_mismatch(sub):
    directory = tempfile.mkdtemp()
    model = SineMLP(seed=0)
    ckpt = tf.train.Checkpoint(model=model)
    ckpt.save(os.path.join(directory, "ckpt"))
    for v in model.params:
        v.assign(2.0 * v)
    newest = ckpt.save(os.path.join(directory, "ckpt"))
    fresh = SineMLP(seed=4)
    path = sub.restore_checkpoint(fresh, directory)
    assert path == newest, f"restore_checkpoint should restore the newest {newest!r}, got {path!r}"
    x = np.linspace(-6.0, 6.0, 5, dtype=np.float32)[:, None]
    assert np.array_equal(fresh(x).numpy(), model(x).numpy()), (
        "after restore_checkpoint the model should predict what the newest checkpoint's model did"
    )
    other = tempfile.mkdtemp()
    tf.train.Checkpoint(net=model).save(os.path.join(other, "ckpt"))  # key "net", not "model"
    try:
        sub.restore_checkpoint(SineMLP(seed=4), other)
    except AssertionError:
        return
    raise AssertionError(
        "a checkpoint saved under the key 'net' holds no 'model': restore_checkpoint should "
        "raise AssertionError (call .assert_existing_objects_matched() on the restore status)"
    )
