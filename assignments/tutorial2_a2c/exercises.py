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

# BEGIN MISTAKES
from tfcourse.grading.mistakes import alternative, mistake

# END MISTAKES

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

# What each exercise may not use, checked in your code by the grader: dotted names of modules,
# functions or classes (a "!" entry allows what it names again). Besides these, no exercise may
# use any part of tfcourse that this file does not import.
FORBIDDEN = {
    "discounted_returns": ["tensorflow.scan"],
    "gae": ["tensorflow.scan"],
    "mean_entropy": ["keras.losses", "keras.metrics", "keras.ops.*crossentropy"],
}


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


# BEGIN MISTAKES
@mistake(
    "discounted_returns",
    hint="The return of a step is made of the rewards that come after it: in which order must "
    "the loop visit the steps so that R_{t+1} is known when R_t is computed?",
)
def discounted_returns_forward_loop(
    rewards: npt.ArrayLike, dones: npt.ArrayLike, gamma: float, bootstrap_value: float
) -> np.ndarray:
    rewards = np.asarray(rewards, dtype=np.float64)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    returns = np.zeros_like(rewards)
    running = float(bootstrap_value)
    for t in range(len(rewards)):
        running = rewards[t] + gamma * running * not_done[t]
        returns[t] = running
    return returns


@mistake(
    "discounted_returns",
    hint="An episode that ended at step t has no future: check what the done flags do in your "
    "recursion.",
)
def discounted_returns_ignores_dones(
    rewards: npt.ArrayLike, dones: npt.ArrayLike, gamma: float, bootstrap_value: float
) -> np.ndarray:
    rewards = np.asarray(rewards, dtype=np.float64)
    returns = np.zeros_like(rewards)
    running = float(bootstrap_value)
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns


@mistake(
    "discounted_returns",
    hint="The rollout stops before the episode does: where does the critic's estimate of the "
    "state after the last step enter the recursion?",
)
def discounted_returns_ignores_bootstrap(
    rewards: npt.ArrayLike, dones: npt.ArrayLike, gamma: float, bootstrap_value: float
) -> np.ndarray:
    rewards = np.asarray(rewards, dtype=np.float64)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    returns = np.zeros_like(rewards)
    running = 0.0
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running * not_done[t]
        returns[t] = running
    return returns


@mistake(
    "discounted_returns",
    hint="A done at step t cuts the future off step t itself, not off the step before it: check "
    "at which moment of the loop the done flag takes effect.",
)
def discounted_returns_done_one_step_late(
    rewards: npt.ArrayLike, dones: npt.ArrayLike, gamma: float, bootstrap_value: float
) -> np.ndarray:
    rewards = np.asarray(rewards, dtype=np.float64)
    returns = np.zeros_like(rewards)
    running = float(bootstrap_value)
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running
        returns[t] = running
        if dones[t]:
            running = 0.0
    return returns


@mistake(
    "discounted_returns",
    hint="An array made from integer rewards holds integers, and so does an array shaped like "
    "it: check the dtype of the array you write the returns into.",
)
def discounted_returns_integer_array(
    rewards: npt.ArrayLike, dones: npt.ArrayLike, gamma: float, bootstrap_value: float
) -> np.ndarray:
    rewards = np.asarray(rewards)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    returns = np.zeros_like(rewards)
    running = float(bootstrap_value)
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running * not_done[t]
        returns[t] = running
    return returns


@mistake(
    "discounted_returns",
    hint="~ is a logical not only for booleans: on the integers 0 and 1 it is a bitwise not "
    "(~1 == -2). Check what your mask holds when dones come as 0/1.",
)
def discounted_returns_bitwise_not_dones(
    rewards: npt.ArrayLike, dones: npt.ArrayLike, gamma: float, bootstrap_value: float
) -> np.ndarray:
    rewards = np.asarray(rewards, dtype=np.float64)
    not_done = ~np.asarray(dones)
    returns = np.zeros_like(rewards)
    running = float(bootstrap_value)
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running * not_done[t]
        returns[t] = running
    return returns


@mistake(
    "discounted_returns",
    hint="np.asarray returns the caller's own array when it already has the dtype you ask for: "
    "writing into it changes the caller's rewards.",
)
def discounted_returns_overwrites_rewards(
    rewards: npt.ArrayLike, dones: npt.ArrayLike, gamma: float, bootstrap_value: float
) -> np.ndarray:
    returns = np.asarray(rewards, dtype=np.float64)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    running = float(bootstrap_value)
    for t in reversed(range(len(returns))):
        returns[t] += gamma * running * not_done[t]
        running = returns[t]
    return returns


@mistake(
    "discounted_returns",
    hint="Re-read the dtype the docstring asks the returns to have: single precision is not "
    "what it says.",
)
def discounted_returns_float32(
    rewards: npt.ArrayLike, dones: npt.ArrayLike, gamma: float, bootstrap_value: float
) -> np.ndarray:
    rewards = np.asarray(rewards, dtype=np.float32)
    not_done = 1.0 - np.asarray(dones, dtype=np.float32)
    returns = np.zeros_like(rewards)
    running = np.float32(bootstrap_value)
    for t in reversed(range(len(rewards))):
        running = rewards[t] + np.float32(gamma) * running * not_done[t]
        returns[t] = running
    return returns


@mistake(
    "discounted_returns",
    hint="Count the steps your backward loop visits: does it reach the first step, t = 0?",
)
def discounted_returns_skips_first_step(
    rewards: npt.ArrayLike, dones: npt.ArrayLike, gamma: float, bootstrap_value: float
) -> np.ndarray:
    rewards = np.asarray(rewards, dtype=np.float64)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    returns = np.zeros_like(rewards)
    running = float(bootstrap_value)
    for t in range(len(rewards) - 1, 0, -1):
        running = rewards[t] + gamma * running * not_done[t]
        returns[t] = running
    return returns


@mistake(
    "discounted_returns",
    hint="R_T is the bootstrap value itself: count how many times gamma multiplies it on its way "
    "into the return of the last step.",
)
def discounted_returns_bootstrap_discounted_twice(
    rewards: npt.ArrayLike, dones: npt.ArrayLike, gamma: float, bootstrap_value: float
) -> np.ndarray:
    rewards = np.asarray(rewards, dtype=np.float64)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    returns = np.zeros_like(rewards)
    running = gamma * float(bootstrap_value)
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running * not_done[t]
        returns[t] = running
    return returns


@mistake(
    "discounted_returns",
    hint="The step at which an episode ends still earns its own reward: a done flag cuts off "
    "only what comes after that step.",
)
def discounted_returns_reward_zeroed_at_done(
    rewards: npt.ArrayLike, dones: npt.ArrayLike, gamma: float, bootstrap_value: float
) -> np.ndarray:
    rewards = np.asarray(rewards, dtype=np.float64)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    returns = np.zeros_like(rewards)
    running = float(bootstrap_value)
    for t in reversed(range(len(rewards))):
        running = (rewards[t] + gamma * running) * not_done[t]
        returns[t] = running
    return returns


