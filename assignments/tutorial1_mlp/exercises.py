"""Tutorial 1 assignment: TensorFlow basics and an MNIST network from raw variables

In this assignment you rebuild, piece by piece, the small classifier of tutorial 1: a
784-300-10 network whose weights are plain `tf.Variable` objects, trained with
`tf.GradientTape` and a Keras optimizer. You start with a tiny computation graph, prepare
image and label arrays, draw random mini-batches, create the weights, write the forward pass,
the loss and the accuracy, and finish with one complete training step.

Work with TensorFlow and numpy directly. The `tfcourse` package already contains finished
versions of most of these functions (`tfcourse.basics`, `tfcourse.data`, `tfcourse.batching`,
`tfcourse.mlp`); each exercise says which ones you must not call, because calling them would
skip the point of the exercise. Every function receives everything it needs as arguments:
no MNIST files are read and nothing is trained when this file is imported.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

# BEGIN MISTAKES
from tfcourse.grading.mistakes import mistake

# END MISTAKES

EXERCISES = [
    "compute_a",
    "prepare_images",
    "one_hot",
    "get_batch",
    "init_params",
    "forward",
    "loss_fn",
    "accuracy",
    "train_step",
]


def compute_a(b: Any, c: Any) -> tf.Tensor:
    """Compute ``a = (b + c) * (c + 2)`` with TensorFlow operations.

    Concept: a computation graph of three nodes, ``d = b + c``, ``e = c + 2`` and
    ``a = d * e``; ``d`` and ``e`` do not depend on each other. Also practises the dtype rule:
    TensorFlow refuses to add an integer tensor to a float one, so cast first.

    Args:
        b: a Python number, numpy array, tensor or ``tf.Variable`` of any shape and any real
            dtype (for example ``np.arange(10)``, which is ``int64``).
        c: the same kinds of values, broadcastable against ``b``.

    Returns:
        ``a`` as a ``tf.Tensor`` of dtype ``float32`` with the broadcast shape of ``b`` and
        ``c``. For ``b = 2.0, c = 1.0`` the result is ``9.0``. Gradients must flow from ``a``
        back to ``b`` and ``c`` when they are float32 variables, so stay in TensorFlow (no
        ``.numpy()``, no numpy arithmetic).

    Do not call ``tfcourse.basics.compute_a`` or ``compute_a_array``.
    """
    # BEGIN SOLUTION
    b = tf.cast(b, tf.float32)
    c = tf.cast(c, tf.float32)
    d = tf.add(b, c, name="d")
    e = tf.add(c, 2.0, name="e")
    return tf.multiply(d, e, name="a")
    # END SOLUTION


def prepare_images(images: np.ndarray) -> np.ndarray:
    """Scale integer pixels to ``[0, 1]`` and flatten each image into one row.

    Concept: input scaling (raw 0..255 inputs make the first training steps unstable) and the
    flattening that turns a ``28 x 28`` image into the 784 inputs of the first layer.

    Args:
        images: ``[n, h, w]`` integer pixels in ``0..255`` (MNIST: ``[n, 28, 28]`` uint8), or
            images that are already flat, ``[n, h * w]``.

    Returns:
        A numpy array of shape ``[n, h * w]`` and dtype ``float32`` holding ``pixel / 255``.
        Row ``i`` is image ``i`` read row by row (pixel ``[i, r, col]`` goes to column
        ``r * w + col``). The input array must not be modified. Watch the dtype:
        ``images / 255.0`` is ``float64``.

    Do not call ``tfcourse.data.scale_images`` or ``tfcourse.data.flatten_images``.
    """
    # BEGIN SOLUTION
    images = np.asarray(images)
    flat = images.reshape(images.shape[0], -1)
    return flat.astype(np.float32) / np.float32(255.0)
    # END SOLUTION


def one_hot(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Turn integer class ids into one-hot rows.

    Concept: the target distribution of a classifier. Label 3 of 10 classes becomes
    ``[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]``.

    Args:
        labels: ``[n]`` integer class ids in ``0..num_classes - 1`` (any integer dtype,
            MNIST labels are ``uint8``).
        num_classes: the number of classes, i.e. the length of each row.

    Returns:
        ``[n, num_classes]`` ``float32`` array (numpy array or tensor) with a single 1 per
        row, in column ``labels[i]``.

    Do not call ``tfcourse.data.one_hot``. ``tf.one_hot`` or numpy indexing are both fine.
    """
    # BEGIN SOLUTION
    labels = np.asarray(labels).astype(np.int64)
    out = np.zeros((labels.shape[0], num_classes), np.float32)
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out
    # END SOLUTION


