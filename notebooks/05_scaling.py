# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Scaling up and out: strategies, XLA and mixed precision
#
# So far every model in this course trained on one device. This notebook covers the three
# switches `tfcourse`'s MLP trainer has for going faster or bigger, and what each one really
# does:
#
# | option | what it changes | where it pays |
# |---|---|---|
# | `strategy="mirrored"` | a model copy per device, each fed a slice of the batch | 2+ GPUs |
# | `strategy="multiworker"` | the same across processes or machines | a cluster |
# | `jit=True` | the train step is compiled by XLA into fused kernels | CPUs, GPUs |
# | `precision="mixed_float16"` | matrix products in 16-bit floats | tensor-core GPUs |
#
# Plan:
#
# 0. split the CPU into two logical devices (this has to come first);
# 1. why and when to scale at all;
# 2. what a `tf.distribute` strategy is: replicas, mirrored variables, all-reduce, and why the
#    loss is divided by the *global* batch;
# 3. what each `--strategy` would use on this machine;
# 4. the MLP trained with the default strategy and with `MirroredStrategy`: same result;
# 5. several processes: `MultiWorkerMirroredStrategy` and `TF_CONFIG`;
# 6. XLA on and off;
# 7. mixed precision and loss scaling.
#
# This machine probably has no GPU, and that is fine: everything here runs on a CPU, we just
# will not see the speed-ups GPUs would give, and we will say why each time. With
# `TFCOURSE_FAST=1` the runs use a few thousand images and one step per compiled call, and the
# notebook takes about a minute. Each training run shows a progress bar (one tick per epoch;
# the first tick also waits for XLA to compile the step).

# %% [markdown]
# ## 0. Two logical CPUs, before anything else
#
# `MirroredStrategy` puts one replica of the model on each device it is given. Without a GPU
# there is a single device, `CPU:0`, and a "mirrored" run would have one replica: nothing to
# look at. `devices.split_cpu(2)` asks TensorFlow to present the one physical CPU as two
# *logical* devices, `CPU:0` and `CPU:1`. They share the same cores (no extra compute appears),
# but to TensorFlow they are two devices, each with its own copy of the variables, exactly as
# two GPUs would be.
#
# The catch: the device list is fixed the moment TensorFlow initialises its runtime, which
# happens the first time any tensor is created or any logical device is listed. After that,
# `split_cpu` can only raise an error (in Jupyter: restart the kernel). So this cell comes
# before any other cell that touches TensorFlow, and before `tfcourse` modules that might
# create tensors when imported.

# %%
# Installs tfcourse if this kernel lacks it (e.g. a fresh Colab runtime); else does nothing.
# TFCOURSE_INSTALL is what pip installs: the course repository (newest version, needs git),
# or for a handout the wheel it was released with. An environment variable of the same name
# overrides it (offline: the path of a local wheel).
import importlib
import importlib.metadata
import os
import subprocess
import sys

TFCOURSE_INSTALL = "git+https://github.com/tfcourse/tfcourse.git"

try:  # installed? (a folder named tfcourse here, e.g. a git clone, does not count)
    importlib.metadata.distribution("tfcourse")
except importlib.metadata.PackageNotFoundError:
    install = os.environ.get("TFCOURSE_INSTALL", TFCOURSE_INSTALL)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", install], check=True)
    importlib.invalidate_caches()  # so that the import below finds the new package

from tfcourse.notebook_setup import setup_notebook

setup_notebook()  # which tfcourse runs here, where the data comes from

# %%
from tfcourse.settings import import_tensorflow_quietly

import_tensorflow_quietly()  # TensorFlow's C++ start-up lines stay out of the notebook

from tfcourse.scale import devices

print(devices.split_cpu(2))

# %%
import dataclasses
import inspect
import json
import os
import shlex

import keras
import numpy as np
import tensorflow as tf

