"""The train a2c progress bar: a rate over the recent updates, not one spoiled by compiling."""

from __future__ import annotations

import io

import pytest

from tfcourse.rl.progress import Progress


def test_rate_leaves_out_the_compiling_update_and_follows_the_recent_ones():
    out = io.StringIO()
    bar = Progress(total=10_000, desc="a2c", window=3, file=out)
    bar.update(256, 256, float("nan"), now=30.0)  # first update: 30 s of tracing/XLA
    assert "sps=?" in bar.text(0.0)
    for i in range(1, 4):
        bar.update(256 * (i + 1), 256, 20.0, now=30.0 + 0.1 * i)
    assert bar.rate() == pytest.approx(2560.0)  # 768 steps in 0.3 s, compiling not counted
    for i in range(4, 8):  # slower now: the window (3 updates) follows
        bar.update(256 * (i + 1), 256, 25.0, now=30.3 + 0.2 * (i - 3))
    assert bar.rate() == pytest.approx(1280.0)
    assert bar.text(25.0) == "mean_return=25.0, sps=1,280, left=00:06"
    bar.close()
    assert "sps=1,280" in out.getvalue() and "it/s" not in out.getvalue()


def test_disabled_bar_still_measures():
    bar = Progress(total=100, disable=True)
    bar.update(10, 10, 1.0, now=0.0)
    bar.update(20, 10, 1.0, now=1.0)
    assert bar.rate() == 10.0
    bar.close()
