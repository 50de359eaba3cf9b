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
# # 04 · TensorFlow review: the TF1 way and the TF2 way, side by side
#
# Deep reinforcement learning keeps doing one thing over and over: collect data, then fit a
# model to it by gradient descent. This notebook reviews the TensorFlow you need for the
# "fit a model" half. Many course materials, papers and code bases were written for
# **TensorFlow 1**, where you first *describe* a computation as a graph and then *run* it in a
# session. **TensorFlow 2** simply runs Python code (eager execution) and turns it into a graph
# only when you ask for speed, with `tf.function`. You will meet both, so we show every step
# twice: the old code, and what it becomes today. Both produce the same numbers, and the tests
# of `tfcourse` check that they do.
#
# Plan:
#
# 0. configure devices (this has to come first);
# 1. graphs and sessions, placeholders and `feed_dict`, versus functions and their arguments;
# 2. computations, and the broadcasting trap;
# 3. variables: `get_variable` and initialisers, versus `tf.Variable`; scopes and names;
# 4. guarding shapes so a loss cannot silently broadcast;
# 5. a small regression network fitting a noisy sine: TF1 session loop against a compiled TF2
#    trainer;
# 6. saving and restoring: `Saver`, `tf.train.Checkpoint`, SavedModel;
# 7. odds and ends: listing variables, built-in help, placing work on devices.
#
# The old-style code runs through `tf.compat.v1` **inside its own `tf.Graph`**. We never call
# `disable_eager_execution()`, so the rest of the process stays TF2. With `TFCOURSE_FAST=1`
# the training runs are shortened so the notebook finishes in seconds.

# %% [markdown]
# ## 0. Devices first
#
# TensorFlow sets up its devices (CPU, GPUs, their memory pools) the first time it needs
# them, typically when the first tensor is created. Any device *configuration* must happen
# before that moment, so it belongs at the very top of a script or notebook.
#
# In TF1 these settings travelled with each session:
#
# ```python
# gpu_options = tf.GPUOptions(per_process_gpu_memory_fraction=0.5)
# sess = tf.Session(graph=tf.Graph(), config=tf.ConfigProto(gpu_options=gpu_options))
# ```
#
# TF2 has no sessions, so the settings are made once for the whole process through
# `tf.config`. The helpers in `tfcourse.scale.devices` wrap them: they print a clear message on a
# machine without a GPU instead of failing, and if you call them too late they say so. Below we
# also split the one physical CPU into two *logical* devices, which lets us try device
# placement later without owning two GPUs.

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
print(devices.enable_memory_growth())  # TF1: gpu_options.allow_growth = True
print(devices.limit_gpu_memory(2048))  # TF1: per_process_gpu_memory_fraction, but in MB

# %%
import inspect
import tempfile
import time
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from IPython.display import Image, display

from tfcourse.errors import ShapeError
from tfcourse.review import compat_v1, savedmodel, shapes, sine, sine_v1
from tfcourse.review.config import SineConfig
from tfcourse.review.trainer import SineTrainer, replay_batch_indices
from tfcourse.run import summaries
from tfcourse.settings import fast_mode, fast_or

keras.utils.set_random_seed(0)
print("TensorFlow", tf.__version__, "| Keras", keras.__version__, "| FAST mode:", fast_mode())
print(devices.list_devices())


def show(fn):
    """Print the source code of a library function, to read the TF1 version next to TF2."""
    print(inspect.getsource(fn))


# %% [markdown]
# ## 1. Describe, then run
#
# Adding two numbers the TF1 way takes two phases. First you build a graph: `tf.constant(1.0)`
# does not hold 1.0 in a usable way, it creates a *node* that will produce 1.0 when the graph
# runs, and `a + b` adds another node. Then a `Session` executes the part of the graph needed
# for what you ask it to fetch. The review started every example with a `tf_reset()` helper
# that closed the old session and cleared the default graph; `compat_v1.v1_session()` is our
# version of it: a brand-new graph and a session on it, both discarded afterwards.

# %%
show(compat_v1.v1_session)
show(compat_v1.constant_add_v1)

