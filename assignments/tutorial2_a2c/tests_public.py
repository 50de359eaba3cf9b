"""Public tests for assignment 2 (A2C building blocks): run them with check("<exercise>").

Every expected number below is worked out by hand in the comment next to it.
"""

import keras
import numpy as np
import tensorflow as tf

from tfcourse.grading.points import points


def _array(x, what):
    """``x`` as a float64 numpy array (works for lists, numpy arrays and eager tensors)."""
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} should be an array of numbers, got {type(x).__name__}") \
            from None


# ---------------------------------------------------------------- discounted_returns


@points(1, exercise="discounted_returns")
def test_returns_without_dones(sub):
    # gamma = 0.5, bootstrap 0, backward from the last step:
    #   R_2 = 1                  = 1.0
    #   R_1 = 1 + 0.5 * 1.0      = 1.5
    #   R_0 = 1 + 0.5 * 1.5      = 1.75
    out = sub.discounted_returns(np.array([1.0, 1.0, 1.0]), np.array([0, 0, 0]), 0.5, 0.0)
    assert isinstance(out, np.ndarray), (
        f"discounted_returns should return a numpy array, got {type(out).__name__}"
    )
    assert out.shape == (3,), f"expected returns of shape (3,), got {out.shape}"
    np.testing.assert_allclose(
        out, [1.75, 1.5, 1.0], atol=1e-6,
        err_msg="rewards [1, 1, 1], gamma 0.5, no dones, bootstrap 0 should give [1.75, 1.5, 1.0]",
    )


@points(1, exercise="discounted_returns")
def test_returns_done_mask(sub):
    # The episode ends at step 1, so step 2 belongs to the next episode:
    #   R_2 = 1
    #   R_1 = 1 + 0.5 * R_2 * (1 - 1) = 1.0
    #   R_0 = 1 + 0.5 * 1.0           = 1.5
    out = sub.discounted_returns(np.array([1.0, 1.0, 1.0]), np.array([0, 1, 0]), 0.5, 0.0)
    np.testing.assert_allclose(
        _array(out, "discounted_returns"), [1.5, 1.0, 1.0], atol=1e-6,
        err_msg="with dones [0, 1, 0] the expected returns are [1.5, 1.0, 1.0]: "
        "nothing after a done step may be added to it",
    )


@points(1, exercise="discounted_returns")
def test_returns_bootstrap(sub):
    # Bootstrap V(s_T) = 4 stands in for the unseen future:
    #   R_2 = 1 + 0.5 * 4    = 3.0
    #   R_1 = 1 + 0.5 * 3.0  = 2.5
    #   R_0 = 1 + 0.5 * 2.5  = 2.25
    out = sub.discounted_returns(np.array([1.0, 1.0, 1.0]), np.array([0, 0, 0]), 0.5, 4.0)
    np.testing.assert_allclose(
        _array(out, "discounted_returns"), [2.25, 2.5, 3.0], atol=1e-6,
        err_msg="rewards [1, 1, 1], gamma 0.5, bootstrap_value 4 should give [2.25, 2.5, 3.0]",
    )


# ---------------------------------------------------------------- advantages


@points(1, exercise="advantages")
def test_advantages_plain(sub):
    # [3, 2, 1] - [1, 1, 1] = [2, 1, 0]
    out = _array(sub.advantages(np.array([3.0, 2.0, 1.0]), np.array([1.0, 1.0, 1.0])),
                 "advantages")
    assert out.shape == (3,), f"expected advantages of shape (3,), got {out.shape}"
    np.testing.assert_allclose(out, [2.0, 1.0, 0.0], atol=1e-6,
                               err_msg="returns [3, 2, 1] minus values [1, 1, 1] is [2, 1, 0]")


