"""Hidden tests for assignment 2 (A2C building blocks): edge cases and random inputs.

Random cases are drawn afresh on every run and compared with short numpy reference code.
Gradients, the model's variables and input mutation are observed by probes (``sub.run``) that
run next to the submission and only report values; expected values and assertions stay here.
The helpers both files use (``_array``, the probes and the numpy references) live in
``tests_public.py``, which is beside this file wherever the hidden tests run (pytest puts the
folder on ``sys.path``); only helpers are imported, never ``test_*`` functions.
"""

import numpy as np
from tests_public import (
    _actions,
    _array,
    _assert_unchanged,
    _check_actor_critic,
    _check_advantages_keep_inputs,
    _check_critic_gradients,
    _critic_loss_and_gradients,
    _float,
    _gae_reference,
    _log_softmax,
    _mean_entropy,
    _returns_and_inputs_after,
    _returns_reference,
)

from tfcourse.grading.points import points


def _rollout(rng, shape):
    """Random rewards, values and 0/1 dones of ``shape`` (about one step in five is done)."""
    rewards = rng.normal(size=shape)
    values = rng.normal(size=shape)
    dones = (rng.random(shape) < 0.2).astype(np.float64)
    return rewards, values, dones


# ---------------------------------------------------------------- discounted_returns


@points(0.5, exercise="discounted_returns")
def test_returns_done_at_last_step_ignores_bootstrap(sub):
    # gamma 0.9, the episode ends at the last step, so V_T = 100 must not be used:
    #   R_2 = 3,  R_1 = 2 + 0.9 * 3 = 4.7,  R_0 = 1 + 0.9 * 4.7 = 5.23
    rng = np.random.default_rng()
    n = int(rng.integers(3, 9))
    rewards, dones = rng.normal(size=n), np.zeros(n)
    dones[-1] = 1.0
    bootstrap = float(rng.uniform(50.0, 150.0))
    hand = sub.discounted_returns(np.array([1.0, 2.0, 3.0]), np.array([0, 0, 1]), 0.9, 100.0)
    out = sub.discounted_returns(rewards, dones, 0.9, bootstrap)
    np.testing.assert_allclose(
        _array(hand, "discounted_returns"),
        [5.23, 4.7, 3.0],
        atol=1e-6,
        err_msg="the last step is done, so bootstrap_value must be ignored: "
        "expected [5.23, 4.7, 3.0]",
    )
    np.testing.assert_allclose(
        _array(out, "discounted_returns"),
        _returns_reference(rewards, dones, 0.9, 0.0),
        atol=1e-6,
        err_msg=f"the last step is done, so bootstrap_value {bootstrap:.2f} must be ignored",
    )


@points(1, exercise="discounted_returns")
def test_returns_match_reference_random(sub):
    rng = np.random.default_rng()
    for gamma in (0.0, 0.99, 1.0):
        rewards, _, dones = _rollout(rng, (25,))
        expected = _returns_reference(rewards, dones, gamma, 1.5)
        out = _array(sub.discounted_returns(rewards, dones, gamma, 1.5), "discounted_returns")
        assert out.shape == (25,), f"expected returns of shape (25,), got {out.shape}"
        np.testing.assert_allclose(
            out,
            expected,
            rtol=1e-5,
            atol=1e-6,
            err_msg=f"returns differ from the reference on 25 random steps with gamma={gamma}",
        )


