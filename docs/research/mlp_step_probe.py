"""Research probe for docs/research/mlp_matmul_fraction.md: the MLP step's share of this CPU's
float32 matmul rate, variant by variant, robust to a busy machine.

Each variant trains the 784-300-10 MLP (``tfcourse.mlp.model``) on random data and is timed
alternately with the yardstick, ``tf.matmul`` of two 2048 x 2048 matrices, in the same process;
the fraction is (samples x 958,800 FLOP / seconds) / (yardstick FLOP / seconds), median over
``--repeats`` pairs. ``--clock cpu`` (default) divides by the process's CPU time: with one thread
that is the time the process held a core, so other jobs on the machine do not count.

Variants, ``kind:batch:steps[:loop]``:
  ``adam``  -- ``train_step`` with Keras Adam and label smoothing 0.1 (the trainer's step), XLA;
  ``sgd``   -- the same with Keras SGD (what Adam's update costs);
  ``fused`` -- TensorFlow's own kernels (no XLA: oneDNN matmuls) and its fused Adam kernel
               (``ResourceApplyAdam``), one op per variable;
  ``steps`` steps per compiled call, unrolled, or in a ``tf.range`` loop with ``:loop``.

    python docs/research/mlp_step_probe.py --threads 1 adam:100:4 adam:100:600:loop
    XLA_FLAGS=--xla_cpu_max_isa=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 python ... (an AVX2-only CPU)
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", help="kind:batch:steps[:loop]")
    parser.add_argument("--threads", type=int, default=1, help="TF intra/inter-op; 0 = default")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    args = parser.parse_args()
    if args.threads == 1:  # XLA's matmuls run on their own threads unless told otherwise
        os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false " + os.environ.get(
            "XLA_FLAGS", ""
        )
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    n = 2048
    a, b = tf.random.normal([n, n]), tf.random.normal([n, n])

    def yardstick() -> float:
        tf.matmul(a, b)
        t0 = clock()
        for _ in range(4):
            tf.matmul(a, b)
        return 4 * 2 * n**3 / (clock() - t0)

    for spec in args.variants:
        kind, batch, steps, *loop = spec.split(":")
        block, samples = build(tf, kind, int(batch), int(steps), bool(loop))
        block()  # trace and compile
        fractions, rates = [], []
        for _ in range(args.repeats):
            rate = yardstick()
            t0 = clock()
            block()
            fractions.append(samples * 958_800 / (clock() - t0) / rate)
            rates.append(rate / 1e9)
        row = {
            "variant": spec,
            "threads": args.threads,
            "clock": args.clock,
            "fraction": round(float(np.median(fractions)), 3),
            "yardstick_gflops": round(float(np.median(rates)), 1),
            "load": round(os.getloadavg()[0], 1),
            "xla_flags": os.environ.get("XLA_FLAGS", "").strip(),
        }
        print(json.dumps(row), flush=True)


def build(tf, kind: str, batch: int, steps: int, loop: bool) -> tuple[Callable[[], None], int]:
    """A function training on about 6,000 samples with the variant, and its sample count."""
    import keras

    from tfcourse.mlp.model import MLP, loss_fn, train_step

    model = MLP((784, 300, 10), "he", 1)
    params = model.params
    if kind == "fused":
        slots = [[tf.Variable(tf.zeros_like(p)) for p in params] for _ in range(2)]
        t = tf.Variable(0.0)

        def step(x, y):
            with tf.GradientTape() as tape:
                loss = loss_fn(model(x), y, 0.1, batch)
            t.assign_add(1.0)
            b1, b2 = tf.pow(0.9, t), tf.pow(0.999, t)
            grads = tape.gradient(loss, params)
            for p, m, v, g in zip(params, *slots, grads, strict=True):
                tf.raw_ops.ResourceApplyAdam(
                    var=p.handle,
                    m=m.handle,
                    v=v.handle,
                    beta1_power=b1,
                    beta2_power=b2,
                    lr=1e-3,
                    beta1=0.9,
                    beta2=0.999,
                    epsilon=1e-7,
                    grad=g,
                )
            return loss
    else:
        optimizer = (keras.optimizers.Adam if kind == "adam" else keras.optimizers.SGD)(1e-3)
        optimizer.build(params)

        def step(x, y):
            return train_step(model, optimizer, x, y, 0.1, batch)["loss"]

    def run(xs, ys):
        if loop:
            total = tf.constant(0.0)
            for j in tf.range(steps):
                total += step(xs[j], ys[j])
            return total
        return tf.add_n([step(xs[j], ys[j]) for j in range(steps)])

    compiled = tf.function(run, jit_compile=kind != "fused")
    calls = max(1, 6000 // (batch * steps))
    rng = np.random.default_rng(0)
    xs = tf.constant(rng.random((calls, steps, batch, 784), dtype=np.float32))
    ys = tf.constant(rng.integers(0, 10, (calls, steps, batch), dtype=np.int32))

    def block() -> None:
        for i in range(calls):
            out = compiled(xs[i], ys[i])
        float(out)

    return block, calls * steps * batch


if __name__ == "__main__":
    main()
