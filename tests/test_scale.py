"""What trains is what the notebooks teach: each trainer's compiled step (ScaleOut around the
plain step) gives the same weights as calling the plain step function eagerly."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfcourse.mlp.config import MLPConfig
from tfcourse.mlp.model import MLP, train_step
from tfcourse.mlp.trainer import MLPTrainer
from tfcourse.review import sine
from tfcourse.review.config import SineConfig
from tfcourse.review.trainer import SineTrainer
from tfcourse.rl import a2c
from tfcourse.rl.config import A2CConfig
from tfcourse.rl.lr import LearningRate
from tfcourse.rl.model import build_model
from tfcourse.rl.rollout import Rollout
from tfcourse.rl.trainer import A2CTrainer
from tfcourse.scale.scale_out import ScaleOut

STEPS = 3


def _assert_same(trained, plain, moved_from):
    for t, p in zip(trained, plain, strict=True):
        np.testing.assert_allclose(np.asarray(t), np.asarray(p), rtol=1e-4, atol=2e-6)
    moved = [np.abs(np.asarray(t) - s).max() for t, s in zip(trained, moved_from, strict=True)]
    assert max(moved) > 1e-4  # the steps did change the weights


def _adam_like(trainer_optimizer, variables):
    opt = keras.optimizers.Adam(float(trainer_optimizer.learning_rate.numpy()))
    opt.build(variables)
    return opt


def _mnist_like(rng, n):
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n)


@pytest.mark.parametrize("jit", [True, False])
def test_mlp_trainer_step_equals_mlp_train_step(tmp_path, jit):
    rng = np.random.default_rng(0)
    data = (_mnist_like(rng, 200), _mnist_like(rng, 50))
    config = MLPConfig(
        preset="tutorial",
        label_smoothing=0.1,
        batch_size=20,
        epochs=1,
        logdir=str(tmp_path),
        progress=False,
        jit=jit,
    )
    trainer = MLPTrainer(config, data)
    start = [v.numpy() for v in trainer.model.params]
    xs = tf.reshape(trainer.x_train[: STEPS * 20], [STEPS, 20, 784])
    ys = tf.reshape(trainer.y_train[: STEPS * 20], [STEPS, 20])
    sums = trainer._train_steps(xs, ys)

    plain = MLP((784, 300, 10), "normal", seed=99)
    for v, value in zip(plain.params, start, strict=True):
        v.assign(value)
    optimizer = _adam_like(trainer.optimizer, plain.params)
    losses = [
        train_step(plain, optimizer, xs[i], ys[i], label_smoothing=0.1)["loss"]
        for i in range(STEPS)
    ]
    _assert_same(trainer.model.params, plain.params, start)
    np.testing.assert_allclose(float(sums["loss"]), float(tf.add_n(losses)), rtol=1e-5)


def test_sine_trainer_step_equals_sine_train_step(tmp_path):
    trainer = SineTrainer(SineConfig(preset="tutorial", logdir=str(tmp_path), progress=False))
    start = [v.numpy() for v in trainer.model.params]
    idx = tf.constant(np.random.default_rng(1).integers(0, 10000, (STEPS, 32)), tf.int32)
    sums = trainer._train_steps(idx)  # each step gathers its rows, then sine.train_step
    xs, ys = tf.gather(trainer.x, idx), tf.gather(trainer.y, idx)

    plain = sine.SineMLP((1, 20, 20, 1), seed=5)
    for v, value in zip(plain.params, start, strict=True):
        v.assign(value)
    optimizer = _adam_like(trainer.optimizer, plain.params)
    losses = [sine.train_step(plain, optimizer, xs[i], ys[i])["loss"] for i in range(STEPS)]
    _assert_same(trainer.model.params, plain.params, start)
    np.testing.assert_allclose(float(sums["loss"]), float(tf.add_n(losses)), rtol=1e-5)


def _rollout(rng, steps=8, n=4):
    truncations = (rng.random((steps, n)) < 0.1).astype(np.float32)
    dones = np.maximum(truncations, (rng.random((steps, n)) < 0.1).astype(np.float32))
    return Rollout(
        obs=rng.normal(size=(steps, n, 4)).astype(np.float32),
        actions=rng.integers(0, 2, (steps, n)).astype(np.int32),
        rewards=np.ones((steps, n), np.float32),
        dones=dones,
        truncations=truncations,
        final_values=(truncations * rng.normal(size=(steps, n))).astype(np.float32),
        last_obs=rng.normal(size=(n, 4)).astype(np.float32),
    )


@pytest.mark.parametrize("normalize", [False, True])
def test_a2c_trainer_update_equals_a2c_step(tmp_path, normalize):
    config = A2CConfig(
        n_envs=4,
        n_steps=8,
        total_steps=1024,
        logdir=str(tmp_path),
        progress=False,
        normalize_advantages=normalize,
        entropy_coef=0.01,
    )
    trainer = A2CTrainer(config)
    start = trainer.model.get_weights()
    cfg = trainer.config
    plain = build_model(4, 2, activation=cfg.activation, policy_init_scale=cfg.policy_init_scale)
    plain.set_weights(start)
    optimizer = LearningRate(cfg, trainer.n_updates).optimizer  # the same (annealed) schedule
    optimizer.global_clipnorm = cfg.max_grad_norm  # Keras clips as the trainer's ScaleOut does
    optimizer.build(plain.trainable_variables)
    rng = np.random.default_rng(2)
    norms = []
    for _ in range(STEPS):
        rollout = _rollout(rng)
        compiled = trainer.update(rollout)
        batch = a2c.a2c_batch(plain, rollout, cfg)
        norms.append(_grad_norm(plain, batch, cfg))  # before the step changes the weights
        eager = a2c.a2c_step(plain, optimizer, batch, cfg)
        for key in ("total", "actor", "critic", "entropy"):
            np.testing.assert_allclose(float(compiled[key]), float(eager[key]), rtol=1e-4)
        np.testing.assert_allclose(float(compiled["grad_norm"]), norms[-1], rtol=1e-4)
    assert max(norms) > cfg.max_grad_norm  # the clipping bound at least once
    assert int(trainer.global_step.numpy()) == STEPS * 32
    _assert_same(trainer.model.get_weights(), plain.get_weights(), start)
    trainer.envs.close()


def _grad_norm(model, batch, hp) -> float:
    """The global norm of the gradient of a2c_loss on ``batch``, computed eagerly."""
    with tf.GradientTape() as tape:
        total = a2c.a2c_loss(model, batch, hp)["total"]
    return float(tf.linalg.global_norm(tape.gradient(total, model.trainable_variables)))


def test_a2c_loss_is_total_loss_of_the_gae_targets():
    """a2c_batch and a2c_loss by hand: bootstrap the truncations, GAE from V(s_T), then
    total_loss of the flattened transitions."""
    rng = np.random.default_rng(3)
    model, rollout = build_model(4, 2), _rollout(rng)
    hp = dataclasses.replace(
        A2CConfig(),
        gamma=0.9,
        lam=0.95,
        reward_scale=0.5,
        entropy_coef=0.01,
        actor_reduction="mean",
    )
    values, logits = (t.numpy() for t in model(rollout.obs.reshape(-1, 4)))
    v_next = model(rollout.last_obs)[0].numpy()
    rewards = rollout.rewards * 0.5 + 0.9 * rollout.final_values * rollout.truncations
    adv, targets = np.zeros_like(rewards), np.zeros_like(rewards)
    running, v_after = np.zeros(4), v_next
    for t in reversed(range(8)):
        v_t = values.reshape(8, 4)[t]
        delta = rewards[t] + 0.9 * v_after * (1 - rollout.dones[t]) - v_t
        running = delta + 0.9 * 0.95 * (1 - rollout.dones[t]) * running
        adv[t], targets[t], v_after = running, running + v_t, v_t
    expected = a2c.total_loss(
        logits,
        values,
        rollout.actions.reshape(-1),
        targets.reshape(-1),
        adv.reshape(-1),
        entropy_coef=0.01,
        reduction="mean",
    )
    batch = a2c.a2c_batch(model, rollout, hp)
    np.testing.assert_allclose(batch.advantages, adv.reshape(-1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(batch.returns, targets.reshape(-1), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(batch.actions, rollout.actions.reshape(-1))
    got = a2c.a2c_loss(model, batch, hp)
    for key in expected:
        np.testing.assert_allclose(float(got[key]), float(expected[key]), rtol=1e-5, atol=1e-6)


def test_steps_sums_each_value_over_the_steps_and_accepts_a_dynamic_count():
    scale = ScaleOut("default", jit=False)
    counter = tf.Variable(0.0)

    def step(x):
        counter.assign_add(1.0)
        return {"sum": tf.reduce_sum(x), "count": tf.constant(1.0)}

    xs = tf.constant(np.arange(12, dtype=np.float32).reshape(3, 4))
    static = scale.steps(step)(xs)
    assert float(static["sum"]) == 66.0 and float(static["count"]) == 3.0
    dynamic = tf.function(lambda n: scale.steps(step)(xs[:n]))(tf.constant(2))
    assert float(dynamic["sum"]) == 28.0 and float(dynamic["count"]) == 2.0
    assert float(counter.numpy()) == 5.0


def test_step_optimizer_clips_the_global_norm_and_reports_it():
    """ScaleOut.step(optimizer=...) hands the step a StepOptimizer: the gradient [3, 4] (norm
    5) is clipped to norm 1 before SGD applies it, and grad_norm is the norm before clipping;
    prepare runs on the batch before the step sees it."""
    scale = ScaleOut("default", jit=False)
    w = tf.Variable([0.0, 0.0])
    sgd = keras.optimizers.SGD(1.0)
    sgd.build([w])

    def step(optimizer, x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(w * x)
        optimizer.apply_gradients([(tape.gradient(loss, w), w)])
        return {"loss": loss}

    update = scale.step(step, prepare=lambda x: (x * 2.0,), optimizer=sgd, clip_norm=1.0)
    out = update(tf.constant([1.5, 2.0]))
    assert float(out["grad_norm"]) == pytest.approx(5.0)
    np.testing.assert_allclose(w.numpy(), [-0.6, -0.8], rtol=1e-6)

    silent = scale.step(lambda optimizer, x: {"loss": tf.reduce_sum(x)}, optimizer=sgd)
    with pytest.raises(TypeError, match=r"never called optimizer\.apply_gradients"):
        silent(tf.constant([1.0]))
