"""Discounted returns, advantages and GAE(λ): pure functions over time-major rollouts.

Every array is time-major: ``[T, n_envs]`` (step ``t`` of every environment in row ``t``), or
``[T]`` for a single environment. ``dones[t]`` (bool or 0/1 float) says that the episode ended
*at* step ``t``, so nothing after it is added to ``rewards[t]``. ``bootstrap_value`` is the
critic's estimate ``V(s_T)`` of the state after the last step; it stands in for all the rewards
the rollout did not see (the tutorial's "bootstrapping")::

    R_T = bootstrap_value
    R_t = r_t + gamma * R_{t+1} * (1 - done_t)

Shapes and the ranges of ``gamma`` / ``lam`` are checked once, from static shapes, when the
function is called eagerly or traced; called eagerly, the values are checked too (``dones``
only 0/1, no NaN or inf). Nothing is added to each step of a compiled graph.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfcourse.errors import ConfigError, ShapeError
from tfcourse.value_checks import check_binary, check_finite


def _shape(x) -> list[int | None] | str:
    shape = tf.TensorShape(x.shape)
    return shape.as_list() if shape.rank is not None else "unknown"


def _is_tf(*xs) -> bool:
    return any(isinstance(x, (tf.Tensor, tf.Variable)) for x in xs)


def _float(x, as_tf: bool):
    """float32 tensor, or a float numpy array (float32 stays float32, ints become float64)."""
    if as_tf:
        return tf.cast(x, tf.float32)
    x = np.asarray(x)
    return x.astype(np.result_type(x.dtype, np.float32), copy=False)


def _check_rates(**rates) -> None:
    """Raise ConfigError if a rate (number or constant tensor) lies outside [0, 1]."""
    for name, value in rates.items():
        static = tf.get_static_value(value) if _is_tf(value) else value
        if static is not None and not 0.0 <= float(static) <= 1.0:
            raise ConfigError(
                f"{name} must lie in [0, 1], got {float(static)}; typical values are "
                "gamma 0.9-0.99 and lam 0.9-0.97"
            )


def _check_same(first: str, x, **others) -> None:
    """Raise ShapeError, naming both shapes, unless every array in ``others`` matches ``x``."""
    for name, y in others.items():
        if not tf.TensorShape(x.shape).is_compatible_with(tf.TensorShape(y.shape)):
            raise ShapeError(
                f"{first} has shape {_shape(x)} but {name} has shape {_shape(y)}; they must "
                "match exactly (squeeze a trailing axis of 1) so nothing broadcasts silently"
            )


def _check_time_major(rewards, **others) -> None:
    """Raise ShapeError unless rewards is [T] or [T, n_envs] and every other array matches."""
    if tf.TensorShape(rewards.shape).rank not in (1, 2):
        raise ShapeError(f"rewards must be time-major [T] or [T, n_envs], got {_shape(rewards)}")
    _check_same("rewards", rewards, **others)


def _check_values(rewards, dones, **others) -> None:
    """Eagerly (at the boundary, never per step of a compiled graph): ``dones`` 0/1, no NaN/inf.

    Raises:
        ShapeError: ``dones`` holds e.g. 2, or rewards/values/bootstrap_value hold NaN or inf.
    """
    if not tf.executing_eagerly():
        return
    check_binary(dones, "dones")
    for name, x in {"rewards": rewards, **others}.items():
        check_finite(np.asarray(x) if not _is_tf(x) else x, name)


def _fit_bootstrap(rewards, value, reshape):
    """Check ``value`` is a scalar or [n_envs]; squeeze the tutorial's length-1 ``V(s_T)``."""
    per_step, got = tf.TensorShape(rewards.shape)[1:], tf.TensorShape(value.shape)
    if got.rank == 0 or got.is_compatible_with(per_step):
        return value
    if per_step.rank == 0 and got.as_list() == [1]:
        return reshape(value, [])
    raise ShapeError(
        f"bootstrap_value must be a scalar or [n_envs] = {per_step.as_list()} for rewards of "
        f"shape {_shape(rewards)}, got shape {got.as_list()}"
    )


