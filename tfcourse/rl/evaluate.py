"""Greedy evaluation of a trained policy, and a GIF of one episode."""

from __future__ import annotations

import io
import os
from pathlib import Path

import gymnasium as gym
import numpy as np
from PIL import Image

from tfcourse.rl.rollout import make_envs
from tfcourse.rundir import atomic_write_bytes


def evaluate_greedy(model, env_id: str, episodes: int = 100, seed: int = 10_000) -> np.ndarray:
    """Run ``episodes`` episodes in parallel, always taking the most likely action.

    Each of ``episodes`` vector-env copies plays exactly one episode, so short and long
    episodes are counted fairly (no bias towards episodes that finish first).

    Args:
        model: an ``ActorCritic`` (needs ``greedy_actions(obs [n, d]) -> [n]``).
        env_id: gymnasium id.
        episodes: number of episodes.
        seed: reset seed of the first copy (copy i gets seed + i).

    Returns:
        episode_returns: [episodes] float64, each episode's undiscounted sum of rewards.
    """
    envs = make_envs(env_id, episodes, seed)
    try:
        obs, _ = envs.reset(seed=seed)
        episode_returns = np.zeros(episodes)
        running = np.ones(episodes, dtype=bool)
        while running.any():
            actions = np.asarray(model.greedy_actions(obs.astype(np.float32)))
            obs, rewards, terminated, truncated, _ = envs.step(actions)
            episode_returns += rewards * running
            running &= ~(terminated | truncated)
    finally:
        envs.close()
    return episode_returns


def record_gif(
    model,
    env_id: str,
    path: str | os.PathLike,
    seed: int = 0,
    frame_skip: int = 2,
    scale: float = 0.5,
    max_steps: int = 1000,
) -> tuple[Path, float]:
    """Play one greedy episode with ``render_mode="rgb_array"`` and save it as a looping GIF.

    Args:
        model: an ``ActorCritic``.
        env_id: gymnasium id (must support rgb_array rendering).
        path: output ``.gif`` path (written atomically).
        seed: reset seed of the episode.
        frame_skip: keep every ``frame_skip``-th frame (smaller file).
        scale: resize factor for each frame.
        max_steps: stop after this many steps even if the episode goes on.

    Returns:
        ``(path, episode_return)``.
    """
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # pygame renders off-screen
    env = gym.make(env_id, render_mode="rgb_array")
    frames: list[Image.Image] = []
    total = 0.0
    try:
        obs, _ = env.reset(seed=seed)
        for t in range(max_steps):
            if t % frame_skip == 0:
                frame = Image.fromarray(env.render())
                size = (max(1, int(frame.width * scale)), max(1, int(frame.height * scale)))
                frames.append(frame.resize(size))
            action = int(np.asarray(model.greedy_actions(obs[None].astype(np.float32)))[0])
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            if terminated or truncated:
                break
    finally:
        env.close()
    ms_per_frame = int(1000 * frame_skip / env.metadata.get("render_fps", 50))
    buf = io.BytesIO()
    frames[0].save(
        buf, format="GIF", save_all=True, append_images=frames[1:], duration=ms_per_frame, loop=0
    )
    return atomic_write_bytes(path, buf.getvalue()), total


def evaluate_run(
    run_dir: str | os.PathLike, episodes: int = 100, gif: str | None = None, seed: int = 10_000
) -> dict[str, float | str]:
    """Load a finished A2C run's ``model.keras`` and evaluate it greedily (``tfcourse eval a2c``).

    Args:
        run_dir: a run directory written by ``tfcourse train a2c``.
        episodes: number of greedy episodes.
        gif: optional path of a GIF of one greedy episode.
        seed: reset seed of the first episode.

    Returns:
        ``{"env", "episodes", "mean_return", "std_return", "min_return", "max_return"[, "gif"]}``.
    """
    import keras

    from tfcourse import rundir
    from tfcourse.errors import ConfigError, TfcourseError
    from tfcourse.rl import a2c  # noqa: F401  (registers ActorCritic for loading)

    run = Path(run_dir)
    model_path = run / "model.keras"
    if episodes < 1:
        raise ConfigError(f"--episodes must be >= 1, got {episodes}")
    if not (run / rundir.CONFIG_FILE).is_file() or not model_path.is_file():
        raise TfcourseError(
            f"{run} is not a finished A2C run (needs config.json and model.keras); "
            "pass a directory written by 'tfcourse train a2c'"
        )
    env_id = rundir.load_json(run / rundir.CONFIG_FILE)["env"]
    model = keras.models.load_model(model_path)
    episode_returns = evaluate_greedy(model, env_id, episodes, seed)
    report: dict[str, float | str] = {
        "env": env_id, "episodes": episodes, "mean_return": float(episode_returns.mean()),
        "std_return": float(episode_returns.std()), "min_return": float(episode_returns.min()),
        "max_return": float(episode_returns.max()),
    }  # fmt: skip
    if gif:
        report["gif"] = str(record_gif(model, env_id, gif, seed=seed)[0])
    return report
