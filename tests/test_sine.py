"""Sine regression: data, model, losses, the full 10,000-step run, resume, restore and serving."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tfcourse import cli
from tfcourse.errors import ConfigError, ShapeError, TfcourseError
from tfcourse.review.config import SineConfig
from tfcourse.review.savedmodel import export_savedmodel, load_savedmodel, load_trained_model, serve
from tfcourse.review.sine import SineMLP, half_mse_loss, make_sine_data, mse
from tfcourse.review.trainer import MSE_TARGET, SineTrainer, train_sine
from tfcourse.run import summaries

PNG = b"\x89PNG\r\n\x1a\n"


def config(tmp_path, **kw) -> SineConfig:
    return SineConfig(logdir=str(tmp_path / "runs"), progress=False, **kw)


# --- data, model, losses -------------------------------------------------------------------


def test_sine_data_is_the_tutorials_and_reproducible():
    x, y = make_sine_data()
    assert x.shape == y.shape == (10000, 1) and x.dtype == y.dtype == np.float32
    assert x[0, 0] == pytest.approx(-2 * np.pi) and x[-1, 0] == pytest.approx(2 * np.pi)
    assert np.all(np.diff(x[:, 0]) > 0)
    noise = y - np.sin(x)
    assert noise.std() == pytest.approx(0.05, rel=0.05) and abs(noise.mean()) < 0.003
    np.testing.assert_array_equal(make_sine_data()[1], y)
    assert not np.array_equal(make_sine_data(seed=1)[1], y)
    np.testing.assert_allclose(make_sine_data(noise=0.0)[1], np.sin(x), atol=1e-6)
    with pytest.raises(ConfigError, match="need n >= 1"):
        make_sine_data(n=0)


def test_model_variables_shapes_and_glorot_uniform_init():
    model = SineMLP(seed=0)
    shapes = [tuple(v.shape) for v in model.params]
    assert shapes == [(1, 20), (20,), (20, 20), (20,), (20, 1), (1,)]
    for w, (fan_in, fan_out) in zip(model.weights, [(1, 20), (20, 20), (20, 1)], strict=True):
        limit = np.sqrt(6 / (fan_in + fan_out))
        assert np.abs(w.numpy()).max() <= limit
        assert np.abs(w.numpy()).max() > 0.5 * limit  # spread over the range, not tiny
    assert all(not b.numpy().any() for b in model.biases)
    np.testing.assert_array_equal(SineMLP(seed=0).weights[1].numpy(), model.weights[1].numpy())
    assert not np.array_equal(SineMLP(seed=1).weights[1].numpy(), model.weights[1].numpy())
    assert len(model.trainable_variables) == 6


def test_forward_pass_by_hand():
    model = SineMLP((1, 2, 1))
    model.weights[0].assign([[1.0, -1.0]])
    model.weights[1].assign([[2.0], [3.0]])
    model.biases[1].assign([0.5])
    # x = 2: relu([2, -2]) = [2, 0] -> 2·2 + 0·3 + 0.5 = 4.5;  x = -1: [0, 1] -> 3 + 0.5 = 3.5
    np.testing.assert_array_equal(model([[2.0], [-1.0]]).numpy(), [[4.5], [3.5]])


def test_model_rejects_inputs_without_the_trailing_axis():
    with pytest.raises(ShapeError, match=r"SineMLP input: expected rank 2 .*x\[:, None\]"):
        SineMLP()(np.zeros(5, np.float32))


def test_losses_by_hand_and_shape_guard():
    pred, target = tf.constant([[1.0], [3.0]]), tf.constant([[0.0], [1.0]])
    assert float(mse(pred, target)) == 2.5  # (1 + 4) / 2
    assert float(half_mse_loss(pred, target)) == 1.25
    with pytest.raises(ShapeError, match=r"broadcast them to \[2, 2\]"):
        mse(pred, tf.constant([0.0, 1.0]))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(steps=0), "steps must be >= 1, got 0"),
        (dict(batch_size=0), "batch-size must be >= 1"),
        (dict(lr=-1.0), "lr must be > 0"),
        (dict(lr_schedule="step"), "lr-schedule must be constant or cosine, got 'step'"),
        (dict(preset="turbo"), "unknown preset 'turbo'; choose fast or tutorial"),
        (dict(chunk=0), "chunk must be >= 1"),
        (dict(noise=-0.1), "noise must be >= 0"),
    ],
)
def test_bad_settings_are_config_errors(overrides, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        config(tmp_path, **overrides).resolved()


def test_presets():
    assert (SineConfig(preset="tutorial").resolved().lr, SineConfig().resolved().lr) == (1e-3, 2e-2)
    assert SineConfig(preset="tutorial", lr=5e-3).resolved().lr == 5e-3  # flags win


# --- the full run ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """The tutorial's 10,000 steps, batch 32 (a few seconds compiled), shared by the checks."""
    trainer = SineTrainer(config(tmp_path_factory.mktemp("sine")))
    return trainer, trainer.fit()


