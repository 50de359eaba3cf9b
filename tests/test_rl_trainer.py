"""A2C trainer: learns CartPole, writes its run directory, resumes, evaluates, refuses bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tfcourse.cli import main
from tfcourse.errors import ConfigError
from tfcourse.rl.config import PRESETS, A2CConfig
from tfcourse.rl.evaluate import evaluate_greedy
from tfcourse.rl.trainer import A2CTrainer, train_a2c
from tfcourse.run import summaries


def config(tmp_path, **kw) -> A2CConfig:
    kw = {"logdir": str(tmp_path / "runs"), "progress": False, "eval_episodes": 20, **kw}
    return A2CConfig(**kw)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """40k steps of the fast preset: enough to beat a random policy by a wide margin."""
    tmp = tmp_path_factory.mktemp("a2c")
    return train_a2c(config(tmp, total_steps=40_000, seed=1))


def test_short_run_clearly_beats_a_random_policy(trained):
    metrics = trained

    class Random:
        rng = np.random.default_rng(0)

        def greedy_actions(self, obs):
            return self.rng.integers(0, 2, len(obs))

    random_mean = evaluate_greedy(Random(), "CartPole-v1", episodes=50).mean()
    assert random_mean < 30  # CartPole's random policy survives about 22 steps
    assert metrics["mean_return"] > 4 * random_mean
    assert metrics["steps_completed"] == (40_000 // 256) * 256
    assert metrics["episodes"] > 100


def test_run_dir_has_model_metrics_figures_and_gif(trained):
    metrics = trained
    run = Path(metrics["run_dir"])
    saved = json.loads((run / "metrics.json").read_text())
    assert saved["mean_return"] == pytest.approx(metrics["mean_return"])
    assert json.loads((run / "config.json").read_text())["n_envs"] == 16
    assert (run / "model.keras").is_file()
    assert (run / "episode_returns.png").read_bytes()[:4] == b"\x89PNG"
    assert (run / "episode.gif").read_bytes()[:6] == b"GIF89a"
    assert metrics["gif_return"] >= 1


def test_tensorboard_tags_are_written(trained):
    scalars = summaries.read_scalars(trained["run_dir"])
    for tag in (
        "a2c/charts/episodic_return",
        "a2c/charts/episodic_length",
        "a2c/charts/sps",
        "a2c/losses/critic",
        "a2c/losses/actor",
        "a2c/losses/entropy",
        "a2c/losses/total",
        "a2c/charts/eval_mean_return",
    ):
        assert scalars.get(tag), tag
    entropies = [v for _, v in scalars["a2c/losses/entropy"]]
    assert 0 < entropies[-1] <= np.log(2) + 1e-6  # entropy of a two-action policy


def test_hparams_are_the_settings_that_change_the_run_not_paths_or_switches(trained):
    hparams = summaries.read_hparams(trained["run_dir"])
    assert hparams["lr"] == pytest.approx(PRESETS["fast"]["lr"]) and hparams["env"] == "CartPole-v1"
    assert hparams["total_steps"] == 40_000 and hparams["seed"] == 1
    assert not {"logdir", "name", "resume", "progress", "gif"} & set(hparams)


def test_eval_cli_reloads_the_saved_model(trained, tmp_path, capsys):
    run_dir = trained["run_dir"]
    gif = tmp_path / "eval.gif"
    assert main(["eval", "a2c", run_dir, "--episodes", "5", "--gif", str(gif)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["episodes"] == 5 and report["env"] == "CartPole-v1"
    assert report["min_return"] <= report["mean_return"] <= report["max_return"]
    assert gif.read_bytes()[:6] == b"GIF89a"


def test_eval_cli_on_a_non_run_exits_2(tmp_path, capsys):
    assert main(["eval", "a2c", str(tmp_path)]) == 2
    assert "not a finished A2C run" in capsys.readouterr().err


def test_resume_continues_the_step_counter(tmp_path):
    first = train_a2c(config(tmp_path, total_steps=1024, eval_episodes=0, gif=False))
    resumed = A2CTrainer(
        config(tmp_path, total_steps=2048, resume=True, eval_episodes=0, gif=False)
    )
    assert resumed.restored_from is not None
    assert int(resumed.global_step.numpy()) == 1024
    metrics = resumed.fit()
    assert metrics["steps_completed"] == 2048
    assert metrics["run_dir"] == first["run_dir"]


def test_tutorial_preset_runs_one_env_with_64_step_batches(tmp_path):
    trainer = A2CTrainer(
        config(tmp_path, preset="tutorial", total_steps=640, eval_episodes=0, gif=False)
    )
    cfg = trainer.config
    got = (cfg.n_envs, cfg.n_steps, cfg.gamma, cfg.optimizer, cfg.actor_reduction)
    assert got == (1, 64, 0.95, "adam", "sum")
    assert trainer.fit()["steps_completed"] == 640


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(env="CartPole-v7"), "unknown environment 'CartPole-v7'"),
        (dict(n_envs=0), "n-envs must be >= 1"),
        (dict(gamma=1.5), r"--gamma must be a number in \[0, 1\], got 1.5"),
        (dict(total_steps=10), "total-steps must be >= n-envs \\* n-steps = 256"),
        (dict(preset="slow"), "unknown preset 'slow'"),
    ],
)
def test_bad_settings_are_config_errors(overrides, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        config(tmp_path, **overrides).resolved()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--env", "Pendulum-v1"], "Pendulum-v1 has a Box action space"),
        (["--env", "NoSuchEnv-v0"], "unknown environment 'NoSuchEnv-v0'"),
        (["--n-envs", "-2"], "n-envs must be >= 1, got -2"),
    ],
)
def test_cli_errors_are_one_line_exit_2(argv, message, tmp_path, capsys):
    assert main(["train", "a2c", "--logdir", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_nan_weights_stop_with_a_message_not_a_gymnasium_assertion(tmp_path):
    """What ``--lr`` far too high does: the policy turns NaN; the env never sees its action."""
    from tfcourse.errors import RunError

    trainer = A2CTrainer(
        config(tmp_path, total_steps=2560, n_envs=2, n_steps=16, eval_episodes=0, gif=False)
    )
    updates = []

    def poison(step, losses):
        updates.append(step)
        if len(updates) == 12:  # after the first checkpoint (every 8 updates here)
            for variable in trainer.model.trainable_variables:
                variable.assign(np.full(variable.shape, np.nan, np.float32))

    with pytest.raises(RunError) as err:
        trainer.fit(on_update=poison)
    kept = trainer.run_dir / "checkpoints" / "ckpt-256"
    assert str(err.value) == (
        "the policy and value outputs became NaN or infinite by env step 384, so training "
        f"stopped; the last good checkpoint is {kept}; lower --lr (it is {trainer.config.lr:g}) "
        "or set "
        "--max-grad-norm 0.5"
    )
    assert not (trainer.run_dir / "metrics.json").exists()


def test_a_finished_run_resumed_with_more_steps_keeps_its_earlier_figures(tmp_path):
    small = dict(n_envs=2, n_steps=16, eval_episodes=0, gif=False)
    first = train_a2c(config(tmp_path, total_steps=512, **small))
    more = A2CTrainer(config(tmp_path, total_steps=1024, resume=True, **small))
    second = more.fit()
    assert second["run_dir"] == first["run_dir"]
    assert second["steps_completed"] == 1024
    assert second["earlier"]["steps_completed"] == 512
    assert second["earlier"]["episodes"] == first["episodes"] > 0
    assert second["episodes"] == first["episodes"] + more.stats.episodes  # both parts counted
    assert more.stats.episodes > 0