def discounted_returns_loop(rewards, dones, gamma: float, bootstrap_value) -> np.ndarray:
    """The tutorial's backward loop, in numpy: easy to read, slow for long rollouts.

    Args:
        rewards: [T] or [T, n_envs].
        dones: same shape as ``rewards``, bool or 0/1 float.
        gamma: discount factor in [0, 1].
        bootstrap_value: scalar or [n_envs], the estimate ``V(s_T)``.

    Returns:
        returns: same shape as ``rewards``, float (float32 stays float32, else float64).
    """
    rewards, dones = _float(rewards, False), np.asarray(dones)
    _check_time_major(rewards, dones=dones)
    _check_rates(gamma=gamma)
    _check_values(rewards, dones, bootstrap_value=_float(bootstrap_value, False))
    not_done = 1 - dones.astype(rewards.dtype)
    running = _fit_bootstrap(rewards, np.asarray(bootstrap_value, rewards.dtype), np.reshape)
    running = np.broadcast_to(running, rewards.shape[1:])
    returns = np.empty_like(rewards)
    for t in reversed(range(rewards.shape[0])):
        running = rewards[t] + gamma * running * not_done[t]
        returns[t] = running
    return returns


def _reverse_scan(deltas: tf.Tensor, decays: tf.Tensor, x_last: tf.Tensor) -> tf.Tensor:
    """``x_t = deltas_t + decays_t * x_{t+1}`` backward over axis 0, with ``x_T = x_last``."""
    step = lambda after, d: d[0] + d[1] * after  # noqa: E731
    return tf.scan(step, (deltas, decays), initializer=x_last, reverse=True)


def _bootstrap_values(rewards: tf.Tensor, bootstrap_value) -> tf.Tensor:
    """``V(s_T)`` as float32 of the per-step shape ``rewards.shape[1:]``."""
    value = _fit_bootstrap(rewards, tf.cast(bootstrap_value, tf.float32), tf.reshape)
    return tf.broadcast_to(value, tf.shape(rewards)[1:])


def discounted_returns(rewards, dones, gamma: float, bootstrap_value) -> tf.Tensor:
    """Vectorised :func:`discounted_returns_loop`: one ``tf.scan`` backward over time.

    All environments advance together and the loop runs inside the graph, so this can be
    called from a ``tf.function``. Arguments as for :func:`discounted_returns_loop`
    (``gamma`` may also be a scalar tensor).

    Returns:
        returns: float32 tensor, same shape as ``rewards``.
    """
    rewards, dones = tf.cast(rewards, tf.float32), tf.convert_to_tensor(dones)
    _check_time_major(rewards, dones=dones)
    _check_rates(gamma=gamma)
    _check_values(rewards, dones, bootstrap_value=tf.cast(bootstrap_value, tf.float32))
    decays = tf.cast(gamma, tf.float32) * (1.0 - tf.cast(dones, tf.float32))
    return _reverse_scan(rewards, decays, _bootstrap_values(rewards, bootstrap_value))


