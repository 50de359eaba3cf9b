"""Mixed precision for the hand-written trainers: float16 compute, float32 variables, loss scaling.

``--precision mixed_float16`` runs the matmuls in float16 while the variables (and Adam's state)
stay float32. On GPUs with tensor cores (compute capability 7.0+) this is up to 2-3x faster and
halves activation memory; CPUs have no fast float16 matmuls, so there it runs at about the
speed of float32 (measured 0.95-1.03x with XLA): on a CPU it is for learning the mechanics.
float16 gradients underflow below ~6e-8, so the loss is multiplied by a large factor before
differentiation and the gradients divided by it afterwards;
``keras.optimizers.LossScaleOptimizer`` adapts that factor and skips steps whose gradients
overflowed.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfcourse.errors import ConfigError
from tfcourse.presets import PRECISIONS


def check_precision(precision: str) -> None:
    """Raise :class:`ConfigError` for an unknown precision name."""
    if precision not in PRECISIONS:
        raise ConfigError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")


def as_compute_dtype(name: str) -> tf.DType:
    """The ``tf.DType`` of a model's ``compute_dtype`` argument (float32, float16 or bfloat16).

    Raises:
        ConfigError: for any other name.
    """
    if name not in ("float32", "float16", "bfloat16"):
        raise ConfigError(f"compute_dtype must be float32, float16 or bfloat16, got {name!r}")
    return tf.as_dtype(name)


def compute_dtype(precision: str) -> str:
    """``"float16"`` for ``mixed_float16``, else ``"float32"``."""
    check_precision(precision)
    return "float16" if precision == "mixed_float16" else "float32"


def wrap_optimizer(
    optimizer: keras.optimizers.Optimizer, precision: str
) -> keras.optimizers.Optimizer:
    """The optimizer itself for float32; a ``LossScaleOptimizer`` around it for mixed."""
    check_precision(precision)
    if precision == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def scale_loss(optimizer: keras.optimizers.Optimizer, loss: tf.Tensor) -> tf.Tensor:
    """``loss`` times the current loss scale (unchanged without loss scaling).

    Differentiate the scaled loss; ``optimizer.apply_gradients`` unscales the gradients.
    """
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer.scale_loss(loss)
    return loss


def loss_scale(optimizer: keras.optimizers.Optimizer) -> tf.Variable | None:
    """The current loss scale of a ``LossScaleOptimizer``, or None for a plain optimizer."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer.dynamic_scale
    return None
