# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Advantage actor-critic (A2C) on CartPole
#
# In supervised learning the right answer comes with every example. In reinforcement learning
# an *agent* only gets a number, the **reward**, after each action, and has to work out for
# itself which of its earlier choices earned it. This notebook builds one of the simplest
# algorithms that learns well from such signals: **advantage actor-critic**, or A2C. One neural
# network plays two parts:
#
# * the **actor** (the *policy*) looks at the current state and gives a probability to each
#   action;
# * the **critic** looks at the same state and estimates how much reward is still to come from
#   it. The actor uses that estimate as a yardstick: an action is encouraged when it did
#   *better than the critic expected*, and discouraged when it did worse.
#
# Plan of the notebook:
#
# 1. the task: CartPole, and what a random agent achieves;
# 2. value, Q and advantage, and why a baseline helps;
# 3. discounted returns, done masks, bootstrapping, time limits, advantages and GAE(λ), worked
#    out on tiny examples you can check by hand;
# 4. the entropy of a policy;
# 5. the actor-critic network and its three losses;
# 6. many environments at once, and how episodes are kept apart;
# 7. a real training run, its learning curve, a GIF of the trained agent and TensorBoard.
#
# The RL functions used here live in `tfcourse/rl/` (one module each for rollouts, returns, the
# model, the loss); open their source when you want to see how something is done. With
# `TFCOURSE_FAST=1` the training run is shortened so the notebook finishes in well under a minute
# (that is what the test-suite does).


# %%
# Installs tfcourse if this kernel lacks it (e.g. a fresh Colab runtime); else does nothing.
# TFCOURSE_INSTALL is what pip installs: the course repository (newest version, needs git),
# or for a handout the wheel it was released with. An environment variable of the same name
# overrides it (offline: the path of a local wheel).
import importlib
import importlib.metadata
import os
import subprocess
import sys

TFCOURSE_INSTALL = "git+https://github.com/tfcourse/tfcourse.git"

try:  # installed? (a folder named tfcourse here, e.g. a git clone, does not count)
    importlib.metadata.distribution("tfcourse")
except importlib.metadata.PackageNotFoundError:
    install = os.environ.get("TFCOURSE_INSTALL", TFCOURSE_INSTALL)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", install], check=True)
    importlib.invalidate_caches()  # so that the import below finds the new package

from tfcourse.notebook_setup import setup_notebook

setup_notebook()  # which tfcourse runs here, where the data comes from

# %%
from tfcourse.settings import import_tensorflow_quietly

import_tensorflow_quietly()  # TensorFlow's C++ start-up lines stay out of the notebook

import dataclasses
import inspect

import gymnasium as gym
import keras
import numpy as np
import tensorflow as tf
from gymnasium.vector import AutoresetMode
from IPython.display import Image, display

from tfcourse.rl import a2c, returns
from tfcourse.rl.config import PRESETS, A2CConfig
from tfcourse.rl.evaluate import evaluate_run
from tfcourse.rl.lr import LearningRate
from tfcourse.rl.model import build_model
from tfcourse.rl.rollout import EpisodeStats, collect, make_envs
from tfcourse.rl.trainer import A2CTrainer
from tfcourse.run import summaries
from tfcourse.settings import fast_mode, fast_or

keras.utils.set_random_seed(3)
np.set_printoptions(precision=3, suppress=True)
print("TensorFlow", tf.__version__, "| Keras", keras.__version__, "| gymnasium", gym.__version__)
print("FAST mode:", fast_mode())

# %% [markdown]
# ## 1. The task: balancing a pole on a cart
#
# In `CartPole-v1` a pole stands on a hinge on top of a cart that runs along a track. At every
# step the agent pushes the cart left or right, and it receives a reward of +1 for every step
# the pole stays up. The episode ends in one of two ways:
#
# * **terminated**: the pole leans more than 12° from vertical or the cart leaves the track.
#   This is a real end: there is no future reward after it;
# * **truncated**: 500 steps have passed. The pole is still up, the episode is simply cut off by
#   a time limit. Keep this difference in mind: it matters in section 3.
#
# So an episode's return, the sum of its rewards, is its length: at most 500. The task counts
# as solved when the average over 100 episodes reaches 475.
#
# gymnasium describes what the agent sees and what it may do with two *spaces*:

# %%
env = gym.make("CartPole-v1")
print("observation space:", env.observation_space)
print("action space:     ", env.action_space)
print("time limit:", env.spec.max_episode_steps, "steps | solved at", env.spec.reward_threshold)
OBS_DIM = env.observation_space.shape[0]
N_ACTIONS = int(env.action_space.n)

