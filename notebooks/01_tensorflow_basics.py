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
# # 01 · TensorFlow basics: graphs, variables and tensors
#
# Before we build a neural network we need a feel for the two objects TensorFlow is made of:
# **tensors** (multi-dimensional arrays of numbers) and **operations** that turn tensors into new
# tensors. Wired together, operations form a **computational graph**.
#
# In this notebook you will
#
# 1. split a small formula into a graph and see why graphs help with speed,
# 2. create named `tf.Variable`s and compute the formula step by step,
# 3. compile the same Python code into a graph with `tf.function` and look at it in TensorBoard,
# 4. repeat the calculation for a whole array of inputs (and meet your first dtype error),
# 5. change variables in place with `assign`, and
# 6. move data between TensorFlow and numpy without surprises.
#
# The helper functions live in the `tfcourse` package. The first code cell installs it when it
# is missing (on Colab, say); in a clone of the repository install it once with
# `pip install -e .` from the repository root. Open `tfcourse/mlp/basics.py` next to this notebook
# whenever you want to see how a helper is written: each one is only a few lines long.

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

import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfcourse.mlp import basics
from tfcourse.run import summaries
from tfcourse.settings import fast_mode

print(f"TensorFlow {tf.__version__}, numpy {np.__version__}, FAST mode: {fast_mode()}")

# %% [markdown]
# ## 1. Thinking in graphs
#
# Take the formula
#
# $$a = (b + c)\,(c + 2).$$
#
# A computer cannot evaluate it in one go; it works through small steps. Give every
# intermediate result a name:
#
# $$d = b + c, \qquad e = c + 2, \qquad a = d \times e.$$
#
# Drawn as a picture, each step is a node and each arrow carries a value to the next step:
#
# ```
#   b ──┐
#       ├──► d = b + c ──┐
#   c ──┤                ├──► a = d × e
#       ├──► e = c + 2 ──┘
#   2 ──┘
# ```
#
# Look at `d` and `e`: neither needs the other. A program that knows this *dependency
# structure* may compute them at the same moment on two CPU cores, or on a GPU, and only has
# to wait before the final multiplication. For two additions that saves nothing, but a neural
# network is the same picture with millions of numbers per node: whole layers of matrix
# products that can be split across cores and devices. Knowing the graph up front also lets
# TensorFlow fuse small steps together, drop work whose result nobody uses, and save the model
# so that it runs without Python at all.
#
# The values travelling along the arrows are **tensors**. Here they are single numbers
# (rank-0 tensors); in a network they are arrays such as a batch of images of shape
# `[batch, 784]`.
#
# TensorFlow 2 runs operations **eagerly** by default: every line executes immediately, like
# numpy. When we want a graph we ask for one with `tf.function` (section 4).

# %% [markdown]
# ## 2. Variables, and why they have names
#
# A `tf.Variable` is a tensor whose value can change later (the weights of a network are
# variables). `basics.make_scalar_variables()` creates the three numbers of our formula. Each
# one gets a `name`; the name does not change the arithmetic, it only labels the variable in
# TensorBoard pictures and in saved checkpoints.

# %%
v = basics.make_scalar_variables()
b, c, const = v["b"], v["c"], v["const"]
const

# %% [markdown]
# Reading that line from left to right:
#
# * `'const:0'`: the variable's name. The `:0` means "output number 0 of the operation called
#   `const`"; operations may have several outputs, so TensorFlow always numbers them.
# * `shape=()`: no axes at all, i.e. a single number (a scalar).
# * `dtype=float32`: TensorFlow picked a 32-bit float because we passed the Python float `2.0`.
#   You can also choose one yourself with `tf.Variable(2, dtype=tf.float64)`.
# * `numpy=2.0`: the current value, converted to numpy for display.
#
# In TensorFlow 2 you reach a variable through the Python name that holds it (`const` here);
# there is no global registry in which you look variables up by their string name.

# %%
for key, var in v.items():
    print(f"{key:>5}: name={var.name!r:9} dtype={var.dtype.name} value={var.numpy()}")