@points(0.5, exercise="discounted_returns")
def test_returns_int_lists_bool_dones_no_mutation(sub):
    # Integer rewards must still give float returns: [1.75, 1.5, 1.0] (see the public tests).
    rng = np.random.default_rng()
    random_rewards = [int(r) for r in rng.integers(-3, 4, size=int(rng.integers(3, 8)))]
    cases = [[1, 1, 1], random_rewards]
    outs = [sub.discounted_returns(rewards, [False] * len(rewards), 0.5, 0) for rewards in cases]
    arr = rng.normal(size=int(rng.integers(3, 7)))
    dones = np.zeros(len(arr), np.int64)
    dones[1] = 1
    out, _, arr_after, dones_after = sub.run(_returns_and_inputs_after, arr, dones, 0.5, 2.0)
    for rewards, list_out in zip(cases, outs, strict=True):
        expected = _returns_reference(rewards, np.zeros(len(rewards)), 0.5, 0.0)
        np.testing.assert_allclose(
            _array(list_out, "discounted_returns"),
            expected,
            atol=1e-6,
            err_msg=f"integer rewards {rewards} given as a list (and bool dones) should give "
            f"float returns {expected.tolist()}; were they truncated to integers?",
        )
    _assert_unchanged("rewards", arr, arr_after, "discounted_returns")
    _assert_unchanged("dones", dones, dones_after, "discounted_returns")
    np.testing.assert_allclose(
        _array(out, "discounted_returns"),
        _returns_reference(arr, dones, 0.5, 2.0),
        atol=1e-6,
        err_msg=f"wrong returns with dones {dones.tolist()}, gamma 0.5, bootstrap_value 2",
    )


# ---------------------------------------------------------------- advantages


@points(0.5, exercise="advantages")
def test_advantages_two_dimensional_match_reference(sub):
    # Each call gets its own fresh arrays, so a changed input is reported as such.
    rng = np.random.default_rng()
    for normalize in (False, True):
        shape = (int(rng.integers(4, 9)), int(rng.integers(2, 5)))
        returns, values, _ = _rollout(rng, shape)
        _check_advantages_keep_inputs(sub, returns, values * 2.0 + 1.0, normalize)


@points(0.5, exercise="advantages")
def test_advantages_constant_normalize_to_zero(sub):
    # A = [1, 1, 1, 1]: A - mean = 0 and std = 0, so (0) / (0 + 1e-8) = 0, never nan.
    out = _array(sub.advantages(np.full(4, 3.0), np.full(4, 2.0), normalize=True), "advantages")
    assert np.all(np.isfinite(out)), f"equal advantages should normalise to zeros, got {out}"
    np.testing.assert_allclose(
        out, np.zeros(4), atol=1e-6, err_msg="equal advantages should normalise to zeros (add eps)"
    )
    rng = np.random.default_rng()
    shape = (int(rng.integers(2, 6)), int(rng.integers(2, 4)))
    values = rng.normal(size=shape)
    out = _array(sub.advantages(values + 0.5, values, normalize=True), "advantages")
    np.testing.assert_allclose(
        out,
        np.zeros(shape),
        atol=1e-5,
        err_msg=f"equal advantages of shape {list(shape)} should normalise to zeros (add eps)",
    )
    # Nearly equal advantages (spread 1e-3) are not flattened by eps = 1e-8: still std 1.
    values = rng.normal(size=shape)
    returns = values - 2.0 + 1e-3 * rng.normal(size=shape)
    adv = returns - values
    out = _array(sub.advantages(returns, values, normalize=True), "advantages")
    np.testing.assert_allclose(
        out,
        (adv - adv.mean()) / (adv.std() + 1e-8),
        atol=1e-3,
        err_msg=f"{list(shape)} advantages with a spread of 1e-3 should still normalise to mean "
        "0 and std 1: add eps = 1e-8 to the std, nothing larger",
    )


# ---------------------------------------------------------------- gae


@points(1, exercise="gae")
def test_gae_lambda_one_is_returns_minus_values(sub):
    # With lam = 1 the advantages telescope into (bootstrapped discounted return) - V_t.
    rng = np.random.default_rng()
    n_envs = int(rng.integers(2, 5))
    rewards, values, dones = _rollout(rng, (12, n_envs))
    last = rng.normal(size=n_envs)
    gamma = 0.9
    returns = _returns_reference(rewards, dones, gamma, last)
    adv, ret = sub.gae(rewards, values, dones, last, gamma, 1.0)
    np.testing.assert_allclose(
        _array(adv, "advantages"),
        returns - values,
        atol=1e-5,
        err_msg="with lam=1, GAE should equal discounted returns - values",
    )
    np.testing.assert_allclose(
        _array(ret, "returns"),
        returns,
        atol=1e-5,
        err_msg="with lam=1, the returns should be the discounted returns",
    )


