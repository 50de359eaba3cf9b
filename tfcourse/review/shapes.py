"""Shape guards: catch silent broadcasting before it silently ruins a loss.

Broadcasting stretches size-1 axes so that ``[3, 1] + [1, 3]`` is a ``[3, 3]`` matrix. That is
handy on purpose and a disaster by accident. The classic accident is a regression loss: the
predictions are ``[N, 1]`` but the targets are ``[N]``; ``pred - target`` becomes ``[N, N]``
(every prediction minus every target) and ``reduce_mean`` happily returns one number. Nothing
crashes; the model simply learns the wrong thing. :func:`assert_shape` turns that into an error
that names the tensor, the expected and the actual shape, and the fix.

``None`` in an expected shape means "any size", like a ``[None, 1]`` placeholder in TF1.

The value checks (``check_finite``, ``check_labels``, ``check_binary``, ``check_batch_size``)
live in :mod:`tfcourse.value_checks`.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from tfcourse.errors import ShapeError


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
