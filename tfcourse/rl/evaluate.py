"""Greedy evaluation of a trained policy, and a GIF of one episode with a step/return overlay.

A run trained with normalised observations is evaluated with its saved statistics, frozen
(:func:`tfcourse.rl.normalize.frozen_obs`); rewards are never normalised here.
"""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path

import gymnasium as gym
import numpy as np
from PIL import Image, ImageDraw

from tfcourse.rl import normalize
from tfcourse.rl.rollout import make_envs
from tfcourse.safe_write import atomic_write_bytes, load_json, storage_error


def evaluate_greedy(
    model, env_id: str, episodes: int = 100, seed: int = 10_000, norm: dict | None = None
) -> np.ndarray:
    """Run ``episodes`` episodes in parallel, always taking the most likely action.

    Each of ``episodes`` vector-env copies plays exactly one episode, so short and long
    episodes are counted fairly (no bias towards episodes that finish first).

    Args:
        model: an ``ActorCritic`` (needs ``greedy_actions(obs [n, d]) -> [n]``).
        env_id: gymnasium id.
        episodes: number of episodes.
        seed: reset seed of the first copy (copy i gets seed + i).
        norm: the run's normalisation statistics (:func:`tfcourse.rl.normalize.get_state`);
            observations are normalised with them, frozen. None: raw observations.

    Returns:
        episode_returns: [episodes] float64, each episode's undiscounted sum of rewards.
    """
    envs = normalize.frozen_obs(make_envs(env_id, episodes, seed), norm)
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
    what: str = "",
    norm: dict | None = None,
) -> tuple[Path, float]:
    """Play one greedy episode with ``render_mode="rgb_array"`` and save it as a looping GIF.

    Each frame shows the state after ``step`` steps and the return collected so far; frames
    are kept every ``frame_skip`` steps, and the episode's final state is always the last
    frame, so the GIF ends on the return this function returns.

    Args:
        model: an ``ActorCritic``.
        env_id: gymnasium id (must support rgb_array rendering).
        path: output ``.gif`` path (written atomically).
        seed: reset seed of the episode.
        frame_skip: keep every ``frame_skip``-th frame (smaller file).
        scale: resize factor for each frame.
        max_steps: stop after this many steps even if the episode goes on.
        what: the flag that named ``path``, for the error message (e.g. ``"--gif"``).
        norm: normalisation statistics, as for :func:`evaluate_greedy`.

    Returns:
        ``(path, episode_return)``.

    Raises:
        StorageError: ``path`` is a folder or cannot be written (checked before playing).
    """
    check_writable_file(path, what)
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # pygame renders off-screen
    env = normalize.frozen_obs(gym.make(env_id, render_mode="rgb_array"), norm)
    frames: list[Image.Image] = []
    total, t = 0.0, 0

    def keep() -> None:  # the state after t steps, with the return so far
        frame = Image.fromarray(env.render())
        size = (max(1, int(frame.width * scale)), max(1, int(frame.height * scale)))
        frames.append(overlay(frame.resize(size), t, total))

    try:
        obs, _ = env.reset(seed=seed)
        while t < max_steps:
            if t % frame_skip == 0:
                keep()
            action = int(np.asarray(model.greedy_actions(obs[None].astype(np.float32)))[0])
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            t += 1
            if terminated or truncated:
                break
        keep()  # the final state and the final return
    finally:
        env.close()
    ms_per_frame = int(1000 * frame_skip / env.metadata.get("render_fps", 50))
    buf = io.BytesIO()
    frames[0].save(
        buf, format="GIF", save_all=True, append_images=frames[1:], duration=ms_per_frame, loop=0
    )
    return atomic_write_bytes(path, buf.getvalue(), what), total


def gif_frames(path: str | os.PathLike) -> list[np.ndarray]:
    """Every frame of a GIF as a uint8 RGB array [height, width, 3]."""
    with Image.open(path) as gif:
        frames = []
        for i in range(gif.n_frames):
            gif.seek(i)
            frames.append(np.asarray(gif.convert("RGB")))
    return frames