# %% [markdown]
# An observation is four numbers: the cart's position and velocity, and the pole's angle (in
# radians) and angular velocity. The two actions are 0 (push left) and 1 (push right).
#
# Before learning anything, let us see how long a pole stays up when the agent pushes at
# random. We also keep the observations it meets: they make a handy batch for later sections.

# %%
random_episode_returns, seen_obs = [], []
for episode in range(20):
    obs, _ = env.reset(seed=episode)
    env.action_space.seed(episode)
    total, done = 0.0, False
    while not done:
        seen_obs.append(obs)
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        total += reward
        done = terminated or truncated
    random_episode_returns.append(total)
env.close()
seen_obs = np.array(seen_obs, dtype=np.float32)
print("returns of a random agent:", random_episode_returns)
print(f"mean {np.mean(random_episode_returns):.1f}; {len(seen_obs)} observations kept")
print("e.g.", seen_obs[5])

# %% [markdown]
# About twenty steps. The goal is 500.
#
# ### The words we use
#
# The same names appear in the library, in this notebook and in the equations. Arrays from a
# rollout of `T` steps of `n` environments are *time-major*: row `t` holds step `t` of every
# environment, shape `[T, n]`.
#
# | name | symbol | shape | meaning |
# |---|---|---|---|
# | `obs` | $s_t$ | `[T, n, 4]` | the observation (state) before step `t` |
# | `actions` | $a_t$ | `[T, n]` | the action taken at step `t` |
# | `rewards` | $r_t$ | `[T, n]` | the reward received for it |
# | `dones` | $d_t$ | `[T, n]` | 1 if the episode ended (terminated or truncated) at step `t` |
# | `values` | $V(s_t)$ | `[T, n]` | the critic's estimate of the reward still to come from $s_t$ |
# | `bootstrap_value` | $V(s_T)$ | `[n]` | the critic's value of the state after the last step |
# | `final_values` | | `[T, n]` | $V$ of the final observation where a time limit cut an episode |
# | `returns` | $R_t$ | `[T, n]` | the discounted rewards from step `t` on: the critic's target |
# | `advantages` | $A_t$ | `[T, n]` | how much better step `t` went than the critic expected |
# | `episode_returns` | | one per episode | a whole episode's plain sum of rewards |
# | `gamma` | $\gamma$ | | discount factor: a reward `k` steps ahead counts $\gamma^k$ as much |
# | `lam` | $\lambda$ | | the GAE mixing factor of section 3.5 |

# %% [markdown]
# ## 2. Value, Q and advantage
#
# Three quantities describe how good things are, always *for a given policy* $\pi$:
#
# * the **value** of a state is the discounted reward you expect to collect from it by
#   following the policy:
#   $V(s) = \mathbb{E}\left[r_t + \gamma r_{t+1} + \gamma^2 r_{t+2} + \dots \mid s_t = s\right]$;
# * the **Q value** of a state *and an action* is the same expectation when you first take
#   that particular action and only then follow the policy. One step of reward plus the value
#   of wherever you land: $Q(s, a) = \mathbb{E}\left[r_t + \gamma V(s_{t+1}) \mid s_t = s,
#   a_t = a\right]$;
# * the **advantage** of an action is how much better it is than the policy's average
#   behaviour in that state: $A(s, a) = Q(s, a) - V(s)$. Positive means "better than usual".
#
# ### Why subtract a baseline?
#
# A policy-gradient method nudges the probability of each action it took, in proportion to a
# score of how well things went afterwards. If the score is the raw return, then in CartPole,
# where every reward is +1, *every* action taken gets pushed up, good and bad alike; only the
# amounts differ, and the signal that separates them is buried in large, noisy numbers.
# Subtracting a baseline that depends only on the state, such as $V(s)$, leaves the average
# direction of the update unchanged (the policy's probabilities sum to one, so the expected
# gradient of the baseline term is zero) but makes the individual updates much less noisy:
# now the score is large only when an action really was better or worse than usual.
#
# Here is that effect measured in numbers, in a made-up one-state problem with two actions. The
# policy picks each action with probability 0.5 (a single parameter $\theta$, with
# $p(\text{action } 1) = \text{sigmoid}(\theta)$). Action 0 is worth about 10 and action 1 about
# 11. The gradient of $\log \pi(a)$ with respect to $\theta$ is $1 - p$ for action 1 and $-p$ for
# action 0; multiply it by the score and you get one sample of the policy gradient.

