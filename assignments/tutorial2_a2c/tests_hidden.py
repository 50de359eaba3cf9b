"""Hidden tests for assignment 2 (A2C building blocks): edge cases and random inputs.

Random cases are compared with tfcourse's own implementations (``tfcourse.rl.returns`` and
``tfcourse.rl.a2c``) or with short numpy reference code written here.
"""

import keras
import numpy as np
import tensorflow as tf

from tfcourse.grading.points import points
from tfcourse.rl import a2c as lib_a2c
from tfcourse.rl import returns as lib_returns


def _array(x, what):
    """``x`` as a float64 numpy array (works for lists, numpy arrays and eager tensors)."""
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} should be an array of numbers, got {type(x).__name__}") \
            from None


def _rollout(rng, shape):
    """Random rewards, values and 0/1 dones of ``shape`` (about one step in five is done)."""
    rewards = rng.normal(size=shape)
    values = rng.normal(size=shape)
    dones = (rng.random(shape) < 0.2).astype(np.float64)
    return rewards, values, dones


def _model(sub, **kwargs):
    keras.utils.set_random_seed(0)
    return sub.ActorCritic(**kwargs)


# ---------------------------------------------------------------- discounted_returns


@points(0.5, exercise="discounted_returns")
def test_returns_done_at_last_step_ignores_bootstrap(sub):
    # gamma 0.9, the episode ends at the last step, so V_T = 100 must not be used:
    #   R_2 = 3,  R_1 = 2 + 0.9 * 3 = 4.7,  R_0 = 1 + 0.9 * 4.7 = 5.23
    out = sub.discounted_returns(np.array([1.0, 2.0, 3.0]), np.array([0, 0, 1]), 0.9, 100.0)
    np.testing.assert_allclose(
        _array(out, "discounted_returns"), [5.23, 4.7, 3.0], atol=1e-6,
        err_msg="the last step is done, so bootstrap_value must be ignored: "
        "expected [5.23, 4.7, 3.0]",
    )


@points(1, exercise="discounted_returns")
def test_returns_match_reference_random(sub):
    rng = np.random.default_rng(0)
    for gamma in (0.0, 0.99, 1.0):
        rewards, _, dones = _rollout(rng, (25,))
        expected = lib_returns.discounted_returns_loop(rewards, dones, gamma, 1.5)
        out = _array(sub.discounted_returns(rewards, dones, gamma, 1.5), "discounted_returns")
        assert out.shape == (25,), f"expected returns of shape (25,), got {out.shape}"
        np.testing.assert_allclose(
            out, expected, rtol=1e-5, atol=1e-6,
            err_msg=f"returns differ from the reference on 25 random steps with gamma={gamma}",
        )


@points(0.5, exercise="discounted_returns")
def test_returns_int_lists_bool_dones_no_mutation(sub):
    # Integer rewards must still give float returns: [1.75, 1.5, 1.0] (see the public tests).
    rewards = [1, 1, 1]
    out = sub.discounted_returns(rewards, [False, False, False], 0.5, 0)
    np.testing.assert_allclose(
        _array(out, "discounted_returns"), [1.75, 1.5, 1.0], atol=1e-6,
        err_msg="integer rewards given as a list (and bool dones) should give float returns "
        "[1.75, 1.5, 1.0]; did an integer array truncate them?",
    )
    arr, dones = np.array([1.0, 2.0, 3.0]), np.array([0, 1, 0])
    sub.discounted_returns(arr, dones, 0.5, 2.0)
    assert arr.tolist() == [1.0, 2.0, 3.0] and dones.tolist() == [0, 1, 0], (
        "discounted_returns must not modify its inputs"
    )


# ---------------------------------------------------------------- advantages


@points(0.5, exercise="advantages")
def test_advantages_two_dimensional_match_reference(sub):
    rng = np.random.default_rng(1)
    returns, values, _ = _rollout(rng, (6, 3))
    keep_r, keep_v = returns.copy(), values.copy()
    plain = _array(sub.advantages(returns, values), "advantages")
    assert plain.shape == (6, 3), f"advantages of [6, 3] inputs should be [6, 3], got {plain.shape}"
    np.testing.assert_allclose(plain, returns - values, atol=1e-6,
                               err_msg="advantages should be returns - values")
    normed = _array(sub.advantages(returns, values, normalize=True), "advantages")
    np.testing.assert_allclose(normed, lib_returns.normalize(returns - values), atol=1e-5,
                               err_msg="normalize should use the mean and std over all elements")
    assert np.array_equal(returns, keep_r) and np.array_equal(values, keep_v), (
        "advantages must not modify returns or values"
    )


