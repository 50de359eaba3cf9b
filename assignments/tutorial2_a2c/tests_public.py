"""Public tests for assignment 2 (A2C building blocks): run them with check("<exercise>").

``sub`` is your submission: ``sub.gae(...)`` runs your ``gae`` and gives back its result as data
(a tensor comes back as an array that remembers it was a tensor). Your ``ActorCritic`` model is
built and called in a small probe function (``sub.run(_probe, ...)``) that only reports values
and shapes; every comparison happens here. Each test checks a case worked out by hand in the
comment next to it, then the same rule on fresh random inputs.
"""

import numpy as np

from tfcourse.grading.codec import Handle, is_tensor
from tfcourse.grading.points import points


def _array(x, what):
    """``x`` as a float64 numpy array (works for lists, numpy arrays and returned tensors)."""
    if isinstance(x, Handle):
        raise AssertionError(f"{what} should be an array of numbers, got a {x.type}")
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(
            f"{what} should be an array of numbers, got {type(x).__name__}"
        ) from None


def _scalar(x, what):
    """``(shape, dtype, value)`` of a returned scalar (a Python float counts as float32)."""
    if isinstance(x, float | int) and not isinstance(x, bool):
        return (), np.dtype(np.float32), float(x)
    out = _array(x, what)
    dtype = np.asarray(x).dtype
    return out.shape, dtype, (float(out) if out.shape == () else float("nan"))


def _returns_reference(rewards, dones, gamma, bootstrap_value):
    """Bootstrapped discounted returns, backward over time (any trailing env axes)."""
    rewards = np.asarray(rewards, np.float64)
    returns = np.zeros_like(rewards)
    running = np.asarray(bootstrap_value, np.float64)
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running * (1.0 - np.asarray(dones[t], np.float64))
        returns[t] = running
    return returns


def _gae_reference(rewards, values, dones, bootstrap_value, gamma, lam):
    adv = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[1])
    next_value = np.asarray(bootstrap_value, np.float64)
    for t in reversed(range(rewards.shape[0])):
        not_done = 1.0 - dones[t]
        delta = rewards[t] + gamma * next_value * not_done - values[t]
        running = delta + gamma * lam * not_done * running
        adv[t] = running
        next_value = values[t]
    return adv, adv + values


def _log_softmax(logits):
    logits = np.asarray(logits, np.float64)
    top = logits.max(axis=-1, keepdims=True)
    return logits - top - np.log(np.exp(logits - top).sum(axis=-1, keepdims=True))


def _mean_entropy(logits):
    """Mean over rows of the entropy of softmax(logits), in float64."""
    log_p = _log_softmax(logits)
    return float(np.mean(-(np.exp(log_p) * log_p).sum(axis=-1)))


# ---------------------------------------------------------------- discounted_returns


@points(1, exercise="discounted_returns")
def test_returns_without_dones(sub):
    # gamma = 0.5, bootstrap 0, backward from the last step:
    #   R_2 = 1                  = 1.0
    #   R_1 = 1 + 0.5 * 1.0      = 1.5
    #   R_0 = 1 + 0.5 * 1.5      = 1.75
    out = sub.discounted_returns(np.array([1.0, 1.0, 1.0]), np.array([0, 0, 0]), 0.5, 0.0)
    assert isinstance(out, np.ndarray) and not is_tensor(out), (
        f"discounted_returns should return a numpy array, got "
        f"{'a tensor' if is_tensor(out) else type(out).__name__}"
    )
    assert out.shape == (3,), f"expected returns of shape (3,), got {out.shape}"
    np.testing.assert_allclose(
        np.asarray(out),
        [1.75, 1.5, 1.0],
        atol=1e-6,
        err_msg="rewards [1, 1, 1], gamma 0.5, no dones, bootstrap 0 should give [1.75, 1.5, 1.0]",
    )
    rng = np.random.default_rng()
    n = int(rng.integers(4, 12))
    rewards, gamma = rng.normal(size=n), float(rng.uniform(0.5, 0.99))
    out = _array(sub.discounted_returns(rewards, np.zeros(n), gamma, 0.0), "discounted_returns")
    np.testing.assert_allclose(
        out,
        _returns_reference(rewards, np.zeros(n), gamma, 0.0),
        atol=1e-6,
        err_msg=f"wrong returns for {n} random rewards, gamma {gamma:.3f}, no dones, bootstrap 0",
    )