def bootstrap_truncated(rewards, truncations, final_values, gamma: float, terminations=None):
    """Fold ``gamma * V(final_obs)`` into the reward of steps cut off by a time limit.

    A truncated episode did not really end: the state after it still has value. Adding
    ``gamma * V(s_final)`` to that step's reward and then marking it done
    (``dones = terminations | truncations``) gives the right target without letting the next
    episode's rewards leak in. A terminated step gets nothing (the value after a terminal state
    is 0); pass ``terminations`` so that a step that is both counts as terminal.

    Args:
        rewards: [T] or [T, n_envs], numpy or TF.
        truncations, terminations (optional): same shape, bool or 0/1.
        final_values: same shape, ``V(final_obs)`` where truncated (ignored elsewhere).
        gamma: discount factor in [0, 1].

    Returns:
        The corrected rewards: a float32 tensor if any input is a tensor, else a numpy array.
    """
    _check_rates(gamma=gamma)
    as_tf = _is_tf(rewards, truncations, final_values, terminations)
    to_bool = (lambda x: tf.cast(x, tf.bool)) if as_tf else (lambda x: np.asarray(x, bool))
    rewards, final_values = _float(rewards, as_tf), _float(final_values, as_tf)
    mask = to_bool(truncations)
    terms = mask if terminations is None else to_bool(terminations)
    _check_time_major(rewards, truncations=mask, final_values=final_values, terminations=terms)
    if terminations is not None:
        mask = mask & ~terms
    if as_tf:
        return rewards + tf.where(mask, tf.cast(gamma, tf.float32) * final_values, 0.0)
    return rewards + np.where(mask, gamma * final_values, 0.0).astype(rewards.dtype)


def gae_advantages(
    rewards, values, dones, bootstrap_value, gamma: float, lam: float
) -> tuple[tf.Tensor, tf.Tensor]:
    """Generalised advantage estimation, GAE(λ), vectorised over environments.

    With ``V_T = bootstrap_value`` and ``A_T = 0``, backward over time::

        delta_t = r_t + gamma * V_{t+1} * (1 - done_t) - V_t
        A_t     = delta_t + gamma * lam * (1 - done_t) * A_{t+1}

    ``lam = 1`` gives ``discounted_returns(...) - values`` (the tutorial's advantage);
    ``lam = 0`` gives the one-step TD errors ``delta_t``; in between trades bias for variance.

    Args:
        rewards, values, dones: [T] or [T, n_envs]; ``values`` are the critic's ``V(s_t)``.
        bootstrap_value: scalar or [n_envs], ``V(s_T)``.
        gamma: discount factor in [0, 1].
        lam: GAE λ in [0, 1].

    Returns:
        (advantages, returns): float32 tensors shaped like ``rewards``;
        ``returns = advantages + values`` are the critic's targets.
    """
    rewards, values = tf.cast(rewards, tf.float32), tf.cast(values, tf.float32)
    dones = tf.convert_to_tensor(dones)
    _check_time_major(rewards, values=values, dones=dones)
    _check_rates(gamma=gamma, lam=lam)
    _check_values(
        rewards, dones, values=values, bootstrap_value=tf.cast(bootstrap_value, tf.float32)
    )
    gamma_not_done = tf.cast(gamma, tf.float32) * (1.0 - tf.cast(dones, tf.float32))
    bootstrap_value = _bootstrap_values(rewards, bootstrap_value)  # [n_envs] (or [])
    next_values = tf.concat([values[1:], bootstrap_value[tf.newaxis]], axis=0)
    deltas = rewards + gamma_not_done * next_values - values
    lam_decays = tf.cast(lam, tf.float32) * gamma_not_done
    advantages = _reverse_scan(deltas, lam_decays, tf.zeros_like(bootstrap_value))
    return advantages, advantages + values


def advantages_from_returns(returns, values):
    """The tutorial's advantage ``A = returns - values`` (numpy in, numpy out; TF likewise).

    Args:
        returns: [T], [T, n_envs] or [batch], bootstrapped discounted returns.
        values: same shape, the critic's estimates.
    """
    as_tf = _is_tf(returns, values)
    returns, values = _float(returns, as_tf), _float(values, as_tf)
    _check_same("returns", returns, values=values)
    return returns - values


def normalize(advantages, eps: float = 1e-8):
    """Standardise over all elements, ``(a - mean) / (std + eps)``; numpy or TF, any shape."""
    if _is_tf(advantages):
        a = tf.cast(advantages, tf.float32)
        return (a - tf.reduce_mean(a)) / (tf.math.reduce_std(a) + eps)
    a = _float(advantages, False)
    return (a - a.mean()) / (a.std() + eps)
