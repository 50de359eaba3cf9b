"""Benchmark: the MLP trainer's scaling options side by side -- XLA, MirroredStrategy, float16.

All runs train the same 784-300-10 MLP (``MLPTrainer``, preset "fast", Adam, batch 100) on the
same data, in ONE process, one after another (the machine is shared and noisy: ratios measured
minutes apart in one process are far more stable than figures from separate runs):

(a) ``default``       -- no distribution strategy, ``jit=False`` (plain ``tf.function`` graphs);
(b) ``jit``           -- no strategy, ``jit=True`` (XLA; the trainer's default);
(c) ``mirrored``      -- ``MirroredStrategy`` over the 2 logical CPU devices made by
    ``split_cpu(2)``, ``jit=True``: each replica takes half of every batch of 100 and the
    gradients are all-reduced before the update;
(d) ``mixed_float16`` -- no strategy, default jit, float16 matmuls with loss scaling
    (skip with ``--no-mixed``).

samples/s is the trainer's ``metrics["samples_per_s"]``: the median over the epochs after the
first (the first one traces and compiles), so use ``--epochs`` >= 3; with ``--repeats`` R the
four runs are repeated R times in turn and the best of the R figures is reported (other jobs on
a shared machine only ever slow a run down). Reported ratios: ``jit_speedup`` = b/a,
``mirrored_vs_default`` = c/b, ``mixed_vs_float32`` = d/b.

All runs start from the same weights and see the same batches, so they differ only in how
floating-point sums are rounded (XLA fuses and reorders; the all-reduce adds two half-batch
gradients). ``max_abs_weight_diff_*`` compare the final weights with those of (b): about 1e-6
after a few hundred steps, but Adam amplifies rounding differences over thousands of steps, so
after full epochs they reach 0.1-0.4 for (a) and (c) alike while the test losses still agree.

On a CPU-only machine the two logical devices share the same cores, so (c) does not add compute:
it measures the cost of splitting batches and all-reducing gradients, and is expected to be
SLOWER than (b). On a machine with 2+ GPUs the same code would give each GPU its own replica.
Likewise CPUs have no float16 matrix units (float16 is emulated via float32), so (d) brings no
speed-up here; tensor-core GPUs are where it pays. No targets: this is a report (exit code 0).

Prints a table, then as the last stdout line one JSON object.
Run: ``TFCOURSE_DATA=../shared/data python scripts/bench_scale.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from typing import Any

from benchkit import run_and_report

from tfcourse.scale.devices import split_cpu
from tfcourse.settings import import_tensorflow_quietly

NOTES = (
    "CPU-only machine: the 2 logical CPU devices of split_cpu(2) share the same physical cores, "
    "so MirroredStrategy adds no compute and mirrored_vs_default < 1 is expected: it shows the "
    "cost of splitting each batch and all-reducing the gradients, not a speedup (with 2 GPUs "
    "each replica would get its own device). CPUs have no float16 matrix units (float16 is "
    "emulated by converting to float32), so "
    "no speed-up is expected from mixed_float16 here; it pays on GPUs with tensor cores."
)
GPU_NOTES = (
    "GPU machine: the mirrored run has one replica per GPU (devices_mirrored), so "
    "mirrored_vs_default is real data parallelism minus the cost of the all-reduce; "
    "mixed_float16 runs float16 on the GPU (fast on tensor cores, compute capability 7.0+), "
    "not emulated as on CPUs."
)
RUNS = (  # key, label, MLPConfig overrides
    ("default", "default, jit off", dict(strategy="default", jit=False)),
    ("jit", "default, jit on (XLA)", dict(strategy="default", jit=True)),
    ("mirrored", "mirrored x2, jit on", dict(strategy="mirrored", jit=True)),
    ("mixed_float16", "mixed_float16, jit on", dict(strategy="default", precision="mixed_float16")),
)


@dataclass
class Args:
    dataset: str = "mnist"  # mnist | fashion_mnist
    epochs: int = 5  # per run; samples/s is the median over epochs 2..N
    repeats: int = 2  # every run is repeated (round robin); samples/s is the best repeat
    batch_size: int = 100  # global batch (split over the replicas of the mirrored run)
    seed: int = 1
    train_samples: int = 0  # use only the first N training samples (0 = all)
    steps_per_execution: int = 0  # the trainer's default (0: the whole epoch per compiled call)
    mixed: bool = True  # also run (d) mixed_float16
    quick: bool = False  # smoke run: 2,000 samples, 2 epochs, 1 step per call (quick to trace)
    logdir: str = ""  # parent dir of the trainers' run dirs ("" = a temporary dir)


def parse_args(argv: list[str] | None = None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for f in dataclasses.fields(Args):
        flag = "--" + f.name.replace("_", "-")
        if isinstance(f.default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default)
        elif f.name == "dataset":
            parser.add_argument(flag, default=f.default, choices=("mnist", "fashion_mnist"))
        else:
            parser.add_argument(flag, type=type(f.default), default=f.default)
    args = Args(**vars(parser.parse_args(argv)))
    if args.quick:
        args = dataclasses.replace(
            args, train_samples=2000, epochs=2, steps_per_execution=1, repeats=1
        )
    return args


def ratio(num: float, den: float) -> float:
    return round(num / den, 3) if den else 0.0


def run(args: Args, logdir: str, devices: list[str]) -> dict[str, Any]:
    import numpy as np

    from tfcourse.data.loaders import load_dataset
    from tfcourse.mlp.config import MLPConfig
    from tfcourse.mlp.trainer import MLPTrainer
    from tfcourse.scale.distribute import describe

    (x_tr, y_tr), test = load_dataset(args.dataset)
    if args.train_samples:
        x_tr, y_tr = x_tr[: args.train_samples], y_tr[: args.train_samples]
    data = ((x_tr, y_tr), test)
    base = MLPConfig(
        dataset=args.dataset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        steps_per_execution=args.steps_per_execution,
        logdir=logdir,
        progress=False,
    )
    mirrored = describe("mirrored")
    runs = [r for r in RUNS if args.mixed or r[0] != "mixed_float16"]
    rates: dict[str, list[float]] = {key: [] for key, _, _ in runs}
    result: dict[str, Any] = {}
    weights: dict[str, np.ndarray] = {}
    for _ in range(args.repeats):  # round robin: slow drifts of the machine hit every run alike
        for key, _, overrides in runs:
            config = dataclasses.replace(base, name=f"scale-{key}", **overrides)
            trainer = MLPTrainer(config, data)
            metrics = trainer.fit()
            rates[key].append(metrics["samples_per_s"])
            result[f"test_accuracy_{key}"] = round(metrics["test_accuracy"], 4)
            result[f"test_loss_{key}"] = round(metrics["test_loss"], 5)
            weights[key] = np.concatenate([np.ravel(v.numpy()) for v in trainer.model.params])
    # best of the repeats: other jobs on a shared machine only ever make a run slower
    sps = {key: round(max(values), 1) for key, values in rates.items()}

    def weight_gap(key: str) -> float:
        return float(np.max(np.abs(weights[key] - weights["jit"])))

    return {
        "samples_per_s_default": sps["default"],
        "samples_per_s_jit": sps["jit"],
        "samples_per_s_mirrored": sps["mirrored"],
        "samples_per_s_mixed_float16": sps.get("mixed_float16"),  # None with --no-mixed
        "jit_speedup": ratio(sps["jit"], sps["default"]),
        "mirrored_vs_default": ratio(sps["mirrored"], sps["jit"]),
        "mixed_vs_float32": ratio(sps["mixed_float16"], sps["jit"]) if args.mixed else None,
        **result,
        # same init and batches as the jit run; only the rounding differs (see the docstring)
        "max_abs_weight_diff_mirrored": weight_gap("mirrored"),
        "max_abs_weight_diff_nojit": weight_gap("default"),
        "devices": devices,  # logical CPU devices after split_cpu(2)
        "devices_mirrored": mirrored["devices"],  # GPUs if any, else the logical CPUs
        "replicas_mirrored": mirrored["replicas"],
        "epochs": args.epochs,
        "train_samples": len(x_tr),
        "batch_size": args.batch_size,
        "steps_per_execution": args.steps_per_execution,
        "repeats": args.repeats,
        "dataset": args.dataset,
        "seed": args.seed,
        "quick": args.quick,
        "notes": GPU_NOTES if "GPU" in " ".join(mirrored["devices"]) else NOTES,
    }


def report(r: dict[str, Any]) -> None:
    print(
        f"\nMLP 784-300-10, {r['dataset']}, global batch {r['batch_size']}, "
        f"{r['train_samples']} training samples, {r['epochs']} epochs, devices {r['devices']}"
    )
    print(f"{'run':<24}{'samples/s':>12}{'vs jit':>9}{'test acc':>10}")
    for key, label, _ in RUNS:
        sps = r.get(f"samples_per_s_{key}")
        if sps is None:
            continue
        print(
            f"{label:<24}{sps:>12,.0f}{sps / r['samples_per_s_jit']:>8.2f}x"
            f"{r[f'test_accuracy_{key}']:>10.4f}"
        )
    print(
        f"jit_speedup (b/a) {r['jit_speedup']}, mirrored_vs_default (c/b) "
        f"{r['mirrored_vs_default']}, mixed_vs_float32 (d/b) {r['mixed_vs_float32']}"
    )
    print(
        f"max |weights - weights of the jit run|: mirrored {r['max_abs_weight_diff_mirrored']:.1e}"
        f", jit off {r['max_abs_weight_diff_nojit']:.1e} (rounding only; grows with the steps)"
    )
    print("note: " + r["notes"])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import_tensorflow_quietly()  # lists the devices, does not initialise them
    devices = split_cpu(2)  # before TensorFlow initialises its devices
    return run_and_report(args, run, report, "bench_scale_", devices)


if __name__ == "__main__":
    raise SystemExit(main())
