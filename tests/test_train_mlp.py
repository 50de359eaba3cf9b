"""The MLP trainer: run outputs, TensorBoard, resume, crash safety and input validation."""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from conftest import REPO, subprocess_env

from tfcourse.errors import ConfigError, ShapeError
from tfcourse.mlp.config import MLPConfig
from tfcourse.mlp.model import MLP
from tfcourse.mlp.trainer import MLPTrainer, train_mlp
from tfcourse.run import checkpoints, summaries


def config(tmp_path, **kw) -> MLPConfig:
    return MLPConfig(logdir=str(tmp_path / "runs"), progress=False, **kw)


@pytest.fixture(scope="module")
def finished_run(small_mnist, tmp_path_factory):
    """One 3-epoch run on 2,000 real MNIST images, shared by the output checks below."""
    tmp = tmp_path_factory.mktemp("mlp")
    return train_mlp(config(tmp, epochs=3), data=small_mnist)


def test_short_run_learns_and_reports_metrics(finished_run):
    m = finished_run
    assert m["epochs_completed"] == 3
    assert m["steps_completed"] == 3 * 2000 // 100
    assert m["test_accuracy"] > 0.85  # 2k images, 3 epochs; chance is 0.10
    saved = json.loads(
        (tmp := __import__("pathlib").Path(m["run_dir"]) / "metrics.json").read_text()
    )
    assert saved["test_accuracy"] == pytest.approx(m["test_accuracy"])
    assert not list(tmp.parent.glob(".*.tmp"))  # atomic writes leave no temporaries