@points(1, exercise="gae")
def test_gae_lambda_zero_is_td_error(sub):
    # lam = 0: A_t = r_t + gamma * V_{t+1} * (1 - done_t) - V_t (one step only).
    rng = np.random.default_rng()
    rewards, values, dones = _rollout(rng, (5, 2))
    last = rng.normal(size=2)
    next_values = np.concatenate([values[1:], last[None]], axis=0)
    expected = rewards + 0.95 * next_values * (1.0 - dones) - values
    adv, _ = sub.gae(rewards, values, dones, last, 0.95, 0.0)
    np.testing.assert_allclose(
        _array(adv, "advantages"),
        expected,
        atol=1e-5,
        err_msg="with lam=0, GAE should equal the one-step TD errors",
    )


@points(1, exercise="gae")
def test_gae_matches_reference_random(sub):
    rng = np.random.default_rng()
    rewards, values, dones = _rollout(rng, (20, 4))
    dones[-1, 0] = 1.0  # one episode ends exactly at the last step
    dones_in = dones.astype(bool)
    last = rng.normal(size=4)
    adv, ret = sub.gae(rewards, values, dones_in, last, 0.99, 0.95)
    ref_adv, ref_ret = _gae_reference(rewards, values, dones, last, 0.99, 0.95)
    np.testing.assert_allclose(
        _array(adv, "advantages"),
        ref_adv,
        rtol=1e-4,
        atol=1e-4,
        err_msg="GAE(0.95) advantages differ from the reference on a random [20, 4] rollout "
        "with bool dones",
    )
    np.testing.assert_allclose(
        _array(ret, "returns"),
        ref_ret,
        rtol=1e-4,
        atol=1e-4,
        err_msg="GAE returns differ from the reference (advantages + values)",
    )


# ---------------------------------------------------------------- ActorCritic


def _actor_critic_gradients_used(sub, obs, weights, seed):
    """Probe: for each trainable variable (given seeded random values), the summed absolute
    gradient (None: no gradient) of the values and of ``sum(logits * weights)``."""
    import numpy as np
    import tensorflow as tf

    model = sub.ActorCritic(n_actions=len(weights))
    model(obs)
    # The variables by layer, the layers in the order of their kernels' shapes (as in the
    # public tests' probe): the same values whatever order the model declares its layers in.
    layers = {}
    for v in model.trainable_variables:
        layers.setdefault(str(getattr(v, "path", v.name)).rpartition("/")[0], []).append(v)
    layers = [sorted(vs, key=lambda v: -len(v.shape)) for vs in layers.values()]
    layers.sort(key=lambda vs: [tuple(v.shape) for v in vs])
    variables = [v for vs in layers for v in vs]
    rng = np.random.default_rng(seed)
    for variable in variables:
        shape = tuple(variable.shape)
        scale = 1.0 / np.sqrt(shape[0]) if len(shape) == 2 else 0.5
        variable.assign(rng.normal(scale=scale, size=shape).astype(np.float32))
    with tf.GradientTape(persistent=True) as tape:
        values, logits = model(obs)
        v_sum = tf.reduce_sum(values)
        l_sum = tf.reduce_sum(tf.cast(logits, tf.float32) * tf.constant(weights, tf.float32))

    def sizes(grads):
        return [None if g is None else float(tf.reduce_sum(tf.abs(g))) for g in grads]

    return sizes(tape.gradient(v_sum, variables)), sizes(tape.gradient(l_sum, variables))


