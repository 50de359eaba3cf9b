"""Rollouts from vector envs: episode boundaries, truncation bootstrap values, env checks."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from tfcourse.errors import ConfigError
from tfcourse.rl.rollout import EpisodeStats, collect, make_envs


class CountEnv(gym.Env):
    """obs = [episode id, t]. Even episodes terminate at t = 3; odd ones run into the time limit."""

    observation_space = gym.spaces.Box(0, 1e6, shape=(2,), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self):
        self.episode, self.t = -1, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.episode, self.t = self.episode + 1, 0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        return self._obs(), 1.0, self.episode % 2 == 0 and self.t == 3, False, {}

    def _obs(self):
        return np.array([self.episode, self.t], dtype=np.float32)


gym.register(id="tfcourse-test/Count-v0", entry_point=CountEnv, max_episode_steps=5)


def value_of(obs: np.ndarray) -> np.ndarray:
    """A fake critic whose value encodes the observation: 10 * episode + t."""
    return (10 * obs[:, 0] + obs[:, 1]).astype(np.float32)


@pytest.fixture
def rollout():
    envs = make_envs("tfcourse-test/Count-v0", n_envs=2, seed=0)
    stats = EpisodeStats(2)
    obs, _ = envs.reset(seed=0)
    act = lambda o: (np.zeros(len(o), np.int64), value_of(o))  # noqa: E731
    first = collect(envs, obs.astype(np.float32), 12, act, value_of, stats)
    second = collect(envs, first.last_obs, 12, act, value_of, stats)
    envs.close()
    return first, second, stats


def test_no_transition_mixes_two_episodes(rollout):
    for r in rollout[:2]:
        obs = np.concatenate([r.obs, r.last_obs[None]])  # [T + 1, n, 2]
        for t in range(len(r.dones)):
            nxt, cur = obs[t + 1], obs[t]
            for i in range(2):
                if r.dones[t, i]:
                    assert nxt[i, 0] == cur[i, 0] + 1 and nxt[i, 1] == 0  # a fresh episode
                else:
                    assert nxt[i, 0] == cur[i, 0] and nxt[i, 1] == cur[i, 1] + 1


def test_dones_truncations_and_final_values_are_exact(rollout):
    first = rollout[0]
    # episodes 0, 1, 2 ... last 3, 5, 3, 5, ... steps: ends at t = 2, 7, 10 (0-based)
    np.testing.assert_array_equal(np.flatnonzero(first.dones[:, 0]), [2, 7, 10])
    np.testing.assert_array_equal(np.flatnonzero(first.truncations[:, 0]), [7])
    # V(final_obs) of the truncated episode 1 at t = 5 is 10 * 1 + 5, not V(reset obs) = 20
    assert first.final_values[7, 0] == 15.0
    assert np.count_nonzero(first.final_values) == np.count_nonzero(first.truncations)
    assert first.obs.dtype == np.float32 and first.actions.dtype == np.int32


def test_episode_stats_record_each_finished_episode(rollout):
    stats = rollout[2]
    episode_returns, episode_lengths = stats.drain()
    assert episode_lengths[:4] == [3, 3, 5, 5]  # both envs: episode 0 (3 steps), episode 1 (5)
    assert episode_returns == [float(n) for n in episode_lengths]
    assert stats.episodes == len(episode_lengths) == 2 * 6
    assert stats.mean_return() == pytest.approx(np.mean(episode_lengths))
    assert stats.drain() == ([], [])


def test_unknown_env_id_is_a_config_error():
    with pytest.raises(ConfigError, match=r"unknown environment 'CartPol-v1'.*CartPole-v1"):
        make_envs("CartPol-v1", 1, 0)


def test_continuous_actions_are_refused_with_a_suggestion():
    with pytest.raises(ConfigError, match=r"Pendulum-v1 has a Box action space.*discrete"):
        make_envs("Pendulum-v1", 1, 0)
