"""Observation and reward normalisation with gymnasium's own vector wrappers.

``gymnasium.wrappers.vector.NormalizeObservation`` keeps running statistics of the observations
(a ``RunningMeanStd``: mean, var, count) and returns ``(obs - mean) / sqrt(var + eps)``;
``NormalizeReward`` divides each reward by the running standard deviation of a discounted
return. Our vector envs run in SAME_STEP autoreset mode (see :mod:`tfcourse.rl.rollout`), which
gymnasium's ``NormalizeObservation`` refuses because it would leave ``info["final_obs"]`` (the
real last observation of an episode, used to bootstrap truncated episodes) unnormalised: the
subclass below normalises it too, with the same statistics and without updating them.
``NormalizeReward`` supports SAME_STEP itself; :class:`KeepRawRewards` under it keeps the raw
rewards in ``info["raw_rewards"]`` so that ``episode_returns`` stay in the env's own units.

:func:`get_state` / :func:`set_state` read and write the statistics as a JSON-able dict.
:class:`CheckpointedStats` puts them in every checkpoint (one string variable), so ``--resume``
gets the statistics of the very checkpoint it restores, also an older one kept when the newest
is damaged; :func:`save` writes them (atomically) into the run folder as ``normalization.json``
next to the final ``model.keras``, for ``eval a2c``. Evaluation uses the observation statistics
only, frozen (:func:`frozen_obs`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.wrappers import NormalizeObservation as SingleNormalizeObservation
from gymnasium.wrappers.vector import NormalizeObservation, NormalizeReward

from tfcourse.safe_write import atomic_write_json, load_json

STATE_FILE = "normalization.json"  # in the run folder, only when something is normalised


class SameStepNormalizeObservation(NormalizeObservation):
    """``NormalizeObservation`` that also normalises ``info["final_obs"]`` (SAME_STEP mode)."""

    def __init__(self, env: gym.vector.VectorEnv, epsilon: float = 1e-8) -> None:
        meta = env.metadata
        env.metadata = {**meta, "autoreset_mode": AutoresetMode.NEXT_STEP}  # its mode check
        try:
            super().__init__(env, epsilon)
        finally:
            env.metadata = meta
        self.metadata = meta

    def step(self, actions):
        obs, rewards, terminated, truncated, info = self.env.step(actions)
        obs = self.observations(obs)  # updates the statistics (unless frozen)
        if "final_obs" in info:  # same statistics, no update
            scale = np.sqrt(self.obs_rms.var + self.epsilon)
            final = np.empty(len(info["final_obs"]), dtype=object)
            for i, o in enumerate(info["final_obs"]):
                final[i] = (
                    None if o is None else ((o - self.obs_rms.mean) / scale).astype(np.float32)
                )
            info = {**info, "final_obs": final}
        return obs, rewards, terminated, truncated, info


class KeepRawRewards(gym.vector.VectorWrapper):
    """Puts a copy of the env's own rewards in ``info["raw_rewards"]`` (under the reward
    normaliser, which passes ``info`` on unchanged)."""

    def step(self, actions):
        obs, rewards, terminated, truncated, info = self.env.step(actions)
        return obs, rewards, terminated, truncated, {**info, "raw_rewards": np.array(rewards)}


def wrap(envs: gym.vector.VectorEnv, obs: bool, reward: bool, gamma: float):
    """Wrap ``envs`` with the normalisers asked for (observations inside, rewards outside)."""
    if obs:
        envs = SameStepNormalizeObservation(envs)
    if reward:
        envs = NormalizeReward(KeepRawRewards(envs), gamma=gamma)
    return envs


def _find(envs, cls):
    while isinstance(envs, gym.vector.VectorWrapper | gym.Wrapper):
        if isinstance(envs, cls):
            return envs
        envs = envs.env
    return None


def _rms_state(rms) -> dict[str, Any]:
    return {
        "mean": np.asarray(rms.mean, np.float64).tolist(),
        "var": np.asarray(rms.var, np.float64).tolist(),
        "count": float(rms.count),
    }


def _load_rms(rms, state: dict[str, Any]) -> None:
    rms.mean = np.asarray(state["mean"], np.asarray(rms.mean).dtype).reshape(np.shape(rms.mean))
    rms.var = np.asarray(state["var"], np.asarray(rms.var).dtype).reshape(np.shape(rms.var))
    rms.count = float(state["count"])


def get_state(envs) -> dict[str, Any]:
    """The normalisers' statistics: ``{"obs": {mean, var, count}, "reward": {...}}`` (each key
    only when that normaliser is there; ``{}`` when none is)."""
    state: dict[str, Any] = {}
    if (o := _find(envs, NormalizeObservation)) is not None:
        state["obs"] = _rms_state(o.obs_rms)
    if (r := _find(envs, NormalizeReward)) is not None:
        state["reward"] = _rms_state(r.return_rms)
    return state


def set_state(envs, state: dict[str, Any], freeze: bool = False) -> None:
    """Load statistics from :func:`get_state` into ``envs``' normalisers.

    ``freeze``: stop updating them (evaluation).
    """
    pairs = (
        ("obs", (NormalizeObservation, SingleNormalizeObservation), "obs_rms"),
        ("reward", NormalizeReward, "return_rms"),
    )
    for key, cls, attr in pairs:
        wrapper = _find(envs, cls)
        if wrapper is None:
            continue
        if key in state:
            _load_rms(getattr(wrapper, attr), state[key])
        if freeze:
            wrapper.update_running_mean = False


def save(envs, run_dir: str | os.PathLike) -> Path | None:
    """Write ``envs``' statistics to ``run_dir/normalization.json`` (atomically); None if none."""
    state = get_state(envs)
    return atomic_write_json(Path(run_dir) / STATE_FILE, state) if state else None


def load(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The statistics saved in ``run_dir`` (None when the run normalised nothing)."""
    path = Path(run_dir) / STATE_FILE
    return load_json(path) if path.is_file() else None


class CheckpointedStats:
    """The normalisers' statistics as a string ``tf.Variable`` saved in each checkpoint.

    Args:
        envs: the training envs (their normalisers, if any).

    Attributes:
        trackables: ``{"normalization": variable}`` to add to the run's checkpoint (``{}``
            when nothing is normalised, so such checkpoints are unchanged).
    """

    def __init__(self, envs) -> None:
        import tensorflow as tf  # only once a trainer exists

        self.envs = envs
        self.trackables = {}
        if get_state(envs):
            self.trackables["normalization"] = tf.Variable(
                "", dtype=tf.string, trainable=False, name="normalization"
            )

    def before_save(self) -> None:
        """Copy the current statistics into the variable (call just before each save)."""
        if self.trackables:
            self.trackables["normalization"].assign(json.dumps(get_state(self.envs)))

    def after_restore(self) -> None:
        """Load the restored checkpoint's statistics into the envs."""
        if self.trackables:
            set_state(self.envs, json.loads(self.trackables["normalization"].numpy()))


def frozen_obs(env, state: dict[str, Any] | None):
    """``env`` (one env or a vector env) normalising observations with ``state["obs"]``, frozen;
    ``env`` itself when ``state`` has no observation statistics."""
    if not state or "obs" not in state:
        return env
    if isinstance(env, gym.vector.VectorEnv):
        env = SameStepNormalizeObservation(env)
    else:
        env = SingleNormalizeObservation(env)
    set_state(env, {"obs": state["obs"]}, freeze=True)
    return env
