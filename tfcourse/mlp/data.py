"""The MLP trainer's data: images to model inputs, and one validation of a whole data set.

Numpy only: the checks run once, before training, never per batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tfcourse.data.loaders import load_dataset
from tfcourse.data.preprocess import flatten_images, scale_images
from tfcourse.errors import ConfigError, ShapeError
from tfcourse.mlp.config import MLPConfig

FASHION_CLASSES = tuple("T-shirt Trouser Pullover Dress Coat Sandal Shirt Sneaker Bag Boot".split())


def model_inputs(x: Any) -> np.ndarray:
    """Images -> model inputs [n, 784] float32: integer pixels are scaled to [0, 1], floats kept."""
    x = flatten_images(np.asarray(x))
    return scale_images(x) if np.issubdtype(x.dtype, np.integer) else x.astype(np.float32)


def training_data(cfg: MLPConfig, data: Any = None) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The run's ``((x_train, y_train), (x_test, y_test))`` as model inputs, validated.

    Args:
        cfg: the resolved config (``dataset``, ``data_path``, ``train_samples``, ``batch_size``).
        data: arrays in any image layout instead of ``load_dataset(cfg.dataset, cfg.data_path)``.

    Raises:
        ShapeError: bad shapes, labels or values (see :func:`check_classification_data`).
        ConfigError: fewer training samples than ``--batch-size``.
    """
    (x_tr, y_tr), (x_te, y_te) = (
        data if data is not None else load_dataset(cfg.dataset, cfg.data_path)
    )
    if cfg.train_samples:
        x_tr, y_tr = x_tr[: cfg.train_samples], y_tr[: cfg.train_samples]
    x_tr, x_te = model_inputs(x_tr), model_inputs(x_te)
    for x, y, what in ((x_tr, y_tr, "training data"), (x_te, y_te, "test data")):
        check_classification_data(x, y, 784, 10, what)
    if len(x_tr) < cfg.batch_size:
        n, bs = len(x_tr), cfg.batch_size
        raise ConfigError(
            f"batch_size {bs} exceeds the {n} training samples; "
            "use a smaller batch_size or a larger train_samples"
        ).for_cli(
            f"--batch-size {bs} exceeds the {n} training samples; "
            "use a smaller --batch-size or a larger --train-samples"
        )
    return (x_tr, np.asarray(y_tr)), (x_te, np.asarray(y_te))


def check_classification_data(
    x: np.ndarray, y: np.ndarray, n_features: int, n_classes: int, what: str = "data"
) -> None:
    """Validate a whole data set once, before training (cheap numpy checks, not per batch).

    Args:
        x: [n, n_features] inputs.
        y: [n] integer labels.
        n_features: expected input width (e.g. 784).
        n_classes: number of classes (labels must lie in ``[0, n_classes)``).
        what: name used in messages, e.g. ``"training data"``.

    Raises:
        ShapeError: naming the first problem found and how to fix it.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2 or x.shape[1] != n_features:
        raise ShapeError(
            f"{what}: x must have shape [n, {n_features}], got {list(x.shape)}; "
            "flatten images with tfcourse.data.preprocess.flatten_images"
        )
    if y.shape != (x.shape[0],):
        raise ShapeError(
            f"{what}: y must have shape [{x.shape[0]}] (one label per row of x), "
            f"got {list(y.shape)}"
        )
    if not np.issubdtype(y.dtype, np.integer):
        raise ShapeError(f"{what}: labels must be integers, got dtype {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        bad = y[(y < 0) | (y >= n_classes)][0]
        raise ShapeError(
            f"{what}: label {bad} is outside [0, {n_classes}); check the labels or the "
            "number of classes"
        )
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        rows = np.flatnonzero(~np.isfinite(x).all(axis=1))
        raise ShapeError(
            f"{what}: x contains NaN or inf in {rows.size} row(s) (first: row {rows[0]}); "
            "clean or drop those rows before training"
        )