# %%
print("TF1, graph + session:", compat_v1.constant_add_v1())
print("TF2, eager:          ", (tf.constant(1.0) + tf.constant(2.0)).numpy())

# %% [markdown]
# ### Placeholders and `feed_dict` become function arguments
#
# To compute with *your* numbers, TF1 declares a `placeholder`: a typed slot in the graph that
# must be filled at run time through `feed_dict`. A shape of `[None]` means "a vector of any
# length", so the same graph can add vectors of length 1 or 2.
#
# In TF2 the placeholders are simply the arguments of a Python function. Decorating it with
# `tf.function` and an `input_signature` of `tf.TensorSpec([None])` gives the same promise as
# the placeholder: float32 vectors of any length, one compiled graph for all of them.

# %%
show(compat_v1.placeholder_add_v1)
show(compat_v1.placeholder_add_v2)

# %%
for a, b in ([[1.0], [2.0]], [[2.0], [4.0]], [[1.0, 2.0], [2.0, 4.0]]):
    print(
        f"a={a!s:10} b={b!s:10} TF1: {compat_v1.placeholder_add_v1(a, b)!s:8} "
        f"TF2: {compat_v1.placeholder_add_v2(a, b)}"
    )

# %% [markdown]
# Feeding a value of the wrong shape makes TF1 raise a `ValueError` from deep inside the
# session. `compat_v1.run_fed` catches it and re-raises a `ShapeError` that names the
# placeholder, the shape it wanted, the shape it got, and two ways to fix it. The TF2 version
# checks its arguments with `shapes.assert_shape` before calling the graph.

# %%
for version in (compat_v1.placeholder_add_v1, compat_v1.placeholder_add_v2):
    try:
        version([[1.0, 2.0]], [[2.0, 4.0]])
    except ShapeError as err:
        print(f"{version.__name__}: {err}\n")

# %% [markdown]
# ## 2. Computations, and broadcasting
#
# Take a column `a` of shape `[3, 1]` and a row `b` of shape `[1, 3]`. Adding `b` to itself is
# unremarkable. Adding `a` and `b` is not: their shapes differ, and instead of complaining
# TensorFlow **broadcasts** them, stretching every axis of length 1 to match the other
# operand. Both become 3 × 3 and the result is the table `a[i] + b[j]`. The same happens with
# the elementwise product `a * b`, whereas the matrix product `tf.matmul(b, a)` multiplies
# `[1, 3]` by `[3, 1]` and gives a single number, `1·(−1) + 2·(−2) + 3·(−3) = −14`.
#
# Below, every result is computed in a TF1 session and in a TF2 `tf.function` and printed next
# to each other.

# %%
old, new = compat_v1.broadcasting_v1(), compat_v1.broadcasting_v2()
print("a =", compat_v1.A_COLUMN, " b =", compat_v1.B_ROW, "\n")
for key in old:
    same = np.array_equal(old[key], new[key])
    print(f"{key:12s} shape {np.shape(old[key])!s:7s} identical: {same}\n{np.asarray(new[key])}\n")

# %% [markdown]
# Broadcasting is a feature when you mean it (adding a bias row to every example of a batch is
# a broadcast) and a silent bug when you do not. Section 4 shows the most common accident and a
# guard against it.
#
# ## 3. Variables
#
# Trainable parameters are *variables*: tensors whose value persists and can be updated. In
# TF1, `tf.get_variable` adds a variable with an **initialiser** to the graph, but the variable
# holds nothing until you run `tf.global_variables_initializer()` in the session; forgetting
# that gives a `FailedPreconditionError`. In TF2 a `tf.Variable` is created with its value,
# ready to use.

# %%
show(compat_v1.variable_add_v1)
print("TF1:", compat_v1.variable_add_v1())
print("TF2:", compat_v1.variable_add_v2())

# %% [markdown]
# ### Scopes and names
#
# TF1 used `tf.variable_scope("layer_0")` to group the variables of each layer under a name
# prefix, and `tf.global_variables()` to list every variable of the graph. In TF2 the
# variables belong to Python objects: a `tf.Module` finds all variables among its attributes
# (`module.trainable_variables`), and `tf.name_scope` still prefixes names, which is what the
# TF2 model of this course does. Both listings read the same:

