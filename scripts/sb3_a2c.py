"""Stable-Baselines3's A2C on one environment: the SB3 half of ``scripts/bench_a2c.py``'s
side-by-side, run by it in a process of its own.

Its own process, because torch and TensorFlow in one process can crash it: PyPI's torch builds
that bring triton (the CUDA builds, e.g. torch 2.14.1) die with SIGSEGV (exit 139) while
triton's LLVM library loads beside TensorFlow 2.21's. SB3 itself pulls TensorFlow in (its logger
imports ``torch.utils.tensorboard``, which imports TensorFlow when installed), so this script
blocks that import: TensorBoard falls back to its own stub, and SB3 trains without TensorFlow.

RL-Zoo's A2C settings (rl-baselines3-zoo hyperparams/a2c.yml): CartPole-v1 8 envs, ent_coef 0;
Acrobot-v1 16 envs, VecNormalize of observations and rewards, ent_coef 0; one torch thread.
``solve_steps`` is the first env step where the mean of SB3's last 100 episodes (raw rewards,
from its Monitor) reaches ``--target``; ``solve_seconds`` the wall time to it from the start
of ``learn``. The greedy score is the mean of ``--episodes`` deterministic episodes, one per env
copy, with the normalisation statistics frozen.

Prints one JSON object as the last stdout line::

    python scripts/sb3_a2c.py --env CartPole-v1 --seed 1 --steps 300000 --episodes 100 --target 475
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import gymnasium as gym  # neither imports TensorFlow
import numpy as np

sys.modules["tensorflow"] = None  # before SB3: `import tensorflow` fails (see the docstring)

SETTINGS = {
    "CartPole-v1": {"n_envs": 8, "normalize": False, "ent_coef": 0.0},
    "Acrobot-v1": {"n_envs": 16, "normalize": True, "ent_coef": 0.0},
}


def train(env: str, seed: int, steps: int, episodes: int, target: float) -> dict[str, Any]:
    """SB3's A2C with RL-Zoo's settings for ``env``: solve step and time, wall, steps/s, greedy."""
    import stable_baselines3
    import torch
    from stable_baselines3 import A2C
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    torch.set_num_threads(1)
    zoo = SETTINGS[env]
    venv = make_vec_env(env, n_envs=zoo["n_envs"], seed=seed)
    if zoo["normalize"]:
        venv = VecNormalize(venv, gamma=0.99)

    class Solved(BaseCallback):
        step: int | None = None
        seconds: float | None = None

        def _on_step(self) -> bool:
            buf = self.model.ep_info_buffer  # the last 100 episodes (Monitor: raw rewards)
            if self.step is None and len(buf) == 100 and np.mean([e["r"] for e in buf]) >= target:
                self.step, self.seconds = self.num_timesteps, time.perf_counter() - t0
            return True

    model = A2C("MlpPolicy", venv, ent_coef=zoo["ent_coef"], seed=seed, device="cpu", verbose=0)
    solved = Solved()
    t0 = time.perf_counter()
    model.learn(total_timesteps=steps, callback=solved)
    seconds = time.perf_counter() - t0
    returns = greedy(model, env, episodes, seed + 10**6, venv if zoo["normalize"] else None)
    venv.close()
    return {
        "solve_steps": solved.step,
        "solve_seconds": solved.seconds,
        "seconds": seconds,
        "steps": int(model.num_timesteps),
        "steps_per_s": model.num_timesteps / seconds,
        "greedy": float(returns.mean()),
        "greedy_std": float(returns.std()),
        "sb3_version": stable_baselines3.__version__,
        "torch_version": torch.__version__,
        "tensorflow_imported": sys.modules.get("tensorflow") is not None,
    }


def greedy(model: Any, env: str, episodes: int, seed: int, norm: Any) -> np.ndarray:
    """``episodes`` deterministic episodes, one per env copy; ``norm``'s obs statistics frozen."""
    envs = gym.make_vec(env, num_envs=episodes, vectorization_mode="sync")
    obs, _ = envs.reset(seed=seed)
    episode_returns, running = np.zeros(episodes), np.ones(episodes, dtype=bool)
    while running.any():
        seen = norm.normalize_obs(obs) if norm is not None else obs
        actions, _ = model.predict(seen, deterministic=True)
        obs, rewards, terminated, truncated, _ = envs.step(actions)
        episode_returns += rewards * running
        running &= ~(terminated | truncated)
    envs.close()
    return episode_returns


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", choices=tuple(SETTINGS), required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True, help="env steps of training")
    parser.add_argument("--episodes", type=int, required=True, help="greedy episodes at the end")
    parser.add_argument("--target", type=float, required=True, help="100-episode mean to solve")
    args = parser.parse_args(argv)
    result = train(args.env, args.seed, args.steps, args.episodes, args.target)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
