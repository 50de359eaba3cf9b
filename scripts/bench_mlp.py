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
(d) this machine's own limit -- the float32 rate of a large matrix product, measured in the same
    run: ``tf.matmul`` of two ``--matmul-size`` squares (2048: 17.2 GFLOP each; TensorFlow's
    own CPU kernel, oneDNN on x86), ``--matmul-repeats`` products after every epoch of (b)
    (from ``fit``'s ``on_update``, outside the epoch's timing), so the trainer and its yardstick
    see the same load; the rate is their median. Beside it, for reference, before and after
    (b): the same product compiled by XLA (the compiler the trainer's step goes through) and
    numpy's (its BLAS). The trainer's FLOP/s = samples/s x FLOP per sample, and
    ``matmul_fraction`` = that / TensorFlow's rate. The target (>= 0.75) is for a quiet machine:
    it is checked only when the 1-minute load average stayed <= 1.25x the usable cores during
    (b) (this script's own threads make about 1x). On a busy machine both sides are slowed,
    but not alike (the 2-thread 2048^2 product loses more to time-sharing than the small
    steps: 0.76 measured at load 10 on 2 cores, 0.33 on the same machine when quiet), so a busy
    run's fraction is reported, not judged.

FLOP per sample (multiply-adds count 2; only the matrix products): forward ``x W1`` 2*784*300 +
``h W2`` 2*300*10 = 476,400; backward, the weight gradients ``x^T dh`` 2*784*300 + ``h^T dz``
2*300*10 = 476,400 and the hidden-layer gradient ``dz W2^T`` 2*10*300 = 6,000 (no gradient for
the input itself): 958,800 in all. Bias adds, ReLU, softmax and Adam's update are not counted:
they are O(300) per sample or O(parameters) per step, element-wise, bound by memory not FLOPs.
Why the fraction sits where it does, measured: ``docs/research/mlp_matmul_fraction.md``.

Prints a table and the machine's facts (its load included: figures from a busy machine are
not quiet-run figures), then as the last stdout line one JSON object. Exit code 0 whether or
not the targets are met: this is a report.
Run: ``TFCOURSE_DATA=../shared/data python scripts/bench_mlp.py``
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import time
from dataclasses import dataclass
from typing import Any

from tfcourse.settings import import_tensorflow_quietly

import_tensorflow_quietly()  # first: TensorFlow's C++ start-up lines stay off stderr

import keras
import numpy as np
import tensorflow as tf
from benchkit import Target, check_targets, rss_mb, run_and_report, target_lines, tf_threads

from tfcourse.data.batching import get_batch
from tfcourse.data.loaders import load_dataset
from tfcourse.data.preprocess import flatten_images, scale_images
from tfcourse.mlp.config import MLPConfig
from tfcourse.mlp.trainer import MLPTrainer

ACCURACY_TARGET = {"mnist": 0.980, "fashion_mnist": 0.890}
MATMUL_FRACTION_TARGET = 0.75
# the fraction's target is judged only while the 1-minute load average stays at most this many
# per usable core: this script's own threads make about 1 per core on a quiet machine
QUIET_LOAD_PER_CORE = 1.25
WARMUP_BATCHES = 5


@dataclass
class Args:
    dataset: str = "mnist"  # mnist | fashion_mnist
    epochs: int = 10  # tfcourse trainer epochs (the tutorial's 10)
    batch_size: int = MLPConfig.batch_size  # the trainer's default (the tutorial's 100)
    seed: int = 1
    tutorial_batches: int = 300  # timed batches of the tutorial's eager loop
    keras_epochs: int = 4  # model.fit epochs (the first is excluded: median of the other 3)
    train_samples: int = 0  # use only the first N training samples (0 = all)
    matmul_size: int = 2048  # (d): the side of the square matrices
    matmul_repeats: int = 2  # (d): products timed after every epoch of (b)
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


def flop_per_sample(sizes: tuple[int, ...]) -> dict[str, int]:
    """FLOP of the matrix products of one training sample through an MLP of ``sizes``.

    Returns:
        ``forward`` (``2 * n_in * n_out`` per layer), ``weight_gradients`` (the same again:
        ``x^T dz`` per layer), ``hidden_gradients`` (``dz W^T`` for every layer but the first:
        the input needs no gradient) and ``total``. For (784, 300, 10): 476,400 + 476,400 +
        6,000 = 958,800.
    """
    layers = list(itertools.pairwise(sizes))
    forward = sum(2 * n_in * n_out for n_in, n_out in layers)
    hidden = sum(2 * n_in * n_out for n_in, n_out in layers[1:])
    return {
        "forward": forward,
        "weight_gradients": forward,
        "hidden_gradients": hidden,
        "total": 2 * forward + hidden,
    }


class MatmulProbe:
    """Times ``n x n`` float32 products: TensorFlow's kernel, XLA's and numpy's.

    Called as an ``on_update`` callback of ``fit`` it times ``repeats`` ``tf.matmul`` products
    after every epoch (outside the trainer's epoch timing), so the yardstick sees the same load.
    """

    def __init__(self, n: int, repeats: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.n, self.repeats = n, repeats
        self.flop = 2 * n**3
        self.a_np, self.b_np = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
        self.a, self.b = tf.constant(self.a_np), tf.constant(self.b_np)
        self._xla = tf.function(tf.linalg.matmul, jit_compile=True)
        self.rates: dict[str, list[float]] = {"tf": [], "xla": [], "numpy": []}
        self.during_fit: list[float] = []  # tf rates timed after each epoch
        self.loads = [os.getloadavg()[0]]  # 1-minute load averages: at the start, each epoch

    def _time(self, product: Any) -> list[float]:
        product()  # warm: kernel selection, XLA compilation, page faults
        rates = []
        for _ in range(self.repeats):
            t0 = time.perf_counter()
            np.asarray(product())  # CPU ops are synchronous; this makes it explicit
            rates.append(self.flop / (time.perf_counter() - t0) / 1e9)
        return rates

    def tf_rates(self) -> list[float]:
        return self._time(lambda: tf.matmul(self.a, self.b))

    def all_rates(self) -> None:
        """One round of each library's products, kept in :attr:`rates` (GFLOP/s)."""
        self.rates["tf"] += self.tf_rates()
        self.rates["xla"] += self._time(lambda: self._xla(self.a, self.b))
        self.rates["numpy"] += self._time(lambda: self.a_np @ self.b_np)

    def __call__(self, step: int, row: dict[str, Any]) -> None:
        self.during_fit += self.tf_rates()
        self.loads.append(os.getloadavg()[0])


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
    probe = MatmulProbe(args.matmul_size, args.matmul_repeats, args.seed)
    probe.all_rates()  # before (b)
    trainer = MLPTrainer(
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
    )
    metrics = trainer.fit(on_update=probe)  # a tf.matmul round after every epoch
    probe.all_rates()  # after (b)
    sps_keras, acc_keras, keras_xla = bench_keras_fit(data, args)
    sps = metrics["samples_per_s"]
    flop = flop_per_sample(trainer.model.sizes)
    # the epochs after the first make the trainer's median: so do the probes after them
    during = probe.during_fit[args.matmul_repeats :] or probe.during_fit
    matmul = float(np.median(during))
    gflops = sps * flop["total"] / 1e9
    median = {key: float(np.median(v)) for key, v in probe.rates.items()}
    cores = len(os.sched_getaffinity(0))
    busy = max(probe.loads) > QUIET_LOAD_PER_CORE * cores
    result = {
        "samples_per_s_tutorial": round(sps_tutorial, 1),
        "samples_per_s_tfcourse": round(sps, 1),
        "samples_per_s_keras_fit": round(sps_keras, 1),
        "speedup_vs_tutorial": round(sps / sps_tutorial, 2),
        "speedup_vs_keras_fit": round(sps / sps_keras, 2),
        "matmul_fraction": round(gflops / matmul, 3),
        # the same, where the machine was quiet enough to judge it (None when busy)
        "matmul_fraction_quiet": None if busy else round(gflops / matmul, 3),
        "load_during_trainer": [round(x, 2) for x in probe.loads],
        "gflops_tfcourse": round(gflops, 2),
        "matmul_gflops": round(matmul, 1),  # tf.matmul, median of the rounds during (b)
        "matmul_gflops_runs": [round(x, 1) for x in during],
        "matmul_gflops_before_after": {k: [round(x, 1) for x in v] for k, v in probe.rates.items()},
        "matmul_fraction_of_xla": round(gflops / median["xla"], 3),
        "matmul_size": args.matmul_size,
        "flop_per_sample": flop["total"],
        "flop_per_sample_terms": flop,
        "tf_threads": tf_threads(),
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
    why = f"not checked: machine busy (1-minute load up to {max(probe.loads):.1f} on {cores} "
    why += f"cores during (b); judged at <= {QUIET_LOAD_PER_CORE * cores:g})"
    why_missing = {"matmul_fraction_quiet": why}
    return {**result, **check_targets(args, result, targets(args.dataset), why_missing)}


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
        Target(
            "matmul_fraction_min", "matmul_fraction_quiet", MATMUL_FRACTION_TARGET, needs=steady
        ),
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
    n, flop, ref = r["matmul_size"], r["flop_per_sample_terms"], r["matmul_gflops_before_after"]
    print(
        f"\nthis machine's float32 matmul, {n}x{n}: tf.matmul {r['matmul_gflops']:.1f} GFLOP/s "
        f"(median of {len(r['matmul_gflops_runs'])} products timed between the trainer's epochs)"
        f"; before and after the trainer: tf.matmul {fmt_rates(ref['tf'])}, XLA "
        f"{fmt_rates(ref['xla'])}, numpy {fmt_rates(ref['numpy'])}"
    )
    print(
        f"FLOP per sample {flop['total']:,} = forward {flop['forward']:,} + weight gradients "
        f"{flop['weight_gradients']:,} + hidden-layer gradient {flop['hidden_gradients']:,} "
        "(matrix products only)"
    )
    print(
        f"tfcourse MLPTrainer: {r['samples_per_s_tfcourse']:,.0f} samples/s x {flop['total']:,} "
        f"FLOP = {r['gflops_tfcourse']:.1f} GFLOP/s = {r['matmul_fraction']:.0%} of tf.matmul's "
        f"rate ({r['matmul_fraction_of_xla']:.0%} of XLA's)"
    )
    print("\n".join(target_lines(r)))


def fmt_rates(rates: list[float]) -> str:
    return "/".join(f"{x:.0f}" for x in rates)


def main(argv: list[str] | None = None) -> int:
    return run_and_report(parse_args(argv), run, report, "bench_mlp_")


if __name__ == "__main__":
    raise SystemExit(main())