# %%
tf1_names = compat_v1.scoped_variable_names_v1()
tf2_names = sine.SineMLP().variable_names()
for old_name, new_name in zip(tf1_names, tf2_names, strict=True):
    print(f"{old_name:14s} {new_name}")

# %% [markdown]
# ## 4. Guarding shapes
#
# The classic broadcasting accident happens in a regression loss. The network outputs
# predictions of shape `[N, 1]`, but the targets were stored as a flat `[N]` vector. Then
# `predictions - targets` has shape `[N, N]`: every prediction minus *every* target. The mean
# of its squares is a perfectly finite number, training runs, and the model learns to predict
# roughly the average of all targets. Nothing crashes.
#
# A two-point example you can do by hand: predictions `[[0], [1]]`, targets `[0, 1]`. The fit
# is perfect, so the true MSE is 0. The broadcast difference is `[[0, −1], [1, 0]]` and the
# "MSE" comes out as 0.5.

# %%
predictions = tf.constant([[0.0], [1.0]])
targets = tf.constant([0.0, 1.0])
print("naive MSE, targets [N]:   ", float(shapes.naive_mse(predictions, targets)))
print("naive MSE, targets [N, 1]:", float(shapes.naive_mse(predictions, targets[:, None])))
try:
    shapes.guarded_mse(predictions, targets)
except ShapeError as err:
    print("guarded MSE:", err)

# %% [markdown]
# `shapes.assert_shape(x, [None, 1], name="...")` is the guard: `None` accepts any size, a
# number must match exactly, and a mismatch in rank or in a size produces a message that names
# the tensor and suggests the fix. The review's own tip was the same idea written as a bare
# `assert c.get_shape() == (4, 4)` after an intended broadcast.

# %%
for value, expected in (
    (np.zeros(10), [None, 1]),
    (np.zeros((10, 3)), [None, 1]),
    (np.zeros((10, 1, 1)), [None, 1]),
):
    try:
        shapes.assert_shape(value, expected, name="x")
    except ShapeError as err:
        print(err)
rng = np.random.default_rng(0)
outer = tf.constant(rng.random((4, 1))) * tf.constant(rng.random((1, 4)))
print("intended broadcast:", shapes.assert_shape(outer, [4, 4], name="outer").shape)

# %% [markdown]
# ## 5. Regression: fitting a noisy sine
#
# Now a complete, if tiny, learning problem. We take 10,000 evenly spaced inputs on
# $[-2\pi, 2\pi]$ and targets $\sin x$ plus Gaussian noise of standard deviation 0.05. The
# network is 1 → 20 → 20 → 1 with ReLU between the layers, Xavier/Glorot-uniform weights and
# zero biases. The loss is half the mean squared error, $\frac{1}{2}\,\mathrm{mean}
# ((f(x) - y)^2)$, minimised with Adam on batches of 32 points drawn with replacement.
#
# A word on the numbers: the review printed this *half* MSE. We report both. The noise alone
# has variance $0.05^2 = 0.0025$, so no model can push the plain MSE on these noisy points much
# below 0.0025.

# %% tags=["figure"]
x, y = sine.make_sine_data(n=10000, noise=0.05, seed=SineConfig().seed)  # the trainer's data
print("x", x.shape, x.dtype, "| y", y.shape, "| noise variance", float(np.var(y - np.sin(x))))
fig, ax = plt.subplots(figsize=(7, 3))
ax.scatter(x[:, 0], y[:, 0], s=0.2, c="k")
ax.set_xlabel("x")
ax.set_ylabel("y")
plt.show()

# %% [markdown]
# ### The TF1 version: one `sess.run` per step
#
# `sine_v1.Tf1SineRegression` is the review's `create_model()` plus loss, Adam and `Saver`, in
# a private graph. Its training loop is plain Python: pick 32 random rows, feed them, run the
# train op, and every 1,000 steps print the batch loss and save a checkpoint. Each step crosses
# from Python into the TensorFlow runtime and back.
#
# To compare like with like, we start it from the **same initial weights** as the TF2 model
# below and feed it the **same batches**: `replay_batch_indices` draws the row indices from a
# fresh copy of the random generator the TF2 trainer will use. We also give it the same
# optimiser settings (the TF2 trainer's default "fast" preset, explained below).