# %%
rng = np.random.default_rng(0)
p = 0.5  # probability of action 1
sampled_actions = rng.random(100_000) < p
scores = np.where(sampled_actions, 11.0, 10.0) + rng.normal(0.0, 0.5, sampled_actions.size)
grad_log_pi = np.where(sampled_actions, 1 - p, -p)
baseline = 10.5  # the value of the state: the average score under this policy
for label, weight in (("raw return      ", scores), ("return - V(s)   ", scores - baseline)):
    samples = grad_log_pi * weight
    print(f"{label}: mean gradient {samples.mean():+.3f}, standard deviation {samples.std():.3f}")

# %% [markdown]
# Both estimates point the same way on average (about +0.25: make action 1 more likely), but
# the one with the baseline is about twenty times less noisy, so far fewer samples are needed
# to see the direction. A2C uses the critic's $V(s)$ as this baseline, and the advantage as the
# score.

# %% [markdown]
# ## 3. Returns, from rewards
#
# ### 3.1 Discounted returns, worked backwards
#
# The return from step `t` is the reward now plus the discounted return from the next step:
#
# $$R_t = r_t + \gamma \, R_{t+1} \, (1 - d_t)$$
#
# Computing it backwards, from the last step to the first, needs one pass. The factor
# $(1 - d_t)$ is the **done mask**: when an episode ends at step `t`, nothing that happens
# afterwards (which belongs to the next episode) may be added to $R_t$.
#
# Start with three rewards of 1, no episode end, $\gamma = 0.5$ and nothing after the last
# step: $R_2 = 1$, $R_1 = 1 + 0.5 \cdot 1 = 1.5$, $R_0 = 1 + 0.5 \cdot 1.5 = 1.75$.

# %%
print(returns.discounted_returns_loop([1, 1, 1], [0, 0, 0], gamma=0.5, bootstrap_value=0.0))

# %% [markdown]
# Now the episode ends after step 1 and a new one starts at step 2. The third reward belongs to
# the new episode and must not leak into the first two:

# %%
print(returns.discounted_returns_loop([1, 1, 1], [0, 1, 0], gamma=0.5, bootstrap_value=0.0))

# %% [markdown]
# ### 3.2 Bootstrapping
#
# A2C learns from short pieces of experience, say `T` steps, without waiting for episodes to
# end. The rewards after the piece are unknown, but the critic has an opinion about them: its
# value of the state reached after the last step, $V(s_T)$. Starting the backward pass from
# that estimate instead of from 0 is called **bootstrapping**: $R_T = V(s_T)$.
#
# With $V(s_T) = 4$: $R_2 = 1 + 0.5 \cdot 4 = 3$, $R_1 = 2.5$, $R_0 = 2.25$.

# %%
print(returns.discounted_returns_loop([1, 1, 1], [0, 0, 0], gamma=0.5, bootstrap_value=4.0))

# %% [markdown]
# ### 3.3 Terminated or truncated?
#
# When the pole falls (terminated), the future is empty and the done mask rightly cuts it off.
# When the 500-step limit stops an episode (truncated), the pole is still up and the state
# after the last step still has value; pretending it is worth 0 teaches the critic that states
# near step 500 are bad, which they are not. But we cannot simply leave `done = 0` either: the
# next row of the rollout already belongs to a fresh episode.
#
# The fix is to do both: add $\gamma V(s_\text{final})$, the critic's value of the true last
# observation, to the reward of the truncated step, and then mark the step as done.
# `returns.bootstrap_truncated` makes that correction; a step that is *terminated* gets
# nothing added, even if it is also flagged as truncated.
#
# Below, the last step is cut off by the time limit and the critic values the final
# observation at 10, so its reward becomes $1 + 0.5 \cdot 10 = 6$:

# %%
rewards3 = np.array([1.0, 1.0, 1.0])
cut = np.array([0, 0, 1])
final_values = np.array([0.0, 0.0, 10.0])
for name, terminated in (("truncated", None), ("terminated", cut)):
    fixed = returns.bootstrap_truncated(rewards3, cut, final_values, 0.5, terminations=terminated)
    target = returns.discounted_returns_loop(fixed, cut, gamma=0.5, bootstrap_value=0.0)
    print(f"{name:10s}: rewards {fixed} -> returns {target}")

# %% [markdown]
# ### 3.4 The loop and the vectorised version
#
# `discounted_returns_loop` is the backward loop written in numpy: easy to follow, but a Python
# loop. `discounted_returns` computes the same thing in TensorFlow with one `tf.scan` over time,
# for all environments at once, and can run inside a compiled `tf.function`. Both accept
# `[T]` or `[T, n_envs]` arrays. On a random rollout of 6 steps in 3 environments they agree:

# %%
rng = np.random.default_rng(1)
T, N_ENVS = 6, 3
toy_rewards = rng.integers(0, 3, (T, N_ENVS)).astype(np.float32)
toy_dones = (rng.random((T, N_ENVS)) < 0.25).astype(np.float32)
toy_bootstrap_value = np.array([0.5, 1.0, 2.0], np.float32)  # V(s_T), one per environment

loop = returns.discounted_returns_loop(toy_rewards, toy_dones, 0.9, toy_bootstrap_value)
vectorised = returns.discounted_returns(toy_rewards, toy_dones, 0.9, toy_bootstrap_value)
print("rewards\n", toy_rewards, "\ndones\n", toy_dones, "\nreturns\n", vectorised.numpy())
print("numpy loop and tf.scan agree:", np.allclose(loop, vectorised.numpy()))

# %% [markdown]
# ### 3.5 Advantages and GAE(λ)
#
# With the returns in hand, the advantage of each step is what happened minus what the critic
# expected: $A_t = R_t - V(s_t)$. In the three-reward example above (returns
# `[1.75, 1.5, 1]`), a critic that predicted 1.5 everywhere is exactly right about the middle
# step, too pessimistic about the first (positive advantage) and too optimistic about the last
# (negative advantage):

# %%
print(returns.advantages_from_returns(np.array([1.75, 1.5, 1.0]), np.array([1.5, 1.5, 1.5])))

# %% [markdown]
# This advantage trusts the real rewards all the way to the end of the rollout: unbiased, but
# noisy, since every later reward adds noise. The other extreme trusts the critic after one
# step; that is the *TD error*
#
# $$\delta_t = r_t + \gamma V(s_{t+1})(1 - d_t) - V(s_t),$$
#
# which is much less noisy but inherits every mistake the critic makes. **Generalised advantage
# estimation** blends the two with a factor $\lambda$ between 0 and 1, adding up TD errors with
# weights that fade by $\gamma\lambda$ per step:
#
# $$A_t = \delta_t + \gamma \lambda (1 - d_t) A_{t+1}.$$
#
# $\lambda = 1$ gives back exactly $R_t - V(s_t)$, $\lambda = 0$ gives $\delta_t$. We check both
# identities on the random rollout, with made-up critic values:

# %%
toy_values = rng.normal(1.0, 0.5, (T, N_ENVS)).astype(np.float32)
gae_1, targets_1 = returns.gae_advantages(
    toy_rewards, toy_values, toy_dones, toy_bootstrap_value, gamma=0.9, lam=1.0
)
plain = returns.advantages_from_returns(vectorised, toy_values)
print("lam = 1 equals returns - values:", np.allclose(gae_1, plain, atol=1e-5))
print("and its returns are the discounted returns:", np.allclose(targets_1, vectorised))

next_values = np.concatenate([toy_values[1:], toy_bootstrap_value[None]])
td_errors = toy_rewards + 0.9 * next_values * (1 - toy_dones) - toy_values
gae_0, _ = returns.gae_advantages(toy_rewards, toy_values, toy_dones, toy_bootstrap_value, 0.9, 0.0)
print("lam = 0 equals the one-step TD errors:", np.allclose(gae_0, td_errors, atol=1e-5))

gae_95, _ = returns.gae_advantages(
    toy_rewards, toy_values, toy_dones, toy_bootstrap_value, 0.9, 0.95
)
print("first environment, lam = 0 / 0.95 / 1:")
print(np.stack([gae_0[:, 0], gae_95[:, 0], gae_1[:, 0]], axis=1))

# %% [markdown]
# Both presets of the trainer use $\lambda = 1$, the plain bootstrapped advantage; lowering it
# to about 0.95 is a common choice in other tasks.

# %% [markdown]
# ## 4. The entropy of a policy
#
# The **entropy** $H(p) = -\sum_a p_a \log p_a$ measures how undecided a probability
# distribution is. For two actions it is largest, $\log 2 \approx 0.693$, at 50/50, and falls
# to 0 as one action becomes certain. A policy that gives 0.1 and 0.9 has
# $-(0.1 \log 0.1 + 0.9 \log 0.9) \approx 0.325$.
#
# Our network outputs **logits** (unnormalised scores) rather than probabilities; the policy is
# their softmax. The logarithms of the probabilities are valid logits for them, so we use those.

# %%
policies = np.array([[0.1, 0.9], [0.5, 0.5], [0.01, 0.99]])
for probs, h in zip(policies, a2c.entropy(np.log(policies)).numpy(), strict=True):
    print(f"policy {probs}: entropy {h:.3f}")

