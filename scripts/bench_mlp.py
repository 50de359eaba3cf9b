"""Benchmark: the tutorial's eager MLP loop vs tfcourse's trainer vs ``keras.Model.fit``.

All three train the same 784-300-10 ReLU network with Adam on the same data at batch size 100,
in ONE process, one after another. Side by side matters: this machine is shared and noisy, so
absolute samples/s drift from run to run, but ratios measured minutes apart in one process are
far more stable than figures from separate runs.

(a) tutorial  -- the loop of tutorial 1 as written: float64 numpy images /255, ``get_batch`` with
    replacement, a NEW ``tf.Variable`` wrapping every batch, ``tf.one_hot``, raw W1/b1/W2/b2
    (tutorial init), softmax cross-entropy, eager ``GradientTape``, ``keras.optimizers.Adam()``.
    Timed over ``--tutorial-batches`` batches after a few warm-up batches (a full run would take
    minutes and adds nothing); RSS growth over those batches is reported as a leak check.
(b) tfcourse  -- ``MLPTrainer(...).fit()`` with its defaults (preset "fast": one ``tf.function``
    per epoch, XLA train step). samples/s = median over epochs after the first (the first one
    traces and compiles); test accuracy after ``--epochs`` epochs.
(c) keras_fit -- ``keras.Sequential`` with the same layers, compiled with Keras defaults
    (Adam, sparse CE from logits, ``jit_compile="auto"``), ``fit(batch_size=100, verbose=0)``.
    samples/s = median epoch time from a callback, excluding the first epoch when
    ``--keras-epochs >= 2`` (it includes tracing/compilation, as for (b)).

Prints a table, then as the last stdout line one JSON object. Exit code 0 whether or not the
targets are met: this is a report. Run: ``TFCOURSE_DATA=../shared/data python scripts/bench_mlp.py``
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from dataclasses import dataclass
from typing import Any

from tfcourse.settings import import_tensorflow_quietly

import_tensorflow_quietly()  # first: TensorFlow's C++ start-up lines stay off stderr

import keras
import numpy as np
import tensorflow as tf
from benchkit import Target, check_targets, rss_mb, run_and_report, target_lines

from tfcourse.data.batching import get_batch
from tfcourse.data.loaders import load_dataset
from tfcourse.data.preprocess import flatten_images, scale_images
from tfcourse.mlp.config import MLPConfig
from tfcourse.mlp.trainer import MLPTrainer

ACCURACY_TARGET = {"mnist": 0.980, "fashion_mnist": 0.890}
WARMUP_BATCHES = 5


@dataclass
class Args:
    dataset: str = "mnist"  # mnist | fashion_mnist
    epochs: int = 10  # tfcourse trainer epochs (the tutorial's 10)
    batch_size: int = 100
    seed: int = 1
    tutorial_batches: int = 300  # timed batches of the tutorial's eager loop
    keras_epochs: int = 4  # model.fit epochs (the first is excluded: median of the other 3)
    train_samples: int = 0  # use only the first N training samples (0 = all)
    logdir: str = ""  # parent dir of the trainer's run dir ("" = a temporary dir)


def parse_args(argv: list[str] | None = None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for f in dataclasses.fields(Args):
        kwargs: dict[str, Any] = {"type": type(f.default), "default": f.default}
        if f.name == "dataset":
            kwargs["choices"] = tuple(ACCURACY_TARGET)
        parser.add_argument("--" + f.name.replace("_", "-"), **kwargs)
    return Args(**vars(parser.parse_args(argv)))


def bench_tutorial(x_uint8: np.ndarray, y: np.ndarray, args: Args) -> tuple[float, float]:
    """The tutorial's eager loop; returns (samples/s, RSS growth in MB over the timed batches)."""
    keras.utils.set_random_seed(args.seed)
    x_train = x_uint8 / 255.0  # float64 [n, 28, 28], as in the tutorial
    rng = np.random.default_rng(args.seed)
    params = [
        tf.Variable(tf.random.normal(shape, stddev=sd), name=name)
        for name, shape, sd in (
            ("W1", [784, 300], 0.03),
            ("b1", [300], 1.0),
            ("W2", [300, 10], 0.03),
            ("b2", [10], 1.0),
        )
    ]  # the tutorial's init
    W1, b1, W2, b2 = params
    optimizer = keras.optimizers.Adam()
    total_batch = len(y) // args.batch_size

    def one_batch() -> tf.Tensor:
        batch_x, batch_y = get_batch(x_train, y, args.batch_size, rng)
        batch_x, batch_y = tf.Variable(batch_x), tf.Variable(batch_y)  # a new variable per batch
        batch_y = tf.one_hot(batch_y, 10)
        with tf.GradientTape() as tape:
            h = tf.reshape(batch_x, (batch_x.shape[0], -1))
            h = tf.nn.relu(tf.add(tf.matmul(tf.cast(h, tf.float32), W1), b1))
            logits = tf.add(tf.matmul(h, W2), b2)
            loss = tf.reduce_mean(
                tf.nn.softmax_cross_entropy_with_logits(labels=batch_y, logits=logits)
            )
        gradients = tape.gradient(loss, params)
        optimizer.apply_gradients(zip(gradients, params, strict=True))
        return loss / total_batch

    for _ in range(WARMUP_BATCHES):
        one_batch()
    rss0, avg_loss = rss_mb(), tf.constant(0.0)
    t0 = time.perf_counter()
    for _ in range(args.tutorial_batches):
        avg_loss += one_batch()
    float(avg_loss)  # eager CPU ops are synchronous; this just makes it explicit
    seconds = time.perf_counter() - t0
    return args.tutorial_batches * args.batch_size / seconds, rss_mb() - rss0


