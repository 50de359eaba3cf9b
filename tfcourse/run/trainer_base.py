"""What the compiled trainers share (``MLPTrainer``, ``SineTrainer``): ``fit()``, a new run's
TensorBoard extras and the typical speed.

A trainer sets ``config``, ``model`` and ``run`` (a :class:`tfcourse.run.lifecycle.Run`) in its
``__init__`` and defines ``_fit()``, its training loop, which returns the metrics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from tfcourse.run import summaries
from tfcourse.run.lifecycle import Run


class TrainerBase:
    """Base class of the compiled trainers; see the module docstring."""

    config: Any
    model: tf.Module
    run: Run

    def fit(self) -> dict[str, Any]:
        """Train to the configured length (continuing a restored run), then write the outputs.

        Returns:
            The metrics also written to ``metrics.json``.

        Raises:
            RunError: the loss became NaN or infinite (no ``metrics.json`` is written; the
                message names the last good checkpoint).
        """
        try:
            return self._fit()
        finally:
            self.run.release()  # also when training stops with an error

    def _fit(self) -> dict[str, Any]:
        raise NotImplementedError

    def log_new_run(self, example: tf.Tensor) -> None:
        """A new run's TensorBoard extras: its hyper-parameters and the model's graph.

        Args:
            example: one input batch (e.g. [1, 784]) to trace the forward pass with.
        """
        summaries.log_hparams(self.run.writer, self.config)  # the fields marked hparam
        summaries.trace_graph(self.run.writer, tf.function(self.model.__call__), example)


def typical_rate(rates: list[float]) -> float:
    """Median of per-call rates, leaving out the first (it includes tracing and compiling)."""
    return float(np.median(rates[1:] or rates or [0.0]))