@points(1, exercise="discounted_returns")
def test_returns_done_mask(sub):
    # The episode ends at step 1, so step 2 belongs to the next episode:
    #   R_2 = 1
    #   R_1 = 1 + 0.5 * R_2 * (1 - 1) = 1.0
    #   R_0 = 1 + 0.5 * 1.0           = 1.5
    out = sub.discounted_returns(np.array([1.0, 1.0, 1.0]), np.array([0, 1, 0]), 0.5, 0.0)
    np.testing.assert_allclose(
        _array(out, "discounted_returns"),
        [1.5, 1.0, 1.0],
        atol=1e-6,
        err_msg="with dones [0, 1, 0] the expected returns are [1.5, 1.0, 1.0]: "
        "nothing after a done step may be added to it",
    )
    rng = np.random.default_rng()
    n = int(rng.integers(6, 14))
    rewards = rng.normal(size=n)
    dones = np.zeros(n, np.int64)
    dones[rng.choice(n - 1, size=2, replace=False)] = 1
    out = _array(sub.discounted_returns(rewards, dones, 0.9, 0.0), "discounted_returns")
    np.testing.assert_allclose(
        out,
        _returns_reference(rewards, dones, 0.9, 0.0),
        atol=1e-6,
        err_msg=f"wrong returns with dones {dones.tolist()} (gamma 0.9): nothing after a done "
        "step may be added to it",
    )


@points(1, exercise="discounted_returns")
def test_returns_bootstrap(sub):
    # Bootstrap V(s_T) = 4 stands in for the unseen future:
    #   R_2 = 1 + 0.5 * 4    = 3.0
    #   R_1 = 1 + 0.5 * 3.0  = 2.5
    #   R_0 = 1 + 0.5 * 2.5  = 2.25
    out = sub.discounted_returns(np.array([1.0, 1.0, 1.0]), np.array([0, 0, 0]), 0.5, 4.0)
    np.testing.assert_allclose(
        _array(out, "discounted_returns"),
        [2.25, 2.5, 3.0],
        atol=1e-6,
        err_msg="rewards [1, 1, 1], gamma 0.5, bootstrap_value 4 should give [2.25, 2.5, 3.0]",
    )
    rng = np.random.default_rng()
    n, bootstrap = int(rng.integers(3, 8)), float(rng.uniform(-5.0, 5.0))
    rewards = rng.normal(size=n)
    out = _array(sub.discounted_returns(rewards, np.zeros(n), 0.8, bootstrap), "discounted_returns")
    np.testing.assert_allclose(
        out,
        _returns_reference(rewards, np.zeros(n), 0.8, bootstrap),
        atol=1e-6,
        err_msg=f"wrong returns for {n} random rewards, gamma 0.8, bootstrap_value {bootstrap:.3f}",
    )


# ---------------------------------------------------------------- advantages


@points(1, exercise="advantages")
def test_advantages_plain(sub):
    # [3, 2, 1] - [1, 1, 1] = [2, 1, 0]
    out = _array(sub.advantages(np.array([3.0, 2.0, 1.0]), np.array([1.0, 1.0, 1.0])), "advantages")
    assert out.shape == (3,), f"expected advantages of shape (3,), got {out.shape}"
    np.testing.assert_allclose(
        out,
        [2.0, 1.0, 0.0],
        atol=1e-6,
        err_msg="returns [3, 2, 1] minus values [1, 1, 1] is [2, 1, 0]",
    )
    rng = np.random.default_rng()
    returns, values = rng.normal(size=(2, int(rng.integers(4, 10))))
    out = _array(sub.advantages(returns, values), "advantages")
    np.testing.assert_allclose(
        out, returns - values, atol=1e-6, err_msg="advantages should be returns - values"
    )