def contact_sheet(frames: list[np.ndarray], n: int = 6, cols: int = 3) -> np.ndarray:
    """``n`` frames evenly spread over the episode (first and last included) in a grid.

    Args:
        frames: the episode's frames, e.g. :func:`gif_frames` of a GIF.
        n: at most this many frames.
        cols: frames per row.

    Returns:
        uint8 [rows * height, cols * width, 3], white where the grid has no frame.
    """
    picked = [frames[i] for i in np.unique(np.linspace(0, len(frames) - 1, n).round().astype(int))]
    rows = -(-len(picked) // cols)
    cols = min(cols, len(picked))
    h, w = picked[0].shape[:2]
    sheet = np.full((rows * h, cols * w, 3), 255, np.uint8)
    for i, frame in enumerate(picked):
        r, c = divmod(i, cols)
        sheet[r * h : (r + 1) * h, c * w : (c + 1) * w] = frame
    return sheet


def overlay(frame: Image.Image, step: int, episode_return: float) -> Image.Image:
    """``frame`` with ``step <t>  return <R>`` written in its top-left corner (a new image)."""
    frame = frame.convert("RGB")
    draw = ImageDraw.Draw(frame)
    text = f"step {step}  return {episode_return:g}"
    box = draw.textbbox((4, 4), text)
    draw.rectangle((box[0] - 2, box[1] - 2, box[2] + 2, box[3] + 2), fill=(255, 255, 255))
    draw.text((4, 4), text, fill=(0, 0, 0))
    return frame


def check_writable_file(path: str | os.PathLike, what: str = "") -> Path:
    """Check, without writing it, that file ``path`` can be created or replaced.

    Raises:
        StorageError: ``path`` is a folder, its folder is missing, or it is not writable.
    """
    path = Path(path)
    problem = None
    if path.is_dir():
        problem = errno.EISDIR
    elif not path.parent.is_dir():
        problem = errno.ENOENT
    elif not os.access(path.parent, os.W_OK | os.X_OK) or (
        path.exists() and not os.access(path, os.W_OK)
    ):
        problem = errno.EACCES
    if problem is not None:
        raise storage_error(path, OSError(problem, os.strerror(problem)), what)
    return path


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

    import tfcourse.rl.model  # noqa: F401  (registers ActorCritic for loading)
    from tfcourse.errors import ConfigError, RunError, TfcourseError
    from tfcourse.run import folder

    run = Path(run_dir)
    model_path = run / "model.keras"
    if episodes < 1:
        raise ConfigError(f"--episodes must be >= 1, got {episodes}")
    if not (run / folder.CONFIG_FILE).is_file() or not model_path.is_file():
        raise TfcourseError(
            f"{run} is not a finished A2C run (needs config.json and model.keras); "
            "pass a directory written by 'tfcourse train a2c'"
        )
    env_id = load_json(run / folder.CONFIG_FILE).get("env")
    if not isinstance(env_id, str):
        raise RunError(
            f"{run / folder.CONFIG_FILE} has no 'env' setting (got {env_id!r}); it is not "
            "an A2C run's config.json: repair it or pass another run directory"
        )
    if gif:
        check_writable_file(gif, "--gif")  # before the episodes, not after them
    try:
        model = keras.models.load_model(model_path)
    except (ValueError, OSError, TypeError, KeyError) as exc:
        raise RunError(
            f"{model_path} cannot be loaded ({str(exc).splitlines()[0][:200]}); it is "
            "corrupt or from another version: train the run again"
        ) from None
    norm = normalize.load(run)  # training's statistics (None when nothing was normalised)
    episode_returns = evaluate_greedy(model, env_id, episodes, seed, norm)
    report: dict[str, float | str] = {
        "env": env_id,
        "episodes": episodes,
        "mean_return": float(episode_returns.mean()),
        "std_return": float(episode_returns.std()),
        "min_return": float(episode_returns.min()),
        "max_return": float(episode_returns.max()),
    }
    if gif:
        report["gif"] = str(record_gif(model, env_id, gif, seed=seed, what="--gif", norm=norm)[0])
    return report