from tfcourse.data.loaders import load_dataset
from tfcourse.mlp.config import MLPConfig
from tfcourse.mlp.model import loss_fn, train_step
from tfcourse.mlp.trainer import MLPTrainer
from tfcourse.presets import STRATEGIES
from tfcourse.scale import distribute, precision
from tfcourse.settings import fast_mode, fast_or

tf.get_logger().setLevel("WARNING")  # tf.distribute logs every all-reduce at INFO level
keras.utils.set_random_seed(0)
print("TensorFlow", tf.__version__, "| Keras", keras.__version__, "| FAST mode:", fast_mode())
print(devices.list_devices())


def show(fn):
    """Print the source code of a library function."""
    print(inspect.getsource(fn))


# %% [markdown]
# ## 1. Why scale, and when not to
#
# Training time is roughly *(examples to process) × (cost per example) / (throughput)*. Scaling
# attacks the last factor. It is worth the trouble when a run takes hours or days, or when the
# model or the batch no longer fits in one device's memory: large vision and language models,
# or reinforcement learning agents that need billions of environment steps.
#
# It is **not** worth it for the MLP of this course. One epoch of MNIST takes about a second on
# a laptop CPU, and splitting each batch of 100 images over several devices adds more
# coordination than it removes work. The usual order of business is:
#
# 1. make one device busy: data already on the device, no Python per batch, compiled steps
#    (notebook 02 did exactly this and gained a factor of more than 20 over the eager loop);
# 2. make each operation cheaper on that device: XLA fusion, lower precision on a GPU
#    (*scaling up*);
# 3. only then add devices or machines (*scaling out*), and grow the batch with them, since
#    every device needs enough work per step to hide the cost of talking to the others.
#
# The rest of this notebook shows all three on the small MLP, so you can see the machinery at
# work; the speed-ups themselves need the hardware they were designed for.

# %% [markdown]
# ## 2. What a strategy is
#
# A `tf.distribute.Strategy` decides where variables live and where computation runs. The
# variant we use, **data parallelism**, works like this:
#
# * There are *N* **replicas**: copies of the model, one per device (one per GPU, here one per
#   logical CPU).
# * Variables created inside `with strategy.scope():` become **mirrored variables**: one
#   component per replica, kept identical at all times.
# * Each step takes a **global batch** (100 images) and gives each replica its own slice, the
#   **per-replica batch** (100 / *N* = 50 images). Every replica runs the forward and backward
#   pass on its slice, with its own copy of the weights.
# * The replicas' gradients are then summed across devices: an **all-reduce**. Every replica
#   receives the same sum and applies the same optimizer update, so the copies stay equal
#   without ever sending the weights themselves around.
#
# Let us see the pieces with `MirroredStrategy` over our two logical CPUs. A variable created
# under its scope has one component on each device:

# %%
mirrored = tf.distribute.MirroredStrategy(distribute.mirrored_devices())
print("replicas in sync:", mirrored.num_replicas_in_sync)
with mirrored.scope():
    w = tf.Variable([1.0, 2.0], name="w")
print(type(w).__name__)
for component in w.values:
    print(f"  {component.device:45s} {component.numpy()}")

# %% [markdown]
# `strategy.run(fn, args)` calls `fn` once per replica. `distribute.distribute_batch` hands
# replica *i* the *i*-th equal slice of a global batch, and `strategy.reduce` combines what the
# replicas returned. Here each replica reports which slice it received. As with any
# TensorFlow code, the call belongs inside a `tf.function`: run eagerly, the strategy would
# dispatch every replica's operations from Python one by one (and warns that it is slow).

# %%
global_batch = tf.reshape(tf.range(8.0), [8, 1])
(per_replica,) = distribute.distribute_batch(mirrored, global_batch)


def where_am_i(x):
    ctx = tf.distribute.get_replica_context()
    return tf.fill([1], tf.cast(ctx.replica_id_in_sync_group, tf.float32)), tf.reduce_sum(x)


@tf.function
def on_every_replica(x):
    return mirrored.run(where_am_i, args=(x,))


