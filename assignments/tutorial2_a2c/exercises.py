"""Assignment 2: the building blocks of an Advantage Actor-Critic (A2C) agent

Tutorial 2 trains an A2C agent on CartPole. Here you write, one small function at a time, the
pieces that make such an agent learn: the bootstrapped discounted returns with done masks, the
advantages (and their generalised, GAE(λ) form over several environments at once), the
actor-critic network with its two heads, action sampling, and the three terms of the loss
(critic, actor and entropy bonus).

Everything works on small arrays and tensors: no environment is created and no agent is
trained. Arrays are time-major: row ``t`` holds step ``t`` (``[T]`` for one environment,
``[T, n_envs]`` for several). ``dones[t]`` is 1 (or True) when the episode ended at step ``t``,
so no reward after step ``t`` may leak into the return of step ``t``.

Write your own code with numpy and TensorFlow; the functions of ``tfcourse.rl`` that solve the
same problems are off limits inside your answers (the tutorial notebook shows them).
"""

from __future__ import annotations

import keras
import numpy as np
import numpy.typing as npt
import tensorflow as tf

EXERCISES = [
    "discounted_returns",
    "advantages",
    "gae",
    "ActorCritic",
    "sample_actions",
    "critic_loss",
    "mean_actor_loss",
    "mean_entropy",
]


# Exercise 1 (5 points)
def discounted_returns(
    rewards: npt.ArrayLike, dones: npt.ArrayLike, gamma: float, bootstrap_value: float
) -> np.ndarray:
    """Bootstrapped discounted returns of one environment, with a backward loop in numpy.

    Concept: the return of step ``t`` is ``R_t = r_t + gamma * R_{t+1} * (1 - done_t)``,
    computed from the last step back to the first, starting from ``R_T = bootstrap_value``:
    the critic's estimate ``V(s_T)`` of the state after the last step stands in for all the
    rewards the rollout did not see. A done step cuts the chain: neither the bootstrap value
    nor the rewards of the next episode reach back across it.

    Example: rewards ``[1, 1, 1]``, ``gamma = 0.5``, no dones and ``bootstrap_value = 0``
    give ``[1.75, 1.5, 1.0]``.

    Args:
        rewards: [T] float (numpy array or list; may hold ints).
        dones: [T] bool or 0/1 (numpy array or list); ``dones[t]`` means the episode ended
            at step ``t``.
        gamma: discount factor in [0, 1].
        bootstrap_value: float, ``V(s_T)``.

    Returns:
        returns: [T] float64 numpy array (a new array: do not modify ``rewards`` or ``dones``).

    Do not use ``tfcourse.rl.returns`` (``discounted_returns``, ``discounted_returns_loop``)
    or ``tf.scan``: write the loop yourself.
    """
    # BEGIN SOLUTION
    rewards = np.asarray(rewards, dtype=np.float64)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    returns = np.zeros_like(rewards)
    running = float(bootstrap_value)
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running * not_done[t]
        returns[t] = running
    return returns
    # END SOLUTION


# Exercise 2 (3 points)
def advantages(
    returns: npt.ArrayLike, values: npt.ArrayLike, normalize: bool = False
) -> np.ndarray:
    """Advantages ``A_t = R_t - V(s_t)``, optionally standardised.

    Concept: the advantage says how much better the sampled return turned out than the
    critic expected. Using it (instead of the raw return) to weight the policy gradient is the
    "baseline" that lowers the variance of A2C. Many implementations also standardise the
    advantages of a batch: ``(A - mean(A)) / (std(A) + 1e-8)``, over all elements.

    Args:
        returns: [T] or [T, n_envs] float numpy array, the bootstrapped discounted returns.
        values: same shape as ``returns``, the critic's estimates ``V(s_t)``.
        normalize: if True, standardise as above (mean and population std over every element,
            ``np.std``'s default, and ``eps = 1e-8`` added to the std).

    Returns:
        [same shape] float numpy array (a new array; the inputs stay unchanged).

    Do not use ``tfcourse.rl.returns.advantages_from_returns`` or ``normalize``.
    """
    # BEGIN SOLUTION
    adv = np.asarray(returns, dtype=np.float64) - np.asarray(values, dtype=np.float64)
    if normalize:
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    return adv
    # END SOLUTION


