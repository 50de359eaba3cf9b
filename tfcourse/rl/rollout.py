"""Vectorised environments and n-step rollouts (gymnasium 1.x).

We run ``n_envs`` copies of an environment side by side with gymnasium's synchronous vector
env in ``SAME_STEP`` autoreset mode: when an episode ends at step ``t``, ``step`` returns the
*first observation of the next episode* and puts the real last observation in
``info["final_obs"]``. So every stored transition ``(obs_t, actions_t, rewards_t, dones_t)``
belongs to one episode, and ``dones_t`` says that the episode ended right after it.

Time-limit truncation is not a real end: the value after a truncated step is not zero, so the
rollout records ``V(final_obs)`` for those steps (``final_values``) and the trainer adds
``gamma * V(final_obs)`` to the reward (:func:`tfcourse.rl.returns.bootstrap_truncated`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from tfcourse.errors import ConfigError


def check_env_id(env_id: str) -> gym.envs.registration.EnvSpec:
    """Return the registered spec of ``env_id`` or raise a ConfigError with suggestions."""
    try:
        return gym.spec(env_id)
    except gym.error.Error:
        close = [k for k in gym.registry if k.lower().startswith(env_id.lower()[:4])][:5]
        hint = f" (similar: {', '.join(close)})" if close else ""
        raise ConfigError(
            f"unknown environment {env_id!r}{hint}; use a registered gymnasium id such as "
            "CartPole-v1"
        ) from None


def make_envs(env_id: str, n_envs: int, seed: int, **kwargs) -> gym.vector.VectorEnv:
    """``n_envs`` synchronous copies of ``env_id`` with SAME_STEP autoreset (call ``reset`` next).

    Raises:
        ConfigError: unknown id, or an observation/action space this A2C cannot handle.
    """
    check_env_id(env_id)
    envs = gym.make_vec(
        env_id,
        num_envs=n_envs,
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
        **kwargs,
    )
    act, obs = envs.single_action_space, envs.single_observation_space
    problem = None
    if not isinstance(act, gym.spaces.Discrete):
        problem = f"has a {type(act).__name__} action space; this A2C needs discrete actions"
    elif not isinstance(obs, gym.spaces.Box) or len(obs.shape) != 1:
        problem = f"has observations {obs}; this A2C needs a flat Box (a vector per step)"
    if problem:
        envs.close()
        raise ConfigError(f"{env_id} {problem} (try CartPole-v1 or Acrobot-v1)")
    envs.action_space.seed(seed)
    return envs  # not reset yet: the caller resets with the seed it wants


@dataclass
class Rollout:
    """One batch of experience, time-major. Shapes for ``T`` steps of ``n`` envs:

    obs [T, n, obs_dim] float32, actions [T, n] int32, rewards [T, n] float32,
    dones [T, n] float32 (terminated or truncated), truncations [T, n] float32,
    final_values [T, n] float32 (V(final_obs) where truncated, else 0), last_obs [n, obs_dim].
    """

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    dones: np.ndarray
    truncations: np.ndarray
    final_values: np.ndarray
    last_obs: np.ndarray


class EpisodeStats:
    """Running ``episode_returns`` (undiscounted sums of rewards) and lengths of each env's
    current episode, and those of the finished episodes."""

    def __init__(self, n_envs: int, window: int = 100) -> None:
        self.episode_returns = np.zeros(n_envs)
        self.episode_lengths = np.zeros(n_envs, dtype=np.int64)
        self.finished_episode_returns: deque[float] = deque(maxlen=window)
        self.new_episode_returns: list[float] = []  # finished since the last drain()
        self.new_episode_lengths: list[int] = []
        self.episodes = 0

    def update(self, rewards: np.ndarray, dones: np.ndarray) -> None:
        self.episode_returns += rewards
        self.episode_lengths += 1
        for i in np.flatnonzero(dones):
            self.finished_episode_returns.append(float(self.episode_returns[i]))
            self.new_episode_returns.append(float(self.episode_returns[i]))
            self.new_episode_lengths.append(int(self.episode_lengths[i]))
            self.episode_returns[i], self.episode_lengths[i] = 0.0, 0
            self.episodes += 1

    def mean_return(self) -> float:
        """Mean of the last ``window`` finished episodes (NaN before the first one)."""
        finished = self.finished_episode_returns
        return float(np.mean(finished)) if finished else float("nan")

    def drain(self) -> tuple[list[float], list[int]]:
        """Episodes finished since the previous call: ``(episode_returns, episode_lengths)``."""
        out = (self.new_episode_returns, self.new_episode_lengths)
        self.new_episode_returns, self.new_episode_lengths = [], []
        return out


def collect(
    envs: gym.vector.VectorEnv,
    obs: np.ndarray,
    n_steps: int,
    act: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    value: Callable[[np.ndarray], np.ndarray],
    stats: EpisodeStats,
) -> Rollout:
    """Step all envs ``n_steps`` times from ``obs`` with the policy ``act``.

    Args:
        envs: vector env in SAME_STEP autoreset mode (see :func:`make_envs`).
        obs: [n, obs_dim] current observations.
        n_steps: rollout length T.
        act: obs [n, obs_dim] -> (actions [n] int, values [n]) — samples from the policy.
        value: obs [k, obs_dim] -> values [k], used for truncated episodes' final observations.
        stats: updated with every finished episode (with the env's own rewards,
            ``info["raw_rewards"]``, when the rewards are normalised).

    Returns:
        The :class:`Rollout`; its ``last_obs`` is where the next rollout starts.
    """
    n = envs.num_envs
    buf = Rollout(
        obs=np.zeros((n_steps, *obs.shape), np.float32),
        actions=np.zeros((n_steps, n), np.int32),
        rewards=np.zeros((n_steps, n), np.float32),
        dones=np.zeros((n_steps, n), np.float32),
        truncations=np.zeros((n_steps, n), np.float32),
        final_values=np.zeros((n_steps, n), np.float32),
        last_obs=obs,
    )
    for t in range(n_steps):
        actions, _ = act(obs)
        buf.obs[t], buf.actions[t] = obs, actions
        obs, rewards, terminated, truncated, info = envs.step(actions)
        buf.rewards[t] = rewards
        buf.dones[t] = terminated | truncated
        cut = truncated & ~terminated
        if cut.any():
            buf.truncations[t] = cut
            final = np.stack([info["final_obs"][i] for i in np.flatnonzero(cut)])
            buf.final_values[t, cut] = value(final.astype(np.float32))
        stats.update(info.get("raw_rewards", rewards), buf.dones[t])  # env units
    buf.last_obs = obs.astype(np.float32)
    return buf
