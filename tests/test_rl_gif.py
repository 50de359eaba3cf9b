"""The GIF of a greedy episode: a step/return overlay on every frame, the final return last."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from tfcourse.rl.evaluate import contact_sheet, gif_frames, overlay, record_gif


class AlwaysLeft:
    def greedy_actions(self, obs):
        return np.zeros(len(obs), np.int32)


def test_overlay_draws_text_and_leaves_the_input_alone():
    frame = Image.new("RGB", (300, 200), (40, 90, 160))
    before = np.asarray(frame).copy()
    a, b = overlay(frame, 3, 3.0), overlay(frame, 4, 4.0)
    np.testing.assert_array_equal(np.asarray(frame), before)
    changed = np.any(np.asarray(a) != before, axis=-1)
    assert 200 < changed.sum() < 300 * 200 // 4  # a label in the corner, not the whole frame
    assert changed[:30, :150].sum() == changed.sum()
    assert np.any(np.asarray(a) != np.asarray(b))  # the numbers differ per frame


def _label(image: np.ndarray, step: int, episode_return: float) -> np.ndarray:
    """The overlay's white label box as drawn on ``image``: the pixels that text decides."""
    drawn = np.asarray(overlay(Image.fromarray(image), step, episode_return))
    white = np.all(drawn == 255, axis=-1)
    rows, cols = np.flatnonzero(white.any(axis=1)), np.flatnonzero(white.any(axis=0))
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    return drawn[box], box


def _reads(frame: np.ndarray, step: int, episode_return: float) -> bool:
    """Whether ``frame``'s label reads ``step <step>  return <episode_return>`` (up to the
    GIF palette's rounding of grey text edges; another number differs by black vs white)."""
    label, box = _label(frame, step, episode_return)
    if frame[box].shape != label.shape:
        return False
    return int(np.abs(frame[box].astype(int) - label).max()) <= 32


def test_gif_has_one_overlaid_frame_per_kept_step_and_ends_on_the_final_return(tmp_path):
    path, episode_return = record_gif(
        AlwaysLeft(), "CartPole-v1", tmp_path / "e.gif", seed=0, frame_skip=2
    )
    steps = int(episode_return)  # CartPole: reward 1 per step
    frames = gif_frames(path)
    assert 5 < steps < 30  # always pushing left falls over quickly
    # states after 0, 2, 4, ... steps, and the final state after `steps` steps
    assert len(frames) == math.ceil(steps / 2) + 1
    first, last = frames[0], frames[-1]
    # the label's corner differs between frames (the numbers), and its box is white
    assert np.any(first[:15, :120] != last[:15, :120])
    assert (first[2:4, 2:4] == 255).all()
    # the last frame's label is exactly "step <steps>  return <episode return>"
    assert _reads(last, steps, episode_return)
    assert not _reads(last, steps - 2, episode_return - 2)  # the frame before: 2 steps short
    assert not _reads(last, steps, episode_return - 2)
    assert _reads(first, 0, 0.0)


def test_gif_stops_at_max_steps_with_the_return_so_far(tmp_path):
    path, episode_return = record_gif(
        AlwaysLeft(), "CartPole-v1", tmp_path / "e.gif", seed=0, frame_skip=3, max_steps=4
    )
    frames = gif_frames(path)
    assert episode_return == 4.0
    assert len(frames) == 3  # after 0 and 3 steps, and the last state after 4
    assert _reads(frames[-1], 4, 4.0) and _reads(frames[1], 3, 3.0)
    assert not _reads(frames[-1], 3, 3.0)


def test_contact_sheet_spreads_frames_over_the_episode():
    frames = [np.full((2, 3, 3), i, np.uint8) for i in range(10)]
    sheet = contact_sheet(frames, n=4, cols=2)
    assert sheet.shape == (4, 6, 3)
    assert [sheet[r * 2, c * 3, 0] for r in range(2) for c in range(2)] == [0, 3, 6, 9]
    two = contact_sheet(frames[:2], n=8, cols=4)  # fewer frames than asked: no empty columns
    assert two.shape == (2, 6, 3) and two[0, 3, 0] == 1
