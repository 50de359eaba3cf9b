"""Observation/reward normalisation: values against numpy, final_obs, saved state, frozen eval."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tfcourse.rl import normalize
from tfcourse.rl.evaluate import evaluate_greedy
from tfcourse.rl.rollout import make_envs

N, SEED = 4, 3


def twins(obs: bool = True, reward: bool = False):
    """A normalised vector env and a raw one that see exactly the same episodes."""
    wrapped = normalize.wrap(make_envs("CartPole-v1", N, SEED), obs, reward, gamma=0.99)
    raw = make_envs("CartPole-v1", N, SEED)
    return wrapped, raw


def play(wrapped, raw, steps: int):
    """Step both with the same random actions; yield (wrapped step, raw step) per step."""
    rng = np.random.default_rng(0)
    first = wrapped.reset(seed=SEED), raw.reset(seed=SEED)
    yield first
    for _ in range(steps):
        actions = rng.integers(0, 2, N)
        yield wrapped.step(actions), raw.step(actions)


def moments(x: np.ndarray, c0: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the rows of ``x`` pooled with RunningMeanStd's prior: ``c0``
    pseudo-samples of mean 0, variance 1."""
    n, mx, vx = len(x), x.mean(axis=0), x.var(axis=0)
    mean = n * mx / (n + c0)
    return mean, (c0 + n * vx + mx**2 * c0 * n / (n + c0)) / (n + c0)


