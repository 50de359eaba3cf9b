"""Figures saved as PNG: learning curves, a grid of misclassified images, episode returns.

Functions build a ``matplotlib.figure.Figure`` directly (no pyplot global state), so they work
the same in scripts, tests and notebooks (where the returned figure displays inline). Files are
written atomically. Every axis says what it measures and in which unit, x ticks are whole
numbers that never run together (``2k``, ``4k`` for thousands of steps), and each legend entry
says what its curve averages over.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from tfcourse.safe_write import atomic_write_bytes


def png_bytes(fig: Figure, dpi: int = 100) -> bytes:
    """``fig`` rendered as PNG (e.g. for TensorBoard's Images tab)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 100) -> bytes:
    """Render ``fig`` to PNG bytes in memory, write them atomically to ``path``, return them."""
    png = png_bytes(fig, dpi)
    atomic_write_bytes(path, png)
    return png


def legend_outside(ax: Axes, ncol: int = 2) -> None:
    """Put ``ax``'s legend just above the axes, where it cannot hide any data."""
    above = dict(loc="lower left", bbox_to_anchor=(0.0, 1.01, 1.0, 0.1), borderaxespad=0.0)
    ax.legend(ncol=ncol, frameon=False, fontsize="small", **above)


def compact_number(value: float, largest: float) -> str:
    """A tick label: ``2,500`` below 10,000, ``25k`` from there, ``2.5M`` from 10 million.

    Args:
        value: the tick's value.
        largest: the largest absolute value on the axis (so all its labels use one style).
    """
    if value == 0:
        return "0"
    if largest >= 10_000_000:
        return f"{value / 1_000_000:g}M"
    if largest >= 10_000:
        return f"{value / 1_000:g}k"
    return f"{value:,.0f}"


def integer_ticks(ax: Axes, x: Sequence[float]) -> None:
    """Whole-number x ticks (epochs, steps), as many as fit side by side, compact labels.

    A single x value gets a window around it.
    """
    locator = MaxNLocator(nbins="auto", steps=[1, 2, 5, 10], integer=True, min_n_ticks=1)
    ax.xaxis.set_major_locator(locator)
    if len(x):
        largest = float(np.max(np.abs(np.asarray(x, dtype=np.float64))))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: compact_number(v, largest)))
    if len(x) and max(x) - min(x) < 1:  # one point: MaxNLocator alone would give 0.945, ...
        pad = max(0.5, 0.05 * abs(float(max(x))))
        ax.set_xlim(min(x) - pad, max(x) + pad)