# %%
steps = fast_or(10000, 500)
chunk = fast_or(1000, 100)
config = SineConfig(steps=steps, chunk=chunk, logdir="runs", name="sine-notebook")
trainer = SineTrainer(config)
cfg = trainer.config  # with the preset filled in
init_values = [v.numpy() for v in trainer.model.params]
indices = replay_batch_indices(cfg, len(x))
print(f"{steps} steps, lr {cfg.lr} ({cfg.lr_schedule}), batches {indices.shape}")

show(sine_v1.train_v1)

# %%
decay = cfg.steps if cfg.lr_schedule == "cosine" else None
tf1_model = sine_v1.Tf1SineRegression(cfg.sizes, init_values, lr=cfg.lr, decay_steps=decay)
start = time.perf_counter()
sine_v1.train_v1(tf1_model, x, y, indices, log_every=chunk, save_prefix="runs/tf1/model.ckpt")
tf1_seconds = time.perf_counter() - start
tf1_predictions = tf1_model.predict(x)
print(f"TF1 session loop: {tf1_seconds:.1f} s, MSE {np.mean((tf1_predictions - y) ** 2):.5f}")

# %% [markdown]
# ### The TF2 version: compiled chunks of steps
#
# `SineTrainer` keeps the data on the device as two tensors and runs **1,000 steps per Python
# call**: one `tf.function`, compiled with XLA, draws the batch indices for the chunk from a
# `tf.random.Generator` and loops `for i in tf.range(n)` in the graph. Between chunks it prints
# a line like the review, logs to TensorBoard and saves a checkpoint.
#
# It trains with the "fast" preset by default: Adam with a learning rate of 0.02 that decays to
# zero along a cosine over the run. With the review's constant 0.001 (`preset="tutorial"`) the
# network is still improving after 10,000 steps and ends with a plain MSE between 0.003 and
# 0.004 depending on the seed (half MSE about 0.002, as the review printed); the fast preset
# ended between 0.0025 and 0.0028 for each of the 16 seeds we tried, close to the noise floor.

# %%
metrics = trainer.fit()
print({k: metrics[k] for k in ("final_mse", "final_loss", "train_seconds", "steps_per_s")})
print(f"TF1 session loop {tf1_seconds:.1f} s vs tfcourse {metrics['train_seconds']:.1f} s")
print(f"final MSE: TF1 {np.mean((tf1_predictions - y) ** 2):.5f}, TF2 {metrics['final_mse']:.5f}")
gap = np.abs(tf1_predictions - trainer.predict(x)).max()
print(f"largest difference between the two trained networks' predictions: {gap:.1e}")

# %% tags=["figure"]
display(Image(filename=str(trainer.run_dir / "predictions.png")))

# %% [markdown]
# The two runs start from identical weights and see identical batches, so they follow the same
# path: after a few hundred steps their predictions agree to about $10^{-5}$ (the test-suite
# checks this). Over thousands of steps the tiny rounding differences between the two
# implementations (XLA orders and fuses floating-point operations its own way) keep growing,
# as they do in any long optimisation, so the final networks differ a little while reaching
# similar errors.
#
# The time difference is all overhead. The TF1 loop pays a Python → runtime round trip and a
# `feed_dict` copy at every step; the compiled loop pays once per chunk, plus tracing and
# compiling once at the start, which is most of its total time for a run this short.
# `python scripts/bench_sine.py` measures this properly over the full 10,000 steps.
#
# Everything the trainer logged is in TensorBoard (`tfcourse tensorboard`), under `sine/`
# against Adam steps: `sine/losses/train` (mean half-MSE of the chunk's batches),
# `sine/charts/mse` (plain MSE over all points) and `sine/charts/steps_per_s`, and in *Images*
# the learning curves and the fit. The same numbers from Python:

