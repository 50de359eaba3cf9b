"""How far a run got: finished runs (``metrics.json``) and runs whose loss diverged.

``metrics.json`` is written only when training ends, so its counters (``epochs_completed``,
``steps_completed``) tell whether a ``--resume`` has anything left to do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tfcourse.errors import RunError
from tfcourse.safe_write import load_json

METRICS_FILE = "metrics.json"


def load_metrics(run: str | os.PathLike) -> dict[str, Any] | None:
    """The run's ``metrics.json`` (written when it finished), or None if it has none yet.

    Raises:
        RunError: ``metrics.json`` exists but is corrupt.
    """
    path = Path(run) / METRICS_FILE
    return load_json(path) if path.exists() else None


def check_not_finished(run: str | os.PathLike, done_key: str, target: int, flag: str) -> int:
    """Refuse to resume a run that already did ``target`` units; return the units done.

    ``metrics.json`` is written only at the end of training, so its ``done_key`` (e.g.
    ``"epochs_completed"``, ``"steps_completed"``) tells how far a finished run got.

    Args:
        run: the run folder being resumed.
        done_key: the metrics key counting completed units.
        target: the units this resume asks for in total (e.g. ``config.epochs``).
        flag: the CLI flag that sets ``target``, e.g. ``"--epochs"``.

    Returns:
        Units the earlier finished part completed (0 if the run never finished: resume it).

    Raises:
        RunError: the run already completed ``target`` or more; the message says how to
            train on (a larger ``flag``) or start afresh.
    """
    metrics = load_metrics(run)
    done = metrics.get(done_key) if metrics else None
    if not isinstance(done, int | float) or isinstance(done, bool):
        return 0
    if done >= target:
        raise RunError(
            f"--resume: run {run} is finished ({done_key} {int(done)} of {target} in "
            f"{METRICS_FILE}); nothing to do. Pass {flag} larger than {int(done)} to train on, "
            "or drop --resume to start a new run"
        )
    return int(done)


def check_loss(
    loss: float, step: int, unit: str = "epoch", checkpoint: str | None = None, hint: str = ""
) -> float:
    """Stop a run whose loss became NaN or infinite, saying where and what to do.

    Call it on the host with the loss of each epoch/chunk (a Python float: no extra
    device work), *before* saving that epoch's checkpoint, so the last checkpoint stays good.

    Args:
        loss: the loss just computed.
        step: the epoch or step it belongs to.
        unit: ``"epoch"`` or ``"step"``, for the message.
        checkpoint: the newest good checkpoint, named in the message when given.
        hint: the fix, e.g. ``"lower --lr (it is 1000)"``; a generic one by default.

    Returns:
        ``loss`` unchanged when it is finite.

    Raises:
        RunError: the loss is NaN or ±inf.
    """
    value = float(loss)
    if value == value and abs(value) != float("inf"):
        return loss
    kept = f"; the last good checkpoint is {checkpoint}" if checkpoint else ""
    fix = hint or "lower --lr, or check the inputs for NaN"
    raise RunError(f"the loss became {value} at {unit} {step}, so training stopped{kept}; {fix}")