# %% [markdown]
# The actor's loss for one step is $-\log \pi(a_t \mid s_t) \cdot A_t$. If the policy above chose
# action 1 (probability 0.9), $-\log 0.9 \approx 0.105$: the cost of an action shrinks as it
# becomes more likely. `a2c.actor_loss` computes it from the logits (with an advantage of 1 here,
# so we see the bare $-\log \pi$):

# %%
logits_09 = np.log([[0.1, 0.9]])
print("-log 0.9 =", float(a2c.actor_loss(logits_09, [1], [1.0])))

# %% [markdown]
# The sign of the advantage decides the direction. Gradient descent on this loss changes the
# logits by *minus* the gradient: with a positive advantage the chosen action's logit goes up,
# with a negative one it goes down.

# %%
for advantage in (2.0, -2.0):
    logits_var = tf.Variable(logits_09, dtype=tf.float32)
    with tf.GradientTape() as tape:
        loss = a2c.actor_loss(logits_var, [1], [advantage])
    step = -tape.gradient(loss, logits_var).numpy()[0]
    print(f"advantage {advantage:+.0f}: descent direction for the logits {step}")

# %% [markdown]
# **The entropy bonus.** A2C subtracts `entropy_coef` times the mean entropy from the loss.
# Minimising the loss then also pushes the entropy *up*, which keeps the policy from becoming
# nearly deterministic too early and so keeps it trying both actions. The tutorial weights it by
# 0.05. Too large a weight stops the policy from ever becoming reliable, and on CartPole the
# tuned `fast` preset turns it off altogether: sampling actions from the policy already explores
# enough.

# %% [markdown]
# ## 5. The actor-critic network
#
# `ActorCritic` (in `tfcourse/rl/model.py`) is a subclassed `keras.Model`. Two hidden ReLU
# layers of 64 units form a **shared trunk** that both heads read from: what helps judge a state
# (the critic) also helps choose an action (the actor), so they share features and are trained
# together. On top sit
#
# * a **value head**: one linear unit, $V(s)$;
# * a **logits head**: one linear unit per action; softmax of these is $\pi(a \mid s)$.
#
# `build_model` creates the model and its weights for a given observation width.

# %%
model = build_model(OBS_DIM, N_ACTIONS)
model.summary()

# %% [markdown]
# Called on a batch of observations `[batch, 4]`, the model returns the values `[batch]` and the
# logits `[batch, 2]`. Two compiled helpers act with it: `action_value` *samples* one action per
# row from the policy (what we do while training, so the agent keeps exploring), and
# `greedy_actions` takes the most probable one (what we do to evaluate).

# %%
obs_batch = seen_obs[:5]
values, logits = model(obs_batch)
print("obs", obs_batch.shape, "-> values", values.shape, "logits", logits.shape)
print("policy probabilities:\n", tf.nn.softmax(logits).numpy())
sampled, _ = model.action_value(obs_batch)
greedy = model.greedy_actions(obs_batch)
print("sampled actions:", sampled.numpy(), "| greedy actions:", greedy.numpy())

# %% [markdown]
# ### The three losses
#
# For a batch of `B` steps with their actions, returns and advantages:
#
# * **critic**: `critic_coef * mean((returns - values)²)`, a regression of $V(s_t)$ on $R_t$
#   (`critic_coef` 0.5 by default);
# * **actor**: $-\sum_t \log \pi(a_t \mid s_t) \, A_t$ (the tutorial sums over the batch; the
#   `fast` preset averages);
# * **entropy**: the mean entropy of the policy over the batch, *subtracted* with weight
#   `entropy_coef`.
#
# $$\text{total} = \text{actor} + \text{critic} - c_\text{ent} \cdot \text{entropy},
# \qquad c_\text{ent} = \texttt{entropy\_coef}$$
#
# The returns and advantages are treated as fixed targets: no gradient flows through them.
# Here are the losses of the untrained network on a tiny batch of 5 steps, with every setting
# passed explicitly. The values the critic predicted are subtracted from some made-up returns
# to form the advantages, and we recompute the critic's term by hand to check it:

# %%
batch_actions = np.array([0, 1, 1, 0, 1])
batch_returns = np.array([3.0, 2.5, 2.0, 1.5, 1.0], np.float32)
batch_advantages = returns.advantages_from_returns(batch_returns, values.numpy())
losses = a2c.total_loss(
    logits,
    values,
    batch_actions,
    batch_returns,
    batch_advantages,
    critic_coef=0.5,
    entropy_coef=0.05,
    reduction="sum",
)
for name, loss_value in losses.items():
    print(f"{name:8s} {float(loss_value):8.4f}")
