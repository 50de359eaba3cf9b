"""Public tests of the tutorial 3 assignment (TF1 vs TF2, shapes, sine regression, checkpoints).

Run them from the notebook with ``check("fixed_mse")`` (or any other exercise name).
"""

import os
import tempfile

import keras
import numpy as np
import tensorflow as tf

from tfcourse.compat_v1 import V1, v1_session
from tfcourse.errors import ShapeError
from tfcourse.grading.points import points
from tfcourse.sine import SineMLP

W_HAND = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]], np.float32)  # [3, 2]


def _tf1_reference(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The TF1 graph of port_tf1_to_tf2's docstring, run in a private graph and session."""
    with v1_session() as (_, sess):
        x_ph = V1.placeholder(tf.float32, shape=[None, 3], name="x")
        w_ph = V1.placeholder(tf.float32, shape=[3, 2], name="w")
        b = tf.constant([[0.5, -1.0]])
        out = tf.reduce_sum(tf.nn.relu(tf.matmul(x_ph, w_ph) + b), axis=1)
        return sess.run(out, feed_dict={x_ph: x, w_ph: w})


class _Line(tf.Module):
    """pred = x @ w + b with w = [[2]], b = [0]: a model small enough to step by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.w = tf.Variable([[2.0]])
        self.b = tf.Variable([0.0])

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return tf.matmul(x, self.w) + self.b


# ------------------------------------------------------------------------ port_tf1_to_tf2


@points(2, exercise="port_tf1_to_tf2")
def test_port_hand_computed(sub):
    f = sub.port_tf1_to_tf2()
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 0.0]], np.float32)
    # row 0: x @ w = [1 + 3, 2 - 3] = [4, -1]; + b = [4.5, -2]; relu [4.5, 0]; sum 4.5
    # row 1: x @ w = [-1, 0]; + b = [-0.5, -1]; relu [0, 0]; sum 0
    out = np.asarray(f(tf.constant(x), tf.constant(W_HAND)))
    assert out.shape == (2,), (
        f"f(x, w) for x of shape (2, 3) should have shape (2,), got {out.shape}"
    )
    assert np.allclose(out, [4.5, 0.0]), f"f(x, w) should return [4.5, 0.0], got {out.tolist()}"


@points(1, exercise="port_tf1_to_tf2")
def test_port_matches_tf1_session(sub):
    f = sub.port_tf1_to_tf2()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3)).astype(np.float32)
    w = rng.normal(size=(3, 2)).astype(np.float32)
    expected = _tf1_reference(x, w)
    got = np.asarray(f(tf.constant(x), tf.constant(w)))
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
    got = float(sub.fixed_mse(y, pred))
    assert not np.isclose(got, 4.0), (
        "fixed_mse returned 4.0, the value of the broadcast [3, 3] table: pred - y still "
        "broadcasts, compare pred[:, 0] with y"
    )
    assert np.isclose(got, 4.0 / 3.0), f"fixed_mse should return 4/3 = 1.3333, got {got}"


@points(1, exercise="fixed_mse")
def test_fixed_mse_refuses_column_targets(sub):
    y = np.array([[0.0], [1.0], [2.0]], np.float32)  # [3, 1]: wrong, targets must be [3]
    pred = np.array([[0.0], [1.0], [4.0]], np.float32)
    try:
        value = sub.fixed_mse(y, pred)
    except ShapeError:
        return
    raise AssertionError(
        f"fixed_mse(y of shape (3, 1), pred of shape (3, 1)) should raise ShapeError "
        f"(y must be [N]), but it returned {float(value)}"
    )


# --------------------------------------------------------------------------------- SineNet


@points(2, exercise="SineNet")
def test_sinenet_variable_names_and_shapes(sub):
    net = sub.SineNet()
    names = sorted(v.name for v in net.trainable_variables)
    expected = [
        "layer_0/W0:0",
        "layer_0/b0:0",
        "layer_1/W1:0",
        "layer_1/b1:0",
        "layer_2/W2:0",
        "layer_2/b2:0",
    ]
    assert names == expected, f"SineNet() variable names should be {expected}, got {names}"
    w_shapes = [tuple(w.shape) for w in net.weights]
    b_shapes = [tuple(b.shape) for b in net.biases]
    assert w_shapes == [(1, 20), (20, 20), (20, 1)], (
        f"net.weights should have shapes [(1, 20), (20, 20), (20, 1)], got {w_shapes}"
    )
    assert b_shapes == [(20,), (20,), (1,)], (
        f"net.biases should have shapes [(20,), (20,), (1,)], got {b_shapes}"
    )


@points(2, exercise="SineNet")
def test_sinenet_forward_hand_computed(sub):
    net = sub.SineNet(sizes=(1, 2, 1), seed=0)
    net.weights[0].assign([[1.0, -1.0]])
    net.biases[0].assign([0.0, 0.5])
    net.weights[1].assign([[2.0], [3.0]])
    net.biases[1].assign([0.25])
    # x = 1:  relu([1, -1] + [0, 0.5]) = [1, 0];    2·1 + 3·0 + 0.25 = 2.25
    # x = -2: relu([-2, 2] + [0, 0.5]) = [0, 2.5];  2·0 + 3·2.5 + 0.25 = 7.75
    out = np.asarray(net(np.array([[1.0], [-2.0]], np.float32)))
    assert out.shape == (2, 1), f"net(x) for x of shape (2, 1) should be (2, 1), got {out.shape}"
    assert np.allclose(out[:, 0], [2.25, 7.75]), (
        f"net(x) should be [[2.25], [7.75]] with the weights of the docstring example, "
        f"got {out.tolist()}"
    )


# ------------------------------------------------------------------------------ train_step


@points(2, exercise="train_step")
def test_train_step_hand_computed_sgd(sub):
    model = _Line()
    x = tf.constant([[1.0], [2.0]])
    y = tf.constant([[1.0], [1.0]])
    # pred [2, 4], errors [1, 3]: loss 0.5 · (1 + 9) / 2 = 2.5
    # dw = mean(error · x) = 3.5 -> 2 - 0.1 · 3.5 = 1.65;  db = mean(error) = 2 -> -0.2
    loss = float(sub.train_step(model, keras.optimizers.SGD(0.1), x, y))
    assert np.isclose(loss, 2.5), (
        f"train_step should return the loss before the update, 0.5 · mean((pred - y)²) = 2.5, "
        f"got {loss}"
    )
    w, b = float(model.w[0, 0]), float(model.b[0])
    assert np.isclose(w, 1.65) and np.isclose(b, -0.2), (
        f"after one SGD(0.1) step w should be 1.65 and b -0.2, got w={w}, b={b}"
    )


@points(1, exercise="train_step")
def test_train_step_adam_lowers_loss(sub):
    model = SineMLP(seed=0)
    optimizer = keras.optimizers.Adam(0.01)
    x = np.linspace(-2 * np.pi, 2 * np.pi, 64, dtype=np.float32)[:, None]
    y = np.sin(x)
    losses = [float(sub.train_step(model, optimizer, x, y)) for _ in range(20)]
    assert losses[-1] < 0.9 * losses[0], (
        f"20 Adam(0.01) steps should lower the loss by more than 10%, went from "
        f"{losses[0]:.4f} to {losses[-1]:.4f}"
    )


# ------------------------------------------------------------------------- save_checkpoint


@points(2, exercise="save_checkpoint")
def test_save_then_restore_predictions_identical(sub):
    directory = tempfile.mkdtemp()
    model = SineMLP(seed=0)
    path = sub.save_checkpoint(model, directory, 1000)
    want = os.path.join(directory, "ckpt-1000")
    assert path == want, (
        f"save_checkpoint(model, directory, 1000) should return {want!r}, got {path!r}"
    )
    fresh = SineMLP(seed=7)  # different random values until the restore
    tf.train.Checkpoint(model=fresh).restore(path).assert_existing_objects_matched()
    x = np.linspace(-6.0, 6.0, 11, dtype=np.float32)[:, None]
    assert np.array_equal(fresh(x).numpy(), model(x).numpy()), (
        "a model restored from your checkpoint (tf.train.Checkpoint(model=...)) should predict "
        "exactly what the saved model predicts"
    )


# ---------------------------------------------------------------------- restore_checkpoint


@points(2, exercise="restore_checkpoint")
def test_restore_into_fresh_model(sub):
    directory = tempfile.mkdtemp()
    model = SineMLP(seed=0)
    saved = tf.train.Checkpoint(model=model).save(os.path.join(directory, "ckpt"))
    fresh = SineMLP(seed=7)
    path = sub.restore_checkpoint(fresh, directory)
    assert path == saved, f"restore_checkpoint should return {saved!r}, got {path!r}"
    x = np.linspace(-6.0, 6.0, 11, dtype=np.float32)[:, None]
    assert np.array_equal(fresh(x).numpy(), model(x).numpy()), (
        "after restore_checkpoint the fresh model should predict exactly what the saved "
        "model predicts"
    )