@points(1, exercise="advantages")
def test_advantages_normalized(sub):
    # A = [2, 1, 0]: mean 1, population std sqrt((1 + 0 + 1) / 3) = sqrt(2/3) = 0.81650
    # (A - 1) / 0.81650 = [1.22474, 0, -1.22474]
    out = sub.advantages(np.array([3.0, 2.0, 1.0]), np.array([1.0, 1.0, 1.0]), normalize=True)
    np.testing.assert_allclose(
        _array(out, "advantages"),
        [1.2247449, 0.0, -1.2247449],
        atol=1e-5,
        err_msg="normalize=True should standardise [2, 1, 0] to [1.2247, 0, -1.2247] "
        "(population std, np.std's default)",
    )
    rng = np.random.default_rng()
    returns, values = rng.normal(loc=2.0, scale=3.0, size=(2, int(rng.integers(5, 12))))
    adv = returns - values
    out = _array(sub.advantages(returns, values, normalize=True), "advantages")
    np.testing.assert_allclose(
        out,
        (adv - adv.mean()) / (adv.std() + 1e-8),
        atol=1e-5,
        err_msg="normalize=True should give (A - mean(A)) / (std(A) + 1e-8) "
        "(population std, np.std's default)",
    )


# ---------------------------------------------------------------- gae


@points(1.5, exercise="gae")
def test_gae_hand_example(sub):
    # gamma = 0.5, lam = 0.5 (so gamma * lam = 0.25), two environments.
    # env 0: rewards [1, 1, 1], values [0, 0, 0], no dones, V_T = 4
    #   delta_2 = 1 + 0.5 * 4 - 0 = 3      A_2 = 3
    #   delta_1 = 1 + 0.5 * 0 - 0 = 1      A_1 = 1 + 0.25 * 3    = 1.75
    #   delta_0 = 1                        A_0 = 1 + 0.25 * 1.75 = 1.4375
    # env 1: rewards [0, 2, 0], values [1, 1, 1], done at step 1, V_T = 2
    #   delta_2 = 0 + 0.5 * 2 - 1 = 0      A_2 = 0
    #   delta_1 = 2 + 0 - 1 = 1 (done)     A_1 = 1 (nothing carried back over the done)
    #   delta_0 = 0 + 0.5 * 1 - 1 = -0.5   A_0 = -0.5 + 0.25 * 1 = -0.25
    # returns = A + V: env 0 [1.4375, 1.75, 3], env 1 [0.75, 2, 1]
    rewards = np.array([[1.0, 0.0], [1.0, 2.0], [1.0, 0.0]])
    values = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    dones = np.array([[0, 0], [0, 1], [0, 0]])
    out = sub.gae(rewards, values, dones, np.array([4.0, 2.0]), 0.5, 0.5)
    assert isinstance(out, tuple) and len(out) == 2, (
        f"gae should return a tuple (advantages, returns), got {type(out).__name__}"
    )
    adv, ret = _array(out[0], "advantages"), _array(out[1], "returns")
    assert adv.shape == (3, 2) and ret.shape == (3, 2), (
        f"advantages and returns should have shape (3, 2), got {adv.shape} and {ret.shape}"
    )
    np.testing.assert_allclose(
        adv,
        [[1.4375, -0.25], [1.75, 1.0], [3.0, 0.0]],
        atol=1e-6,
        err_msg="GAE advantages of the hand example are wrong",
    )
    np.testing.assert_allclose(
        ret,
        [[1.4375, 0.75], [1.75, 2.0], [3.0, 1.0]],
        atol=1e-6,
        err_msg="returns should be advantages + values",
    )
    rng = np.random.default_rng()
    shape = (int(rng.integers(3, 7)), int(rng.integers(2, 5)))
    rewards, values = rng.normal(size=(2, *shape))
    dones = (rng.random(shape) < 0.25).astype(np.int64)
    last = rng.normal(size=shape[1])
    out = sub.gae(rewards, values, dones, last, 0.5, 0.5)
    assert isinstance(out, tuple) and len(out) == 2, (
        f"gae should return a tuple (advantages, returns), got {type(out).__name__}"
    )
    ref_adv, ref_ret = _gae_reference(rewards, values, dones, last, 0.5, 0.5)
    np.testing.assert_allclose(
        _array(out[0], "advantages"),
        ref_adv,
        atol=1e-6,
        err_msg=f"GAE advantages are wrong on a random {list(shape)} rollout (gamma = lam = 0.5)",
    )
    np.testing.assert_allclose(
        _array(out[1], "returns"),
        ref_ret,
        atol=1e-6,
        err_msg="returns should be advantages + values",
    )