by_hand = 0.5 * np.mean((batch_returns - values.numpy()) ** 2)
print(f"critic by hand: {by_hand:.4f}")

# %% [markdown]
# One gradient step on the total loss moves both heads and the shared trunk at once:

# %%
optimizer = keras.optimizers.Adam(learning_rate=1e-2)
for step in range(3):
    with tf.GradientTape() as tape:
        values, logits = model(obs_batch)
        losses = a2c.total_loss(
            logits, values, batch_actions, batch_returns, batch_advantages,
            critic_coef=0.5, entropy_coef=0.05, reduction="sum",
        )  # fmt: skip
    grads = tape.gradient(losses["total"], model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
    print(f"step {step}: critic {float(losses['critic']):.4f}, actor {float(losses['actor']):+.4f}")

# %% [markdown]
# The critic's error shrinks. (In real training the advantages are recomputed from fresh
# experience for every update; here they stay fixed, so only the critic's trend means much.)

# %% [markdown]
# ## 6. Many environments at once
#
# One CartPole step takes microseconds; a call into the network costs far more. A2C therefore
# runs `n_envs` copies of the environment side by side as one **vector environment**: one
# network call chooses the actions of all copies, and one update learns from all of them. Its
# `step` takes `[n_envs]` actions and returns `[n_envs]` rewards, terminations and
# truncations, and `[n_envs, 4]` observations.
#
# ### Autoreset
#
# Different copies finish their episodes at different times, so a vector environment restarts
# a finished copy by itself. gymnasium 1.x offers several *autoreset modes* for when that
# happens:
#
# * `NEXT_STEP` (gymnasium's default): the step that ends the episode returns its last
#   observation. The reset happens on the **next** call to `step`, which ignores the action
#   for that copy and returns the first observation of the new episode with a reward of 0.
#   A rollout that stores every step as a transition thus records a fake one, from the end of
#   one episode to the start of the next, which must be filtered out;
# * `SAME_STEP`: the reset happens **in the same call**. `step` returns the first observation of
#   the new episode, and the real last one is put aside in `info["final_obs"]`;
# * `DISABLED`: you reset finished copies yourself.
#
# Here is the difference with one copy and a "policy" that always pushes left, which topples
# the pole after a few steps:

# %%
for mode in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP):
    envs = gym.make_vec(
        "CartPole-v1", num_envs=1, vectorization_mode="sync", vector_kwargs={"autoreset_mode": mode}
    )
    obs, _ = envs.reset(seed=0)
    terminated = np.array([False])
    while not terminated[0]:
        obs, reward, terminated, _, info = envs.step(np.array([0]))
    print(f"{mode.name}: the ending step returns obs {obs[0]}")
    if "final_obs" in info:
        print(f"{'':10s} info['final_obs'] holds      {info['final_obs'][0]}")
    obs, reward, *_ = envs.step(np.array([0]))
    print(f"{'':10s} the step after returns obs {obs[0]} and reward {reward[0]}")
    envs.close()

# %% [markdown]
# `rollout.make_envs` builds its vector environments in `SAME_STEP` mode. Then every row that
# `rollout.collect` stores, `(obs_t, actions_t, rewards_t, dones_t)`, is a real transition of
# one episode, and `dones_t = 1` marks where an episode stops; the done mask of section 3 makes
# sure no return crosses that line. For a truncated step, `collect` also asks the critic for
# the value of `info["final_obs"]` and stores it in `final_values`, ready for
# `bootstrap_truncated`.
#
# A short rollout of 40 steps in 4 environments with our barely trained network:

# %%
vec_envs = make_envs("CartPole-v1", n_envs=4, seed=0)
obs, _ = vec_envs.reset(seed=0)
stats = EpisodeStats(4)


def act(obs):
    """Sample an action per environment; also return the critic's values."""
    actions, values = model.action_value(obs)
    return actions.numpy(), values.numpy()


def value(obs):
    """The critic's values only (for the final observations of truncated episodes)."""
    return model(obs)[0].numpy()


rollout = collect(vec_envs, obs, 40, act, value, stats)
vec_envs.close()
for field in dataclasses.fields(rollout):
    array = getattr(rollout, field.name)
    print(f"{field.name:13s} {array.shape!s:12s} {array.dtype}")
episode_returns, episode_lengths = stats.drain()
print("episodes finished during the rollout:", len(episode_returns), episode_returns)

# %% [markdown]
# In the `dones` column of each environment (printed across, one line per environment) a `1`
# marks the last step of an episode. Right after it the observations start afresh: all four
# numbers are small again.

# %%
for i in range(4):
    print(f"env {i}:", "".join(str(int(d)) for d in rollout.dones[:, i]))