@points(1, exercise="advantages")
def test_advantages_normalized(sub):
    # A = [2, 1, 0]: mean 1, population std sqrt((1 + 0 + 1) / 3) = sqrt(2/3) = 0.81650
    # (A - 1) / 0.81650 = [1.22474, 0, -1.22474]
    out = sub.advantages(np.array([3.0, 2.0, 1.0]), np.array([1.0, 1.0, 1.0]), normalize=True)
    np.testing.assert_allclose(
        _array(out, "advantages"), [1.2247449, 0.0, -1.2247449], atol=1e-5,
        err_msg="normalize=True should standardise [2, 1, 0] to [1.2247, 0, -1.2247] "
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
    np.testing.assert_allclose(adv, [[1.4375, -0.25], [1.75, 1.0], [3.0, 0.0]], atol=1e-6,
                               err_msg="GAE advantages of the hand example are wrong")
    np.testing.assert_allclose(ret, [[1.4375, 0.75], [1.75, 2.0], [3.0, 1.0]], atol=1e-6,
                               err_msg="returns should be advantages + values")


# ---------------------------------------------------------------- ActorCritic


@points(1, exercise="ActorCritic")
def test_actor_critic_output_shapes(sub):
    keras.utils.set_random_seed(0)
    model = sub.ActorCritic(n_actions=2)
    out = model(np.zeros((5, 4), np.float32))
    assert isinstance(out, tuple | list) and len(out) == 2, (
        "calling the model should return (values, logits)"
    )
    values, logits = out
    assert tuple(values.shape) == (5,), (
        f"values should have shape (5,) for a batch of 5 (squeeze the value head's last "
        f"axis), got {tuple(values.shape)}"
    )
    assert tuple(logits.shape) == (5, 2), (
        f"logits should have shape (5, 2) for 5 observations and 2 actions, "
        f"got {tuple(logits.shape)}"
    )
    assert values.dtype == tf.float32 and logits.dtype == tf.float32, (
        f"values and logits should be float32, got {values.dtype} and {logits.dtype}"
    )


@points(1, exercise="ActorCritic")
def test_actor_critic_variables(sub):
    # 4 Dense layers, each a kernel and a bias: 8 trainable variables.
    # Parameters for obs_dim 4, hidden 64, 2 actions:
    #   4*64 + 64 = 320,  64*64 + 64 = 4160,  64*1 + 1 = 65,  64*2 + 2 = 130   -> 4675
    keras.utils.set_random_seed(0)
    model = sub.ActorCritic(n_actions=2)
    model(np.zeros((3, 4), np.float32))
    variables = model.trainable_variables
    assert len(variables) == 8, (
        f"expected 8 trainable variables (kernel + bias of 2 trunk layers and 2 heads), "
        f"got {len(variables)}"
    )
    count = sum(int(np.prod(v.shape)) for v in variables)
    assert count == 4675, f"expected 4675 trainable parameters for hidden=64, got {count}"


# ---------------------------------------------------------------- sample_actions


@points(1, exercise="sample_actions")
def test_sample_shape_dtype_range(sub):
    logits = np.zeros((6, 3), np.float32)  # uniform over 3 actions
    actions = sub.sample_actions(logits, seed=1)
    assert tuple(actions.shape) == (6,), (
        f"expected one action per row, shape (6,), got {tuple(actions.shape)}"
    )
    assert actions.dtype == tf.int32, f"actions should be int32, got {actions.dtype}"
    values = np.asarray(actions)
    assert values.min() >= 0 and values.max() <= 2, (
        f"actions should lie in range(3), got {values.tolist()}"
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


# ---------------------------------------------------------------- critic_loss


@points(1.5, exercise="critic_loss")
def test_critic_loss_value(sub):
    # returns - values = [1-1, 2-0, 3-5] = [0, 2, -2]; squares [0, 4, 4]; mean 8/3
    # 0.5 * 8/3 = 4/3 = 1.33333
    loss = sub.critic_loss(np.array([1.0, 2.0, 3.0], np.float32),
                           np.array([1.0, 0.0, 5.0], np.float32))
    loss = tf.convert_to_tensor(loss)
    assert loss.shape == (), f"critic_loss should return a scalar, got shape {loss.shape}"
    assert loss.dtype == tf.float32, f"critic_loss should be float32, got {loss.dtype}"
    np.testing.assert_allclose(float(loss), 4.0 / 3.0, rtol=1e-5,
                               err_msg="0.5 * mean([0, 4, 4]) = 4/3")


# ---------------------------------------------------------------- actor_loss


@points(1.5, exercise="actor_loss")
def test_actor_loss_value(sub):
    # Row 0: logits [0, 0] -> p = [0.5, 0.5], action 0: -log 0.5 = 0.693147, times A = 2
    #        -> 1.386294
    # Row 1: logits log([0.1, 0.9]) -> p = [0.1, 0.9], action 1: -log 0.9 = 0.105361,
    #        times A = -1 -> -0.105361
    # mean = (1.386294 - 0.105361) / 2 = 0.640467
    logits = np.array([[0.0, 0.0], np.log([0.1, 0.9])], np.float32)
    loss = sub.actor_loss(logits, np.array([0, 1]), np.array([2.0, -1.0], np.float32))
    loss = tf.convert_to_tensor(loss)
    assert loss.shape == (), f"actor_loss should return a scalar, got shape {loss.shape}"
    assert loss.dtype == tf.float32, f"actor_loss should be float32, got {loss.dtype}"
    np.testing.assert_allclose(float(loss), 0.640467, rtol=1e-5,
                               err_msg="expected mean(-log pi(a|s) * A) = 0.640467")


# ---------------------------------------------------------------- entropy


@points(1.5, exercise="entropy")
def test_entropy_values(sub):
    # p = [0.1, 0.9]: -(0.1 ln 0.1 + 0.9 ln 0.9) = 0.230259 + 0.094825 = 0.325083
    # p = [0.5, 0.5]: ln 2 = 0.693147
    # batch mean: (0.325083 + 0.693147) / 2 = 0.509115
    one = tf.convert_to_tensor(sub.entropy(np.log([[0.1, 0.9]]).astype(np.float32)))
    assert one.shape == (), f"entropy should return a scalar (the batch mean), got {one.shape}"
    assert one.dtype == tf.float32, f"entropy should be float32, got {one.dtype}"
    np.testing.assert_allclose(float(one), 0.325083, rtol=1e-5,
                               err_msg="entropy of the policy [0.1, 0.9] is 0.325083")
    two = sub.entropy(np.log([[0.1, 0.9], [0.5, 0.5]]).astype(np.float32))
    np.testing.assert_allclose(float(two), 0.509115, rtol=1e-5,
                               err_msg="mean entropy of [0.1, 0.9] and [0.5, 0.5] is 0.509115")