@points(0.5, exercise="advantages")
def test_advantages_constant_normalize_to_zero(sub):
    # A = [1, 1, 1, 1]: A - mean = 0 and std = 0, so (0) / (0 + 1e-8) = 0, never nan.
    out = _array(sub.advantages(np.full(4, 3.0), np.full(4, 2.0), normalize=True), "advantages")
    assert np.all(np.isfinite(out)), f"equal advantages should normalise to zeros, got {out}"
    np.testing.assert_allclose(out, np.zeros(4), atol=1e-6,
                               err_msg="equal advantages should normalise to zeros (add eps)")


# ---------------------------------------------------------------- gae


@points(1, exercise="gae")
def test_gae_lambda_one_is_returns_minus_values(sub):
    # With lam = 1 the advantages telescope into (bootstrapped discounted return) - V_t.
    rng = np.random.default_rng(2)
    rewards, values, dones = _rollout(rng, (12, 3))
    last = np.array([0.5, -1.0, 2.0])
    gamma = 0.9
    returns = np.zeros_like(rewards)
    running = last.copy()
    for t in reversed(range(12)):
        running = rewards[t] + gamma * running * (1.0 - dones[t])
        returns[t] = running
    adv, ret = sub.gae(rewards, values, dones, last, gamma, 1.0)
    np.testing.assert_allclose(_array(adv, "advantages"), returns - values, atol=1e-5,
                               err_msg="with lam=1, GAE should equal discounted returns - values")
    np.testing.assert_allclose(_array(ret, "returns"), returns, atol=1e-5,
                               err_msg="with lam=1, the returns should be the discounted returns")


@points(0.5, exercise="gae")
def test_gae_lambda_zero_is_td_error(sub):
    # lam = 0: A_t = r_t + gamma * V_{t+1} * (1 - done_t) - V_t (one step only).
    rng = np.random.default_rng(3)
    rewards, values, dones = _rollout(rng, (5, 2))
    last = np.array([1.0, -2.0])
    next_values = np.concatenate([values[1:], last[None]], axis=0)
    expected = rewards + 0.95 * next_values * (1.0 - dones) - values
    adv, _ = sub.gae(rewards, values, dones, last, 0.95, 0.0)
    np.testing.assert_allclose(_array(adv, "advantages"), expected, atol=1e-5,
                               err_msg="with lam=0, GAE should equal the one-step TD errors")


@points(1, exercise="gae")
def test_gae_matches_reference_random(sub):
    rng = np.random.default_rng(4)
    rewards, values, dones = _rollout(rng, (20, 4))
    dones[-1, 0] = 1.0  # one episode ends exactly at the last step
    dones_in = dones.astype(bool)
    last = rng.normal(size=4)
    adv, ret = sub.gae(rewards, values, dones_in, last, 0.99, 0.95)
    ref_adv, ref_ret = lib_returns.gae_advantages(rewards, values, dones, last, 0.99, 0.95)
    np.testing.assert_allclose(_array(adv, "advantages"), ref_adv.numpy(), rtol=1e-4, atol=1e-4,
                               err_msg="GAE(0.95) advantages differ from the reference on a "
                               "random [20, 4] rollout with bool dones")
    np.testing.assert_allclose(_array(ret, "returns"), ref_ret.numpy(), rtol=1e-4, atol=1e-4,
                               err_msg="GAE returns differ from the reference "
                               "(advantages + values)")


# ---------------------------------------------------------------- ActorCritic


@points(0.5, exercise="ActorCritic")
def test_actor_critic_other_sizes(sub):
    # hidden 16, 3 actions, obs_dim 4:
    #   4*16 + 16 = 80,  16*16 + 16 = 272,  16 + 1 = 17,  16*3 + 3 = 51   -> 420
    model = _model(sub, n_actions=3, hidden=16)
    values, logits = model(np.ones((7, 4), np.float64))
    assert tuple(values.shape) == (7,) and tuple(logits.shape) == (7, 3), (
        f"with 7 observations and 3 actions expected shapes (7,) and (7, 3), got "
        f"{tuple(values.shape)} and {tuple(logits.shape)}"
    )
    assert values.dtype == tf.float32 and logits.dtype == tf.float32, (
        f"float64 observations should still give float32 outputs, got {values.dtype}, "
        f"{logits.dtype}"
    )
    count = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    assert count == 420, (
        f"expected 420 trainable parameters for hidden=16, n_actions=3, got {count}"
    )