def get_batch(
    x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a random mini-batch *with replacement*.

    Concept: stochastic gradient descent looks at a small random batch per step. Random numbers
    come from a generator that the caller owns and passes in, so a run is reproducible and
    successive calls continue the same random stream.

    Args:
        x: ``[n, ...]`` inputs (for example ``[n, 784]`` float32 or ``[n, 28, 28]`` uint8).
        y: ``[n]`` labels, matching ``x`` row by row.
        batch_size: how many samples to draw; may exceed ``n`` (samples can repeat).
        rng: a ``np.random.Generator``. Draw the indices with exactly one call
            ``rng.integers(0, n, size=batch_size)`` and nothing else from ``rng``.

    Returns:
        ``(x_batch [batch_size, ...], y_batch [batch_size])`` with the dtypes of ``x`` and
        ``y``; ``y_batch[k]`` is the label of ``x_batch[k]``.

    Do not use the global ``np.random`` functions (``np.random.randint`` etc.), and do not call
    ``tfcourse.batching.get_batch``.
    """
    # BEGIN SOLUTION
    idx = rng.integers(0, len(y), size=batch_size)
    return x[idx], y[idx]
    # END SOLUTION


def init_params(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    """Create the four variables of a one-hidden-layer network.

    Concept: the weights are ``tf.Variable`` objects, created once and then updated in place by
    training; names make them recognisable in TensorBoard and checkpoints.

    Args:
        n_in: input width (784 for flattened MNIST images).
        n_hidden: hidden-layer width (300 in the tutorial).
        n_out: number of classes (10).
        seed: seed for the random initial values. Use
            ``tf.random.Generator.from_seed(seed)`` and its ``normal`` method, so the same seed
            always gives the same values.

    Returns:
        ``[W1, b1, W2, b2]``, four ``float32`` ``tf.Variable`` objects named ``"W1"``, ``"b1"``,
        ``"W2"`` and ``"b2"``: ``W1 [n_in, n_hidden]`` and ``W2 [n_hidden, n_out]`` drawn from
        a normal distribution with mean 0 and standard deviation 0.03, ``b1 [n_hidden]`` and
        ``b2 [n_out]`` from a standard normal distribution (mean 0, standard deviation 1).

    Do not use ``tfcourse.mlp.MLP`` or Keras layers.
    """
    # BEGIN SOLUTION
    gen = tf.random.Generator.from_seed(seed)
    W1 = tf.Variable(gen.normal([n_in, n_hidden], stddev=0.03), name="W1")
    b1 = tf.Variable(gen.normal([n_hidden]), name="b1")
    W2 = tf.Variable(gen.normal([n_hidden, n_out], stddev=0.03), name="W2")
    b2 = tf.Variable(gen.normal([n_out]), name="b2")
    return [W1, b1, W2, b2]
    # END SOLUTION


def forward(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    """Forward pass of the network: ``logits = relu(x @ W1 + b1) @ W2 + b2``.

    Concept: each layer computes ``z = x W + b``; the hidden layer applies ReLU, the output
    layer applies nothing. Its raw scores are the *logits* (the softmax is left to the loss).

    Args:
        x: ``[batch, n_in]`` inputs, or ``[batch, h, w]`` images that you flatten to
            ``[batch, h * w]`` first; any real dtype (numpy ``float64``, ``uint8``, ...),
            cast to ``float32`` before the matrix product.
        W1: ``[n_in, n_hidden]`` float32.
        b1: ``[n_hidden]`` float32.
        W2: ``[n_hidden, n_out]`` float32.
        b2: ``[n_out]`` float32.

    Returns:
        ``[batch, n_out]`` ``float32`` logits (``[batch, 10]`` for MNIST), as a tensor through
        which gradients flow to the four parameters (stay in TensorFlow).

    Do not call ``tfcourse.mlp.MLP`` or Keras layers.
    """
    # BEGIN SOLUTION
    x = tf.convert_to_tensor(x)
    x = tf.reshape(x, [tf.shape(x)[0], -1])
    x = tf.cast(x, tf.float32)
    hidden = tf.nn.relu(tf.matmul(x, W1) + b1)
    return tf.matmul(hidden, W2) + b2
    # END SOLUTION


# BEGIN MISTAKES
@mistake("forward", hint="Without a nonlinearity between them, two layers are one linear map.")
def forward_without_relu(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32)
    return tf.matmul(tf.matmul(x, W1) + b1, W2) + b2


# END MISTAKES


def loss_fn(logits: Any, labels: Any) -> tf.Tensor:
    """Mean softmax cross-entropy between logits and the true classes.

    Concept: softmax turns a row of logits into probabilities, and the cross-entropy of one
    sample is ``-log(probability of its true class)``; the loss of a batch is the mean. Compute
    it from the logits in a numerically stable way: logits of size 1000 must not give
    ``inf`` or ``nan`` (``tf.nn`` has functions that take logits directly).

    Args:
        logits: ``[batch, classes]`` float32 raw scores.
        labels: either ``[batch]`` integer class ids (any integer dtype, e.g. ``uint8``), or
            ``[batch, classes]`` one-hot float rows; tell them apart by their rank.

    Returns:
        A scalar (shape ``()``) ``float32`` tensor, the mean loss over the batch.

    Do not call ``tfcourse.mlp.loss_fn`` or any ``keras.losses`` function.
    """
    # BEGIN SOLUTION
    logits = tf.convert_to_tensor(logits, tf.float32)
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 1:
        labels = tf.one_hot(tf.cast(labels, tf.int32), tf.shape(logits)[-1])
    per_sample = tf.nn.softmax_cross_entropy_with_logits(
        labels=tf.cast(labels, tf.float32), logits=logits
    )
    return tf.reduce_mean(per_sample)
    # END SOLUTION


def accuracy(logits: Any, labels: Any) -> tf.Tensor:
    """Fraction of samples whose largest logit sits at the true class.

    Concept: the prediction of a classifier is the arg-max of its logits (softmax does not
    change the order, so it is not needed here).

    Args:
        logits: ``[batch, classes]`` float32 raw scores.
        labels: ``[batch]`` integer class ids (any integer dtype) or ``[batch, classes]``
            one-hot rows.

    Returns:
        A scalar ``float32`` tensor in ``[0, 1]``; e.g. 3 right out of 4 gives ``0.75``.

    Do not call ``tfcourse.mlp.accuracy`` or ``keras.metrics``.
    """
    # BEGIN SOLUTION
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 2:
        labels = tf.argmax(labels, axis=-1)
    pred = tf.argmax(logits, axis=-1, output_type=tf.int64)
    correct = tf.equal(pred, tf.cast(labels, tf.int64))
    return tf.reduce_mean(tf.cast(correct, tf.float32))
    # END SOLUTION


def train_step(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    """One training step on one batch, with ``tf.GradientTape``.

    Concept: record the forward pass and the loss on a gradient tape, ask the tape for the
    gradient of the loss with respect to every parameter, and let the optimizer move each
    parameter against its gradient (``optimizer.apply_gradients``).

    Args:
        x: ``[batch, n_in]`` float32 inputs.
        labels: ``[batch]`` integer class ids or ``[batch, classes]`` one-hot rows.
        params: ``[W1, b1, W2, b2]``, the ``tf.Variable`` objects to train. Update these very
            objects in place (the optimizer does that); do not create new variables.
        optimizer: a Keras optimizer such as ``keras.optimizers.Adam()`` or
            ``keras.optimizers.SGD(0.1)``; call its ``apply_gradients`` exactly once.

    Returns:
        The loss of the batch *before* the update, a scalar ``float32`` tensor.

    Use your own ``forward`` and ``loss_fn`` from above. Do not call ``tfcourse.mlp`` or
    ``tfcourse.train_mlp``, and do not use ``model.fit``.
    """
    # BEGIN SOLUTION
    with tf.GradientTape() as tape:
        logits = forward(x, *params)
        loss = loss_fn(logits, labels)
    grads = tape.gradient(loss, params)
    optimizer.apply_gradients(zip(grads, params, strict=True))
    return loss
    # END SOLUTION
