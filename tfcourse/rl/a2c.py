"""A2C, the lesson in one file: the three losses, the loss of a rollout and the update step.

Read top to bottom: :func:`critic_loss`, :func:`actor_loss` and :func:`entropy` are plain
functions of explicit tensors; :func:`total_loss` combines them as
``total = actor + critic - entropy_coef * mean(entropy)`` (the critic's weight lives in one
place only, :func:`critic_loss`'s ``coef``, default 0.5, the tutorial's ``CRITIC_LOSS_WEIGHT``).
:func:`a2c_loss` turns one rollout into those losses (truncation bootstrap, forward pass of the
:class:`~tfcourse.rl.model.ActorCritic`, GAE, the three terms), and :func:`a2c_step` is the
gradient step the trainer runs (tape, clip, apply). :mod:`tfcourse.scale.scale_out` compiles that
step and, with ``--strategy mirrored``, runs it once per replica on its share of the envs.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfcourse.errors import ConfigError
from tfcourse.rl import returns as R
from tfcourse.rl.model import ActorCritic
from tfcourse.rl.returns import _check_same

CRITIC_COEF = 0.5  # the tutorial's CRITIC_LOSS_WEIGHT
ENTROPY_COEF = 0.05  # the tutorial's ENTROPY_LOSS_WEIGHT
REDUCTIONS = ("sum", "mean")


def critic_loss(returns, values, coef: float = CRITIC_COEF) -> tf.Tensor:
    """Weighted mean squared error ``coef * mean((returns - values)**2)``, a float32 scalar.

    The default ``coef = 0.5`` is the tutorial's ``CRITIC_LOSS_WEIGHT``: its ``critic_loss``
    multiplies the MSE by it too. ``returns`` are targets: no gradient flows into them.

    Args:
        returns: [batch] (or [T, n_envs]) bootstrapped discounted returns.
        values: same shape, the critic's predictions.
        coef: weight of the critic's term in the total loss.
    """
    returns = tf.stop_gradient(tf.cast(returns, tf.float32))
    values = tf.cast(values, tf.float32)
    _check_same("returns", returns, values=values)
    return coef * tf.reduce_mean(tf.square(returns - values))


def actor_loss(logits, actions, advantages, reduction: str = "sum") -> tf.Tensor:
    """Policy-gradient loss ``-Σ_t log π(a_t|s_t) · A_t`` (or its mean), a float32 scalar.

    ``-log π(a|s)`` is the sparse softmax cross-entropy of the logits with the taken action as
    label, so this is the tutorial's ``SparseCategoricalCrossentropy(from_logits=True)`` with the
    advantages as ``sample_weight``. The advantages are constants (``tf.stop_gradient``): only
    the policy is pushed, not the critic through them.

    Args:
        logits: [batch, n_actions].
        actions: [batch] integer actions taken (floats are cast).
        advantages: [batch].
        reduction: ``"sum"`` (the tutorial's) or ``"mean"`` (sum / batch).
    """
    if reduction not in REDUCTIONS:
        raise ConfigError(f"unknown reduction {reduction!r}; choose one of {', '.join(REDUCTIONS)}")
    logits = tf.cast(logits, tf.float32)
    actions = tf.cast(actions, tf.int32)
    advantages = tf.stop_gradient(tf.cast(advantages, tf.float32))
    _check_same("actions", actions, advantages=advantages, **{"logits[..., 0]": logits[..., 0]})
    neg_log_pi = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=actions, logits=logits)
    weighted = neg_log_pi * advantages
    return tf.reduce_sum(weighted) if reduction == "sum" else tf.reduce_mean(weighted)


def entropy(logits) -> tf.Tensor:
    """Entropy ``H(p) = -Σ_a p_a log p_a`` of ``p = softmax(logits)``, per row: [batch].

    Computed from ``log_softmax`` so that tiny probabilities do not give ``0 * log 0 = nan``.
    The tutorial gets the same number as ``categorical_crossentropy(probs, probs)``: the
    cross-entropy of ``q`` against ``p`` is ``CE(q, p) = -Σ_a q_a log p_a``, and with ``q = p``
    that is exactly ``-Σ_a p_a log p_a = H(p)``.
    """
    log_p = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
    return -tf.reduce_sum(tf.exp(log_p) * log_p, axis=-1)


def total_loss(
    logits,
    values,
    actions,
    returns,
    advantages,
    *,
    critic_coef: float = CRITIC_COEF,
    entropy_coef: float = ENTROPY_COEF,
    reduction: str = "sum",
) -> dict[str, tf.Tensor]:
    """The A2C loss ``total = actor + critic - entropy_coef * mean(entropy)``.

    ``critic`` is ``critic_loss(returns, values, coef=critic_coef)``, already weighted; the
    actor's weight is 1 (the tutorial's ``ACTOR_LOSS_WEIGHT``). Subtracting the entropy rewards
    a less certain policy, which keeps the agent exploring.

    Args:
        logits: [batch, n_actions]; values, actions, returns, advantages: [batch].
        critic_coef: weight of the squared error (default 0.5, as in the tutorial).
        entropy_coef: weight of the entropy bonus (default 0.05, as in the tutorial).
        reduction: of the actor term, ``"sum"`` (tutorial) or ``"mean"``.

    Returns:
        ``{"total", "actor", "critic", "entropy"}`` scalars; ``"entropy"`` is the batch mean.
    """
    for name, coef in (("critic_coef", critic_coef), ("entropy_coef", entropy_coef)):
        if isinstance(coef, (int, float)) and coef < 0:
            raise ConfigError(f"{name} must be >= 0, got {coef}")
    actor = actor_loss(logits, actions, advantages, reduction=reduction)
    critic = critic_loss(returns, values, coef=critic_coef)
    mean_entropy = tf.reduce_mean(entropy(logits))
    total = actor + critic - entropy_coef * mean_entropy
    return {"total": total, "actor": actor, "critic": critic, "entropy": mean_entropy}


def _replicas() -> int:
    """How many replicas run this step together (1 outside ``strategy.run``)."""
    ctx = tf.distribute.get_replica_context()
    return 1 if ctx is None else ctx.num_replicas_in_sync


def _sum_over_replicas(x: Any) -> Any:
    """``x`` summed over the replicas (``x`` itself on one device); nested lists allowed."""
    if _replicas() == 1:
        return x
    return tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, x)


def _normalize(advantages: tf.Tensor) -> tf.Tensor:
    """z-score the advantages over the WHOLE rollout (every replica's env columns)."""
    if _replicas() == 1:
        return R.normalize(advantages)
    count = _sum_over_replicas(tf.cast(tf.size(advantages), tf.float32))
    mean = _sum_over_replicas(tf.reduce_sum(advantages)) / count
    var = _sum_over_replicas(tf.reduce_sum(tf.square(advantages - mean))) / count
    return (advantages - mean) / (tf.sqrt(var) + 1e-8)


def a2c_loss(model: ActorCritic, rollout: Any, hp: Any) -> dict[str, tf.Tensor]:
    """The A2C loss of one rollout of ``T`` steps of ``n`` envs.

    Args:
        model: the :class:`~tfcourse.rl.model.ActorCritic`.
        rollout: a :class:`~tfcourse.rl.rollout.Rollout` (numpy arrays or tensors): obs
            [T, n, obs_dim], actions, rewards, dones, truncations, final_values [T, n] and
            last_obs [n, obs_dim].
        hp: the settings (an :class:`~tfcourse.rl.config.A2CConfig`): ``gamma``, ``lam``,
            ``reward_scale``, ``entropy_coef``, ``actor_reduction``, ``normalize_advantages``.

    Returns:
        ``{"total", "actor", "critic", "entropy"}`` scalars. When a strategy runs this once per
        replica on its env columns, each is that replica's share: the mean terms are divided
        by the replica count (a summed actor term is not), so the shares add up to the loss of
        the whole rollout.
    """
    shape = tf.shape(rollout.actions)  # [T, n]
    # a time limit is not an end: gamma * V(final_obs) joins the reward of a truncated step
    rewards = R.bootstrap_truncated(
        rollout.rewards * hp.reward_scale, rollout.truncations, rollout.final_values, hp.gamma
    )
    # the forward pass over all T * n observations, and V(s_T) after the last step
    obs = tf.convert_to_tensor(rollout.obs)
    values, logits = model(tf.reshape(obs, [-1, obs.shape[-1]]))
    bootstrap_value = tf.stop_gradient(model(rollout.last_obs)[0])
    # GAE(lam): the advantages, and the returns the critic learns (both constants)
    advantages, returns = R.gae_advantages(
        rewards, tf.reshape(tf.stop_gradient(values), shape), rollout.dones, bootstrap_value,
        hp.gamma, hp.lam,
    )  # fmt: skip
    if hp.normalize_advantages:
        advantages = _normalize(advantages)
    flat = lambda t: tf.reshape(t, [-1])  # noqa: E731  [T, n] -> [T * n], as values and logits
    losses = total_loss(
        logits, values, flat(rollout.actions), flat(returns), flat(advantages),
        entropy_coef=hp.entropy_coef, reduction=hp.actor_reduction,
    )  # fmt: skip
    replicas = _replicas()
    if replicas == 1:
        return losses
    share = 1.0 / replicas
    actor = losses["actor"] * (1.0 if hp.actor_reduction == "sum" else share)
    critic, mean_entropy = losses["critic"] * share, losses["entropy"] * share
    total = actor + critic - hp.entropy_coef * mean_entropy
    return {"total": total, "actor": actor, "critic": critic, "entropy": mean_entropy}


def clip_by_global_norm(
    grads: list[tf.Tensor], max_norm: float, optimizer: keras.optimizers.Optimizer
) -> tuple[list[tf.Tensor], tf.Tensor]:
    """Multiply every gradient by ONE factor, ``max_norm / max(norm, max_norm)``.

    ``norm`` is the global norm of the whole rollout's gradient: under a strategy, of the SUM
    of the replicas' shares (scaling each share by that factor and letting the optimizer add
    them up gives exactly the clipped single-device gradient; clipping each share by its own
    norm would not). A loss scale is divided out of the norm first.

    Args:
        grads: the gradients (loss-scaled under mixed precision); max_norm: 0 = no clipping.
        optimizer: the optimizer about to apply them.

    Returns:
        ``(grads, norm)``. Under a loss scale the gradients stay scaled, and a non-finite norm
        turns them all into NaN so that every replica's ``LossScaleOptimizer`` skips the step.
    """
    norm = tf.linalg.global_norm(_sum_over_replicas(grads))
    loss_scaled = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    if loss_scaled:
        norm = norm / tf.cast(optimizer.dynamic_scale, norm.dtype)
    if max_norm > 0:  # a NaN factor when the norm is not finite
        grads, _ = tf.clip_by_global_norm(grads, max_norm, use_norm=norm)
    elif loss_scaled and _replicas() > 1:
        grads = [tf.where(tf.math.is_finite(norm), g, np.nan) for g in grads]
    return grads, norm


def a2c_step(
    model: ActorCritic, optimizer: keras.optimizers.Optimizer, rollout: Any, hp: Any
) -> dict[str, tf.Tensor]:
    """One A2C update: the gradient of :func:`a2c_loss`, clipped, applied.

    Arguments as for :func:`a2c_loss`, plus the optimizer (``hp.max_grad_norm``: 0 = no clip).

    Returns:
        ``{"total", "actor", "critic", "entropy", "grad_norm"}`` scalars: the losses before the
        update and the gradient's global norm before clipping.
    """
    with tf.GradientTape() as tape:
        losses = a2c_loss(model, rollout, hp)
        scaled = optimizer.scale_loss(losses["total"])  # x the loss scale under mixed precision
    grads = tape.gradient(scaled, model.trainable_variables)
    grads, grad_norm = clip_by_global_norm(grads, hp.max_grad_norm, optimizer)
    optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
    return {**losses, "grad_norm": grad_norm}
