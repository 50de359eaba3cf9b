"""TF1 beside TF2: the review's graph-and-session examples, and the same computations today.

Each ``*_v1`` function builds its own ``tf.Graph`` and runs it in a ``tf.compat.v1.Session``:
inside ``with graph.as_default():`` TensorFlow builds graph ops instead of running them eagerly,
so no global switch (``disable_eager_execution``) is ever touched and everything else in the
process stays TF2. Each ``*_v2`` function computes the same values the TF2 way: plain eager
code, or a ``tf.function`` whose arguments replace the placeholders and ``feed_dict``.

===============================  =====================================================
TF1 (graph + session)            TF2
===============================  =====================================================
``tf.placeholder([None])``       a function argument (``tf.TensorSpec([None])``)
``sess.run(c, feed_dict=...)``   call the function, ``c = f(a, b)``
``tf.get_variable`` + init op    ``tf.Variable(initial_value)``, ready at once
``tf.variable_scope("layer_0")``  ``tf.name_scope("layer_0")`` / ``tf.Module`` attributes
``tf.train.Saver``               ``tf.train.Checkpoint`` (+ ``CheckpointManager``)
===============================  =====================================================
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import tensorflow as tf

from tfcourse.errors import ShapeError
from tfcourse.review.shapes import assert_shape, format_shape

V1 = tf.compat.v1
A_COLUMN = [[-1.0], [-2.0], [-3.0]]  # [3, 1], the review's "vertical" vector
B_ROW = [[1.0, 2.0, 3.0]]  # [1, 3], the "horizontal" one


@contextmanager
def v1_session(graph: tf.Graph | None = None) -> Iterator[tuple[tf.Graph, V1.Session]]:
    """A fresh graph made the default, and a session on it (TF2's stand-in for ``tf_reset()``).

    Yields:
        ``(graph, session)``; the session is closed on exit.
    """
    graph = graph if graph is not None else tf.Graph()
    with graph.as_default(), V1.Session(graph=graph) as sess:
        yield graph, sess


def run_fed(sess: V1.Session, fetches: Any, feed_dict: Mapping[tf.Tensor, Any]) -> Any:
    """``sess.run(fetches, feed_dict)``, turning a wrongly shaped feed into a :class:`ShapeError`.

    Raises:
        ShapeError: naming the placeholder, its shape, the fed shape and how to fix it.
    """
    try:
        return sess.run(fetches, feed_dict=dict(feed_dict))
    except ValueError as exc:
        for ph, value in feed_dict.items():
            got = np.shape(value)
            if not ph.shape.is_compatible_with(got):
                want = ph.shape.as_list() if ph.shape.rank is not None else [-1]
                raise ShapeError(
                    f"placeholder {ph.name!r} expects shape {format_shape(ph.shape)} "
                    f"(None = any size) but was fed shape {format_shape(got)}; reshape the "
                    f"value, e.g. np.reshape(value, {[-1 if d is None else d for d in want]}), "
                    f"or declare the placeholder as shape={format_shape([None, *got[1:]])}"
                ) from exc
        raise


def constant_add_v1() -> np.float32:
    """``1.0 + 2.0`` as a graph: build ``c``, then ``sess.run(c)`` -> ``3.0``."""
    with v1_session() as (_, sess):
        return sess.run(tf.constant(1.0) + tf.constant(2.0))


def placeholder_add_v1(a: Any, b: Any, shape: Sequence[int | None] = (None,)) -> np.ndarray:
    """``a + b`` with both fed through float32 placeholders of ``shape`` (default ``[None]``)."""
    with v1_session() as (_, sess):
        a_ph = V1.placeholder(tf.float32, shape=list(shape), name="a_placeholder")
        b_ph = V1.placeholder(tf.float32, shape=list(shape), name="b_placeholder")
        return run_fed(sess, a_ph + b_ph, {a_ph: a, b_ph: b})


@tf.function(input_signature=[tf.TensorSpec([None], tf.float32)] * 2)
def _add(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    return a + b


def placeholder_add_v2(a: Any, b: Any) -> np.ndarray:
    """The TF2 version: a ``tf.function`` whose ``[None]`` signature plays the placeholders.

    Args:
        a, b: [n] float32 each.
    """
    a = assert_shape(tf.cast(a, tf.float32), [None], name="a")
    b = assert_shape(tf.cast(b, tf.float32), [None], name="b")
    return _add(a, b).numpy()


def _broadcasting(a: tf.Tensor, b: tf.Tensor) -> dict[str, tf.Tensor]:
    """The review's computations on a [3, 1] column ``a`` and a [1, 3] row ``b``."""
    c0 = b + b
    return {
        "b_plus_b": c0,  # [1, 3]: same shapes, plain elementwise
        "a_plus_b": a + b,  # [3, 3]: both stretched to 3 x 3
        "elementwise": a * b,  # [3, 3]
        "matmul": tf.matmul(b, a),  # [1, 3] @ [3, 1] = [1, 1] = [[-14]]
        "chained": c0 + 1,
        "mean": tf.reduce_mean(b),  # scalar 2.0
    }


def broadcasting_v1() -> dict[str, np.ndarray]:
    """Every result of :func:`_broadcasting` fetched with one ``sess.run``."""
    with v1_session() as (_, sess):
        return sess.run(_broadcasting(tf.constant(A_COLUMN), tf.constant(B_ROW)))


def broadcasting_v2() -> dict[str, np.ndarray]:
    """The same results from a ``tf.function`` (eager code would give them too)."""
    out = tf.function(_broadcasting)(tf.constant(A_COLUMN), tf.constant(B_ROW))
    return {k: v.numpy() for k, v in out.items()}


def variable_add_v1(init: Any = ((2.0, 4.0, 6.0),)) -> dict[str, Any]:
    """``b + var`` with ``var`` from ``get_variable`` and the global initializer op.

    Returns:
        ``{"names": ["myvar:0"], "c": [[3, 6, 9]]}`` for the default ``init``.
    """
    init = np.asarray(init, np.float32)
    with v1_session() as (_, sess):
        var = V1.get_variable("myvar", shape=init.shape, initializer=V1.constant_initializer(init))
        c = tf.constant(B_ROW) + var
        sess.run(V1.global_variables_initializer())  # without it: FailedPreconditionError
        return {"names": [v.name for v in V1.global_variables()], "c": sess.run(c)}


def variable_add_v2(init: Any = ((2.0, 4.0, 6.0),)) -> dict[str, Any]:
    """TF2: a ``tf.Variable`` holds its value from the moment it is created."""
    var = tf.Variable(np.asarray(init, np.float32), name="myvar")
    return {"names": [var.name], "c": (tf.constant(B_ROW) + var).numpy()}


def scoped_variable_names_v1(sizes: Sequence[int] = (1, 20, 20, 1)) -> list[str]:
    """Names from the review's ``variable_scope`` tour: ``layer_0/W0:0``, ``layer_0/b0:0``, ..."""
    with v1_session():
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            with V1.variable_scope(f"layer_{i}"):
                V1.get_variable(
                    f"W{i}", [fan_in, fan_out], initializer=V1.glorot_uniform_initializer()
                )
                V1.get_variable(f"b{i}", [fan_out], initializer=V1.zeros_initializer())
        return sorted(v.name for v in V1.global_variables())


def saver_roundtrip_v1(directory: str | os.PathLike, value: Any = ((1.0, 2.0),)) -> dict[str, Any]:
    """Save a variable with ``tf.train.Saver``, then restore it into a brand-new graph.

    Returns:
        ``{"path": checkpoint prefix, "saved": value, "restored": value read back}``.
    """
    value = np.asarray(value, np.float32)
    prefix = os.path.join(os.fspath(directory), "model.ckpt")
    with v1_session() as (_, sess):
        var = V1.get_variable("w", shape=value.shape, initializer=V1.zeros_initializer())
        sess.run(V1.global_variables_initializer())
        sess.run(var.assign(value))
        path = V1.train.Saver().save(sess, prefix)
    with v1_session() as (_, sess):  # a new graph: nothing is left from the first one
        var = V1.get_variable("w", shape=value.shape, initializer=V1.zeros_initializer())
        V1.train.Saver().restore(sess, path)  # restoring replaces running the initializer
        return {"path": path, "saved": value, "restored": sess.run(var)}