# ---------------------------------------------------------------- ActorCritic


def _actor_critic_outputs(sub, n_actions, obs):
    """Probe: ``ActorCritic(n_actions=n_actions)(obs)`` as it comes out of the model."""
    model = sub.ActorCritic(n_actions=n_actions)
    return model(obs)


def _actor_critic_variables(sub, n_actions, obs):
    """Probe: ``[name, shape]`` of each trainable variable once the model has seen ``obs``."""
    model = sub.ActorCritic(n_actions=n_actions)
    model(obs)
    return [[str(getattr(v, "path", v.name)), list(v.shape)] for v in model.trainable_variables]


@points(1, exercise="ActorCritic")
def test_actor_critic_output_shapes(sub):
    rng = np.random.default_rng()
    batch, n_actions = int(rng.integers(3, 9)), int(rng.integers(2, 5))
    for rows, actions, obs in [
        (5, 2, np.zeros((5, 4), np.float32)),
        (batch, n_actions, rng.normal(size=(batch, 4)).astype(np.float32)),
    ]:
        out = sub.run(_actor_critic_outputs, actions, obs)
        assert isinstance(out, tuple | list) and len(out) == 2, (
            "calling the model should return (values, logits)"
        )
        values, logits = out
        assert np.shape(values) == (rows,), (
            f"values should have shape ({rows},) for a batch of {rows} (squeeze the value "
            f"head's last axis), got {np.shape(values)}"
        )
        assert np.shape(logits) == (rows, actions), (
            f"logits should have shape ({rows}, {actions}) for {rows} observations and "
            f"{actions} actions, got {np.shape(logits)}"
        )
        v_dtype, l_dtype = np.asarray(values).dtype, np.asarray(logits).dtype
        assert v_dtype == np.float32 and l_dtype == np.float32, (
            f"values and logits should be float32, got {v_dtype} and {l_dtype}"
        )
    assert np.ptp(np.asarray(values)) > 0 and np.ptp(np.asarray(logits)) > 0, (
        f"{batch} different random observations all got the same values or logits: the "
        "outputs should come from the network"
    )


@points(1, exercise="ActorCritic")
def test_actor_critic_variables(sub):
    # 4 Dense layers, each a kernel and a bias: 8 trainable variables.
    # Parameters for obs_dim 4, hidden 64, 2 actions:
    #   4*64 + 64 = 320,  64*64 + 64 = 4160,  64*1 + 1 = 65,  64*2 + 2 = 130   -> 4675
    rng = np.random.default_rng()
    obs_dim, n_actions = int(rng.integers(2, 9)), int(rng.integers(2, 6))
    random_count = (obs_dim * 64 + 64) + (64 * 64 + 64) + (64 + 1) + (64 * n_actions + n_actions)
    for dim, actions, expected in [(4, 2, 4675), (obs_dim, n_actions, random_count)]:
        obs = np.zeros((3, dim), np.float32)
        variables = sub.run(_actor_critic_variables, actions, obs)
        assert len(variables) == 8, (
            f"expected 8 trainable variables (kernel + bias of 2 trunk layers and 2 heads), "
            f"got {len(variables)}"
        )
        count = sum(int(np.prod(shape)) for _, shape in variables)
        assert count == expected, (
            f"expected {expected} trainable parameters for obs_dim {dim}, hidden=64 and "
            f"{actions} actions, got {count}"
        )


