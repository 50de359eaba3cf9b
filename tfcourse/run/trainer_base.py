"""The template every trainer follows (``MLPTrainer``, ``SineTrainer``, ``A2CTrainer``).

:class:`TrainerBase` owns what every run does: its ``__init__`` resolves the config, creates
the :class:`~tfcourse.scale.scale_out.ScaleOut` (first: a multi-worker strategy must exist
before any other TensorFlow work), checks that the batch splits over the replicas, checks the
name and ``--logdir`` and seeds everything, then opens the :class:`~tfcourse.run.lifecycle.Run`
(new or resumed) around what the checkpoints hold. :meth:`TrainerBase.fit` is the loop: one
unit (an epoch, a chunk of steps, an update) after another until the configured length, each
one's loss checked for NaN before anything is logged or saved, the run's lock released also
when training fails.

A new tutorial writes its config, its model and step, and a subclass with:

* ``split`` (the config field split over the replicas) and ``unit`` (``"epoch"``, ...);
* :meth:`~TrainerBase._build`: data, model and optimizer (under ``self.scale.scope()``),
  returning what a checkpoint holds and the run's ``progress`` tuple;
* :meth:`~TrainerBase._position`: units done and the target; :meth:`~TrainerBase._begin`:
  what one ``fit()`` keeps (histories, a progress bar);
* :meth:`~TrainerBase._unit`: one epoch or update: trains, returns the loss to check and
  its numbers; :meth:`~TrainerBase._after_unit`: logs, checkpoints, progress;
* :meth:`~TrainerBase._finish`: the final metrics (``return self.run.finish(metrics)``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from tfcourse.run import summaries
from tfcourse.run.lifecycle import Run, check_loss, prepare
from tfcourse.scale.scale_out import ScaleOut

OnUpdate = Callable[[int, dict[str, Any]], None]


class TrainerBase:
    """Base class of the trainers; see the module docstring.

    Args:
        config: the run's settings (a dataclass with ``resolved()``, ``strategy``,
            ``precision``, ``jit``, ``name``, ``logdir``, ``seed`` and ``resume``).

    Attributes:
        config: the resolved settings. scale: the :class:`ScaleOut`. run: the :class:`Run`.
        run_dir: the run folder. restored_from: the checkpoint resumed from, or None.
    """

    split: str  # the config field each step splits over the replicas, e.g. "batch_size"
    unit: str  # what _position counts, for messages: "epoch", "step", "env step"
    must_match: tuple[str, ...] = ()  # fields a resumed run must share with this one
    hint: str = "lower --lr"  # the fix named when the loss diverges

    config: Any
    model: Any
    run: Run

    def __init__(self, config: Any) -> None:
        cfg = self.config = config.resolved()
        self.scale = ScaleOut(cfg.strategy, cfg.precision, cfg.jit)  # before any variable
        self.scale.check_divisible(getattr(cfg, self.split), self.split.replace("_", "-"))
        prepare(cfg)
        progress, trackables = self._build()
        self.run = Run(cfg, self.scale.chief, self.must_match, progress, **trackables)
        self.run_dir, self.restored_from = self.run.dir, self.run.restored_from

    def _build(self) -> tuple[tuple[str, int, str], dict[str, Any]]:
        """Create the data, model, optimizer and counters.

        Returns:
            ``(progress, trackables)``: the run's ``(done_key, target, flag)`` (see
            :class:`Run`) and what a checkpoint holds (``model=..., optimizer=..., ...``).
        """
        raise NotImplementedError

    def _position(self) -> tuple[int, int]:
        """``(done, target)`` in units of ``unit``: training stops when done reaches target."""
        raise NotImplementedError

    def _begin(self) -> None:
        """Set up what this ``fit()`` keeps until :meth:`_finish` (histories, a progress bar)."""

    def _unit(self) -> tuple[float, dict[str, Any]]:
        """Train one epoch, chunk or update; return its loss (checked) and its numbers."""
        raise NotImplementedError

    def _after_unit(self, step: int, row: dict[str, Any], seconds: float) -> bool:
        """Log, checkpoint and show progress after a unit ending at ``step`` that took
        ``seconds``; return True to stop before the target."""
        raise NotImplementedError

    def _finish(self) -> dict[str, Any]:
        """Write the outputs; return ``self.run.finish(metrics)``."""
        raise NotImplementedError

    def _example_input(self) -> tf.Tensor | None:
        """One input batch to trace the model's graph for TensorBoard with (None: no graph)."""
        return None

    def fit(self, on_update: OnUpdate | None = None) -> dict[str, Any]:
        """Train to the configured length (continuing a restored run), then write the outputs.

        Args:
            on_update: called after every unit with its end step and numbers (e.g. to time
                steady-state speed or sample memory, as scripts/bench_a2c.py does).

        Returns:
            The metrics also written to ``metrics.json``.

        Raises:
            RunError: the loss became NaN or infinite (no ``metrics.json`` is written; the
                message names the last good checkpoint).
        """
        try:
            done, target = self._position()
            self.run.say_resumed(self.unit, done, target)
            if self.restored_from is None:
                self.log_new_run(self._example_input())
            self._begin()
            while self._position()[0] < target:
                t0 = time.perf_counter()
                loss, row = self._unit()
                seconds = time.perf_counter() - t0
                step = self._position()[0]
                check_loss(loss, step, self.unit, self.run.latest_checkpoint, self.hint)
                if on_update is not None:
                    on_update(step, row)
                if self._after_unit(step, row, seconds):
                    break
            return self._finish()
        finally:
            self.run.release()  # also when training stops with an error

    def log_new_run(self, example: tf.Tensor | None = None) -> None:
        """A new run's TensorBoard extras: its hyper-parameters and the model's graph.

        Args:
            example: one input batch (e.g. [1, 784]) to trace the forward pass with; None
                writes no graph.
        """
        summaries.log_hparams(self.run.writer, self.config)  # the fields marked hparam
        if example is not None:
            summaries.trace_graph(self.run.writer, tf.function(self.model.__call__), example)


def typical_rate(rates: list[float]) -> float:
    """Median of per-call rates, leaving out the first (it includes tracing and compiling)."""
    return float(np.median(rates[1:] or rates or [0.0]))
