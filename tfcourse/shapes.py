"""Shape guards: catch silent broadcasting before it silently ruins a loss.

Broadcasting stretches size-1 axes so that ``[3, 1] + [1, 3]`` is a ``[3, 3]`` matrix. That is
handy on purpose and a disaster by accident. The classic accident is a regression loss: the
predictions are ``[N, 1]`` but the targets are ``[N]``; ``pred - target`` becomes ``[N, N]``
(every prediction minus every target) and ``reduce_mean`` happily returns one number. Nothing
crashes; the model simply learns the wrong thing. :func:`assert_shape` turns that into an error
that names the tensor, the expected and the actual shape, and the fix.

``None`` in an expected shape means "any size", like a ``[None, 1]`` placeholder in TF1.

The value guards below (:func:`check_finite`, :func:`check_labels`, :func:`check_binary`,
:func:`check_batch_size`) catch wrong *contents*: NaN inputs, float or out-of-range labels,
``dones=2``. Call them where data enters (eagerly, once), not in every step of a compiled loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from tfcourse.errors import ConfigError, ShapeError


def format_shape(shape: Sequence[int | None] | tf.TensorShape | None) -> str:
    """``[None, 1]`` style text for a shape (``"unknown rank"`` when the rank is not known)."""
    if shape is None or (isinstance(shape, tf.TensorShape) and shape.rank is None):
        return "unknown rank"
    return "[" + ", ".join("None" if d is None else str(d) for d in list(shape)) + "]"


def _rank_hint(got: list[int | None], expected: list[int | None]) -> str:
    """How to fix a rank mismatch, for the common cases of a missing or extra trailing 1."""
    if len(expected) == len(got) + 1 and expected[-1] == 1:
        return "add the trailing axis with x[:, None] or tf.expand_dims(x, -1)"
    if len(got) == len(expected) + 1 and got[-1] == 1:
        return "drop the trailing axis with tf.squeeze(x, -1)"
    return (
        f"reshape it with tf.reshape(x, {format_shape([-1 if d is None else d for d in expected])})"
    )


def assert_shape(
    x: tf.Tensor | object, expected: Sequence[int | None], name: str = "tensor"
) -> tf.Tensor:
    """Check that ``x`` has the rank and sizes of ``expected``; return it as a tensor.

    Sizes known when the check runs are compared at once (always, in eager code). Inside a
    ``tf.function`` a size that is unknown while tracing (a ``None`` batch axis) is checked when
    the graph runs instead, with the same message, as a ``tf.errors.InvalidArgumentError``.

    Args:
        x: anything ``tf.convert_to_tensor`` accepts.
        expected: one entry per axis: an int, or ``None`` for "any size", e.g. ``[None, 1]``.
        name: what to call ``x`` in the message, e.g. ``"predictions"``.

    Returns:
        ``x`` as a tensor (with a run-time check attached when one was needed).

    Raises:
        ShapeError: on a rank mismatch or a size mismatch known at check time.
    """
    x = tf.convert_to_tensor(x)
    expected = [None if d is None else int(d) for d in expected]
    if x.shape.rank is None:
        return x  # nothing is known before the graph runs; leave it to the ops
    got = x.shape.as_list()
    want = format_shape(expected)
    if len(got) != len(expected):
        raise ShapeError(
            f"{name}: expected rank {len(expected)} with shape {want}, got rank {len(got)} "
            f"with shape {format_shape(got)}; {_rank_hint(got, expected)}"
        )
    deferred = []
    for axis, (g, e) in enumerate(zip(got, expected, strict=True)):
        if e is None:
            continue
        if g is None:
            deferred.append((axis, e))
        elif g != e:
            raise ShapeError(
                f"{name}: axis {axis} has size {g} but {e} was expected (expected {want}, "
                f"got {format_shape(got)}; None means any size); "
                "fix the tensor's layout or the expected shape"
            )
    if not deferred:
        return x
    checks = [
        tf.debugging.assert_equal(
            tf.shape(x)[axis],
            e,
            message=f"{name}: axis {axis} must have size {e} (expected {want})",
        )
        for axis, e in deferred
    ]
    with tf.control_dependencies(checks):
        return tf.identity(x)


def assert_same_shape(a: tf.Tensor, b: tf.Tensor, names: tuple[str, str] = ("a", "b")) -> None:
    """Raise :class:`ShapeError` unless ``a`` and ``b`` have the same (static) shape.

    Use it before an elementwise op that must *not* broadcast, e.g. ``pred - target``.
    """
    a, b = tf.convert_to_tensor(a), tf.convert_to_tensor(b)
    if a.shape.rank is not None and b.shape.rank is not None and a.shape != b.shape:
        if a.shape.is_compatible_with(b.shape):
            return  # equal up to unknown sizes
        raise ShapeError(
            f"{names[0]} has shape {format_shape(a.shape)} but {names[1]} has shape "
            f"{format_shape(b.shape)}; {_broadcast_result(a.shape, b.shape)}; give both the "
            "same shape first (e.g. y[:, None] or tf.squeeze(y, -1))"
        )


def _broadcast_result(a: tf.TensorShape, b: tf.TensorShape) -> str:
    """What an elementwise op on shapes ``a`` and ``b`` would silently produce."""
    try:
        result = tf.broadcast_static_shape(a, b)
    except ValueError:
        return "they do not even broadcast"
    return f"an elementwise op would broadcast them to {format_shape(result)}"


def naive_mse(predictions: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    """Mean squared error WITHOUT any shape check: the pitfall, kept for teaching.

    With ``predictions [N, 1]`` and ``targets [N]`` the difference broadcasts to ``[N, N]`` and
    the "MSE" averages every prediction against every target. Example by hand:
    ``predictions = [[0], [1]]``, ``targets = [0, 1]`` is a perfect fit (true MSE 0), yet this
    returns ``mean([[0, -1], [1, 0]]²) = 0.5``.

    Returns:
        Scalar float32, correct only when both inputs have the same shape.
    """
    return tf.reduce_mean(
        tf.square(tf.cast(predictions, tf.float32) - tf.cast(targets, tf.float32))
    )


def guarded_mse(predictions: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    """Mean squared error that insists on ``predictions [N, 1]`` and ``targets [N, 1]``.

    Args:
        predictions: [batch, 1] float32.
        targets: [batch, 1] float32.

    Returns:
        Scalar float32 ``mean((predictions - targets)²)``.

    Raises:
        ShapeError: for ``targets [N]`` (the broadcasting pitfall) or any other mismatch.
    """
    predictions = assert_shape(predictions, [None, 1], name="predictions")
    targets = assert_shape(targets, [None, 1], name="targets")
    assert_same_shape(predictions, targets, ("predictions", "targets"))
    return naive_mse(predictions, targets)


# --- value guards: call them at a boundary (eager), not per step inside a compiled loop -----


def _graph_check(x: tf.Tensor, assertion: tf.Operation | None) -> tf.Tensor:
    """``x`` with ``assertion`` attached as a control dependency (graph mode only)."""
    if assertion is None:
        return x
    with tf.control_dependencies([assertion]):
        return tf.identity(x)


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
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ShapeError(
                f"{name} has {int(bad.sum())} non-finite value(s) (NaN or inf), the first "
                f"{values[index]} at index {list(index)}; clean the data or lower the learning "
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
        bad = (values < 0) | (values >= num_classes)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ShapeError(
                f"{name}: label {values[index]} at index {list(index)} is outside 0.."
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
        bad = (values != 0) & (values != 1)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ShapeError(
                f"{name} must hold only 0 (not done) or 1 (done), got {values[index]} at index "
                f"{list(index)}; pass terminated | truncated as 0/1 or bool"
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