@points(0.5, exercise="ActorCritic")
def test_actor_critic_other_sizes(sub):
    rng = np.random.default_rng()
    hidden, n_actions, obs_dim = (int(v) for v in rng.integers([10, 2, 1], [49, 7, 9]))
    obs = rng.normal(scale=2.0, size=(int(rng.integers(6, 12)), obs_dim)).astype(np.float32)
    _check_actor_critic(sub, obs, n_actions=n_actions, hidden=hidden)


@points(0.5, exercise="ActorCritic")
def test_actor_critic_single_observation(sub):
    # A batch of one observation still gives values of shape (1,) and logits (1, n_actions).
    rng = np.random.default_rng()
    obs = rng.normal(size=(1, int(rng.integers(2, 7))))
    _check_actor_critic(sub, obs, n_actions=int(rng.integers(2, 5)))


@points(1, exercise="ActorCritic")
def test_actor_critic_shared_trunk(sub):
    # The value depends on the trunk and the value head (6 variables), the logits on the trunk
    # and the policy head (6 variables); the 4 trunk variables are shared.
    rng = np.random.default_rng()
    obs = rng.normal(size=(8, 4)).astype(np.float32)
    weights = rng.normal(size=int(rng.integers(2, 5))).astype(np.float32)
    seed = int(rng.integers(2**31))
    v_grads, l_grads = sub.run(_actor_critic_gradients_used, obs, weights, seed)
    assert len(v_grads) == 8, f"expected 8 trainable variables, got {len(v_grads)}"
    v_used = {i for i, g in enumerate(v_grads) if g is not None}
    l_used = {i for i, g in enumerate(l_grads) if g is not None}
    assert len(v_used) == 6 and len(l_used) == 6 and len(v_used & l_used) == 4, (
        "the value should depend on 6 variables (trunk + value head) and the logits on 6 "
        "(trunk + policy head), sharing the 4 trunk variables; got "
        f"{len(v_used)} and {len(l_used)}, sharing {len(v_used & l_used)}"
    )
    assert all(v_grads[i] > 0 for i in v_used) and all(l_grads[i] > 0 for i in l_used), (
        "the gradients of the values and logits are all zero for some variables: the outputs "
        "should come from the network's layers"
    )


# ---------------------------------------------------------------- sample_actions


@points(1, exercise="sample_actions")
def test_sample_frequencies_per_row(sub):
    # Rows take turns among 4 random policies over 3 actions (every probability >= 0.05), 1500
    # rows each, drawn with two seeds (both batches before the checks). The standard error of a
    # frequency is at most sqrt(0.25 / 1500) = 0.0129, so 0.065 is 5 of them.
    rng = np.random.default_rng()
    policies = rng.dirichlet(np.ones(3), size=4) * 0.85 + 0.05
    logits = np.log(np.tile(policies, (1500, 1))).astype(np.float64)  # float64 logits
    seeds = [int(s) for s in rng.integers(0, 2**31 - 1, size=2)]
    outs = [sub.sample_actions(logits, seed=seed) for seed in seeds]
    for seed, out in zip(seeds, outs, strict=True):
        actions = _actions(out, 6000, "6000 rows of logits")
        assert actions.min() >= 0 and actions.max() <= 2, (
            f"actions should lie in range(3), got values from {actions.min()} to {actions.max()}"
        )
        for k, policy in enumerate(policies):
            freq = np.bincount(actions[k::4], minlength=3)[:3] / 1500.0
            assert np.all(np.abs(freq - policy) < 0.065), (
                f"rows {k}, {k + 4}, {k + 8}, ... have probabilities "
                f"{np.round(policy, 3).tolist()}, but their actions came with frequencies "
                f"{np.round(freq, 3).tolist()} (seed {seed}): each row should be drawn from the "
                "softmax of its own logits"
            )