ends = np.argwhere(rollout.dones[:-1])  # (step, env) of episode ends, except at the last step
if len(ends):
    t, i = ends[0]
    print(f"env {i}, step {t}: obs {rollout.obs[t, i]} (last step of an episode)")
    print(f"env {i}, step {t + 1}: obs {rollout.obs[t + 1, i]} (first step of the next one)")

# %% [markdown]
# On this real rollout, the n-step returns of section 3: bootstrap from the critic's value of
# `last_obs` and discount the rewards over `[T, n]`. This is only their core; the trainer also
# scales the rewards, adds the truncation bootstrap (`final_values`) and uses GAE, as the next
# cell shows.

# %%
bootstrap_value = value(rollout.last_obs)  # V(s_T), one per environment
rollout_returns = returns.discounted_returns(rollout.rewards, rollout.dones, 0.99, bootstrap_value)
print("returns", rollout_returns.shape, "| first row:", rollout_returns[0].numpy())

# %% [markdown]
# The library writes those steps down once, in `tfcourse/rl/a2c.py`, as three plain functions:
# `a2c_batch(model, rollout, hp)` (reward scaling, truncation bootstrap, the critic's values, GAE:
# the rollout's transitions and their targets), `a2c_loss(model, batch, hp)` (forward pass, the
# three losses) and `a2c_step(model, optimizer, batch, hp)` (tape, gradient, one optimizer step;
# the optimizer clips the gradient's global norm). The trainer of section 7 runs exactly these,
# compiled; here they are, called as they are on the rollout above with the fast preset's
# settings:


# %%
print(inspect.getsource(a2c.a2c_batch))
print(inspect.getsource(a2c.a2c_loss))
hp = A2CConfig().resolved()
step_model = build_model(OBS_DIM, N_ACTIONS)
n_updates = hp.total_steps // (hp.n_envs * hp.n_steps)
step_optimizer = LearningRate(hp, n_updates).optimizer  # the trainer's optimizer and lr schedule
step_optimizer.global_clipnorm = hp.max_grad_norm  # Keras clips the global norm, as the trainer
for k in range(3):
    batch = a2c.a2c_batch(step_model, rollout, hp)
    out = a2c.a2c_step(step_model, step_optimizer, batch, hp)
    print(f"update {k}: " + ", ".join(f"{name} {float(v):.3f}" for name, v in out.items()))

# %% [markdown]
# ## 7. Training
#
# `A2CTrainer` repeats two phases until it has taken `total_steps` environment steps:
#
# 1. **collect** a rollout of `n_steps` steps in each of `n_envs` environments (section 6);
# 2. **update**: one compiled `tf.function` (XLA) takes the rollout, scales the rewards, folds in
#    the truncation bootstrap, computes the advantages with GAE, the three losses and the
#    gradients, clips them, and applies one optimizer step.
#
# Afterwards it plays 100 greedy episodes, saves the model (`model.keras`), the learning curve
# (`episode_returns.png`), a GIF of one greedy episode (`episode.gif`) and `metrics.json` in a
# run directory `runs/<name>-seed<seed>-<time>/`, with TensorBoard logs alongside.
#
# There are two presets. `tutorial` is the original recipe; `fast` (the default) was tuned on
# this machine:

# %%
for key in PRESETS["fast"]:
    print(f"{key:16s} tutorial {PRESETS['tutorial'][key]!s:8s} fast {PRESETS['fast'][key]}")

# %% [markdown]
# What the `fast` preset changes, and why:
#
# * 16 environments × 16 steps per update instead of 1 × 64: four times as many samples per
#   update, from 16 different episodes at a time, so consecutive samples are less alike;
# * $\gamma = 0.99$ instead of 0.95: the agent looks about 100 steps ahead instead of 20;
# * RMSprop at 8e-3 with the gradient norm clipped at 0.5, instead of Adam at 1e-3 unclipped:
#   bigger steps, but no single wild batch can throw the network far;
# * the learning rate decays linearly to 0 over the run and drops ×0.1 the moment the mean of
#   the last 100 episodes first reaches the target (`solved_lr_factor`): once the task is
#   solved the advantages are mostly noise, but RMSprop divides each gradient by its running
#   size, so its steps stay about `lr` long and the policy would drift until it fails again;
# * rewards × 0.1 before they become the critic's targets: with $\gamma = 0.99$ and +1 per step
#   the returns approach 100, scaled they stay below 10, which keeps the critic's loss, and its
#   gradients, from swamping the actor's;
# * the actor's loss averaged rather than summed over the batch, so its scale does not depend
#   on the batch size; and no entropy bonus (section 4).
#
# The full run below takes 300,000 steps, well under a minute of training on two CPU cores.
# With seed 1 the running mean of the last 100 episodes first reaches 475 after about 107,000
# steps and stays above 475 from then on; in the end the greedy agent keeps the pole up for
# all 500 steps of every evaluation episode. In FAST mode we train for only 20,000 steps: far
# from solved, but already well beyond a random agent.