# %% [markdown]
# ## 3. Computing `a` eagerly
#
# `basics.compute_a` performs exactly the three steps of the picture, using the explicit
# operation functions so that each step carries a name: `tf.add(b, c, name="d")`,
# `tf.add(c, const, name="e")` and `tf.multiply(d, e, name="a")`. Because we are in eager mode
# the answer is available straight away.

# %%
a = basics.compute_a(b, c, const)
print(a)
print("as a plain number:", a.numpy())

# %% [markdown]
# The result is a `tf.Tensor`, not a Python float; `.numpy()` converts it. Check the value by
# hand: $(2 + 1)(1 + 2) = 9$.
#
# Writing `tf.add` and `tf.multiply` everywhere gets tiring. Python's operators call the same
# TensorFlow operations (they just cannot be given a name), so this line is equivalent:

# %%
((b + c) * (c + const)).numpy()

# %% [markdown]
# > **Try it.** Set `c` to 3 with `c.assign(3.0)` and predict `a` *before* you call
# > `basics.compute_a(b, c, const)` again. Then put it back with `c.assign(1.0)` so the rest of
# > the notebook gives the numbers in the text.

# %% [markdown]
# ## 4. The same calculation as a graph: `tf.function`
#
# `basics.compute_a_graph` is nothing but `tf.function(basics.compute_a)`. The first time you
# call it with a new kind of input, TensorFlow runs the Python body once in a special *tracing*
# mode: instead of computing numbers, every operation is recorded as a node of a graph. That
# graph is then executed, and every later call with the same kind of input reuses it without
# running the Python code again.

# %%
print("graph result:", basics.compute_a_graph(b, c, const).numpy())

# %% [markdown]
# We can ask for the graph that belongs to a given input *signature* (shape and dtype) and list
# its operations. `tf.TensorSpec` describes an input without giving it a value:

# %%
scalar = tf.TensorSpec(shape=[], dtype=tf.float32)
concrete = basics.compute_a_graph.get_concrete_function(scalar, scalar)
for op in concrete.graph.get_operations():
    print(f"{op.name:10} {op.type}")

# %% [markdown]
# The names we chose are there: `d` and `e` are additions (`AddV2`) and `a` is a `Mul`. The
# inputs `b` and `c` became `Placeholder` nodes (slots that are filled on every call), while
# the Python number `2.0` that we left as the default for `const` was frozen into the graph as
# a constant, `e/y`. `Identity` simply hands the result back to Python.
#
# How often does TensorFlow trace? Count it: calls with the same shape and dtype reuse the
# graph, a new shape needs a new one.

# %%
fn = basics.compute_a_graph
start = fn.experimental_get_tracing_count()
fn(tf.constant(5.0), tf.constant(1.0))
fn(tf.constant(7.0), tf.constant(1.0))  # same signature: reuses the graph
print("new traces after two scalar calls:", fn.experimental_get_tracing_count() - start)
fn(tf.constant([1.0, 2.0]), tf.constant(1.0))  # shape [2]: traced again
print("new traces after a vector call:   ", fn.experimental_get_tracing_count() - start)

# %% [markdown]
# Python numbers are part of the signature *by value*, so `fn(2.0, 1.0)` and `fn(3.0, 1.0)`
# would each trace a new graph. That is why training loops feed tensors into `tf.function`s.

# %% [markdown]
# ## 5. Looking at the graph in TensorBoard
#
# TensorBoard is TensorFlow's dashboard for logs: loss curves, images, and graphs. Programs
# write *event files* into a run directory and TensorBoard draws them.
#
# `basics.write_graph_demo(logdir)` creates a fresh run directory inside `logdir`, calls
# `compute_a_graph` once while TensorFlow records every graph it executes (that is what
# `summaries.trace_graph` does with `tf.summary.trace_on` / `trace_export`) and writes the
# graph to an event file. Normally `logdir` is `runs/` next to this notebook; in FAST mode (the
# automatic tests) we use a throw-away temporary directory instead.

