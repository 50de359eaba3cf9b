"""ActorCritic model and the A2C losses, checked against the tutorial's worked numbers."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfcourse.errors import ConfigError, ShapeError
from tfcourse.rl.a2c import actor_loss, critic_loss, entropy, total_loss
from tfcourse.rl.model import ActorCritic, build_model

LOGITS_01_09 = np.log([[0.1, 0.9]])  # softmax gives back the probabilities [0.1, 0.9]


@pytest.fixture(scope="module")
def model():
    return build_model(4, 2)


@pytest.fixture
def tf_seed():
    """A global TF seed for one test, cleared afterwards so it does not leak into others."""
    tf.random.set_seed(3)
    yield
    tf.random.set_seed(None)


def test_entropy_matches_tutorial_numbers():
    assert float(entropy(LOGITS_01_09)[0]) == pytest.approx(0.325, abs=1e-3)
    assert float(entropy(np.log([[0.5, 0.5]]))[0]) == pytest.approx(np.log(2), abs=1e-6)
    # the tutorial's categorical_crossentropy(probs, probs) gives the same value
    probs = tf.nn.softmax(LOGITS_01_09)
    tutorial = keras.losses.categorical_crossentropy(probs, probs)
    np.testing.assert_allclose(entropy(LOGITS_01_09), tutorial, rtol=1e-5)


def test_entropy_stable_for_extreme_logits():
    assert np.isfinite(entropy([[1000.0, -1000.0]]).numpy()).all()


def test_actor_loss_is_minus_log_prob_times_advantage():
    assert float(actor_loss(LOGITS_01_09, [1], [1.0])) == pytest.approx(-np.log(0.9), abs=1e-6)
    assert float(actor_loss(LOGITS_01_09, [0], [2.0])) == pytest.approx(-2 * np.log(0.1), abs=1e-5)


def test_sum_and_mean_reductions_differ_by_batch_size():
    rng = np.random.default_rng(0)
    logits, actions, adv = rng.normal(size=(6, 3)), rng.integers(0, 3, 6), rng.normal(size=6)
    total = float(actor_loss(logits, actions, adv, reduction="sum"))
    assert total == pytest.approx(6 * float(actor_loss(logits, actions, adv, reduction="mean")))
    with pytest.raises(ConfigError, match="reduction"):
        actor_loss(logits, actions, adv, reduction="max")


def test_no_gradient_into_advantages_or_returns():
    logits, adv = tf.Variable(LOGITS_01_09), tf.Variable([1.5])
    returns, values = tf.Variable([2.0]), tf.Variable([0.5])
    with tf.GradientTape(persistent=True) as tape:
        a_loss = actor_loss(logits, [1], adv)
        c_loss = critic_loss(returns, values)
    assert tape.gradient(a_loss, adv) is None
    assert tape.gradient(a_loss, logits) is not None
    assert tape.gradient(c_loss, returns) is None
    assert float(tape.gradient(c_loss, values)[0]) == pytest.approx(-1.5)  # 0.5 * 2 * (V - R)


def test_critic_loss_by_hand():
    # 0.5 * mean([0, 1, 4]) = 5 / 6
    assert float(critic_loss([1.0, 2.0, 3.0], [1.0, 1.0, 1.0])) == pytest.approx(5 / 6)
    with pytest.raises(ShapeError, match=r"returns has shape \[3\] but values has shape \[3, 1\]"):
        critic_loss([1.0, 2.0, 3.0], [[1.0], [1.0], [1.0]])


def test_total_loss_composition():
    rng = np.random.default_rng(1)
    logits, values = rng.normal(size=(5, 2)), rng.normal(size=5)
    actions, returns, adv = rng.integers(0, 2, 5), rng.normal(size=5), rng.normal(size=5)
    out = total_loss(logits, values, actions, returns, adv)
    mse = np.mean((returns - values) ** 2)
    assert float(out["critic"]) == pytest.approx(0.5 * mse, rel=1e-5)  # weighted once, not twice
    assert float(out["actor"]) == pytest.approx(float(actor_loss(logits, actions, adv)))
    assert float(out["entropy"]) == pytest.approx(float(tf.reduce_mean(entropy(logits))))
    expected = out["actor"] + out["critic"] - 0.05 * out["entropy"]
    assert float(out["total"]) == pytest.approx(float(expected), rel=1e-6)
    unweighted = total_loss(logits, values, actions, returns, adv, critic_coef=1.0)
    assert float(unweighted["critic"]) == pytest.approx(mse, rel=1e-5)
    with pytest.raises(ConfigError, match="entropy_coef"):
        total_loss(logits, values, actions, returns, adv, entropy_coef=-1.0)


def test_model_shapes_and_variables(model):
    values, logits = model(np.zeros((7, 4)))  # float64 in, float32 out
    assert values.shape == (7,) and values.dtype == tf.float32
    assert logits.shape == (7, 2) and logits.dtype == tf.float32
    assert len(model.trainable_variables) == 8  # 2 trunk + 2 heads, kernel and bias each
    assert model.obs_dim == 4


def test_action_value_valid_and_consistent(model):
    obs = np.random.default_rng(2).normal(size=(16, 4)).astype(np.float32)
    actions, values = model.action_value(obs)
    assert actions.dtype == tf.int32 and actions.shape == (16,)
    assert np.all((actions.numpy() >= 0) & (actions.numpy() < 2))
    np.testing.assert_allclose(values, model(obs)[0], rtol=1e-6)
    np.testing.assert_array_equal(model.greedy_actions(obs), np.argmax(model(obs)[1], axis=-1))


def test_sampling_frequencies_follow_softmax(tf_seed):
    model = build_model(4, 3)  # traced after the seed is set: the draws are reproducible
    obs = np.tile([[2.0, -1.0, 0.5, 3.0]], (4000, 1)).astype(np.float32)
    probs = tf.nn.softmax(model(obs[:1])[1])[0].numpy()
    actions, _ = model.action_value(obs)  # one call, 4000 draws
    freqs = np.bincount(actions.numpy(), minlength=3) / 4000
    np.testing.assert_allclose(freqs, probs, atol=0.03)  # about 4 binomial standard deviations


def test_no_retracing(model):
    obs = np.zeros((8, 4), np.float32)
    for _ in range(50):
        model.action_value(obs)
    model.action_value(np.zeros((3, 4)))  # other batch size and dtype: same graph
    model.greedy_actions(obs)
    assert model.tracing_counts() == {"action_value": 1, "greedy_actions": 1}


def test_bad_observations_raise_shape_error(model):
    with pytest.raises(ShapeError, match="width 4"):
        model.action_value(np.zeros((2, 5)))
    with pytest.raises(ShapeError, match=r"obs\[None\]"):
        model.greedy_actions(np.zeros(4))


def test_save_and_load_round_trip(model, tmp_path):
    path = tmp_path / "a2c.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, ActorCritic)
    assert loaded.get_config()["n_actions"] == 2 and loaded.get_config()["hidden"] == [64, 64]
    obs = np.random.default_rng(4).normal(size=(5, 4)).astype(np.float32)
    for a, b in zip(model(obs), loaded(obs), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.greedy_actions(obs), loaded.greedy_actions(obs))


def test_bad_config():
    with pytest.raises(ConfigError, match="n_actions"):
        ActorCritic(0)
    with pytest.raises(ConfigError, match="obs_dim"):
        build_model(0, 2)
