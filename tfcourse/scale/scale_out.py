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
  compiled call (unrolled up to ``UNROLL`` rows, else a loop inside the program), saving a
  call per step.
* **whole-batch work around a step** (:meth:`ScaleOut.step`): ``prepare`` runs once on the
  global batch before the split (targets that need the whole batch, like the A2C advantages
  z-scored over the rollout), and with ``optimizer=...`` the step is handed a
  :class:`StepOptimizer`, which clips the gradient by the global norm of the WHOLE batch's
  gradient (summed over the replicas, loss scale divided out) and reports that norm.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfcourse.scale import distribute as dist
from tfcourse.scale.precision import compute_dtype, loss_scale, wrap_optimizer

Step = Callable[..., dict[str, tf.Tensor]]
UNROLL = 16  # ScaleOut.steps: more steps per call than this run as a loop in the program


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

    def _replicated(
        self,
        step: Step,
        axes: int | Sequence[int],
        mean: Sequence[str],
        prepare: Callable[..., Sequence[tf.Tensor]] | None = None,
        optimizer: keras.optimizers.Optimizer | None = None,
        clip_norm: float = 0.0,
    ) -> Step:
        """``step`` on one global batch: prepare it, split it over the replicas, run, reduce."""
        strategy = self.strategy
        if optimizer is not None:
            mean = (*mean, "grad_norm")  # the whole batch's norm, the same on every replica

        def on_replica(*shard: tf.Tensor) -> dict[str, tf.Tensor]:
            if optimizer is None:
                return step(*shard)
            sees = StepOptimizer(optimizer, clip_norm)  # one per replica and trace
            out = step(sees, *shard)
            if sees.norm is None:
                raise TypeError("the step never called optimizer.apply_gradients")
            return {**out, "grad_norm": sees.norm}

        def on_replicas(*batch: tf.Tensor) -> dict[str, tf.Tensor]:
            if prepare is not None:  # once, on the whole batch
                batch = tuple(prepare(*batch))
            if self.replicas > 1:  # replica i gets the i-th slice of every tensor, on its axis
                batch = tuple(
                    dist.distribute_batch(strategy, t, axis=axis)[0]
                    for t, axis in zip(batch, _per_tensor(axes, len(batch)), strict=True)
                )
            shares = strategy.run(on_replica, args=batch)
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
        self,
        step: Step,
        axes: int | Sequence[int] = 0,
        mean: Sequence[str] = (),
        *,
        prepare: Callable[..., Sequence[tf.Tensor]] | None = None,
        optimizer: keras.optimizers.Optimizer | None = None,
        clip_norm: float = 0.0,
    ) -> Callable[..., dict[str, tf.Tensor]]:
        """Compile ``step(*batch) -> {name: scalar}`` for one global batch per call.

        Args:
            step: a plain step function of the batch tensors (model, optimizer and settings
                bound, e.g. with a lambda); with ``optimizer`` given, ``step(optimizer, *batch)``.
            axes: the axis each batch tensor is split along over the replicas (one int for all).
            mean: names of returned values that are the same on every replica (averaged);
                the others are shares of a whole-batch value (summed).
            prepare: ``prepare(*batch) -> tensors``, run once on the whole global batch before
                the split; the step gets its outputs as its batch.
            optimizer: hand the step this optimizer as a :class:`StepOptimizer` (its first
                argument): the gradient is clipped to a global norm of ``clip_norm`` (0: not
                clipped) over the whole batch, and ``"grad_norm"`` (before clipping, loss
                scale divided out) joins the returned values.
        """
        replicated = self._replicated(step, axes, mean, prepare, optimizer, clip_norm)
        return tf.function(replicated, jit_compile=self.jit)

    def steps(
        self,
        step: Step,
        axes: int | Sequence[int] = 0,
        mean: Sequence[str] = (),
    ) -> Callable[..., dict[str, tf.Tensor]]:
        """Compile ``step`` to run once per row of stacked batches: ``xs [k, batch, ...]``.

        Up to ``UNROLL`` rows the program holds ``k`` copies of the step in a row; more rows,
        or a ``k`` known only when it runs, make it a loop in the program around one copy
        (a whole epoch per call: no per-call cost, and a compile time that does not grow).

        Returns:
            A function of the stacked tensors returning each value summed over the ``k`` steps.
        """
        one = self._replicated(step, axes, mean)

        def run(*stacked: tf.Tensor) -> dict[str, tf.Tensor]:
            k = stacked[0].shape[0]
            if k is not None and k <= UNROLL:  # unrolled, one graph with k steps in a row
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


class StepOptimizer:
    """The optimizer as a step sees it under :meth:`ScaleOut.step`: it clips, then applies.

    ``apply_gradients`` takes the global norm of the WHOLE batch's gradient: each replica's
    gradient is its share of it, so the norm is that of the shares' sum, with the loss scale
    divided out. Every replica multiplies its share by the same factor
    ``clip_norm / max(norm, clip_norm)``, so the sum the optimizer's all-reduce forms is the
    clipped gradient of the whole batch (clipping each share by its own norm would not be).
    A non-finite norm makes every share NaN, so every replica's ``LossScaleOptimizer`` skips
    the step together.

    Args:
        optimizer: the run's optimizer (a ``LossScaleOptimizer`` under mixed precision).
        clip_norm: the largest global norm let through; 0 = no clipping.

    Attributes:
        norm: the global norm of the last gradient applied, before clipping (None before).
    """

    def __init__(self, optimizer: keras.optimizers.Optimizer, clip_norm: float = 0.0) -> None:
        self.optimizer, self.clip_norm = optimizer, clip_norm
        self.norm: tf.Tensor | None = None

    def scale_loss(self, loss: tf.Tensor) -> tf.Tensor:
        """``loss`` times the loss scale (unchanged without loss scaling)."""
        return self.optimizer.scale_loss(loss)

    def apply_gradients(self, grads_and_vars: Any) -> None:
        """Clip ``(gradient, variable)`` pairs by the whole batch's global norm, then apply."""
        grads, variables = (list(t) for t in zip(*grads_and_vars, strict=True))
        norm = tf.linalg.global_norm(dist.sum_over_replicas(grads))
        scale = loss_scale(self.optimizer)
        if scale is not None:
            norm = norm / tf.cast(scale, norm.dtype)
        if self.clip_norm > 0:  # a NaN factor when the norm is not finite
            grads, _ = tf.clip_by_global_norm(grads, self.clip_norm, use_norm=norm)
        elif scale is not None and dist.replicas_in_sync() > 1:
            grads = [tf.where(tf.math.is_finite(norm), g, np.nan) for g in grads]
        self.norm = norm
        self.optimizer.apply_gradients(zip(grads, variables, strict=True))


def _per_tensor(axes: int | Sequence[int], n: int) -> Sequence[int]:
    """One split axis per batch tensor."""
    return [axes] * n if isinstance(axes, int) else axes