# %%
LOGDIR = Path(tempfile.mkdtemp(prefix="tfcourse-runs-")) if fast_mode() else Path("runs")
run_dir = basics.write_graph_demo(LOGDIR)
print("run directory:", run_dir)
print("tags written:", summaries.read_tags(run_dir)["tensors"])
print("graph present:", summaries.has_graph(run_dir))
print("nodes:", summaries.graph_op_names(run_dir))

# %% [markdown]
# To look at it, run this in a terminal from the notebook's folder:
#
# ```bash
# tfcourse tensorboard --logdir runs
# ```
#
# then open <http://localhost:6006>, choose the **Graphs** tab, and pick the run and the tag
# `graph`. (Inside Jupyter, `%load_ext tensorboard` followed by `%tensorboard --logdir runs`
# shows the same page in the notebook.) You will see the inputs `b`, `c` and `const`, a
# `ReadVariableOp` for every place where a variable's current value is read, the two additions
# `d` and `e` side by side, and `a` where their arrows meet.
#
# Event files hold more than graphs. Here we log `a` for a few values of `c` as a scalar under
# the tag `charts/a` and read the numbers straight back:

# %%
writer = summaries.create_writer(run_dir)
for step, c_value in enumerate([0.0, 1.0, 2.0, 3.0]):
    a_value = basics.compute_a(tf.constant(2.0), tf.constant(c_value))
    summaries.log_scalars(writer, step, {"charts/a": a_value})
writer.close()
summaries.read_scalars(run_dir)

# %% [markdown]
# With `b = 2` the formula is $(2 + c)(c + 2) = (c + 2)^2$, so the values are 4, 9, 16 and 25.
# In TensorBoard they appear as a curve on the **Scalars** tab.
#
# > **Try it.** In the Graphs tab, follow the arrows out of `c`. How many operations use it,
# > and which two nodes could run at the same time?

# %% [markdown]
# ## 6. A whole array of `b` values, and the dtype trap
#
# Now let `b` hold the ten numbers 0, 1, …, 9 and compute `a` for all of them at once.
# `basics.make_array_variable()` builds the variable from `np.arange(10)`:

# %%
b_arr = basics.make_array_variable(10)
b_arr

# %% [markdown]
# Notice the dtype: **integer**. `np.arange` of whole numbers makes numpy's default integer,
# which is `int64` on Linux and macOS (and on Windows since numpy 2.0; older numpy on Windows
# gave `int32`). TensorFlow keeps that dtype. Our `c`, however, is `float32`, and TensorFlow
# never mixes dtypes silently; it refuses instead:

# %%
try:
    tf.add(b_arr, c)
except tf.errors.InvalidArgumentError as err:
    print("TensorFlow says:", err.message)

# %% [markdown]
# `basics.compute_a` checks the dtypes first and raises an error that names the fix:

# %%
try:
    basics.compute_a(b_arr, c)
except Exception as err:
    print(type(err).__name__, ":", err)

# %% [markdown]
# The fix is an explicit conversion with `tf.cast(b_arr, tf.float32)`, which is what
# `basics.compute_a_array` does before calling `compute_a`. The scalar `c` is *broadcast*
# against the ten values of `b`, so `a` has shape `[10]`:

# %%
a_arr = basics.compute_a_array(b_arr, c)
a_arr

# %% [markdown]
# Each entry is $(b + 1) \times 3$: 3, 6, …, 30.

# %% [markdown]
# ## 7. Changing values in place: `assign`
#
# With a numpy array you would write `arr[1] = 10`. A variable does not support item
# assignment:

# %%
try:
    b_arr[1] = 10
except TypeError as err:
    print("TypeError:", err)

# %% [markdown]
# Instead you select the part you want to change and call `.assign(...)` on it. The variable is
# updated in place, and anything computed from it afterwards sees the new value:

# %%
b_arr[1].assign(10)
print("b:", b_arr.numpy())
print("a:", basics.compute_a_array(b_arr, c).numpy())

# %% [markdown]
# The second entry is now $(10 + 1) \times 3 = 33$. A slice can be assigned in one go, with as
# many values as the slice has elements:

