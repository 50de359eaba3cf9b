"""Public tests for assignment 2 (A2C building blocks): run them with check("<exercise>").

``sub`` is your submission: ``sub.gae(...)`` runs your ``gae`` and gives back its result as data
(a tensor comes back as an array that remembers it was a tensor). Your ``ActorCritic`` model,
gradients and what happens to the arrays you are given are observed by small probe functions
(``sub.run(_probe, ...)``) that only report values and shapes; every comparison happens here.
Each test checks a case worked out by hand in the comment next to it, then the same rule on
fresh random inputs.
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


def _loss_value(x, function, what):
    """The value of a returned loss, which must be a scalar (shape ``()``)."""
    shape, _, value = _scalar(x, function)
    assert shape == (), f"{function} should return a scalar for {what}, got shape {shape}"
    return value


def _assert_float32_tensor(x, function, what):
    """A returned loss must be what the docstrings state: a float32 scalar tensor."""
    if not is_tensor(x):
        kind = "a numpy value" if isinstance(x, np.ndarray) else type(x).__name__
        raise AssertionError(f"{function} should return a float32 tensor, got {kind} for {what}")
    dtype = np.asarray(x).dtype
    assert dtype == np.float32, f"{function} should be float32, got {dtype} for {what}"


def _float(x, what):
    """A returned scalar as a Python float (it must have shape ``()``)."""
    out = _array(x, what)
    assert out.shape == (), f"{what} should be a scalar (shape ()), got shape {out.shape}"
    return float(out)


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
    dones = np.asarray(dones, np.float64)
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


def _assert_unchanged(name, before, after, function):
    """Fail, naming the argument and one changed entry, if ``function`` modified an input."""
    before, after = np.asarray(before), np.asarray(after)
    if before.shape == after.shape and np.array_equal(before, after):
        return
    if before.shape != after.shape:
        raise AssertionError(
            f"{function} changed the shape of its {name} argument from {before.shape} to "
            f"{after.shape}: work on a new array, the inputs must stay unchanged"
        )
    where = tuple(int(i) for i in np.argwhere(before != after)[0])
    raise AssertionError(
        f"{function} modified its {name} argument in place: {name}{list(where)} was "
        f"{before[where]:.4f} before the call and {after[where]:.4f} after it. Work on a new "
        "array: the inputs must stay unchanged"
    )


# ---------------------------------------------------------------- discounted_returns


def _returns_and_inputs_after(sub, rewards, dones, gamma, bootstrap_value):
    """Probe: ``discounted_returns(...)``, the name of its dtype, and the two input arrays as
    they are afterwards."""
    out = sub.discounted_returns(rewards, dones, gamma, bootstrap_value)
    dtype = getattr(out, "dtype", None)
    return out, str(getattr(dtype, "name", dtype)), rewards, dones


@points(1, exercise="discounted_returns")
def test_returns_without_dones(sub):
    # gamma = 0.5, bootstrap 0, backward from the last step:
    #   R_2 = 1                  = 1.0
    #   R_1 = 1 + 0.5 * 1.0      = 1.5
    #   R_0 = 1 + 0.5 * 1.5      = 1.75
    # Then random float64 rewards, integer rewards given as a Python list (0.9 * r is never
    # whole), float32 rewards and a rollout of one step: always a float64 numpy array. Every
    # call is made before the first check.
    rng = np.random.default_rng()
    n = int(rng.integers(4, 12))
    int_rewards = [int(r) for r in rng.integers(1, 5, size=int(rng.integers(3, 7)))]
    rewards32 = rng.normal(size=int(rng.integers(3, 7))).astype(np.float32)
    one_step = np.array([float(rng.normal())])
    gamma = float(rng.uniform(0.5, 0.99))
    cases = [
        (np.array([1.0, 1.0, 1.0]), np.array([0, 0, 0]), 0.5, 0.0, "rewards [1, 1, 1]"),
        (rng.normal(size=n), np.zeros(n), gamma, 0.0, f"{n} random rewards"),
        (int_rewards, [0] * len(int_rewards), 0.9, 0, f"integer rewards {int_rewards} (a list)"),
        (rewards32, np.zeros(len(rewards32)), 0.9, 1.0, f"{len(rewards32)} float32 rewards"),
        (one_step, np.zeros(1), 0.5, 2.0, f"one step (reward {one_step[0]:.3f})"),
    ]
    outs = [sub.run(_returns_and_inputs_after, *case[:4])[:2] for case in cases]
    for (rewards, _dones, gamma, bootstrap, what), (out, dtype) in zip(cases, outs, strict=True):
        assert isinstance(out, np.ndarray) and not is_tensor(out), (
            f"discounted_returns should return a numpy array, got "
            f"{'a tensor' if is_tensor(out) else type(out).__name__} for {what}"
        )
        expected = _returns_reference(rewards, np.zeros(len(rewards)), gamma, bootstrap)
        assert out.shape == expected.shape, (
            f"{what}: expected returns of shape {expected.shape}, got {out.shape}"
        )
        np.testing.assert_allclose(
            _array(out, "discounted_returns"),
            expected,
            atol=1e-6,
            err_msg=f"{what}, gamma {gamma:.3f}, no dones, bootstrap_value {bootstrap} should "
            f"give the float returns {np.round(expected, 4).tolist()}",
        )
        assert dtype == "float64", f"{what}: the returns should be float64, got {dtype}"


@points(1, exercise="discounted_returns")
def test_returns_done_mask(sub):
    # The episode ends at step 1, so step 2 belongs to the next episode:
    #   R_2 = 1
    #   R_1 = 1 + 0.5 * R_2 * (1 - 1) = 1.0
    #   R_0 = 1 + 0.5 * 1.0           = 1.5
    # Then random rollouts with bool dones (one of them at the last step: the bootstrap value
    # must then be ignored), float64 rewards that must come back unchanged. Every call is made
    # before the first check, so a wrong answer is compared with known mistakes on all of them.
    rng = np.random.default_rng()
    n = int(rng.integers(6, 14))
    rewards = rng.normal(size=n)
    dones = np.zeros(n, bool)
    dones[rng.choice(n - 1, size=2, replace=False)] = True
    bootstrap = float(rng.uniform(-5.0, 5.0))
    random_cases = [dones, np.concatenate([dones[:-1], [True]])]
    out = sub.discounted_returns(np.array([1.0, 1.0, 1.0]), np.array([0, 1, 0]), 0.5, 0.0)
    runs = [
        sub.run(_returns_and_inputs_after, rewards, case_dones, 0.9, bootstrap)
        for case_dones in random_cases
    ]
    np.testing.assert_allclose(
        _array(out, "discounted_returns"),
        [1.5, 1.0, 1.0],
        atol=1e-6,
        err_msg="with dones [0, 1, 0] the expected returns are [1.5, 1.0, 1.0]: "
        "nothing after a done step may be added to it",
    )
    for case_dones, (out, _, rewards_after, dones_after) in zip(random_cases, runs, strict=True):
        _assert_unchanged("rewards", rewards, rewards_after, "discounted_returns")
        _assert_unchanged("dones", case_dones, dones_after, "discounted_returns")
        np.testing.assert_allclose(
            _array(out, "discounted_returns"),
            _returns_reference(rewards, case_dones, 0.9, bootstrap),
            atol=1e-6,
            err_msg=f"wrong returns with bool dones {case_dones.astype(int).tolist()} (gamma "
            f"0.9, bootstrap_value {bootstrap:.3f}): nothing after a done step may be added to "
            "it",
        )


@points(1, exercise="discounted_returns")
def test_returns_bootstrap(sub):
    # Bootstrap V(s_T) = 4 stands in for the unseen future:
    #   R_2 = 1 + 0.5 * 4    = 3.0
    #   R_1 = 1 + 0.5 * 3.0  = 2.5
    #   R_0 = 1 + 0.5 * 2.5  = 2.25
    rng = np.random.default_rng()
    n, bootstrap = int(rng.integers(3, 8)), float(rng.uniform(-5.0, 5.0))
    rewards = rng.normal(size=n)
    hand = sub.discounted_returns(np.array([1.0, 1.0, 1.0]), np.array([0, 0, 0]), 0.5, 4.0)
    out = _array(sub.discounted_returns(rewards, np.zeros(n), 0.8, bootstrap), "discounted_returns")
    np.testing.assert_allclose(
        _array(hand, "discounted_returns"),
        [2.25, 2.5, 3.0],
        atol=1e-6,
        err_msg="rewards [1, 1, 1], gamma 0.5, bootstrap_value 4 should give [2.25, 2.5, 3.0]",
    )
    np.testing.assert_allclose(
        out,
        _returns_reference(rewards, np.zeros(n), 0.8, bootstrap),
        atol=1e-6,
        err_msg=f"wrong returns for {n} random rewards, gamma 0.8, bootstrap_value {bootstrap:.3f}",
    )


# ---------------------------------------------------------------- advantages


def _advantages_and_inputs_after(sub, returns, values, normalize):
    """Probe: ``advantages(returns, values, normalize)`` and the inputs as they are afterwards."""
    out = sub.advantages(returns, values, normalize=normalize)
    return out, returns, values


def _check_advantages_keep_inputs(sub, returns, values, normalize):
    """Run :func:`_advantages_and_inputs_after`; check the inputs, then the advantages."""
    out, returns_after, values_after = sub.run(
        _advantages_and_inputs_after, returns, values, normalize
    )
    _assert_unchanged("returns", returns, returns_after, "advantages")
    _assert_unchanged("values", values, values_after, "advantages")
    adv = returns - values
    if normalize:
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    assert isinstance(out, np.ndarray) and not is_tensor(out), (
        f"advantages should return a numpy array, got "
        f"{'a tensor' if is_tensor(out) else type(out).__name__}"
    )
    assert out.dtype.kind == "f", f"the advantages should be floats, got dtype {out.dtype}"
    out = _array(out, "advantages")
    assert out.shape == returns.shape, (
        f"advantages of {list(returns.shape)} inputs should have shape {list(returns.shape)}, "
        f"got {list(out.shape)}"
    )
    np.testing.assert_allclose(
        out,
        adv,
        atol=1e-5,
        err_msg=f"advantages of random {list(returns.shape)} returns and values with normalize="
        f"{normalize} should be "
        + (
            "(A - mean(A)) / (std(A) + 1e-8) with A = returns - values: one mean and one "
            "population std over all the elements"
            if normalize
            else "returns - values"
        ),
    )


@points(1, exercise="advantages")
def test_advantages_plain(sub):
    # [3, 2, 1] - [1, 1, 1] = [2, 1, 0]
    out = sub.advantages(np.array([3.0, 2.0, 1.0]), np.array([1.0, 1.0, 1.0]))
    assert isinstance(out, np.ndarray) and not is_tensor(out), (
        f"advantages should return a numpy array, got "
        f"{'a tensor' if is_tensor(out) else type(out).__name__}"
    )
    out = _array(out, "advantages")
    assert out.shape == (3,), f"expected advantages of shape (3,), got {out.shape}"
    np.testing.assert_allclose(
        out,
        [2.0, 1.0, 0.0],
        atol=1e-6,
        err_msg="returns [3, 2, 1] minus values [1, 1, 1] is [2, 1, 0]",
    )
    rng = np.random.default_rng()
    returns, values = rng.normal(size=(2, int(rng.integers(4, 10)), int(rng.integers(2, 4))))
    _check_advantages_keep_inputs(sub, returns, values, normalize=False)


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
    # [T, n_envs] advantages are standardised together, over every element.
    rng = np.random.default_rng()
    shape = (int(rng.integers(5, 10)), int(rng.integers(2, 5)))
    returns = rng.normal(loc=2.0, scale=3.0, size=shape)
    values = rng.normal(size=shape) + rng.normal(scale=2.0, size=shape[1])  # columns differ
    _check_advantages_keep_inputs(sub, returns, values, normalize=True)
    # Equal advantages: A - mean(A) = 0 and std = 0, so 0 / (0 + 1e-8) = 0, never nan.
    n, offset = int(rng.integers(3, 8)), float(rng.uniform(0.5, 3.0))
    out = _array(sub.advantages(np.full(n, 2.0 + offset), np.full(n, 2.0), True), "advantages")
    assert np.all(np.isfinite(out)), (
        f"{n} equal advantages ({offset:.3f}) with normalize=True gave {out.tolist()}: their std "
        "is 0, and adding eps to it must give zeros"
    )
    np.testing.assert_allclose(
        out, np.zeros(n), atol=1e-6, err_msg="equal advantages should normalise to zeros"
    )
    # A spread of 1e-3 is far above eps = 1e-8: the result still has std 1.
    values = rng.normal(size=int(rng.integers(5, 10)))
    returns = values + 1.0 + 1e-3 * rng.normal(size=len(values))
    adv = returns - values
    out = _array(sub.advantages(returns, values, normalize=True), "advantages")
    np.testing.assert_allclose(
        out,
        (adv - adv.mean()) / (adv.std() + 1e-8),
        atol=1e-3,
        err_msg="advantages with a spread of 1e-3 should still normalise to mean 0 and std 1 "
        "(eps = 1e-8 added to the std itself)",
    )


# ---------------------------------------------------------------- gae


def _gae_and_inputs_after(sub, rewards, values, dones, bootstrap_value, gamma, lam):
    """Probe: ``gae(...)`` and the rewards, values and dones as they are afterwards."""
    out = sub.gae(rewards, values, dones, bootstrap_value, gamma, lam)
    return out, rewards, values, dones


@points(0.5, exercise="gae")
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
        err_msg="GAE advantages of the hand example (gamma = lam = 0.5) are wrong",
    )
    np.testing.assert_allclose(
        ret,
        [[1.4375, 0.75], [1.75, 2.0], [3.0, 1.0]],
        atol=1e-6,
        err_msg="returns should be advantages + values",
    )
    # A random rollout with bool dones and different gamma and lam.
    rng = np.random.default_rng()
    shape = (int(rng.integers(4, 8)), int(rng.integers(2, 5)))
    rewards, values = rng.normal(size=(2, *shape))
    dones = rng.random(shape) < 0.25
    dones[rng.integers(shape[0] - 1), 0] = True
    last = rng.normal(size=shape[1])
    gamma, lam = float(rng.uniform(0.8, 0.99)), float(rng.uniform(0.3, 0.7))
    out, rewards_after, values_after, dones_after = sub.run(
        _gae_and_inputs_after, rewards, values, dones, last, gamma, lam
    )
    _assert_unchanged("rewards", rewards, rewards_after, "gae")
    _assert_unchanged("values", values, values_after, "gae")
    _assert_unchanged("dones", dones, dones_after, "gae")
    assert isinstance(out, tuple) and len(out) == 2, (
        f"gae should return a tuple (advantages, returns), got {type(out).__name__}"
    )
    ref_adv, ref_ret = _gae_reference(rewards, values, dones, last, gamma, lam)
    np.testing.assert_allclose(
        _array(out[0], "advantages"),
        ref_adv,
        atol=1e-6,
        err_msg=f"GAE advantages are wrong on a random {list(shape)} rollout with bool dones "
        f"(gamma {gamma:.3f}, lam {lam:.3f})",
    )
    np.testing.assert_allclose(
        _array(out[1], "returns"),
        ref_ret,
        atol=1e-6,
        err_msg="returns should be advantages + values",
    )


@points(0.5, exercise="gae")
def test_gae_dtypes_and_small_rollouts(sub):
    # float32 rewards, values and bootstrap values still give two float64 numpy arrays; so do
    # a rollout of one step ([1, n_envs]: A_0 = delta_0) and one environment ([T, 1]).
    rng = np.random.default_rng()
    n_envs, steps = int(rng.integers(2, 5)), int(rng.integers(3, 7))
    cases = []
    for shape, dtype in [((steps, n_envs), np.float32), ((1, n_envs), None), ((steps, 1), None)]:
        rewards, values = rng.normal(size=(2, *shape)).astype(dtype or np.float64)
        dones = rng.random(shape) < 0.25
        last = rng.normal(size=shape[1]).astype(dtype or np.float64)
        gamma, lam = float(rng.uniform(0.8, 0.99)), float(rng.uniform(0.3, 0.9))
        cases.append((rewards, values, dones, last, gamma, lam))
    outs = [sub.gae(*case) for case in cases]
    for (rewards, values, dones, last, gamma, lam), out in zip(cases, outs, strict=True):
        what = (
            f"a random [{', '.join(map(str, rewards.shape))}] rollout of {rewards.dtype} rewards "
            f"and values (gamma {gamma:.3f}, lam {lam:.3f})"
        )
        assert isinstance(out, tuple) and len(out) == 2, (
            f"gae should return a tuple (advantages, returns), got {type(out).__name__}"
        )
        ref = _gae_reference(
            rewards.astype(np.float64), values.astype(np.float64), dones, last, gamma, lam
        )
        for got, expected, name in zip(out, ref, ("advantages", "returns"), strict=True):
            assert isinstance(got, np.ndarray) and not is_tensor(got), (
                f"gae should return numpy arrays, got {name} as "
                f"{'a tensor' if is_tensor(got) else type(got).__name__} for {what}"
            )
            assert got.shape == expected.shape, (
                f"the {name} of {what} should have shape {expected.shape}, got {got.shape}"
            )
            np.testing.assert_allclose(
                _array(got, name), expected, atol=1e-5, err_msg=f"wrong GAE {name} for {what}"
            )
            assert got.dtype == np.float64, (
                f"the {name} should be float64 (the docstring's dtype), got {got.dtype} for {what}"
            )


# ---------------------------------------------------------------- ActorCritic


def _actor_critic_probe(sub, kwargs, obs, seed):
    """Probe: ``ActorCritic(**kwargs)`` whose trainable variables get seeded random values (so
    the test can recompute its outputs, and the values of ``obs`` are of both signs):
    ``(values, logits)`` for ``obs``, the same for ``obs[:1]`` alone, and
    ``[layer number, value]`` of each trainable variable, layer by layer."""
    import numpy as np

    model = sub.ActorCritic(**kwargs)
    model(obs)
    # The variables by layer (a kernel and its bias share their layer's path), the layers in
    # the order of their kernels' shapes: the same values whatever order the model declares
    # its layers in.
    layers = {}
    for v in model.trainable_variables:
        layers.setdefault(str(getattr(v, "path", v.name)).rpartition("/")[0], []).append(v)
    layers = [sorted(vs, key=lambda v: -len(v.shape)) for vs in layers.values()]
    layers.sort(key=lambda vs: [tuple(v.shape) for v in vs])
    rng = np.random.default_rng(seed)
    for variable in (v for vs in layers for v in vs):
        shape = tuple(variable.shape)
        scale = 1.0 / np.sqrt(shape[0]) if len(shape) == 2 else 0.5
        variable.assign(rng.normal(scale=scale, size=shape).astype(np.float32))
    try:  # shift the value head's bias (the one variable of shape (1,)): values straddle 0
        shift = float(np.median(np.asarray(model(obs)[0], np.float64)))
    except Exception:
        shift = 0.0
    for variable in model.trainable_variables:
        if tuple(variable.shape) == (1,):
            variable.assign(np.asarray(variable.numpy()) - np.float32(shift))
    weights = [[n, np.asarray(v.numpy())] for n, vs in enumerate(layers) for v in vs]
    return model(obs), model(obs[:1]), weights


def _dense_layers(weights, obs_dim, hidden, n_actions):
    """``{role: (kernel, bias)}`` for the roles trunk1, trunk2, value and policy, found by the
    kernels' shapes (a kernel and its bias share their layer's number)."""
    shapes = [list(np.shape(value)) for _, value in weights]
    roles = {
        (obs_dim, hidden): "trunk1",
        (hidden, hidden): "trunk2",
        (hidden, 1): "value",
        (hidden, n_actions): "policy",
    }
    expected = f"kernels of shapes {[list(s) for s in roles]} each with its bias"
    setting = f"obs_dim {obs_dim}, hidden={hidden}, n_actions={n_actions}"
    assert len(weights) == 8, (
        f"expected 8 trainable variables ({expected}: 2 trunk layers and 2 heads) for "
        f"{setting}, got {len(weights)} of shapes {shapes}"
    )
    by_layer = {}
    for layer, value in weights:
        by_layer.setdefault(layer, []).append(_array(value, "a weight"))
    found = {}
    for arrays in by_layer.values():
        kernels = [a for a in arrays if a.ndim == 2]
        biases = [a for a in arrays if a.ndim == 1]
        if len(kernels) == 1 and len(biases) == 1:
            role = roles.get(kernels[0].shape)
            if role and role not in found and biases[0].shape == kernels[0].shape[1:]:
                found[role] = (kernels[0], biases[0])
    assert len(found) == 4, (
        f"expected four Dense layers with {expected} for {setting}; got trainable variables "
        f"of shapes {shapes}"
    )
    return found


def _forward(layers, obs):
    """numpy's ``(values, logits)`` through the model's own layers, in float64."""
    h = np.asarray(obs, np.float64)
    for role in ("trunk1", "trunk2"):
        kernel, bias = layers[role]
        h = np.maximum(h @ kernel + bias, 0.0)
    kernel, bias = layers["value"]
    values = (h @ kernel + bias)[:, 0]
    kernel, bias = layers["policy"]
    return values, h @ kernel + bias


def _outputs(out, rows, n_actions, what):
    """``(values, logits)`` of one call, checked for structure, shape and dtype."""
    assert isinstance(out, tuple | list) and len(out) == 2, (
        f"calling the model should return (values, logits), got {type(out).__name__}"
    )
    values, logits = out
    assert np.shape(values) == (rows,), (
        f"values should have shape ({rows},) for {what} (one value per observation: squeeze "
        f"the value head's last axis only), got {np.shape(values)}"
    )
    assert np.shape(logits) == (rows, n_actions), (
        f"logits should have shape ({rows}, {n_actions}) for {what} and {n_actions} actions, "
        f"got {np.shape(logits)}"
    )
    v_dtype, l_dtype = np.asarray(values).dtype, np.asarray(logits).dtype
    assert v_dtype == np.float32 and l_dtype == np.float32, (
        f"values and logits should be float32 (for {np.asarray(values).dtype} observations "
        f"too), got {v_dtype} and {l_dtype}"
    )
    return _array(values, "values"), _array(logits, "logits")


def _check_actor_critic(sub, obs, n_actions, hidden=None):
    """The model's outputs against numpy's forward pass through its own (seeded) weights."""
    kwargs = (
        {"n_actions": n_actions} if hidden is None else {"n_actions": n_actions, "hidden": hidden}
    )
    width = 64 if hidden is None else hidden
    seed = int(np.random.default_rng().integers(2**31))
    out, one, weights = sub.run(_actor_critic_probe, kwargs, obs, seed)
    layers = _dense_layers(weights, obs.shape[1], width, n_actions)
    values, logits = _forward(layers, obs)
    call = f"ActorCritic({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
    got_values, got_logits = _outputs(out, len(obs), n_actions, f"a batch of {len(obs)}")
    if not np.allclose(got_logits, logits, rtol=1e-4, atol=1e-4):
        rows_sum_to_one = np.allclose(got_logits.sum(axis=-1), 1.0, atol=1e-4)
        assert not (rows_sum_to_one and got_logits.min() >= 0.0), (
            f"{call}: every row of the logits is a probability distribution (it sums to 1), "
            "but the model should return raw logits, e.g. for observation 0 "
            f"{np.round(logits[0], 4).tolist()}, got {np.round(got_logits[0], 4).tolist()}"
        )
        raise AssertionError(
            f"{call}: the logits differ from Dense(relu) -> Dense(relu) -> Dense(n_actions) "
            f"computed with the model's own weights: for observation 0 expected "
            f"{np.round(logits[0], 4).tolist()}, got {np.round(got_logits[0], 4).tolist()}"
        )
    if not np.allclose(got_values, values, rtol=1e-4, atol=1e-4):
        clipped = np.allclose(got_values, np.maximum(values, 0.0), rtol=1e-4, atol=1e-4)
        assert not clipped, (
            f"{call}: the values are clipped at 0 (expected {np.round(values, 4).tolist()}, got "
            f"{np.round(got_values, 4).tolist()}): a state value can be any real number"
        )
        raise AssertionError(
            f"{call}: the values differ from Dense(relu) -> Dense(relu) -> Dense(1) computed "
            f"with the model's own weights: expected {np.round(values, 4).tolist()}, got "
            f"{np.round(got_values, 4).tolist()}"
        )
    one_values, one_logits = _outputs(one, 1, n_actions, "a batch of one observation")
    np.testing.assert_allclose(
        np.concatenate([one_values, one_logits[0]]),
        np.concatenate([values[:1], logits[0]]),
        rtol=1e-4,
        atol=1e-4,
        err_msg=f"{call}: the value and logits of observation 0 alone should be those it gets "
        "in the batch",
    )


@points(1, exercise="ActorCritic")
def test_actor_critic_outputs_from_its_layers(sub):
    # Parameters for obs_dim 4, hidden 64, 2 actions (each Dense layer: a kernel and a bias):
    #   4*64 + 64 = 320,  64*64 + 64 = 4160,  64*1 + 1 = 65,  64*2 + 2 = 130   -> 4675
    # The probe gives every variable a seeded random value; the test recomputes the outputs.
    # The last observation is ten times larger: some of its hidden units exceed 6, where ReLU
    # goes on rising.
    rng = np.random.default_rng()
    obs = rng.normal(size=(int(rng.integers(5, 10)), 4)).astype(np.float32)
    obs[-1] *= 10.0
    _check_actor_critic(sub, obs, n_actions=2)


@points(1, exercise="ActorCritic")
def test_actor_critic_hidden_and_actions(sub):
    # hidden 16, 3 actions, obs_dim 4 -> 4*16+16 + 16*16+16 + 16+1 + 16*3+3 = 420 parameters.
    rng = np.random.default_rng()
    hidden, n_actions, obs_dim = (int(v) for v in rng.integers([9, 3, 2], [33, 6, 9]))
    obs = rng.normal(size=(int(rng.integers(3, 8)), obs_dim))  # float64 observations
    _check_actor_critic(sub, obs, n_actions=n_actions, hidden=hidden)


# ---------------------------------------------------------------- sample_actions


def _sample_with_dtype(sub, logits, seed):
    """Probe: ``sample_actions(logits, seed=seed)`` and the name of its dtype as it returned."""
    out = sub.sample_actions(logits, seed=seed)
    dtype = getattr(out, "dtype", None)
    return out, str(getattr(dtype, "name", dtype))


def _actions(out, rows, what, dtype=None):
    """Returned actions, checked for kind, shape and dtype, as an int numpy array."""
    assert is_tensor(out), (
        f"sample_actions should return a tensor (the docstring's [batch] int32 tensor), got "
        f"{type(out).__name__ if not isinstance(out, np.ndarray) else 'a numpy array'} for {what}"
    )
    assert np.shape(out) == (rows,), (
        f"expected one action per row, shape ({rows},), for {what}, got {np.shape(out)}"
    )
    dtype = str(np.asarray(out).dtype) if dtype is None else dtype
    assert dtype == "int32", f"actions should be int32, got {dtype}"
    return np.asarray(out).astype(np.int64)


@points(0.5, exercise="sample_actions")
def test_sample_peaked_logits(sub):
    # A logit 50 above the others has probability ~1 - 2e-22: it is always drawn.
    logits = np.array([[0.0, 50.0, 0.0], [50.0, 0.0, 0.0], [0.0, 0.0, 50.0]], np.float32)
    for seed in range(3):
        out, dtype = sub.run(_sample_with_dtype, logits, seed)
        got = _actions(out, 3, "3 rows of logits", dtype).tolist()
        assert got == [1, 0, 2], (
            f"rows whose largest logit is 50 above the rest should give their argmax "
            f"[1, 0, 2], got {got} (seed {seed})"
        )
    # A batch of one row still gives a [1] tensor.
    out, dtype = sub.run(_sample_with_dtype, logits[2:], 0)
    got = _actions(out, 1, "a batch of one row", dtype).tolist()
    assert got == [2], f"the row [0, 0, 50] should give action [2], got {got}"
    rng = np.random.default_rng()
    rows, n_actions = int(rng.integers(5, 12)), int(rng.integers(3, 6))
    best = rng.integers(0, n_actions, size=rows)
    logits = rng.normal(size=(rows, n_actions)).astype(np.float32)
    logits[np.arange(rows), best] += 50.0
    out = sub.sample_actions(logits, seed=int(rng.integers(0, 1000)))
    got = _actions(out, rows, f"{rows} rows of logits").tolist()
    assert got == best.tolist(), (
        f"rows whose largest logit is 50 above the rest should give their argmax "
        f"{best.tolist()}, got {got}"
    )


@points(0.5, exercise="sample_actions")
def test_sample_uniform_policy_explores(sub):
    # Equal logits: every action has probability 1 / n_actions, and each row is its own draw.
    # All the batches are drawn before the first check.
    rng = np.random.default_rng()
    cases = [(60, 3, int(rng.integers(0, 2**31 - 1)))]
    cases += [
        (int(rng.integers(60, 100)), int(rng.integers(2, 6)), int(rng.integers(0, 2**31 - 1)))
        for _ in range(3)
    ]
    outs = [sub.sample_actions(np.zeros(case[:2], np.float32), seed=case[2]) for case in cases]
    for (rows, n_actions, seed), out in zip(cases, outs, strict=True):
        values = _actions(out, rows, f"{rows} equal rows")
        assert values.min() >= 0 and values.max() <= n_actions - 1, (
            f"actions should lie in range({n_actions}), got {values.tolist()}"
        )
        assert len(np.unique(values)) > 1, (
            f"{rows} rows of a uniform policy over {n_actions} actions (seed {seed}) all got "
            f"action {values[0]}: each row should be drawn at random from softmax(logits)"
        )


@points(0.5, exercise="sample_actions")
def test_sample_reproducible(sub):
    rng = np.random.default_rng()
    seed = int(rng.integers(0, 2**31 - 3))
    logits = np.zeros((200, 3), np.float32)
    first = _array(sub.sample_actions(logits, seed=seed), "actions")
    again = _array(sub.sample_actions(logits, seed=seed), "actions")
    others = [_array(sub.sample_actions(logits, seed=seed + k), "actions") for k in (1, 2)]
    assert np.array_equal(first, again), (
        f"the same logits and seed {seed} gave different actions on two calls: the result "
        "should depend only on the logits and the seed (use a stateless random op)"
    )
    for k, other in enumerate(others, start=1):
        assert not np.array_equal(first, other), (
            f"seeds {seed} and {seed + k} gave the same 200 actions from a uniform policy over "
            "3 actions: the seed is not used"
        )
    assert len(np.unique(first)) == 3, (
        f"a uniform policy over 3 actions should sample all of them over 200 rows, got "
        f"{sorted(set(first.astype(int).tolist()))}"
    )


@points(0.5, exercise="sample_actions")
def test_sample_frequencies_follow_softmax(sub):
    # Two batches, both drawn before the checks.
    # 1. 4000 rows of logits log([1 - p, p]): action 1 has probability p, 0.1 <= |p - 0.5| <=
    #    0.25; the standard error of its frequency is at most sqrt(0.25 / 4000) = 0.0079, so
    #    0.04 is more than 5 of them.
    # 2. 3 random policies over 4 actions (every probability >= 0.05) take turns over 6000 rows;
    #    over the 2000 rows of one policy the standard error is at most sqrt(0.25 / 2000) =
    #    0.0112, so 0.06 is more than 5 of them.
    rng = np.random.default_rng()
    p = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.1, 0.25) + 0.5)
    two = np.tile(np.log([[1.0 - p, p]]), (4000, 1)).astype(np.float32)
    policies = rng.dirichlet(np.ones(4), size=3) * 0.8 + 0.05
    four = np.log(np.tile(policies, (2000, 1))).astype(np.float32)
    seeds = [int(s) for s in rng.integers(0, 2**31 - 1, size=2)]
    outs = [sub.sample_actions(two, seed=seeds[0]), sub.sample_actions(four, seed=seeds[1])]
    actions = [_actions(outs[0], 4000, "4000 rows"), _actions(outs[1], 6000, "6000 rows")]
    freq = float(np.mean(actions[0] == 1))
    assert abs(freq - p) < 0.04, (
        f"with probabilities [{1 - p:.2f}, {p:.2f}] action 1 should be drawn about "
        f"{100 * p:.0f}% of the time, got {100 * freq:.1f}% over 4000 rows (seed {seeds[0]}; "
        "sample from softmax(logits))"
    )
    for k, policy in enumerate(policies):
        freq = np.bincount(actions[1][k::3], minlength=4)[:4] / 2000.0
        assert np.all(np.abs(freq - policy) < 0.06), (
            f"rows {k}, {k + 3}, {k + 6}, ... have probabilities {np.round(policy, 3).tolist()}, "
            f"but their actions came with frequencies {np.round(freq, 3).tolist()} (seed "
            f"{seeds[1]}): each row should be drawn from the softmax of its own logits"
        )


# ---------------------------------------------------------------- critic_loss


def _critic_loss_and_gradients(sub, returns, values):
    """Probe: ``critic_loss`` of two float32 variables and its gradients (None: no gradient)."""
    import tensorflow as tf

    returns, values = tf.Variable(returns, dtype=tf.float32), tf.Variable(values, dtype=tf.float32)
    with tf.GradientTape() as tape:
        loss = sub.critic_loss(returns, values)
    grads = tape.gradient(loss, [returns, values])
    return loss, [None if g is None else tf.convert_to_tensor(g).numpy() for g in grads]


@points(1, exercise="critic_loss")
def test_critic_loss_value(sub):
    # returns - values = [1-1, 2-0, 3-5] = [0, 2, -2]; squares [0, 4, 4]; mean 8/3
    # 0.5 * 8/3 = 4/3 = 1.33333
    # Then random [n], [T, n_envs] and float64 inputs: always a float32 scalar tensor.
    rng = np.random.default_rng()
    one = rng.normal(size=(2, int(rng.integers(4, 10)))).astype(np.float32)
    two = rng.normal(size=(2, int(rng.integers(2, 6)), int(rng.integers(2, 5)))).astype(np.float32)
    three = rng.normal(size=(2, int(rng.integers(2, 6)), int(rng.integers(2, 5))))
    cases = [(np.array([1.0, 2.0, 3.0], np.float32), np.array([1.0, 0.0, 5.0], np.float32))]
    cases += [(one[0], one[1]), (two[0], two[1]), (three[0], three[1])]
    outs = [sub.critic_loss(returns, values) for returns, values in cases]
    for (returns, values), out in zip(cases, outs, strict=True):
        expected = 0.5 * float(np.mean((returns.astype(np.float64) - values) ** 2))
        what = f"{list(returns.shape)} {returns.dtype} returns and values"
        loss = _loss_value(out, "critic_loss", f"{what} (the mean over all elements)")
        np.testing.assert_allclose(
            loss,
            expected,
            rtol=1e-5,
            err_msg=f"0.5 * mean((returns - values)**2) for returns "
            f"{np.round(returns, 4).tolist()} and values {np.round(values, 4).tolist()} is "
            f"{expected:.6f}",
        )
        _assert_float32_tensor(out, "critic_loss", what)


@points(0.5, exercise="critic_loss")
def test_critic_loss_gradients(sub):
    # L = 0.5 * mean((R - V)^2) over all N elements  ->  dL/dV = (V - R) / N; the returns are
    # targets, so no gradient may reach them.
    rng = np.random.default_rng()
    shape = (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
    returns = rng.normal(size=shape).astype(np.float32)
    values = rng.normal(size=shape).astype(np.float32)
    loss, (g_returns, g_values) = sub.run(_critic_loss_and_gradients, returns, values)
    diff = returns.astype(np.float64) - values
    np.testing.assert_allclose(
        _float(loss, "critic_loss"),
        0.5 * np.mean(diff**2),
        rtol=1e-5,
        err_msg=f"critic_loss of {list(shape)} variables: 0.5 * MSE over all {diff.size} elements",
    )
    _check_critic_gradients(g_values, g_returns, -diff / diff.size)


def _check_critic_gradients(g_values, g_returns, expected):
    """Assert critic_loss's gradients: ``expected`` = (values - returns) / N for the values,
    none (or zeros) for the returns, which are targets."""
    assert g_values is not None, (
        "no gradient reached the values: compute the loss with TensorFlow operations"
    )
    np.testing.assert_allclose(
        _array(g_values, "gradient"),
        expected,
        rtol=1e-4,
        atol=1e-6,
        err_msg="gradient of critic_loss w.r.t. values should be (values - returns) / N",
    )
    assert g_returns is None or not np.any(_array(g_returns, "gradient")), (
        "a gradient reached the returns: they are targets, so the loss must treat them as "
        "constants (tf.stop_gradient)"
    )


# ---------------------------------------------------------------- actor_loss


def _actor_loss_gradients(sub, logits, actions, advantages):
    """Probe: ``mean_actor_loss`` with float32 variables of logits and advantages, and the
    gradients with respect to both (None: no gradient)."""
    import tensorflow as tf

    logits = tf.Variable(logits, dtype=tf.float32)
    advantages = tf.Variable(advantages, dtype=tf.float32)
    with tf.GradientTape() as tape:
        loss = sub.mean_actor_loss(logits, actions, advantages)
    grads = tape.gradient(loss, [logits, advantages])
    return loss, [None if g is None else tf.convert_to_tensor(g).numpy() for g in grads]


@points(1.5, exercise="mean_actor_loss")
def test_actor_loss_value(sub):
    # Row 0: logits [0, 0] -> p = [0.5, 0.5], action 0: -log 0.5 = 0.693147, times A = 2
    #        -> 1.386294
    # Row 1: logits log([0.1, 0.9]) -> p = [0.1, 0.9], action 1: -log 0.9 = 0.105361,
    #        times A = -1 -> -0.105361
    # mean = (1.386294 - 0.105361) / 2 = 0.640467
    # Then random batches: 3 to 5 actions (some rows took action 2 or above), float64 logits
    # and advantages, a batch of one row; every call is made before the first check.
    rng = np.random.default_rng()
    cases = [
        (
            np.array([[0.0, 0.0], np.log([0.1, 0.9])], np.float32),
            np.array([0, 1]),
            np.array([2.0, -1.0], np.float32),
            0.640467,
        ),
        # p(action 0) = softmax([0, 120])[0] = e^-120 underflows to 0 in float32, but
        # -log p = 120 exactly: (120 * 0.5 + ln 2 * -1) / 2 = 29.653426
        (
            np.array([[0.0, 120.0], [3.0, 3.0]], np.float32),
            np.array([0, 1]),
            np.array([0.5, -1.0], np.float32),
            29.653426,
        ),
    ]
    for rows, n_actions, dtype in [
        (int(rng.integers(4, 9)), int(rng.integers(3, 6)), np.float32),
        (int(rng.integers(3, 9)), int(rng.integers(2, 5)), np.float64),
        (1, int(rng.integers(2, 5)), np.float32),
    ]:
        logits = rng.normal(size=(rows, n_actions)).astype(dtype)
        actions = rng.integers(0, n_actions, size=rows)  # int64, as numpy makes them
        if n_actions > 2:
            actions[rng.choice(rows, size=min(rows, 2), replace=False)] = rng.integers(
                2, n_actions, size=min(rows, 2)
            )
        adv = rng.normal(size=rows).astype(dtype)
        log_pi = _log_softmax(logits)[np.arange(rows), actions]
        cases.append((logits, actions, adv, float(np.mean(-log_pi * adv))))
    outs = [sub.mean_actor_loss(logits, actions, adv) for logits, actions, adv, _ in cases]
    for (logits, actions, adv, expected), out in zip(cases, outs, strict=True):
        what = f"{list(logits.shape)} {logits.dtype} logits"
        loss = _loss_value(out, "mean_actor_loss", what)
        assert np.isfinite(loss), (
            f"mean_actor_loss came back {loss} for logits {logits.tolist()} and actions "
            f"{actions.tolist()}: a probability that underflows to 0 must still give its finite "
            "-log pi, so work from the logits"
        )
        np.testing.assert_allclose(
            loss,
            expected,
            rtol=1e-5,
            atol=1e-6,
            err_msg=f"expected mean(-log pi(a|s) * A) = {expected:.6f} for {what}, actions "
            f"{actions.tolist()} and advantages {np.round(adv, 4).tolist()}",
        )
        _assert_float32_tensor(out, "mean_actor_loss", what)


@points(0.5, exercise="mean_actor_loss")
def test_actor_loss_advantages_are_constants(sub):
    # d/dlogits_b of mean_b(-log softmax(logits_b)[a_b] * A_b) = (softmax(logits_b) - onehot(a_b))
    # * A_b / B; the advantages are constants, so no gradient may reach them.
    rng = np.random.default_rng()
    rows, n_actions = int(rng.integers(2, 7)), int(rng.integers(2, 4))
    logits = rng.normal(size=(rows, n_actions)).astype(np.float32)
    adv = rng.normal(size=rows).astype(np.float32)
    actions = rng.integers(0, n_actions, size=rows).astype(np.int32)
    loss, (g_logits, g_adv) = sub.run(_actor_loss_gradients, logits, actions, adv)
    np.testing.assert_allclose(
        _float(loss, "mean_actor_loss"),
        float(np.mean(-_log_softmax(logits)[np.arange(rows), actions] * adv)),
        rtol=1e-5,
        atol=1e-6,
        err_msg="mean_actor_loss of variables of logits and advantages should be "
        "mean(-log pi(a|s) * A)",
    )
    assert g_logits is not None, (
        "no gradient reached the logits: compute the loss with TensorFlow operations"
    )
    expected = (np.exp(_log_softmax(logits)) - np.eye(n_actions)[actions]) * adv[:, None] / rows
    np.testing.assert_allclose(
        _array(g_logits, "gradient"),
        expected,
        rtol=1e-4,
        atol=1e-6,
        err_msg="gradient of mean_actor_loss w.r.t. the logits is wrong",
    )
    assert g_adv is None or not np.any(_array(g_adv, "gradient")), (
        "a gradient reached the advantages: the actor's loss must treat them as constants "
        "(tf.stop_gradient), or it would train the critic too"
    )


# ---------------------------------------------------------------- entropy


@points(1.5, exercise="mean_entropy")
def test_entropy_values(sub):
    # p = [0.1, 0.9]: -(0.1 ln 0.1 + 0.9 ln 0.9) = 0.230259 + 0.094825 = 0.325083
    # p = [0.5, 0.5]: ln 2 = 0.693147
    # batch mean: (0.325083 + 0.693147) / 2 = 0.509115
    # Then random float32 and float64 logits, and a certain policy next to a uniform one:
    # softmax([100, -100, ...]) underflows to [1, 0, ...] in float32 and its entropy is 0
    # (0 * log 0 counts as 0), so the mean is ln(n) / 2. Every call comes before the checks.
    rng = np.random.default_rng()
    n = int(rng.integers(2, 6))
    certain = np.full(n, -100.0)
    certain[rng.integers(n)] = 100.0
    cases = [
        (
            np.log([[0.1, 0.9], [0.5, 0.5]]).astype(np.float32),
            0.509115,
            "[0.1, 0.9] and [0.5, 0.5]",
        ),
        (np.log([[0.1, 0.9]]).astype(np.float32), 0.325083, "the one policy [0.1, 0.9]"),
        (
            np.stack([certain, np.full(n, float(rng.normal()))]).astype(np.float32),
            np.log(n) / 2,
            f"a certain policy (logits {certain.tolist()}, entropy 0) and a uniform one (ln {n})",
        ),
    ]
    for dtype in (np.float32, np.float64):
        logits = rng.normal(size=(int(rng.integers(3, 9)), int(rng.integers(2, 6)))).astype(dtype)
        cases.append((logits, _mean_entropy(logits), f"{len(logits)} random rows of logits"))
    outs = [sub.mean_entropy(logits) for logits, _, _ in cases]
    for (logits, expected, policies), out in zip(cases, outs, strict=True):
        what = f"{list(logits.shape)} {logits.dtype} logits"
        got = _loss_value(out, "mean_entropy", f"{what} (the batch mean)")
        assert np.isfinite(got), (
            f"mean_entropy of {policies} came back {got}: a probability of exactly 0 must "
            "contribute 0, not nan"
        )
        np.testing.assert_allclose(
            got,
            expected,
            rtol=1e-5,
            err_msg=f"the mean entropy of {policies} is {expected:.6f}",
        )
        _assert_float32_tensor(out, "mean_entropy", what)
