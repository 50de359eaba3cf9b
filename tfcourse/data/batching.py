"""Three ways to cut a data set into mini-batches.

1. :func:`get_batch` — the tutorial's sampler: ``batch_size`` random indices *with replacement*.
   Simple, but in one "epoch" of ``n // batch_size`` draws about 37 % of the samples are never
   seen (``(1 - 1/n) ** n -> 1/e``) while others are seen twice.
2. :func:`epoch_batches` — shuffle once per epoch and walk through the permutation
   (*without replacement*): every sample is seen exactly once per epoch.
3. :func:`shuffled_batches` — the same idea inside a TensorFlow graph, returning the whole epoch
   as one ``[n_batches, batch_size, ...]`` tensor so a compiled loop can index it; and
   :func:`make_dataset`, the ``tf.data`` pipeline Keras users know.

**Last-batch policy.** ``epoch_batches`` yields a final short batch unless ``drop_last=True``.
``shuffled_batches`` always drops the remainder (a stacked tensor needs equal batches); because
the permutation changes every epoch, a different few samples are left out each time.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import tensorflow as tf

from tfcourse.errors import ShapeError
from tfcourse.value_checks import check_batch_size

RngLike = np.random.Generator | int | None


def _check(x, y, batch_size: int, at_most_n: bool = False) -> int:
    n = len(x)
    if len(y) != n:
        raise ShapeError(f"x has {n} samples but y has {len(y)}; pass matching arrays")
    check_batch_size(batch_size)
    if n == 0:
        raise ShapeError("cannot batch an empty data set; check that the data loaded")
    if at_most_n:
        check_batch_size(batch_size, n)
    return n


def _check_finite_batch(xb: np.ndarray, yb: np.ndarray, idx: np.ndarray, where: str) -> None:
    """Raise ShapeError if a float batch holds NaN/inf (costs about as much as the gather)."""
    for arr, label in ((xb, "x"), (yb, "y")):
        if np.issubdtype(arr.dtype, np.floating):
            bad = ~np.isfinite(arr.reshape(len(arr), -1)).all(axis=1)
            if bad.any():
                raise ShapeError(
                    f"{where}: {label} has NaN or inf in sample {int(idx[np.argmax(bad)])}; "
                    f"clean the data first (e.g. drop rows where ~np.isfinite({label}))"
                )


def _take(
    x: np.ndarray, y: np.ndarray, idx: np.ndarray, where: str
) -> tuple[np.ndarray, np.ndarray]:
    """The batch ``(x[idx], y[idx])``, checked by :func:`_check_finite_batch`."""
    xb, yb = x[idx], y[idx]
    _check_finite_batch(np.asarray(xb), np.asarray(yb), idx, where)
    return xb, yb


def _rng(rng: RngLike) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def get_batch(
    x: np.ndarray, y: np.ndarray, batch_size: int, rng: RngLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``batch_size`` samples uniformly *with replacement* (the tutorial's sampler).

    Args:
        x: [n, ...] inputs, e.g. [60000, 28, 28] uint8 images.
        y: [n] labels.
        batch_size: number of samples to draw.
        rng: a ``np.random.Generator`` (kept by the caller, so successive calls differ) or a
            seed; ``None`` draws fresh OS entropy.

    Returns:
        ``(x_batch [batch_size, ...], y_batch [batch_size])``.

    Raises:
        ConfigError: ``batch_size`` is not a positive integer.
        ShapeError: empty or mismatched data, or NaN/inf in the drawn batch.
    """
    n = _check(x, y, batch_size)
    return _take(x, y, _rng(rng).integers(0, n, size=batch_size), "get_batch")


def epoch_batches(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    rng: RngLike = None,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield one epoch of batches: a fresh permutation, each sample exactly once.

    Args:
        x: [n, ...] inputs.
        y: [n] labels.
        batch_size: samples per batch.
        rng: generator or seed for the permutation.
        drop_last: drop the final batch when it has fewer than ``batch_size`` samples.

    Yields:
        ``(x_batch [b, ...], y_batch [b])`` with ``b == batch_size`` except possibly the last.
    """
    n = _check(x, y, batch_size)
    perm = _rng(rng).permutation(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield _take(x, y, perm[start : start + batch_size], "epoch_batches")


def shuffled_batches(
    x: tf.Tensor, y: tf.Tensor, batch_size: int, generator: tf.random.Generator
) -> tuple[tf.Tensor, tf.Tensor]:
    """Shuffle a whole epoch in-graph and stack it into equal batches (remainder dropped).

    Safe to call inside ``tf.function``: randomness comes from a ``tf.random.Generator``
    whose state advances on every call, so no new random kernel is built per step.

    Args:
        x: [n, d] float32 inputs already on the device.
        y: [n] int32 labels.
        batch_size: samples per batch (a Python int).
        generator: the trainer's ``tf.random.Generator``.

    Returns:
        ``(xb [n // batch_size, batch_size, d], yb [n // batch_size, batch_size])``.

    Raises:
        ConfigError: ``batch_size`` is not a positive integer.
        ShapeError: ``batch_size`` > n (there would be no batch at all) or mismatched x, y;
            when n is unknown while tracing, a ``tf.errors.InvalidArgumentError`` at run time.
    """
    check_batch_size(batch_size)
    x, y = tf.convert_to_tensor(x), tf.convert_to_tensor(y)
    static_n, static_ny = x.shape[0], y.shape[0]
    if static_n is not None and static_ny is not None and static_n != static_ny:
        raise ShapeError(f"x has {static_n} samples but y has {static_ny}; pass matching tensors")
    if static_n is not None:
        check_batch_size(batch_size, static_n)
        n = tf.constant(static_n)
    else:
        n = tf.shape(x)[0]
        message = f"shuffled_batches: batch_size {batch_size} is larger than the samples"
        with tf.control_dependencies([tf.debugging.assert_greater_equal(n, batch_size, message)]):
            n = tf.identity(n)
    n_batches = n // batch_size
    perm = tf.argsort(generator.uniform([n]))[: n_batches * batch_size]
    xb = tf.reshape(tf.gather(x, perm), tf.concat([[n_batches, batch_size], tf.shape(x)[1:]], 0))
    yb = tf.reshape(tf.gather(y, perm), [n_batches, batch_size])
    return xb, yb


def make_dataset(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int | None = 0,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """Build a ``tf.data`` pipeline: slices -> shuffle (every epoch) -> batch -> prefetch.

    Args:
        x: [n, ...] inputs.
        y: [n] labels.
        batch_size: samples per batch.
        shuffle: shuffle with a full-size buffer (exact uniform permutation) every epoch.
        seed: shuffle seed, for reproducible order.
        drop_remainder: drop a final short batch.

    Returns:
        A dataset of ``(x_batch, y_batch)`` pairs.

    Raises:
        ConfigError: ``batch_size`` is not a positive integer.
        ShapeError: empty or mismatched data, or NaN/inf anywhere in float ``x`` or ``y``.
    """
    n = _check(x, y, batch_size)
    _check_finite_batch(np.asarray(x), np.asarray(y), np.arange(n), "make_dataset")
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
