"""Preparing MNIST-style arrays for a model: scale pixels, flatten images, one-hot labels.

The loaders (:mod:`tfcourse.data.loaders`) return uint8 images [n, 28, 28] and labels [n]; a
dense model wants float32 rows [n, 784] in [0, 1] and, for some losses, one-hot labels [n, 10]::

    x = scale_images(flatten_images(x_train))   # [60000, 784] float32 in [0, 1]
    y = one_hot(y_train)                        # [60000, 10] float32
"""

from __future__ import annotations

import numpy as np

from tfcourse.errors import ConfigError, ShapeError


def scale_images(x: np.ndarray) -> np.ndarray:
    """Map integer pixels 0..255 (any shape, e.g. [n,28,28]) to float32 in [0, 1] (``x/255``).

    Raises:
        ShapeError: ``x`` is not integer pixels in 0..255 (e.g. it was already scaled).
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.integer):
        raise ShapeError(
            f"scale_images expects integer pixels 0..255, got dtype {x.dtype} "
            "(already scaled?). Pass the uint8 images from the loader."
        )
    if x.size and (x.min() < 0 or x.max() > 255):
        raise ShapeError(f"scale_images expects pixels in 0..255, got {x.min()}..{x.max()}.")
    return x.astype(np.float32) / np.float32(255.0)


def flatten_images(x: np.ndarray, image_shape: tuple[int, int] | None = (28, 28)) -> np.ndarray:
    """Flatten images [n, 28, 28] to [n, 784], keeping the dtype; [n, d] passes through.

    Args:
        x: images [n, height, width], or already flat rows [n, d].
        image_shape: the ``(height, width)`` images must have; ``None`` accepts any.

    Raises:
        ShapeError: ``x`` is not rank 2 or 3, or its images are not ``image_shape``.
    """
    x = np.asarray(x)
    if x.ndim == 2:
        return x
    if x.ndim != 3:
        raise ShapeError(f"flatten_images expects [n, 28, 28] or [n, 784], got shape {x.shape}.")
    if image_shape is not None and tuple(x.shape[1:]) != tuple(image_shape):
        h, w = image_shape
        raise ShapeError(
            f"flatten_images expects images of {h}x{w} pixels ([n, {h}, {w}]), got shape "
            f"{x.shape}; crop or pad them to {h}x{w}, or pass image_shape={tuple(x.shape[1:])}."
        )
    return x.reshape(x.shape[0], x.shape[1] * x.shape[2])


def one_hot(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Turn integer labels [n] into float32 one-hot rows [n, num_classes].

    Args:
        labels: Integer class ids, shape [n], each in ``0..num_classes-1``.
        num_classes: Width of each one-hot row.

    Raises:
        ShapeError: ``labels`` is not a rank-1 integer array, or a label is outside
            ``0..num_classes-1``.
        ConfigError: ``num_classes`` < 1.
    """
    if int(num_classes) < 1:
        raise ConfigError(f"num_classes must be >= 1, got {num_classes}.")
    labels = np.asarray(labels)
    if labels.ndim != 1 or not (labels.size == 0 or np.issubdtype(labels.dtype, np.integer)):
        raise ShapeError(
            f"one_hot expects integer labels of shape [n], got shape "
            f"{labels.shape} and dtype {labels.dtype}."
        )
    bad = (labels < 0) | (labels >= num_classes)
    if bad.any():
        i = int(np.argmax(bad))
        raise ShapeError(
            f"one_hot: label {labels[i]} at index {i} is outside the valid range "
            f"0..{num_classes - 1} (num_classes={num_classes})."
        )
    out = np.zeros((labels.size, int(num_classes)), np.float32)
    out[np.arange(labels.size), labels.astype(np.int64)] = 1.0
    return out
