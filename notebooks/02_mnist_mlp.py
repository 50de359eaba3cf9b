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
# # 02 · A neural network from raw variables: MNIST digits
#
# We now build a real classifier with nothing but `tf.Variable`s, matrix products and one
# optimizer. The network has three layers of nodes:
#
# | layer | nodes | what it holds |
# |---|---|---|
# | input | 784 | the 28 × 28 pixels of one image, laid out in a row |
# | hidden | 300 | `relu(x @ W1 + b1)` |
# | output | 10 | `h @ W2 + b2`, one score ("logit") per digit |
#
# Plan of the notebook:
#
# 1. load MNIST and look at it;
# 2. scale, flatten and one-hot encode;
# 3. draw mini-batches (two ways, and why the difference matters);
# 4. create the weights and run the forward pass;
# 5. measure the error with softmax cross-entropy, and accuracy;
# 6. take gradient steps with `tf.GradientTape` and Adam, the slow way, by hand;
# 7. train properly with `tfcourse`'s compiled trainer and inspect the results in TensorBoard.
#
# Every function used here lives in the `tfcourse` package; open its source when you want to see
# how something is done. Set the environment variable `TFCOURSE_FAST=1` to run this notebook in a
# few seconds with fewer epochs (that is what the test-suite does).

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

import dataclasses
import inspect
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from IPython.display import Image, display

from tfcourse.data import batching, loaders, preprocess
from tfcourse.mlp.config import MLPConfig
from tfcourse.mlp.model import MLP, accuracy, loss_fn, train_step
from tfcourse.mlp.trainer import MLPTrainer
from tfcourse.run import summaries
from tfcourse.settings import fast_mode, fast_or

keras.utils.set_random_seed(1)
print("TensorFlow", tf.__version__, "| Keras", keras.__version__, "| FAST mode:", fast_mode())

# %% [markdown]
# ## 1. The data
#
# `load_mnist()` returns the same arrays as Keras's own loader, but it looks in several places
# before it tries to download anything: a `path=` you give it, then the folder named by the
# environment variable `TFCOURSE_DATA` (the course ships a verified copy), then Keras's cache in
# `~/.keras/datasets`, and only then the internet. If all of them fail, the error message lists
# every place it tried and what to do.

# %%
(x_train, y_train), (x_test, y_test) = loaders.load_mnist()
print("train:", x_train.shape, x_train.dtype, "| test:", x_test.shape, y_test.dtype)
print("pixel range:", x_train.min(), "to", x_train.max())
print("images per digit in the training set:", np.bincount(y_train))

# %% tags=["figure"]
fig, axes = plt.subplots(1, 8, figsize=(10, 1.8))
for ax, image, label in zip(axes, x_train, y_train, strict=False):
    ax.imshow(image, cmap="gray_r")
    ax.set_title(f"label {label}")
    ax.axis("off")
plt.show()

# %% [markdown]
# ## 2. Getting the numbers into shape
#
# Three small transformations make the raw arrays fit the network:
#
# * **scale** the pixels from integers 0–255 to floats 0–1. Large raw inputs give large
#   pre-activations and large gradients at the start of training; inputs of order one keep the
#   first steps tame;
# * **flatten** each 28 × 28 image into a row of 784 numbers, because our first layer is a
#   matrix product with a `[784, 300]` weight matrix;
# * **one-hot** encode the labels: digit 3 becomes `[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]`, a target
#   *distribution* that we can compare with the network's predicted distribution.

# %%
x_train_flat = preprocess.scale_images(preprocess.flatten_images(x_train))
x_test_flat = preprocess.scale_images(preprocess.flatten_images(x_test))
print(x_train_flat.shape, x_train_flat.dtype, float(x_train_flat.max()))
print("labels", y_train[:3], "->\n", preprocess.one_hot(y_train[:3]))

# %% [markdown]
# ## 3. Mini-batches
#
# A gradient step uses a small random *batch* of examples (100 here) instead of all 60,000:
# the gradient is noisier but 600 times cheaper to compute, and the noise even helps.
#
# The classic quick way picks 100 random indices *with replacement*
# (`batching.get_batch`). Do that 600 times and call it an "epoch"... but it is not quite one:
# some images are drawn twice and roughly a third never. The alternative
# (`batching.epoch_batches`) shuffles once and walks through the shuffled order, so each image
# is used exactly once per epoch. Let us count.

# %%
rng = np.random.default_rng(0)
seen_replacement = np.concatenate(
    [batching.get_batch(x_train_flat, np.arange(60000), 100, rng)[1] for _ in range(600)]
)
seen_epoch = np.concatenate(
    [yb for _, yb in batching.epoch_batches(x_train_flat, np.arange(60000), 100, rng)]
)
print(f"with replacement: {len(np.unique(seen_replacement)) / 60000:.1%} of images seen")
print(f"shuffled epoch:   {len(np.unique(seen_epoch)) / 60000:.1%} of images seen")
print(f"theory for sampling with replacement: 1 - 1/e = {1 - np.exp(-1):.1%}")

