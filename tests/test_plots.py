"""tfcourse.run.plots: which lines a figure holds, integer ticks, legends clear of the data."""

from __future__ import annotations

import itertools

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
    fig = plots.plot_curves(
        {k: v[:n] for k, v in HISTORY.items()}
        if n <= 4
        else {"train_loss": list(np.linspace(1, 0.1, n))}
    )
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
        "one episode",
        "mean of the last 100 episodes",
        "target 475",
    ]
    assert ax.get_xlabel() == "environment steps (all envs)"
    assert ax.get_ylabel() == "episode return (sum of rewards)"
    assert points_under_legend(ax, renderer) == 0
    assert not ax.get_legend().get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
    assert all(t == int(t) for t in visible_xticks(ax))


def test_points_under_legend_detects_an_inside_legend():
    """The check above can fail: a legend drawn over the data is caught."""
    fig = plots.plot_episode_returns(np.arange(1, 101), np.full(100, 10.0))
    ax = fig.axes[0]
    ax.legend(loc="center left")  # right over the flat line at 10
    assert points_under_legend(ax, _drawn(fig)) > 0


def tick_labels(ax, renderer) -> list:
    """The x tick labels drawn inside the axes: ``[(text, window extent), ...]``."""
    lo, hi = ax.get_xlim()
    return [
        (label.get_text(), label.get_window_extent(renderer))
        for tick, label in zip(ax.get_xticks(), ax.get_xticklabels(), strict=True)
        if lo <= tick <= hi and label.get_visible() and label.get_text()
    ]


def overlapping(labels) -> list[tuple[str, str]]:
    return [
        (a, b)
        for (a, box_a), (b, box_b) in itertools.pairwise(labels)
        if box_a.x1 + 2 > box_b.x0  # less than 2 pixels apart
    ]


def test_step_ticks_of_the_sine_curve_are_readable():
    """10 chunks of 1,000 steps: the labels used to run together as "100020003000..."."""
    steps = list(range(1000, 10001, 1000))
    fig = plots.plot_curves({"train_loss": [1.0] * 10, "mse": [0.5] * 10}, "step", x=steps)
    renderer = _drawn(fig)
    for ax in fig.axes:
        labels = tick_labels(ax, renderer)
        assert [text for text, _ in labels] == ["2k", "4k", "6k", "8k", "10k"]
        assert not overlapping(labels)


@pytest.mark.parametrize(
    ("x", "first_labels"),
    [
        (range(1, 4), ["1", "2", "3"]),
        (range(1, 31), None),
        (range(100, 3001, 100), None),
        (range(500, 9501, 500), ["2,000", "4,000"]),
        (range(5000, 800_001, 5000), None),
        (range(10**6, 2 * 10**7, 10**6), None),
    ],
)
def test_no_tick_labels_run_together(x, first_labels):
    x = list(x)
    fig = plots.plot_curves({"train_loss": np.linspace(1, 0, len(x)), "acc": [0.5] * len(x)}, x=x)
    renderer = _drawn(fig)
    for ax in fig.axes:
        labels = tick_labels(ax, renderer)
        assert len(labels) >= 2 and not overlapping(labels), [t for t, _ in labels]
        if first_labels:
            assert [t for t, _ in labels][: len(first_labels)] == first_labels


def test_compact_numbers():
    assert plots.compact_number(2500, 9000) == "2,500"
    assert plots.compact_number(2500, 10_000) == "2.5k"
    assert plots.compact_number(500_000, 800_000) == "500k"
    assert plots.compact_number(15_000_000, 20_000_000) == "15M"
    assert plots.compact_number(0, 800_000) == "0"


def test_curves_say_their_units_and_what_each_averages_over():
    legends = {"train_loss": "train: mean over the epoch's batches"}
    fig = plots.plot_curves(
        HISTORY, ylabels=("cross-entropy (nats)", "accuracy (fraction)"), legends=legends
    )
    renderer = _drawn(fig)
    loss_ax, other_ax = fig.axes
    assert (loss_ax.get_ylabel(), other_ax.get_ylabel()) == (
        "cross-entropy (nats)",
        "accuracy (fraction)",
    )
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == [
        "train: mean over the epoch's batches",
        "test_loss",
        "train_objective",
    ]
    # a long entry gets a row of its own, still clear of the data and of the other panel
    assert loss_ax.get_legend()._ncols == 1 and other_ax.get_legend()._ncols == 2
    box = loss_ax.get_legend().get_window_extent(renderer)
    assert points_under_legend(loss_ax, renderer) == 0
    assert box.x1 <= other_ax.get_window_extent(renderer).x0


def test_misclassified_title_counts_all_mistakes():
    rng = np.random.default_rng(0)
    images, labels = rng.random((40, 784)), np.arange(40) % 10
    predictions = labels.copy()
    predictions[:30] = (labels[:30] + 1) % 10  # 30 wrong of 40
    fig = plots.plot_misclassified(images, labels, predictions, max_images=25)
    assert fig._suptitle.get_text() == "the first 25 of 30 misclassified test images (75.0% of 40)"
    (ax,) = fig.axes  # one picture of all panels, a caption above each
    captions = [t.get_text() for t in ax.texts]
    assert len(captions) == 25
    assert captions[0] == f"true {labels[0]}\npred {predictions[0]}"
    fig = plots.plot_misclassified(images, labels, labels)
    assert fig._suptitle.get_text() == "no mistakes on 40 test images"
