"""A2C, the lesson in one file: the three losses, the targets of a rollout and the update step.

Read top to bottom: :func:`critic_loss`, :func:`actor_loss` and :func:`entropy` are plain
functions of explicit tensors; :func:`total_loss` combines them as
``total = actor + critic - entropy_coef * mean(entropy)`` (the critic's weight lives in one
place only, :func:`critic_loss`'s ``coef``, default 0.5, the tutorial's ``CRITIC_LOSS_WEIGHT``).
:func:`a2c_batch` turns one rollout into transitions and their targets (truncation bootstrap,
the critic's values, GAE), :func:`a2c_loss` is the forward pass and the three terms of such a
batch, and :func:`a2c_step` is the gradient step the trainer runs (tape, gradient, apply).
:class:`tfcourse.scale.scale_out.ScaleOut` compiles that step and, with ``--strategy mirrored``,
runs it once per replica on its share of the batch.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import keras
import tensorflow as tf

from tfcourse.errors import ConfigError
from tfcourse.rl import returns as R
from tfcourse.rl.model import ActorCritic
from tfcourse.rl.returns import _check_same

CRITIC_COEF = 0.5  # the tutorial's CRITIC_LOSS_WEIGHT
ENTROPY_COEF = 0.05  # the tutorial's ENTROPY_LOSS_WEIGHT
REDUCTIONS = ("sum", "mean")


def batch_mean(x) -> tf.Tensor:
    """The mean of ``x`` over its batch, ``sum(x) / batch size``, a scalar.

    ``tf.nn.compute_average_loss`` divides by the size of the WHOLE batch, also when
    ``tf.distribute`` gives each replica a slice of it, so that the replicas' losses add up to
    the loss of the batch; on one device it is ``tf.reduce_mean``.
    """
    return tf.nn.compute_average_loss(tf.reshape(x, [-1]))


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
    return coef * batch_mean(tf.square(returns - values))


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
    return tf.reduce_sum(weighted) if reduction == "sum" else batch_mean(weighted)


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
    mean_entropy = batch_mean(entropy(logits))
    total = actor + critic - entropy_coef * mean_entropy
    return {"total": total, "actor": actor, "critic": critic, "entropy": mean_entropy}


class Batch(NamedTuple):
    """A rollout as one batch of ``T * n`` transitions with their targets (all [T * n] but obs)."""

    obs: tf.Tensor  # [T * n, obs_dim]
    actions: tf.Tensor
    advantages: tf.Tensor  # how much better each action was than the critic expected
    returns: tf.Tensor  # what the critic learns


def a2c_batch(model: ActorCritic, rollout: Any, hp: Any) -> Batch:
    """The transitions of one rollout of ``T`` steps of ``n`` envs and their targets.

    Computed once, before the gradient step, from the critic's values (no gradient flows into
    them), as Stable-Baselines3's rollout buffer does: rewards scaled, the truncation bootstrap,
    GAE(λ) from ``V(s_t)`` and ``V(s_T)``, and the advantages z-scored if asked.

    Args:
        model: the :class:`~tfcourse.rl.model.ActorCritic`.
        rollout: a :class:`~tfcourse.rl.rollout.Rollout` (numpy arrays or tensors): obs
            [T, n, obs_dim], actions, rewards, dones, truncations, final_values [T, n] and
            last_obs [n, obs_dim].
        hp: the settings (an :class:`~tfcourse.rl.config.A2CConfig`): ``gamma``, ``lam``,
            ``reward_scale``, ``normalize_advantages``.
    """
    obs = tf.convert_to_tensor(rollout.obs)
    obs = tf.reshape(obs, [-1, obs.shape[-1]])  # [T * n, obs_dim]
    # a time limit is not an end: gamma * V(final_obs) joins the reward of a truncated step
    rewards = R.bootstrap_truncated(
        rollout.rewards * hp.reward_scale, rollout.truncations, rollout.final_values, hp.gamma
    )
    values = tf.reshape(model(obs)[0], tf.shape(rollout.actions))  # V(s_t), [T, n]
    bootstrap_value = model(rollout.last_obs)[0]  # V(s_T), [n]
    advantages, returns = R.gae_advantages(
        rewards, values, rollout.dones, bootstrap_value, hp.gamma, hp.lam
    )
    if hp.normalize_advantages:
        advantages = R.normalize(advantages)
    flat = lambda t: tf.stop_gradient(tf.reshape(t, [-1]))  # noqa: E731  [T, n] -> [T * n]
    return Batch(obs, flat(rollout.actions), flat(advantages), flat(returns))


def a2c_loss(model: ActorCritic, batch: Batch, hp: Any) -> dict[str, tf.Tensor]:
    """The A2C loss of a batch of transitions: the forward pass, then :func:`total_loss`.

    Args:
        model: the :class:`~tfcourse.rl.model.ActorCritic`.
        batch: from :func:`a2c_batch`.
        hp: ``entropy_coef`` and ``actor_reduction``.

    Returns:
        ``{"total", "actor", "critic", "entropy"}`` scalars.
    """
    values, logits = model(batch.obs)
    return total_loss(
        logits,
        values,
        batch.actions,
        batch.returns,
        batch.advantages,
        entropy_coef=hp.entropy_coef,
        reduction=hp.actor_reduction,
    )


def a2c_step(
    model: ActorCritic, optimizer: keras.optimizers.Optimizer, batch: Batch, hp: Any
) -> dict[str, tf.Tensor]:
    """One A2C update: the gradient of :func:`a2c_loss`, applied by the optimizer.

    Clipping is the optimizer's: one built with ``global_clipnorm=hp.max_grad_norm`` (e.g.
    ``keras.optimizers.RMSprop(lr, global_clipnorm=0.5)``) scales the gradient down to that
    global norm, as the trainer's does with ``--max-grad-norm``.

    Returns:
        ``{"total", "actor", "critic", "entropy"}``: the losses before the update.
    """
    with tf.GradientTape() as tape:
        losses = a2c_loss(model, batch, hp)
        scaled = optimizer.scale_loss(losses["total"])  # x the loss scale under mixed precision
    grads = tape.gradient(scaled, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
    return losses
