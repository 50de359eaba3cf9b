"""Discounted returns, truncation bootstrapping and GAE against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfcourse.errors import ConfigError, ShapeError
from tfcourse.rl.returns import (
    advantages_from_returns,
    bootstrap_truncated,
    discounted_returns,
    discounted_returns_loop,
    gae_advantages,
    normalize,
)

BOTH = pytest.mark.parametrize(
    "fn",
    [discounted_returns_loop, lambda *a: discounted_returns(*a).numpy()],
    ids=["loop", "tf"],
)


@BOTH
@pytest.mark.parametrize(
    ("dones", "bootstrap", "expected"),
    [
        ([0, 0, 0], 0.0, [1.75, 1.5, 1.0]),  # 1 + .5(1 + .5 * 1)
        ([0, 0, 0], 8.0, [2.75, 3.5, 5.0]),  # R_2 = 1 + .5 * 8
        ([0, 1, 0], 8.0, [1.5, 1.0, 5.0]),  # the done at t=1 cuts off everything after it
    ],
)
def test_hand_computed_returns(fn, dones, bootstrap, expected):
    np.testing.assert_allclose(fn([1.0, 1.0, 1.0], dones, 0.5, bootstrap), expected)


@BOTH
def test_bool_dones_and_tutorial_style_bootstrap(fn):
    """Bool dones work, and a length-1 V(s_T) (the tutorial's next_value[0]) is accepted."""
    got = fn(np.ones(3), np.array([False, True, False]), 0.5, np.array([8.0]))
    np.testing.assert_allclose(got, [1.5, 1.0, 5.0])


def test_loop_equals_vectorised_on_random_rollouts():
    rng = np.random.default_rng(0)
    rewards = rng.normal(size=(37, 5))
    dones = rng.random((37, 5)) < 0.1
    bootstrap = rng.normal(size=5)
    expected = discounted_returns_loop(rewards, dones, 0.97, bootstrap)
    got = discounted_returns(rewards, dones, 0.97, bootstrap)
    assert got.dtype == tf.float32 and got.shape == (37, 5)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-5)
    compiled = tf.function(lambda r, d, b: discounted_returns(r, d, 0.97, b))
    np.testing.assert_allclose(compiled(rewards, dones, bootstrap), expected, rtol=1e-5, atol=1e-5)


def test_one_env_1d_equals_column():
    rng = np.random.default_rng(1)
    rewards, dones = rng.normal(size=11), rng.random(11) < 0.2
    column = discounted_returns(rewards[:, None], dones[:, None], 0.9, [2.0]).numpy()[:, 0]
    np.testing.assert_allclose(discounted_returns(rewards, dones, 0.9, 2.0), column, rtol=1e-6)
    loop_column = discounted_returns_loop(rewards[:, None], dones[:, None], 0.9, [2.0])[:, 0]
    np.testing.assert_allclose(discounted_returns_loop(rewards, dones, 0.9, 2.0), loop_column)


@pytest.mark.parametrize("as_tf", [False, True])
def test_bootstrap_truncated_adds_only_on_truncation(as_tf):
    rewards = np.ones((3, 2))
    truncations = np.array([[0, 0], [1, 0], [0, 0]], bool)
    terminations = np.array([[0, 0], [0, 0], [0, 1]], bool)
    final_values = np.array([[0, 0], [10, 0], [0, 10]], float)
    args = [rewards, truncations, final_values]
    if as_tf:
        args = [tf.constant(x) for x in args]
    got = bootstrap_truncated(*args, 0.5)
    assert isinstance(got, tf.Tensor) == as_tf
    np.testing.assert_allclose(np.asarray(got), [[1, 1], [6, 1], [1, 1]])  # 1 + .5 * 10
    # then the step is marked done: its return is 6 exactly, nothing leaks from the next episode
    returns = discounted_returns(got, truncations | terminations, 0.5, [100.0, 100.0])
    assert returns.numpy()[1, 0] == pytest.approx(6.0)