# %% [markdown]
# ## 4. Weights and the forward pass
#
# `MLP` (in `tfcourse/mlp/model.py`) is a `tf.Module` that creates its four variables **once**, in
# its constructor. With the tutorial's initialisation (`init="normal"`) the weights are drawn from a
# normal distribution with standard deviation 0.03 and the biases from a standard normal. The
# forward pass is two matrix products with a ReLU in between; the output has no softmax: these
# raw scores are called *logits*.

# %%
model = MLP(sizes=(784, 300, 10), init="normal", seed=1)
for v in model.params:
    print(f"{v.name:10s} shape={tuple(v.shape)!s:11s} std={np.std(v.numpy()):.3f}")

logits = model(x_test_flat[:5])
print("logits of the first test image:", np.round(logits[0].numpy(), 2))
print("predicted digits:", tf.argmax(logits, axis=1).numpy(), "| true:", y_test[:5])

# %% [markdown]
# ## 5. How wrong are we? Softmax cross-entropy and accuracy
#
# Softmax turns ten logits into ten positive numbers that sum to one. Cross-entropy then scores
# the probability the network gave to the *true* class: `-log p_true`. A confident correct
# answer costs almost nothing, a confident wrong one costs a lot. `loss_fn` averages this
# over the batch and accepts the labels either as class ids or one-hot rows. It computes
# everything from the logits, which is numerically safer than taking the log of a softmax.
#
# A tiny example you can check with a calculator: logits `[2, 1, 0]` with true class 0 give
# `-log(e² / (e² + e + 1)) ≈ 0.408`, and all-zero logits with any true class give `log 3 ≈ 1.099`.
# Put both examples in one batch and `loss_fn` returns their mean: the cell below computes it
# by hand and with `loss_fn`, the labels given once as class ids and once one-hot.

