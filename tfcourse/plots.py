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
from matplotlib.figure import Figure

from tfcourse.rundir import atomic_write_bytes


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 100) -> None:
    """Render ``fig`` to PNG bytes in memory, then write them atomically to ``path``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())


def plot_curves(
    history: Mapping[str, Sequence[float]],
    xlabel: str = "epoch",
    title: str = "",
    path: str | os.PathLike | None = None,
) -> Figure:
    """Plot one line per series; series whose name contains "loss" go on the left panel.

    Args:
        history: e.g. ``{"train_loss": [...], "test_accuracy": [...]}``, one value per epoch.
        xlabel: x-axis label.
        title: figure title.
        path: if given, also save the figure there as PNG.
    """
    fig = Figure(figsize=(9, 3.5))
    ax_loss, ax_other = fig.subplots(1, 2)
    for key, values in history.items():
        ax = ax_loss if "loss" in key else ax_other
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", ms=3, label=key)
    for ax, ylabel in ((ax_loss, "loss"), (ax_other, "value")):
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
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
    fig = Figure(figsize=(7, 3.5))
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
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    if path is not None:
        save_figure(fig, path)
    return fig
