"""TensorBoard helpers: write scalars, images, hyper-parameters and graphs, and read them back.

Several trainers share one ``runs/`` folder, so each writes its tags under its own prefix,
``<trainer>/<kind>/<name>`` (a :class:`Namespace`): ``mlp/losses/train``, ``sine/charts/mse``,
``a2c/figures/episode``. Kinds: ``losses`` for losses that are comparable with each other (the
same quantity on train and test data, e.g. plain cross-entropy), ``objective`` for a training
objective that is not (e.g. cross-entropy against label-smoothed targets), ``charts`` for other
numbers (accuracy, returns, speed) and ``figures`` for images. TensorBoard's x axis is always
called "step"; every summary's description says what it counts (epoch, step, env step) and what
the value averages over. Hyper-parameters (see :func:`hparams_of`) are logged once per run, as a
trial named after the run's folder.

TensorFlow 2 stores a scalar summary as a rank-0 *tensor* event (plugin ``"scalars"``), not as
the TF1 ``simple_value``; :func:`read_scalars` accepts both so it also reads older logs.
"""

from __future__ import annotations

import dataclasses
import os
import struct
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.compat.proto import config_pb2
from tensorboard.plugins.hparams import api as hp
from tensorboard.plugins.hparams import plugin_data_pb2
from tensorboard.plugins.image import metadata as image_metadata
from tensorboard.plugins.scalar import metadata as scalar_metadata
from tensorflow.python.eager import context  # private, as used by tf.summary.trace_export

from tfcourse.errors import ConfigError

HPARAMS_TAG = "_hparams_/session_start_info"  # what ``hp.hparams`` writes (checked on TB 2.21)
GRAPH_PLUGIN = "graph_run_metadata_graph"  # plugin of the tensor written by ``trace_export``
IMAGES_PLUGIN = "images"  # plugin of ``tf.summary.image``: [width, height, png, png, ...]

_RUN_NAMES: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def create_writer(run_dir: str | os.PathLike) -> tf.summary.SummaryWriter:
    """Open a summary writer whose event files go into ``run_dir`` (created if missing).

    The folder's name is remembered: :func:`log_hparams` names the run's trial after it.
    """
    writer = tf.summary.create_file_writer(os.fspath(run_dir))
    _RUN_NAMES[writer] = Path(run_dir).name
    return writer


def log_scalars(
    writer: tf.summary.SummaryWriter,
    step: int,
    scalars: Mapping[str, Any],
    descriptions: Mapping[str, str] | None = None,
    titles: Mapping[str, str] | None = None,
) -> None:
    """Write ``{tag: value}`` at ``step`` and flush, e.g. ``{"mlp/losses/train": 0.31}``.

    Values may be Python numbers, numpy scalars or rank-0 eager tensors. Call this from eager
    code (after the compiled step has returned), not from inside a ``tf.function``.

    Args:
        writer: the run's summary writer.
        step: TensorBoard's x value (an epoch, a step, an env step).
        scalars: ``{tag: value}``.
        descriptions: optional ``{tag: text}`` shown with the tag's chart (the ⓘ icon).
        titles: optional ``{tag: heading}`` of the chart in the Scalars tab (its display
            name; the Time Series tab always shows the tag).
    """
    descriptions, titles = descriptions or {}, titles or {}
    with writer.as_default():
        for tag, value in scalars.items():
            meta = scalar_metadata.create_summary_metadata(titles.get(tag), descriptions.get(tag))
            tf.summary.write(tag, tf.constant(float(value), tf.float32), int(step), meta)
    writer.flush()


def log_image(
    writer: tf.summary.SummaryWriter,
    tag: str,
    image: bytes | np.ndarray,
    step: int,
    description: str | None = None,
) -> None:
    """Write one picture to TensorBoard's Images tab at ``step`` and flush.

    Args:
        writer: the run's summary writer.
        tag: e.g. ``"mlp/figures/misclassified"``.
        image: PNG bytes (e.g. :func:`tfcourse.run.plots.png_bytes` of a figure) or a uint8
            array [height, width, 3 or 4].
        step: TensorBoard's x value.
        description: shown with the image.
    """
    if isinstance(image, bytes):  # written as is: no decoding and encoding again
        png = image
        width, height = struct.unpack(">II", png[16:24])  # the PNG header's IHDR chunk
    else:
        pixels = np.asarray(image, np.uint8)
        png = tf.io.encode_png(pixels).numpy()
        height, width = pixels.shape[:2]
    meta = image_metadata.create_summary_metadata(None, description, converted_to_tensor=True)
    tensor = tf.constant([str(width).encode(), str(height).encode(), png])  # what the tab reads
    with writer.as_default():
        tf.summary.write(tag, tensor, int(step), meta)
    writer.flush()