# %%
config = A2CConfig(
    preset="fast",
    total_steps=fast_or(300_000, 20_000),
    seed=1,
    logdir="runs",
    name="a2c-notebook",
)
trainer = A2CTrainer(config)
print("run directory:", trainer.run_dir)
metrics = trainer.fit()
for key in ("steps_completed", "episodes", "train_mean_return_100", "mean_return", "steps_per_s"):
    print(f"{key:22s} {metrics[key]:g}")
if metrics["solved_step"] is None:  # the running mean of 100 episodes never reached the target
    print("not solved in this run" + (": FAST mode trains far too briefly" if fast_mode() else ""))
else:
    print(f"solved at step {metrics['solved_step']:,} after {metrics['solved_seconds']:.0f} s")

# %% [markdown]
# `train_mean_return_100` is the average of the last 100 training episodes, in which actions are
# *sampled*; `mean_return` comes from 100 fresh episodes in which the agent always takes its
# most probable action. The greedy agent usually does better, because it never makes the
# occasional unlucky random choice.
#
# Each dot of the learning curve is one training episode, placed at the step where it ended;
# the line is the running mean of the last 100. The dashed line is the 475 target.

# %% tags=["figure"]
display(Image(filename=str(trainer.run_dir / "episode_returns.png")))

# %% [markdown]
# And one greedy episode of the trained agent (only every second frame is kept, each shown
# twice as long, so it plays in real time):

# %% tags=["figure"]
print("return of the recorded episode:", metrics["gif_return"])
display(Image(filename=str(trainer.run_dir / "episode.gif")))

# %% [markdown]
# ### Evaluating a saved run
#
# The run directory is self-contained: `evaluate_run` loads `model.keras` and plays greedy
# episodes with fresh seeds. From a terminal the same is `tfcourse eval a2c RUN_DIR`.

# %%
report = evaluate_run(trainer.run_dir, episodes=fast_or(100, 20), seed=123)
print(report)

# %% [markdown]
# ### TensorBoard
#
# From the folder where you ran this notebook:
#
# ```bash
# tfcourse tensorboard --logdir runs
# ```
#
# and open the address it prints (usually http://localhost:6006). The *Scalars* tab shows the
# four losses (`a2c/losses/actor`, `a2c/losses/critic`, `a2c/losses/entropy`,
# `a2c/losses/total`) and `a2c/charts/episodic_return`, `a2c/charts/mean_return_100`,
# `a2c/charts/grad_norm`, `a2c/charts/sps` (steps per second) against environment steps
# (summed over the envs); *Images* shows the episode returns and frames of the greedy episode.
# The same numbers from Python:

# %%
scalars = summaries.read_scalars(trainer.run_dir)
curve = scalars["a2c/charts/mean_return_100"]
for step, mean_return in curve[:: max(1, len(curve) // 8)]:
    print(f"step {step:7d}: mean return of the last 100 episodes {mean_return:6.1f}")

# %% [markdown]
# The same run from the command line is `tfcourse train a2c` (add `--preset tutorial` for the
# original recipe, `--total-steps 100000` to change the length, `--help` for every option).
#
# ## Try it
#
# 1. Train with `A2CConfig(preset="tutorial", total_steps=100_000)`. How does its learning
#    curve compare with the `fast` preset's over the same number of steps?
# 2. Starting from the `fast` preset, change one setting at a time: `entropy_coef=0.05`,
#    `reward_scale=1.0`, `max_grad_norm=0.0`, `gamma=0.95`. Which one hurts most?
# 3. Try GAE with `lam=0.95`, or `normalize_advantages=True`. Does either speed up learning?
# 4. Keep `n_envs * n_steps` at 256 but reshape it: 4 × 64, 64 × 4. What happens to the speed
#    (`steps_per_s`) and to the learning per step?
# 5. In section 3.3, what target does a truncated step get if you forget the correction, and by
#    how much does it differ when the critic values the final state at 10?
# 6. Train on `Acrobot-v1` (`A2CConfig(env="Acrobot-v1")`: the env picks its own preset and
#    "solved" threshold, -100; `A2CConfig(env="Acrobot-v1").resolved()` shows them). Its rewards
#    are -1 per step: what does that mean for the values the critic must learn?