# ---------------------------------------------------------------- sample_actions


@points(1, exercise="sample_actions")
def test_sample_shape_dtype_range(sub):
    rng = np.random.default_rng()
    for rows, n_actions in [(6, 3), (int(rng.integers(60, 100)), int(rng.integers(2, 6)))]:
        logits = np.zeros((rows, n_actions), np.float32)  # uniform over the actions
        actions = sub.sample_actions(logits, seed=int(rng.integers(0, 2**31 - 1)))
        assert np.shape(actions) == (rows,), (
            f"expected one action per row, shape ({rows},), got {np.shape(actions)}"
        )
        dtype = np.asarray(actions).dtype
        assert dtype == np.int32, f"actions should be int32, got {dtype}"
        values = np.asarray(actions)
        assert values.min() >= 0 and values.max() <= n_actions - 1, (
            f"actions should lie in range({n_actions}), got {values.tolist()}"
        )
    assert len(np.unique(values)) > 1, (
        f"{rows} draws from a uniform policy over {n_actions} actions were all "
        f"{values[0]}: sample from softmax(logits)"
    )


@points(1, exercise="sample_actions")
def test_sample_peaked_logits(sub):
    # A logit 50 above the others has probability ~1 - 2e-22: it is always drawn.
    logits = np.array([[0.0, 50.0, 0.0], [50.0, 0.0, 0.0], [0.0, 0.0, 50.0]], np.float32)
    for seed in range(3):
        got = np.asarray(sub.sample_actions(logits, seed=seed)).tolist()
        assert got == [1, 0, 2], (
            f"rows whose largest logit is 50 above the rest should give their argmax "
            f"[1, 0, 2], got {got} (seed {seed})"
        )
    rng = np.random.default_rng()
    rows, n_actions = int(rng.integers(5, 12)), int(rng.integers(3, 6))
    best = rng.integers(0, n_actions, size=rows)
    logits = rng.normal(size=(rows, n_actions)).astype(np.float32)
    logits[np.arange(rows), best] += 50.0
    got = np.asarray(sub.sample_actions(logits, seed=int(rng.integers(0, 1000)))).tolist()
    assert got == best.tolist(), (
        f"rows whose largest logit is 50 above the rest should give their argmax "
        f"{best.tolist()}, got {got}"
    )


# ---------------------------------------------------------------- critic_loss


@points(1.5, exercise="critic_loss")
def test_critic_loss_value(sub):
    # returns - values = [1-1, 2-0, 3-5] = [0, 2, -2]; squares [0, 4, 4]; mean 8/3
    # 0.5 * 8/3 = 4/3 = 1.33333
    rng = np.random.default_rng()
    returns, values = rng.normal(size=(2, int(rng.integers(4, 10)))).astype(np.float32)
    cases = [
        (np.array([1.0, 2.0, 3.0], np.float32), np.array([1.0, 0.0, 5.0], np.float32), 4.0 / 3.0),
        (returns, values, 0.5 * float(np.mean((returns.astype(np.float64) - values) ** 2))),
    ]
    for returns, values, expected in cases:
        shape, dtype, loss = _scalar(sub.critic_loss(returns, values), "critic_loss")
        assert shape == (), f"critic_loss should return a scalar, got shape {shape}"
        assert dtype == np.float32, f"critic_loss should be float32, got {dtype}"
        np.testing.assert_allclose(
            loss,
            expected,
            rtol=1e-5,
            err_msg=f"0.5 * mean((returns - values)**2) for returns {returns.tolist()} and "
            f"values {values.tolist()} is {expected:.6f}",
        )


