"""Scale-out around a plain step: strategy, replica split, all-reduce, loss scaling, XLA.

Each lesson writes its gradient step as a plain function of its model, optimizer and one batch
(:func:`tfcourse.mlp.model.train_step`, :func:`tfcourse.review.sine.train_step`,
:func:`tfcourse.rl.a2c.a2c_step`). :class:`ScaleOut` turns such a step into what a trainer
runs, without the step knowing::

    scale = ScaleOut("mirrored", "mixed_float16", jit=True)
    with scale.scope():                      # variables mirrored on every replica
        model = MLP(..., compute_dtype=scale.compute_dtype)
        optimizer = scale.optimizer(keras.optimizers.Adam(1e-3), model.params)
    run_steps = scale.steps(lambda x, y: mlp.train_step(model, optimizer, x, y, batch_size=100))
    sums = run_steps(xs, ys)                 # xs [k, 100, 784]: k steps in one compiled call

* **strategy** (:mod:`tfcourse.scale.distribute`): ``default`` (one device), ``mirrored`` or
  ``multiworker``; each global batch is split into one equal slice per replica
  (:func:`~tfcourse.scale.distribute.distribute_batch`) and the step runs once per replica
  (``strategy.run``). The step's ``optimizer.apply_gradients`` all-reduces (sums) the
  gradients, so a step must weight its loss for the GLOBAL batch (``batch_size=...``), and
  the values it returns are per-replica shares that :meth:`ScaleOut.step` adds up.
* **loss scaling** (:mod:`tfcourse.scale.precision`): under ``mixed_float16`` the optimizer is a
  ``LossScaleOptimizer``; the step's ``optimizer.scale_loss(loss)`` then multiplies by the
  scale and ``apply_gradients`` divides it out (both are no-ops for a plain optimizer).
* **XLA** (``jit``): with the default strategy the whole call, every step in it, is one XLA
  program. The all-reduce of a distributed step cannot live inside XLA, so ``jit`` applies to
  the default strategy only.
* **steps per call**: :meth:`ScaleOut.steps` runs one step per row of its stacked inputs in one
  compiled call (unrolled when their number is static), saving a Python round trip per step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import tensorflow as tf

from tfcourse.scale import distribute as dist
from tfcourse.scale.precision import compute_dtype, wrap_optimizer

Step = Callable[..., dict[str, tf.Tensor]]


class ScaleOut:
    """One process's strategy and precision, and the compiled versions of its steps.

    Args:
        strategy: ``default``, ``mirrored`` or ``multiworker`` (created first: a multi-worker
            strategy must exist before any other TensorFlow work).
        precision: ``float32`` or ``mixed_float16``.
        jit: XLA-compile the steps (default strategy only, see the module docstring).
    """

    def __init__(self, strategy: str, precision: str = "float32", jit: bool = True) -> None:
        self.strategy = dist.make_strategy(strategy)
        self.distributed = strategy != "default"
        self.precision = precision
        self.compute_dtype = compute_dtype(precision)
        self.jit = jit and not self.distributed
        self.replicas = self.strategy.num_replicas_in_sync
        self.chief = dist.is_chief(self.strategy)

    def check_divisible(self, global_batch: int, what: str) -> None:
        """Raise ``ConfigError`` unless ``global_batch`` splits evenly over the replicas."""
        dist.check_divisible(global_batch, self.strategy, what)

    def scope(self) -> Any:
        """Create variables under this: one mirrored copy per replica."""
        return self.strategy.scope()

    def optimizer(
        self, optimizer: keras.optimizers.Optimizer, variables: Sequence[tf.Variable]
    ) -> keras.optimizers.Optimizer:
        """``optimizer`` with loss scaling under mixed precision, its slots built for
        ``variables`` (so they exist before tracing and restoring). Call inside :meth:`scope`."""
        optimizer = wrap_optimizer(optimizer, self.precision)
        optimizer.build(list(variables))
        return optimizer

    def _replicated(self, step: Step, axes: Sequence[int], mean: Sequence[str]) -> Step:
        """``step`` on one global batch: split over the replicas, run, reduce the shares."""
        strategy = self.strategy

        def on_replicas(*batch: tf.Tensor) -> dict[str, tf.Tensor]:
            if self.replicas > 1:  # replica i gets the i-th slice of every tensor, on its axis
                batch = tuple(
                    dist.distribute_batch(strategy, t, axis=axis)[0]
                    for t, axis in zip(batch, _per_tensor(axes, len(batch)), strict=True)
                )
            shares = strategy.run(step, args=batch)
            return {
                key: strategy.reduce(
                    tf.distribute.ReduceOp.MEAN if key in mean else tf.distribute.ReduceOp.SUM,
                    value,
                    axis=None,
                )
                for key, value in shares.items()
            }

        return on_replicas

    def step(
        self, step: Step, axes: int | Sequence[int] = 0, mean: Sequence[str] = ()
    ) -> Callable[..., dict[str, tf.Tensor]]:
        """Compile ``step(*batch) -> {name: scalar}`` for one global batch per call.

        Args:
            step: a plain step function of the batch tensors (model, optimizer and settings
                bound, e.g. with a lambda).
            axes: the axis each batch tensor is split along over the replicas (one int for all).
            mean: names of returned values that are the same on every replica (averaged);
                the others are shares of a whole-batch value (summed).
        """
        return tf.function(self._replicated(step, axes, mean), jit_compile=self.jit)

    def steps(
        self, step: Step, axes: int | Sequence[int] = 0, mean: Sequence[str] = ()
    ) -> Callable[..., dict[str, tf.Tensor]]:
        """Compile ``step`` to run once per row of stacked batches: ``xs [k, batch, ...]``.

        Returns:
            A function of the stacked tensors returning each value summed over the ``k`` steps.
        """
        one = self._replicated(step, axes, mean)

        def run(*stacked: tf.Tensor) -> dict[str, tf.Tensor]:
            k = stacked[0].shape[0]
            if k is not None:  # a static count: unrolled, one graph with k steps in a row
                outs = [one(*(t[j] for t in stacked)) for j in range(k)]
                return {key: tf.add_n([out[key] for out in outs]) for key in outs[0]}
            # a graph loop, whose sums start at zeros shaped like one step's outputs (traced
            # aside, so that the program holds one copy of the step)
            specs = [tf.TensorSpec(t.shape[1:], t.dtype) for t in stacked]
            outputs = tf.function(one).get_concrete_function(*specs).structured_outputs
            totals = {key: tf.zeros(v.shape, v.dtype) for key, v in outputs.items()}
            for i in tf.range(tf.shape(stacked[0])[0]):
                out = one(*(t[i] for t in stacked))
                totals = {key: totals[key] + out[key] for key in totals}
            return totals

        return tf.function(run, jit_compile=self.jit)


def _per_tensor(axes: int | Sequence[int], n: int) -> Sequence[int]:
    """One split axis per batch tensor."""
    return [axes] * n if isinstance(axes, int) else axes
