"""Train the raw-variable MLP (tutorial 1) fast: a compiled epoch loop with logs and checkpoints.

Speed comes from three decisions, each explained in ``notebooks/02_mnist_mlp``:

1. the data set lives on the device as one tensor and each epoch is shuffled *in the graph*
   (:func:`tfcourse.data.batching.shuffled_batches`), so there is no Python work per batch;
2. one ``tf.function`` runs the whole epoch with ``for i in tf.range(n_batches)`` — a single
   call from Python per epoch instead of 600;
3. the train steps inside it are compiled with XLA (``jit_compile=True``), fusing the matmuls,
   the loss, the gradients and Adam's update; ``steps_per_execution`` consecutive steps share
   one compiled call (Keras's option of the same name), which saves the per-call launch cost.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm  # plain text bars: no ipywidgets needed in notebooks

from tfcourse.data.batching import shuffled_batches
from tfcourse.mlp.config import RESUME_MUST_MATCH, MLPConfig
from tfcourse.mlp.data import FASHION_CLASSES, model_inputs, training_data
from tfcourse.mlp.model import MLP, accuracy, loss_fn, train_step
from tfcourse.presets import learning_rate
from tfcourse.run import plots
from tfcourse.run.lifecycle import Run, check_loss, prepare
from tfcourse.run.trainer_base import TrainerBase, typical_rate
from tfcourse.scale.scale_out import ScaleOut

# per epoch: train_* are means over the epoch's batches (each before its update), test_* are
# the model at the end of the epoch on the whole test set; *_loss are plain cross-entropy, the
# objective is what is minimised (with label smoothing). Figure series -> TensorBoard tags:
TAGS = {
    "train_loss": "losses/train",
    "test_loss": "losses/test",
    "train_objective": "objective/train",
    "train_accuracy": "charts/train_accuracy",
    "test_accuracy": "charts/test_accuracy",
}


class MLPTrainer(TrainerBase):
    """Owns the data tensors, model, optimizer, the compiled step and the :class:`Run`.

    The step is :func:`tfcourse.mlp.model.train_step`; :class:`~tfcourse.scale.scale_out.ScaleOut`
    compiles it (XLA, ``steps_per_execution`` steps per call, one copy per replica with
    ``--strategy``).

    Args:
        config: the run's settings (validated and preset-filled here).
        data: optional ``((x_train, y_train), (x_test, y_test))`` arrays (any image layout);
            default: ``load_dataset(config.dataset, config.data_path)``.
    """

    def __init__(self, config: MLPConfig, data: Any = None) -> None:
        cfg = self.config = config.resolved()
        self.scale = ScaleOut(cfg.strategy, cfg.precision, cfg.jit)  # first: multiworker
        self.scale.check_divisible(cfg.batch_size, "batch-size")
        prepare(cfg)
        (x_tr, y_tr), (x_te, y_te) = training_data(cfg, data)  # validated once, not per batch
        self.x_train, self.y_train = tf.constant(x_tr), tf.constant(y_tr, tf.int32)
        self.x_test, self.y_test = tf.constant(x_te), tf.constant(y_te, tf.int32)
        self.steps_per_epoch = int(self.x_train.shape[0]) // cfg.batch_size
        with self.scale.scope():  # variables mirrored on every replica
            self.model = MLP(
                (784, cfg.hidden, 10), cfg.init, cfg.seed, compute_dtype=self.scale.compute_dtype
            )
            lr = learning_rate(cfg.lr, cfg.lr_schedule, cfg.epochs * self.steps_per_epoch)
            self.optimizer = self.scale.optimizer(keras.optimizers.Adam(lr), self.model.params)
            self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        # outside the scope: one shuffling stream, the same on every worker (same seed)
        self.generator = tf.random.Generator.from_seed(cfg.seed + 1)
        self.run = Run(
            cfg, self.scale.chief, RESUME_MUST_MATCH,
            progress=("epochs_completed", cfg.epochs, "--epochs"),
            model=self.model, optimizer=self.optimizer, epoch=self.epoch, generator=self.generator,
        )  # fmt: skip
        self.run_dir, self.restored_from = self.run.dir, self.run.restored_from
        self._train_steps = self.scale.steps(
            lambda x, y: train_step(
                self.model, self.optimizer, x, y, cfg.label_smoothing, cfg.batch_size
            )
        )
        self._train_epoch = tf.function(self._epoch)
        self._evaluate = tf.function(self._eval)

    def _epoch(self) -> dict[str, tf.Tensor]:
        """One epoch in one graph; returns the means over its batches (each before its update).

        Returns:
            ``{"train_loss": plain cross-entropy, "train_objective": the loss minimised
            (label smoothing), "train_accuracy": fraction right}``, scalars.
        """
        bs = self.config.batch_size
        if self.config.sampling == "replacement":  # the tutorial's get_batch, n // bs times
            n = tf.shape(self.x_train)[0]
            idx = self.generator.uniform([self.steps_per_epoch, bs], 0, n, dtype=tf.int32)
            xb, yb = tf.gather(self.x_train, idx), tf.gather(self.y_train, idx)
        else:
            xb, yb = shuffled_batches(self.x_train, self.y_train, bs, self.generator)
        k = min(self.config.steps_per_execution, self.steps_per_epoch)
        calls, rest = divmod(self.steps_per_epoch, k)
        xk = tf.reshape(xb[: calls * k], [calls, k, bs, -1])
        yk = tf.reshape(yb[: calls * k], [calls, k, bs])
        totals = dict.fromkeys(("loss", "cross_entropy", "correct"), tf.constant(0.0))
        for i in tf.range(calls):  # each call: k compiled train steps, their outputs summed
            sums = self._train_steps(xk[i], yk[i])
            totals = {key: totals[key] + sums[key] for key in totals}
        if rest:  # the last steps_per_epoch % k batches, one compiled call
            sums = self._train_steps(xb[calls * k :], yb[calls * k :])
            totals = {key: totals[key] + sums[key] for key in totals}
        self.epoch.assign_add(1)
        n = float(self.steps_per_epoch)
        return {
            "train_loss": totals["cross_entropy"] / n,
            "train_objective": totals["loss"] / n,
            "train_accuracy": totals["correct"] / (n * bs),
        }

    def _eval(self, x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        logits = self.model(x)
        return loss_fn(logits, y), accuracy(logits, y)

    def evaluate(self) -> dict[str, float]:
        """Loss and accuracy on the whole test set."""
        loss, acc = self._evaluate(self.x_test, self.y_test)
        return {"test_loss": float(loss), "test_accuracy": float(acc)}

    def predict(self, x: Any) -> np.ndarray:
        """Predicted class ids [n] for images [n, 28, 28] or [n, 784] (uint8 or float)."""
        return np.argmax(self.model(model_inputs(x)).numpy(), axis=-1)

    def _fit(self) -> dict[str, Any]:
        cfg = self.config
        start = int(self.epoch.numpy())
        self.run.say_resumed("epoch", start, cfg.epochs)
        if start == 0:
            self.log_new_run(self.x_test[:1])
        history: dict[str, list[float]] = {key: [] for key in TAGS}
        samples_per_s = []
        bar = tqdm(
            range(start, cfg.epochs),
            desc=f"{cfg.name} {cfg.dataset}",
            unit="epoch",
            disable=not cfg.progress,
            initial=start,
            total=cfg.epochs,
        )
        for _ in bar:
            t0 = time.perf_counter()
            row = {key: float(v) for key, v in self._train_epoch().items()}
            seconds = time.perf_counter() - t0
            samples_per_s.append(self.steps_per_epoch * cfg.batch_size / seconds)
            epoch = int(self.epoch.numpy())
            hint = f"lower --lr (it is {cfg.lr:g}), or check the data for extreme values"
            check_loss(row["train_objective"], epoch, "epoch", self.run.latest_checkpoint, hint)
            row |= self.evaluate()
            rates = {"charts/samples_per_s": samples_per_s[-1], "charts/epoch_seconds": seconds}
            self.run.log(epoch, {tag: row[key] for key, tag in TAGS.items()} | rates)
            for key in TAGS:
                history[key].append(row[key])
            self.run.save(epoch)
            shown = ("train_loss", "test_loss", "test_accuracy")  # a dict keeps this order
            bar.set_postfix({key: f"{row[key]:.4f}" for key in shown})
        return self._finish(history, samples_per_s)

    def _finish(
        self, history: dict[str, list[float]], samples_per_s: list[float]
    ) -> dict[str, Any]:
        cfg = self.config
        metrics = {
            **self.evaluate(),
            "epochs_completed": int(self.epoch.numpy()),
            "steps_completed": int(self.optimizer.iterations.numpy()),
            "samples_per_s": typical_rate(samples_per_s),
            "dataset": cfg.dataset,
        }
        if history["train_loss"]:  # means over the last epoch's batches
            metrics |= {key: history[key][-1] for key in TAGS if key.startswith("train_")}
            smoothing = f"train_objective (label smoothing {cfg.label_smoothing:g})"
            curves = {smoothing if k == "train_objective" else k: v for k, v in history.items()}
            if not cfg.label_smoothing:  # the objective is the train loss: one line
                curves.pop(smoothing)
            plots.plot_curves(
                curves,
                title=f"MLP on {cfg.dataset}: losses are plain cross-entropy",
                path=self.run_dir / "learning_curves.png",
            )
        x, y = self.x_test.numpy(), self.y_test.numpy()
        names = FASHION_CLASSES if cfg.dataset == "fashion_mnist" else None
        path = self.run_dir / "misclassified.png"
        plots.plot_misclassified(x, y, self.predict(x), names, path=path)
        return self.run.finish(metrics)


def train_mlp(
    config: MLPConfig | None = None, data: Any = None, **overrides: Any
) -> dict[str, Any]:
    """Build an :class:`MLPTrainer` and run it: ``train_mlp(epochs=2, dataset="fashion_mnist")``."""
    config = dataclasses.replace(config or MLPConfig(), **overrides)
    return MLPTrainer(config, data).fit()