def test_full_run_reaches_the_mse_target(full_run):
    _, m = full_run
    assert m["steps_completed"] == 10000
    assert m["final_mse"] <= MSE_TARGET == 0.003
    assert m["final_mse"] >= 0.0024  # cannot beat the noise (std 0.05 -> variance 0.0025)
    assert m["final_loss"] == pytest.approx(m["final_mse"] / 2)


def test_run_dir_holds_config_metrics_figures_and_checkpoints(full_run):
    _, m = full_run
    run = Path(m["run_dir"])
    saved = json.loads((run / "metrics.json").read_text())
    assert saved["final_mse"] == pytest.approx(m["final_mse"])
    cfg = json.loads((run / "config.json").read_text())
    assert (cfg["steps"], cfg["batch_size"], cfg["lr"], cfg["preset"]) == (10000, 32, 0.02, "fast")
    for png in ("predictions.png", "learning_curves.png"):
        assert (run / png).read_bytes()[:8] == PNG
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith("ckpt-10000")
    assert not list(run.glob(".*.tmp"))


def test_tensorboard_has_tags_every_chunk_hparams_and_graph(full_run):
    _, m = full_run
    scalars = summaries.read_scalars(m["run_dir"])
    for tag in (
        "sine/losses/train",
        "sine/losses/full",
        "sine/charts/mse",
        "sine/charts/steps_per_s",
    ):
        assert [s for s, _ in scalars[tag]] == list(range(1000, 10001, 1000)), tag
    assert scalars["sine/charts/mse"][-1][1] == pytest.approx(m["final_mse"])
    assert scalars["sine/losses/train"][-1][1] < scalars["sine/losses/train"][0][1]
    assert summaries.HPARAMS_TAG in summaries.read_tags(m["run_dir"])["tensors"]
    hparams = summaries.read_hparams(m["run_dir"])
    assert not {"logdir", "name", "resume", "progress"} & set(hparams)
    assert hparams["lr"] == pytest.approx(0.02) and hparams["steps"] == 10000
    assert summaries.has_graph(m["run_dir"])
    names = set(summaries.graph_op_names(m["run_dir"]))
    assert {"layer_0/MatMul", "layer_0/Relu", "layer_2/MatMul"} <= names
    assert "MatMul_1" not in names


def test_learning_curves_compare_train_and_full_loss_against_steps(tmp_path, monkeypatch):
    from tfcourse.run import plots

    figures = []
    real_plot = plots.plot_curves
    monkeypatch.setattr(
        plots, "plot_curves", lambda *a, **k: figures.append(real_plot(*a, **k)) or figures[-1]
    )
    cfg = config(tmp_path, steps=300, chunk=100, n_points=200, jit=False)
    trainer = SineTrainer(cfg)
    m = trainer.fit()
    (fig,) = figures
    loss_ax, other_ax = fig.axes
    assert [line.get_label() for line in loss_ax.lines] == [
        "train: mean over the chunk's 100 batches",
        "all 200 points, after the chunk",
    ]
    assert [line.get_label() for line in other_ax.lines] == ["all 200 points, after the chunk"]
    assert loss_ax.get_xlabel() == "step (Adam updates)"
    assert (loss_ax.get_ylabel(), other_ax.get_ylabel()) == (
        "loss: 0.5 · mean squared error",
        "mean squared error",
    )
    np.testing.assert_array_equal(loss_ax.lines[1].get_xdata(), [100, 200, 300])
    scalars = summaries.read_scalars(trainer.run_dir)
    np.testing.assert_allclose(
        loss_ax.lines[1].get_ydata(), [v for _, v in scalars["sine/losses/full"]]
    )
    assert loss_ax.lines[1].get_ydata()[-1] == pytest.approx(m["final_loss"])
    assert m["train_loss"] == pytest.approx(scalars["sine/losses/train"][-1][1])
    lo, hi = loss_ax.get_xlim()
    assert all(t == int(t) for t in loss_ax.get_xticks() if lo <= t <= hi)