# %%
b_arr[6:9].assign([10, 10, 10])
print("b:", b_arr.numpy())
print("a:", basics.compute_a_array(b_arr, c).numpy())

# %% [markdown]
# Reading a slice, on the other hand, gives you a **new tensor** holding a copy of those
# values. Changing the variable afterwards does not change the slice. Numpy behaves
# differently: its basic slices are *views* that share memory with the original array.

# %%
f = b_arr[2:5]  # a new tf.Tensor
b_arr[3].assign(100)
print("TensorFlow slice taken before the change:", f.numpy())
print("the variable now:                        ", b_arr[2:5].numpy())

arr = np.arange(10)
view = arr[2:5]  # a numpy view
arr[3] = 100
print("numpy view after the change:             ", view)

# %% [markdown]
# > **Try it.** What happens with `b_arr[0].assign(2.5)`? Read the error message, then decide
# > which dtype `b_arr` would need to accept it.

# %% [markdown]
# ## 8. TensorFlow and numpy together
#
# The two libraries pass data back and forth freely:
#
# * `tensor.numpy()` or `np.asarray(tensor)` gives a numpy array (a copy),
# * TensorFlow operations accept numpy arrays and return tensors,
# * numpy functions accept tensors and return numpy arrays.

# %%
t = tf.constant([1.0, 4.0, 9.0])
print(type(t.numpy()).__name__, t.numpy(), "|", type(np.asarray(t)).__name__)
print("tf.sqrt(numpy array) ->", tf.sqrt(np.array([1.0, 4.0, 9.0])))
print("np.sqrt(tensor)      ->", type(np.sqrt(t)).__name__, np.sqrt(t))

# %% [markdown]
# Look closely at the dtypes above: `tf.sqrt` of the numpy array returned a **float64** tensor.
# Numpy creates `float64` by default, TensorFlow `float32`, and TensorFlow keeps whatever dtype
# the data arrives with. Sooner or later the two meet:

# %%
x = np.array([0.5, 1.5, 2.5])  # float64, numpy's default
w = tf.Variable([1.0, 1.0, 1.0], name="w")  # float32, TensorFlow's default
try:
    tf.add(x, w)
except tf.errors.InvalidArgumentError as err:
    print("TensorFlow says:", err.message)

# %% [markdown]
# "expected to be a double tensor but is a float tensor" means: the first input became a
# `float64` ("double") tensor, so the second had to be `float64` as well, and it is `float32`.
#
# Confusingly, `w + x` works: the `+` operator converts the *plain numpy array* to the dtype of
# the variable. Once the array has become a tensor (`tf.constant(x)`, or the first argument of
# `tf.add`), its dtype is fixed and the error returns. Do not rely on the operator; convert
# once, on purpose, where the data enters TensorFlow:

# %%
print(tf.add(basics.as_float32(x), w))  # tf.cast(x, tf.float32)
print(tf.add(x.astype(np.float32), w))  # or convert on the numpy side

# %% [markdown]
# ## Summary
#
# * A computation is a graph of operations; independent branches such as `d` and `e` can run in
#   parallel, and a known graph can be optimised and saved.
# * `tf.Variable(value, name=...)` holds state; the name labels it in TensorBoard.
# * Eager mode computes immediately; `tf.function` traces the Python code into a graph once per
#   input signature and reuses it.
# * `summaries.trace_graph` and `tfcourse tensorboard --logdir runs` let you look at that graph.
# * Dtypes never mix silently: cast with `tf.cast` (or `astype` in numpy), and remember that
#   `np.arange` gives integers and numpy floats are `float64`.
# * Change variables with `.assign`; slicing a variable gives a new tensor, not a view.
#
# > **Try it.** Write your own `tf.function` for $a = b^2 + 3c$ with named operations, pass it to
# > `summaries.trace_graph(summaries.create_writer(LOGDIR / "mine"), your_fn, b, c)` and find
# > your operation names with `summaries.graph_op_names(LOGDIR / "mine")`.