@points(1, exercise="sample_actions")
def test_sample_seeds(sub):
    rng = np.random.default_rng()
    rows, n_actions = int(rng.integers(150, 250)), int(rng.integers(2, 6))
    logits = rng.normal(scale=0.3, size=(rows, n_actions))
    for seed in (0, int(rng.integers(1, 2**31 - 2))):
        first = _actions(sub.sample_actions(logits, seed=seed), rows, f"{rows} rows of logits")
        again = _array(sub.sample_actions(logits, seed=seed), "actions")
        other = _array(sub.sample_actions(logits, seed=seed + 1), "actions")
        assert np.array_equal(first, again), (
            f"seed {seed} gave different actions on two calls with the same logits: the result "
            "should depend only on the logits and the seed"
        )
        assert not np.array_equal(first, other), (
            f"seeds {seed} and {seed + 1} gave the same {rows} actions: the seed is not used"
        )


# ---------------------------------------------------------------- critic_loss


def _critic_loss_value_gradient(sub, returns, values):
    """Probe: ``critic_loss(returns, values)`` for numpy returns and a variable of values, and
    its gradient with respect to the values; then the gradient with respect to a variable of
    the returns when the values are numpy (None: no gradient)."""
    import tensorflow as tf

    def numpy_or_none(grad):
        return None if grad is None else tf.convert_to_tensor(grad).numpy()

    variable = tf.Variable(values, dtype=tf.float32)
    with tf.GradientTape() as tape:
        loss = sub.critic_loss(returns, variable)
    grad = tape.gradient(loss, variable)
    targets = tf.Variable(returns, dtype=tf.float32)
    with tf.GradientTape() as tape:
        other = sub.critic_loss(targets, values)
    return loss, numpy_or_none(grad), numpy_or_none(tape.gradient(other, targets))


@points(1, exercise="critic_loss")
def test_critic_loss_gradient_and_shapes(sub):
    # L = 0.5 * mean((R - V)^2) over all N elements  ->  dL/dV = (V - R) / N
    rng = np.random.default_rng()
    shape = (int(rng.integers(2, 5)), int(rng.integers(2, 6)))
    returns = rng.normal(size=shape).astype(np.float32)
    values = rng.normal(size=shape).astype(np.float32)
    loss, grad, g_returns = sub.run(_critic_loss_value_gradient, returns, values)
    n = returns.size
    diff = returns.astype(np.float64) - values
    np.testing.assert_allclose(
        _float(loss, "critic_loss"),
        0.5 * np.mean(diff**2),
        rtol=1e-5,
        err_msg=f"critic_loss of {list(shape)} inputs: 0.5 * MSE over all {n} elements",
    )
    assert grad is not None, (
        "no gradient reached the values: compute the loss with TensorFlow operations"
    )
    np.testing.assert_allclose(
        _array(grad, "gradient"),
        -diff / n,
        rtol=1e-4,
        atol=1e-6,
        err_msg="gradient of critic_loss w.r.t. values should be (values - returns) / N",
    )
    assert g_returns is None or not np.any(_array(g_returns, "gradient")), (
        "a gradient reached a variable of returns given with numpy values: the returns are "
        "targets, so the loss must treat them as constants (tf.stop_gradient)"
    )


@points(0.5, exercise="critic_loss")
def test_critic_loss_returns_are_targets(sub):
    rng = np.random.default_rng()
    returns = rng.normal(size=int(rng.integers(3, 8))).astype(np.float32)
    values = rng.normal(size=len(returns)).astype(np.float32)
    _, (g_returns, g_values) = sub.run(_critic_loss_and_gradients, returns, values)
    _check_critic_gradients(
        g_values, g_returns, (values.astype(np.float64) - returns) / len(returns)
    )


# ---------------------------------------------------------------- actor_loss


def _actor_loss_logits_gradient(sub, logits, actions, advantages):
    """Probe: ``mean_actor_loss`` with a float32 variable of logits and its gradient."""
    import tensorflow as tf

    logits = tf.Variable(logits, dtype=tf.float32)
    with tf.GradientTape() as tape:
        loss = sub.mean_actor_loss(logits, actions, advantages)
    grad = tape.gradient(loss, logits)
    return loss, None if grad is None else tf.convert_to_tensor(grad).numpy()