@mistake(
    "discounted_returns",
    hint="A list filled from the last step back holds the returns in reverse order: check which "
    "step each entry of your result belongs to.",
)
def discounted_returns_not_reversed_back(
    rewards: npt.ArrayLike, dones: npt.ArrayLike, gamma: float, bootstrap_value: float
) -> np.ndarray:
    rewards = np.asarray(rewards, dtype=np.float64)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    out = []
    running = float(bootstrap_value)
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running * not_done[t]
        out.append(running)
    return np.array(out)


@alternative("discounted_returns")
def discounted_returns_reset_at_done(
    rewards: npt.ArrayLike, dones: npt.ArrayLike, gamma: float, bootstrap_value: float
) -> np.ndarray:
    out = []
    running = float(bootstrap_value)
    for reward, done in zip(reversed(list(rewards)), reversed(list(dones)), strict=True):
        if done:
            running = 0.0
        running = float(reward) + gamma * running
        out.append(running)
    return np.array(out[::-1], dtype=np.float64)


# END MISTAKES


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


# BEGIN MISTAKES
@mistake(
    "advantages",
    hint="The advantage is positive when the return beat the critic's expectation: check the "
    "order of the subtraction.",
)
def advantages_values_minus_returns(
    returns: npt.ArrayLike, values: npt.ArrayLike, normalize: bool = False
) -> np.ndarray:
    adv = np.asarray(values, dtype=np.float64) - np.asarray(returns, dtype=np.float64)
    if normalize:
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    return adv


@mistake(
    "advantages",
    hint="There are two standard deviations, the population one and the sample one: re-read "
    "which one the docstring asks for.",
)
def advantages_sample_std(
    returns: npt.ArrayLike, values: npt.ArrayLike, normalize: bool = False
) -> np.ndarray:
    adv = np.asarray(returns, dtype=np.float64) - np.asarray(values, dtype=np.float64)
    if normalize:
        adv = (adv - adv.mean()) / (adv.std(ddof=1) + 1e-8)
    return adv


@mistake(
    "advantages",
    hint="For [T, n_envs] advantages, check over which elements your mean and std are taken: "
    "the whole batch is standardised together.",
)
def advantages_normalized_per_column(
    returns: npt.ArrayLike, values: npt.ArrayLike, normalize: bool = False
) -> np.ndarray:
    adv = np.asarray(returns, dtype=np.float64) - np.asarray(values, dtype=np.float64)
    if normalize:
        adv = (adv - adv.mean(axis=0)) / (adv.std(axis=0) + 1e-8)
    return adv


@mistake(
    "advantages",
    hint="What is the standard deviation of a batch whose advantages are all equal, and what "
    "does dividing by it give?",
)
def advantages_without_eps(
    returns: npt.ArrayLike, values: npt.ArrayLike, normalize: bool = False
) -> np.ndarray:
    adv = np.asarray(returns, dtype=np.float64) - np.asarray(values, dtype=np.float64)
    if normalize:
        with np.errstate(divide="ignore", invalid="ignore"):
            adv = (adv - adv.mean()) / adv.std()
    return adv


@mistake(
    "advantages",
    hint="Re-read where the docstring adds eps: to the standard deviation itself, which is not "
    "the same as adding it under the square root when the spread is small.",
)
def advantages_eps_under_the_root(
    returns: npt.ArrayLike, values: npt.ArrayLike, normalize: bool = False
) -> np.ndarray:
    adv = np.asarray(returns, dtype=np.float64) - np.asarray(values, dtype=np.float64)
    if normalize:
        adv = (adv - adv.mean()) / np.sqrt(adv.var() + 1e-8)
    return adv


@mistake(
    "advantages",
    hint="In-place operators such as -= write into the array they are applied to, and "
    "np.asarray may hand you the caller's own array: the inputs must stay unchanged.",
)
def advantages_in_place(
    returns: npt.ArrayLike, values: npt.ArrayLike, normalize: bool = False
) -> np.ndarray:
    adv = np.asarray(returns, dtype=np.float64)
    adv -= np.asarray(values, dtype=np.float64)
    if normalize:
        adv -= adv.mean()
        adv /= adv.std() + 1e-8
    return adv


@mistake(
    "advantages",
    hint="Check that every argument of the function changes what it returns.",
)
def advantages_never_normalized(
    returns: npt.ArrayLike, values: npt.ArrayLike, normalize: bool = False
) -> np.ndarray:
    return np.asarray(returns, dtype=np.float64) - np.asarray(values, dtype=np.float64)


@mistake(
    "advantages",
    hint="With normalize=False the advantages come back as they are: check that your code "
    "looks at the normalize argument.",
)
def advantages_always_normalized(
    returns: npt.ArrayLike, values: npt.ArrayLike, normalize: bool = False
) -> np.ndarray:
    adv = np.asarray(returns, dtype=np.float64) - np.asarray(values, dtype=np.float64)
    return (adv - adv.mean()) / (adv.std() + 1e-8)


@mistake(
    "advantages",
    hint="It is the advantages that are standardised, after the subtraction: check which array "
    "your mean and std are computed over.",
)
def advantages_normalizes_returns_first(
    returns: npt.ArrayLike, values: npt.ArrayLike, normalize: bool = False
) -> np.ndarray:
    returns = np.asarray(returns, dtype=np.float64)
    if normalize:
        returns = (returns - returns.mean()) / (returns.std() + 1e-8)
    return returns - np.asarray(values, dtype=np.float64)


@alternative("advantages")
def advantages_with_tensorflow(
    returns: npt.ArrayLike, values: npt.ArrayLike, normalize: bool = False
) -> np.ndarray:
    adv = tf.constant(returns, tf.float64) - tf.constant(values, tf.float64)
    if normalize:
        mean, variance = tf.nn.moments(adv, axes=list(range(len(adv.shape))))
        adv = (adv - mean) / (tf.sqrt(variance) + 1e-8)
    return adv.numpy()


# END MISTAKES


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


