"""Train the raw-variable MLP (tutorial 1) fast: a compiled epoch loop with logs and checkpoints.

Speed comes from three decisions, each explained in ``notebooks/02_mnist_mlp``:

1. the data set lives on the device as one tensor and each epoch is shuffled *in the graph*
   (:func:`tfcourse.batching.shuffled_batches`), so there is no Python work per batch;
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

from tfcourse import checkpoints, plots, rundir, summaries
from tfcourse import distribute as dist
from tfcourse.batching import shuffled_batches
from tfcourse.data import flatten_images, load_dataset, scale_images
from tfcourse.errors import ConfigError
from tfcourse.mlp import MLP, accuracy, check_classification_data, loss_fn
from tfcourse.mlp_config import RESUME_MUST_MATCH, MLPConfig
from tfcourse.precision import compute_dtype, scale_loss, wrap_optimizer

FASHION_CLASSES = (
    "T-shirt",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Boot",
)
def _inputs(x: Any) -> np.ndarray:
    """Images -> model inputs [n, 784] float32: integer pixels are scaled to [0, 1], floats kept."""
    x = flatten_images(np.asarray(x))
    return scale_images(x) if np.issubdtype(x.dtype, np.integer) else x.astype(np.float32)


class MLPTrainer:
    """Owns the model, optimizer, data tensors, run directory, writer and checkpoints.

    Args:
        config: the run's settings (validated and preset-filled here).
        data: optional ``((x_train, y_train), (x_test, y_test))`` arrays (any image layout);
            default: ``load_dataset(config.dataset, config.data_path)``.
    """

    def __init__(self, config: MLPConfig, data: Any = None) -> None:
        cfg = self.config = config.resolved()
        self.strategy = dist.make_strategy(cfg.strategy)  # first: multiworker sets up TF itself
        dist.check_divisible(cfg.batch_size, self.strategy, "batch-size")
        self.chief = dist.is_chief(self.strategy)
        rundir.ensure_writable_dir(cfg.logdir)
        keras.utils.set_random_seed(cfg.seed)
        (x_tr, y_tr), (x_te, y_te) = (
            data if data is not None else load_dataset(cfg.dataset, cfg.data_path)
        )
        if cfg.train_samples:
            x_tr, y_tr = x_tr[: cfg.train_samples], y_tr[: cfg.train_samples]
        x_tr, x_te = _inputs(x_tr), _inputs(x_te)
        for x, y, what in ((x_tr, y_tr, "training data"), (x_te, y_te, "test data")):
            check_classification_data(x, y, 784, 10, what)
        if len(x_tr) < cfg.batch_size:
            raise ConfigError(
                f"batch-size {cfg.batch_size} exceeds the {len(x_tr)} training samples"
            )
        self.x_train, self.y_train = tf.constant(x_tr), tf.constant(y_tr, tf.int32)
        self.x_test, self.y_test = tf.constant(x_te), tf.constant(y_te, tf.int32)
        self.steps_per_epoch = len(x_tr) // cfg.batch_size

        with self.strategy.scope():  # variables mirrored on every replica
            dtype = compute_dtype(cfg.precision)
            self.model = MLP((784, cfg.hidden, 10), cfg.init, cfg.seed, compute_dtype=dtype)
            lr = cfg.lr
            if cfg.lr_schedule == "cosine":
                steps = cfg.epochs * self.steps_per_epoch
                lr = keras.optimizers.schedules.CosineDecay(cfg.lr, steps)
            self.optimizer = wrap_optimizer(keras.optimizers.Adam(lr), cfg.precision)
            self.optimizer.build(self.model.params)  # slots exist before tracing and restoring
            self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        # outside the scope: one shuffling stream, the same on every worker (same seed)
        self.generator = tf.random.Generator.from_seed(cfg.seed + 1)

        self.run_dir, self.scratch = dist.open_worker_run_dir(cfg, self.chief, RESUME_MUST_MATCH)
        self.ckpt, self.manager = checkpoints.make_manager(
            self.run_dir,
            model=self.model,
            optimizer=self.optimizer,
            epoch=self.epoch,
            generator=self.generator,
        )
        self.restored_from = checkpoints.restore_latest(self.ckpt, self.manager, cfg.resume)
        self.writer = summaries.create_writer(self.run_dir)
        self._grads, self._train_steps = dist.compile_step(
            cfg.strategy, self._replica_grads, self._steps, cfg.jit
        )
        self._train_epoch = tf.function(self._epoch)
        self._evaluate = tf.function(self._eval)

    def _replica_grads(self, x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, ...]:
        """One replica's share of a step: loss, correct count and gradients of its slice.

        Args:
            x: [batch / replicas, 784] float32, this replica's slice of the global batch.
            y: [batch / replicas] int32 labels.

        Returns:
            ``(loss, correct, *grads)``: the loss is the slice's summed cross-entropy divided
            by the GLOBAL batch size, so the replicas' gradients add up to the mean's gradient.
        """
        smooth = self.config.label_smoothing
        with tf.GradientTape() as tape:
            logits = self.model(x)
            targets = tf.one_hot(y, 10) * (1 - smooth) + smooth / 10
            per_example = tf.nn.softmax_cross_entropy_with_logits(targets, logits)
            loss = tf.reduce_sum(per_example) / self.config.batch_size
            scaled = scale_loss(self.optimizer, loss)
        grads = tape.gradient(scaled, self.model.params)
        hits = tf.argmax(logits, -1, output_type=tf.int32) == y
        correct = tf.reduce_sum(tf.cast(hits, tf.float32))
        return (loss, correct, *grads)

    def _replica_step(self, x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        loss, correct, *grads = self._grads(x, y)
        # under a strategy, apply_gradients all-reduces (sums) the gradients across replicas
        self.optimizer.apply_gradients(zip(grads, self.model.params, strict=True))
        return loss, correct

    def _steps(self, xs: tf.Tensor, ys: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Consecutive Adam steps, one per global batch (unrolled: k is static).

        Args:
            xs: [k, batch, 784] float32 inputs of k batches.
            ys: [k, batch] int32 labels.

        Returns:
            Sums over the k steps of (loss, accuracy).
        """
        total_loss, total_acc = tf.constant(0.0), tf.constant(0.0)
        sum_ = tf.distribute.ReduceOp.SUM
        for j in range(xs.shape[0]):
            x, y = dist.distribute_batch(self.strategy, xs[j], ys[j])
            loss, correct = self.strategy.run(self._replica_step, args=(x, y))
            total_loss += self.strategy.reduce(sum_, loss, axis=None)
            total_acc += self.strategy.reduce(sum_, correct, axis=None) / self.config.batch_size
        return total_loss, total_acc

    def _epoch(self) -> tuple[tf.Tensor, tf.Tensor]:
        """One epoch in one graph; returns mean (loss, accuracy) over its batches."""
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
        total_loss, total_acc = tf.constant(0.0), tf.constant(0.0)
        for i in tf.range(calls):
            loss, acc = self._train_steps(xk[i], yk[i])
            total_loss += loss
            total_acc += acc
        if rest:  # the last steps_per_epoch % k batches, one compiled call
            loss, acc = self._train_steps(xb[calls * k :], yb[calls * k :])
            total_loss += loss
            total_acc += acc
        self.epoch.assign_add(1)
        return total_loss / self.steps_per_epoch, total_acc / self.steps_per_epoch

    def _eval(self, x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        logits = self.model(x)
        return loss_fn(logits, y), accuracy(logits, y)

    def evaluate(self) -> dict[str, float]:
        """Loss and accuracy on the whole test set."""
        loss, acc = self._evaluate(self.x_test, self.y_test)
        return {"test_loss": float(loss), "test_accuracy": float(acc)}

    def predict(self, x: Any) -> np.ndarray:
        """Predicted class ids [n] for images [n, 28, 28] or [n, 784] (uint8 or float)."""
        return np.argmax(self.model(_inputs(x)).numpy(), axis=-1)

    def fit(self) -> dict[str, Any]:
        """Train up to ``config.epochs`` (continuing from a restored epoch), then write outputs.

        Returns:
            The metrics also written to ``metrics.json``.
        """
        cfg = self.config
        start = int(self.epoch.numpy())
        if start == 0:
            summaries.log_hparams(self.writer, dataclasses.asdict(cfg))
            summaries.trace_graph(self.writer, tf.function(self.model.__call__), self.x_test[:1])
        history: dict[str, list[float]] = {
            "train_loss": [],
            "train_accuracy": [],
            "test_accuracy": [],
        }
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
            loss, acc = (float(v) for v in self._train_epoch())
            seconds = time.perf_counter() - t0
            samples_per_s.append(self.steps_per_epoch * cfg.batch_size / seconds)
            test = self.evaluate()
            epoch = int(self.epoch.numpy())
            summaries.log_scalars(
                self.writer,
                epoch,
                {
                    "losses/train": loss,
                    "losses/test": test["test_loss"],
                    "charts/train_accuracy": acc,
                    "charts/test_accuracy": test["test_accuracy"],
                    "charts/samples_per_s": samples_per_s[-1],
                    "charts/epoch_seconds": seconds,
                },
            )
            for key, value in (
                ("train_loss", loss),
                ("train_accuracy", acc),
                ("test_accuracy", test["test_accuracy"]),
            ):
                history[key].append(value)
            self.manager.save(checkpoint_number=epoch)
            bar.set_postfix(loss=f"{loss:.4f}", test_acc=f"{test['test_accuracy']:.4f}")
        return dist.discard_scratch(
            self.scratch, self._finish(history, samples_per_s)
        )

    def _finish(
        self, history: dict[str, list[float]], samples_per_s: list[float]
    ) -> dict[str, Any]:
        cfg = self.config
        metrics = {
            **self.evaluate(),
            "epochs_completed": int(self.epoch.numpy()),
            "steps_completed": int(self.optimizer.iterations.numpy()),
            # the first epoch of a process includes tracing and XLA compilation
            "samples_per_s": float(np.median(samples_per_s[1:] or samples_per_s or [0.0])),
            "dataset": cfg.dataset,
            "run_dir": str(self.run_dir),
        }
        if history["train_loss"]:
            plots.plot_curves(
                history, title=f"MLP on {cfg.dataset}", path=self.run_dir / "learning_curves.png"
            )
        x_test = self.x_test.numpy()
        names = FASHION_CLASSES if cfg.dataset == "fashion_mnist" else None
        plots.plot_misclassified(
            x_test,
            self.y_test.numpy(),
            self.predict(x_test),
            names,
            path=self.run_dir / "misclassified.png",
        )
        rundir.atomic_write_json(self.run_dir / rundir.METRICS_FILE, metrics)
        self.writer.flush()
        return metrics


def train_mlp(
    config: MLPConfig | None = None, data: Any = None, **overrides: Any
) -> dict[str, Any]:
    """Build an :class:`MLPTrainer` and run it: ``train_mlp(epochs=2, dataset="fashion_mnist")``."""
    config = dataclasses.replace(config or MLPConfig(), **overrides)
    return MLPTrainer(config, data).fit()