# %%
toy_logits = tf.constant([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
by_hand = [-np.log(np.exp(2) / (np.exp(2) + np.e + 1)), np.log(3)]
print("loss of each example, by hand:", np.round(by_hand, 3), f"-> mean {np.mean(by_hand):.3f}")
loss_ids = float(loss_fn(toy_logits, [0, 2]))
loss_one_hot = float(loss_fn(toy_logits, tf.one_hot([0, 2], 3)))
print(f"mean loss, labels as class ids: {loss_ids:.3f} | labels one-hot: {loss_one_hot:.3f}")
test_logits = model(x_test_flat)
print(
    f"untrained network, all {len(y_test)} test images: mean loss "
    f"{float(loss_fn(test_logits, y_test)):.3f} (log 10 = {np.log(10):.3f} would be a uniform "
    f"guess), accuracy {float(accuracy(test_logits, y_test)):.3f}"
)

# %% [markdown]
# ## 6. Learning, one step at a time
#
# One training step:
#
# 1. inside a `tf.GradientTape`, run the forward pass and compute the loss: the tape records
#    every operation that touched a variable;
# 2. ask the tape for the gradient of the loss with respect to each variable;
# 3. let the optimizer (Adam) move each variable a little against its gradient.
#
# Here it is written out in plain eager Python, the way the original tutorial trains. It works,
# but every operation is dispatched from Python one at a time.

# %%
optimizer = keras.optimizers.Adam(learning_rate=1e-3)
batch_rng = np.random.default_rng(1)
n_steps = fast_or(300, 30)
start = time.perf_counter()
for _ in range(n_steps):
    xb, yb = batching.get_batch(x_train_flat, y_train, 100, batch_rng)
    with tf.GradientTape() as tape:
        loss = loss_fn(model(xb), tf.one_hot(yb, 10))
    grads = tape.gradient(loss, model.params)
    optimizer.apply_gradients(zip(grads, model.params, strict=True))
eager_rate = n_steps * 100 / (time.perf_counter() - start)
print(
    f"after {n_steps} eager steps: test accuracy "
    f"{float(accuracy(model(x_test_flat), y_test)):.3f}, {eager_rate:,.0f} samples/s"
)

# %% [markdown]
# The library keeps exactly this step, next to its loss, as `train_step` (in
# `tfcourse/mlp/model.py`): forward pass, `loss_fn` (with the label-smoothing option of the fast
# preset below), gradients, Adam.
# The compiled trainer of section 7 runs this very function; only the way it is called
# changes. It returns two losses: `loss` is what the gradients minimise (here with label
# smoothing 0.1), `cross_entropy` is the plain cross-entropy of the same logits, the one that
# can be compared with a test loss. It can also be called as it is:

# %%
print(inspect.getsource(train_step))
for _ in range(3):
    xb, yb = batching.get_batch(x_train_flat, y_train, 100, batch_rng)
    out = train_step(model, optimizer, xb, yb, label_smoothing=0.1)
    print(
        f"loss (smoothed) {float(out['loss']):.4f}, "
        f"cross-entropy {float(out['cross_entropy']):.4f}, {int(out['correct'])} of 100 right"
    )

# %% [markdown]
# ## 7. Training properly: the compiled trainer
#
# `MLPTrainer` runs the same mathematics much faster, for three reasons:
#
# * the training set is copied to the device **once**, and each epoch is shuffled inside the
#   graph (`batching.shuffled_batches`) instead of in numpy;
# * **one** `tf.function` call runs a whole epoch: the loop over 600 batches is a graph loop
#   (`for i in tf.range(...)`), so Python is not involved per batch;
# * the step inside that loop is compiled with **XLA**, which fuses the matrix products, the
#   loss, the gradients and Adam's update into a few machine-code kernels.
#
# It also writes everything a real experiment needs into a *run directory*
# `runs/<name>-seed<seed>-<time>/`: `config.json`, TensorBoard event files, a checkpoint per
# epoch, `metrics.json` and two figures.
#
# Two presets exist. `preset="tutorial"` trains exactly as the original text (normal
# initialisation, Adam at 0.001, batches drawn with replacement). The default `preset="fast"`
# changes three things that each help within the same ten epochs: He initialisation (weights
# scaled to the layer width, zero biases), a learning rate of 0.002 that decays to zero along a
# cosine, and a little *label smoothing* (the target gives 0.91 to the true class and 0.01 to each
# other, which discourages over-confident logits). On this data the tutorial recipe ends near
# 98.0 % test accuracy and the fast one near 98.6 %.

# %%
config = MLPConfig(
    dataset="mnist",
    epochs=fast_or(10, 2),
    train_samples=fast_or(0, 5000),
    logdir="runs",
    name="mlp-notebook",
)
trainer = MLPTrainer(config)
metrics = trainer.fit()
print({k: metrics[k] for k in ("train_loss", "test_loss", "test_accuracy", "samples_per_s")})
print(f"speed-up over the eager loop above: {metrics['samples_per_s'] / eager_rate:.0f}x")

# %% tags=["figure"]
display(Image(filename=str(trainer.run_dir / "learning_curves.png")))
display(Image(filename=str(trainer.run_dir / "misclassified.png")))

# %% [markdown]
# The misclassified digits are worth a look: many are ambiguous even for a person, which is a
# reminder that the last half-percent of accuracy is hard to earn.
#
# ## 8. TensorBoard
#
# Start TensorBoard in a terminal from the folder where you ran this notebook and open the
# address it prints (usually http://localhost:6006):
#
# ```bash
# tfcourse tensorboard --logdir runs
# ```
#
# Every tag of this trainer starts with `mlp/`, so other trainers' runs in the same `runs/`
# folder never share a chart with it. The *Scalars* tab shows `mlp/losses/train` and
# `mlp/losses/test` (both the plain cross-entropy, so the two curves can be compared),
# `mlp/objective/train` (the label-smoothed loss that is minimised: higher, and not comparable
# with a test loss), `mlp/charts/test_accuracy` and `mlp/charts/samples_per_s`, each headed
# "(x: epoch)" and explained by its ⓘ icon; *Images* shows the learning curves and the
# misclassified digits; *Graphs* shows the traced forward pass grouped by layer (`layer1`,
# `layer2`); *HParams* and *Text* list the settings of the run, named after its folder (not
# paths or switches such as `logdir` or `progress`). The same numbers can be read back in
# Python:

# %%
scalars = summaries.read_scalars(trainer.run_dir)
for step, value in scalars["mlp/charts/test_accuracy"]:
    print(f"epoch {step}: test accuracy {value:.4f}")

# %% [markdown]
# ## 9. Stopping and resuming
#
# A checkpoint is saved after every epoch. Training with `resume=True` finds the newest run with
# the same name, restores the weights, Adam's moment estimates, the epoch counter and the
# shuffling generator, and continues. From the command line that is
# `tfcourse train mlp --resume --epochs 12`.

# %%
more = MLPTrainer(dataclasses.replace(config, epochs=config.epochs + 1, resume=True))
print("restored", more.restored_from, "at epoch", int(more.epoch.numpy()))
print("after one more epoch:", more.fit()["test_accuracy"])

# %% [markdown]
# ## Try it
#
# 1. Train with `MLPConfig(preset="tutorial")` and compare the final accuracy and the learning
#    curves with the fast preset. Which of the three changes matters most? (Override one field at
#    a time, e.g. `MLPConfig(preset="tutorial", init="he")`.)
# 2. Switch to Fashion-MNIST with `dataset="fashion_mnist"`. How much harder is it?
# 3. Make the hidden layer 30 or 1000 nodes wide (`hidden=`). What happens to the training and
#    the test accuracy, and to the speed?
