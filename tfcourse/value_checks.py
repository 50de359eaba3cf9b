"""Value checks: catch wrong *contents* of a tensor where the data enters.

:mod:`tfcourse.review.shapes` catches wrong shapes; these catch NaN inputs, float or out-of-range
labels, ``dones=2`` and impossible batch sizes. Call them where data enters (eagerly, once), not
in every step of a compiled loop: eager calls raise :class:`ShapeError` (or
:class:`ConfigError`) naming the first bad value; inside a ``tf.function`` the check is attached
to the graph and fails with ``tf.errors.InvalidArgumentError`` when it runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from tfcourse.errors import ConfigError, ShapeError


def _graph_check(x: tf.Tensor, assertion: tf.Operation | None) -> tf.Tensor:
    """``x`` with ``assertion`` attached as a control dependency (graph mode only)."""
    if assertion is None:
        return x
    with tf.control_dependencies([assertion]):
        return tf.identity(x)


def _first_bad(values: np.ndarray, bad: np.ndarray) -> tuple[object, list[int]] | None:
    """``(value, index)`` of the first True of the mask ``bad`` (row-major), None if none."""
    if not bad.any():
        return None
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return values[index], list(index)


def check_finite(x: tf.Tensor | object, name: str = "tensor") -> tf.Tensor:
    """Check that a float tensor holds no NaN or ±inf; return it as a tensor.

    Eager (the normal case: validate inputs once, at the boundary) raises :class:`ShapeError`
    naming the first bad element. Inside a ``tf.function`` the check runs with the graph and
    fails with ``tf.errors.InvalidArgumentError`` carrying the same kind of message. Integer
    tensors pass unchecked (they cannot hold NaN).

    Args:
        x: any tensor-like, e.g. images [n, 784] or rewards [T, n_envs].
        name: what to call ``x`` in the message.

    Raises:
        ShapeError: (eager) ``x`` has a NaN or infinite value.
    """
    x = tf.convert_to_tensor(x)
    if not x.dtype.is_floating:
        return x
    if tf.executing_eagerly():
        values = x.numpy()
        bad = ~np.isfinite(values)
        if found := _first_bad(values, bad):
            value, index = found
            raise ShapeError(
                f"{name} has {int(bad.sum())} non-finite value(s) (NaN or inf), the first "
                f"{value} at index {index}; clean the data or lower the learning "
                "rate if it came from training"
            )
        return x
    return _graph_check(x, tf.debugging.assert_all_finite(x, f"{name} has NaN or inf values"))


def check_labels(labels: tf.Tensor | object, num_classes: int, name: str = "labels") -> tf.Tensor:
    """Check integer class ids in ``0..num_classes-1``; return them as a tensor.

    Args:
        labels: class ids, any shape (usually [batch]).
        num_classes: number of classes, e.g. 10.
        name: what to call ``labels`` in the message.

    Raises:
        ShapeError: float or bool labels (always, from the dtype); a label out of range
            (eager; in a ``tf.function`` an ``InvalidArgumentError`` when the graph runs).
    """
    labels = tf.convert_to_tensor(labels)
    if not labels.dtype.is_integer:
        raise ShapeError(
            f"{name} must be integer class ids 0..{num_classes - 1}, got dtype "
            f"{labels.dtype.name}; pass tf.cast(labels, tf.int32) if they are whole numbers, "
            "or tf.argmax(one_hot, -1) if they are one-hot rows"
        )
    if tf.executing_eagerly():
        values = labels.numpy()
        if found := _first_bad(values, (values < 0) | (values >= num_classes)):
            value, index = found
            raise ShapeError(
                f"{name}: label {value} at index {index} is outside 0.."
                f"{num_classes - 1} (num_classes={num_classes}); check the labels or num_classes"
            )
        return labels
    message = f"{name} must be in 0..{num_classes - 1} (num_classes={num_classes})"
    low = tf.debugging.assert_non_negative(labels, message=message)
    with tf.control_dependencies([low]):
        high = tf.debugging.assert_less(labels, tf.cast(num_classes, labels.dtype), message)
    return _graph_check(labels, high)


def check_binary(x: tf.Tensor | object, name: str = "dones") -> tf.Tensor:
    """Check that every value is 0 or 1 (done masks, terminated/truncated flags).

    Bool tensors pass unchecked. Eager raises :class:`ShapeError` naming the first bad value;
    inside a ``tf.function`` an ``InvalidArgumentError`` when the graph runs.

    Raises:
        ShapeError: (eager) a value other than 0 or 1, e.g. ``dones=2``, or a NaN.
    """
    x = tf.convert_to_tensor(x)
    if x.dtype == tf.bool:
        return x
    if tf.executing_eagerly():
        values = x.numpy()
        if found := _first_bad(values, (values != 0) & (values != 1)):
            value, index = found
            raise ShapeError(
                f"{name} must hold only 0 (not done) or 1 (done), got {value} at index "
                f"{index}; pass terminated | truncated as 0/1 or bool"
            )
        return x
    ok = tf.reduce_all(tf.logical_or(tf.equal(x, 0), tf.equal(x, 1)))
    return _graph_check(x, tf.debugging.Assert(ok, [f"{name} must hold only 0 or 1"]))


def check_batch_size(batch_size: object, n: int | None = None, name: str = "batch_size") -> int:
    """Check a batch size: a positive integer, and at most ``n`` samples when ``n`` is given.

    Raises:
        ConfigError: not a positive integer (0, -1, 2.5, True).
        ShapeError: larger than the ``n`` samples available.
    """
    ok = isinstance(batch_size, int | np.integer) and not isinstance(batch_size, bool)
    if not ok or batch_size <= 0:
        raise ConfigError(f"{name} must be a positive integer, got {batch_size!r}")
    if n is not None and batch_size > n:
        raise ShapeError(
            f"{name} {batch_size} is larger than the {n} samples; use at most {n} or more data"
        )
    return int(batch_size)


def check_layer_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    """Layer widths from input to output as ints: at least two, all positive.

    Raises:
        ConfigError: fewer than two widths, or one that is not positive.
    """
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < 2 or min(sizes) <= 0:
        raise ConfigError(f"sizes must list at least two positive widths, got {sizes}")
    return sizes
