"""The GIF of a greedy episode: a step/return overlay on every frame, one frame per kept step."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from tfcourse.rl.evaluate import overlay, record_gif


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


def test_gif_has_one_overlaid_frame_per_kept_step(tmp_path):
    path, episode_return = record_gif(AlwaysLeft(), "CartPole-v1", tmp_path / "e.gif",
                                      seed=0, frame_skip=2)  # fmt: skip
    steps = int(episode_return)  # CartPole: reward 1 per step
    with Image.open(path) as gif:
        assert gif.n_frames == math.ceil(steps / 2)
        first = np.asarray(gif.convert("RGB"))
        gif.seek(gif.n_frames - 1)
        last = np.asarray(gif.convert("RGB"))
    assert 5 < steps < 30  # always pushing left falls over quickly
    # the label's corner differs between frames (the numbers), and its box is white
    assert np.any(first[:15, :120] != last[:15, :120])
    assert (first[2:4, 2:4] == 255).all()