@points(1, exercise="mean_actor_loss")
def test_actor_loss_matches_reference_random(sub):
    rng = np.random.default_rng()
    logits = rng.normal(size=(16, 3)).astype(np.float32)
    actions = rng.integers(0, 3, size=16)  # int64, as numpy makes them
    adv = rng.normal(size=16).astype(np.float32)
    expected = float(np.mean(-_log_softmax(logits)[np.arange(16), actions] * adv))
    got = _float(sub.mean_actor_loss(logits, actions, adv), "mean_actor_loss")
    np.testing.assert_allclose(
        got,
        expected,
        rtol=1e-5,
        atol=1e-6,
        err_msg="mean_actor_loss differs from the reference on a random batch of 16 "
        "(int64 actions); reduce with the mean",
    )


@points(1, exercise="mean_actor_loss")
def test_actor_loss_gradient_wrt_logits(sub):
    # d/dlogits_b of mean_b(-log softmax(logits_b)[a_b] * A_b) = (softmax(logits_b) - onehot(a_b))
    # * A_b / B
    rng = np.random.default_rng()
    logits = rng.normal(size=(5, 2)).astype(np.float32)
    actions = rng.integers(0, 2, size=5).astype(np.int32)
    adv = rng.normal(size=5).astype(np.float32)
    _, grad = sub.run(_actor_loss_logits_gradient, logits, actions, adv)
    assert grad is not None, (
        "no gradient reached the logits: compute the loss with TensorFlow operations"
    )
    probs = np.exp(_log_softmax(logits))
    expected = (probs - np.eye(2)[actions]) * adv[:, None] / 5.0
    np.testing.assert_allclose(
        _array(grad, "gradient"),
        expected,
        rtol=1e-4,
        atol=1e-6,
        err_msg="gradient of mean_actor_loss w.r.t. the logits is wrong",
    )


# ---------------------------------------------------------------- entropy


@points(1, exercise="mean_entropy")
def test_entropy_extreme_logits(sub):
    # p = softmax([1000, -1000]) = [1, 0] exactly in float32: entropy 0, not nan.
    # Second row: 4 equal logits -> ln 4 = 1.386294. Mean = 0.693147.
    rng = np.random.default_rng()
    n_actions = int(rng.integers(2, 9))
    certain = np.full(n_actions, -1000.0)
    certain[rng.integers(n_actions)] = 1000.0
    cases = [
        (np.array([[1000.0, -1000.0, -1000.0, -1000.0], [3.0, 3.0, 3.0, 3.0]]), 4),
        (np.stack([certain, np.full(n_actions, float(rng.normal()))]), n_actions),
    ]
    for logits, n in cases:
        out = _float(sub.mean_entropy(logits.astype(np.float32)), "mean_entropy")
        assert np.isfinite(out), (
            f"mean_entropy of a certain policy came back {out}: use tf.nn.log_softmax, not "
            "log(softmax(...))"
        )
        np.testing.assert_allclose(
            out,
            np.log(n) / 2.0,
            rtol=1e-5,
            err_msg=f"mean of entropy 0 (certain policy) and ln {n} (uniform over {n} actions) "
            f"is {np.log(n) / 2.0:.6f}",
        )


@points(0.5, exercise="mean_entropy")
def test_entropy_matches_reference_random(sub):
    rng = np.random.default_rng()
    logits = rng.normal(scale=2.0, size=(12, 5)).astype(np.float32)
    expected = _mean_entropy(logits)
    np.testing.assert_allclose(
        _float(sub.mean_entropy(logits), "mean_entropy"),
        expected,
        rtol=1e-5,
        err_msg="mean_entropy differs from the reference on 12 random rows of 5 logits",
    )
    shifted = _float(sub.mean_entropy(logits + 10.0), "mean_entropy")
    np.testing.assert_allclose(
        shifted,
        expected,
        rtol=1e-4,
        err_msg="adding a constant to every logit must not change the policy, so nor its entropy",
    )
