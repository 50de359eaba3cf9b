"""The review's sine regression written the TF1 way: one graph, one session, ``feed_dict``.

:class:`Tf1SineRegression` is the review's ``create_model()`` + Adam + ``Saver`` inside its own
``tf.Graph`` (see :mod:`tfcourse.review.compat_v1`: no global switch is flipped). Each training
step is one ``sess.run([train_op, loss], feed_dict=...)`` from Python, as in the original notebook;
``scripts/bench_sine.py`` times that loop against :class:`tfcourse.review.trainer.SineTrainer`.
The model can start from given weights, so both runs can begin from identical values.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from tfcourse.errors import ConfigError
from tfcourse.review.compat_v1 import V1, run_fed


class Tf1SineRegression:
    """A ReLU MLP, its 0.5·MSE loss, an Adam train op and a Saver, in a private graph.

    Args:
        sizes: layer widths, the review's ``(1, 20, 20, 1)``.
        init_values: optional ``[W0, b0, W1, b1, ...]`` arrays to start from (e.g.
            ``[v.numpy() for v in SineMLP().params]``); default: Xavier-uniform weights and
            zero biases drawn with graph seed ``seed``.
        lr: Adam learning rate.
        decay_steps: if given, the rate follows a cosine from ``lr`` to 0 over this many steps
            (``tf.compat.v1.train.cosine_decay``); ``None`` keeps it constant as in the review.
        seed: graph-level seed (only used without ``init_values``).

    Attributes:
        input_ph, output_ph: [None, 1] float32 placeholders; output_pred: [None, 1] predictions.
    """

    def __init__(
        self,
        sizes: Sequence[int] = (1, 20, 20, 1),
        init_values: Sequence[np.ndarray] | None = None,
        lr: float = 1e-3,
        decay_steps: int | None = None,
        seed: int = 0,
    ) -> None:
        n_layers = len(sizes) - 1
        if init_values is not None and len(init_values) != 2 * n_layers:
            raise ConfigError(
                f"init_values needs {2 * n_layers} arrays [W0, b0, W1, b1, ...] for sizes "
                f"{tuple(sizes)}, got {len(init_values)}"
            )
        self.graph = tf.Graph()
        with self.graph.as_default():
            V1.set_random_seed(seed)
            self.input_ph = V1.placeholder(tf.float32, [None, sizes[0]], name="input_ph")
            self.output_ph = V1.placeholder(tf.float32, [None, sizes[-1]], name="output_ph")
            layer = self.input_ph
            for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
                with V1.variable_scope(f"layer_{i}"):
                    w_init, b_init = V1.glorot_uniform_initializer(), V1.zeros_initializer()
                    if init_values is not None:
                        w_init = V1.constant_initializer(np.asarray(init_values[2 * i]))
                        b_init = V1.constant_initializer(np.asarray(init_values[2 * i + 1]))
                    w = V1.get_variable(f"W{i}", [fan_in, fan_out], initializer=w_init)
                    b = V1.get_variable(f"b{i}", [fan_out], initializer=b_init)
                layer = tf.matmul(layer, w) + b
                if i < n_layers - 1:
                    layer = tf.nn.relu(layer)
            self.output_pred = layer
            self.loss = tf.reduce_mean(0.5 * tf.square(self.output_pred - self.output_ph))
            self.global_step = V1.train.get_or_create_global_step()
            rate = (
                lr
                if decay_steps is None
                else V1.train.cosine_decay(lr, self.global_step, decay_steps)
            )
            # epsilon as Keras's Adam (TF1's default was 1e-8), so both runs do the same maths
            optimizer = V1.train.AdamOptimizer(rate, epsilon=1e-7)
            self.train_op = optimizer.minimize(self.loss, global_step=self.global_step)
            self.saver = V1.train.Saver()
            init_op = V1.global_variables_initializer()
        self.graph.finalize()  # any op accidentally added inside the training loop now fails
        self.sess = V1.Session(graph=self.graph)
        self.sess.run(init_op)

    def train_step(self, xb: np.ndarray, yb: np.ndarray) -> float:
        """One ``sess.run([train_op, loss])``; xb, yb: [batch, 1] float32. Returns the loss."""
        _, loss = run_fed(
            self.sess, [self.train_op, self.loss], {self.input_ph: xb, self.output_ph: yb}
        )
        return float(loss)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions [n, 1] for inputs [n, 1]."""
        return run_fed(self.sess, self.output_pred, {self.input_ph: x})

    def variable_names(self) -> list[str]:
        """Sorted names of the model's trainable variables: ``layer_0/W0:0``, ..."""
        return sorted(v.name for v in self.graph.get_collection(V1.GraphKeys.TRAINABLE_VARIABLES))

    def save(self, prefix: str | os.PathLike) -> str:
        """``Saver.save``: write every global variable (Adam's slots too); returns the path."""
        with self.graph.as_default():  # outside it the Saver would think it runs eagerly
            return self.saver.save(self.sess, os.fspath(prefix))

    def restore(self, path: str | os.PathLike) -> None:
        """``Saver.restore``: load values saved by :meth:`save` (no initializer needed)."""
        with self.graph.as_default():
            self.saver.restore(self.sess, os.fspath(path))

    def close(self) -> None:
        """Release the session."""
        self.sess.close()

    def __enter__(self) -> Tf1SineRegression:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def train_v1(
    model: Tf1SineRegression,
    x: np.ndarray,
    y: np.ndarray,
    indices: np.ndarray,
    log_every: int = 1000,
    save_prefix: str | os.PathLike | None = None,
    log: Callable[[str], None] | None = print,
) -> list[tuple[int, float]]:
    """The review's training loop: one ``sess.run`` per step, log (and save) every ``log_every``.

    Args:
        model: the graph and session to train.
        x, y: [n, 1] float32 data.
        indices: [steps, batch] int row numbers of each step's batch (drawn with replacement).
        log_every: print the batch loss and save a checkpoint every this many steps.
        save_prefix: checkpoint prefix for ``Saver.save`` (``None``: do not save).
        log: where log lines go (``None``: nowhere).

    Returns:
        ``[(step, batch loss), ...]`` at the logged steps.
    """
    logged = []
    for step, rows in enumerate(indices):
        loss = model.train_step(x[rows], y[rows])
        if step % log_every == 0:
            logged.append((step, loss))
            if log is not None:
                log(f"{step:04d} mse: {loss:.3f}")
            if save_prefix is not None:
                model.save(save_prefix)
    return logged