replica_ids, sums = on_every_replica(per_replica)
for rid, s, x in zip(
    mirrored.experimental_local_results(replica_ids),
    mirrored.experimental_local_results(sums),
    mirrored.experimental_local_results(per_replica),
    strict=True,
):
    print(f"replica {int(rid[0])} got rows {x.numpy().ravel()} (sum {float(s)})")
print("all-reduced sum:", float(mirrored.reduce(tf.distribute.ReduceOp.SUM, sums, axis=None)))

# %% [markdown]
# ### Why the loss is divided by the *global* batch size
#
# We want the gradient of the **mean** loss over the global batch of $B$ examples. Each replica
# only sees $B/N$ of them, and the all-reduce *sums* what the replicas produce. So replica $r$
# must compute
#
# $$\text{loss}_r = \frac{1}{B}\sum_{i \in \text{slice } r} \ell_i ,$$
#
# the sum over its own examples divided by the global $B$. Summing these over the replicas
# gives exactly $\frac1B \sum_i \ell_i$, and because gradients are linear, the summed gradients
# are the gradient of the mean. The tempting alternative, each replica taking the *mean* over
# its own slice (`tf.reduce_mean`), gives $N$ times too large a gradient after the sum: the
# same as multiplying the learning rate by the number of devices. With Adam the scale of the
# gradient mostly cancels, which makes this bug easy to miss; with plain SGD it does not.
#
# A check with numbers: a linear model on 8 examples, gradients computed per replica both
# ways and summed, against the gradient of the mean over the whole batch.

# %%
x = tf.random.normal([8, 3], seed=1)
y = tf.random.normal([8], seed=2)
v = tf.Variable(tf.ones([3]))


def grad_of(loss_fn, xs, ys):
    with tf.GradientTape() as tape:
        loss = loss_fn(tf.linalg.matvec(xs, v), ys)
    return tape.gradient(loss, v)


B, N = 8, 2
full = grad_of(lambda p, t: tf.reduce_mean((p - t) ** 2), x, y)
by_global = sum(
    grad_of(
        lambda p, t: tf.reduce_sum((p - t) ** 2) / B, x[r * 4 : r * 4 + 4], y[r * 4 : r * 4 + 4]
    )
    for r in range(N)
)
by_local_mean = sum(
    grad_of(lambda p, t: tf.reduce_mean((p - t) ** 2), x[r * 4 : r * 4 + 4], y[r * 4 : r * 4 + 4])
    for r in range(N)
)
print("gradient of the mean, whole batch:   ", full.numpy())
print("sum over replicas, / global batch:   ", by_global.numpy())
print("sum over replicas, per-replica mean: ", by_local_mean.numpy(), "<- N times too big")

# %% [markdown]
# The trainer does precisely this. Its step is the plain `train_step` of notebook 02 (in
# `tfcourse/mlp/model.py`); the trainer passes `batch_size=config.batch_size`, the GLOBAL batch, so
# `loss_fn` divides the slice's summed cross-entropy by it. `ScaleOut` (in
# `tfcourse/scale/scale_out.py`) runs that step once per replica (`strategy.run`), and
# `apply_gradients`, called inside it, performs the all-reduce before updating the mirrored
# variables. The step knows nothing about replicas:

# %%
show(train_step)
show(loss_fn)

# %% [markdown]
# ## 3. What each strategy would use here
#
# `distribute.describe(name)` reports what `--strategy name` would use, without creating the
# strategy (creating a multi-worker one starts a server and waits for the other workers).

# %%
for name in STRATEGIES:
    print(f"{name:12s}", distribute.describe(name))

# %% [markdown]
# `default` is TensorFlow's do-nothing strategy: one replica on the first device. `mirrored`
# takes every GPU, or every logical CPU when there is no GPU. `multiworker` needs the
# `TF_CONFIG` environment variable, which section 5 explains; with a 2-worker `TF_CONFIG` set
# (temporarily, only for `describe`) it reports two replicas, one per process:

