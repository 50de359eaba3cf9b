"""Tutorial 1 basics: the graph of ``a = (b + c) * (c + 2)`` with named variables and ops.

The expression splits into three nodes, two of which do not depend on each other::

    d = b + c        e = c + const      (independent: may run in parallel)
          \\          /
           a = d * e

:func:`compute_a` runs the ops eagerly, :data:`compute_a_graph` is the same Python code traced
into a graph by ``tf.function``; :func:`write_graph_demo` sends that graph to TensorBoard.

dtype note: ``np.arange`` makes ``int64`` on Linux and macOS (and on Windows since numpy 2.0;
``int32`` there before), so ``tf.Variable(np.arange(10))`` is an ``int64`` variable here. It must
be cast with ``tf.cast(b, tf.float32)`` before it can meet the ``float32`` variable ``c``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfcourse.errors import ShapeError
from tfcourse.run import summaries
from tfcourse.run.folder import new_run_dir


def make_scalar_variables() -> dict[str, tf.Variable]:
    """The tutorial's three scalar ``float32`` variables, each with a name for TensorBoard.

    Returns:
        ``{"const": 2.0, "b": 2.0, "c": 1.0}`` as variables named ``const``, ``b`` and ``c``
        (TensorFlow shows them as ``const:0`` etc.: output 0 of the op of that name).
    """
    values = {"const": 2.0, "b": 2.0, "c": 1.0}
    return {name: tf.Variable(value, name=name) for name, value in values.items()}


def make_array_variable(n: int = 10, name: str = "b") -> tf.Variable:
    """``tf.Variable(np.arange(n))``: shape ``[n]``, integer dtype (``int64`` with numpy 2)."""
    return tf.Variable(np.arange(n), name=name)


def _dtype(x: Any) -> tf.DType | None:
    """dtype of a tensor, variable or numpy array; ``None`` for Python numbers (they adapt)."""
    dtype = getattr(x, "dtype", None)
    return None if dtype is None else tf.as_dtype(dtype)


def check_same_dtype(**named: Any) -> None:
    """Raise a clear :class:`ShapeError` if the named inputs do not share one dtype.

    Python ints and floats are ignored: TensorFlow converts them to the other operand's dtype.

    Raises:
        ShapeError: e.g. ``b`` is ``int64`` but ``c`` is ``float32``, with the ``tf.cast`` fix.
    """
    dtypes = {name: d for name, d in ((n, _dtype(x)) for n, x in named.items()) if d is not None}
    if len(set(dtypes.values())) > 1:
        found = ", ".join(f"{n} is {d.name}" for n, d in dtypes.items())
        raise ShapeError(
            f"inputs must share one dtype but {found}; cast first, e.g. "
            "tf.cast(b, tf.float32) for a tensor or x.astype(np.float32) for a numpy array"
        )


def compute_a(b: Any, c: Any, const: Any = 2.0) -> tf.Tensor:
    """``a = (b + c) * (c + const)`` with named ops ``d``, ``e`` and ``a``.

    Args:
        b: scalar or array (any shape), ``float32`` like ``c``.
        c: scalar or array broadcastable against ``b``.
        const: the ``2`` of the formula (tutorial: a variable named ``const``).

    Returns:
        ``a`` with the broadcast shape of ``b`` and ``c``; ``9.0`` for ``b=2, c=1``.

    Raises:
        ShapeError: if ``b``, ``c`` and ``const`` have different dtypes (see
            :func:`check_same_dtype`); raw TensorFlow would raise ``InvalidArgumentError``.
    """
    check_same_dtype(b=b, c=c, const=const)
    d = tf.add(b, c, name="d")
    e = tf.add(c, const, name="e")
    return tf.multiply(d, e, name="a")


compute_a_graph = tf.function(compute_a)
""":func:`compute_a` compiled by ``tf.function``: the first call per input signature traces a
graph with ops ``d``, ``e`` and ``a``; later calls run that graph."""


def compute_a_array(b: Any, c: Any, const: Any = 2.0) -> tf.Tensor:
    """:func:`compute_a` for an integer array ``b`` (shape ``[n]``): cast to ``float32`` first.

    For ``b = arange(10)`` and ``c = 1`` the result is ``[3, 6, ..., 30]`` (``float32``, ``[n]``).
    """
    return compute_a(tf.cast(b, tf.float32), c, const)


def to_numpy(x: Any) -> np.ndarray:
    """A numpy copy of a tensor, variable or array-like (what ``tensor.numpy()`` returns)."""
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


def as_float32(x: Any) -> tf.Tensor:
    """The fix for float64 numpy data meeting float32 variables: an explicit cast to float32."""
    return tf.cast(x, tf.float32)


def write_graph_demo(logdir: str | os.PathLike = "runs") -> Path:
    """Trace :data:`compute_a_graph` with fresh variables ``b=2``, ``c=1`` into a new run dir.

    Returns:
        The run directory ``<logdir>/basics-seed0-<timestamp>``; view it with
        ``tensorboard --logdir <logdir>`` (Graphs tab).
    """
    run_dir = new_run_dir(logdir, "basics", seed=0)
    v = make_scalar_variables()
    writer = summaries.create_writer(run_dir)
    try:
        summaries.trace_graph(writer, compute_a_graph, v["b"], v["c"], v["const"])
    finally:
        writer.close()
    return run_dir
