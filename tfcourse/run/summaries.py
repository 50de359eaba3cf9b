"""TensorBoard helpers: write scalars, hyper-parameters and graphs, and read them back.

Tags follow the course convention: ``losses/...`` for losses that are comparable with each other
(the same quantity on train and test data, e.g. plain cross-entropy), ``objective/...`` for a
training objective that is not (e.g. cross-entropy against label-smoothed targets) and
``charts/...`` for everything else (accuracy, returns, steps per second); hyper-parameters (see
:func:`hparams_of`) are logged once per run.

TensorFlow 2 stores a scalar summary as a rank-0 *tensor* event (plugin ``"scalars"``), not as
the TF1 ``simple_value``; :func:`read_scalars` accepts both so it also reads older logs.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.compat.proto import config_pb2
from tensorboard.plugins.hparams import api as hp
from tensorboard.plugins.hparams import plugin_data_pb2
from tensorflow.python.eager import context  # private, as used by tf.summary.trace_export

from tfcourse.errors import ConfigError

HPARAMS_TAG = "_hparams_/session_start_info"  # what ``hp.hparams`` writes (checked on TB 2.21)
GRAPH_PLUGIN = "graph_run_metadata_graph"  # plugin of the tensor written by ``trace_export``


def create_writer(run_dir: str | os.PathLike) -> tf.summary.SummaryWriter:
    """Open a summary writer whose event files go into ``run_dir`` (created if missing)."""
    return tf.summary.create_file_writer(os.fspath(run_dir))


def log_scalars(writer: tf.summary.SummaryWriter, step: int, scalars: dict[str, Any]) -> None:
    """Write ``{tag: value}`` at ``step`` and flush, e.g. ``{"losses/train": 0.31}``.

    Values may be Python numbers, numpy scalars or rank-0 eager tensors. Call this from eager
    code (after the compiled step has returned), not from inside a ``tf.function``.
    """
    with writer.as_default():
        for tag, value in scalars.items():
            tf.summary.scalar(tag, float(value), step=int(step))
    writer.flush()


def _coerce(value: Any) -> bool | int | float | str:
    """Turn one hyper-parameter into a type the HParams plugin accepts."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)  # None -> "None", (784, 300, 10) -> "(784, 300, 10)", paths, ...


def hparams_of(config: Any) -> dict[str, Any]:
    """The hyper-parameters of a config dataclass: every field but those marked otherwise.

    A field is a hyper-parameter unless its metadata says ``"hparam": False``; the configs mark
    so the settings that say where outputs go, what the run is called, whether it resumes and
    what it shows (``logdir``, ``name``, ``resume``, ``data_path``, ``progress``, ...), which
    do not change what is computed and would only clutter TensorBoard's HParams table.
    """
    return {
        f.name: getattr(config, f.name)
        for f in dataclasses.fields(config)
        if f.metadata.get("hparam", True)
    }


def log_hparams(writer: tf.summary.SummaryWriter, hparams: Any) -> dict[str, Any]:
    """Log the run's hyper-parameters once: to the HParams dashboard and as a Text table.

    Args:
        writer: the run's summary writer.
        hparams: a config dataclass (its :func:`hparams_of` are logged) or a
            ``{name: value}`` dict, logged as given.

    Returns:
        The coerced ``{name: bool | int | float | str}`` mapping that was written.
    """
    if dataclasses.is_dataclass(hparams) and not isinstance(hparams, type):
        hparams = hparams_of(hparams)
    clean = {str(k): _coerce(v) for k, v in hparams.items()}
    rows = [f"| {k} | {str(v).replace('|', '&#124;')} |" for k, v in clean.items()]
    table = "\n".join(["| hyper-parameter | value |", "|---|---|", *rows])
    with writer.as_default():
        hp.hparams(clean)
        tf.summary.text("hparams", table, step=0)
    writer.flush()
    return clean


def read_hparams(run_dir: str | os.PathLike) -> dict[str, bool | float | str]:
    """The hyper-parameters :func:`log_hparams` wrote into ``run_dir``, as the HParams tab
    reads them (numbers come back as float)."""
    acc = _load(run_dir)
    if HPARAMS_TAG not in acc.Tags()["tensors"]:
        return {}
    content = acc.SummaryMetadata(HPARAMS_TAG).plugin_data.content
    info = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    return {name: getattr(v, v.WhichOneof("kind")) for name, v in info.hparams.items()}


