"""Sine regression (tutorial 3): the data, a generic MLP as a ``tf.Module``, the losses, a plot.

The tutorial fits ``y = sin(x) + noise`` on ``x`` in ``[-2π, 2π]`` with a 1-20-20-1 ReLU network,
Xavier (Glorot) uniform weights and zero biases, minimising ``0.5 · mean((pred - y)²)`` with
Adam. :class:`SineMLP` builds the same network; its variables are created under name scopes
``layer_0``, ``layer_1``, ... so that listing them reads like the tutorial's
``tf.variable_scope`` tour: ``layer_0/W0:0``, ``layer_0/b0:0``, ``layer_1/W1:0``, ...
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from tfcourse.errors import ConfigError, ShapeError
from tfcourse.review.shapes import assert_same_shape, assert_shape
from tfcourse.run.plots import save_figure
from tfcourse.scale.precision import as_compute_dtype
from tfcourse.value_checks import check_layer_sizes


def make_sine_data(
    n: int = 10000, noise: float = 0.05, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Evenly spaced inputs on ``[-2π, 2π]`` and noisy sine targets, reproducible from ``seed``.

    Args:
        n: number of points (the tutorial uses 10,000).
        noise: standard deviation of the Gaussian noise added to ``sin(x)``.
        seed: seed of the numpy generator that draws the noise.

    Returns:
        ``(x, y)``, both [n, 1] float32.
    """
    if n < 1 or noise < 0:
        raise ConfigError(f"need n >= 1 and noise >= 0, got n={n}, noise={noise}")
    x = np.linspace(-2 * np.pi, 2 * np.pi, n)[:, None]
    y = np.sin(x) + noise * np.random.default_rng(seed).normal(size=(n, 1))
    return x.astype(np.float32), y.astype(np.float32)


def glorot_uniform(gen: tf.random.Generator, fan_in: int, fan_out: int) -> tf.Tensor:
    """``U(-l, l)`` with ``l = sqrt(6 / (fan_in + fan_out))``, as TF1's ``xavier_initializer``.

    Returns:
        [fan_in, fan_out] float32.
    """
    limit = float(np.sqrt(6.0 / (fan_in + fan_out)))
    return gen.uniform([fan_in, fan_out], -limit, limit)


class SineMLP(tf.Module):
    """Fully connected ReLU network for 1-D regression; linear output layer.

    Args:
        sizes: layer widths from input to output; the tutorial's ``(1, 20, 20, 1)``.
        seed: seed of the ``tf.random.Generator`` drawing the Glorot-uniform weights.
        name: module name (``None``: ``"sine_mlp"``). Variable *names* do not include it, so
            they match the tutorial (``layer_0/W0:0``); checkpoints use attribute paths anyway.
        compute_dtype: dtype of the matmuls; ``"float16"`` is mixed precision: the variables
            stay float32 and are cast on use, and the predictions come back as float32.

    Attributes:
        weights: ``[W0, W1, ...]``, ``W{i}`` of shape [sizes[i], sizes[i+1]].
        biases: ``[b0, b1, ...]``, ``b{i}`` of shape [sizes[i+1]], zeros at first.
    """

    def __init__(
        self,
        sizes: Sequence[int] = (1, 20, 20, 1),
        seed: int = 0,
        name: str | None = None,
        compute_dtype: str = "float32",
    ) -> None:
        super().__init__(name=name)
        self.compute_dtype = as_compute_dtype(compute_dtype)
        self.sizes = check_layer_sizes(sizes)
        gen = tf.random.Generator.from_seed(seed)
        self.weights: list[tf.Variable] = []
        self.biases: list[tf.Variable] = []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(self.sizes)):
            with tf.name_scope(f"layer_{i}"):
                self.weights.append(tf.Variable(glorot_uniform(gen, fan_in, fan_out), name=f"W{i}"))
                self.biases.append(tf.Variable(tf.zeros([fan_out]), name=f"b{i}"))

    @property
    def params(self) -> list[tf.Variable]:
        """Variables in layer order: ``[W0, b0, W1, b1, ...]``."""
        return [v for pair in zip(self.weights, self.biases, strict=True) for v in pair]

    def variable_names(self) -> list[str]:
        """Sorted variable names, e.g. ``["layer_0/W0:0", "layer_0/b0:0", ...]``."""
        return sorted(v.name for v in self.params)

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        """Forward pass.

        Args:
            x: [batch, sizes[0]] float32 (numpy arrays and lists are converted); cast to
                ``compute_dtype``.

        Returns:
            [batch, sizes[-1]] float32 predictions (whatever the compute dtype).

        Raises:
            ShapeError: if ``x`` is not [batch, sizes[0]], e.g. ``[batch]`` without its last axis.
        """
        dtype = self.compute_dtype
        h = assert_shape(tf.cast(x, dtype), [None, self.sizes[0]], name="SineMLP input")
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            with tf.name_scope(f"layer_{i}"):  # as the variables: TensorBoard's graph boxes
                h = tf.matmul(h, tf.cast(w, dtype)) + tf.cast(b, dtype)
                if i < last:
                    h = tf.nn.relu(h)
        return tf.cast(h, tf.float32)