# BEGIN MISTAKES
@mistake(
    "gae",
    hint="After a done step the next state belongs to a new episode: check every term of the "
    "TD error that looks one step ahead.",
)
def gae_bootstrap_not_masked(
    rewards: npt.ArrayLike,
    values: npt.ArrayLike,
    dones: npt.ArrayLike,
    bootstrap_value: npt.ArrayLike,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    next_value = np.asarray(bootstrap_value, dtype=np.float64)
    running = np.zeros(rewards.shape[1:])
    adv = np.zeros_like(rewards)
    for t in reversed(range(rewards.shape[0])):
        delta = rewards[t] + gamma * next_value - values[t]
        running = delta + gamma * lam * not_done[t] * running
        adv[t] = running
        next_value = values[t]
    return adv, adv + values


@mistake(
    "gae",
    hint="The advantages are accumulated backward like returns: check what stops that running "
    "sum at the end of an episode.",
)
def gae_trace_not_masked(
    rewards: npt.ArrayLike,
    values: npt.ArrayLike,
    dones: npt.ArrayLike,
    bootstrap_value: npt.ArrayLike,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    next_value = np.asarray(bootstrap_value, dtype=np.float64)
    running = np.zeros(rewards.shape[1:])
    adv = np.zeros_like(rewards)
    for t in reversed(range(rewards.shape[0])):
        delta = rewards[t] + gamma * next_value * not_done[t] - values[t]
        running = delta + gamma * lam * running
        adv[t] = running
        next_value = values[t]
    return adv, adv + values


@mistake(
    "gae",
    hint="The critic's target is a return, not an advantage: re-read how the docstring builds "
    "the returns from the advantages.",
)
def gae_returns_are_advantages(
    rewards: npt.ArrayLike,
    values: npt.ArrayLike,
    dones: npt.ArrayLike,
    bootstrap_value: npt.ArrayLike,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
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
    return adv, adv.copy()


@mistake(
    "gae",
    hint="The bootstrap value is V of the state after the LAST step only: which value follows "
    "step t for the earlier steps?",
)
def gae_bootstrap_for_every_step(
    rewards: npt.ArrayLike,
    values: npt.ArrayLike,
    dones: npt.ArrayLike,
    bootstrap_value: npt.ArrayLike,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
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
    return adv, adv + values


@mistake(
    "gae",
    hint="The TD error of step t compares V(s_t) with the value of the NEXT state: check when "
    "your loop moves its 'next value' along.",
)
def gae_next_value_moved_too_early(
    rewards: npt.ArrayLike,
    values: npt.ArrayLike,
    dones: npt.ArrayLike,
    bootstrap_value: npt.ArrayLike,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    running = np.zeros(rewards.shape[1:])
    adv = np.zeros_like(rewards)
    for t in reversed(range(rewards.shape[0])):
        next_value = values[t]
        delta = rewards[t] + gamma * next_value * not_done[t] - values[t]
        running = delta + gamma * lam * not_done[t] * running
        adv[t] = running
    return adv, adv + values


@mistake(
    "gae",
    hint="Each step back in time discounts the accumulated advantage by both factors of the "
    "recursion: check which ones multiply A_{t+1}.",
)
def gae_trace_without_gamma(
    rewards: npt.ArrayLike,
    values: npt.ArrayLike,
    dones: npt.ArrayLike,
    bootstrap_value: npt.ArrayLike,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    next_value = np.asarray(bootstrap_value, dtype=np.float64)
    running = np.zeros(rewards.shape[1:])
    adv = np.zeros_like(rewards)
    for t in reversed(range(rewards.shape[0])):
        delta = rewards[t] + gamma * next_value * not_done[t] - values[t]
        running = delta + lam * not_done[t] * running
        adv[t] = running
        next_value = values[t]
    return adv, adv + values


@mistake(
    "gae",
    hint="gamma and lam play different parts: one discounts rewards and values, the other only "
    "mixes the TD errors. Check which one each term uses.",
)
def gae_td_error_discounted_by_lambda(
    rewards: npt.ArrayLike,
    values: npt.ArrayLike,
    dones: npt.ArrayLike,
    bootstrap_value: npt.ArrayLike,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    next_value = np.asarray(bootstrap_value, dtype=np.float64)
    running = np.zeros(rewards.shape[1:])
    adv = np.zeros_like(rewards)
    for t in reversed(range(rewards.shape[0])):
        delta = rewards[t] + lam * next_value * not_done[t] - values[t]
        running = delta + gamma * lam * not_done[t] * running
        adv[t] = running
        next_value = values[t]
    return adv, adv + values


@mistake(
    "gae",
    hint="dones[t] says the episode ended AT step t: check which step's flag cuts the link "
    "between step t and step t + 1.",
)
def gae_done_of_next_step(
    rewards: npt.ArrayLike,
    values: npt.ArrayLike,
    dones: npt.ArrayLike,
    bootstrap_value: npt.ArrayLike,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    dones = np.asarray(dones, dtype=np.float64)
    not_done = 1.0 - np.concatenate([dones[1:], np.zeros_like(dones[:1])], axis=0)
    next_value = np.asarray(bootstrap_value, dtype=np.float64)
    running = np.zeros(rewards.shape[1:])
    adv = np.zeros_like(rewards)
    for t in reversed(range(rewards.shape[0])):
        delta = rewards[t] + gamma * next_value * not_done[t] - values[t]
        running = delta + gamma * lam * not_done[t] * running
        adv[t] = running
        next_value = values[t]
    return adv, adv + values


@mistake(
    "gae",
    hint="np.asarray returns the caller's own array when it already has the dtype you ask for, "
    "and += writes into it: the caller's rewards must stay unchanged.",
)
def gae_deltas_in_rewards(
    rewards: npt.ArrayLike,
    values: npt.ArrayLike,
    dones: npt.ArrayLike,
    bootstrap_value: npt.ArrayLike,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    deltas = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    last = np.asarray(bootstrap_value, dtype=np.float64)[None]
    deltas += gamma * np.concatenate([values[1:], last], axis=0) * not_done - values
    adv = np.zeros_like(deltas)
    running = np.zeros(deltas.shape[1])
    for t in reversed(range(len(deltas))):
        running = deltas[t] + gamma * lam * not_done[t] * running
        adv[t] = running
    return adv, adv + values


@mistake(
    "gae",
    hint="Count the steps your backward loop visits: does it reach the first step, t = 0?",
)
def gae_skips_first_step(
    rewards: npt.ArrayLike,
    values: npt.ArrayLike,
    dones: npt.ArrayLike,
    bootstrap_value: npt.ArrayLike,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    next_value = np.asarray(bootstrap_value, dtype=np.float64)
    running = np.zeros(rewards.shape[1:])
    adv = np.zeros_like(rewards)
    for t in range(rewards.shape[0] - 1, 0, -1):
        delta = rewards[t] + gamma * next_value * not_done[t] - values[t]
        running = delta + gamma * lam * not_done[t] * running
        adv[t] = running
        next_value = values[t]
    return adv, adv + values


@mistake(
    "gae",
    hint="The last step has a next state too, and the bootstrap value is its value: check what "
    "your loop computes for step T - 1.",
)
def gae_last_step_left_at_zero(
    rewards: npt.ArrayLike,
    values: npt.ArrayLike,
    dones: npt.ArrayLike,
    bootstrap_value: npt.ArrayLike,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    adv = np.zeros_like(rewards)
    for t in reversed(range(rewards.shape[0] - 1)):
        delta = rewards[t] + gamma * values[t + 1] * not_done[t] - values[t]
        adv[t] = delta + gamma * lam * not_done[t] * adv[t + 1]
    return adv, adv + values


@mistake(
    "gae",
    hint="np.zeros_like takes the dtype of the array it copies the shape of: check the dtype of "
    "the arrays you return for float32 inputs.",
)
def gae_dtype_of_values(
    rewards: npt.ArrayLike,
    values: npt.ArrayLike,
    dones: npt.ArrayLike,
    bootstrap_value: npt.ArrayLike,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    rewards = np.asarray(rewards)
    values = np.asarray(values)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    next_value = np.asarray(bootstrap_value)
    running = np.zeros(rewards.shape[1:])
    adv = np.zeros_like(values)
    for t in reversed(range(rewards.shape[0])):
        delta = rewards[t] + gamma * next_value * not_done[t] - values[t]
        running = delta + gamma * lam * not_done[t] * running
        adv[t] = running
        next_value = values[t]
    return adv, adv + values


@alternative("gae")
def gae_td_errors_first(
    rewards: npt.ArrayLike,
    values: npt.ArrayLike,
    dones: npt.ArrayLike,
    bootstrap_value: npt.ArrayLike,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    not_done = 1.0 - np.asarray(dones).astype(np.float64)
    last = np.asarray(bootstrap_value, dtype=np.float64)[None]
    next_values = np.concatenate([values[1:], last], axis=0)
    deltas = rewards + gamma * next_values * not_done - values
    adv = np.zeros_like(deltas)
    running = np.zeros(deltas.shape[1])
    for t in range(len(deltas) - 1, -1, -1):
        running = deltas[t] + gamma * lam * not_done[t] * running
        adv[t] = running
    return adv, adv + values


# END MISTAKES


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

    Do not use ``tfcourse.rl.model.ActorCritic`` or ``build_model``.
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


# BEGIN MISTAKES
@mistake(
    "ActorCritic",
    hint="The sampler and the losses expect raw scores and apply the softmax themselves: check "
    "what the policy head outputs.",
)
class ActorCriticSoftmaxPolicy(ActorCritic):
    def __init__(self, n_actions: int, hidden: int = 64, **kwargs) -> None:
        keras.Model.__init__(self, **kwargs)
        self.n_actions = n_actions
        self.hidden = hidden
        self.dense1 = keras.layers.Dense(hidden, activation="relu")
        self.dense2 = keras.layers.Dense(hidden, activation="relu")
        self.value_head = keras.layers.Dense(1)
        self.policy_head = keras.layers.Dense(n_actions, activation="softmax")


@mistake(
    "ActorCritic",
    hint="A state value estimates a return, and returns can be negative: check whether your "
    "value head can output every real number.",
)
class ActorCriticReluValue(ActorCritic):
    def __init__(self, n_actions: int, hidden: int = 64, **kwargs) -> None:
        keras.Model.__init__(self, **kwargs)
        self.n_actions = n_actions
        self.hidden = hidden
        self.dense1 = keras.layers.Dense(hidden, activation="relu")
        self.dense2 = keras.layers.Dense(hidden, activation="relu")
        self.value_head = keras.layers.Dense(1, activation="relu")
        self.policy_head = keras.layers.Dense(n_actions)


@mistake(
    "ActorCritic",
    hint="Without a nonlinearity between them, stacked Dense layers are one linear map: check "
    "the activations of the shared trunk.",
)
class ActorCriticLinearTrunk(ActorCritic):
    def __init__(self, n_actions: int, hidden: int = 64, **kwargs) -> None:
        keras.Model.__init__(self, **kwargs)
        self.n_actions = n_actions
        self.hidden = hidden
        self.dense1 = keras.layers.Dense(hidden)
        self.dense2 = keras.layers.Dense(hidden)
        self.value_head = keras.layers.Dense(1)
        self.policy_head = keras.layers.Dense(n_actions)


@mistake(
    "ActorCritic",
    hint="Check that the width of the trunk follows the constructor's arguments rather than a "
    "number written in the code.",
)
class ActorCriticFixedWidth(ActorCritic):
    def __init__(self, n_actions: int, hidden: int = 64, **kwargs) -> None:
        keras.Model.__init__(self, **kwargs)
        self.n_actions = n_actions
        self.hidden = hidden
        self.dense1 = keras.layers.Dense(64, activation="relu")
        self.dense2 = keras.layers.Dense(64, activation="relu")
        self.value_head = keras.layers.Dense(1)
        self.policy_head = keras.layers.Dense(n_actions)


@mistake(
    "ActorCritic",
    hint="A Dense(1) head gives one column per observation: check the shape of the values you "
    "return against the docstring.",
)
class ActorCriticValueNotSqueezed(ActorCritic):
    def call(self, obs: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = self.dense2(self.dense1(tf.cast(obs, tf.float32)))
        return self.value_head(x), self.policy_head(x)


@mistake(
    "ActorCritic",
    hint="Removing every axis of size 1 also removes the batch axis when the batch holds one "
    "observation: check which axis you squeeze.",
)
class ActorCriticSqueezesEveryAxis(ActorCritic):
    def call(self, obs: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = self.dense2(self.dense1(tf.cast(obs, tf.float32)))
        return tf.squeeze(self.value_head(x)), self.policy_head(x)


@mistake(
    "ActorCritic",
    hint="The actor and the critic are meant to share what they learn about the state: count "
    "the layers your model has and compare with the docstring.",
)
class ActorCriticSeparateTrunks(ActorCritic):
    def __init__(self, n_actions: int, hidden: int = 64, **kwargs) -> None:
        keras.Model.__init__(self, **kwargs)
        self.n_actions = n_actions
        self.hidden = hidden
        self.dense1 = keras.layers.Dense(hidden, activation="relu")
        self.dense2 = keras.layers.Dense(hidden, activation="relu")
        self.value_head = keras.layers.Dense(1)
        self.policy_head = keras.layers.Dense(n_actions)
        self.policy1 = keras.layers.Dense(hidden, activation="relu")
        self.policy2 = keras.layers.Dense(hidden, activation="relu")

    def call(self, obs: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        obs = tf.cast(obs, tf.float32)
        values = self.value_head(self.dense2(self.dense1(obs)))
        return tf.squeeze(values, axis=-1), self.policy_head(self.policy2(self.policy1(obs)))


def _actor_critic_layers(
    model: ActorCritic, n_actions: int, hidden: int, activation: str | None, **kwargs
) -> None:
    """Set up ``model`` as the reference does, with ``activation`` in both trunk layers."""
    keras.Model.__init__(model, **kwargs)
    model.n_actions = n_actions
    model.hidden = hidden
    model.dense1 = keras.layers.Dense(hidden, activation=activation)
    model.dense2 = keras.layers.Dense(hidden, activation=activation)
    model.value_head = keras.layers.Dense(1)
    model.policy_head = keras.layers.Dense(n_actions)


@mistake(
    "ActorCritic",
    hint="Re-read which activation the docstring gives the shared trunk: tanh squashes every "
    "unit into (-1, 1).",
)
class ActorCriticTanhTrunk(ActorCritic):
    def __init__(self, n_actions: int, hidden: int = 64, **kwargs) -> None:
        _actor_critic_layers(self, n_actions, hidden, "tanh", **kwargs)


@mistake(
    "ActorCritic",
    hint="Re-read which activation the docstring gives the shared trunk: a leaky ReLU lets "
    "negative inputs through, scaled down.",
)
class ActorCriticLeakyReluTrunk(ActorCritic):
    def __init__(self, n_actions: int, hidden: int = 64, **kwargs) -> None:
        _actor_critic_layers(self, n_actions, hidden, "leaky_relu", **kwargs)


@mistake(
    "ActorCritic",
    hint="Re-read which activation the docstring gives the shared trunk: ReLU6 caps every unit "
    "at 6, which only large inputs reveal.",
)
class ActorCriticRelu6Trunk(ActorCritic):
    def __init__(self, n_actions: int, hidden: int = 64, **kwargs) -> None:
        _actor_critic_layers(self, n_actions, hidden, "relu6", **kwargs)


@mistake(
    "ActorCritic",
    hint="Each of the two trunk layers needs its own ReLU: without one, the second layer just "
    "mixes the first one's units linearly.",
)
class ActorCriticSecondTrunkLayerLinear(ActorCritic):
    def __init__(self, n_actions: int, hidden: int = 64, **kwargs) -> None:
        keras.Model.__init__(self, **kwargs)
        self.n_actions = n_actions
        self.hidden = hidden
        self.dense1 = keras.layers.Dense(hidden, activation="relu")
        self.dense2 = keras.layers.Dense(hidden)
        self.value_head = keras.layers.Dense(1)
        self.policy_head = keras.layers.Dense(n_actions)


@mistake(
    "ActorCritic",
    hint="Both heads sit on top of the whole trunk: check which layer's output each head reads.",
)
class ActorCriticValueHeadOnFirstLayer(ActorCritic):
    def call(self, obs: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        first = self.dense1(tf.cast(obs, tf.float32))
        values = tf.squeeze(self.value_head(first), axis=-1)
        return values, self.policy_head(self.dense2(first))


@mistake(
    "ActorCritic",
    hint="Both heads sit on top of the whole trunk: check which layer's output each head reads.",
)
class ActorCriticPolicyHeadOnFirstLayer(ActorCritic):
    def call(self, obs: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        first = self.dense1(tf.cast(obs, tf.float32))
        values = tf.squeeze(self.value_head(self.dense2(first)), axis=-1)
        return values, self.policy_head(first)


@mistake(
    "ActorCritic",
    hint="The docstring's trunk has two shared Dense layers: count the layers under your heads.",
)
class ActorCriticOneTrunkLayer(ActorCritic):
    def __init__(self, n_actions: int, hidden: int = 64, **kwargs) -> None:
        keras.Model.__init__(self, **kwargs)
        self.n_actions = n_actions
        self.hidden = hidden
        self.dense1 = keras.layers.Dense(hidden, activation="relu")
        self.value_head = keras.layers.Dense(1)
        self.policy_head = keras.layers.Dense(n_actions)

    def call(self, obs: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = self.dense1(tf.cast(obs, tf.float32))
        return tf.squeeze(self.value_head(x), axis=-1), self.policy_head(x)


@mistake(
    "ActorCritic",
    hint="The callers unpack values, logits = model(obs): check the order of what you return.",
)
class ActorCriticLogitsFirst(ActorCritic):
    def call(self, obs: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = self.dense2(self.dense1(tf.cast(obs, tf.float32)))
        return self.policy_head(x), tf.squeeze(self.value_head(x), axis=-1)


@mistake(
    "ActorCritic",
    hint="The docstring asks for two heads, a Dense(1) and a Dense(n_actions): count the layers "
    "your model has.",
)
class ActorCriticOneJointHead(ActorCritic):
    def __init__(self, n_actions: int, hidden: int = 64, **kwargs) -> None:
        keras.Model.__init__(self, **kwargs)
        self.n_actions = n_actions
        self.hidden = hidden
        self.dense1 = keras.layers.Dense(hidden, activation="relu")
        self.dense2 = keras.layers.Dense(hidden, activation="relu")
        self.heads = keras.layers.Dense(n_actions + 1)

    def call(self, obs: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        out = self.heads(self.dense2(self.dense1(tf.cast(obs, tf.float32))))
        return out[:, 0], out[:, 1:]


@alternative("ActorCritic")
class ActorCriticSequentialTrunk(ActorCritic):
    def __init__(self, n_actions: int, hidden: int = 64, **kwargs) -> None:
        keras.Model.__init__(self, **kwargs)
        self.n_actions = n_actions
        self.hidden = hidden
        self.trunk = keras.Sequential(
            [
                keras.layers.Dense(hidden, activation="relu"),
                keras.layers.Dense(hidden, activation="relu"),
            ]
        )
        self.value_head = keras.layers.Dense(1)
        self.policy_head = keras.layers.Dense(n_actions)

    def call(self, obs: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = self.trunk(obs)  # Keras casts float64 inputs to the layers' float32
        return self.value_head(x)[:, 0], self.policy_head(x)


@alternative("ActorCritic")
class ActorCriticHeadsFirst(ActorCritic):
    def __init__(self, n_actions: int, hidden: int = 64, **kwargs) -> None:
        keras.Model.__init__(self, **kwargs)
        self.n_actions = n_actions
        self.hidden = hidden
        self.logits_layer = keras.layers.Dense(n_actions, name="logits")
        self.critic = keras.layers.Dense(1, name="value")
        self.shared = [keras.layers.Dense(hidden, activation=tf.nn.relu) for _ in range(2)]

    def call(self, obs: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = tf.convert_to_tensor(obs, tf.float32)
        for layer in self.shared:
            x = layer(x)
        return tf.reshape(self.critic(x), [-1]), self.logits_layer(x)


# END MISTAKES


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

    Do not use ``tfcourse.rl.model.ActorCritic.action_value``, and do not take the argmax.
    """
    # BEGIN SOLUTION
    logits = tf.cast(logits, tf.float32)
    draws = tf.random.stateless_categorical(logits, 1, seed=[seed, 0], dtype=tf.int32)
    return draws[:, 0]
    # END SOLUTION


# BEGIN MISTAKES
@mistake(
    "sample_actions",
    hint="An actor that always takes its most probable action never explores: the action has "
    "to be drawn at random from the policy.",
)
def sample_actions_argmax(logits: tf.Tensor | np.ndarray, seed: int) -> tf.Tensor:
    return tf.argmax(tf.cast(logits, tf.float32), axis=-1, output_type=tf.int32)


@mistake(
    "sample_actions",
    hint="A categorical sampler that takes logits applies the softmax itself: check what you "
    "give it.",
)
def sample_actions_probabilities_as_logits(logits: tf.Tensor | np.ndarray, seed: int) -> tf.Tensor:
    probs = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
    return tf.random.stateless_categorical(probs, 1, seed=[seed, 0], dtype=tf.int32)[:, 0]


@mistake(
    "sample_actions",
    hint="An op that keeps a hidden random state gives new numbers on every call, seed or not: "
    "the same seed must always give the same actions.",
)
def sample_actions_stateful_op(logits: tf.Tensor | np.ndarray, seed: int) -> tf.Tensor:
    logits = tf.cast(logits, tf.float32)
    return tf.random.categorical(logits, 1, seed=seed, dtype=tf.int32)[:, 0]


@mistake(
    "sample_actions",
    hint="Check that the seed argument actually reaches the random op.",
)
def sample_actions_fixed_seed(logits: tf.Tensor | np.ndarray, seed: int) -> tf.Tensor:
    logits = tf.cast(logits, tf.float32)
    return tf.random.stateless_categorical(logits, 1, seed=[0, 0], dtype=tf.int32)[:, 0]


@mistake(
    "sample_actions",
    hint="Random ops choose a default integer dtype: compare it with the dtype the docstring "
    "asks for.",
)
def sample_actions_int64(logits: tf.Tensor | np.ndarray, seed: int) -> tf.Tensor:
    logits = tf.cast(logits, tf.float32)
    return tf.random.stateless_categorical(logits, 1, seed=[seed, 0])[:, 0]


@mistake(
    "sample_actions",
    hint="The categorical op returns a [batch, num_samples] array: compare its shape with the "
    "one the docstring asks for.",
)
def sample_actions_keeps_sample_axis(logits: tf.Tensor | np.ndarray, seed: int) -> tf.Tensor:
    logits = tf.cast(logits, tf.float32)
    return tf.random.stateless_categorical(logits, 1, seed=[seed, 0], dtype=tf.int32)


@mistake(
    "sample_actions",
    hint="Each row is its own draw: check how many random numbers your sampler uses for a batch.",
)
def sample_actions_one_draw_per_batch(logits: tf.Tensor | np.ndarray, seed: int) -> tf.Tensor:
    cdf = tf.cumsum(tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1), axis=-1)
    u = tf.random.stateless_uniform([1, 1], seed=[seed, 0])
    n_actions = tf.shape(cdf)[-1]
    return tf.minimum(tf.reduce_sum(tf.cast(cdf < u, tf.int32), axis=-1), n_actions - 1)


@mistake(
    "sample_actions",
    hint="A stateless op given the same seed repeats its random numbers: drawing row by row with "
    "one seed gives every row the same draw, so identical rows always get identical actions.",
)
def sample_actions_same_seed_per_row(logits: tf.Tensor | np.ndarray, seed: int) -> tf.Tensor:
    # A loop over the rows, each drawn with seed=[seed, 0]. Equal rows get equal draws, so
    # each distinct row is drawn once (the tests' batches of thousands of equal rows stay fast).
    logits = tf.cast(logits, tf.float32)
    distinct, index = np.unique(logits.numpy(), axis=0, return_inverse=True)
    rows = [
        tf.random.stateless_categorical(row[None], 1, seed=[seed, 0], dtype=tf.int32)[0, 0]
        for row in distinct
    ]
    return tf.gather(tf.stack(rows), index.reshape(-1))


@mistake(
    "sample_actions",
    hint="The argmax of the logits plus noise samples from softmax(logits) only for Gumbel "
    "noise: uniform noise in [0, 1) picks the largest logit far too often.",
)
def sample_actions_argmax_with_uniform_noise(
    logits: tf.Tensor | np.ndarray, seed: int
) -> tf.Tensor:
    logits = tf.cast(logits, tf.float32)
    noise = tf.random.stateless_uniform(tf.shape(logits), seed=[seed, 0])
    return tf.argmax(logits + noise, axis=-1, output_type=tf.int32)


@mistake(
    "sample_actions",
    hint="Logits are already log-probabilities (up to a constant): taking their log again gives "
    "nan for every negative logit.",
)
def sample_actions_log_of_logits(logits: tf.Tensor | np.ndarray, seed: int) -> tf.Tensor:
    log_logits = tf.math.log(tf.cast(logits, tf.float32))
    return tf.random.stateless_categorical(log_logits, 1, seed=[seed, 0], dtype=tf.int32)[:, 0]


@mistake(
    "sample_actions",
    hint="Removing every axis of size 1 also removes the batch axis when there is one row: "
    "check which axis you squeeze.",
)
def sample_actions_squeezes_every_axis(logits: tf.Tensor | np.ndarray, seed: int) -> tf.Tensor:
    logits = tf.cast(logits, tf.float32)
    return tf.squeeze(tf.random.stateless_categorical(logits, 1, seed=[seed, 0], dtype=tf.int32))


@mistake(
    "sample_actions",
    hint="The docstring asks for a tensor: check the type of what your function returns.",
)
def sample_actions_returns_numpy(logits: tf.Tensor | np.ndarray, seed: int) -> np.ndarray:
    logits = tf.cast(logits, tf.float32)
    draws = tf.random.stateless_categorical(logits, 1, seed=[seed, 0], dtype=tf.int32)
    return draws[:, 0].numpy()


@alternative("sample_actions")
def sample_actions_gumbel_max(logits: tf.Tensor | np.ndarray, seed: int) -> tf.Tensor:
    logits = tf.cast(logits, tf.float32)
    u = tf.random.stateless_uniform(tf.shape(logits), seed=[seed, 0], minval=1e-20, maxval=1.0)
    return tf.argmax(logits - tf.math.log(-tf.math.log(u)), axis=-1, output_type=tf.int32)


# END MISTAKES


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


# BEGIN MISTAKES
@mistake(
    "critic_loss",
    hint="The returns are targets to move towards, not something to adjust: check where the "
    "gradient of this loss may flow.",
)
def critic_loss_targets_not_stopped(
    returns: tf.Tensor | np.ndarray, values: tf.Tensor | np.ndarray
) -> tf.Tensor:
    returns = tf.cast(returns, tf.float32)
    values = tf.cast(values, tf.float32)
    return 0.5 * tf.reduce_mean(tf.square(returns - values))


@mistake(
    "critic_loss",
    hint="Re-read the docstring's formula for the critic's loss: it carries a weight.",
)
def critic_loss_without_half(
    returns: tf.Tensor | np.ndarray, values: tf.Tensor | np.ndarray
) -> tf.Tensor:
    returns = tf.stop_gradient(tf.cast(returns, tf.float32))
    return tf.reduce_mean(tf.square(returns - tf.cast(values, tf.float32)))


@mistake(
    "critic_loss",
    hint="A sum grows with the batch size while a mean does not: check the reduction.",
)
def critic_loss_summed(
    returns: tf.Tensor | np.ndarray, values: tf.Tensor | np.ndarray
) -> tf.Tensor:
    returns = tf.stop_gradient(tf.cast(returns, tf.float32))
    return 0.5 * tf.reduce_sum(tf.square(returns - tf.cast(values, tf.float32)))


@mistake(
    "critic_loss",
    hint="A Huber loss treats large errors differently from a squared error: re-read which loss "
    "the docstring asks for.",
)
def critic_loss_huber(returns: tf.Tensor | np.ndarray, values: tf.Tensor | np.ndarray) -> tf.Tensor:
    returns = tf.stop_gradient(tf.cast(returns, tf.float32))
    error = tf.abs(returns - tf.cast(values, tf.float32))
    return tf.reduce_mean(tf.where(error <= 1.0, 0.5 * tf.square(error), error - 0.5))


@mistake(
    "critic_loss",
    hint="Gradients flow only through TensorFlow operations: a value computed elsewhere and "
    "turned into a tensor has no history to differentiate.",
)
def critic_loss_in_numpy(
    returns: tf.Tensor | np.ndarray, values: tf.Tensor | np.ndarray
) -> tf.Tensor:
    diff = np.asarray(returns, np.float64) - np.asarray(values, np.float64)
    return tf.constant(0.5 * np.mean(diff**2), tf.float32)


@mistake(
    "critic_loss",
    hint="For [T, n_envs] inputs, check that the mean runs over every element and the loss "
    "comes out as one number.",
)
def critic_loss_mean_over_time_only(
    returns: tf.Tensor | np.ndarray, values: tf.Tensor | np.ndarray
) -> tf.Tensor:
    returns = tf.stop_gradient(tf.cast(returns, tf.float32))
    return 0.5 * tf.reduce_mean(tf.square(returns - tf.cast(values, tf.float32)), axis=0)


@mistake(
    "critic_loss",
    hint="The mean of the squared errors is not the square of the mean error: errors of "
    "opposite signs must not cancel.",
)
def critic_loss_square_of_mean(
    returns: tf.Tensor | np.ndarray, values: tf.Tensor | np.ndarray
) -> tf.Tensor:
    returns = tf.stop_gradient(tf.cast(returns, tf.float32))
    return 0.5 * tf.square(tf.reduce_mean(returns - tf.cast(values, tf.float32)))


@mistake(
    "critic_loss",
    hint="tf.stop_gradient belongs on the targets: on the values it keeps the critic from "
    "learning at all. Check which of the two you wrapped.",
)
def critic_loss_values_stopped(
    returns: tf.Tensor | np.ndarray, values: tf.Tensor | np.ndarray
) -> tf.Tensor:
    values = tf.stop_gradient(tf.cast(values, tf.float32))
    return 0.5 * tf.reduce_mean(tf.square(tf.cast(returns, tf.float32) - values))


@mistake(
    "critic_loss",
    hint="keras.losses.mean_squared_error averages over the last axis only: for [T, n_envs] "
    "inputs it gives one loss per row, not one number.",
)
def critic_loss_keras_mse_per_row(
    returns: tf.Tensor | np.ndarray, values: tf.Tensor | np.ndarray
) -> tf.Tensor:
    returns = tf.stop_gradient(tf.cast(returns, tf.float32))
    return 0.5 * keras.losses.mean_squared_error(returns, tf.cast(values, tf.float32))


@mistake(
    "critic_loss",
    hint="TensorFlow keeps the dtype of the arrays it is given: check the dtype of your loss "
    "for float64 inputs against the docstring.",
)
def critic_loss_without_cast(
    returns: tf.Tensor | np.ndarray, values: tf.Tensor | np.ndarray
) -> tf.Tensor:
    return 0.5 * tf.reduce_mean(tf.square(tf.stop_gradient(returns) - values))


@alternative("critic_loss")
def critic_loss_l2(returns: tf.Tensor | np.ndarray, values: tf.Tensor | np.ndarray) -> tf.Tensor:
    diff = tf.cast(values, tf.float32) - tf.stop_gradient(tf.cast(returns, tf.float32))
    return tf.nn.l2_loss(diff) / tf.cast(tf.size(diff), tf.float32)


@alternative("critic_loss")
def critic_loss_keras_mse(
    returns: tf.Tensor | np.ndarray, values: tf.Tensor | np.ndarray
) -> tf.Tensor:
    targets = tf.stop_gradient(tf.convert_to_tensor(returns, tf.float32))
    return 0.5 * keras.losses.MeanSquaredError()(targets, tf.cast(values, tf.float32))


# END MISTAKES


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
    critic through them. Reduce with the mean over the batch (the tutorial sums instead). Work
    from the logits with a numerically stable function: an action whose probability underflows
    to 0 in float32 (logits 120 apart) must still give its finite ``-log pi`` (120), not ``inf``.

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


# BEGIN MISTAKES
@mistake(
    "mean_actor_loss",
    hint="The advantages come from the critic, but the actor's loss must not train the critic: "
    "check where the gradient of this loss may flow.",
)
def mean_actor_loss_advantages_not_stopped(
    logits: tf.Tensor | np.ndarray,
    actions: tf.Tensor | np.ndarray,
    advantages: tf.Tensor | np.ndarray,
) -> tf.Tensor:
    logits = tf.cast(logits, tf.float32)
    advantages = tf.cast(advantages, tf.float32)
    neg_log_pi = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(actions, tf.int32), logits=logits
    )
    return tf.reduce_mean(neg_log_pi * advantages)


@mistake(
    "mean_actor_loss",
    hint="The tutorial reduces differently from this exercise: re-read which reduction the "
    "docstring asks for.",
)
def mean_actor_loss_summed(
    logits: tf.Tensor | np.ndarray,
    actions: tf.Tensor | np.ndarray,
    advantages: tf.Tensor | np.ndarray,
) -> tf.Tensor:
    advantages = tf.stop_gradient(tf.cast(advantages, tf.float32))
    neg_log_pi = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(actions, tf.int32), logits=tf.cast(logits, tf.float32)
    )
    return tf.reduce_sum(neg_log_pi * advantages)


@mistake(
    "mean_actor_loss",
    hint="Minimising the loss must make good actions (positive advantage) MORE likely: check "
    "the sign of your loss.",
)
def mean_actor_loss_wrong_sign(
    logits: tf.Tensor | np.ndarray,
    actions: tf.Tensor | np.ndarray,
    advantages: tf.Tensor | np.ndarray,
) -> tf.Tensor:
    advantages = tf.stop_gradient(tf.cast(advantages, tf.float32))
    log_pi = -tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(actions, tf.int32), logits=tf.cast(logits, tf.float32)
    )
    return tf.reduce_mean(log_pi * advantages)


@mistake(
    "mean_actor_loss",
    hint="A cross-entropy 'with logits' applies the softmax itself: check what you give it.",
)
def mean_actor_loss_softmax_twice(
    logits: tf.Tensor | np.ndarray,
    actions: tf.Tensor | np.ndarray,
    advantages: tf.Tensor | np.ndarray,
) -> tf.Tensor:
    advantages = tf.stop_gradient(tf.cast(advantages, tf.float32))
    probs = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
    neg_log_pi = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(actions, tf.int32), logits=probs
    )
    return tf.reduce_mean(neg_log_pi * advantages)


@mistake(
    "mean_actor_loss",
    hint="Multiplying a [batch] tensor by a [batch, 1] one broadcasts to [batch, batch]: check "
    "the shapes you multiply.",
)
def mean_actor_loss_advantages_as_column(
    logits: tf.Tensor | np.ndarray,
    actions: tf.Tensor | np.ndarray,
    advantages: tf.Tensor | np.ndarray,
) -> tf.Tensor:
    advantages = tf.stop_gradient(tf.cast(advantages, tf.float32))
    neg_log_pi = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(actions, tf.int32), logits=tf.cast(logits, tf.float32)
    )
    return tf.reduce_mean(neg_log_pi * advantages[:, None])


@mistake(
    "mean_actor_loss",
    hint="Gradients flow only through TensorFlow operations: a value computed elsewhere and "
    "turned into a tensor has no history to differentiate.",
)
def mean_actor_loss_in_numpy(
    logits: tf.Tensor | np.ndarray,
    actions: tf.Tensor | np.ndarray,
    advantages: tf.Tensor | np.ndarray,
) -> tf.Tensor:
    logits = np.asarray(logits, np.float64)
    top = logits.max(axis=-1, keepdims=True)
    log_p = logits - top - np.log(np.exp(logits - top).sum(axis=-1, keepdims=True))
    taken = log_p[np.arange(len(logits)), np.asarray(actions)]
    return tf.constant(np.mean(-taken * np.asarray(advantages, np.float64)), tf.float32)


@mistake(
    "mean_actor_loss",
    hint="A probability can underflow to exactly 0 in float32, and its log is then -inf: work "
    "from the logits with a function that never forms the probability first.",
)
def mean_actor_loss_log_of_softmax(
    logits: tf.Tensor | np.ndarray,
    actions: tf.Tensor | np.ndarray,
    advantages: tf.Tensor | np.ndarray,
) -> tf.Tensor:
    probs = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
    taken = tf.gather(probs, tf.cast(actions, tf.int32), batch_dims=1)
    advantages = tf.stop_gradient(tf.cast(advantages, tf.float32))
    return tf.reduce_mean(-tf.math.log(taken) * advantages)


@mistake(
    "mean_actor_loss",
    hint="Check that nothing in your loss assumes CartPole's two actions: the number of actions "
    "is the last dimension of the logits.",
)
def mean_actor_loss_two_actions_hard_coded(
    logits: tf.Tensor | np.ndarray,
    actions: tf.Tensor | np.ndarray,
    advantages: tf.Tensor | np.ndarray,
) -> tf.Tensor:
    log_p = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
    chosen = tf.one_hot(tf.cast(actions, tf.int32), 2)
    advantages = tf.stop_gradient(tf.cast(advantages, tf.float32))
    return tf.reduce_mean(-tf.reduce_sum(chosen * log_p[:, :2], axis=-1) * advantages)


@mistake(
    "mean_actor_loss",
    hint="tf.gather along axis 1 picks the same columns in every row ([batch, batch] entries): "
    "each row needs the entry of its own action.",
)
def mean_actor_loss_gather_without_batch_dims(
    logits: tf.Tensor | np.ndarray,
    actions: tf.Tensor | np.ndarray,
    advantages: tf.Tensor | np.ndarray,
) -> tf.Tensor:
    log_p = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
    taken = tf.gather(log_p, tf.cast(actions, tf.int32), axis=1)
    advantages = tf.stop_gradient(tf.cast(advantages, tf.float32))
    return tf.reduce_mean(-taken * advantages)


@mistake(
    "mean_actor_loss",
    hint="TensorFlow keeps the dtype of the arrays it is given: check the dtype of your loss "
    "for float64 logits and advantages against the docstring.",
)
def mean_actor_loss_without_cast(
    logits: tf.Tensor | np.ndarray,
    actions: tf.Tensor | np.ndarray,
    advantages: tf.Tensor | np.ndarray,
) -> tf.Tensor:
    neg_log_pi = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=actions, logits=logits)
    return tf.reduce_mean(neg_log_pi * tf.stop_gradient(advantages))


@alternative("mean_actor_loss")
def mean_actor_loss_keras_weighted(
    logits: tf.Tensor | np.ndarray,
    actions: tf.Tensor | np.ndarray,
    advantages: tf.Tensor | np.ndarray,
) -> tf.Tensor:
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    weights = tf.stop_gradient(tf.cast(advantages, tf.float32))
    return loss(actions, tf.cast(logits, tf.float32), sample_weight=weights)


@alternative("mean_actor_loss")
def mean_actor_loss_one_hot(
    logits: tf.Tensor | np.ndarray,
    actions: tf.Tensor | np.ndarray,
    advantages: tf.Tensor | np.ndarray,
) -> tf.Tensor:
    logits = tf.cast(logits, tf.float32)
    chosen = tf.one_hot(tf.cast(actions, tf.int32), tf.shape(logits)[-1])
    log_pi = tf.reduce_sum(chosen * tf.nn.log_softmax(logits), axis=-1)
    return -tf.reduce_mean(log_pi * tf.stop_gradient(tf.cast(advantages, tf.float32)))


# END MISTAKES


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


# BEGIN MISTAKES
@mistake(
    "mean_entropy",
    hint="A probability can underflow to exactly 0 in float32, and log(0) times 0 is not 0 in "
    "floating point: re-read how the docstring says to compute log p.",
)
def mean_entropy_log_of_softmax(logits: tf.Tensor | np.ndarray) -> tf.Tensor:
    p = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
    return tf.reduce_mean(-tf.reduce_sum(p * tf.math.log(p), axis=-1))


@mistake(
    "mean_entropy",
    hint="The function returns the entropy of an average policy of the batch: check the "
    "reduction over the batch.",
)
def mean_entropy_summed_over_batch(logits: tf.Tensor | np.ndarray) -> tf.Tensor:
    log_p = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
    return tf.reduce_sum(-tf.reduce_sum(tf.exp(log_p) * log_p, axis=-1))


@mistake(
    "mean_entropy",
    hint="Each row is one policy over the actions: check along which axis you sum p log p.",
)
def mean_entropy_sum_over_batch_axis(logits: tf.Tensor | np.ndarray) -> tf.Tensor:
    log_p = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
    return tf.reduce_mean(-tf.reduce_sum(tf.exp(log_p) * log_p, axis=0))


@mistake(
    "mean_entropy",
    hint="Entropy is never negative, since log p <= 0: check the sign of your result.",
)
def mean_entropy_missing_minus(logits: tf.Tensor | np.ndarray) -> tf.Tensor:
    log_p = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
    return tf.reduce_mean(tf.reduce_sum(tf.exp(log_p) * log_p, axis=-1))


@mistake(
    "mean_entropy",
    hint="Entropy sums over the actions; averaging over them instead scales it by the number "
    "of actions.",
)
def mean_entropy_mean_over_actions(logits: tf.Tensor | np.ndarray) -> tf.Tensor:
    log_p = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
    return tf.reduce_mean(-tf.reduce_mean(tf.exp(log_p) * log_p, axis=-1))


@mistake(
    "mean_entropy",
    hint="The docstring measures entropy in nats: check the base of your logarithm.",
)
def mean_entropy_in_bits(logits: tf.Tensor | np.ndarray) -> tf.Tensor:
    log_p = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
    bits = -tf.reduce_sum(tf.exp(log_p) * log_p, axis=-1) / tf.math.log(2.0)
    return tf.reduce_mean(bits)


@mistake(
    "mean_entropy",
    hint="TensorFlow keeps the dtype of the arrays it is given: check the dtype of your entropy "
    "for float64 logits against the docstring.",
)
def mean_entropy_without_cast(logits: tf.Tensor | np.ndarray) -> tf.Tensor:
    log_p = tf.nn.log_softmax(logits, axis=-1)
    return tf.reduce_mean(-tf.reduce_sum(tf.exp(log_p) * log_p, axis=-1))


@alternative("mean_entropy")
def mean_entropy_cross_entropy_with_itself(logits: tf.Tensor | np.ndarray) -> tf.Tensor:
    logits = tf.cast(logits, tf.float32)
    p = tf.nn.softmax(logits, axis=-1)
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=p, logits=logits))


@alternative("mean_entropy")
def mean_entropy_logsumexp(logits: tf.Tensor | np.ndarray) -> tf.Tensor:
    logits = tf.cast(logits, tf.float32)
    p = tf.nn.softmax(logits, axis=-1)
    entropy = tf.reduce_logsumexp(logits, axis=-1) - tf.reduce_sum(p * logits, axis=-1)
    return tf.reduce_mean(entropy)


# END MISTAKES
