"""tfcourse.run.plots: which lines a figure holds, integer ticks, legends clear of the data."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from tfcourse.run import plots

HISTORY = {
    "train_loss": [0.50, 0.30, 0.20, 0.15],
    "test_loss": [0.40, 0.30, 0.25, 0.24],
    "train_objective": [0.90, 0.70, 0.60, 0.55],
    "train_accuracy": [0.90, 0.95, 0.97, 0.98],
    "test_accuracy": [0.91, 0.94, 0.96, 0.97],
}


def _drawn(fig):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def visible_xticks(ax) -> list[float]:
    lo, hi = ax.get_xlim()
    return [float(t) for t in ax.get_xticks() if lo <= t <= hi]


def points_under_legend(ax, renderer) -> int:
    """How many data points of ``ax`` lie inside its legend's box, in display pixels."""
    box = ax.get_legend().get_window_extent(renderer)
    n = 0
    for line in ax.lines:
        xy = np.asarray(line.get_xydata(), dtype=float)
        if line.get_transform() != ax.transData:  # axhline: x in axes units
            xy = np.column_stack([np.linspace(0, 1, 50), np.full(50, xy[0, 1])])
            pixels = line.get_transform().transform(xy)
        else:
            pixels = ax.transData.transform(xy)
        n += int(box.count_contains(pixels))
    return n


def test_curves_put_losses_left_and_the_rest_right():
    fig = plots.plot_curves(HISTORY)
    loss_ax, other_ax = fig.axes
    assert [line.get_label() for line in loss_ax.lines] == [
        "train_loss",
        "test_loss",
        "train_objective",
    ]
    assert [line.get_label() for line in other_ax.lines] == ["train_accuracy", "test_accuracy"]
    np.testing.assert_array_equal(loss_ax.lines[1].get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(loss_ax.lines[1].get_ydata(), HISTORY["test_loss"])


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_epoch_ticks_are_integers_and_show_every_point(n):
    fig = plots.plot_curves({k: v[:n] for k, v in HISTORY.items()} if n <= 4 else
                            {"train_loss": list(np.linspace(1, 0.1, n))})  # fmt: skip
    _drawn(fig)
    ax = fig.axes[0]
    ticks = visible_xticks(ax)
    assert ticks and all(t == int(t) for t in ticks), ticks
    lo, hi = ax.get_xlim()
    assert lo < 1 and hi > n  # every point inside the axes
    assert min(ticks) <= n and max(ticks) >= 1  # at least one tick among the epochs


def test_curves_against_step_numbers():
    fig = plots.plot_curves({"train_loss": [0.3, 0.2]}, xlabel="step", x=[1000, 2000])
    _drawn(fig)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1000, 2000])
    assert all(t == int(t) for t in visible_xticks(ax))
    one = plots.plot_curves({"train_loss": [0.3]}, x=[1000])
    _drawn(one)
    assert 1000.0 in visible_xticks(one.axes[0])


def test_curve_legends_cover_no_data():
    fig = plots.plot_curves(HISTORY, title="t")
    renderer = _drawn(fig)
    for ax in fig.axes:
        assert points_under_legend(ax, renderer) == 0
        assert (
            not ax.get_legend().get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
        )


def test_episode_returns_legend_covers_no_data():
    rng = np.random.default_rng(0)
    steps = np.cumsum(rng.integers(10, 500, 300))
    returns = np.clip(np.linspace(10, 500, 300) + rng.normal(0, 50, 300), 8, 500)
    fig = plots.plot_episode_returns(steps, returns, target=475)
    renderer = _drawn(fig)
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.lines] == [
        "episode return",
        "mean of last 100",
        "target 475",
    ]
    assert points_under_legend(ax, renderer) == 0
    assert not ax.get_legend().get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
    assert all(t == int(t) for t in visible_xticks(ax))


def test_points_under_legend_detects_an_inside_legend():
    """The check above can fail: a legend drawn over the data is caught."""
    fig = plots.plot_episode_returns(np.arange(1, 101), np.full(100, 10.0))
    ax = fig.axes[0]
    ax.legend(loc="center left")  # right over the flat line at 10
    assert points_under_legend(ax, _drawn(fig)) > 0