# %%
for step, value in summaries.read_scalars(trainer.run_dir)["sine/charts/mse"]:
    print(f"step {step:5d}: MSE over all points {value:.4f}")

# %% [markdown]
# ## 6. Saving and restoring
#
# **TF1: `tf.train.Saver`.** `saver.save(sess, path)` writes the values of all variables, and
# `saver.restore(sess, path)` loads them into a graph that has the same variable names,
# replacing the initialiser. We build a *new* graph with different random weights and restore
# the checkpoint written at the last multiple of 1,000 steps.

# %%
saved_path = tf1_model.save("runs/tf1/final.ckpt")
with sine_v1.Tf1SineRegression(cfg.sizes, seed=123) as fresh_tf1:
    print("before restore, equal:", np.array_equal(fresh_tf1.predict(x), tf1_predictions))
    fresh_tf1.restore(saved_path)
    print("after restore, equal: ", np.array_equal(fresh_tf1.predict(x), tf1_predictions))
tf1_model.close()

# %% [markdown]
# **TF2: `tf.train.Checkpoint`.** A checkpoint records variables by their *position in the
# object tree* (`model.weights[0]`, `optimizer...`) rather than by name. To restore, build a
# fresh model in Python and load the values into it. `savedmodel.load_trained_model(run_dir)`
# does exactly that from the newest checkpoint of a run:

# %%
fresh = savedmodel.load_trained_model(trainer.run_dir)
print("restored predictions identical:", np.array_equal(fresh(x).numpy(), trainer.predict(x)))

# %% [markdown]
# **TF2: SavedModel.** A checkpoint needs the code that builds the model. A SavedModel also
# stores the traced graph of the functions you export, so it can be loaded and called without
# that code (and served by TensorFlow Serving). We export a `serving_default` signature that
# accepts float32 inputs of shape `[None, 1]`.

# %%
export_dir = Path(tempfile.mkdtemp()) / "sine_savedmodel"
savedmodel.export_savedmodel(trainer.model, export_dir)
loaded = savedmodel.load_savedmodel(export_dir)
print(loaded.signatures["serving_default"].structured_input_signature)
served = savedmodel.serve(loaded, x)
print("served predictions identical:", np.array_equal(served, trainer.predict(x)))

# %% [markdown]
# ## 7. Odds and ends
#
# **Listing variables.** TF1's `tf.global_variables()` listed every variable of the graph. In
# TF2 ask the object that owns them:

# %%
for v in trainer.model.trainable_variables:
    print(f"{v.name:14s} {v.shape}")

# %% [markdown]
# **Built-in documentation.** `help(tf.reduce_mean)` prints the full docstring of any
# TensorFlow function; here are its first lines.

# %%
print("\n".join(tf.reduce_mean.__doc__.strip().splitlines()[:6]))

# %% [markdown]
# **Placing work on a device.** `with tf.device("/CPU:1"):` puts the ops created inside it on
# that device, here the second logical CPU made in section 0. A bare `tf.device` with a name
# that does not exist silently falls back to another device; `devices.run_on` checks the name
# first.

# %%
result = devices.run_on("CPU:1", lambda: tf.matmul(tf.ones([2, 3]), tf.ones([3, 2])))
print(result.device, result.numpy().tolist())
try:
    devices.split_cpu(4)  # too late: TensorFlow initialised its devices long ago
except devices.DeviceConfigError as err:
    print(err)

# %% [markdown]
# ## Try it
#
# 1. Train with `SineConfig(preset="tutorial")` for 10,000 steps and compare its half MSE with
#    the review's printout. Then try `steps=30000`: does the constant learning rate get there?
# 2. Make the targets flat, `y[:, 0]`, and compute the loss with `shapes.naive_mse` on the
#    model's predictions. What value do you get, and why is it close to `2 * np.var(y)`?
# 3. Widen the network (`SineConfig(hidden=64)`) or deepen it (`depth=3`). Does the final MSE
#    move closer to 0.0025, and what happens to the speed?
# 4. Fit a different function: change `make_sine_data` to produce `x * sin(x)` and retrain.