def test_run_dir_holds_config_checkpoints_and_figures(finished_run):
    from pathlib import Path

    run = Path(finished_run["run_dir"])
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["epochs"] == 3 and cfg["init"] == "he" and cfg["preset"] == "fast"
    for png in ("learning_curves.png", "misclassified.png"):
        assert (run / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ckpt_dir = run / "checkpoints"
    assert tf.train.latest_checkpoint(str(ckpt_dir)).endswith("ckpt-3")


def test_tensorboard_events_have_tags_values_hparams_and_graph(finished_run):
    run = finished_run["run_dir"]
    scalars = summaries.read_scalars(run)
    for tag in (
        "mlp/losses/train",
        "mlp/losses/test",
        "mlp/charts/train_accuracy",
        "mlp/charts/test_accuracy",
        "mlp/charts/samples_per_s",
    ):
        assert [step for step, _ in scalars[tag]] == [1, 2, 3], tag
    assert scalars["mlp/charts/test_accuracy"][-1][1] == pytest.approx(
        finished_run["test_accuracy"]
    )
    train_losses = [v for _, v in scalars["mlp/losses/train"]]
    assert train_losses[-1] < train_losses[0]
    assert [step for step, _ in scalars["mlp/objective/train"]] == [1, 2, 3]
    pairs = zip(scalars["mlp/losses/train"], scalars["mlp/objective/train"], strict=True)
    for (_, plain), (_, smoothed) in pairs:
        assert smoothed > plain  # label smoothing 0.1 (fast preset): a different number
    assert summaries.HPARAMS_TAG in summaries.read_tags(run)["tensors"]
    assert summaries.has_graph(run)
    names = summaries.graph_op_names(run)
    assert {"layer1/MatMul", "layer1/Relu", "layer2/MatMul"} <= set(names)
    assert not {"MatMul_1", "add_1"} & set(names)


def test_hparams_leave_out_paths_names_and_switches(finished_run):
    logged = summaries.read_hparams(finished_run["run_dir"])
    assert not {"logdir", "data_path", "name", "resume", "progress"} & set(logged)
    assert logged["label_smoothing"] == pytest.approx(0.1)
    assert logged["init"] == "he" and logged["lr"] == pytest.approx(2e-3)
    assert logged["epochs"] == 3 and logged["batch_size"] == 100
    assert "None" not in logged.values()


def _cross_entropy(logits: np.ndarray, labels: np.ndarray, smoothing: float = 0.0) -> float:
    """Mean cross-entropy over rows against (smoothed) one-hot targets, numpy float64."""
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    targets = np.eye(logits.shape[1])[labels] * (1 - smoothing) + smoothing / logits.shape[1]
    return float(-(targets * log_p).sum(axis=1).mean())


def test_train_and_test_losses_are_the_same_quantity(small_mnist, tmp_path, monkeypatch):
    """With a negligible step size the weights stay put, so each epoch's means over its batches
    are the initial model's losses over the whole training set, checkable in numpy."""
    from tfcourse.run import plots

    figures = []
    real_plot = plots.plot_curves
    monkeypatch.setattr(
        plots, "plot_curves", lambda *a, **k: figures.append(real_plot(*a, **k)) or figures[-1]
    )
    cfg = config(tmp_path, epochs=2, train_samples=500, lr=1e-12, lr_schedule="constant", jit=False)
    trainer = MLPTrainer(cfg, data=small_mnist)
    x_train, y_train = trainer.x_train.numpy(), trainer.y_train.numpy()
    logits = trainer.model(x_train).numpy().astype(np.float64)
    test_logits = trainer.model(trainer.x_test).numpy().astype(np.float64)
    metrics = trainer.fit()

    train_ce, objective = _cross_entropy(logits, y_train), _cross_entropy(logits, y_train, 0.1)
    test_ce = _cross_entropy(test_logits, trainer.y_test.numpy())
    scalars = summaries.read_scalars(trainer.run_dir)
    for (_, tb_train), (_, tb_objective), (_, tb_test) in zip(
        scalars["mlp/losses/train"],
        scalars["mlp/objective/train"],
        scalars["mlp/losses/test"],
        strict=True,
    ):
        assert tb_train == pytest.approx(train_ce, rel=1e-4)
        assert tb_objective == pytest.approx(objective, rel=1e-4)
        assert tb_test == pytest.approx(test_ce, rel=1e-4)
    assert metrics["train_loss"] == pytest.approx(train_ce, rel=1e-4)
    assert metrics["train_objective"] == pytest.approx(objective, rel=1e-4)
    assert metrics["test_loss"] == pytest.approx(test_ce, rel=1e-4)
    saved = json.loads((trainer.run_dir / "metrics.json").read_text())
    assert {"train_loss", "train_objective", "train_accuracy", "test_loss"} <= set(saved)

    (fig,) = figures  # learning_curves.png
    loss_ax, other_ax = fig.axes
    assert [line.get_label() for line in loss_ax.lines] == [
        "train: mean over the epoch's batches",
        "test: whole test set, end of epoch",
        "train objective (label smoothing 0.1): mean over the epoch's batches",
    ]
    assert (loss_ax.get_xlabel(), loss_ax.get_ylabel()) == (
        "epoch",
        "cross-entropy (nats per image)",
    )
    assert other_ax.get_ylabel() == "accuracy (fraction correct)"
    np.testing.assert_allclose(
        loss_ax.lines[1].get_ydata(), [v for _, v in scalars["mlp/losses/test"]]
    )
    assert [line.get_label() for line in other_ax.lines] == [
        "train: mean over the epoch's batches",
        "test: whole test set, end of epoch",
    ]
    lo, hi = loss_ax.get_xlim()
    ticks = [t for t in loss_ax.get_xticks() if lo <= t <= hi]
    assert ticks and all(t == int(t) for t in ticks)


def test_without_label_smoothing_one_loss_line_and_the_bar_shows_both_losses(
    small_mnist, tmp_path, monkeypatch, capsys
):
    from tfcourse.run import plots

    figures = []
    real_plot = plots.plot_curves
    monkeypatch.setattr(
        plots, "plot_curves", lambda *a, **k: figures.append(real_plot(*a, **k)) or figures[-1]
    )
    cfg = config(tmp_path, epochs=1, train_samples=300, label_smoothing=0.0, jit=False)
    metrics = train_mlp(dataclasses.replace(cfg, progress=True), data=small_mnist)
    assert metrics["train_objective"] == metrics["train_loss"]
    assert [line.get_label() for line in figures[0].axes[0].lines] == [
        "train: mean over the epoch's batches",
        "test: whole test set, end of epoch",
    ]
    bar = capsys.readouterr().err.rsplit("\r", 1)[-1]  # the bar's last state
    assert (
        f"train_loss={metrics['train_loss']:.4f}, test_loss={metrics['test_loss']:.4f}, "
        f"test_accuracy={metrics['test_accuracy']:.4f}"
    ) in bar


def test_resume_one_plus_one_equals_two_epochs(small_mnist, tmp_path):
    # constant learning rate: with cosine decay the schedule length depends on --epochs
    kw = dict(lr_schedule="constant", seed=3)
    straight = MLPTrainer(config(tmp_path / "a", epochs=2, **kw), data=small_mnist)
    straight.fit()
    first = MLPTrainer(config(tmp_path / "b", epochs=1, **kw), data=small_mnist)
    first.fit()
    resumed = MLPTrainer(config(tmp_path / "b", epochs=2, resume=True, **kw), data=small_mnist)
    assert resumed.restored_from.endswith("ckpt-1")
    assert int(resumed.epoch.numpy()) == 1
    assert int(resumed.optimizer.iterations.numpy()) == 20  # Adam's state came back too
    metrics = resumed.fit()
    assert metrics["epochs_completed"] == 2
    assert resumed.run_dir == first.run_dir
    for a, b in zip(straight.model.params, resumed.model.params, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_resume_with_nothing_to_resume_says_so(small_mnist, tmp_path):
    with pytest.raises(ConfigError, match=r"no run named 'mlp'.*without --resume"):
        MLPTrainer(config(tmp_path, resume=True), data=small_mnist)


def test_resume_with_a_different_model_is_refused(small_mnist, tmp_path):
    train_mlp(config(tmp_path, epochs=1, hidden=32), data=small_mnist)
    with pytest.raises(ConfigError, match="hidden was 32"):
        MLPTrainer(config(tmp_path, epochs=2, hidden=64, resume=True), data=small_mnist)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(epochs=-1), "epochs must be >= 1, got -1"),
        (dict(dataset="cifar"), "--dataset must be mnist or fashion_mnist, got 'cifar'"),
        (dict(batch_size=0), "batch-size must be >= 1"),
        (dict(lr=-0.1), "lr must be > 0"),
        (dict(preset="turbo"), "unknown preset 'turbo'"),
        (dict(init="zeros"), "init must be one of normal, glorot, he"),
    ],
)
def test_bad_settings_are_config_errors(overrides, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        config(tmp_path, **overrides).resolved()


def test_unwritable_logdir_is_a_config_error(small_mnist, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match=r"--logdir .* is not writable"):
        MLPTrainer(MLPConfig(logdir=str(blocker / "runs")), data=small_mnist)


def test_bad_data_is_rejected_before_training(small_mnist, tmp_path):
    (x, y), test = small_mnist
    x_nan = x.astype(np.float32) / 255
    x_nan[7, 10, 10] = np.nan
    with pytest.raises(ShapeError, match=r"training data: x contains NaN.*row 7"):
        MLPTrainer(config(tmp_path), data=((x_nan, y), test))
    y_bad = y.copy()
    y_bad[0] = 10
    with pytest.raises(ShapeError, match=r"training data: label 10 is outside \[0, 10\)"):
        MLPTrainer(config(tmp_path), data=((x, y_bad), test))
    with pytest.raises(ShapeError, match=r"y must have shape \[2000\]"):
        MLPTrainer(config(tmp_path), data=((x, y[:10]), test))


def test_tutorial_preset_uses_the_tutorial_settings(tmp_path):
    cfg = config(tmp_path, preset="tutorial").resolved()
    assert (cfg.init, cfg.lr, cfg.lr_schedule, cfg.sampling) == (
        "normal",
        1e-3,
        "constant",
        "replacement",
    )
    assert config(tmp_path, preset="tutorial", lr=5e-4).resolved().lr == 5e-4  # flags win


def test_sigkill_mid_training_leaves_a_loadable_latest_checkpoint(data_env, tmp_path):
    logdir = tmp_path / "runs"
    cmd = [
        sys.executable,
        "-m",
        "tfcourse.cli",
        "train",
        "mlp",
        "--epochs",
        "500",
        "--train-samples",
        "1000",
        "--logdir",
        str(logdir),
        "--no-progress",
    ]
    proc = subprocess.Popen(
        cmd, env=subprocess_env(), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            index = list(logdir.glob("mlp-*/checkpoints/checkpoint"))
            if index and len(list(index[0].parent.glob("ckpt-*.index"))) >= 3:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    model, epoch = MLP(), tf.Variable(0, dtype=tf.int64)
    run = next(logdir.glob("mlp-*"))
    ckpt, manager = checkpoints.make_manager(run, model=model, epoch=epoch)
    path = manager.latest_checkpoint
    ckpt.restore(path).expect_partial()  # the optimizer is not needed to read the weights
    assert int(epoch.numpy()) == int(path.rsplit("-", 1)[1]) >= 3
    assert not np.array_equal(model.W1.numpy(), MLP().W1.numpy())


def test_steps_per_execution_does_not_change_the_maths(small_mnist, tmp_path):
    # 2,000 samples / 100 = 20 steps: k=3 means 6 compiled calls of 3 steps plus one of 2;
    # 0 (the default) one call of 20 steps as a loop inside XLA (more than UNROLL steps)
    from tfcourse.scale.scale_out import UNROLL

    assert UNROLL < 20
    trainers = []
    for k in (1, 3, 0):
        cfg = config(tmp_path / str(k), epochs=1, steps_per_execution=k)
        trainer = MLPTrainer(cfg, small_mnist)
        trainer.fit()
        trainers.append(trainer)
    for other in trainers[1:]:
        assert int(other.optimizer.iterations.numpy()) == 20
        for a, b in zip(trainers[0].model.params, other.model.params, strict=True):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)


def test_a_nan_loss_stops_naming_the_last_good_checkpoint(small_mnist, tmp_path, monkeypatch):
    from tfcourse.errors import RunError
    from tfcourse.run import folder, lock

    trainer = MLPTrainer(config(tmp_path, epochs=3, train_samples=500), data=small_mnist)
    real_epoch, calls = trainer._train_epoch, []

    def epoch_then_nan():
        out = real_epoch()
        calls.append(1)
        nan = out["train_objective"] * float("nan")
        return {**out, "train_objective": nan} if len(calls) == 2 else out

    monkeypatch.setattr(trainer, "_train_epoch", epoch_then_nan)
    with pytest.raises(RunError) as err:
        trainer.fit()
    assert str(err.value) == (
        f"the loss became nan at epoch 2, so training stopped; the last good checkpoint is "
        f"{trainer.run_dir / 'checkpoints' / 'ckpt-1'}; lower --lr (it is 0.002), or check the "
        "data for extreme values"
    )
    assert sorted(p.name for p in (trainer.run_dir / "checkpoints").glob("*.index")) == [
        "ckpt-1.index"
    ]
    assert not (trainer.run_dir / folder.METRICS_FILE).exists()  # no figures of a NaN run
    assert str(trainer.run_dir.resolve()) not in lock._HELD  # the lock is released