@dataclasses.dataclass(frozen=True)
class Namespace:
    """One trainer's TensorBoard tags: ``<prefix>/<short tag>``, each described with its unit.

    A trainer declares every tag it writes, what the value is and what TensorBoard's x axis
    counts, so that runs of different trainers in one ``runs/`` share no tag and every chart
    says what it shows::

        BOARD = Namespace("mlp", "epoch", {"losses/train": "mean over the epoch's batches"})
        BOARD.log(writer, epoch, {"losses/train": 0.31})        # tag mlp/losses/train

    Attributes:
        prefix: the trainer's name, e.g. ``"mlp"``; TensorBoard groups the charts by it.
        unit: what the x axis counts, e.g. ``"epoch"``, ``"step"``, ``"env step"``.
        about: ``{short tag: what the value is}`` for every tag written, e.g.
            ``{"losses/train": "...", "figures/learning_curves": "..."}``.
    """

    prefix: str
    unit: str
    about: Mapping[str, str]

    def tag(self, short: str) -> str:
        """The full tag of ``short``, e.g. ``"mlp/losses/train"``.

        Raises:
            KeyError: ``short`` is not one of the declared tags.
        """
        if short not in self.about:
            raise KeyError(f"{short!r} is not a declared {self.prefix} tag: {sorted(self.about)}")
        return f"{self.prefix}/{short}"

    def description(self, short: str) -> str:
        """What ``short``'s chart shows, starting with what its x axis counts."""
        return f"x axis: {self.unit}. {self.about[short]}"

    def title(self, short: str) -> str:
        """The heading of ``short``'s chart, e.g. ``"mlp/losses/train (x: epoch)"``."""
        return f"{self.tag(short)} (x: {self.unit})"

    def log(self, writer: tf.summary.SummaryWriter, step: int, scalars: Mapping[str, Any]) -> None:
        """:func:`log_scalars` of ``{short tag: value}`` under this namespace."""
        tags = {self.tag(short): value for short, value in scalars.items()}
        about = {self.tag(short): self.description(short) for short in scalars}
        titles = {self.tag(short): self.title(short) for short in scalars}
        log_scalars(writer, step, tags, about, titles)

    def image(
        self, writer: tf.summary.SummaryWriter, short: str, image: bytes | np.ndarray, step: int
    ) -> None:
        """:func:`log_image` of one picture under this namespace."""
        log_image(writer, self.tag(short), image, step, self.description(short))


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


def log_hparams(
    writer: tf.summary.SummaryWriter, hparams: Any, trial_id: str | None = None
) -> dict[str, Any]:
    """Log the run's hyper-parameters once: to the HParams dashboard and as a Text table.

    Args:
        writer: the run's summary writer.
        hparams: a config dataclass (its :func:`hparams_of` are logged) or a
            ``{name: value}`` dict, logged as given.
        trial_id: the name of the run's row in the HParams tab; default: the name of the
            folder :func:`create_writer` opened the writer on (TensorBoard's own default, a
            hash of the values, says nothing).

    Returns:
        The coerced ``{name: bool | int | float | str}`` mapping that was written.
    """
    if dataclasses.is_dataclass(hparams) and not isinstance(hparams, type):
        hparams = hparams_of(hparams)
    clean = {str(k): _coerce(v) for k, v in hparams.items()}
    rows = [f"| {k} | {str(v).replace('|', '&#124;')} |" for k, v in clean.items()]
    table = "\n".join(["| hyper-parameter | value |", "|---|---|", *rows])
    with writer.as_default():
        hp.hparams(clean, trial_id=trial_id or _RUN_NAMES.get(writer))
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


def read_trial_id(run_dir: str | os.PathLike) -> str | None:
    """The name of ``run_dir``'s row in the HParams tab (None if it logged no hyper-parameters)."""
    acc = _load(run_dir)
    if HPARAMS_TAG not in acc.Tags()["tensors"]:
        return None
    content = acc.SummaryMetadata(HPARAMS_TAG).plugin_data.content
    return plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info.group_name


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


def read_images(run_dir: str | os.PathLike) -> dict[str, list[tuple[int, list[bytes]]]]:
    """All image summaries in ``run_dir`` as ``{tag: [(step, [png, ...]), ...]}`` by step."""
    acc = _load(run_dir)
    out: dict[str, list[tuple[int, list[bytes]]]] = {}
    for tag in acc.Tags()["tensors"]:
        if acc.SummaryMetadata(tag).plugin_data.plugin_name == IMAGES_PLUGIN:
            events = acc.Tensors(tag)  # each: [width, height, png, ...] strings
            out[tag] = sorted((e.step, list(tf.make_ndarray(e.tensor_proto)[2:])) for e in events)
    return out


def read_descriptions(run_dir: str | os.PathLike) -> dict[str, str]:
    """``{tag: description}`` of every summary in ``run_dir`` written with a description."""
    acc = _load(run_dir)
    found = {tag: acc.SummaryMetadata(tag).summary_description for tag in acc.Tags()["tensors"]}
    return {tag: text for tag, text in found.items() if text}


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
