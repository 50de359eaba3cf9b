"""The A2C optimizer and its learning rate: optional linear annealing, and a drop once solved.

Why the drop (measured, docs/research/a2c_sweep.md): once CartPole is solved the advantages
are tiny and of random sign, but RMSprop divides each gradient by its running RMS, so every
update still moves the weights by about ``lr``. The policy random-walks until it drifts into
failing states and the 100-episode mean collapses. Multiplying the learning rate by
``solved_lr_factor`` (0.1) the moment the 100-episode mean first reaches ``target_return``
keeps the steps small once there is nothing left to learn. The factor is a variable saved with
every checkpoint, so ``--resume`` continues with the lowered rate.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tfcourse")
class FactorSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """``lr * (1 - step / decay_steps if anneal else 1) * factor``, never below 0.

    The annealing is Keras's ``PolynomialDecay`` (power 1, to 0); this only multiplies it by
    ``factor``.

    Args:
        lr: initial learning rate. decay_steps: updates until an annealed rate reaches 0.
        anneal: decay linearly (else constant). factor: a scalar ``tf.Variable`` (1 at first).
    """

    def __init__(self, lr: float, decay_steps: int, anneal: bool, factor: tf.Variable) -> None:
        self.lr, self.decay_steps, self.anneal, self.factor = lr, decay_steps, anneal, factor
        decay = keras.optimizers.schedules.PolynomialDecay(lr, max(1, decay_steps), 0.0)
        self.base = decay if anneal else (lambda step: tf.constant(lr, tf.float32))

    def __call__(self, step) -> tf.Tensor:
        return tf.cast(self.base(step), tf.float32) * tf.cast(self.factor, tf.float32)

    def get_config(self) -> dict[str, Any]:
        return {"lr": self.lr, "decay_steps": self.decay_steps, "anneal": self.anneal}


class LearningRate:
    """The optimizer of an A2C run and the variable that lowers its rate once solved.

    Create inside the strategy scope. ``factor`` belongs in the checkpoint.

    Args:
        cfg: resolved settings (``optimizer``, ``lr``, ``anneal_lr``, ``solved_lr_factor``).
        n_updates: updates in the whole run (the annealing horizon).
    """

    def __init__(self, cfg: Any, n_updates: int) -> None:
        self.solved_factor = float(cfg.solved_lr_factor)
        self.factor = tf.Variable(1.0, trainable=False, name="lr_factor")
        self.schedule = FactorSchedule(cfg.lr, n_updates, bool(cfg.anneal_lr), self.factor)
        if cfg.optimizer == "rmsprop":
            self.optimizer = keras.optimizers.RMSprop(self.schedule, rho=0.99, epsilon=1e-5)
        else:
            self.optimizer = keras.optimizers.Adam(self.schedule)

    def solved(self) -> None:
        """The target was reached: from now on the rate is ``lr x solved_lr_factor``
        (idempotent; it also holds after a resume, which restores the factor)."""
        if self.factor.numpy() != self.solved_factor:
            self.factor.assign(self.solved_factor)

    def current(self, iterations) -> float:
        """The rate of the next update, e.g. ``current(optimizer.iterations)``."""
        return float(self.schedule(iterations))