# Exercise 3 (4 points)
def gae(
    rewards: npt.ArrayLike,
    values: npt.ArrayLike,
    dones: npt.ArrayLike,
    bootstrap_value: npt.ArrayLike,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Generalised advantage estimation, GAE(λ), for several environments at once.

    Concept: the one-step TD error ``delta_t = r_t + gamma * V_{t+1} * (1 - done_t) - V_t``
    is a low-variance but biased advantage; the full bootstrapped return minus ``V_t`` is
    unbiased but noisy. GAE mixes them, backward over time::

        V_T = bootstrap_value          (the value after the last step)
        A_T = 0
        A_t = delta_t + gamma * lam * (1 - done_t) * A_{t+1}

    ``lam = 0`` gives the TD errors; ``lam = 1`` gives ``discounted returns - values`` (the
    tutorial's advantage). The returns for the critic are ``A_t + V_t``. All environments
    advance together: loop over time only, and handle the ``n_envs`` columns with array
    arithmetic (no loop over environments).

    Args:
        rewards: [T, n_envs] float numpy array.
        values: [T, n_envs] float, the critic's ``V(s_t)``.
        dones: [T, n_envs] bool or 0/1.
        bootstrap_value: [n_envs] float, ``V(s_T)`` for each environment.
        gamma: discount factor in [0, 1].
        lam: GAE λ in [0, 1].

    Returns:
        ``(advantages, returns)``: two [T, n_envs] float64 numpy arrays.

    Do not use ``tfcourse.rl.returns.gae_advantages`` or ``tf.scan``.
    """
    # BEGIN SOLUTION
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    next_value = np.asarray(bootstrap_value, dtype=np.float64)
    running = np.zeros(rewards.shape[1:])
    adv = np.zeros_like(rewards)
    for t in reversed(range(rewards.shape[0])):
        delta = rewards[t] + gamma * next_value * not_done[t] - values[t]
        running = delta + gamma * lam * not_done[t] * running
        adv[t] = running
        next_value = values[t]
    return adv, adv + values
    # END SOLUTION


# Exercise 4 (4 points)
class ActorCritic(keras.Model):
    """One network, two heads: the critic's state value and the actor's policy logits.

    Concept: the actor and the critic look at the same state, so they share a trunk of two
    ``keras.layers.Dense(hidden, activation="relu")`` layers. On top of the trunk sit two
    heads: a ``Dense(1)`` value head for ``V(s)`` and a ``Dense(n_actions)`` head of policy
    logits (no softmax: the sampling and the losses take logits). Exactly these four Dense
    layers, nothing else with weights.

    ``call(obs)`` maps ``obs`` [batch, obs_dim] (cast to float32) to
    ``(values, logits)``: ``values`` [batch] float32 (squeeze the value head's trailing axis
    of size 1, or ``returns - values`` would silently broadcast to [batch, batch]) and
    ``logits`` [batch, n_actions] float32.

    Args:
        n_actions: number of discrete actions (2 for CartPole).
        hidden: width of each of the two trunk layers.

    Do not use ``tfcourse.rl.a2c.ActorCritic`` or ``build_model``.
    """

    def __init__(self, n_actions: int, hidden: int = 64, **kwargs) -> None:
        super().__init__(**kwargs)
        self.n_actions = n_actions
        self.hidden = hidden
        # BEGIN SOLUTION
        self.dense1 = keras.layers.Dense(hidden, activation="relu", kernel_initializer="he_normal")
        self.dense2 = keras.layers.Dense(hidden, activation="relu", kernel_initializer="he_normal")
        self.value_head = keras.layers.Dense(1)
        self.policy_head = keras.layers.Dense(n_actions)
        # END SOLUTION

    def call(self, obs: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """obs [batch, obs_dim] -> (values [batch] float32, logits [batch, n_actions] float32)."""
        # BEGIN SOLUTION
        x = self.dense2(self.dense1(tf.cast(obs, tf.float32)))
        return tf.squeeze(self.value_head(x), axis=-1), self.policy_head(x)
        # END SOLUTION


# Exercise 5 (4 points)
def sample_actions(logits: tf.Tensor | np.ndarray, seed: int) -> tf.Tensor:
    """Draw one action per row from the policy ``softmax(logits)``, reproducibly.

    Concept: the actor explores by sampling its actions, not by taking the most probable one.
    A categorical sampler takes the logits directly (no softmax needed). Use a *stateless*
    random op seeded with ``seed`` (for example ``tf.random.stateless_categorical`` with
    ``seed=[seed, 0]``): the same logits and the same seed must always give the same actions,
    and different seeds generally give different ones.

    Args:
        logits: [batch, n_actions] float.
        seed: an integer seed.

    Returns:
        actions: [batch] int32 tensor, each in ``range(n_actions)``.

    Do not use ``tfcourse.rl.a2c.ActorCritic.action_value``, and do not take the argmax.
    """
    # BEGIN SOLUTION
    logits = tf.cast(logits, tf.float32)
    draws = tf.random.stateless_categorical(logits, 1, seed=[seed, 0], dtype=tf.int32)
    return draws[:, 0]
    # END SOLUTION


# Exercise 6 (3 points)
def critic_loss(returns: tf.Tensor | np.ndarray, values: tf.Tensor | np.ndarray) -> tf.Tensor:
    """The critic's loss: half the mean squared error between returns and values.

    Concept: the critic learns to predict the bootstrapped discounted returns. The loss is
    ``0.5 * mean((returns - values) ** 2)`` over every element (0.5 is the tutorial's critic
    weight). The returns are targets: wrap them in ``tf.stop_gradient``.

    Args:
        returns: [batch] (or [T, n_envs]) float, the targets.
        values: same shape, the critic's predictions.

    Returns:
        A float32 scalar tensor.

    Do not use ``tfcourse.rl.a2c.critic_loss``.
    """
    # BEGIN SOLUTION
    returns = tf.stop_gradient(tf.cast(returns, tf.float32))
    values = tf.cast(values, tf.float32)
    return 0.5 * tf.reduce_mean(tf.square(returns - values))
    # END SOLUTION


# Exercise 7 (4 points)
def mean_actor_loss(
    logits: tf.Tensor | np.ndarray,
    actions: tf.Tensor | np.ndarray,
    advantages: tf.Tensor | np.ndarray,
) -> tf.Tensor:
    """The actor's policy-gradient loss: ``mean_t( -log pi(a_t | s_t) * A_t )``.

    Concept: minimising this makes actions with a positive advantage more likely and those
    with a negative advantage less likely. ``-log pi(a|s)`` is the sparse softmax
    cross-entropy of the logits with the taken action as the label (the tutorial's
    ``SparseCategoricalCrossentropy(from_logits=True)`` weighted by the advantages). The
    advantages are constants here: wrap them in ``tf.stop_gradient`` so no gradient reaches the
    critic through them. Reduce with the mean over the batch (the tutorial sums instead).

    Args:
        logits: [batch, n_actions] float.
        actions: [batch] integer, the actions taken.
        advantages: [batch] float.

    Returns:
        A float32 scalar tensor.

    Do not use ``tfcourse.rl.a2c.actor_loss``.
    """
    # BEGIN SOLUTION
    logits = tf.cast(logits, tf.float32)
    actions = tf.cast(actions, tf.int32)
    advantages = tf.stop_gradient(tf.cast(advantages, tf.float32))
    neg_log_pi = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=actions, logits=logits)
    return tf.reduce_mean(neg_log_pi * advantages)
    # END SOLUTION


# Exercise 8 (3 points)
def mean_entropy(logits: tf.Tensor | np.ndarray) -> tf.Tensor:
    """Mean entropy of the softmax policies of a batch: ``mean_b( -sum_a p_a log p_a )``.

    Concept: entropy measures how random the policy is (``ln 2 ≈ 0.693`` for a 50/50 choice
    between two actions, 0 for a certain one). A2C subtracts a small multiple of it from the
    loss to keep the agent exploring. Compute ``log p`` with ``tf.nn.log_softmax``: taking
    ``log(softmax(logits))`` gives ``0 * log 0 = nan`` when a probability underflows to 0.

    Args:
        logits: [batch, n_actions] float.

    Returns:
        A float32 scalar tensor, the entropy (in nats) averaged over the batch.

    Do not use ``tfcourse.rl.a2c.entropy`` or a Keras cross-entropy loss.
    """
    # BEGIN SOLUTION
    log_p = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
    return tf.reduce_mean(-tf.reduce_sum(tf.exp(log_p) * log_p, axis=-1))
    # END SOLUTION
