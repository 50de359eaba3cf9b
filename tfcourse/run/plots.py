"""Figures saved as PNG: learning curves and a grid of misclassified images.

Functions build a ``matplotlib.figure.Figure`` directly (no pyplot global state), so they work
the same in scripts, tests and notebooks (where the returned figure displays inline). Files are
written atomically.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from tfcourse.safe_write import atomic_write_bytes


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 100) -> None:
    """Render ``fig`` to PNG bytes in memory, then write them atomically to ``path``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())


def legend_outside(ax: Axes, ncol: int = 2) -> None:
    """Put ``ax``'s legend just above the axes, where it cannot hide any data."""
    ax.legend(
        loc="lower left", bbox_to_anchor=(0.0, 1.01, 1.0, 0.1), ncol=ncol,
        borderaxespad=0.0, frameon=False, fontsize="small",
    )  # fmt: skip


def integer_ticks(ax: Axes, x: Sequence[float]) -> None:
    """Integer-only x ticks (epochs, steps); a single x value gets a window around it."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    if len(x) and max(x) - min(x) < 1:  # one point: MaxNLocator alone would give 0.945, ...
        pad = max(0.5, 0.05 * abs(float(max(x))))
        ax.set_xlim(min(x) - pad, max(x) + pad)


def plot_curves(
    history: Mapping[str, Sequence[float]],
    xlabel: str = "epoch",
    title: str = "",
    path: str | os.PathLike | None = None,
    x: Sequence[int] | None = None,
) -> Figure:
    """Plot one line per series; series whose name contains "loss" or "objective" go left.

    The x axis has integer ticks only and each panel's legend sits above it, off the data.

    Args:
        history: e.g. ``{"train_loss": [...], "test_loss": [...], "test_accuracy": [...]}``,
            one value per point of ``x``.
        xlabel: x-axis label.
        title: figure title.
        path: if given, also save the figure there as PNG.
        x: [points] integer positions, e.g. step numbers; default ``1, 2, ...`` (epochs).
    """
    fig = Figure(figsize=(9, 3.8), layout="constrained")
    ax_loss, ax_other = fig.subplots(1, 2)
    for key, values in history.items():
        ax = ax_loss if "loss" in key or "objective" in key else ax_other
        xs = np.arange(1, len(values) + 1) if x is None else np.asarray(x)[: len(values)]
        ax.plot(xs, values, marker="o", ms=3, label=key)
    for ax, ylabel in ((ax_loss, "loss"), (ax_other, "value")):
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if ax.lines:
            integer_ticks(ax, np.concatenate([line.get_xdata() for line in ax.lines]))
            legend_outside(ax)
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
    wrong = np.flatnonzero(np.asarray(labels) != np.asarray(predictions))[:max_images]
    cols = 5
    rows = max(1, int(np.ceil(len(wrong) / cols)))
    fig = Figure(figsize=(2 * cols, 2.2 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    name = (lambda c: class_names[c]) if class_names else str
    side = round(float(np.sqrt(np.asarray(images[0]).size)))
    for ax in axes:
        ax.axis("off")
    for ax, i in zip(axes, wrong, strict=False):
        ax.imshow(np.asarray(images[i]).reshape(side, side), cmap="gray_r")
        ax.set_title(f"true {name(labels[i])}\npred {name(predictions[i])}", fontsize=8)
    fig.suptitle(f"{len(wrong)} misclassified test images" if len(wrong) else "no mistakes")
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
    ax.plot(steps, returns, ".", ms=2, alpha=0.3, label="episode return")
    if len(returns):
        cumsum = np.cumsum(np.insert(returns, 0, 0.0))
        ends = np.arange(1, len(returns) + 1)
        starts = np.maximum(0, ends - window)
        running = (cumsum[ends] - cumsum[starts]) / (ends - starts)
        ax.plot(steps, running, lw=2, label=f"mean of last {window}")
    if target is not None:
        ax.axhline(target, color="k", ls="--", lw=1, label=f"target {target:g}")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("return")
    integer_ticks(ax, steps)
    ax.grid(alpha=0.3)
    legend_outside(ax, ncol=3)
    if path is not None:
        save_figure(fig, path)
    return fig
