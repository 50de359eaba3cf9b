"""One A2C update: the scaled rewards, truncation bootstrap, GAE, losses, clipping and step of
one rollout, compiled (the trainer's loop, :mod:`tfcourse.rl.trainer`, calls it once per rollout).

``--strategy default`` runs the whole update in one XLA graph. ``--strategy mirrored`` splits
every rollout along its ENV axis over the replicas (returns and advantages are computed per env,
so each replica owns whole env columns); the losses are weighted so that the replicas' gradients
add up to the single-device gradient, and the gradient norm that clipping uses is the norm of
that SUM (see :meth:`A2CUpdate._clip`). XLA compiles each replica's forward/backward pass; the
all-reduces stay outside it. Under ``--precision mixed_float16`` the optimizer is a
``LossScaleOptimizer`` (:mod:`tfcourse.precision`): the gradients are those of the loss-scaled
total, and the scale is divided out of the clipping norm.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from tfcourse import distribute as dist
from tfcourse.precision import scale_loss
from tfcourse.rl import returns as R
from tfcourse.rl.a2c import total_loss
from tfcourse.rl.config import A2CConfig
from tfcourse.rl.rollout import Rollout


class A2CUpdate:
    """The compiled A2C update of a model and its optimizer: ``losses = update(rollout)``."""

    def __init__(
        self,
        config: A2CConfig,
        model: keras.Model,
        optimizer: keras.optimizers.Optimizer,
        strategy: tf.distribute.Strategy,
        global_step: tf.Variable,
    ) -> None:
        cfg = self.config = config
        self.model, self.optimizer, self.global_step = model, optimizer, global_step
        self.strategy = strategy
        self.replicas = strategy.num_replicas_in_sync
        if cfg.strategy == "default":  # the whole update in one XLA graph, as before
            self._update = tf.function(self._update_fn, jit_compile=cfg.jit)
        elif cfg.normalize_advantages and self.replicas > 1:
            # the z-score needs an all-reduce between the forward pass and the losses, and a
            # nested tf.function may not hold one: inline it, without XLA
            self._grads = self._replica_grads
            self._update = tf.function(self._distributed_update_fn)
        else:  # XLA compiles each replica's forward/backward; the all-reduces stay outside it
            self._grads = tf.function(self._replica_grads, jit_compile=cfg.jit)
            self._update = tf.function(self._distributed_update_fn)

    def __call__(self, rollout: Rollout) -> dict[str, tf.Tensor]:
        """One compiled A2C update on ``rollout``: ``{"total", "actor", "critic", "entropy",
        "grad_norm"}`` scalars (losses of the whole rollout, norm before clipping)."""
        return self._update(*(tf.constant(v) for v in dataclasses.astuple(rollout)))

    def _replica_grads(self, obs, actions, rewards, dones, truncations, final_values, last_obs):
        """Losses and gradients of one replica's env columns (shapes as in :class:`Rollout`,
        with ``n = n_envs / replicas``).

        Returns:
            ``(losses, grads)``. Each loss is this replica's share: its mean terms are divided
            by the replica count (all shares are equally large), a summed actor term is not, so
            the shares and their gradients add up to the whole rollout's. The gradients are
            those of the loss-scaled total under mixed precision.
        """
        cfg = self.config
        steps, n = actions.shape
        rewards = R.bootstrap_truncated(
            rewards * cfg.reward_scale, truncations, final_values, cfg.gamma
        )
        with tf.GradientTape() as tape:
            values, logits = self.model(tf.reshape(obs, [steps * n, -1]))
            bootstrap = tf.stop_gradient(self.model(last_obs)[0])
            advantages, returns = R.gae_advantages(
                rewards, tf.reshape(tf.stop_gradient(values), [steps, n]), dones, bootstrap,
                cfg.gamma, cfg.lam,
            )  # fmt: skip
            if cfg.normalize_advantages:
                advantages = self._normalize(advantages)
            losses = total_loss(
                logits, values, tf.reshape(actions, [-1]), tf.reshape(returns, [-1]),
                tf.reshape(advantages, [-1]), entropy_coef=cfg.entropy_coef,
                reduction=cfg.actor_reduction,
            )  # fmt: skip
            if self.replicas > 1:
                share = 1.0 / self.replicas
                actor = losses["actor"] * (1.0 if cfg.actor_reduction == "sum" else share)
                critic, mean_entropy = losses["critic"] * share, losses["entropy"] * share
                total = actor + critic - cfg.entropy_coef * mean_entropy
                losses = {"total": total, "actor": actor, "critic": critic,
                          "entropy": mean_entropy}  # fmt: skip
            scaled = scale_loss(self.optimizer, losses["total"])
        return losses, tape.gradient(scaled, self.model.trainable_variables)

    def _normalize(self, advantages: tf.Tensor) -> tf.Tensor:
        """z-score the advantages over the WHOLE rollout (all replicas' columns)."""
        if self.replicas == 1:
            return R.normalize(advantages)
        ctx, sum_ = tf.distribute.get_replica_context(), tf.distribute.ReduceOp.SUM
        count = float(self.config.n_envs * self.config.n_steps)
        mean = ctx.all_reduce(sum_, tf.reduce_sum(advantages)) / count
        var = ctx.all_reduce(sum_, tf.reduce_sum(tf.square(advantages - mean))) / count
        return (advantages - mean) / (tf.sqrt(var) + 1e-8)

    def _clip(self, grads: list[tf.Tensor], summed: list[tf.Tensor]) -> tuple[list, tf.Tensor]:
        """Clip ``grads`` by the global norm of ``summed``, the gradients of the whole rollout.

        Clipping by global norm multiplies every gradient by ONE factor,
        ``max_grad_norm / max(norm, max_grad_norm)``. On one device ``grads is summed``. Under
        ``mirrored``, ``grads`` are this replica's and ``summed`` their all-reduced sum: scaling
        each replica's share by the factor of the SUM's norm and letting the optimizer add the
        shares up gives exactly the clipped single-device gradient (clipping per replica would
        not). A loss scale is divided out of the norm first.

        Returns:
            ``(clipped grads, norm)``; under a loss scale the gradients stay scaled and a
            non-finite norm turns them all into NaN, so that every replica's
            ``LossScaleOptimizer`` skips the step (it checks only the first replica's).
        """
        cfg = self.config
        norm = tf.linalg.global_norm(summed)
        loss_scaled = isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer)
        if loss_scaled:
            norm = norm / tf.cast(self.optimizer.dynamic_scale, norm.dtype)
        if cfg.max_grad_norm > 0:  # NaN factor when the norm is not finite
            grads, _ = tf.clip_by_global_norm(grads, cfg.max_grad_norm, use_norm=norm)
        elif loss_scaled and self.replicas > 1:
            grads = [tf.where(tf.math.is_finite(norm), g, np.nan) for g in grads]
        return grads, norm

    def _update_fn(self, obs, actions, rewards, dones, truncations, final_values, last_obs):
        """One A2C step on a rollout (shapes in :class:`~tfcourse.rl.rollout.Rollout`)."""
        losses, grads = self._replica_grads(
            obs, actions, rewards, dones, truncations, final_values, last_obs
        )
        grads, grad_norm = self._clip(grads, grads)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables, strict=True))
        steps, n = actions.shape
        self.global_step.assign_add(steps * n)
        return {**losses, "grad_norm": grad_norm}

    def _replica_update(self, *rollout: tf.Tensor) -> dict[str, tf.Tensor]:
        """One replica's part of a distributed step: its gradients, clipped by the global norm."""
        losses, grads = self._grads(*rollout)
        # one all-reduce for the norm of the summed gradients; apply_gradients then all-reduces
        # (sums) the clipped shares itself. Applying pre-summed gradients in cross-replica
        # context instead is refused by LossScaleOptimizer ("must be called in a replica
        # context"); a ~5k-parameter all-reduce costs far less than one env step.
        summed = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, grads)
        grads, grad_norm = self._clip(grads, summed)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables, strict=True))
        return {**losses, "grad_norm": grad_norm}

    def _distributed_update_fn(self, *rollout: tf.Tensor) -> dict[str, tf.Tensor]:
        """Split the rollout's env columns over the replicas, run, and sum the loss shares."""
        # each replica owns whole env columns: axis 1 of the [T, n, ...] tensors, axis 0 of
        # last_obs [n, obs_dim]
        *per_step, last_obs = rollout
        args = (*dist.distribute_batch(self.strategy, *per_step, axis=1),
                *dist.distribute_batch(self.strategy, last_obs))  # fmt: skip
        per_replica = self.strategy.run(self._replica_update, args=args)
        sum_, mean = tf.distribute.ReduceOp.SUM, tf.distribute.ReduceOp.MEAN
        out = {
            k: self.strategy.reduce(mean if k == "grad_norm" else sum_, v, axis=None)
            for k, v in per_replica.items()
        }  # grad_norm is the same on every replica
        steps, n = rollout[1].shape  # actions [T, n_envs]
        self.global_step.assign_add(steps * n)
        return out
