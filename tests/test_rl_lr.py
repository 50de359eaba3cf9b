"""The A2C learning rate: linear annealing, the x solved_lr_factor drop, kept across --resume."""

from __future__ import annotations

import types

import pytest
import tensorflow as tf

from tfcourse.rl.config import A2CConfig
from tfcourse.rl.lr import FactorSchedule, LearningRate
from tfcourse.rl.trainer import A2CTrainer


def test_schedule_anneals_linearly_and_multiplies_by_the_factor():
    factor = tf.Variable(1.0)
    schedule = FactorSchedule(0.01, decay_steps=100, anneal=True, factor=factor)
    assert [float(schedule(s)) for s in (0, 50, 100, 150)] == pytest.approx([0.01, 0.005, 0, 0])
    factor.assign(0.1)
    assert float(schedule(50)) == pytest.approx(0.0005)
    constant = FactorSchedule(0.01, decay_steps=100, anneal=False, factor=factor)
    assert float(constant(99)) == pytest.approx(0.001)


def test_solved_sets_the_factor_once_and_the_optimizer_uses_it():
    cfg = types.SimpleNamespace(lr=0.01, anneal_lr=False, solved_lr_factor=0.1, optimizer="adam")
    lr = LearningRate(cfg, n_updates=10)
    assert lr.current(0) == pytest.approx(0.01)
    lr.solved()
    lr.solved()  # idempotent: not 0.01 * 0.1 * 0.1
    assert lr.current(0) == pytest.approx(0.001)
    assert float(lr.optimizer.learning_rate) == pytest.approx(0.001)


def test_trainer_drops_the_lr_when_solved_and_resume_keeps_the_drop(tmp_path):
    # target 0: solved as soon as 100 episodes have finished (random CartPole: ~2,500 steps)
    kw = dict(
        logdir=str(tmp_path),
        progress=False,
        eval_episodes=0,
        gif=False,
        target_return=0.0,
        anneal_lr=False,
        lr=0.004,
    )
    trainer = A2CTrainer(A2CConfig(total_steps=4096, **kw))
    assert float(trainer.lr.factor.numpy()) == 1.0
    metrics = trainer.fit()
    assert metrics["solved_step"] is not None and metrics["solved_step"] <= 4096
    assert float(trainer.lr.factor.numpy()) == pytest.approx(0.1)
    assert trainer.lr.current(trainer.optimizer.iterations) == pytest.approx(0.0004)
    resumed = A2CTrainer(A2CConfig(total_steps=8192, resume=True, **kw))
    assert resumed.restored_from is not None
    assert float(resumed.lr.factor.numpy()) == pytest.approx(0.1)  # before any new episode
