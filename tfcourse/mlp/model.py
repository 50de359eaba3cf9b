"""A multi-layer perceptron built from raw ``tf.Variable`` objects (tutorial 1).

No Keras layers: the weights are plain variables owned by a ``tf.Module`` so students can see
every matrix. With the default sizes ``(784, 300, 10)`` the module holds exactly the tutorial's
``W1 [784, 300]``, ``b1 [300]``, ``W2 [300, 10]`` and ``b2 [10]``.

The variables are created once, in ``__init__``; the forward pass only reads them. That is what
lets a ``tf.function`` trace the model once and reuse the graph for every batch.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from tfcourse.errors import ConfigError, ShapeError
from tfcourse.presets import INITS
from tfcourse.scale.precision import as_compute_dtype
from tfcourse.value_checks import check_finite, check_labels, check_layer_sizes


def _initial_values(
    gen: tf.random.Generator, init: str, fan_in: int, fan_out: int
) -> tuple[tf.Tensor, tf.Tensor]:
    """Initial ``(W [fan_in, fan_out], b [fan_out])`` for one layer."""
    if init == "normal":  # the tutorial: small weights, unit-variance biases
        return gen.normal([fan_in, fan_out], stddev=0.03), gen.normal([fan_out])
    scale = np.sqrt(2.0 / (fan_in + fan_out)) if init == "glorot" else np.sqrt(2.0 / fan_in)
    return gen.normal([fan_in, fan_out], stddev=scale), tf.zeros([fan_out])


class MLP(tf.Module):
    """Fully connected ReLU network with a linear (logits) output layer.

    Args:
        sizes: layer widths from input to output, e.g. ``(784, 300, 10)``.
        init: ``"normal"`` (tutorial: W ~ N(0, 0.03²), b ~ N(0, 1)), ``"glorot"``
            (W ~ N(0, 2/(fan_in+fan_out)), b = 0) or ``"he"`` (W ~ N(0, 2/fan_in), b = 0).
        seed: seed of the ``tf.random.Generator`` that draws the initial values.
        name: module name (prefix of the variable names in checkpoints and TensorBoard).
        compute_dtype: dtype of the matmuls; ``"float16"`` is mixed precision: the variables
            stay float32 and are cast on use, and the logits come back as float32.

    Attributes:
        W1, b1, W2, b2, ...: the variables, layer ``i`` as ``W{i}`` / ``b{i}``.
    """

    def __init__(
        self,
        sizes: Sequence[int] = (784, 300, 10),
        init: str = "normal",
        seed: int = 0,
        name: str | None = "mlp",
        compute_dtype: str = "float32",
    ) -> None:
        super().__init__(name=name)
        self.compute_dtype = as_compute_dtype(compute_dtype)
        self.sizes = check_layer_sizes(sizes)
        if init not in INITS:
            raise ConfigError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
        self.init = init
        gen = tf.random.Generator.from_seed(seed)
        with self.name_scope:
            for i, (fan_in, fan_out) in enumerate(itertools.pairwise(self.sizes), 1):
                w0, b0 = _initial_values(gen, init, fan_in, fan_out)
                setattr(self, f"W{i}", tf.Variable(w0, name=f"W{i}"))
                setattr(self, f"b{i}", tf.Variable(b0, name=f"b{i}"))

    @property
    def num_layers(self) -> int:
        """Number of weight matrices (2 for the tutorial's network)."""
        return len(self.sizes) - 1

    @property
    def params(self) -> list[tf.Variable]:
        """Variables in tutorial order: ``[W1, b1, W2, b2, ...]``."""
        return [getattr(self, f"{k}{i}") for i in range(1, self.num_layers + 1) for k in "Wb"]

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        """Forward pass.

        Args:
            x: [batch, 784] (or [batch, 28, 28], flattened here) pixels, any real dtype;
                cast to ``compute_dtype``.

        Returns:
            logits: [batch, sizes[-1]] float32, no softmax applied.
        """
        x = tf.convert_to_tensor(x)
        if x.shape.rank is not None and x.shape.rank > 2:
            x = tf.reshape(x, [-1, int(np.prod(x.shape[1:]))])
        if x.shape.rank != 2 or x.shape[-1] not in (None, self.sizes[0]):
            raise ShapeError(
                f"MLP expects inputs of shape [batch, {self.sizes[0]}], got {x.shape}; "
                "flatten images with tfcourse.data.preprocess.flatten_images or build "
                "MLP(sizes=...) to match your data"
            )
        if tf.executing_eagerly():  # at the boundary only: compiled steps stay check-free
            check_finite(x, "MLP inputs")
        dtype = self.compute_dtype
        h = tf.cast(x, dtype)
        for i in range(1, self.num_layers + 1):
            with tf.name_scope(f"layer{i}"):  # TensorBoard's graph: boxes layer1, layer2, ...
                w, b = getattr(self, f"W{i}"), getattr(self, f"b{i}")
                h = tf.matmul(h, tf.cast(w, dtype)) + tf.cast(b, dtype)
                if i < self.num_layers:
                    h = tf.nn.relu(h)
        return tf.cast(h, tf.float32)


def _labels_like(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Return labels as int32 class ids [batch], accepting ids or one-hot rows."""
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 2:
        if labels.shape[-1] not in (None, logits.shape[-1]):
            raise ShapeError(
                f"one-hot labels have {labels.shape[-1]} classes but logits have "
                f"{logits.shape[-1]}; use tf.one_hot(labels, {logits.shape[-1]})"
            )
        return tf.argmax(labels, axis=-1, output_type=tf.int32)
    if labels.shape.rank != 1:
        raise ShapeError(
            f"labels must be class ids [batch] or one-hot [batch, classes], got {labels.shape}"
        )
    if tf.executing_eagerly():  # dtype and range; in a graph only the (static) dtype
        labels = check_labels(labels, logits.shape[-1] or 2**31 - 1)
    elif not labels.dtype.is_integer:
        check_labels(labels, logits.shape[-1] or 2**31 - 1)  # raises the dtype error
    return tf.cast(labels, tf.int32)


def loss_fn(
    logits: tf.Tensor,
    labels: tf.Tensor,
    label_smoothing: float = 0.0,
    batch_size: int | None = None,
) -> tf.Tensor:
    """Mean softmax cross-entropy, computed from logits in a numerically stable way.

    Args:
        logits: [batch, classes] raw network outputs.
        labels: [batch] int class ids, or [batch, classes] one-hot (the tutorial's form).
        label_smoothing: ``ε`` in [0, 1): class ids become the targets
            ``(1 - ε) · one_hot + ε / classes`` (the fast preset's 0.1).
        batch_size: divide the summed loss by this instead of the rows of ``logits``: the
            GLOBAL batch size when each replica holds a slice of it, so that the replicas'
            losses (and gradients) add up to the whole batch's mean.

    Returns:
        Scalar float32: ``sum_i(-Σ_c target_ic · log softmax(logits_i)_c) / batch_size``.
    """
    logits = tf.convert_to_tensor(logits)
    labels = tf.convert_to_tensor(labels)
    if tf.executing_eagerly():
        check_finite(logits, "logits")
    if labels.shape.rank == 2:  # one-hot or soft targets: use them as given
        if labels.shape[-1] not in (None, logits.shape[-1]):
            _labels_like(logits, labels)  # raises the shape error
        per_sample = tf.nn.softmax_cross_entropy_with_logits(
            labels=tf.cast(labels, logits.dtype), logits=logits
        )
    elif label_smoothing:
        classes = logits.shape[-1]
        targets = tf.one_hot(_labels_like(logits, labels), classes)
        targets = targets * (1 - label_smoothing) + label_smoothing / classes
        per_sample = tf.nn.softmax_cross_entropy_with_logits(labels=targets, logits=logits)
    else:
        per_sample = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=_labels_like(logits, labels), logits=logits
        )
    if batch_size is None:
        return tf.reduce_mean(per_sample)
    return tf.reduce_sum(per_sample) / batch_size


def train_step(
    model: MLP,
    optimizer: keras.optimizers.Optimizer,
    x: tf.Tensor,
    y: tf.Tensor,
    label_smoothing: float = 0.0,
    batch_size: int | None = None,
) -> dict[str, tf.Tensor]:
    """One gradient step of tutorial 1: forward pass, loss, gradients, Adam's update.

    This is the step the trainer runs (compiled and, with ``--strategy``, once per replica by
    :mod:`tfcourse.scale.scale_out`); a notebook can call it as it is, eagerly.

    Args:
        model: the network; optimizer: e.g. ``keras.optimizers.Adam(1e-3)``.
        x: [batch, 784] float32 inputs; y: [batch] int labels.
        label_smoothing, batch_size: as for :func:`loss_fn`.

    Returns:
        ``{"loss", "cross_entropy", "correct"}``, scalars from the logits before the update:
        ``loss`` is the objective minimised (smoothed targets if ``label_smoothing``),
        ``cross_entropy`` the plain cross-entropy (the number comparable to a test loss; equal
        to ``loss`` without smoothing), ``correct`` how many rows of ``x`` were classified right.
    """
    with tf.GradientTape() as tape:
        logits = model(x)
        loss = loss_fn(logits, y, label_smoothing, batch_size)
        scaled = optimizer.scale_loss(loss)  # x the loss scale under mixed precision
    grads = tape.gradient(scaled, model.params)
    optimizer.apply_gradients(zip(grads, model.params, strict=True))
    cross_entropy = loss_fn(logits, y, batch_size=batch_size) if label_smoothing else loss
    hits = tf.argmax(logits, -1, output_type=tf.int32) == _labels_like(logits, y)
    correct = tf.reduce_sum(tf.cast(hits, tf.float32))
    return {"loss": loss, "cross_entropy": cross_entropy, "correct": correct}


def accuracy(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Fraction of rows whose largest logit is the true class.

    Args:
        logits: [batch, classes].
        labels: [batch] class ids or [batch, classes] one-hot.

    Returns:
        Scalar float32 in [0, 1].
    """
    logits = tf.convert_to_tensor(logits)
    pred = tf.argmax(logits, axis=-1, output_type=tf.int32)
    return tf.reduce_mean(tf.cast(tf.equal(pred, _labels_like(logits, labels)), tf.float32))