# ---------------------------------------------------------------- actor_loss


@points(1.5, exercise="mean_actor_loss")
def test_actor_loss_value(sub):
    # Row 0: logits [0, 0] -> p = [0.5, 0.5], action 0: -log 0.5 = 0.693147, times A = 2
    #        -> 1.386294
    # Row 1: logits log([0.1, 0.9]) -> p = [0.1, 0.9], action 1: -log 0.9 = 0.105361,
    #        times A = -1 -> -0.105361
    # mean = (1.386294 - 0.105361) / 2 = 0.640467
    rng = np.random.default_rng()
    rows, n_actions = int(rng.integers(3, 9)), int(rng.integers(2, 5))
    logits = rng.normal(size=(rows, n_actions)).astype(np.float32)
    actions = rng.integers(0, n_actions, size=rows)
    adv = rng.normal(size=rows).astype(np.float32)
    log_pi = _log_softmax(logits)[np.arange(rows), actions]
    cases = [
        (
            np.array([[0.0, 0.0], np.log([0.1, 0.9])], np.float32),
            np.array([0, 1]),
            np.array([2.0, -1.0], np.float32),
            0.640467,
        ),
        (logits, actions, adv, float(np.mean(-log_pi * adv))),
    ]
    for logits, actions, adv, expected in cases:
        shape, dtype, loss = _scalar(sub.mean_actor_loss(logits, actions, adv), "mean_actor_loss")
        assert shape == (), f"mean_actor_loss should return a scalar, got shape {shape}"
        assert dtype == np.float32, f"mean_actor_loss should be float32, got {dtype}"
        np.testing.assert_allclose(
            loss,
            expected,
            rtol=1e-5,
            atol=1e-6,
            err_msg=f"expected mean(-log pi(a|s) * A) = {expected:.6f} for actions "
            f"{actions.tolist()} and advantages {np.round(adv, 4).tolist()}",
        )


# ---------------------------------------------------------------- entropy


@points(1.5, exercise="mean_entropy")
def test_entropy_values(sub):
    # p = [0.1, 0.9]: -(0.1 ln 0.1 + 0.9 ln 0.9) = 0.230259 + 0.094825 = 0.325083
    # p = [0.5, 0.5]: ln 2 = 0.693147
    # batch mean: (0.325083 + 0.693147) / 2 = 0.509115
    shape, dtype, one = _scalar(
        sub.mean_entropy(np.log([[0.1, 0.9]]).astype(np.float32)), "mean_entropy"
    )
    assert shape == (), f"mean_entropy should return a scalar (the batch mean), got {shape}"
    assert dtype == np.float32, f"mean_entropy should be float32, got {dtype}"
    np.testing.assert_allclose(
        one, 0.325083, rtol=1e-5, err_msg="mean_entropy of the policy [0.1, 0.9] is 0.325083"
    )
    two = _scalar(
        sub.mean_entropy(np.log([[0.1, 0.9], [0.5, 0.5]]).astype(np.float32)), "mean_entropy"
    )
    np.testing.assert_allclose(
        two[2], 0.509115, rtol=1e-5, err_msg="mean entropy of [0.1, 0.9] and [0.5, 0.5] is 0.509115"
    )
    rng = np.random.default_rng()
    logits = rng.normal(size=(int(rng.integers(3, 9)), int(rng.integers(2, 6)))).astype(np.float32)
    expected = _mean_entropy(logits)
    got = _scalar(sub.mean_entropy(logits), "mean_entropy")[2]
    np.testing.assert_allclose(
        got,
        expected,
        rtol=1e-5,
        err_msg=f"mean entropy of the softmax policies of {len(logits)} random rows of logits "
        f"is {expected:.6f}",
    )
