"""Train the raw-variable MLP (tutorial 1) fast: a compiled epoch loop with logs and checkpoints.

Speed comes from three decisions, each explained in ``notebooks/02_mnist_mlp``:

1. the data set lives on the device as one tensor and each epoch is shuffled *in the graph*
   (:func:`tfcourse.data.batching.shuffled_batches`), so there is no Python work per batch;
2. one ``tf.function`` runs the whole epoch with ``for i in tf.range(n_batches)`` — a single
   call from Python per epoch instead of 600;
3. the train steps inside it are compiled with XLA (``jit_compile=True``), fusing the matmuls,
   the loss, the gradients and Adam's update; ``steps_per_execution`` consecutive steps share
   one compiled call (Keras's option of the same name), by default all of an epoch's, as a
   loop inside the XLA program: no cost per call (16% more samples/s than 4 steps per call
   on a quiet 2-core Xeon; ``docs/research/mlp_matmul_fraction.md``).
"""

from __future__ import annotations

import dataclasses
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
from tfcourse.run import plots, summaries
from tfcourse.run.trainer_base import TrainerBase, typical_rate

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
DURING = "mean over the epoch's batches, each before its update"
AT_END = "the model at the end of the epoch, whole test set"
BOARD = summaries.Namespace(
    "mlp",
    "epoch",
    {
        "losses/train": f"plain cross-entropy (nats per image), {DURING}",
        "losses/test": f"plain cross-entropy (nats per image) of {AT_END}",
        "objective/train": f"the loss minimised (cross-entropy against label-smoothed "
        f"targets, nats per image), {DURING}; not comparable with losses/test",
        "charts/train_accuracy": f"fraction of training images classified right, {DURING}",
        "charts/test_accuracy": f"fraction of test images classified right by {AT_END}",
        "charts/samples_per_s": "training images per second over the epoch's train steps",
        "charts/epoch_seconds": "seconds the epoch's train steps took",
        "figures/learning_curves": "losses and accuracies per epoch (learning_curves.png)",
        "figures/misclassified": "test images the final model gets wrong (misclassified.png)",
    },
)
LEGENDS = {  # what each curve of learning_curves.png averages over
    "train_loss": "train: mean over the epoch's batches",
    "train_accuracy": "train: mean over the epoch's batches",
    "test_loss": "test: whole test set, end of epoch",
    "test_accuracy": "test: whole test set, end of epoch",
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

    split, unit, must_match = "batch_size", "epoch", RESUME_MUST_MATCH

    def __init__(self, config: MLPConfig, data: Any = None) -> None:
        self._data = data
        super().__init__(config)

    def _build(self) -> tuple[tuple[str, int, str], dict[str, Any]]:
        cfg = self.config
        self.hint = f"lower --lr (it is {cfg.lr:g}), or check the data for extreme values"
        (x_tr, y_tr), (x_te, y_te) = training_data(cfg, self._data)  # validated once
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
        self._train_steps = self.scale.steps(
            lambda x, y: train_step(
                self.model, self.optimizer, x, y, cfg.label_smoothing, cfg.batch_size
            )
        )
        self._train_epoch = tf.function(self._epoch)
        # XLA here too: in float16 on a CPU, TensorFlow's graph optimizer fuses matmul + bias
        # into a kernel ~700x slower than XLA's (45 s vs 0.05 s for 2,000 MNIST images)
        self._evaluate = tf.function(self._eval, jit_compile=self.scale.jit)
        progress = ("epochs_completed", cfg.epochs, "--epochs")
        return progress, dict(
            model=self.model, optimizer=self.optimizer, epoch=self.epoch, generator=self.generator
        )

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
        k = min(self.config.steps_per_execution or self.steps_per_epoch, self.steps_per_epoch)
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

    def _position(self) -> tuple[int, int]:
        return int(self.epoch.numpy()), self.config.epochs

    def _example_input(self) -> tf.Tensor:
        return self.x_test[:1]

    def _begin(self) -> None:
        cfg = self.config
        self._history: dict[str, list[float]] = {key: [] for key in TAGS}
        self._samples_per_s: list[float] = []  # per epoch, its train steps only
        self._bar = tqdm(
            total=cfg.epochs,
            initial=int(self.epoch.numpy()),
            desc=f"{cfg.name} {cfg.dataset}",
            unit="epoch",
            disable=not cfg.progress,
        )

    def _unit(self) -> tuple[float, dict[str, Any]]:
        row = {key: float(v) for key, v in self._train_epoch().items()}
        return row["train_objective"], row

    def _after_unit(self, step: int, row: dict[str, Any], seconds: float) -> bool:
        self._samples_per_s.append(self.steps_per_epoch * self.config.batch_size / seconds)
        row |= self.evaluate()
        rates = {"charts/samples_per_s": self._samples_per_s[-1], "charts/epoch_seconds": seconds}
        BOARD.log(self.run.writer, step, {tag: row[key] for key, tag in TAGS.items()} | rates)
        for key in TAGS:
            self._history[key].append(row[key])
        self.run.save(step)
        shown = ("train_loss", "test_loss", "test_accuracy")  # a dict keeps this order
        self._bar.set_postfix({key: f"{row[key]:.4f}" for key in shown}, refresh=False)
        self._bar.update(1)
        return False

    def _finish(self) -> dict[str, Any]:
        cfg, history = self.config, self._history
        self._bar.close()
        metrics = {
            **self.evaluate(),
            "epochs_completed": int(self.epoch.numpy()),
            "steps_completed": int(self.optimizer.iterations.numpy()),
            "samples_per_s": typical_rate(self._samples_per_s),
            "dataset": cfg.dataset,
        }
        epochs = metrics["epochs_completed"]  # the figures' step in TensorBoard
        if history["train_loss"]:  # means over the last epoch's batches
            metrics |= {key: history[key][-1] for key in TAGS if key.startswith("train_")}
            curves = dict(history)
            if not cfg.label_smoothing:  # the objective is the train loss: one line
                curves.pop("train_objective")
            smoothing = f"train objective (label smoothing {cfg.label_smoothing:g}): mean over"
            fig = plots.plot_curves(
                curves,
                title=f"MLP on {cfg.dataset}: train curves average over each epoch, "
                "test curves are taken at its end",
                ylabels=("cross-entropy (nats per image)", "accuracy (fraction correct)"),
                legends=LEGENDS | {"train_objective": f"{smoothing} the epoch's batches"},
            )
            png = plots.save_figure(fig, self.run_dir / "learning_curves.png")
            BOARD.image(self.run.writer, "figures/learning_curves", png, epochs)
        x, y = self.x_test.numpy(), self.y_test.numpy()
        names = FASHION_CLASSES if cfg.dataset == "fashion_mnist" else None
        fig = plots.plot_misclassified(x, y, self.predict(x), names)
        png = plots.save_figure(fig, self.run_dir / "misclassified.png")
        BOARD.image(self.run.writer, "figures/misclassified", png, epochs)
        return self.run.finish(metrics)


def train_mlp(
    config: MLPConfig | None = None, data: Any = None, **overrides: Any
) -> dict[str, Any]:
    """Build an :class:`MLPTrainer` and run it: ``train_mlp(epochs=2, dataset="fashion_mnist")``."""
    config = dataclasses.replace(config or MLPConfig(), **overrides)
    return MLPTrainer(config, data).fit()