@points(1, exercise="ActorCritic")
def test_actor_critic_shared_trunk(sub):
    # The value depends on the trunk and the value head (6 variables), the logits on the trunk
    # and the policy head (6 variables); the 4 trunk variables are shared.
    model = _model(sub, n_actions=2)
    obs = np.random.default_rng(5).normal(size=(8, 4)).astype(np.float32)
    with tf.GradientTape(persistent=True) as tape:
        values, logits = model(obs)
        v_sum, l_sum = tf.reduce_sum(values), tf.reduce_sum(logits[:, 0] - 2.0 * logits[:, 1])
    variables = model.trainable_variables
    v_used = {i for i, g in enumerate(tape.gradient(v_sum, variables)) if g is not None}
    l_used = {i for i, g in enumerate(tape.gradient(l_sum, variables)) if g is not None}
    del tape
    assert len(variables) == 8, f"expected 8 trainable variables, got {len(variables)}"
    assert len(v_used) == 6 and len(l_used) == 6 and len(v_used & l_used) == 4, (
        "the value should depend on 6 variables (trunk + value head) and the logits on 6 "
        "(trunk + policy head), sharing the 4 trunk variables; got "
        f"{len(v_used)} and {len(l_used)}, sharing {len(v_used & l_used)}"
    )


@points(0.5, exercise="ActorCritic")
def test_actor_critic_rows_independent(sub):
    model = _model(sub, n_actions=2)
    obs = np.random.default_rng(6).normal(size=(4, 4)).astype(np.float32)
    values, logits = model(obs)
    one_v, one_l = model(obs[2:3])
    np.testing.assert_allclose(np.asarray(values)[2:3], np.asarray(one_v), atol=1e-5,
                               err_msg="the value of one observation should not depend on the "
                               "rest of the batch")
    np.testing.assert_allclose(np.asarray(logits)[2:3], np.asarray(one_l), atol=1e-5,
                               err_msg="the logits of one observation should not depend on the "
                               "rest of the batch")
    assert np.ptp(np.asarray(values)) > 0, "different observations should get different values"


# ---------------------------------------------------------------- sample_actions


@points(1, exercise="sample_actions")
def test_sample_reproducible(sub):
    logits = np.zeros((200, 2), np.float32)
    first = np.asarray(sub.sample_actions(logits, seed=7))
    again = np.asarray(sub.sample_actions(logits, seed=7))
    other = np.asarray(sub.sample_actions(logits, seed=8))
    assert np.array_equal(first, again), (
        "the same logits and seed should give the same actions (use a stateless random op)"
    )
    assert not np.array_equal(first, other), (
        "seeds 7 and 8 gave the same 200 actions from a 50/50 policy; the seed is not used"
    )
    assert 0 < first.sum() < 200, "a 50/50 policy should sample both actions over 200 rows"


@points(1, exercise="sample_actions")
def test_sample_frequencies_follow_softmax(sub):
    # logits log([0.2, 0.8]) -> action 1 has probability 0.8; over 4000 draws the standard
    # error of the frequency is sqrt(0.16 / 4000) = 0.0063, so 0.04 is more than 6 of them.
    logits = np.tile(np.log([[0.2, 0.8]]), (4000, 1)).astype(np.float32)
    actions = np.asarray(sub.sample_actions(logits, seed=3))
    freq = float(np.mean(actions == 1))
    assert abs(freq - 0.8) < 0.04, (
        f"with probabilities [0.2, 0.8] action 1 should be drawn about 80% of the time, "
        f"got {100 * freq:.1f}% (sample from softmax(logits), not from the raw logits)"
    )


# ---------------------------------------------------------------- critic_loss


@points(1, exercise="critic_loss")
def test_critic_loss_gradient_and_shapes(sub):
    # L = 0.5 * mean((R - V)^2) over all N elements  ->  dL/dV = (V - R) / N
    rng = np.random.default_rng(7)
    returns = rng.normal(size=(3, 4)).astype(np.float32)
    values = tf.Variable(rng.normal(size=(3, 4)).astype(np.float32))
    with tf.GradientTape() as tape:
        loss = sub.critic_loss(returns, values)
    grad = tape.gradient(loss, values)
    np.testing.assert_allclose(float(loss), 0.5 * np.mean((returns - values.numpy()) ** 2),
                               rtol=1e-5, err_msg="critic_loss of [3, 4] inputs: 0.5 * MSE over "
                               "all 12 elements")
    assert grad is not None, "no gradient reached the values: keep the computation in TensorFlow"
    np.testing.assert_allclose(grad.numpy(), (values.numpy() - returns) / 12.0, rtol=1e-4,
                               atol=1e-6, err_msg="gradient of critic_loss w.r.t. values should "
                               "be (values - returns) / N")