def plot_curves(
    history: Mapping[str, Sequence[float]],
    xlabel: str = "epoch",
    title: str = "",
    path: str | os.PathLike | None = None,
    x: Sequence[int] | None = None,
    ylabels: tuple[str, str] = ("loss", "value"),
    legends: Mapping[str, str] | None = None,
) -> Figure:
    """Plot one line per series; series whose name contains "loss" or "objective" go left.

    The x axis has whole-number ticks only and each panel's legend sits above it, off the data.

    Args:
        history: e.g. ``{"train_loss": [...], "test_loss": [...], "test_accuracy": [...]}``,
            one value per point of ``x``.
        xlabel: x-axis label, with its unit (e.g. ``"epoch"``, ``"step (Adam updates)"``).
        title: figure title.
        path: if given, also save the figure there as PNG.
        x: [points] integer positions, e.g. step numbers; default ``1, 2, ...`` (epochs).
        ylabels: the y-axis labels of the left (losses) and right panel, with units.
        legends: ``{series: legend text}`` saying what each curve averages over; a series
            without one is labelled with its name.
    """
    legends = legends or {}
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    ax_loss, ax_other = fig.subplots(1, 2)
    for key, values in history.items():
        ax = ax_loss if "loss" in key or "objective" in key else ax_other
        xs = np.arange(1, len(values) + 1) if x is None else np.asarray(x)[: len(values)]
        ax.plot(xs, values, marker="o", ms=3, label=legends.get(key, key))
    for ax, ylabel in zip((ax_loss, ax_other), ylabels, strict=True):
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if ax.lines:
            integer_ticks(ax, np.concatenate([line.get_xdata() for line in ax.lines]))
            long = max(len(line.get_label()) for line in ax.lines) > 24
            legend_outside(ax, ncol=1 if long else 2)
    fig.suptitle(title)
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_misclassified(
    images: np.ndarray,
    labels: np.ndarray,
    predictions: np.ndarray,
    class_names: Sequence[str] | None = None,
    max_images: int = 25,
    path: str | os.PathLike | None = None,
) -> Figure:
    """Grid of the first ``max_images`` test images the model got wrong.

    Args:
        images: [n, 28, 28] or [n, 784] pixels.
        labels: [n] true class ids.
        predictions: [n] predicted class ids.
        class_names: optional names for the classes (default: the ids).
        max_images: at most this many panels.
        path: if given, also save the figure there as PNG.
    """
    all_wrong = np.flatnonzero(np.asarray(labels) != np.asarray(predictions))
    wrong = all_wrong[:max_images]
    cols = 5
    rows = max(1, int(np.ceil(len(wrong) / cols)))
    name = (lambda c: class_names[c]) if class_names else str
    side = round(float(np.sqrt(np.asarray(images[0]).size)))
    # one picture holding every panel, a caption above each: one axes draws ~5x faster than 25
    gap, top = side // 4, side // 2
    sheet = np.zeros((rows * (top + side), cols * (side + gap) - gap))
    fig = Figure(figsize=(2 * cols, 2.2 * rows))
    ax = fig.add_axes((0.0, 0.0, 1.0, 0.96 - 0.04 / rows))
    ax.axis("off")
    for k, i in enumerate(wrong):
        r, c = divmod(k, cols)
        y, x = r * (top + side) + top, c * (side + gap)
        pixels = np.asarray(images[i], dtype=np.float64).reshape(side, side)
        low, high = float(pixels.min()), float(pixels.max())  # each panel scaled on its own
        sheet[y : y + side, x : x + side] = (pixels - low) / max(high - low, 1e-12)
        caption = f"true {name(labels[i])}\npred {name(predictions[i])}"
        ax.text(x + side / 2, y - 1, caption, ha="center", va="bottom", fontsize=8)
    ax.imshow(sheet, cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
    n, total = len(np.asarray(labels)), len(all_wrong)
    shown = f"the first {len(wrong)} of " if len(wrong) < total else ""
    summary = f"{shown}{total} misclassified test images ({total / max(n, 1):.1%} of {n:,})"
    fig.suptitle(summary if total else f"no mistakes on {n:,} test images")
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_episode_returns(
    steps: Sequence[int],
    returns: Sequence[float],
    window: int = 100,
    target: float | None = None,
    path: str | os.PathLike | None = None,
) -> Figure:
    """Episode returns against environment steps, with a running mean over ``window`` episodes.

    Args:
        steps: [episodes] env step at which each episode ended.
        returns: [episodes] undiscounted episode returns.
        window: running-mean width in episodes.
        target: optional horizontal line (e.g. 475, CartPole-v1's "solved" level).
        path: if given, also save the figure there as PNG.
    """
    steps, returns = np.asarray(steps), np.asarray(returns, dtype=np.float64)
    fig = Figure(figsize=(7, 3.8), layout="constrained")
    ax = fig.subplots()
    ax.plot(steps, returns, ".", ms=2, alpha=0.3, label="one episode")
    if len(returns):
        cumsum = np.cumsum(np.insert(returns, 0, 0.0))
        ends = np.arange(1, len(returns) + 1)
        starts = np.maximum(0, ends - window)
        running = (cumsum[ends] - cumsum[starts]) / (ends - starts)
        ax.plot(steps, running, lw=2, label=f"mean of the last {window} episodes")
    if target is not None:
        ax.axhline(target, color="k", ls="--", lw=1, label=f"target {target:g}")
    ax.set_xlabel("environment steps (all envs)")
    ax.set_ylabel("episode return (sum of rewards)")
    integer_ticks(ax, steps)
    ax.grid(alpha=0.3)
    legend_outside(ax, ncol=3)
    if path is not None:
        save_figure(fig, path)
    return fig