def test_checkpoint_restored_into_a_fresh_model_predicts_identically(full_run):
    trainer, m = full_run
    fresh = load_trained_model(m["run_dir"])
    x = trainer.x.numpy()
    assert fresh is not trainer.model
    np.testing.assert_array_equal(fresh(x).numpy(), trainer.predict(x))


def test_savedmodel_export_reload_and_serve(full_run, tmp_path):
    trainer, _ = full_run
    path = export_savedmodel(trainer.model, tmp_path / "export")
    loaded = load_savedmodel(path)
    sig = loaded.signatures["serving_default"]
    spec = sig.structured_input_signature[1]["x"]
    assert spec.shape.as_list() == [None, 1] and spec.dtype == tf.float32
    x = trainer.x.numpy()
    np.testing.assert_array_equal(serve(loaded, x), trainer.predict(x))
    np.testing.assert_array_equal(serve(loaded, x[:3].tolist()), trainer.predict(x[:3]))
    with pytest.raises(ShapeError, match=r"serving input: expected rank 2 .* x\[:, None\]"):
        serve(loaded, x[:, 0])
    with pytest.raises(TfcourseError, match=r"no SavedModel in .*export_savedmodel"):
        load_savedmodel(tmp_path / "nothing")


def test_tutorial_preset_matches_the_tutorials_printed_loss(tmp_path):
    m = train_sine(config(tmp_path, preset="tutorial"))
    # the tutorial printed 0.002 for its 0.5·MSE loss after 10,000 steps
    assert m["final_loss"] < 0.003
    assert m["final_mse"] < 0.006


# --- resume and CLI ---------------------------------------------------------------------------


def test_resume_500_plus_500_equals_1000(tmp_path):
    kw = dict(preset="tutorial", chunk=250, n_points=2000)
    straight = SineTrainer(config(tmp_path / "a", steps=1000, **kw))
    straight.fit()
    SineTrainer(config(tmp_path / "b", steps=500, **kw)).fit()
    resumed = SineTrainer(config(tmp_path / "b", steps=1000, resume=True, **kw))
    assert resumed.restored_from.endswith("ckpt-500")
    assert int(resumed.optimizer.iterations.numpy()) == 500
    assert resumed.fit()["steps_completed"] == 1000
    for a, b in zip(straight.model.params, resumed.model.params, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_resume_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"no run named 'sine'.*without --resume"):
        SineTrainer(config(tmp_path, resume=True))
    train_sine(config(tmp_path, steps=10, chunk=10, hidden=8, n_points=100))
    with pytest.raises(ConfigError, match="hidden was 8"):
        SineTrainer(config(tmp_path, hidden=16, resume=True))


def test_cli_train_sine_and_one_line_errors(tmp_path, capsys):
    logdir = str(tmp_path / "cli")
    argv = ["train", "sine", "--steps", "200", "--chunk", "100", "--logdir", logdir]
    assert cli.main([*argv, "--no-progress", "--n-points", "500"]) == 0
    out = capsys.readouterr().out
    metrics = json.loads(out[out.index("{") :])
    assert metrics["steps_completed"] == 200 and metrics["final_mse"] > 0
    assert cli.main(["train", "sine", "--steps", "-5", "--logdir", logdir]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "tfcourse: error: --steps must be >= 1, got -5"


def test_an_infinite_loss_stops_naming_the_last_good_checkpoint(tmp_path, monkeypatch):
    from tfcourse.errors import RunError

    trainer = SineTrainer(config(tmp_path, steps=300, chunk=100, n_points=200))
    real_chunk = trainer._run_chunk
    monkeypatch.setattr(
        trainer, "_run_chunk", lambda n: real_chunk(n) * (np.inf if trainer.step > 150 else 1)
    )
    with pytest.raises(RunError) as err:
        trainer.fit()
    kept = trainer.run_dir / "checkpoints" / "ckpt-100"
    assert str(err.value) == (
        f"the loss became inf at step 200, so training stopped; the last good checkpoint is "
        f"{kept}; lower --lr (it is 0.02)"
    )
    assert not (trainer.run_dir / "metrics.json").exists()