def test_bootstrap_truncated_terminal_wins_when_both():
    both = np.array([True])
    got = bootstrap_truncated([1.0], both, [10.0], 0.5, terminations=both)
    np.testing.assert_allclose(got, [1.0])


def test_gae_lambda_one_is_returns_minus_values():
    rng = np.random.default_rng(2)
    rewards, values = rng.normal(size=(23, 4)), rng.normal(size=(23, 4))
    dones, bootstrap = rng.random((23, 4)) < 0.15, rng.normal(size=4)
    advantages, returns = gae_advantages(rewards, values, dones, bootstrap, 0.95, 1.0)
    expected = discounted_returns(rewards, dones, 0.95, bootstrap)
    np.testing.assert_allclose(returns, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        advantages, advantages_from_returns(expected, values), rtol=1e-5, atol=1e-5
    )


def test_gae_lambda_zero_is_td_error():
    rng = np.random.default_rng(3)
    rewards, values = rng.normal(size=(9, 3)), rng.normal(size=(9, 3))
    dones, bootstrap = rng.random((9, 3)) < 0.3, rng.normal(size=3)
    advantages, _ = gae_advantages(rewards, values, dones, bootstrap, 0.9, 0.0)
    next_values = np.concatenate([values[1:], bootstrap[None]])
    td = rewards + 0.9 * next_values * (1 - dones) - values
    np.testing.assert_allclose(advantages, td, rtol=1e-5, atol=1e-5)


def test_gae_two_steps_by_hand():
    # delta_1 = 2 + .5 * 2 - 1 = 2;  delta_0 = 1 + .5 * 1 - .5 = 1;  A_0 = 1 + .5 * .5 * 2 = 1.5
    advantages, returns = gae_advantages([1.0, 2.0], [0.5, 1.0], [0, 0], 2.0, 0.5, 0.5)
    np.testing.assert_allclose(advantages, [1.5, 2.0])
    np.testing.assert_allclose(returns, [2.0, 3.0])


def test_advantages_from_returns_keeps_numpy():
    got = advantages_from_returns(np.array([3.0, 1.0]), np.array([1.0, 1.5]))
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, [2.0, -0.5])


@pytest.mark.parametrize("as_tf", [False, True])
def test_normalize(as_tf):
    a = np.random.default_rng(4).normal(3.0, 5.0, size=(50, 4))
    got = np.asarray(normalize(tf.constant(a) if as_tf else a))
    assert got.mean() == pytest.approx(0.0, abs=1e-5)
    assert got.std() == pytest.approx(1.0, abs=1e-5)


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ShapeError, match=r"rewards has shape \[3, 2\] but dones has shape \[3\]"):
        discounted_returns(np.ones((3, 2)), np.zeros(3), 0.9, 0.0)
    with pytest.raises(ShapeError, match=r"values has shape \[3, 1\]"):
        gae_advantages(np.ones(3), np.ones((3, 1)), np.zeros(3), 0.0, 0.9, 0.9)
    with pytest.raises(ShapeError, match="bootstrap_value"):
        discounted_returns_loop(np.ones((3, 2)), np.zeros((3, 2)), 0.9, [1.0, 2.0, 3.0])
    with pytest.raises(ShapeError, match=r"returns has shape \[4\] but values has shape \[4, 1\]"):
        advantages_from_returns(np.ones(4), np.ones((4, 1)))


def test_out_of_range_gamma_and_lam():
    with pytest.raises(ConfigError, match=r"gamma must lie in \[0, 1\], got 1.5"):
        discounted_returns_loop([1.0], [0], 1.5, 0.0)
    with pytest.raises(ConfigError, match="gamma"):
        discounted_returns([1.0], [0], tf.constant(1.5), 0.0)
    with pytest.raises(ConfigError, match=r"lam must lie in \[0, 1\], got -0.1"):
        gae_advantages([1.0], [0.0], [0], 0.0, 0.9, -0.1)