def test_observations_are_z_scored_with_the_running_statistics_of_every_raw_obs():
    wrapped, raw = twins()
    seen = []
    for (obs, *_), (raw_obs, *_) in play(wrapped, raw, 60):
        seen.append(raw_obs.astype(np.float64))
        mean, var = moments(np.concatenate(seen))
        np.testing.assert_allclose(obs, (raw_obs - mean) / np.sqrt(var + 1e-8), atol=1e-4)
    rms = normalize._find(wrapped, normalize.NormalizeObservation).obs_rms
    np.testing.assert_allclose(rms.mean, mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(rms.var, var, rtol=1e-4)
    assert obs.dtype == np.float32 and np.abs(np.concatenate(seen)).max() > 0.5


def test_final_obs_is_normalised_like_obs_and_does_not_update_the_statistics():
    wrapped, raw = twins()
    rms = normalize._find(wrapped, normalize.NormalizeObservation).obs_rms
    checked = 0
    steps = play(wrapped, raw, 80)
    next(steps)  # the reset
    for (_, _, term, trunc, info), (_, _, _, _, raw_info) in steps:
        for i in np.flatnonzero(term | trunc):
            expected = (raw_info["final_obs"][i] - rms.mean) / np.sqrt(rms.var + 1e-8)
            np.testing.assert_allclose(info["final_obs"][i], expected, rtol=1e-5, atol=1e-6)
            assert not np.allclose(info["final_obs"][i], raw_info["final_obs"][i])
            checked += 1
    assert checked >= 4  # random CartPole episodes end after ~20 steps
    assert rms.count == pytest.approx(1e-4 + 81 * N)  # reset + 80 steps, final_obs not counted


def test_rewards_are_scaled_by_the_return_std_and_raw_rewards_are_kept():
    wrapped, raw = twins(obs=False, reward=True)
    rms = normalize._find(wrapped, normalize.NormalizeReward).return_rms
    steps = play(wrapped, raw, 50)
    next(steps)  # the reset
    for (_, rewards, *_, info), (_, raw_rewards, *_) in steps:
        np.testing.assert_array_equal(info["raw_rewards"], raw_rewards)
        np.testing.assert_allclose(rewards, raw_rewards / np.sqrt(rms.var + 1e-8), rtol=1e-6)
    assert rms.var > 1.0  # returns of 1-per-step rewards: their std grows well above 1


def test_state_round_trips_through_the_json_file(tmp_path):
    wrapped, raw = twins(obs=True, reward=True)
    for _ in play(wrapped, raw, 30):
        pass
    path = normalize.save(wrapped, tmp_path)
    saved = json.loads(path.read_text())
    assert set(saved) == {"obs", "reward"} and len(saved["obs"]["mean"]) == 4
    fresh = normalize.wrap(make_envs("CartPole-v1", N, SEED), True, True, 0.99)
    normalize.set_state(fresh, normalize.load(tmp_path))
    assert normalize.get_state(fresh) == normalize.get_state(wrapped) == saved
    assert normalize.save(make_envs("CartPole-v1", 1, 0), tmp_path / "none") is None
    assert normalize.load(tmp_path / "none") is None


def test_frozen_statistics_are_used_and_never_updated():
    state = {"obs": {"mean": [1.0, 0.0, 0.0, 0.0], "var": [4.0, 1.0, 1.0, 1.0], "count": 9.0}}
    envs = normalize.frozen_obs(make_envs("CartPole-v1", N, SEED), state)
    raw = make_envs("CartPole-v1", N, SEED)
    for (obs, *_), (raw_obs, *_) in play(envs, raw, 20):
        scale = np.sqrt(np.array(state["obs"]["var"]) + 1e-8)
        np.testing.assert_allclose(obs, (raw_obs - state["obs"]["mean"]) / scale, rtol=1e-5)
    assert normalize.get_state(envs) == state
    assert normalize.frozen_obs(raw, None) is raw


def test_greedy_evaluation_sees_the_normalised_observations():
    state = {"obs": {"mean": [5.0, 5.0, 5.0, 5.0], "var": [1.0] * 4, "count": 1.0}}

    seen = []

    class Recorder:
        def greedy_actions(self, obs):
            seen.append(obs)
            return np.zeros(len(obs), np.int32)

    evaluate_greedy(Recorder(), "CartPole-v1", episodes=3, seed=0, norm=state)
    # raw CartPole observations are near 0, so minus a mean of 5 they are near -5
    assert np.all(np.abs(seen[0] + 5.0) < 0.2)


def test_training_saves_the_statistics_and_resume_and_eval_load_them(tmp_path):
    from tfcourse.rl.config import A2CConfig
    from tfcourse.rl.evaluate import evaluate_run
    from tfcourse.rl.trainer import A2CTrainer

    kw = dict(
        logdir=str(tmp_path),
        progress=False,
        eval_episodes=0,
        gif=False,
        normalize_obs=True,
        normalize_reward=True,
    )
    first = A2CTrainer(A2CConfig(total_steps=512, **kw))
    metrics = first.fit()
    saved = normalize.load(metrics["run_dir"])
    assert saved == normalize.get_state(first.envs) and saved["obs"]["count"] > 512
    resumed = A2CTrainer(A2CConfig(total_steps=1024, resume=True, **kw))
    assert normalize.get_state(resumed.envs) == saved  # restored before any new step
    assert resumed.fit()["steps_completed"] == 1024
    assert normalize.load(metrics["run_dir"])["obs"]["count"] > saved["obs"]["count"]
    report = evaluate_run(metrics["run_dir"], episodes=2)
    assert report["env"] == "CartPole-v1" and report["mean_return"] >= 8


def test_resume_from_an_older_checkpoint_gets_that_checkpoints_statistics(tmp_path):
    from tfcourse.rl.config import A2CConfig
    from tfcourse.rl.trainer import A2CTrainer

    kw = dict(
        logdir=str(tmp_path),
        progress=False,
        eval_episodes=0,
        gif=False,
        n_envs=2,
        n_steps=8,
        normalize_obs=True,
        normalize_reward=True,
    )
    first = A2CTrainer(A2CConfig(total_steps=160, **kw))  # 10 updates, a checkpoint after each
    at_save = {}
    save = first.norm_stats.before_save

    def recording_save():
        at_save[int(first.global_step.numpy())] = normalize.get_state(first.envs)
        save()

    first.norm_stats.before_save = recording_save
    run_dir = first.fit()["run_dir"]
    newest = tmp_path / run_dir / "checkpoints" / "ckpt-160.data-00000-of-00001"
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])  # damaged
    resumed = A2CTrainer(A2CConfig(total_steps=320, resume=True, **kw))
    assert resumed.restored_from.endswith("ckpt-144") and resumed.global_step.numpy() == 144
    assert normalize.get_state(resumed.envs) == at_save[144] != at_save[160]
    assert at_save[160] == normalize.load(run_dir)  # the json: the finished run's statistics