# %%
cluster = {"worker": ["localhost:12345", "localhost:12346"]}
os.environ["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}})
try:
    print(distribute.describe("multiworker"))
finally:
    del os.environ["TF_CONFIG"]

# %% [markdown]
# ## 4. The MLP, default vs mirrored
#
# Now the real trainer, on a subset of MNIST, twice: with the default strategy and with
# `strategy="mirrored"` over the two logical CPUs. Same seed, so same initial weights and the
# same shuffled batches. The only difference is that in the mirrored run each batch of 100 is
# processed as two halves of 50 whose gradients are summed by an all-reduce. Mathematically
# that is the same gradient, so the two runs should end with the same weights, up to the
# rounding of adding floating-point numbers in a different order.

# %%
(x_train, y_train), (x_test, y_test) = load_dataset("mnist")
n_train, n_test = fast_or(20000, 3000), fast_or(10000, 2000)
data = ((x_train[:n_train], y_train[:n_train]), (x_test[:n_test], y_test[:n_test]))
# each compiled call runs a whole epoch (steps_per_execution=0, the default): a loop inside
# one program, so the step is compiled once, however many steps an epoch has
base = MLPConfig(epochs=fast_or(3, 2), logdir="runs", progress=True)
print(
    f"{n_train} training and {n_test} test images, {base.epochs} epochs, "
    f"global batch {base.batch_size}"
)

trainers, results = {}, {}
for strategy in ("default", "mirrored"):
    config = dataclasses.replace(base, strategy=strategy, name=f"scale-{strategy}")
    trainers[strategy] = MLPTrainer(config, data)
    results[strategy] = trainers[strategy].fit()
    r = results[strategy]
    print(
        f"{strategy:9s} replicas {trainers[strategy].scale.replicas}  "
        f"test loss {r['test_loss']:.5f}  test acc {r['test_accuracy']:.4f}  "
        f"{r['samples_per_s']:,.0f} samples/s"
    )

# %%
gaps = [
    float(np.max(np.abs(a.numpy() - b.numpy())))
    for a, b in zip(
        trainers["default"].model.params, trainers["mirrored"].model.params, strict=True
    )
]
print("largest weight difference per variable (W1, b1, W2, b2):", [f"{g:.1e}" for g in gaps])
print(
    "test loss difference:", abs(results["default"]["test_loss"] - results["mirrored"]["test_loss"])
)
W1 = trainers["mirrored"].model.W1
print(
    "the two replicas' copies of W1 are identical:",
    np.array_equal(W1.values[0].numpy(), W1.values[1].numpy()),
)

# %% [markdown]
# The biases and `W2` agree to about $10^{-6}$, the test losses to several decimals, and the
# two replicas' copies of every variable are bit-for-bit identical, as they must be. `W1`'s
# largest difference is bigger, a few thousandths, though 99.9% of its weights also agree to
# a few millionths: it sits in the row of a pixel that is on in only a handful of training
# images. Such a weight gets a tiny gradient on a few steps, and Adam divides each gradient by
# its own running size, so the rounding noise in it becomes a step of about the learning
# rate. (Over many
# thousands of steps the tiny rounding differences grow, as in notebook 04: after three full
# epochs of MNIST the weights differ by 0.1 or more, as much as between runs with XLA on
# and off, while the test losses still agree.)
#
# The mirrored run is also clearly **slower**. That is expected here and is the most useful
# lesson of this section: the two logical CPUs share the same physical cores, so mirroring
# adds no compute at all, only work: splitting each batch, running two smaller matrix products
# instead of one, and an all-reduce of all 240,000 gradient numbers at every step. What you
# measure is the cost of the coordination. On two real GPUs the compute doubles and, for a
# model big enough to keep them busy, it easily outweighs that cost. `scripts/bench_scale.py`
# measures these ratios on the full data set.
#
# ## 5. Several processes: `MultiWorkerMirroredStrategy` and `TF_CONFIG`
#
# `strategy="multiworker"` does the same thing across processes, usually on different
# machines. Each process is a **worker**; it mirrors the model over its own devices, and the
# all-reduce now also runs over the network (TensorFlow's collective operations, over gRPC).
# The workers find each other through the `TF_CONFIG` environment variable, a JSON document
# with two parts:
#
# * `cluster`: the address `host:port` of **every** worker, identical in all processes;
# * `task`: who *this* process is, `{"type": "worker", "index": i}`.
#
# Worker 0 is the **chief**: it writes the run directory, TensorBoard logs and `metrics.json`.
# The others also save checkpoints (saving is a collective operation, everyone has to take
# part) but into a scratch directory that is deleted at the end. Every worker draws the same
# shuffled batches from the same seed and keeps only its own slice, so no training data is
# sent between them; `--batch-size` is the global batch over all workers.
#
# Here are the two `TF_CONFIG` values for two workers on this machine, and the exact commands.
# Open two terminals in the same folder and start one command in each; the first waits until
# the second has connected, then both train and print the same metrics (we ran exactly these
# two commands on this machine). Only the chief's run directory is kept, under `runs/`: the
# `run_dir` that worker 1 prints is its scratch directory, already deleted.

# %%
for index in range(2):
    tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
    print(f"# terminal {index + 1}: worker {index}" + (" (chief)" if index == 0 else ""))
    print(f"TF_CONFIG={shlex.quote(tf_config)} \\")
    print("  tfcourse train mlp --strategy multiworker --epochs 2 --logdir runs\n")

# %% [markdown]
# We do not run them from the notebook: each worker blocks until all the others have joined,
# and the strategy can only be created once per process. Things to know when you do:
#
# * the ports must be free, and on real machines reachable through the firewall;
# * every worker must run the same program with the same settings; only `index` differs;
# * each worker waits until all the others have joined: if one of them fails to start, stop
#   the rest with Ctrl-C;
# * with one GPU per machine, each worker holds one replica; with several GPUs per machine it
#   mirrors over them too, and the number of replicas is the total over all workers.
#
# ## 6. XLA: `jit=True` vs `jit=False`
#
# Without XLA, a `tf.function` runs its graph one operation ("kernel") at a time: the matrix
# product writes its result to memory, the bias addition reads it back and writes a new
# tensor, the ReLU reads that, and so on. With `jit_compile=True` XLA compiles the whole
# step (forward pass, loss, gradients and Adam's update) into a few fused kernels that keep
# intermediate values in registers and caches, specialised for the exact shapes. Compiling
# costs a few seconds on the first call, and the shapes must stay the same between calls
# (otherwise it recompiles), which is why the trainer feeds batches of fixed size.
#
# The trainer compiles its steps with XLA by default. Here is the same run as the default one
# above, with XLA switched off:

# %%
config = dataclasses.replace(base, jit=False, name="scale-nojit")
results["no-jit"] = MLPTrainer(config, data).fit()
for name in ("no-jit", "default"):
    r = results[name]
    print(f"{name:8s} {r['samples_per_s']:>9,.0f} samples/s  test loss {r['test_loss']:.5f}")
print(
    f"XLA speed-up: {results['default']['samples_per_s'] / results['no-jit']['samples_per_s']:.2f}x"
)

# %% [markdown]
# The speed-up of XLA depends on how much time goes into the small operations around the big
# matrix products. For this small network on a CPU it is moderate: about 1.6× over full epochs
# of MNIST in `scripts/bench_scale.py` on our shared 2-core machine. With a few thousand images
# the timing above is noisy and can even come out below 1. The losses agree closely, though
# not always to the last digit: XLA may order and fuse floating-point operations differently.
#
# Under a mirrored strategy the trainer compiles only each replica's forward and backward pass
# with XLA; the all-reduce and the optimizer update run outside the compiled code.
#
# ## 7. Mixed precision
#
# `precision="mixed_float16"` keeps every **variable** (and Adam's moment estimates) in float32
# but runs the **computation** in float16: the MLP casts its inputs and weights to float16 for
# the matrix products and returns float32 logits, so the softmax and the loss are computed in
# float32.
#
# Why bother? NVIDIA GPUs since Volta (compute capability 7.0) have **tensor cores** that
# multiply float16 matrices several times faster than float32 ones, and 16-bit activations
# halve the memory traffic and the memory used. Together that often gives 2–3× on large
# models. CPUs have no such units: most of them have no float16 arithmetic at all, so
# TensorFlow converts to float32 and back around each operation. On a CPU mixed precision is
# for learning how it works, not for speed.
#
# ### Loss scaling
#
# float16 has a tiny range: its smallest positive (subnormal) number is about $6 \times
# 10^{-8}$, and gradients are often smaller than that. They would round to zero, and those
# weights would stop learning. The fix is to multiply the loss by a large factor $S$ before
# differentiating (every gradient is then $S$ times larger, safely inside float16's range) and
# to divide the gradients by $S$, in float32, before the update:

# %%
tiny_gradient = tf.constant(1e-8)
S = 2.0**15
print("1e-8 in float16:                    ", float(tf.cast(tiny_gradient, tf.float16)))
scaled = tf.cast(tiny_gradient * S, tf.float16)
print("(1e-8 * 2**15) in float16, then / S:", float(tf.cast(scaled, tf.float32) / S))

# %% [markdown]
# `keras.optimizers.LossScaleOptimizer` chooses $S$ by itself: it starts at $2^{15}$; if a
# step's gradients overflow to `inf` or `nan` it skips that step and halves $S$; after 2,000
# good steps in a row it doubles $S$. `tfcourse.scale.precision` wraps the optimizer and scales the
# loss inside the trainer's step:

# %%
show(precision.wrap_optimizer)
show(precision.scale_loss)

# %% [markdown]
# Training with `precision="mixed_float16"` reaches practically the same test loss as float32:

# %%
config = dataclasses.replace(base, precision="mixed_float16", name="scale-mixed")
mixed_trainer = MLPTrainer(config, data)
results["mixed_float16"] = mixed_trainer.fit()
print(
    "optimizer:",
    type(mixed_trainer.optimizer).__name__,
    "| loss scale now:",
    float(mixed_trainer.optimizer.scale_loss(tf.constant(1.0))),
)
print(
    "logits dtype:",
    mixed_trainer.model(x_test[:2] / 255).dtype,
    "| W1 dtype:",
    mixed_trainer.model.W1.dtype,
)
for name in ("default", "mixed_float16"):
    r = results[name]
    print(
        f"{name:14s} test loss {r['test_loss']:.5f}  test acc {r['test_accuracy']:.4f}  "
        f"{r['samples_per_s']:>9,.0f} samples/s"
    )

# %% [markdown]
# With only a few thousand images the timings above are mostly noise. Over full epochs
# (`scripts/bench_scale.py`) the float16 run is about as fast as float32 on this CPU, within a
# few percent either way: there are no fast float16 units to use, so all it adds is the casts.
# Run the same cell on a machine with a recent NVIDIA GPU and a bigger model (try `hidden=4096`
# and `batch_size=1024`) to see the other side.
#
# ## Try it
#
# 1. Run `python scripts/bench_scale.py` and read its table. Which ratio surprises you? Then
#    run it with `--batch-size 1000`: does the mirrored run lose less against the default one
#    when each replica gets more work per all-reduce?
# 2. Make the mistake of section 2 on purpose: build a `ScaleOut("mirrored")` step from
#    `train_step` without `batch_size=` (so each replica divides by its own slice), and
#    train with it. Compare the weights with a default run: how far apart
#    are they now, and why does Adam hide most of the damage?
# 3. Start the two multi-worker commands of section 5 in two terminals. Compare the metrics the
#    two workers print, and look at which run directories exist afterwards.
# 4. Try `MLPConfig(batch_size=99, strategy="mirrored")`. Read the error message: why must
#    the global batch be divisible by the number of replicas?
# 5. Make the network wider (`hidden=2000`) and compare `jit=True` with `jit=False` again. Does
#    XLA matter more or less for a bigger network?