def trace_graph(
    writer: tf.summary.SummaryWriter, fn: Callable[..., Any], *args: Any, name: str = "graph"
) -> Any:
    """Run ``fn(*args)`` once while tracing, write its graph to ``writer``, return its result.

    Graph collection (``tf.summary.trace_on``) records a graph when the runtime *first* runs it
    with collection switched on; a graph that already ran under an earlier trace is not recorded
    again, and ``get_concrete_function`` alone records nothing (checked with TF 2.21). So the
    call goes through a *fresh* ``tf.function`` around ``fn``'s Python code (same input
    signature, same graph), and whatever an earlier trace left in the runtime's buffer is
    dropped first. Build tensor arguments *before* calling this: eager ops run during a trace
    add small extra graphs. Use it for inspection only, not inside a training loop.

    Args:
        writer: destination of the graph event (tag ``name``, step 0; TensorBoard Graphs tab).
        fn: a ``tf.function`` (``tf.types.experimental.PolymorphicFunction``) or plain callable.
        *args: arguments of the single call.
        name: tag of the graph summary.

    Raises:
        ConfigError: if ``tf.config.run_functions_eagerly(True)`` is on, so there is no graph.
    """
    if tf.config.functions_run_eagerly():
        raise ConfigError(
            "tf.config.run_functions_eagerly(True) is on, so no graph can be traced; "
            "call tf.config.run_functions_eagerly(False) first"
        )
    if isinstance(fn, tf.types.experimental.PolymorphicFunction):
        fresh = tf.function(fn.python_function, input_signature=fn.input_signature)
    else:
        fresh = tf.function(fn)
    args = tuple(tf.convert_to_tensor(a) if isinstance(a, np.ndarray) else a for a in args)
    step = tf.constant(0, tf.int64)  # made now: converting 0 during the trace adds a graph
    tf.summary.trace_on(graph=True, profiler=False)
    try:
        context.context().export_run_metadata()  # drop graphs left over from earlier traces
        result = fresh(*args)
    except BaseException:
        tf.summary.trace_off()
        raise
    with writer.as_default():
        tf.summary.trace_export(name=name, step=step)
    writer.flush()
    return result


def _load(run_dir: str | os.PathLike) -> ea.EventAccumulator:
    """Read every event file directly inside ``run_dir`` (size guidance 0 = keep all events)."""
    guidance = dict.fromkeys(ea.DEFAULT_SIZE_GUIDANCE, 0)
    return ea.EventAccumulator(os.fspath(run_dir), size_guidance=guidance).Reload()


def read_tags(run_dir: str | os.PathLike) -> dict[str, Any]:
    """Tags per event category, as ``EventAccumulator.Tags()``: ``{"tensors": [...], ...}``.

    In TF 2 scalars, text, hparams and traced graphs all appear under ``"tensors"``.
    """
    return _load(run_dir).Tags()


def read_scalars(run_dir: str | os.PathLike) -> dict[str, list[tuple[int, float]]]:
    """All scalar summaries in ``run_dir`` as ``{tag: [(step, value), ...]}`` sorted by step."""
    acc = _load(run_dir)
    out: dict[str, list[tuple[int, float]]] = {}
    for tag in acc.Tags()["scalars"]:  # TF1-style simple values
        out[tag] = [(e.step, float(e.value)) for e in acc.Scalars(tag)]
    for tag in acc.Tags()["tensors"]:  # TF2: rank-0 tensors of the "scalars" plugin
        if acc.SummaryMetadata(tag).plugin_data.plugin_name == "scalars":
            values = [(e.step, float(tf.make_ndarray(e.tensor_proto))) for e in acc.Tensors(tag)]
            out.setdefault(tag, []).extend(values)
    return {tag: sorted(values) for tag, values in out.items()}


def _graph_op_names(acc: ea.EventAccumulator) -> list[str]:
    names: list[str] = []
    for tag in acc.Tags()["tensors"]:
        if acc.SummaryMetadata(tag).plugin_data.plugin_name != GRAPH_PLUGIN:
            continue
        for event in acc.Tensors(tag):
            meta = config_pb2.RunMetadata.FromString(tf.make_ndarray(event.tensor_proto).item())
            for fg in meta.function_graphs:
                names.extend(node.name for node in fg.pre_optimization_graph.node)
    return names


def graph_op_names(run_dir: str | os.PathLike) -> list[str]:
    """Names of the nodes of every graph written by :func:`trace_graph` into ``run_dir``."""
    return _graph_op_names(_load(run_dir))


def has_graph(run_dir: str | os.PathLike) -> bool:
    """True if ``run_dir`` holds a traced graph (or a TF1-style GraphDef event)."""
    acc = _load(run_dir)
    return bool(acc.Tags()["graph"]) or bool(_graph_op_names(acc))