@points(0.5, exercise="critic_loss")
def test_critic_loss_returns_are_targets(sub):
    returns = tf.Variable([1.0, 2.0, 3.0])
    values = tf.Variable([0.0, 0.0, 0.0])
    with tf.GradientTape() as tape:
        loss = sub.critic_loss(returns, values)
    g_returns, g_values = tape.gradient(loss, [returns, values])
    assert g_values is not None, "no gradient reached the values"
    assert g_returns is None, "the returns are targets: wrap them in tf.stop_gradient"


# ---------------------------------------------------------------- actor_loss


@points(1, exercise="actor_loss")
def test_actor_loss_matches_reference_random(sub):
    rng = np.random.default_rng(8)
    logits = rng.normal(size=(16, 3)).astype(np.float32)
    actions = rng.integers(0, 3, size=16)  # int64, as numpy makes them
    adv = rng.normal(size=16).astype(np.float32)
    expected = lib_a2c.actor_loss(logits, actions, adv, reduction="mean")
    got = sub.actor_loss(logits, actions, adv)
    np.testing.assert_allclose(float(got), float(expected), rtol=1e-5, atol=1e-6,
                               err_msg="actor_loss differs from the reference on a random batch "
                               "of 16 (int64 actions); reduce with the mean")


@points(1, exercise="actor_loss")
def test_actor_loss_gradient_wrt_logits(sub):
    # d/dlogits_b of mean_b(-log softmax(logits_b)[a_b] * A_b) = (softmax(logits_b) - onehot(a_b))
    # * A_b / B
    rng = np.random.default_rng(9)
    logits = tf.Variable(rng.normal(size=(5, 2)).astype(np.float32))
    actions = np.array([0, 1, 1, 0, 1], np.int32)
    adv = rng.normal(size=5).astype(np.float32)
    with tf.GradientTape() as tape:
        loss = sub.actor_loss(logits, actions, adv)
    grad = tape.gradient(loss, logits)
    assert grad is not None, "no gradient reached the logits: keep the computation in TensorFlow"
    probs = np.exp(logits.numpy()) / np.exp(logits.numpy()).sum(axis=1, keepdims=True)
    expected = (probs - np.eye(2)[actions]) * adv[:, None] / 5.0
    np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-4, atol=1e-6,
                               err_msg="gradient of actor_loss w.r.t. the logits is wrong")


@points(0.5, exercise="actor_loss")
def test_actor_loss_advantages_are_constants(sub):
    logits = tf.Variable([[0.0, 1.0], [1.0, 0.0]])
    adv = tf.Variable([1.0, -0.5])
    with tf.GradientTape() as tape:
        loss = sub.actor_loss(logits, np.array([1, 1]), adv)
    g_logits, g_adv = tape.gradient(loss, [logits, adv])
    assert g_logits is not None, "no gradient reached the logits"
    assert g_adv is None, (
        "a gradient reached the advantages: wrap them in tf.stop_gradient so the actor's loss "
        "does not train the critic"
    )


# ---------------------------------------------------------------- entropy


@points(1, exercise="entropy")
def test_entropy_extreme_logits(sub):
    # p = softmax([1000, -1000]) = [1, 0] exactly in float32: entropy 0, not nan.
    # Second row: 4 equal logits -> ln 4 = 1.386294. Mean = 0.693147.
    logits = np.array([[1000.0, -1000.0, -1000.0, -1000.0], [3.0, 3.0, 3.0, 3.0]], np.float32)
    out = float(sub.entropy(logits))
    assert np.isfinite(out), (
        f"entropy of a certain policy came back {out}: use tf.nn.log_softmax, not "
        "log(softmax(...))"
    )
    np.testing.assert_allclose(out, np.log(4.0) / 2.0, rtol=1e-5,
                               err_msg="mean of entropy 0 (certain policy) and ln 4 (uniform "
                               "over 4 actions) is 0.693147")


@points(0.5, exercise="entropy")
def test_entropy_matches_reference_random(sub):
    logits = np.random.default_rng(10).normal(scale=2.0, size=(12, 5)).astype(np.float32)
    expected = float(tf.reduce_mean(lib_a2c.entropy(logits)))
    np.testing.assert_allclose(float(sub.entropy(logits)), expected, rtol=1e-5,
                               err_msg="entropy differs from the reference on 12 random rows "
                               "of 5 logits")
    shifted = float(sub.entropy(logits + 10.0))
    np.testing.assert_allclose(shifted, expected, rtol=1e-4,
                               err_msg="adding a constant to every logit must not change the "
                               "policy, so nor its entropy")