def bench_keras_fit(data: Any, args: Args) -> tuple[float, float, bool]:
    """The same network through ``model.fit``; returns (samples/s, test acc, XLA used?)."""
    keras.utils.set_random_seed(args.seed)
    (x_tr, y_tr), (x_te, y_te) = data
    x_tr, x_te = scale_images(flatten_images(x_tr)), scale_images(flatten_images(x_te))
    model = keras.Sequential(
        [keras.Input((784,)), keras.layers.Dense(300, activation="relu"), keras.layers.Dense(10)]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    starts: list[float] = []
    epoch_seconds: list[float] = []  # wall clock of every epoch of fit
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: starts.append(time.perf_counter()),
        on_epoch_end=lambda epoch, logs: epoch_seconds.append(time.perf_counter() - starts[-1]),
    )
    model.fit(
        x_tr,
        y_tr,
        batch_size=args.batch_size,
        epochs=args.keras_epochs,
        verbose=0,
        callbacks=[timer],
    )
    seconds = float(np.median(epoch_seconds[1:] or epoch_seconds))
    _, acc = model.evaluate(x_te, y_te, batch_size=1000, verbose=0)
    return len(x_tr) / seconds, float(acc), bool(model.jit_compile)


def run(args: Args, logdir: str) -> dict[str, Any]:
    (x_tr, y_tr), test = load_dataset(args.dataset)
    if args.train_samples:
        x_tr, y_tr = x_tr[: args.train_samples], y_tr[: args.train_samples]
    data = ((x_tr, y_tr), test)
    sps_tutorial, leak_mb = bench_tutorial(x_tr, y_tr, args)
    metrics = MLPTrainer(
        MLPConfig(  # trainer defaults; metrics hold samples_per_s, test_accuracy
            dataset=args.dataset,
            epochs=args.epochs,
            batch_size=args.batch_size,
            seed=args.seed,
            train_samples=args.train_samples,
            logdir=logdir,
            progress=False,
        ),
        data,
    ).fit()
    sps_keras, acc_keras, keras_xla = bench_keras_fit(data, args)
    sps = metrics["samples_per_s"]
    result = {
        "samples_per_s_tutorial": round(sps_tutorial, 1),
        "samples_per_s_tfcourse": round(sps, 1),
        "samples_per_s_keras_fit": round(sps_keras, 1),
        "speedup_vs_tutorial": round(sps / sps_tutorial, 2),
        "speedup_vs_keras_fit": round(sps / sps_keras, 2),
        "test_accuracy": round(metrics["test_accuracy"], 4),
        "test_accuracy_keras_fit": round(acc_keras, 4),
        "dataset": args.dataset,
        "epochs": args.epochs,
        "keras_epochs": args.keras_epochs,
        "keras_jit_compile": keras_xla,  # "auto" resolves to False on CPU-only machines
        "tutorial_batches": args.tutorial_batches,
        "tutorial_rss_growth_mb": round(leak_mb, 1),
        "train_samples": len(x_tr),
        "batch_size": args.batch_size,
        "seed": args.seed,
        "tf_version": tf.__version__,
        "keras_version": keras.__version__,
    }
    return {**result, **check_targets(args, result, targets(args.dataset))}


def targets(dataset: str) -> list[Target]:
    """The targets and the budget each was set for: samples/s is steady-state only from the
    second epoch on (the first traces and compiles); the accuracy needs the full 10 epochs."""
    steady = (("epochs", ">=", 2),)
    full = (("epochs", ">=", 10), ("train_samples", "==", 0))
    both = (*steady, ("keras_epochs", ">=", 2))
    return [
        Target("speedup_vs_tutorial", "speedup_vs_tutorial", 20.0, needs=steady),
        Target("speedup_vs_keras_fit", "speedup_vs_keras_fit", 3.0, needs=both),
        Target("test_accuracy", "test_accuracy", ACCURACY_TARGET[dataset], needs=full),
    ]


def report(r: dict[str, Any]) -> None:
    rows = [
        (
            "tutorial eager loop",
            r["samples_per_s_tutorial"],
            f"{r['tutorial_batches']} batches, RSS +{r['tutorial_rss_growth_mb']} MB",
        ),
        (
            "tfcourse MLPTrainer",
            r["samples_per_s_tfcourse"],
            f"{r['epochs']} epochs, test acc {r['test_accuracy']:.4f}",
        ),
        (
            "keras Model.fit",
            r["samples_per_s_keras_fit"],
            f"{r['keras_epochs']} epochs, test acc {r['test_accuracy_keras_fit']:.4f}",
        ),
    ]
    print(
        f"\nMLP 784-300-10, {r['dataset']}, batch {r['batch_size']}, "
        f"{r['train_samples']} training samples"
    )
    print(f"{'method':<22}{'samples/s':>12}{'tfcourse x':>12}  notes")
    for name, sps, note in rows:
        print(f"{name:<22}{sps:>12,.0f}{r['samples_per_s_tfcourse'] / sps:>11.1f}x  {note}")
    print("\n".join(target_lines(r)))


def main(argv: list[str] | None = None) -> int:
    return run_and_report(parse_args(argv), run, report, "bench_mlp_")


if __name__ == "__main__":
    raise SystemExit(main())