def mse(predictions: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    """Plain mean squared error; both [batch, 1] float32 (same shape enforced). Scalar."""
    assert_same_shape(predictions, targets, ("predictions", "targets"))
    return tf.reduce_mean(tf.square(predictions - targets))


def half_mse_loss(
    predictions: tf.Tensor, targets: tf.Tensor, batch_size: int | None = None
) -> tf.Tensor:
    """The tutorial's loss ``mean(0.5 · (pred - y)²)``, i.e. half of :func:`mse`. Scalar.

    Args:
        predictions, targets: [batch, 1] float32 (same shape enforced).
        batch_size: divide the summed loss by this instead of the rows: the GLOBAL batch size
            when each replica holds a slice, so that the replicas' losses add up to the mean.
    """
    if batch_size is None:
        return 0.5 * mse(predictions, targets)
    assert_same_shape(predictions, targets, ("predictions", "targets"))
    return 0.5 * tf.reduce_sum(tf.square(predictions - targets)) / batch_size


def train_step(
    model: SineMLP,
    optimizer: keras.optimizers.Optimizer,
    x: tf.Tensor,
    y: tf.Tensor,
    batch_size: int | None = None,
) -> dict[str, tf.Tensor]:
    """One Adam step of the review's regression: forward pass, half MSE, gradients, update.

    The trainer runs exactly this (compiled by :mod:`tfcourse.scale.scale_out`, 1,000 per call).

    Args:
        x, y: [batch, 1] float32 inputs and noisy targets; batch_size: see :func:`half_mse_loss`.

    Returns:
        ``{"loss": scalar}``, the half MSE before the update.
    """
    with tf.GradientTape() as tape:
        loss = half_mse_loss(model(x), y, batch_size)
        scaled = optimizer.scale_loss(loss)  # x the loss scale under mixed precision
    grads = tape.gradient(scaled, model.params)
    optimizer.apply_gradients(zip(grads, model.params, strict=True))
    return {"loss": loss}


def plot_sine_fit(
    x: np.ndarray,
    y: np.ndarray,
    predictions: np.ndarray,
    title: str = "",
    path: str | os.PathLike | None = None,
) -> Figure:
    """Data as black dots, predictions as a red line (the tutorial's final figure).

    Args:
        x: [n, 1] inputs; y: [n, 1] noisy targets; predictions: [n, 1] model outputs.
        title: figure title.
        path: if given, also save the figure there as PNG.
    """
    x, y, p = (np.asarray(a).reshape(-1) for a in (x, y, predictions))
    if not len(x) == len(y) == len(p):
        raise ShapeError(
            f"x, y and predictions need the same length, got {len(x)}, {len(y)}, {len(p)}"
        )
    order = np.argsort(x)
    fig = Figure(figsize=(7, 3.5))
    ax = fig.subplots()
    ax.scatter(x, y, s=0.5, c="k", label="data")
    ax.plot(x[order], p[order], c="r", lw=1.5, label="prediction")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right")
    ax.set_title(title)
    if path is not None:
        save_figure(fig, path)
    return fig
