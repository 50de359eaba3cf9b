"""tfcourse.run.summaries: values written to TensorBoard event files come back unchanged."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
import tensorflow as tf

from tfcourse.errors import ConfigError
from tfcourse.run import summaries


def test_scalars_round_trip(tmp_path):
    writer = summaries.create_writer(tmp_path)
    summaries.log_scalars(writer, 1, {"losses/train": 0.5, "charts/test_accuracy": 0.25})
    summaries.log_scalars(writer, 2, {"losses/train": np.float32(0.125)})
    summaries.log_scalars(writer, 3, {"losses/train": tf.constant(0.0625)})
    writer.close()

    scalars = summaries.read_scalars(tmp_path)
    assert scalars == {
        "losses/train": [(1, 0.5), (2, 0.125), (3, 0.0625)],
        "charts/test_accuracy": [(1, 0.25)],
    }
    assert set(scalars) <= set(summaries.read_tags(tmp_path)["tensors"])  # TF2: tensor events


def test_hparams_logged_to_plugin_and_text(tmp_path):
    writer = summaries.create_writer(tmp_path)
    clean = summaries.log_hparams(
        writer,
        {
            "lr": 0.5,
            "epochs": 10,
            "fast": True,
            "act": "relu",
            "seed": None,
            "sizes": (784, 300, 10),
            "gamma": np.float64(0.99),
        },
    )
    writer.close()

    assert clean == {
        "lr": 0.5,
        "epochs": 10,
        "fast": True,
        "act": "relu",
        "seed": "None",
        "sizes": "(784, 300, 10)",
        "gamma": 0.99,
    }
    assert type(clean["gamma"]) is float
    tags = summaries.read_tags(tmp_path)["tensors"]
    assert summaries.HPARAMS_TAG in tags
    assert "hparams" in tags
    assert summaries.read_scalars(tmp_path) == {}  # neither hparams nor text look like scalars


def test_trace_graph_writes_named_ops(tmp_path):
    @tf.function
    def f(x, y):
        return tf.multiply(tf.add(x, y, name="s"), 2.0, name="out")

    x, y = tf.constant(1.0), tf.constant(2.0)
    writer = summaries.create_writer(tmp_path)
    result = summaries.trace_graph(writer, f, x, y, name="my_graph")
    writer.close()

    assert float(result) == 6.0
    assert summaries.has_graph(tmp_path)
    assert "my_graph" in summaries.read_tags(tmp_path)["tensors"]
    assert {"s", "out"} <= set(summaries.graph_op_names(tmp_path))


def test_trace_graph_of_an_already_traced_function(tmp_path):
    """A graph that already ran (even under an earlier trace) is still written, without junk.

    With TF 2.21 the runtime records a graph only the first time it runs while collection is
    on, and keeps ops run after an export for the next trace; trace_graph must hide both.
    """

    @tf.function
    def f(x):
        return tf.square(x, name="sq")

    x = tf.constant(3.0)
    f(x)  # traced and run before any trace
    for run in ("first", "second", "third"):
        writer = summaries.create_writer(tmp_path / run)
        assert float(summaries.trace_graph(writer, f, x)) == 9.0
        writer.close()
        names = summaries.graph_op_names(tmp_path / run)
        assert "sq" in names, run
        assert not {"WriteSummary", "CloseSummaryWriter", "_EagerConst"} & set(names)


def test_trace_graph_wraps_plain_python_functions(tmp_path):
    writer = summaries.create_writer(tmp_path)
    out = summaries.trace_graph(writer, lambda x: tf.negative(x, name="neg"), np.ones(2))
    writer.close()
    np.testing.assert_array_equal(out.numpy(), [-1.0, -1.0])
    assert "neg" in summaries.graph_op_names(tmp_path)


def test_trace_graph_refuses_eager_functions(tmp_path):
    writer = summaries.create_writer(tmp_path)
    tf.config.run_functions_eagerly(True)
    try:
        with pytest.raises(ConfigError, match="run_functions_eagerly"):
            summaries.trace_graph(writer, tf.function(tf.square), tf.constant(2.0))
    finally:
        tf.config.run_functions_eagerly(False)
        writer.close()


def test_trace_is_switched_off_when_fn_fails(tmp_path):
    @tf.function
    def boom(x):
        tf.debugging.assert_negative(x)
        return x

    writer = summaries.create_writer(tmp_path)
    with pytest.raises(tf.errors.InvalidArgumentError):
        summaries.trace_graph(writer, boom, tf.constant(1.0))
    writer.close()
    from tensorflow.python.ops import summary_ops_v2  # private: the active trace, if any

    assert summary_ops_v2._current_trace_context is None


def test_empty_run_dir_has_no_graph(tmp_path):
    assert not summaries.has_graph(tmp_path)
    assert summaries.read_scalars(tmp_path) == {}


def test_hparams_of_a_config_leave_out_fields_marked_not_hparams(tmp_path):
    from tfcourse.mlp.config import MLPConfig
    from tfcourse.review.config import SineConfig

    cfg = MLPConfig(logdir=str(tmp_path), data_path=str(tmp_path / "x.npz")).resolved()
    writer = summaries.create_writer(tmp_path)
    written = summaries.log_hparams(writer, cfg)
    writer.close()
    not_hparams = {"logdir", "name", "resume", "data_path", "progress"}
    assert set(written) == {f.name for f in dataclasses.fields(cfg)} - not_hparams
    read = summaries.read_hparams(tmp_path)
    assert read == {k: float(v) if type(v) is int else v for k, v in written.items()}
    assert read["label_smoothing"] == pytest.approx(0.1) and read["jit"] is True
    assert not any(str(tmp_path) in str(v) for v in read.values())  # no paths
    assert set(summaries.hparams_of(SineConfig())) == {
        f.name for f in dataclasses.fields(SineConfig)
    } - {
        "logdir",
        "name",
        "resume",
        "progress",
    }


def test_read_hparams_of_a_dir_without_any_is_empty(tmp_path):
    writer = summaries.create_writer(tmp_path)
    summaries.log_scalars(writer, 1, {"losses/train": 1.0})
    writer.close()
    assert summaries.read_hparams(tmp_path) == {}


BOARD = summaries.Namespace(
    "toy", "epoch", {"losses/train": "mean over the batches", "figures/pic": "a picture"}
)


def test_namespace_prefixes_tags_and_states_the_x_unit(tmp_path):
    writer = summaries.create_writer(tmp_path)
    BOARD.log(writer, 1, {"losses/train": 0.5})
    BOARD.log(writer, 2, {"losses/train": 0.25})
    writer.close()

    assert summaries.read_scalars(tmp_path) == {"toy/losses/train": [(1, 0.5), (2, 0.25)]}
    assert summaries.read_descriptions(tmp_path) == {
        "toy/losses/train": "x axis: epoch. mean over the batches"
    }
    acc = summaries._load(tmp_path)
    assert acc.SummaryMetadata("toy/losses/train").display_name == "toy/losses/train (x: epoch)"
    with pytest.raises(KeyError, match="'losses/test' is not a declared toy tag"):
        BOARD.tag("losses/test")


def test_images_round_trip_from_png_and_from_pixels(tmp_path):
    from matplotlib.figure import Figure
    from PIL import Image

    from tfcourse.run import plots

    fig = Figure(figsize=(2, 1))
    fig.subplots().plot([0, 1], [1, 0])
    png = plots.png_bytes(fig)
    pixels = np.zeros((6, 9, 3), np.uint8)
    pixels[2, 3] = (255, 128, 7)
    writer = summaries.create_writer(tmp_path)
    BOARD.image(writer, "figures/pic", png, 3)
    summaries.log_image(writer, "raw", pixels, 4, "plain pixels")
    writer.close()

    images = summaries.read_images(tmp_path)
    assert sorted(images) == ["raw", "toy/figures/pic"]
    ((step, (written,)),) = images["toy/figures/pic"]
    assert step == 3

    def rgba(data: bytes) -> np.ndarray:
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(image.convert("RGBA"))

    np.testing.assert_array_equal(rgba(written), rgba(png))
    ((step, (raw,)),) = images["raw"]
    assert step == 4
    np.testing.assert_array_equal(rgba(raw)[..., :3], pixels)
    assert summaries.read_descriptions(tmp_path) == {
        "toy/figures/pic": "x axis: epoch. a picture",
        "raw": "plain pixels",
    }
    assert summaries.read_scalars(tmp_path) == {}  # images are not scalars


def test_hparams_trial_is_named_after_the_run_folder(tmp_path):
    run = tmp_path / "mlp-seed1-20250101-000000"
    writer = summaries.create_writer(run)
    summaries.log_hparams(writer, {"lr": 0.5})
    writer.close()
    assert summaries.read_trial_id(run) == "mlp-seed1-20250101-000000"

    other = tmp_path / "other"
    writer = summaries.create_writer(other)
    summaries.log_hparams(writer, {"lr": 0.5}, trial_id="my trial")
    writer.close()
    assert summaries.read_trial_id(other) == "my trial"
    (tmp_path / "nothing").mkdir()
    assert summaries.read_trial_id(tmp_path / "nothing") is None
