"""Tutorial 3: TensorFlow review (TF1 vs TF2, shapes, sine regression, checkpoints)

This assignment walks through the TensorFlow review of tutorial 3 (notebook
`notebooks/04_tf_review.py`) with your own code. You will port a TF1 graph that is run through
a session and a `feed_dict` to a TF2 `tf.function`, repair a loss that broadcasting silently
breaks, build the 1-20-20-1 sine regression network as a `tf.Module` whose variable names read
like the old `variable_scope` listing, write one optimisation step with `tf.GradientTape`, and
save and restore the network with `tf.train.Checkpoint`.

Every exercise is small. Read its docstring: it gives the shapes and dtypes of the arguments
and of the result, and says which library helpers you may NOT call (the point is to write the
few lines yourself). Shape guards matter here: where a docstring asks for a
`tfcourse.errors.ShapeError`, `tfcourse.review.shapes.assert_shape` raises exactly that.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from tfcourse.errors import ShapeError

# BEGIN MISTAKES
from tfcourse.grading.mistakes import alternative, mistake

# END MISTAKES
from tfcourse.review.shapes import assert_shape

EXERCISES = [
    "port_tf1_to_tf2",
    "fixed_mse",
    "SineNet",
    "train_step",
    "save_checkpoint",
    "restore_checkpoint",
]

# What each exercise may not use, checked in your code by the grader: dotted names of modules,
# functions or classes (a "!" entry allows what it names again). Besides these, no exercise may
# use any part of tfcourse that this file does not import.
FORBIDDEN = {
    "port_tf1_to_tf2": ["tensorflow.compat.v1"],
    "SineNet": ["keras.layers", "keras.Layer", "keras.Sequential", "keras.models"],
}

BIAS = [[0.5, -1.0]]  # [1, 2], the constant `b` of the TF1 graph in port_tf1_to_tf2
CHECKPOINT_PREFIX = "ckpt"  # file prefix for save_checkpoint: <directory>/ckpt-<step>


# --------------------------------------------------------------------------------------------
# 1. From a graph and a session to a function
# --------------------------------------------------------------------------------------------


def port_tf1_to_tf2() -> tf.types.experimental.PolymorphicFunction:
    """Build the TF2 version of a TF1 graph: placeholders become a function's arguments.

    Concept: in TF1 you first describe a graph and then run it with ``sess.run`` and a
    ``feed_dict``. In TF2 the placeholders turn into the arguments of a Python function, and
    ``tf.function`` with an ``input_signature`` makes the same promise a ``[None, 3]``
    placeholder made: float32 inputs, any batch size, ONE graph for all of them.

    The TF1 code to port (it runs in a ``tf.compat.v1`` graph; do not copy it literally)::

        x_ph = tf.placeholder(tf.float32, shape=[None, 3], name="x")
        w_ph = tf.placeholder(tf.float32, shape=[3, 2], name="w")
        b = tf.constant([[0.5, -1.0]])               # [1, 2], broadcast over the batch
        h = tf.nn.relu(tf.matmul(x_ph, w_ph) + b)    # [None, 2]
        out = tf.reduce_sum(h, axis=1)               # [None]
        result = sess.run(out, feed_dict={x_ph: x, w_ph: w})

    Return a ``tf.function`` ``f`` so that ``f(x, w)`` gives the same numbers as
    ``result``. Give it an ``input_signature`` of two ``tf.TensorSpec``: ``x`` is
    ``[None, 3]`` float32 and ``w`` is ``[3, 2]`` float32, so that calling ``f`` with batches of
    1, 4 or 7 rows traces it only once, and a wrongly shaped ``x`` is refused by the signature.
    The constant ``b`` is ``BIAS`` above.

    Hand-computed example: with ``w = [[1, 0], [0, 1], [1, -1]]`` the row ``x = [1, 2, 3]``
    gives ``x @ w = [4, -1]``, plus ``b`` ``[4.5, -2]``, after ReLU ``[4.5, 0]``, sum ``4.5``.

    Do not use ``tf.compat.v1`` (no graphs, placeholders or sessions) and do not call
    ``tfcourse.review.compat_v1``.

    Returns:
        A ``tf.function`` ``f(x: [batch, 3] float32, w: [3, 2] float32) -> [batch] float32``
        (call ``.numpy()`` on its result for the numbers).
    """
    # BEGIN SOLUTION
    signature = [tf.TensorSpec([None, 3], tf.float32), tf.TensorSpec([3, 2], tf.float32)]

    @tf.function(input_signature=signature)
    def forward(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        h = tf.nn.relu(tf.matmul(x, w) + tf.constant(BIAS))  # [batch, 2]
        return tf.reduce_sum(h, axis=1)  # [batch]

    return forward
    # END SOLUTION


# BEGIN MISTAKES
_PORT_SIGNATURE = [tf.TensorSpec([None, 3], tf.float32), tf.TensorSpec([3, 2], tf.float32)]


@mistake("port_tf1_to_tf2", hint="Check which op of the TF1 graph comes after the matmul and bias.")
def port_without_relu() -> tf.types.experimental.PolymorphicFunction:
    @tf.function(input_signature=_PORT_SIGNATURE)
    def forward(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(tf.matmul(x, w) + tf.constant(BIAS), axis=1)

    return forward


@mistake(
    "port_tf1_to_tf2",
    hint="Every term of the TF1 graph must reach the result; re-read its third line.",
)
def port_without_bias() -> tf.types.experimental.PolymorphicFunction:
    @tf.function(input_signature=_PORT_SIGNATURE)
    def forward(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(tf.nn.relu(tf.matmul(x, w)), axis=1)

    return forward


@mistake(
    "port_tf1_to_tf2",
    hint="Which axis holds the batch and which the two features? The result has one number "
    "per row of x.",
)
def port_sum_over_batch() -> tf.types.experimental.PolymorphicFunction:
    @tf.function(input_signature=_PORT_SIGNATURE)
    def forward(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(tf.nn.relu(tf.matmul(x, w) + tf.constant(BIAS)), axis=0)

    return forward


@mistake(
    "port_tf1_to_tf2",
    hint="The order of the ops matters: the nonlinearity acts on each of the two features.",
)
def port_relu_after_sum() -> tf.types.experimental.PolymorphicFunction:
    @tf.function(input_signature=_PORT_SIGNATURE)
    def forward(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        return tf.nn.relu(tf.reduce_sum(tf.matmul(x, w) + tf.constant(BIAS), axis=1))

    return forward


@mistake(
    "port_tf1_to_tf2",
    hint="Compare the rank of your result with the docstring's: one number per row, no extra axis.",
)
def port_keeps_sum_axis() -> tf.types.experimental.PolymorphicFunction:
    @tf.function(input_signature=_PORT_SIGNATURE)
    def forward(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        h = tf.nn.relu(tf.matmul(x, w) + tf.constant(BIAS))
        return tf.reduce_sum(h, axis=1, keepdims=True)

    return forward


@mistake(
    "port_tf1_to_tf2",
    hint="Without an input_signature, tf.function traces a new graph for every new input shape; "
    "the placeholder's promise was one graph for any batch size.",
)
def port_without_input_signature() -> tf.types.experimental.PolymorphicFunction:
    @tf.function
    def forward(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(tf.nn.relu(tf.matmul(x, w) + tf.constant(BIAS)), axis=1)

    return forward


@mistake(
    "port_tf1_to_tf2",
    hint="What did the placeholder's None stand for? A TensorSpec should promise the same.",
)
def port_signature_fixes_batch() -> tf.types.experimental.PolymorphicFunction:
    signature = [tf.TensorSpec([2, 3], tf.float32), tf.TensorSpec([3, 2], tf.float32)]

    @tf.function(input_signature=signature)
    def forward(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(tf.nn.relu(tf.matmul(x, w) + tf.constant(BIAS)), axis=1)

    return forward


@mistake(
    "port_tf1_to_tf2",
    hint="The exercise asks for a tf.function, the TF2 stand-in for a graph; a plain Python "
    "function has no signature and runs eagerly.",
)
def port_plain_python_function() -> object:
    def forward(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(tf.nn.relu(tf.matmul(x, w) + tf.constant(BIAS)), axis=1)

    return forward


@mistake(
    "port_tf1_to_tf2",
    hint="Which reduction does the TF1 graph apply to the two features of a row: their sum, or "
    "something else?",
)
def port_mean_instead_of_sum() -> tf.types.experimental.PolymorphicFunction:
    @tf.function(input_signature=_PORT_SIGNATURE)
    def forward(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        return tf.reduce_mean(tf.nn.relu(tf.matmul(x, w) + tf.constant(BIAS)), axis=1)

    return forward


@mistake(
    "port_tf1_to_tf2",
    hint="Without an axis, a reduction adds up every entry of the batch into one number; the "
    "result has one number per row of x.",
)
def port_sum_without_axis() -> tf.types.experimental.PolymorphicFunction:
    @tf.function(input_signature=_PORT_SIGNATURE)
    def forward(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(tf.nn.relu(tf.matmul(x, w) + tf.constant(BIAS)))

    return forward


@mistake(
    "port_tf1_to_tf2",
    hint="Check the nonlinearity of the TF1 graph: negative values must become exactly 0.",
)
def port_leaky_relu() -> tf.types.experimental.PolymorphicFunction:
    @tf.function(input_signature=_PORT_SIGNATURE)
    def forward(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(tf.nn.leaky_relu(tf.matmul(x, w) + tf.constant(BIAS)), axis=1)

    return forward


@mistake(
    "port_tf1_to_tf2",
    hint="Check the nonlinearity of the TF1 graph: large positive values must pass unchanged, "
    "with no cap.",
)
def port_relu6() -> tf.types.experimental.PolymorphicFunction:
    @tf.function(input_signature=_PORT_SIGNATURE)
    def forward(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(tf.nn.relu6(tf.matmul(x, w) + tf.constant(BIAS)), axis=1)

    return forward


@mistake(
    "port_tf1_to_tf2",
    hint="In the TF1 graph the constant b is added before the nonlinearity, not after it.",
)
def port_bias_after_relu() -> tf.types.experimental.PolymorphicFunction:
    @tf.function(input_signature=_PORT_SIGNATURE)
    def forward(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(tf.nn.relu(tf.matmul(x, w)) + tf.constant(BIAS), axis=1)

    return forward


@mistake(
    "port_tf1_to_tf2",
    hint="A TensorSpec should promise what the placeholder did: only the batch size is free, the "
    "number of features (and w's shape) is fixed.",
)
def port_signature_without_feature_sizes() -> tf.types.experimental.PolymorphicFunction:
    signature = [tf.TensorSpec([None, None], tf.float32), tf.TensorSpec([None, None], tf.float32)]

    @tf.function(input_signature=signature)
    def forward(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(tf.nn.relu(tf.matmul(x, w) + tf.constant(BIAS)), axis=1)

    return forward


@mistake(
    "port_tf1_to_tf2",
    hint="Which dtype did the placeholders declare? A TensorSpec refuses inputs of another dtype.",
)
def port_signature_float64() -> tf.types.experimental.PolymorphicFunction:
    signature = [tf.TensorSpec([None, 3], tf.float64), tf.TensorSpec([3, 2], tf.float64)]

    @tf.function(input_signature=signature)
    def forward(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(tf.nn.relu(tf.matmul(x, w) + tf.constant(BIAS, tf.float64)), axis=1)

    return forward


@alternative("port_tf1_to_tf2")
def port_einsum_maximum() -> tf.types.experimental.PolymorphicFunction:
    def forward(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        h = tf.maximum(tf.einsum("bi,ij->bj", x, w) + np.asarray(BIAS, np.float32), 0.0)
        return h[:, 0] + h[:, 1]

    return tf.function(
        forward,
        input_signature=(
            tf.TensorSpec(shape=(None, 3), dtype=tf.float32, name="x"),
            tf.TensorSpec(shape=(3, 2), dtype=tf.float32, name="w"),
        ),
    )


# END MISTAKES


# --------------------------------------------------------------------------------------------
# 2. The broadcasting trap
# --------------------------------------------------------------------------------------------


def fixed_mse(y: tf.Tensor, pred: tf.Tensor) -> tf.Tensor:
    """Mean squared error between flat targets and a network's column of predictions.

    Concept: broadcasting. This version is broken, yet it never raises an error::

        def buggy_mse(y, pred):
            return tf.reduce_mean(tf.square(pred - y))

    With ``pred`` of shape ``[N, 1]`` (what a network outputs) and ``y`` of shape ``[N]`` (how
    targets are often stored), ``pred - y`` broadcasts to ``[N, N]``: every prediction minus
    EVERY target. By hand: ``y = [0, 1, 2]``, ``pred = [[0], [1], [4]]`` should give
    ``(0² + 0² + 2²) / 3 = 4/3``, but ``buggy_mse`` averages the 3 x 3 table
    ``[[0, -1, -2], [1, 0, -1], [4, 3, 2]]`` squared and returns ``36 / 9 = 4``.

    Fix it, and guard the shapes so that a caller who passes the wrong layout gets an error
    instead of a wrong number: raise ``tfcourse.errors.ShapeError`` unless ``y`` is ``[N]``
    and ``pred`` is ``[N, 1]`` with the same ``N`` (``tfcourse.review.shapes.assert_shape`` raises
    it for you). In particular ``y`` of shape ``[N, 1]`` must be refused: after your fix it
    would broadcast to ``[N, N]`` all over again.

    Do not call ``tfcourse.review.shapes.naive_mse``, ``tfcourse.review.shapes.guarded_mse`` or
    the losses in ``tfcourse.review.sine``.

    Args:
        y: [N] targets (numpy arrays, lists and float64 are cast to float32).
        pred: [N, 1] predictions (cast to float32 too).

    Returns:
        Scalar float32 tensor, ``mean((pred[i, 0] - y[i])²)`` over ``i``.

    Raises:
        ShapeError: if ``y`` is not ``[N]``, ``pred`` is not ``[N, 1]``, or their ``N`` differ.
    """
    y = tf.cast(y, tf.float32)
    pred = tf.cast(pred, tf.float32)
    # BEGIN SOLUTION
    y = assert_shape(y, [None], name="y")
    pred = assert_shape(pred, [None, 1], name="pred")
    if y.shape[0] != pred.shape[0]:
        raise ShapeError(
            f"y has {y.shape[0]} targets but pred has {pred.shape[0]} predictions; "
            "they must come from the same batch"
        )
    return tf.reduce_mean(tf.square(pred[:, 0] - y))
    # END SOLUTION


# BEGIN MISTAKES
@mistake(
    "fixed_mse",
    hint="Guards alone do not fix the loss: check the shape of the difference before you "
    "average it.",
)
def fixed_mse_still_broadcasts(y: tf.Tensor, pred: tf.Tensor) -> tf.Tensor:
    y = assert_shape(tf.cast(y, tf.float32), [None], name="y")
    pred = assert_shape(tf.cast(pred, tf.float32), [None, 1], name="pred")
    if y.shape[0] != pred.shape[0]:
        raise ShapeError("y and pred have different batch sizes")
    return tf.reduce_mean(tf.square(pred - y))


@mistake(
    "fixed_mse",
    hint="Flattening both inputs hides a wrong layout instead of refusing it; the docstring "
    "lists the shapes that must raise ShapeError.",
)
def fixed_mse_flattens_without_guards(y: tf.Tensor, pred: tf.Tensor) -> tf.Tensor:
    y = tf.reshape(tf.cast(y, tf.float32), [-1])
    pred = tf.reshape(tf.cast(pred, tf.float32), [-1])
    return tf.reduce_mean(tf.square(pred - y))


@mistake(
    "fixed_mse",
    hint="A guard on y alone is half a guard: which layout must pred have?",
)
def fixed_mse_accepts_flat_pred(y: tf.Tensor, pred: tf.Tensor) -> tf.Tensor:
    y = assert_shape(tf.cast(y, tf.float32), [None], name="y")
    pred = tf.reshape(tf.cast(pred, tf.float32), [-1])
    return tf.reduce_mean(tf.square(pred - y))


@mistake(
    "fixed_mse",
    hint="Checking each shape on its own is not enough: the targets and predictions must also "
    "come from one batch.",
)
def fixed_mse_no_batch_size_check(y: tf.Tensor, pred: tf.Tensor) -> tf.Tensor:
    y = assert_shape(tf.cast(y, tf.float32), [None], name="y")
    pred = assert_shape(tf.cast(pred, tf.float32), [None, 1], name="pred")
    return tf.reduce_mean(tf.square(pred[:, 0] - y))


@mistake("fixed_mse", hint="Re-read the name of the loss: which reduction does 'mean' ask for?")
def fixed_mse_sum_of_squares(y: tf.Tensor, pred: tf.Tensor) -> tf.Tensor:
    y = assert_shape(tf.cast(y, tf.float32), [None], name="y")
    pred = assert_shape(tf.cast(pred, tf.float32), [None, 1], name="pred")
    if y.shape[0] != pred.shape[0]:
        raise ShapeError("y and pred have different batch sizes")
    return tf.reduce_sum(tf.square(pred[:, 0] - y))


@mistake(
    "fixed_mse",
    hint="Mean squared error: check what happens to each difference before the mean.",
)
def fixed_mse_absolute_error(y: tf.Tensor, pred: tf.Tensor) -> tf.Tensor:
    y = assert_shape(tf.cast(y, tf.float32), [None], name="y")
    pred = assert_shape(tf.cast(pred, tf.float32), [None, 1], name="pred")
    if y.shape[0] != pred.shape[0]:
        raise ShapeError("y and pred have different batch sizes")
    return tf.reduce_mean(tf.abs(pred[:, 0] - y))


@mistake(
    "fixed_mse",
    hint="The factor 0.5 belongs to the training loss of exercise 4, not to the plain mean "
    "squared error asked for here.",
)
def fixed_mse_halved(y: tf.Tensor, pred: tf.Tensor) -> tf.Tensor:
    y = assert_shape(tf.cast(y, tf.float32), [None], name="y")
    pred = assert_shape(tf.cast(pred, tf.float32), [None, 1], name="pred")
    if y.shape[0] != pred.shape[0]:
        raise ShapeError("y and pred have different batch sizes")
    return 0.5 * tf.reduce_mean(tf.square(pred[:, 0] - y))


@mistake(
    "fixed_mse",
    hint="The docstring's formula has no root: mean squared error, not its square root.",
)
def fixed_mse_root(y: tf.Tensor, pred: tf.Tensor) -> tf.Tensor:
    y = assert_shape(tf.cast(y, tf.float32), [None], name="y")
    pred = assert_shape(tf.cast(pred, tf.float32), [None, 1], name="pred")
    if y.shape[0] != pred.shape[0]:
        raise ShapeError("y and pred have different batch sizes")
    return tf.sqrt(tf.reduce_mean(tf.square(pred[:, 0] - y)))


@mistake(
    "fixed_mse",
    hint="Callers catch a wrong layout by the kind of error: check which exception the "
    "docstring asks the guards to raise.",
)
def fixed_mse_value_error(y: tf.Tensor, pred: tf.Tensor) -> tf.Tensor:
    y, pred = tf.cast(y, tf.float32), tf.cast(pred, tf.float32)
    if y.shape.rank != 1 or pred.shape.rank != 2 or pred.shape[1] != 1:
        raise ValueError(f"y must be [N] and pred [N, 1], got {y.shape} and {pred.shape}")
    if y.shape[0] != pred.shape[0]:
        raise ValueError("y and pred have different batch sizes")
    return tf.reduce_mean(tf.square(pred[:, 0] - y))


@mistake(
    "fixed_mse",
    hint="Equal sizes are not equal layouts: a [N, 1] y has as many entries as a [N] one. Check "
    "each shape, as the docstring lists them.",
)
def fixed_mse_checks_only_sizes(y: tf.Tensor, pred: tf.Tensor) -> tf.Tensor:
    y, pred = tf.cast(y, tf.float32), tf.cast(pred, tf.float32)
    if tf.size(y) != tf.size(pred):
        raise ShapeError(f"y has {tf.size(y)} entries but pred has {tf.size(pred)}")
    return tf.reduce_mean(tf.square(tf.reshape(pred, [-1]) - tf.reshape(y, [-1])))


@mistake(
    "fixed_mse",
    hint="tf.debugging asserts raise TensorFlow's own errors (ValueError, InvalidArgumentError); "
    "the docstring asks for a ShapeError.",
)
def fixed_mse_debugging_asserts(y: tf.Tensor, pred: tf.Tensor) -> tf.Tensor:
    y, pred = tf.cast(y, tf.float32), tf.cast(pred, tf.float32)
    tf.debugging.assert_rank(y, 1)
    tf.debugging.assert_rank(pred, 2)
    tf.debugging.assert_equal(tf.shape(pred)[1], 1)
    tf.debugging.assert_equal(tf.shape(pred)[0], tf.shape(y)[0])
    return tf.reduce_mean(tf.square(pred[:, 0] - y))


@mistake(
    "fixed_mse",
    hint="The loss should stay a tf.Tensor (so that a tape can differentiate it): compute it "
    "with TensorFlow ops, not NumPy.",
)
def fixed_mse_in_numpy(y: tf.Tensor, pred: tf.Tensor) -> tf.Tensor:
    y = assert_shape(tf.cast(y, tf.float32), [None], name="y")
    pred = assert_shape(tf.cast(pred, tf.float32), [None, 1], name="pred")
    if y.shape[0] != pred.shape[0]:
        raise ShapeError("y and pred have different batch sizes")
    return np.mean(np.square(pred.numpy()[:, 0] - y.numpy()))


@alternative("fixed_mse")
def fixed_mse_checks_by_hand(y: tf.Tensor, pred: tf.Tensor) -> tf.Tensor:
    y, pred = tf.cast(y, tf.float32), tf.cast(pred, tf.float32)
    if y.shape.rank != 1 or pred.shape.rank != 2 or pred.shape[1] != 1:
        raise ShapeError(f"need y [N] and pred [N, 1], got {y.shape} and {pred.shape}")
    if y.shape[0] != pred.shape[0]:
        raise ShapeError(f"{y.shape[0]} targets but {pred.shape[0]} predictions")
    errors = tf.squeeze(pred, axis=1) - y
    return tf.reduce_sum(errors * errors) / tf.cast(tf.size(y), tf.float32)


@alternative("fixed_mse")
def fixed_mse_column_targets(y: tf.Tensor, pred: tf.Tensor) -> tf.Tensor:
    y = assert_shape(tf.cast(y, tf.float32), [None], name="y")
    pred = assert_shape(tf.cast(pred, tf.float32), [y.shape[0], 1], name="pred")
    return tf.reduce_mean(tf.square(pred - y[:, None]))


# END MISTAKES


# --------------------------------------------------------------------------------------------
# 3. The sine regression network as a tf.Module
# --------------------------------------------------------------------------------------------


def glorot_limit(fan_in: int, fan_out: int) -> float:
    """Bound ``l = sqrt(6 / (fan_in + fan_out))`` of Glorot (Xavier) uniform init ``U(-l, l)``."""
    return float(np.sqrt(6.0 / (fan_in + fan_out)))


class SineNet(tf.Module):
    """Fully connected ReLU network for 1-D regression (the tutorial's 1-20-20-1 model).

    Concept: TF2 variables belong to Python objects. A ``tf.Module`` collects every
    ``tf.Variable`` it holds (``trainable_variables``), so no ``tf.global_variables()`` is
    needed, and ``tf.name_scope`` still prefixes variable names the way TF1's
    ``tf.variable_scope`` did.

    ``__init__`` must create, for each layer ``i`` (from ``sizes[i]`` to ``sizes[i + 1]``) and
    inside ``with tf.name_scope(f"layer_{i}"):``,

    * ``W{i}``: a ``tf.Variable`` named ``f"W{i}"`` of shape ``[sizes[i], sizes[i + 1]]``
      float32, drawn Glorot-uniform with the generator ``gen`` given below:
      ``gen.uniform(shape, -l, l)`` with ``l = glorot_limit(fan_in, fan_out)``;
    * ``b{i}``: a ``tf.Variable`` named ``f"b{i}"`` of shape ``[sizes[i + 1]]``, all zeros,

    and keep them in two lists, ``self.weights = [W0, W1, ...]`` and
    ``self.biases = [b0, b1, ...]``. With the default sizes the sorted variable names are
    ``layer_0/W0:0, layer_0/b0:0, layer_1/W1:0, layer_1/b1:0, layer_2/W2:0, layer_2/b2:0``.

    ``__call__`` is the forward pass ``h = h @ W{i} + b{i}``, with ReLU after every layer
    except the last (the output is linear, so it can be negative). It first checks that ``x``
    is ``[batch, sizes[0]]`` and raises ``ShapeError`` otherwise (``assert_shape`` does this);
    a flat ``[batch]`` input must be refused, not broadcast.

    Hand-computed example with ``sizes=(1, 2, 1)``, ``W0 = [[1, -1]]``, ``b0 = [0, 0.5]``,
    ``W1 = [[2], [3]]``, ``b1 = [0.25]``: for ``x = [[1]]`` the hidden layer is
    ``relu([1, -0.5]) = [1, 0]`` and the output ``2·1 + 3·0 + 0.25 = 2.25``.

    Do not use ``tfcourse.review.sine.SineMLP`` or Keras layers.

    Args:
        sizes: layer widths from input to output.
        seed: seed of the random generator that draws the weights.
        name: module name (it does not appear in the variable names).
    """

    def __init__(
        self, sizes: Sequence[int] = (1, 20, 20, 1), seed: int = 0, name: str | None = None
    ) -> None:
        super().__init__(name=name)
        self.sizes = tuple(int(s) for s in sizes)
        gen = tf.random.Generator.from_seed(seed)
        # BEGIN SOLUTION
        self.weights: list[tf.Variable] = []
        self.biases: list[tf.Variable] = []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(self.sizes)):
            limit = glorot_limit(fan_in, fan_out)
            with tf.name_scope(f"layer_{i}"):
                w = tf.Variable(gen.uniform([fan_in, fan_out], -limit, limit), name=f"W{i}")
                b = tf.Variable(tf.zeros([fan_out]), name=f"b{i}")
            self.weights.append(w)
            self.biases.append(b)
        # END SOLUTION

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        """Forward pass.

        Args:
            x: [batch, sizes[0]] (numpy arrays and float64 are cast to float32).

        Returns:
            [batch, sizes[-1]] float32 predictions.

        Raises:
            ShapeError: if ``x`` is not [batch, sizes[0]].
        """
        x = tf.cast(x, tf.float32)
        # BEGIN SOLUTION
        h = assert_shape(x, [None, self.sizes[0]], name="SineNet input")
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = tf.matmul(h, w) + b
            if i < last:
                h = tf.nn.relu(h)
        return h
        # END SOLUTION


# BEGIN MISTAKES
@mistake(
    "SineNet",
    hint="A regression output can be negative: check which layers a nonlinearity follows.",
)
class SineNetReluOnOutput(SineNet):
    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        h = assert_shape(tf.cast(x, tf.float32), [None, self.sizes[0]], name="SineNet input")
        for w, b in zip(self.weights, self.biases, strict=True):
            h = tf.nn.relu(tf.matmul(h, w) + b)
        return h


@mistake(
    "SineNet",
    hint="Stacked layers without a nonlinearity between them collapse into one linear map.",
)
class SineNetWithoutHiddenRelu(SineNet):
    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        h = assert_shape(tf.cast(x, tf.float32), [None, self.sizes[0]], name="SineNet input")
        for w, b in zip(self.weights, self.biases, strict=True):
            h = tf.matmul(h, w) + b
        return h


@mistake(
    "SineNet",
    hint="Count the layers that should be followed by ReLU: all but the last, in a network of "
    "any depth.",
)
class SineNetReluOffByOne(SineNet):
    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        h = assert_shape(tf.cast(x, tf.float32), [None, self.sizes[0]], name="SineNet input")
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = tf.matmul(h, w) + b
            if i < last - 1:
                h = tf.nn.relu(h)
        return h


@mistake(
    "SineNet",
    hint="A wrongly shaped input should be refused with ShapeError before any matmul runs.",
)
class SineNetWithoutInputGuard(SineNet):
    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        h = tf.cast(x, tf.float32)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = tf.matmul(h, w) + b
            if i < last:
                h = tf.nn.relu(h)
        return h


@mistake(
    "SineNet",
    hint="Reshaping a wrongly shaped input makes it fit instead of refusing it: the docstring "
    "asks for a ShapeError.",
)
class SineNetReshapesInput(SineNet):
    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        h = tf.reshape(tf.cast(x, tf.float32), [-1, self.sizes[0]])
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = tf.matmul(h, w) + b
            if i < last:
                h = tf.nn.relu(h)
        return h


@mistake(
    "SineNet",
    hint="Glorot *uniform*: check which distribution the docstring draws from.",
)
class SineNetNormalInit(SineNet):
    def __init__(
        self, sizes: Sequence[int] = (1, 20, 20, 1), seed: int = 0, name: str | None = None
    ) -> None:
        tf.Module.__init__(self, name=name)
        self.sizes = tuple(int(s) for s in sizes)
        gen = tf.random.Generator.from_seed(seed)
        self.weights, self.biases = [], []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(self.sizes)):
            limit = glorot_limit(fan_in, fan_out)
            with tf.name_scope(f"layer_{i}"):
                w = tf.Variable(gen.normal([fan_in, fan_out], stddev=limit), name=f"W{i}")
                b = tf.Variable(tf.zeros([fan_out]), name=f"b{i}")
            self.weights.append(w)
            self.biases.append(b)


@mistake(
    "SineNet",
    hint="Glorot's bound depends on both fans of a layer; re-check what goes into it.",
)
class SineNetFanInLimit(SineNet):
    def __init__(
        self, sizes: Sequence[int] = (1, 20, 20, 1), seed: int = 0, name: str | None = None
    ) -> None:
        tf.Module.__init__(self, name=name)
        self.sizes = tuple(int(s) for s in sizes)
        gen = tf.random.Generator.from_seed(seed)
        self.weights, self.biases = [], []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(self.sizes)):
            limit = float(np.sqrt(6.0 / fan_in))
            with tf.name_scope(f"layer_{i}"):
                w = tf.Variable(gen.uniform([fan_in, fan_out], -limit, limit), name=f"W{i}")
                b = tf.Variable(tf.zeros([fan_out]), name=f"b{i}")
            self.weights.append(w)
            self.biases.append(b)


@mistake(
    "SineNet",
    hint="A generator made afresh from the same seed repeats its numbers: every layer should "
    "take the next draws of the one generator.",
)
class SineNetReseededPerLayer(SineNet):
    def __init__(
        self, sizes: Sequence[int] = (1, 20, 20, 1), seed: int = 0, name: str | None = None
    ) -> None:
        tf.Module.__init__(self, name=name)
        self.sizes = tuple(int(s) for s in sizes)
        self.weights, self.biases = [], []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(self.sizes)):
            gen = tf.random.Generator.from_seed(seed)
            limit = glorot_limit(fan_in, fan_out)
            with tf.name_scope(f"layer_{i}"):
                w = tf.Variable(gen.uniform([fan_in, fan_out], -limit, limit), name=f"W{i}")
                b = tf.Variable(tf.zeros([fan_out]), name=f"b{i}")
            self.weights.append(w)
            self.biases.append(b)


@mistake(
    "SineNet",
    hint="The seed argument must decide the weights: two networks built with one seed should "
    "be identical. Which random source does the docstring give you?",
)
class SineNetGlobalRandom(SineNet):
    def __init__(
        self, sizes: Sequence[int] = (1, 20, 20, 1), seed: int = 0, name: str | None = None
    ) -> None:
        tf.Module.__init__(self, name=name)
        self.sizes = tuple(int(s) for s in sizes)
        self.weights, self.biases = [], []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(self.sizes)):
            limit = glorot_limit(fan_in, fan_out)
            with tf.name_scope(f"layer_{i}"):
                w = tf.Variable(tf.random.uniform([fan_in, fan_out], -limit, limit), name=f"W{i}")
                b = tf.Variable(tf.zeros([fan_out]), name=f"b{i}")
            self.weights.append(w)
            self.biases.append(b)


@mistake("SineNet", hint="Re-read how the docstring initialises the biases.")
class SineNetRandomBiases(SineNet):
    def __init__(
        self, sizes: Sequence[int] = (1, 20, 20, 1), seed: int = 0, name: str | None = None
    ) -> None:
        tf.Module.__init__(self, name=name)
        self.sizes = tuple(int(s) for s in sizes)
        gen = tf.random.Generator.from_seed(seed)
        self.weights, self.biases = [], []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(self.sizes)):
            limit = glorot_limit(fan_in, fan_out)
            with tf.name_scope(f"layer_{i}"):
                w = tf.Variable(gen.uniform([fan_in, fan_out], -limit, limit), name=f"W{i}")
                b = tf.Variable(gen.uniform([fan_out], -limit, limit), name=f"b{i}")
            self.weights.append(w)
            self.biases.append(b)


@mistake(
    "SineNet",
    hint="Variable names get their layer_i/ prefix only from a scope that is open while the "
    "variable is created.",
)
class SineNetWithoutNameScope(SineNet):
    def __init__(
        self, sizes: Sequence[int] = (1, 20, 20, 1), seed: int = 0, name: str | None = None
    ) -> None:
        tf.Module.__init__(self, name=name)
        self.sizes = tuple(int(s) for s in sizes)
        gen = tf.random.Generator.from_seed(seed)
        self.weights, self.biases = [], []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(self.sizes)):
            limit = glorot_limit(fan_in, fan_out)
            w = tf.Variable(gen.uniform([fan_in, fan_out], -limit, limit), name=f"W{i}")
            b = tf.Variable(tf.zeros([fan_out]), name=f"b{i}")
            self.weights.append(w)
            self.biases.append(b)


@mistake(
    "SineNet",
    hint="Layers are numbered from 0 here, like Python lists: the first scope is layer_0 and its "
    "variables W0 and b0.",
)
class SineNetLayersFromOne(SineNet):
    def __init__(
        self, sizes: Sequence[int] = (1, 20, 20, 1), seed: int = 0, name: str | None = None
    ) -> None:
        tf.Module.__init__(self, name=name)
        self.sizes = tuple(int(s) for s in sizes)
        gen = tf.random.Generator.from_seed(seed)
        self.weights, self.biases = [], []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(self.sizes), start=1):
            limit = glorot_limit(fan_in, fan_out)
            with tf.name_scope(f"layer_{i}"):
                w = tf.Variable(gen.uniform([fan_in, fan_out], -limit, limit), name=f"W{i}")
                b = tf.Variable(tf.zeros([fan_out]), name=f"b{i}")
            self.weights.append(w)
            self.biases.append(b)


@mistake(
    "SineNet",
    hint="A guard that checks only the rank lets an input with the wrong number of features "
    "through: the second axis must be sizes[0].",
)
class SineNetRankOnlyGuard(SineNet):
    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        h = assert_shape(tf.cast(x, tf.float32), [None, None], name="SineNet input")
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = tf.matmul(h, w) + b
            if i < last:
                h = tf.nn.relu(h)
        return h


@mistake(
    "SineNet",
    hint="The weights must come from the generator the docstring gives you, one draw per layer; "
    "another Glorot initializer draws other numbers.",
)
class SineNetKerasGlorot(SineNet):
    def __init__(
        self, sizes: Sequence[int] = (1, 20, 20, 1), seed: int = 0, name: str | None = None
    ) -> None:
        tf.Module.__init__(self, name=name)
        self.sizes = tuple(int(s) for s in sizes)
        init = keras.initializers.GlorotUniform(seed=seed)
        self.weights, self.biases = [], []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(self.sizes)):
            with tf.name_scope(f"layer_{i}"):
                w = tf.Variable(init([fan_in, fan_out]), name=f"W{i}")
                b = tf.Variable(tf.zeros([fan_out]), name=f"b{i}")
            self.weights.append(w)
            self.biases.append(b)


@mistake(
    "SineNet",
    hint="Check the shape of the biases in the docstring: one number per unit, a vector, not a "
    "row.",
)
class SineNetBiasRows(SineNet):
    def __init__(
        self, sizes: Sequence[int] = (1, 20, 20, 1), seed: int = 0, name: str | None = None
    ) -> None:
        tf.Module.__init__(self, name=name)
        self.sizes = tuple(int(s) for s in sizes)
        gen = tf.random.Generator.from_seed(seed)
        self.weights, self.biases = [], []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(self.sizes)):
            limit = glorot_limit(fan_in, fan_out)
            with tf.name_scope(f"layer_{i}"):
                w = tf.Variable(gen.uniform([fan_in, fan_out], -limit, limit), name=f"W{i}")
                b = tf.Variable(tf.zeros([1, fan_out]), name=f"b{i}")
            self.weights.append(w)
            self.biases.append(b)


@mistake(
    "SineNet",
    hint="W{i} maps sizes[i] inputs to sizes[i + 1] outputs: check the shape the docstring gives "
    "it, [fan_in, fan_out], so that h @ W needs no transpose.",
)
class SineNetTransposedWeights(SineNet):
    def __init__(
        self, sizes: Sequence[int] = (1, 20, 20, 1), seed: int = 0, name: str | None = None
    ) -> None:
        tf.Module.__init__(self, name=name)
        self.sizes = tuple(int(s) for s in sizes)
        gen = tf.random.Generator.from_seed(seed)
        self.weights, self.biases = [], []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(self.sizes)):
            limit = glorot_limit(fan_in, fan_out)
            with tf.name_scope(f"layer_{i}"):
                w = tf.Variable(gen.uniform([fan_out, fan_in], -limit, limit), name=f"W{i}")
                b = tf.Variable(tf.zeros([fan_out]), name=f"b{i}")
            self.weights.append(w)
            self.biases.append(b)

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        h = assert_shape(tf.cast(x, tf.float32), [None, self.sizes[0]], name="SineNet input")
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = tf.matmul(h, w, transpose_b=True) + b
            if i < last:
                h = tf.nn.relu(h)
        return h


@mistake(
    "SineNet",
    hint="Check which nonlinearity the docstring puts after the hidden layers.",
)
class SineNetTanhHidden(SineNet):
    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        h = assert_shape(tf.cast(x, tf.float32), [None, self.sizes[0]], name="SineNet input")
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = tf.matmul(h, w) + b
            if i < last:
                h = tf.tanh(h)
        return h


@mistake(
    "SineNet",
    hint="ReLU sets negative values to exactly 0; check the nonlinearity after the hidden layers.",
)
class SineNetLeakyRelu(SineNet):
    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        h = assert_shape(tf.cast(x, tf.float32), [None, self.sizes[0]], name="SineNet input")
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = tf.matmul(h, w) + b
            if i < last:
                h = tf.nn.leaky_relu(h)
        return h


@mistake(
    "SineNet",
    hint="ReLU lets large positive values through unchanged; check the nonlinearity after the "
    "hidden layers.",
)
class SineNetRelu6(SineNet):
    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        h = assert_shape(tf.cast(x, tf.float32), [None, self.sizes[0]], name="SineNet input")
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = tf.matmul(h, w) + b
            if i < last:
                h = tf.nn.relu6(h)
        return h


@alternative("SineNet")
class SineNetWrittenOut(SineNet):
    def __init__(
        self, sizes: Sequence[int] = (1, 20, 20, 1), seed: int = 0, name: str | None = None
    ) -> None:
        tf.Module.__init__(self, name=name)
        self.sizes = tuple(int(s) for s in sizes)
        gen = tf.random.Generator.from_seed(seed)
        self.weights, self.biases = [], []
        for i in range(len(self.sizes) - 1):
            fan_in, fan_out = self.sizes[i], self.sizes[i + 1]
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            with tf.name_scope(f"layer_{i}"):
                unit = gen.uniform([fan_in, fan_out], dtype=tf.float32)  # U(0, 1)
                self.weights.append(tf.Variable(unit * (2 * limit) - limit, name=f"W{i}"))
                self.biases.append(tf.Variable(tf.zeros_initializer()([fan_out]), name=f"b{i}"))

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        x = tf.cast(x, tf.float32)
        if x.shape.rank != 2 or x.shape[1] != self.sizes[0]:
            raise ShapeError(f"x should be [batch, {self.sizes[0]}], got {x.shape}")
        h = x
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            h = tf.maximum(h @ w + b, 0.0)
        return h @ self.weights[-1] + self.biases[-1]


# END MISTAKES


# --------------------------------------------------------------------------------------------
# 4. One optimisation step
# --------------------------------------------------------------------------------------------


def train_step(
    model: tf.Module, optimizer: keras.optimizers.Optimizer, x: tf.Tensor, y: tf.Tensor
) -> tf.Tensor:
    """One gradient step on the tutorial's loss ``0.5 · mean((model(x) - y)²)``.

    Concept: TF1 built ``opt = tf.train.AdamOptimizer().minimize(mse)`` once and then ran
    ``sess.run([opt, mse], feed_dict=...)`` at every step. In TF2 one step is plain code:
    compute the loss under a ``tf.GradientTape``, ask the tape for the gradients of the loss
    with respect to ``model.trainable_variables``, and give the (gradient, variable) pairs to
    ``optimizer.apply_gradients``.

    Guard the shapes before computing anything: ``model(x)`` and ``y`` must have the same
    shape (both ``[batch, 1]`` for the sine network); otherwise raise ``ShapeError`` and leave
    the variables untouched. A flat ``y`` of shape ``[batch]`` would broadcast the loss to
    ``[batch, batch]`` (exercise 2).

    Hand-computed example: a model ``pred = x·w + b`` with ``w = 2``, ``b = 0``, inputs
    ``x = [[1], [2]]``, targets ``y = [[1], [1]]``: ``pred = [2, 4]``, errors ``[1, 3]``, loss
    ``0.5 · (1 + 9) / 2 = 2.5``. The gradients are ``mean(error · x) = (1 + 6) / 2 = 3.5`` for
    ``w`` and ``mean(error) = 2`` for ``b``, so plain SGD with learning rate 0.1 moves ``w`` to
    ``2 - 0.35 = 1.65`` and ``b`` to ``-0.2``.

    Write the loss yourself: do not call ``tfcourse.review.sine.half_mse_loss`` or
    ``tfcourse.review.sine.mse``, and do not use ``tfcourse.review.trainer``.

    Args:
        model: a ``tf.Module`` (e.g. ``SineNet``); ``model(x)`` returns [batch, 1] float32.
        optimizer: any Keras optimizer (``keras.optimizers.Adam(1e-3)``, ``SGD``...).
        x: [batch, 1] float32 inputs.
        y: [batch, 1] float32 targets.

    Returns:
        Scalar float32 tensor: the loss computed BEFORE the update.

    Raises:
        ShapeError: if ``model(x)`` and ``y`` do not have the same shape.
    """
    x = tf.convert_to_tensor(x, tf.float32)
    y = tf.convert_to_tensor(y, tf.float32)
    # BEGIN SOLUTION
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        pred = model(x)
        if pred.shape != y.shape:
            raise ShapeError(
                f"model(x) has shape {pred.shape.as_list()} but y has shape "
                f"{y.shape.as_list()}; give y the layout of the predictions (e.g. y[:, None])"
            )
        loss = 0.5 * tf.reduce_mean(tf.square(pred - y))
    grads = tape.gradient(loss, variables)
    optimizer.apply_gradients(zip(grads, variables, strict=True))
    return loss
    # END SOLUTION


# BEGIN MISTAKES
def _check_same_shape(pred: tf.Tensor, y: tf.Tensor) -> None:
    """The shape guard every train_step mistake below keeps (unless it is the mistake)."""
    if pred.shape != y.shape:
        raise ShapeError(f"model(x) has shape {pred.shape} but y has shape {y.shape}")


@mistake(
    "train_step",
    hint="Compare your loss with the docstring's formula term by term: is a constant factor "
    "missing?",
)
def train_step_without_half(
    model: tf.Module, optimizer: keras.optimizers.Optimizer, x: tf.Tensor, y: tf.Tensor
) -> tf.Tensor:
    x, y = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.float32)
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        pred = model(x)
        _check_same_shape(pred, y)
        loss = tf.reduce_mean(tf.square(pred - y))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    return loss


@mistake(
    "train_step",
    hint="The loss is a mean over the batch; with another reduction the step size grows with "
    "the batch.",
)
def train_step_sums_over_batch(
    model: tf.Module, optimizer: keras.optimizers.Optimizer, x: tf.Tensor, y: tf.Tensor
) -> tf.Tensor:
    x, y = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.float32)
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        pred = model(x)
        _check_same_shape(pred, y)
        loss = 0.5 * tf.reduce_sum(tf.square(pred - y))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    return loss


@mistake(
    "train_step",
    hint="The loss is one number: check which axes your reduction averages over.",
)
def train_step_mean_over_axis_0(
    model: tf.Module, optimizer: keras.optimizers.Optimizer, x: tf.Tensor, y: tf.Tensor
) -> tf.Tensor:
    x, y = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.float32)
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        pred = model(x)
        _check_same_shape(pred, y)
        loss = 0.5 * tf.reduce_mean(tf.square(pred - y), axis=0)
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    return loss


@mistake(
    "train_step",
    hint="Which loss should the step report: the one its gradients came from, or one measured "
    "after the variables moved?",
)
def train_step_returns_loss_after_update(
    model: tf.Module, optimizer: keras.optimizers.Optimizer, x: tf.Tensor, y: tf.Tensor
) -> tf.Tensor:
    x, y = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.float32)
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        pred = model(x)
        _check_same_shape(pred, y)
        loss = 0.5 * tf.reduce_mean(tf.square(pred - y))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    return 0.5 * tf.reduce_mean(tf.square(model(x) - y))


@mistake(
    "train_step",
    hint="Which variables does the step have to move? A tf.Module collects all of them for "
    "you; a list of some of them is not enough.",
)
def train_step_only_weights(
    model: tf.Module, optimizer: keras.optimizers.Optimizer, x: tf.Tensor, y: tf.Tensor
) -> tf.Tensor:
    x, y = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.float32)
    variables = list(model.weights)
    with tf.GradientTape() as tape:
        pred = model(x)
        _check_same_shape(pred, y)
        loss = 0.5 * tf.reduce_mean(tf.square(pred - y))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    return loss


@mistake(
    "train_step",
    hint="The optimizer is an argument: its kind, learning rate and state belong to the caller.",
)
def train_step_own_optimizer(
    model: tf.Module, optimizer: keras.optimizers.Optimizer, x: tf.Tensor, y: tf.Tensor
) -> tf.Tensor:
    x, y = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.float32)
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        pred = model(x)
        _check_same_shape(pred, y)
        loss = 0.5 * tf.reduce_mean(tf.square(pred - y))
    opt = keras.optimizers.Adam(1e-3)
    opt.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    return loss


@mistake(
    "train_step",
    hint="Without a shape guard, [batch, 1] minus [batch] quietly broadcasts (exercise 2); the "
    "docstring asks for a ShapeError.",
)
def train_step_without_shape_guard(
    model: tf.Module, optimizer: keras.optimizers.Optimizer, x: tf.Tensor, y: tf.Tensor
) -> tf.Tensor:
    x, y = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.float32)
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        loss = 0.5 * tf.reduce_mean(tf.square(model(x) - y))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    return loss


@mistake(
    "train_step",
    hint="Making wrongly shaped targets fit hides the caller's mistake; the docstring asks for a "
    "ShapeError.",
)
def train_step_reshapes_targets(
    model: tf.Module, optimizer: keras.optimizers.Optimizer, x: tf.Tensor, y: tf.Tensor
) -> tf.Tensor:
    x, y = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.float32)
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        pred = model(x)
        loss = 0.5 * tf.reduce_mean(tf.square(pred - tf.reshape(y, tf.shape(pred))))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    return loss


@mistake(
    "train_step",
    hint="A refused step must not change anything: when does your check run, compared with "
    "the update?",
)
def train_step_checks_after_update(
    model: tf.Module, optimizer: keras.optimizers.Optimizer, x: tf.Tensor, y: tf.Tensor
) -> tf.Tensor:
    x, y = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.float32)
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        pred = model(x)
        loss = 0.5 * tf.reduce_mean(tf.square(pred - y))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    _check_same_shape(pred, y)
    return loss


@mistake(
    "train_step",
    hint="model.variables also lists variables with trainable=False, which the tape does not "
    "watch (Keras warns that their gradients do not exist); ask for the trainable ones only.",
)
def train_step_all_variables(
    model: tf.Module, optimizer: keras.optimizers.Optimizer, x: tf.Tensor, y: tf.Tensor
) -> tf.Tensor:
    x, y = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.float32)
    variables = model.variables
    with tf.GradientTape() as tape:
        pred = model(x)
        _check_same_shape(pred, y)
        loss = 0.5 * tf.reduce_mean(tf.square(pred - y))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    return loss


@mistake(
    "train_step",
    hint="Callers catch wrongly shaped targets by the kind of error: check which exception the "
    "docstring asks for.",
)
def train_step_value_error_guard(
    model: tf.Module, optimizer: keras.optimizers.Optimizer, x: tf.Tensor, y: tf.Tensor
) -> tf.Tensor:
    x, y = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.float32)
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        pred = model(x)
        if pred.shape != y.shape:
            raise ValueError(f"model(x) has shape {pred.shape} but y has shape {y.shape}")
        loss = 0.5 * tf.reduce_mean(tf.square(pred - y))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    return loss


@mistake(
    "train_step",
    hint="apply_gradients takes (gradient, variable) pairs, in that order.",
)
def train_step_pairs_swapped(
    model: tf.Module, optimizer: keras.optimizers.Optimizer, x: tf.Tensor, y: tf.Tensor
) -> tf.Tensor:
    x, y = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.float32)
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        pred = model(x)
        _check_same_shape(pred, y)
        loss = 0.5 * tf.reduce_mean(tf.square(pred - y))
    optimizer.apply_gradients(zip(variables, tape.gradient(loss, variables), strict=True))
    return loss


@mistake(
    "train_step",
    hint="Equal ranks are not equal shapes: [batch, 1] targets of another batch size still do not "
    "fit the predictions. Compare the whole shapes.",
)
def train_step_guard_on_rank_only(
    model: tf.Module, optimizer: keras.optimizers.Optimizer, x: tf.Tensor, y: tf.Tensor
) -> tf.Tensor:
    x, y = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.float32)
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        pred = model(x)
        if pred.shape.rank != y.shape.rank:
            raise ShapeError(f"model(x) has rank {pred.shape.rank} but y has rank {y.shape.rank}")
        loss = 0.5 * tf.reduce_mean(tf.square(pred - y))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    return loss


@mistake(
    "train_step",
    hint="The docstring asks for the loss as a scalar tf.Tensor; converting it to NumPy is the "
    "caller's choice.",
)
def train_step_returns_numpy(
    model: tf.Module, optimizer: keras.optimizers.Optimizer, x: tf.Tensor, y: tf.Tensor
) -> tf.Tensor:
    x, y = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.float32)
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        pred = model(x)
        _check_same_shape(pred, y)
        loss = 0.5 * tf.reduce_mean(tf.square(pred - y))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    return loss.numpy()


@mistake(
    "train_step",
    hint="A tape records only what runs inside its with-block: the forward pass must happen "
    "there, or the loss has no gradient with respect to the variables.",
)
def train_step_forward_outside_tape(
    model: tf.Module, optimizer: keras.optimizers.Optimizer, x: tf.Tensor, y: tf.Tensor
) -> tf.Tensor:
    x, y = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.float32)
    variables = model.trainable_variables
    pred = model(x)
    _check_same_shape(pred, y)
    with tf.GradientTape() as tape:
        loss = 0.5 * tf.reduce_mean(tf.square(pred - y))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    return loss


@mistake(
    "train_step",
    hint="The optimizer you are given decides how gradients become updates (Adam does not "
    "subtract learning_rate · gradient): give it the pairs with apply_gradients.",
)
def train_step_manual_sgd(
    model: tf.Module, optimizer: keras.optimizers.Optimizer, x: tf.Tensor, y: tf.Tensor
) -> tf.Tensor:
    x, y = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.float32)
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        pred = model(x)
        _check_same_shape(pred, y)
        loss = 0.5 * tf.reduce_mean(tf.square(pred - y))
    for grad, var in zip(tape.gradient(loss, variables), variables, strict=True):
        var.assign_sub(optimizer.learning_rate * grad)
    return loss


@mistake(
    "train_step",
    hint="The docstring asks for the loss as a scalar tf.Tensor; turning it into a Python "
    "number is the caller's choice.",
)
def train_step_returns_float(
    model: tf.Module, optimizer: keras.optimizers.Optimizer, x: tf.Tensor, y: tf.Tensor
) -> tf.Tensor:
    x, y = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.float32)
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        pred = model(x)
        _check_same_shape(pred, y)
        loss = 0.5 * tf.reduce_mean(tf.square(pred - y))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    return float(loss)


@alternative("train_step")
def train_step_keras_loss(
    model: tf.Module, optimizer: keras.optimizers.Optimizer, x: tf.Tensor, y: tf.Tensor
) -> tf.Tensor:
    x, y = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.float32)
    pred = model(x)
    if pred.shape != y.shape:
        raise ShapeError(f"model(x) is {pred.shape} but y is {y.shape}")
    with tf.GradientTape() as tape:
        loss = 0.5 * tf.reduce_mean(keras.losses.mean_squared_error(y, model(x)))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply(grads, model.trainable_variables)
    return loss


# END MISTAKES


# --------------------------------------------------------------------------------------------
# 5. Saving and restoring
# --------------------------------------------------------------------------------------------


def save_checkpoint(
    model: tf.Module, directory: str | os.PathLike, step: int, max_to_keep: int = 3
) -> str:
    """Save the variable values of ``model`` as the checkpoint of training step ``step``.

    Concept: TF1's ``tf.train.Saver`` stored variables by their graph names. A TF2 checkpoint
    stores them by their place in an object tree: ``tf.train.Checkpoint(model=model)`` records
    every variable reachable from ``model`` under the key ``model``. Use exactly that key, so
    that any code that builds ``tf.train.Checkpoint(model=fresh_model)`` can restore it.

    The tutorial's loop saved every 1,000 steps. Do the same with a
    ``tf.train.CheckpointManager`` on ``directory`` (``max_to_keep`` newest checkpoints are
    kept, older ones deleted; the file prefix is ``CHECKPOINT_PREFIX``, the manager's default
    ``checkpoint_name``) and number the checkpoint with the step:
    ``manager.save(checkpoint_number=step)`` writes ``<directory>/ckpt-<step>`` and updates the
    small ``checkpoint`` index file, so that ``tf.train.latest_checkpoint(directory)`` finds the
    newest one. A new manager on the same directory reads that index file, so calling this
    function once per save still keeps only the ``max_to_keep`` newest checkpoints.

    Do not use ``tfcourse.run.checkpoints`` or ``tfcourse.review.savedmodel``.

    Args:
        model: any ``tf.Module`` (e.g. a ``SineNet``).
        directory: where to write (never the current working directory).
        step: the training step, used as the checkpoint number.
        max_to_keep: how many of the newest checkpoints to keep on disk.

    Returns:
        The path prefix of the new checkpoint, ``"<directory>/ckpt-<step>"``.
    """
    # BEGIN SOLUTION
    manager = tf.train.CheckpointManager(
        tf.train.Checkpoint(model=model),
        os.fspath(directory),
        max_to_keep=max_to_keep,
        checkpoint_name=CHECKPOINT_PREFIX,
    )
    return manager.save(checkpoint_number=step)
    # END SOLUTION


# BEGIN MISTAKES
@mistake(
    "save_checkpoint",
    hint="max_to_keep is an argument: the caller decides how many checkpoints stay on disk.",
)
def save_checkpoint_fixed_max_to_keep(
    model: tf.Module, directory: str | os.PathLike, step: int, max_to_keep: int = 3
) -> str:
    checkpoint = tf.train.Checkpoint(model=model)
    manager = tf.train.CheckpointManager(checkpoint, os.fspath(directory), max_to_keep=3)
    return manager.save(checkpoint_number=step)


@mistake(
    "save_checkpoint",
    hint="The manager should delete old checkpoints: check what you tell it about how many to "
    "keep.",
)
def save_checkpoint_keeps_everything(
    model: tf.Module, directory: str | os.PathLike, step: int, max_to_keep: int = 3
) -> str:
    checkpoint = tf.train.Checkpoint(model=model)
    manager = tf.train.CheckpointManager(checkpoint, os.fspath(directory), max_to_keep=None)
    return manager.save(checkpoint_number=step)


@mistake(
    "save_checkpoint",
    hint="A manager made afresh at every call numbers its saves from its own counter unless "
    "you tell it the training step.",
)
def save_checkpoint_numbered_by_counter(
    model: tf.Module, directory: str | os.PathLike, step: int, max_to_keep: int = 3
) -> str:
    checkpoint = tf.train.Checkpoint(model=model)
    manager = tf.train.CheckpointManager(checkpoint, os.fspath(directory), max_to_keep)
    return manager.save()


@mistake(
    "save_checkpoint",
    hint="A TF2 checkpoint finds variables by the key they were saved under; re-read which key "
    "the docstring asks for.",
)
def save_checkpoint_other_key(
    model: tf.Module, directory: str | os.PathLike, step: int, max_to_keep: int = 3
) -> str:
    checkpoint = tf.train.Checkpoint(net=model)
    manager = tf.train.CheckpointManager(checkpoint, os.fspath(directory), max_to_keep)
    return manager.save(checkpoint_number=step)


@mistake(
    "save_checkpoint",
    hint="Save the model object itself: a checkpoint records the object tree it is given, and "
    "a list of variables is another tree than a model.",
)
def save_checkpoint_variable_list(
    model: tf.Module, directory: str | os.PathLike, step: int, max_to_keep: int = 3
) -> str:
    checkpoint = tf.train.Checkpoint(model=list(model.trainable_variables))
    manager = tf.train.CheckpointManager(checkpoint, os.fspath(directory), max_to_keep)
    return manager.save(checkpoint_number=step)


@mistake(
    "save_checkpoint",
    hint="Writing the files yourself skips the bookkeeping: who updates the index file that "
    "tf.train.latest_checkpoint reads, and who deletes old checkpoints?",
)
def save_checkpoint_without_manager(
    model: tf.Module, directory: str | os.PathLike, step: int, max_to_keep: int = 3
) -> str:
    prefix = os.path.join(os.fspath(directory), f"{CHECKPOINT_PREFIX}-{step}")
    return tf.train.Checkpoint(model=model).write(prefix)


@mistake(
    "save_checkpoint",
    hint="Check the file prefix the docstring asks for: other code looks for <directory>/ckpt-*.",
)
def save_checkpoint_other_prefix(
    model: tf.Module, directory: str | os.PathLike, step: int, max_to_keep: int = 3
) -> str:
    checkpoint = tf.train.Checkpoint(model=model)
    manager = tf.train.CheckpointManager(
        checkpoint, os.fspath(directory), max_to_keep, checkpoint_name="model"
    )
    return manager.save(checkpoint_number=step)


@mistake(
    "save_checkpoint",
    hint="The checkpoint's number is the training step itself, so that ckpt-<step> says which "
    "step it holds.",
)
def save_checkpoint_step_plus_one(
    model: tf.Module, directory: str | os.PathLike, step: int, max_to_keep: int = 3
) -> str:
    checkpoint = tf.train.Checkpoint(model=model)
    manager = tf.train.CheckpointManager(checkpoint, os.fspath(directory), max_to_keep)
    return manager.save(checkpoint_number=step + 1)


@mistake(
    "save_checkpoint",
    hint="tf.train.Checkpoint(model) makes the model the root of the tree, with no key 'model' "
    "above its variables; name the key: tf.train.Checkpoint(model=model).",
)
def save_checkpoint_model_as_root(
    model: tf.Module, directory: str | os.PathLike, step: int, max_to_keep: int = 3
) -> str:
    checkpoint = tf.train.Checkpoint(model)
    manager = tf.train.CheckpointManager(checkpoint, os.fspath(directory), max_to_keep)
    return manager.save(checkpoint_number=step)


@mistake(
    "save_checkpoint",
    hint="max_to_keep is how many checkpoints stay on disk, the newest included: pass it on "
    "unchanged.",
)
def save_checkpoint_keeps_one_less(
    model: tf.Module, directory: str | os.PathLike, step: int, max_to_keep: int = 3
) -> str:
    checkpoint = tf.train.Checkpoint(model=model)
    manager = tf.train.CheckpointManager(checkpoint, os.fspath(directory), max_to_keep - 1)
    return manager.save(checkpoint_number=step)


@mistake(
    "save_checkpoint",
    hint="Check what the function gives back: the docstring asks for the path of the new "
    "checkpoint.",
)
def save_checkpoint_returns_nothing(
    model: tf.Module, directory: str | os.PathLike, step: int, max_to_keep: int = 3
) -> str:
    checkpoint = tf.train.Checkpoint(model=model)
    manager = tf.train.CheckpointManager(checkpoint, os.fspath(directory), max_to_keep)
    manager.save(checkpoint_number=step)


@alternative("save_checkpoint")
def save_checkpoint_returns_latest(
    model: tf.Module, directory: str | os.PathLike, step: int, max_to_keep: int = 3
) -> str:
    manager = tf.train.CheckpointManager(
        tf.train.Checkpoint(model=model), directory=str(directory), max_to_keep=max_to_keep
    )
    manager.save(checkpoint_number=int(step))
    return manager.latest_checkpoint


# END MISTAKES


def restore_checkpoint(model: tf.Module, directory: str | os.PathLike) -> str:
    """Load the newest checkpoint in ``directory`` into ``model``, a freshly built model.

    Concept: a checkpoint holds values, not code. To restore, build a new model with the same
    structure in Python (its random initial values do not matter) and load the values into
    it; afterwards its predictions equal the saved model's exactly. This replaces TF1's
    ``saver.restore(sess, path)`` in a brand-new graph.

    Steps: find the newest checkpoint with ``tf.train.latest_checkpoint(directory)``; if there
    is none, raise ``FileNotFoundError`` with a message naming ``directory``. Restore it with
    ``tf.train.Checkpoint(model=model).restore(path)`` and check the result with
    ``.assert_existing_objects_matched()``: without that check, a checkpoint that does not
    contain the model (saved under another key, for instance) restores NOTHING and silently
    leaves the random values in place. With it, that case raises an ``AssertionError``.

    Do not use ``tfcourse.run.checkpoints`` or ``tfcourse.review.savedmodel``.

    Args:
        model: a model with the same structure as the one saved.
        directory: a directory written by ``save_checkpoint`` (key ``model``).

    Returns:
        The path of the checkpoint that was restored.

    Raises:
        FileNotFoundError: if ``directory`` holds no checkpoint.
        AssertionError: if some variable of ``model`` found no value in the checkpoint.
    """
    # BEGIN SOLUTION
    path = tf.train.latest_checkpoint(os.fspath(directory))
    if path is None:
        raise FileNotFoundError(
            f"no checkpoint in {os.fspath(directory)!r}; save one first with save_checkpoint"
        )
    tf.train.Checkpoint(model=model).restore(path).assert_existing_objects_matched()
    return path
    # END SOLUTION


# BEGIN MISTAKES
def _restore_checked(model: tf.Module, path: str) -> str:
    """Restore ``path`` into ``model`` as the reference does (for mistakes in finding it)."""
    tf.train.Checkpoint(model=model).restore(path).assert_existing_objects_matched()
    return path


@mistake(
    "restore_checkpoint",
    hint="File names sort as text, not as numbers ('ckpt-10' < 'ckpt-9'); the checkpoint index "
    "file already knows which save is the newest.",
)
def restore_newest_by_sorted_names(model: tf.Module, directory: str | os.PathLike) -> str:
    names = sorted(n for n in os.listdir(os.fspath(directory)) if n.endswith(".index"))
    if not names:
        raise FileNotFoundError(f"no checkpoint in {os.fspath(directory)!r}")
    return _restore_checked(model, os.path.join(os.fspath(directory), names[-1][: -len(".index")]))


@mistake(
    "restore_checkpoint",
    hint="The newest checkpoint is the one saved last, which need not carry the largest "
    "number; the checkpoint index file records the order of the saves.",
)
def restore_largest_step_number(model: tf.Module, directory: str | os.PathLike) -> str:
    steps = [
        int(n[len(CHECKPOINT_PREFIX) + 1 : -len(".index")])
        for n in os.listdir(os.fspath(directory))
        if n.startswith(f"{CHECKPOINT_PREFIX}-") and n.endswith(".index")
    ]
    if not steps:
        raise FileNotFoundError(f"no checkpoint in {os.fspath(directory)!r}")
    path = os.path.join(os.fspath(directory), f"{CHECKPOINT_PREFIX}-{max(steps)}")
    return _restore_checked(model, path)


@mistake(
    "restore_checkpoint",
    hint="Of all the checkpoints a directory keeps, which one should a restart continue from?",
)
def restore_oldest_checkpoint(model: tf.Module, directory: str | os.PathLike) -> str:
    state = tf.train.get_checkpoint_state(os.fspath(directory))
    if state is None or not state.all_model_checkpoint_paths:
        raise FileNotFoundError(f"no checkpoint in {os.fspath(directory)!r}")
    return _restore_checked(model, state.all_model_checkpoint_paths[0])


@mistake(
    "restore_checkpoint",
    hint="A restore that matches nothing is not an error by itself: the restore status has a "
    "check that says whether the model's variables got their values.",
)
def restore_without_checking_match(model: tf.Module, directory: str | os.PathLike) -> str:
    path = tf.train.latest_checkpoint(os.fspath(directory))
    if path is None:
        raise FileNotFoundError(f"no checkpoint in {os.fspath(directory)!r}")
    tf.train.Checkpoint(model=model).restore(path)
    return path


@mistake(
    "restore_checkpoint",
    hint="What does tf.train.latest_checkpoint give back for a directory without checkpoints, "
    "and what should the caller see then?",
)
def restore_without_missing_check(model: tf.Module, directory: str | os.PathLike) -> str:
    path = tf.train.latest_checkpoint(os.fspath(directory))
    tf.train.Checkpoint(model=model).restore(path).assert_existing_objects_matched()
    return path


@mistake(
    "restore_checkpoint",
    hint="Returning quietly when there is nothing to restore leaves the caller with random "
    "weights; the docstring asks for an error.",
)
def restore_returns_none_when_missing(model: tf.Module, directory: str | os.PathLike) -> str:
    path = tf.train.latest_checkpoint(os.fspath(directory))
    if path is None:
        return None
    return _restore_checked(model, path)


@mistake(
    "restore_checkpoint",
    hint="An error message should say where the code looked, so that the caller can fix the path.",
)
def restore_error_without_directory(model: tf.Module, directory: str | os.PathLike) -> str:
    path = tf.train.latest_checkpoint(os.fspath(directory))
    if path is None:
        raise FileNotFoundError("no checkpoint found; save one first")
    return _restore_checked(model, path)


@mistake(
    "restore_checkpoint",
    hint="Check what the function returns: the caller wants to know which checkpoint it got.",
)
def restore_returns_directory(model: tf.Module, directory: str | os.PathLike) -> str:
    path = tf.train.latest_checkpoint(os.fspath(directory))
    if path is None:
        raise FileNotFoundError(f"no checkpoint in {os.fspath(directory)!r}")
    _restore_checked(model, path)
    return os.fspath(directory)


@mistake(
    "restore_checkpoint",
    hint="Callers catch a missing checkpoint by the kind of error: check which exception the "
    "docstring asks for.",
)
def restore_value_error_when_missing(model: tf.Module, directory: str | os.PathLike) -> str:
    path = tf.train.latest_checkpoint(os.fspath(directory))
    if path is None:
        raise ValueError(f"no checkpoint in {os.fspath(directory)!r}")
    return _restore_checked(model, path)


@mistake(
    "restore_checkpoint",
    hint="Check what the function gives back: the docstring asks for the path it restored.",
)
def restore_returns_nothing(model: tf.Module, directory: str | os.PathLike) -> str:
    path = tf.train.latest_checkpoint(os.fspath(directory))
    if path is None:
        raise FileNotFoundError(f"no checkpoint in {os.fspath(directory)!r}")
    _restore_checked(model, path)


@mistake(
    "restore_checkpoint",
    hint="tf.train.Checkpoint(model) makes the model the root of the tree, so it looks for its "
    "variables without the key 'model' they were saved under: name the key.",
)
def restore_model_as_root(model: tf.Module, directory: str | os.PathLike) -> str:
    path = tf.train.latest_checkpoint(os.fspath(directory))
    if path is None:
        raise FileNotFoundError(f"no checkpoint in {os.fspath(directory)!r}")
    tf.train.Checkpoint(model).restore(path).assert_existing_objects_matched()
    return path


@alternative("restore_checkpoint")
def restore_through_manager(model: tf.Module, directory: str | os.PathLike) -> str:
    checkpoint = tf.train.Checkpoint(model=model)
    manager = tf.train.CheckpointManager(checkpoint, str(directory), max_to_keep=None)
    if manager.latest_checkpoint is None:
        raise FileNotFoundError(f"{directory} holds no checkpoint to restore")
    checkpoint.read(manager.latest_checkpoint).assert_existing_objects_matched()
    return manager.latest_checkpoint


# END MISTAKES
