"""Tutorial 1 assignment: TensorFlow basics and an MNIST network from raw variables

In this assignment you rebuild, piece by piece, the small classifier of tutorial 1: a
784-300-10 network whose weights are plain `tf.Variable` objects, trained with
`tf.GradientTape` and a Keras optimizer. You start with a tiny computation graph, prepare
image and label arrays, draw random mini-batches, create the weights, write the forward pass,
the loss and the accuracy, and finish with one complete training step.

Work with TensorFlow and numpy directly. The `tfcourse` package already contains finished
versions of most of these functions (`tfcourse.mlp.basics`, `tfcourse.data.preprocess`,
`tfcourse.data.batching`, `tfcourse.mlp.model`); each exercise says which ones you must not
call, because calling them would skip the point of the exercise. Every function receives
everything it needs as arguments: no MNIST files are read and nothing is trained when this file
is imported.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

# BEGIN MISTAKES
from tfcourse.grading.mistakes import alternative, mistake

# END MISTAKES

EXERCISES = [
    "compute_a",
    "prepare_images",
    "one_hot",
    "get_batch",
    "init_params",
    "forward",
    "loss_fn",
    "accuracy",
    "train_step",
]

# What each exercise may not use, checked in your code by the grader: dotted names of modules,
# functions or classes (a "!" entry allows what it names again). Besides these, no exercise may
# use any part of tfcourse that this file does not import.
FORBIDDEN = {
    "get_batch": ["numpy.random", "!numpy.random.Generator", "random", "tensorflow.random"],
    "init_params": ["keras.layers", "keras.Layer", "keras.Sequential", "keras.models"],
    "forward": ["keras.layers", "keras.Layer", "keras.Sequential", "keras.models"],
    "loss_fn": ["keras.losses", "keras.metrics", "keras.ops.*crossentropy"],
    "accuracy": ["keras.metrics"],
}


def compute_a(b: Any, c: Any) -> tf.Tensor:
    """Compute ``a = (b + c) * (c + 2)`` with TensorFlow operations.

    Concept: a computation graph of three nodes, ``d = b + c``, ``e = c + 2`` and
    ``a = d * e``; ``d`` and ``e`` do not depend on each other. Also practises the dtype rule:
    TensorFlow refuses to add an integer tensor to a float one, so cast first.

    Args:
        b: a Python number, numpy array, tensor or ``tf.Variable`` of any shape and any real
            dtype (for example ``np.arange(10)``, which is ``int64``).
        c: the same kinds of values, broadcastable against ``b``.

    Returns:
        ``a`` as a ``tf.Tensor`` of dtype ``float32`` with the broadcast shape of ``b`` and
        ``c``. For ``b = 2.0, c = 1.0`` the result is ``9.0``. Gradients must flow from ``a``
        back to ``b`` and ``c`` when they are float32 variables, so stay in TensorFlow (no
        ``.numpy()``, no numpy arithmetic).

    Do not call ``tfcourse.mlp.basics.compute_a`` or ``compute_a_array``.
    """
    # BEGIN SOLUTION
    b = tf.cast(b, tf.float32)
    c = tf.cast(c, tf.float32)
    d = tf.add(b, c, name="d")
    e = tf.add(c, 2.0, name="e")
    return tf.multiply(d, e, name="a")
    # END SOLUTION


# BEGIN MISTAKES
@mistake(
    "compute_a",
    hint="TensorFlow does not convert dtypes for you: an integer tensor and a float cannot be "
    "added. Look at the dtype each input can arrive with before the first operation.",
)
def compute_a_without_cast(b: Any, c: Any) -> tf.Tensor:
    return tf.multiply(tf.add(b, c), tf.add(c, 2.0))


@mistake(
    "compute_a",
    hint="Either input can be an integer, not only the first one. Re-read which arguments "
    "may have an integer dtype.",
)
def compute_a_casts_only_b(b: Any, c: Any) -> tf.Tensor:
    b = tf.cast(b, tf.float32)
    return (b + c) * (c + 2.0)


@mistake(
    "compute_a",
    hint="Either input can be an integer, not only the second one. Re-read which arguments "
    "may have an integer dtype.",
)
def compute_a_casts_only_c(b: Any, c: Any) -> tf.Tensor:
    c = tf.cast(c, tf.float32)
    return (b + c) * (c + 2.0)


@mistake(
    "compute_a",
    hint="A cast at the end comes too late: the sums before it already mix the inputs' dtypes "
    "(or run in numpy). Cast before the first operation.",
)
def compute_a_cast_at_the_end(b: Any, c: Any) -> tf.Tensor:
    return tf.cast((b + c) * (c + 2), tf.float32)


@mistake("compute_a", hint="Check the order of operations: the formula multiplies two sums.")
def compute_a_missing_parentheses(b: Any, c: Any) -> tf.Tensor:
    b, c = tf.cast(b, tf.float32), tf.cast(c, tf.float32)
    return (b + c) * c + 2.0


@mistake(
    "compute_a",
    hint="The dtype of the result is part of the specification, whatever the inputs' dtype.",
)
def compute_a_float64(b: Any, c: Any) -> tf.Tensor:
    b, c = tf.cast(b, tf.float64), tf.cast(c, tf.float64)
    return (b + c) * (c + 2.0)


@mistake(
    "compute_a",
    hint="Gradients only flow through TensorFlow operations on the inputs themselves: a detour "
    "through numpy, or new tensors made from their values, cuts the graph, even if the values "
    "come out right.",
)
def compute_a_in_numpy(b: Any, c: Any) -> tf.Tensor:
    b, c = np.asarray(b, np.float32), np.asarray(c, np.float32)
    return tf.constant((b + c) * (c + 2.0))


@mistake(
    "compute_a",
    hint="Casting one input to the other's dtype can turn floats into integers. Choose the "
    "dtype of the computation yourself.",
)
def compute_a_casts_c_to_dtype_of_b(b: Any, c: Any) -> tf.Tensor:
    b = tf.convert_to_tensor(b)
    c = tf.cast(c, b.dtype)
    return (b + c) * (c + 2)


@mistake(
    "compute_a",
    hint="tf.constant makes a new constant out of plain values: it refuses a tensor of another "
    "dtype, and a constant made from a variable is cut off from it (no gradient).",
)
def compute_a_constant_instead_of_cast(b: Any, c: Any) -> tf.Tensor:
    b, c = tf.constant(b, tf.float32), tf.constant(c, tf.float32)
    return (b + c) * (c + 2.0)


@mistake(
    "compute_a",
    hint="Check the type of what you return: .numpy() leaves TensorFlow, and no gradient flows "
    "through a numpy array.",
)
def compute_a_returns_numpy(b: Any, c: Any) -> np.ndarray:
    b, c = tf.cast(b, tf.float32), tf.cast(c, tf.float32)
    return ((b + c) * (c + 2.0)).numpy()


@mistake(
    "compute_a",
    hint="tf.convert_to_tensor with a dtype does not change a dtype: it refuses a tensor of "
    "another one. Look for the operation that converts.",
)
def compute_a_convert_instead_of_cast(b: Any, c: Any) -> tf.Tensor:
    b, c = tf.convert_to_tensor(b, tf.float32), tf.convert_to_tensor(c, tf.float32)
    return (b + c) * (c + 2.0)


@mistake("compute_a", hint="Check which input each of the two sums uses.")
def compute_a_e_from_b(b: Any, c: Any) -> tf.Tensor:
    b, c = tf.cast(b, tf.float32), tf.cast(c, tf.float32)
    return (b + c) * (b + 2.0)


@alternative("compute_a")
def compute_a_with_operators(b: Any, c: Any) -> tf.Tensor:
    b, c = tf.cast(b, "float32"), tf.cast(c, "float32")
    return (b + c) * (c + 2)


# END MISTAKES


def prepare_images(images: np.ndarray) -> np.ndarray:
    """Scale integer pixels to ``[0, 1]`` and flatten each image into one row.

    Concept: input scaling (raw 0..255 inputs make the first training steps unstable) and the
    flattening that turns a ``28 x 28`` image into the 784 inputs of the first layer.

    Args:
        images: ``[n, h, w]`` integer pixels in ``0..255`` (MNIST: ``[n, 28, 28]`` uint8), or
            images that are already flat, ``[n, h * w]``.

    Returns:
        A numpy array of shape ``[n, h * w]`` and dtype ``float32`` holding ``pixel / 255``.
        Row ``i`` is image ``i`` read row by row (pixel ``[i, r, col]`` goes to column
        ``r * w + col``). The input array must not be modified. Watch the dtype:
        ``images / 255.0`` is ``float64``.

    Do not call ``scale_images`` or ``flatten_images`` of ``tfcourse.data.preprocess``.
    """
    # BEGIN SOLUTION
    images = np.asarray(images)
    flat = images.reshape(images.shape[0], -1)
    return flat.astype(np.float32) / np.float32(255.0)
    # END SOLUTION


# BEGIN MISTAKES
@mistake(
    "prepare_images",
    hint="Flattening is only half of it: re-read which range the pixel values should end up in.",
)
def prepare_images_not_scaled(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    return images.reshape(images.shape[0], -1).astype(np.float32)


@mistake(
    "prepare_images",
    hint="Dividing an integer array by a Python float gives numpy's default float type; check "
    "the dtype of what you return.",
)
def prepare_images_float64(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    return images.reshape(images.shape[0], -1) / 255.0


@mistake(
    "prepare_images",
    hint="Integer division rounds down: most pixels become 0. Check at which point the values "
    "stop being integers.",
)
def prepare_images_integer_division(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    return (images.reshape(images.shape[0], -1) // 255).astype(np.float32)


@mistake(
    "prepare_images",
    hint="The scale must not depend on the batch: a dark batch would be brightened. Use the "
    "fixed range of the pixel format.",
)
def prepare_images_divides_by_max(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    flat = images.reshape(images.shape[0], -1).astype(np.float32)
    return flat / flat.max()


@mistake(
    "prepare_images",
    hint="Images need not be 28 x 28: derive the row length from the input's shape.",
)
def prepare_images_hard_coded_784(images: np.ndarray) -> np.ndarray:
    return np.asarray(images).reshape(-1, 784).astype(np.float32) / np.float32(255.0)


@mistake(
    "prepare_images",
    hint="Images need not be 28 x 28: derive the row length from the input's shape.",
)
def prepare_images_n_by_784(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), 784).astype(np.float32) / np.float32(255.0)


@mistake(
    "prepare_images",
    hint="Scaling is only half of it: the first layer takes one row of inputs per image.",
)
def prepare_images_not_flattened(images: np.ndarray) -> np.ndarray:
    return np.asarray(images).astype(np.float32) / np.float32(255.0)


@mistake(
    "prepare_images",
    hint="Check the order in which the pixels of one image are laid out in its row: numpy "
    "can read an array in more than one order.",
)
def prepare_images_column_major(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    flat = images.reshape(images.shape[0], -1, order="F")
    return flat.astype(np.float32) / np.float32(255.0)


@mistake(
    "prepare_images",
    hint="Setting an array's .shape changes the caller's array too. Work on a new array.",
)
def prepare_images_reshapes_input_in_place(images: np.ndarray) -> np.ndarray:
    images.shape = (images.shape[0], -1)
    return images.astype(np.float32) / np.float32(255.0)


@mistake(
    "prepare_images",
    hint="Images may also arrive already flat, [n, h * w]: do not assume three axes when you "
    "work out the row length.",
)
def prepare_images_assumes_three_axes(images: np.ndarray) -> np.ndarray:
    n, h, w = images.shape
    return images.reshape(n, h * w).astype(np.float32) / np.float32(255.0)


@mistake(
    "prepare_images",
    hint="Images may also arrive already flat, [n, h * w], with no third axis to read: work "
    "out the row length in a way that holds for both.",
)
def prepare_images_reads_a_third_axis(images: np.ndarray) -> np.ndarray:
    n, h, w = images.shape[0], images.shape[1], images.shape[2]
    return (images.reshape(n, h * w) / 255.0).astype(np.float32)


@mistake(
    "prepare_images",
    hint="Scaling here maps the fixed pixel range 0..255 onto 0..1, the same way for every "
    "batch; the batch's own mean and spread play no part.",
)
def prepare_images_standardised(images: np.ndarray) -> np.ndarray:
    flat = np.asarray(images).reshape(len(images), -1).astype(np.float32)
    return (flat - flat.mean()) / flat.std()


@mistake(
    "prepare_images",
    hint="This step prepares numpy arrays for the rest of the pipeline; check the type of what "
    "you return.",
)
def prepare_images_returns_tensor(images: np.ndarray) -> tf.Tensor:
    x = tf.cast(images, tf.float32) / 255.0
    return tf.reshape(x, [tf.shape(x)[0], -1])


@mistake("prepare_images", hint="The brightest pixel, 255, should become exactly 1.")
def prepare_images_divides_by_256(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(256.0)


@mistake(
    "prepare_images",
    hint="Each image keeps its own row: check the shape of what you return.",
)
def prepare_images_flattens_the_batch(images: np.ndarray) -> np.ndarray:
    return np.asarray(images).reshape(-1).astype(np.float32) / np.float32(255.0)


@mistake(
    "prepare_images",
    hint="Each image keeps its own row, and the dtype matters too: check the shape and dtype "
    "of what you return.",
)
def prepare_images_ravels_in_float64(images: np.ndarray) -> np.ndarray:
    return np.ravel(images) / 255.0


@alternative("prepare_images")
def prepare_images_scaled_in_float64_then_cast(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    return (images.reshape(len(images), -1) / 255.0).astype(np.float32)


@alternative("prepare_images")
def prepare_images_row_by_row(images: np.ndarray) -> np.ndarray:
    return np.array([image.ravel() for image in images], np.float32) / np.float32(255.0)


# END MISTAKES


def one_hot(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Turn integer class ids into one-hot rows.

    Concept: the target distribution of a classifier. Label 3 of 10 classes becomes
    ``[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]``.

    Args:
        labels: ``[n]`` integer class ids in ``0..num_classes - 1`` (any integer dtype,
            MNIST labels are ``uint8``).
        num_classes: the number of classes, i.e. the length of each row.

    Returns:
        ``[n, num_classes]`` ``float32`` array (numpy array or tensor) with a single 1 per
        row, in column ``labels[i]``.

    Do not call ``tfcourse.data.preprocess.one_hot``; ``tf.one_hot`` or numpy indexing are
    both fine.
    """
    # BEGIN SOLUTION
    labels = np.asarray(labels).astype(np.int64)
    out = np.zeros((labels.shape[0], num_classes), np.float32)
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out
    # END SOLUTION


# BEGIN MISTAKES
@mistake("one_hot", hint="Class ids start at 0: check where the 1 of class 0 ends up.")
def one_hot_off_by_one(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    labels = np.asarray(labels).astype(np.int64)
    return np.eye(num_classes, dtype=np.float32)[labels - 1]


@mistake("one_hot", hint="The row length is an argument of the function; use it.")
def one_hot_ignores_num_classes(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    return np.eye(10, dtype=np.float32)[np.asarray(labels)]


@mistake(
    "one_hot",
    hint="A batch need not contain every class, so the labels alone do not tell how many "
    "classes there are.",
)
def one_hot_classes_from_labels(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    labels = np.asarray(labels).astype(np.int64)
    return np.eye(labels.max() + 1, dtype=np.float32)[labels]


@mistake("one_hot", hint="numpy's default float type is not the dtype asked for.")
def one_hot_float64(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    return np.eye(num_classes)[np.asarray(labels)]


@mistake(
    "one_hot",
    hint="Check which axis is the sample and which the class: one row per label.",
)
def one_hot_transposed(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    return np.eye(num_classes, dtype=np.float32)[:, np.asarray(labels)]


@mistake(
    "one_hot",
    hint="Indexing with one array selects whole columns (or rows); each sample needs its own "
    "(row, column) pair.",
)
def one_hot_sets_whole_columns(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    labels = np.asarray(labels)
    out = np.zeros((len(labels), num_classes), np.float32)
    out[:, labels] = 1.0
    return out


@mistake(
    "one_hot",
    hint="squeeze drops every axis of length 1, and a batch may hold a single label: check the "
    "shape of the result for one label.",
)
def one_hot_squeezed(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    return np.eye(num_classes, dtype=np.float32)[np.asarray(labels)].squeeze()


@mistake(
    "one_hot",
    hint="A comparison gives booleans; check the dtype the docstring asks for.",
)
def one_hot_boolean(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    return np.asarray(labels)[:, None] == np.arange(num_classes)


@mistake(
    "one_hot",
    hint="One-hot rows are targets for a float32 network, whatever the labels' dtype: check "
    "the dtype of the array you fill.",
)
def one_hot_dtype_of_labels(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    labels = np.asarray(labels)
    out = np.zeros((len(labels), num_classes), labels.dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


@mistake("one_hot", hint="Integer rows are not the dtype asked for; check what you return.")
def one_hot_integers(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    return np.eye(num_classes, dtype=int)[np.asarray(labels)]


@mistake("one_hot", hint="The row length is an argument of the function; use it.")
def one_hot_tf_ten_classes(labels: np.ndarray, num_classes: int = 10) -> tf.Tensor:
    return tf.one_hot(labels, 10)


@mistake("one_hot", hint="Class ids start at 0: check where the 1 of class 0 ends up.")
def one_hot_tf_off_by_one(labels: np.ndarray, num_classes: int = 10) -> tf.Tensor:
    return tf.one_hot(tf.cast(labels, tf.int32) - 1, num_classes)


@alternative("one_hot")
def one_hot_with_tensorflow(labels: np.ndarray, num_classes: int = 10) -> tf.Tensor:
    return tf.one_hot(tf.cast(labels, tf.int32), num_classes)


@alternative("one_hot")
def one_hot_with_a_loop(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    out = np.zeros((len(labels), num_classes), dtype="float32")
    for row, label in enumerate(labels):
        out[row, int(label)] = 1
    return out


# END MISTAKES


def get_batch(
    x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a random mini-batch *with replacement*.

    Concept: stochastic gradient descent looks at a small random batch per step. Random numbers
    come from a generator that the caller owns and passes in, so a run is reproducible and
    successive calls continue the same random stream.

    Args:
        x: ``[n, ...]`` inputs (for example ``[n, 784]`` float32 or ``[n, 28, 28]`` uint8).
        y: ``[n]`` labels, matching ``x`` row by row.
        batch_size: how many samples to draw; may exceed ``n`` (samples can repeat).
        rng: a ``np.random.Generator``. Draw the indices with exactly one call
            ``rng.integers(0, n, size=batch_size)`` and nothing else from ``rng``.

    Returns:
        ``(x_batch [batch_size, ...], y_batch [batch_size])`` with the dtypes of ``x`` and
        ``y``; ``y_batch[k]`` is the label of ``x_batch[k]``.

    Do not use the global ``np.random`` functions (``np.random.randint`` etc.), and do not call
    ``tfcourse.data.batching.get_batch``.
    """
    # BEGIN SOLUTION
    idx = rng.integers(0, len(y), size=batch_size)
    return x[idx], y[idx]
    # END SOLUTION


# BEGIN MISTAKES
@mistake(
    "get_batch",
    hint="The generator you are given is the only source of randomness allowed: the global "
    "numpy functions make runs irreproducible.",
)
def get_batch_global_random(
    x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    idx = np.random.randint(0, len(y), size=batch_size)  # noqa: NPY002 - the mistake
    return x[idx], y[idx]


@mistake(
    "get_batch",
    hint="Re-read whether a sample may appear twice in one batch, and which one generator call "
    "the exercise asks for.",
)
def get_batch_without_replacement(
    x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    idx = rng.choice(len(y), size=batch_size, replace=False)
    return x[idx], y[idx]


@mistake(
    "get_batch",
    hint="An input and its label must stay together: how many times do you draw indices?",
)
def get_batch_separate_draws(
    x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    return x[rng.integers(0, len(y), size=batch_size)], y[rng.integers(0, len(y), size=batch_size)]


@mistake(
    "get_batch",
    hint="A generator you create inside the function ignores the caller's: successive calls "
    "should continue the caller's stream.",
)
def get_batch_own_generator(
    x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    idx = np.random.default_rng(0).integers(0, len(y), size=batch_size)
    return x[idx], y[idx]


@mistake(
    "get_batch",
    hint="A batch is a selection of samples, not a conversion: keep the inputs as they are.",
)
def get_batch_casts_x_to_float32(
    x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    idx = rng.integers(0, len(y), size=batch_size)
    return x[idx].astype(np.float32), y[idx]


@mistake(
    "get_batch",
    hint="Check whether the upper bound of Generator.integers is included or excluded.",
)
def get_batch_excludes_last_sample(
    x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    idx = rng.integers(0, len(y) - 1, size=batch_size)
    return x[idx], y[idx]


@mistake(
    "get_batch",
    hint="The indices pick among all n samples of x, however many you draw: check the bounds "
    "you give Generator.integers.",
)
def get_batch_indices_below_batch_size(
    x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    idx = rng.integers(0, batch_size, size=batch_size)
    return x[idx], y[idx]


@mistake(
    "get_batch",
    hint="Indexing with an array of indices gives that array's shape, and more: check the "
    "shape of the indices you draw.",
)
def get_batch_index_column(
    x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    idx = rng.integers(0, len(y), size=(batch_size, 1))
    return x[idx], y[idx]


@mistake(
    "get_batch",
    hint="A permutation never repeats a sample, so it cannot fill a batch larger than the "
    "data; re-read how the samples are drawn.",
)
def get_batch_permutation(
    x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    idx = rng.permutation(len(y))[:batch_size]
    return x[idx], y[idx]


@mistake(
    "get_batch",
    hint="A random starting point still gives neighbouring samples, never a repeated one: "
    "each sample of the batch should be drawn on its own.",
)
def get_batch_contiguous_slice(
    x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    start = rng.integers(0, len(y) - batch_size)
    return x[start : start + batch_size], y[start : start + batch_size]


@mistake(
    "get_batch",
    hint="The labels must be picked with the same indices as the inputs: check what you "
    "return as y_batch.",
)
def get_batch_labels_not_indexed(
    x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    idx = rng.integers(0, len(y), size=batch_size)
    return x[idx], y


@alternative("get_batch")
def get_batch_with_take(
    x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    idx = rng.integers(len(x), size=(batch_size,))
    return np.take(x, idx, axis=0), np.take(y, idx)


# END MISTAKES


def init_params(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    """Create the four variables of a one-hidden-layer network.

    Concept: the weights are ``tf.Variable`` objects, created once and then updated in place by
    training; names make them recognisable in TensorBoard and checkpoints.

    Args:
        n_in: input width (784 for flattened MNIST images).
        n_hidden: hidden-layer width (300 in the tutorial).
        n_out: number of classes (10).
        seed: seed for the random initial values. Create one
            ``tf.random.Generator.from_seed(seed)`` and draw each variable with one call of its
            ``normal`` method (in any order), so the same seed always gives the same values.

    Returns:
        ``[W1, b1, W2, b2]``, four ``float32`` ``tf.Variable`` objects named ``"W1"``, ``"b1"``,
        ``"W2"`` and ``"b2"``: ``W1 [n_in, n_hidden]`` and ``W2 [n_hidden, n_out]`` drawn from
        a normal distribution with mean 0 and standard deviation 0.03, ``b1 [n_hidden]`` and
        ``b2 [n_out]`` from a standard normal distribution (mean 0, standard deviation 1).

    Do not use ``tfcourse.mlp.model.MLP`` or Keras layers.
    """
    # BEGIN SOLUTION
    gen = tf.random.Generator.from_seed(seed)
    W1 = tf.Variable(gen.normal([n_in, n_hidden], stddev=0.03), name="W1")
    b1 = tf.Variable(gen.normal([n_hidden]), name="b1")
    W2 = tf.Variable(gen.normal([n_hidden, n_out], stddev=0.03), name="W2")
    b2 = tf.Variable(gen.normal([n_out]), name="b2")
    return [W1, b1, W2, b2]
    # END SOLUTION


# BEGIN MISTAKES
@mistake(
    "init_params",
    hint="A generator created anew from the same seed repeats the same numbers, so two "
    "variables share their values. Think about how many generators you need.",
)
def init_params_reseeds_per_variable(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    W1 = tf.random.Generator.from_seed(seed).normal([n_in, n_hidden], stddev=0.03)
    b1 = tf.random.Generator.from_seed(seed).normal([n_hidden])
    W2 = tf.random.Generator.from_seed(seed).normal([n_hidden, n_out], stddev=0.03)
    b2 = tf.random.Generator.from_seed(seed).normal([n_out])
    return [
        tf.Variable(W1, name="W1"),
        tf.Variable(b1, name="b1"),
        tf.Variable(W2, name="W2"),
        tf.Variable(b2, name="b2"),
    ]


@mistake(
    "init_params",
    hint="Zero is a common choice for biases, but re-read which distribution this exercise "
    "asks for.",
)
def init_params_zero_biases(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    gen = tf.random.Generator.from_seed(seed)
    W1 = tf.Variable(gen.normal([n_in, n_hidden], stddev=0.03), name="W1")
    b1 = tf.Variable(tf.zeros([n_hidden]), name="b1")
    W2 = tf.Variable(gen.normal([n_hidden, n_out], stddev=0.03), name="W2")
    b2 = tf.Variable(tf.zeros([n_out]), name="b2")
    return [W1, b1, W2, b2]


@mistake(
    "init_params",
    hint="Check the spread of the weights: normal() has a default standard deviation.",
)
def init_params_unit_std_weights(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    gen = tf.random.Generator.from_seed(seed)
    W1 = tf.Variable(gen.normal([n_in, n_hidden]), name="W1")
    b1 = tf.Variable(gen.normal([n_hidden]), name="b1")
    W2 = tf.Variable(gen.normal([n_hidden, n_out]), name="W2")
    b2 = tf.Variable(gen.normal([n_out]), name="b2")
    return [W1, b1, W2, b2]


@mistake(
    "init_params",
    hint="Weights and biases have different spreads here; re-read which one is small.",
)
def init_params_small_biases(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    gen = tf.random.Generator.from_seed(seed)
    W1 = tf.Variable(gen.normal([n_in, n_hidden], stddev=0.03), name="W1")
    b1 = tf.Variable(gen.normal([n_hidden], stddev=0.03), name="b1")
    W2 = tf.Variable(gen.normal([n_hidden, n_out], stddev=0.03), name="W2")
    b2 = tf.Variable(gen.normal([n_out], stddev=0.03), name="b2")
    return [W1, b1, W2, b2]


@mistake("init_params", hint="The seed is an argument: a different seed should give other values.")
def init_params_ignores_seed(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    gen = tf.random.Generator.from_seed(0)
    W1 = tf.Variable(gen.normal([n_in, n_hidden], stddev=0.03), name="W1")
    b1 = tf.Variable(gen.normal([n_hidden]), name="b1")
    W2 = tf.Variable(gen.normal([n_hidden, n_out], stddev=0.03), name="W2")
    b2 = tf.Variable(gen.normal([n_out]), name="b2")
    return [W1, b1, W2, b2]


@mistake(
    "init_params",
    hint="Global random functions give new values on every call: the same seed should always "
    "give the same network.",
)
def init_params_unseeded(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    W1 = tf.Variable(tf.random.normal([n_in, n_hidden], stddev=0.03), name="W1")
    b1 = tf.Variable(tf.random.normal([n_hidden]), name="b1")
    W2 = tf.Variable(tf.random.normal([n_hidden, n_out], stddev=0.03), name="W2")
    b2 = tf.Variable(tf.random.normal([n_out]), name="b2")
    return [W1, b1, W2, b2]


@mistake(
    "init_params",
    hint="Check the shape of each weight matrix against the product x @ W it takes part in.",
)
def init_params_transposed_weights(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    gen = tf.random.Generator.from_seed(seed)
    W1 = tf.Variable(gen.normal([n_hidden, n_in], stddev=0.03), name="W1")
    b1 = tf.Variable(gen.normal([n_hidden]), name="b1")
    W2 = tf.Variable(gen.normal([n_out, n_hidden], stddev=0.03), name="W2")
    b2 = tf.Variable(gen.normal([n_out]), name="b2")
    return [W1, b1, W2, b2]


@mistake(
    "init_params",
    hint="Variables get a default name unless you give one; checkpoints and TensorBoard show it.",
)
def init_params_unnamed(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    gen = tf.random.Generator.from_seed(seed)
    W1 = tf.Variable(gen.normal([n_in, n_hidden], stddev=0.03))
    b1 = tf.Variable(gen.normal([n_hidden]))
    W2 = tf.Variable(gen.normal([n_hidden, n_out], stddev=0.03))
    b2 = tf.Variable(gen.normal([n_out]))
    return [W1, b1, W2, b2]


@mistake(
    "init_params",
    hint="Seeding TensorFlow's global random functions gives other numbers than the generator "
    "the docstring names, and changes the random state of all code that runs later.",
)
def init_params_global_seed(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    tf.random.set_seed(seed)
    W1 = tf.Variable(tf.random.normal([n_in, n_hidden], stddev=0.03), name="W1")
    b1 = tf.Variable(tf.random.normal([n_hidden]), name="b1")
    W2 = tf.Variable(tf.random.normal([n_hidden, n_out], stddev=0.03), name="W2")
    b2 = tf.Variable(tf.random.normal([n_out]), name="b2")
    return [W1, b1, W2, b2]


@mistake(
    "init_params",
    hint="A stateless function gives the same numbers whenever it gets the same seed, so the "
    "variables repeat each other's draws; re-read which generator to use.",
)
def init_params_stateless_same_seed(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    s = [seed, 0]
    W1 = tf.Variable(tf.random.stateless_normal([n_in, n_hidden], s, stddev=0.03), name="W1")
    b1 = tf.Variable(tf.random.stateless_normal([n_hidden], s), name="b1")
    W2 = tf.Variable(tf.random.stateless_normal([n_hidden, n_out], s, stddev=0.03), name="W2")
    b2 = tf.Variable(tf.random.stateless_normal([n_out], s), name="b2")
    return [W1, b1, W2, b2]


@mistake(
    "init_params",
    hint="Check the shape of each bias against the docstring: broadcasting hides the "
    "difference in x @ W + b, but the variable itself has the wrong shape.",
)
def init_params_bias_rows(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    gen = tf.random.Generator.from_seed(seed)
    W1 = tf.Variable(gen.normal([n_in, n_hidden], stddev=0.03), name="W1")
    b1 = tf.Variable(gen.normal([1, n_hidden]), name="b1")
    W2 = tf.Variable(gen.normal([n_hidden, n_out], stddev=0.03), name="W2")
    b2 = tf.Variable(gen.normal([1, n_out]), name="b2")
    return [W1, b1, W2, b2]


@mistake(
    "init_params",
    hint="Check the order of normal's parameters: the second one is not the standard "
    "deviation. Keyword arguments make it explicit.",
)
def init_params_stddev_as_mean(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    gen = tf.random.Generator.from_seed(seed)
    W1 = tf.Variable(gen.normal([n_in, n_hidden], 0.03), name="W1")
    b1 = tf.Variable(gen.normal([n_hidden]), name="b1")
    W2 = tf.Variable(gen.normal([n_hidden, n_out], 0.03), name="W2")
    b2 = tf.Variable(gen.normal([n_out]), name="b2")
    return [W1, b1, W2, b2]


@mistake(
    "init_params",
    hint="Names are case-sensitive: check each variable's name against the docstring.",
)
def init_params_lowercase_names(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    gen = tf.random.Generator.from_seed(seed)
    W1 = tf.Variable(gen.normal([n_in, n_hidden], stddev=0.03), name="w1")
    b1 = tf.Variable(gen.normal([n_hidden]), name="b1")
    W2 = tf.Variable(gen.normal([n_hidden, n_out], stddev=0.03), name="w2")
    b2 = tf.Variable(gen.normal([n_out]), name="b2")
    return [W1, b1, W2, b2]


@mistake(
    "init_params",
    hint="Callers unpack the list as W1, b1, W2, b2: check the order you return them in.",
)
def init_params_returns_weights_first(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    gen = tf.random.Generator.from_seed(seed)
    W1 = tf.Variable(gen.normal([n_in, n_hidden], stddev=0.03), name="W1")
    b1 = tf.Variable(gen.normal([n_hidden]), name="b1")
    W2 = tf.Variable(gen.normal([n_hidden, n_out], stddev=0.03), name="W2")
    b2 = tf.Variable(gen.normal([n_out]), name="b2")
    return [W1, W2, b1, b2]


@mistake("init_params", hint="The hidden width is an argument; 300 is only the tutorial's value.")
def init_params_hidden_width_300(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    gen = tf.random.Generator.from_seed(seed)
    W1 = tf.Variable(gen.normal([n_in, 300], stddev=0.03), name="W1")
    b1 = tf.Variable(gen.normal([300]), name="b1")
    W2 = tf.Variable(gen.normal([300, n_out], stddev=0.03), name="W2")
    b2 = tf.Variable(gen.normal([n_out]), name="b2")
    return [W1, b1, W2, b2]


@mistake(
    "init_params",
    hint="The network computes in float32; check the dtype the generator draws in.",
)
def init_params_float64(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    gen = tf.random.Generator.from_seed(seed)
    W1 = tf.Variable(gen.normal([n_in, n_hidden], stddev=0.03, dtype=tf.float64), name="W1")
    b1 = tf.Variable(gen.normal([n_hidden], dtype=tf.float64), name="b1")
    W2 = tf.Variable(gen.normal([n_hidden, n_out], stddev=0.03, dtype=tf.float64), name="W2")
    b2 = tf.Variable(gen.normal([n_out], dtype=tf.float64), name="b2")
    return [W1, b1, W2, b2]


@mistake(
    "init_params",
    hint="A truncated normal cuts off the tails, so it spreads less than the standard "
    "deviation it is given; re-read which distribution the docstring asks for.",
)
def init_params_truncated_normal(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    gen = tf.random.Generator.from_seed(seed)
    W1 = tf.Variable(gen.truncated_normal([n_in, n_hidden], stddev=0.03), name="W1")
    b1 = tf.Variable(gen.truncated_normal([n_hidden]), name="b1")
    W2 = tf.Variable(gen.truncated_normal([n_hidden, n_out], stddev=0.03), name="W2")
    b2 = tf.Variable(gen.truncated_normal([n_out]), name="b2")
    return [W1, b1, W2, b2]


@mistake(
    "init_params",
    hint="Training updates the parameters in place, which only a tf.Variable allows; check "
    "the type of each item you return.",
)
def init_params_tensors_not_variables(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Tensor]:
    gen = tf.random.Generator.from_seed(seed)
    W1 = gen.normal([n_in, n_hidden], stddev=0.03)
    b1 = gen.normal([n_hidden])
    W2 = gen.normal([n_hidden, n_out], stddev=0.03)
    b2 = gen.normal([n_out])
    return [W1, b1, W2, b2]


@alternative("init_params")
def init_params_weights_first_scaled(
    n_in: int = 784, n_hidden: int = 300, n_out: int = 10, seed: int = 0
) -> list[tf.Variable]:
    gen = tf.random.Generator.from_seed(seed)
    W1 = tf.Variable(0.03 * gen.normal((n_in, n_hidden)), name="W1")
    W2 = tf.Variable(0.03 * gen.normal((n_hidden, n_out)), name="W2")
    b1 = tf.Variable(gen.normal((n_hidden,)), name="b1")
    b2 = tf.Variable(gen.normal((n_out,)), name="b2")
    return [W1, b1, W2, b2]


# END MISTAKES


def forward(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    """Forward pass of the network: ``logits = relu(x @ W1 + b1) @ W2 + b2``.

    Concept: each layer computes ``z = x W + b``; the hidden layer applies ReLU, the output
    layer applies nothing. Its raw scores are the *logits* (the softmax is left to the loss).

    Args:
        x: ``[batch, n_in]`` inputs, or ``[batch, h, w]`` images that you flatten to
            ``[batch, h * w]`` first; any real dtype (numpy ``float64``, ``uint8``, ...),
            cast to ``float32`` before the matrix product.
        W1: ``[n_in, n_hidden]`` float32.
        b1: ``[n_hidden]`` float32.
        W2: ``[n_hidden, n_out]`` float32.
        b2: ``[n_out]`` float32.

    Returns:
        ``[batch, n_out]`` ``float32`` logits (``[batch, 10]`` for MNIST), as a tensor through
        which gradients flow to the four parameters (stay in TensorFlow).

    Do not call ``tfcourse.mlp.model.MLP`` or Keras layers.
    """
    # BEGIN SOLUTION
    x = tf.convert_to_tensor(x)
    x = tf.reshape(x, [tf.shape(x)[0], -1])
    x = tf.cast(x, tf.float32)
    hidden = tf.nn.relu(tf.matmul(x, W1) + b1)
    return tf.matmul(hidden, W2) + b2
    # END SOLUTION


# BEGIN MISTAKES
@mistake("forward", hint="Without a nonlinearity between them, two layers are one linear map.")
def forward_without_relu(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32)
    return tf.matmul(tf.matmul(x, W1) + b1, W2) + b2


@mistake(
    "forward",
    hint="Logits are raw scores and may be negative: re-read which layers have an activation.",
)
def forward_relu_on_logits(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32)
    return tf.nn.relu(tf.matmul(tf.nn.relu(tf.matmul(x, W1) + b1), W2) + b2)


@mistake(
    "forward",
    hint="The function returns logits; turning them into probabilities is the loss's job.",
)
def forward_softmax_output(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32)
    return tf.nn.softmax(tf.matmul(tf.nn.relu(tf.matmul(x, W1) + b1), W2) + b2)


@mistake(
    "forward",
    hint="The function returns logits, raw scores; turning them into (log-)probabilities is "
    "the loss's job.",
)
def forward_log_softmax_output(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32)
    return tf.nn.log_softmax(tf.matmul(tf.nn.relu(tf.matmul(x, W1) + b1), W2) + b2)


@mistake("forward", hint="Each layer computes x W + b: check that every layer adds its bias.")
def forward_without_output_bias(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32)
    return tf.matmul(tf.nn.relu(tf.matmul(x, W1) + b1), W2)


@mistake("forward", hint="Each layer computes x W + b: check that every layer adds its bias.")
def forward_without_hidden_bias(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32)
    return tf.matmul(tf.nn.relu(tf.matmul(x, W1)), W2) + b2


@mistake(
    "forward",
    hint="The activation applies to the whole pre-activation z = x W + b; check what the ReLU "
    "sees.",
)
def forward_relu_before_bias(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32)
    return tf.matmul(tf.nn.relu(tf.matmul(x, W1)) + b1, W2) + b2


@mistake("forward", hint="Check which activation function the hidden layer uses.")
def forward_sigmoid_hidden(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32)
    return tf.matmul(tf.sigmoid(tf.matmul(x, W1) + b1), W2) + b2


@mistake(
    "forward",
    hint="Gradients only flow through TensorFlow operations: a detour through numpy cuts the "
    "graph, even if the values come out right.",
)
def forward_in_numpy(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = np.asarray(x, np.float32).reshape(len(x), -1)
    W1, b1, W2, b2 = (np.asarray(v) for v in (W1, b1, W2, b2))
    return tf.constant(np.maximum(x @ W1 + b1, 0.0) @ W2 + b2)


@mistake(
    "forward",
    hint="A matrix product needs both operands in the same dtype; inputs can arrive as "
    "integers or float64.",
)
def forward_without_cast(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.reshape(x, [tf.shape(x)[0], -1])
    return tf.matmul(tf.nn.relu(tf.matmul(x, W1) + b1), W2) + b2


@mistake(
    "forward",
    hint="Scaling the inputs is prepare_images's job; forward should use the values it is given.",
)
def forward_rescales_images(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.convert_to_tensor(x)
    scale = 255.0 if x.dtype == tf.uint8 else 1.0
    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32) / scale
    return tf.matmul(tf.nn.relu(tf.matmul(x, W1) + b1), W2) + b2


@mistake(
    "forward",
    hint="Images need not be 28 x 28: derive the row length from the input, not a constant.",
)
def forward_hard_coded_784(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(tf.reshape(x, [-1, 784]), tf.float32)
    return tf.matmul(tf.nn.relu(tf.matmul(x, W1) + b1), W2) + b2


@mistake(
    "forward",
    hint="Check which activation the hidden layer uses: the one asked for lets no negative "
    "value through.",
)
def forward_leaky_relu(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32)
    return tf.matmul(tf.nn.leaky_relu(tf.matmul(x, W1) + b1), W2) + b2


@mistake(
    "forward",
    hint="Check which activation the hidden layer uses: the one asked for passes large "
    "values unchanged.",
)
def forward_relu6(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32)
    return tf.matmul(tf.nn.relu6(tf.matmul(x, W1) + b1), W2) + b2


@mistake(
    "forward",
    hint="Check which activation the hidden layer uses: the one asked for is 0 for negative "
    "inputs and the identity for positive ones.",
)
def forward_tanh_hidden(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32)
    return tf.matmul(tf.tanh(tf.matmul(x, W1) + b1), W2) + b2


@mistake(
    "forward",
    hint="Check which activation the hidden layer uses: the one asked for is exactly 0 for "
    "every negative input.",
)
def forward_elu_hidden(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32)
    return tf.matmul(tf.nn.elu(tf.matmul(x, W1) + b1), W2) + b2


@mistake(
    "forward",
    hint="Check which activation the hidden layer uses: the one asked for is exactly 0 for "
    "every negative input and has a sharp corner at 0.",
)
def forward_softplus_hidden(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32)
    return tf.matmul(tf.nn.softplus(tf.matmul(x, W1) + b1), W2) + b2


@mistake(
    "forward",
    hint="Check which activation the hidden layer uses: the one asked for is exactly 0 for "
    "every negative input and the identity for positive ones.",
)
def forward_gelu_hidden(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32)
    return tf.matmul(tf.nn.gelu(tf.matmul(x, W1) + b1), W2) + b2


@mistake(
    "forward",
    hint="Check which activation the hidden layer uses: the one asked for is exactly 0 for "
    "every negative input and the identity for positive ones.",
)
def forward_swish_hidden(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32)
    return tf.matmul(tf.nn.silu(tf.matmul(x, W1) + b1), W2) + b2


@mistake(
    "forward",
    hint="Images arrive as [batch, h, w]: a matrix product needs one row of inputs per sample.",
)
def forward_without_flatten(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(x, tf.float32)
    return tf.matmul(tf.nn.relu(tf.matmul(x, W1) + b1), W2) + b2


@mistake(
    "forward",
    hint="Scaling the inputs is prepare_images's job; forward should use the values it is given.",
)
def forward_divides_by_255(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32) / 255.0
    return tf.matmul(tf.nn.relu(tf.matmul(x, W1) + b1), W2) + b2


@mistake(
    "forward",
    hint="Images need not be 28 x 28: derive the row length from the input, not a constant.",
)
def forward_flattens_images_to_784(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(x, tf.float32)
    if len(x.shape) == 3:
        x = tf.reshape(x, [-1, 784])
    return tf.matmul(tf.nn.relu(tf.matmul(x, W1) + b1), W2) + b2


@mistake(
    "forward",
    hint="Check the order in which the pixels of an image are laid out in its row: row by "
    "row, like prepare_images.",
)
def forward_flattens_columns_first(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(x, tf.float32)
    if len(x.shape) == 3:
        x = tf.reshape(tf.transpose(x, [0, 2, 1]), [tf.shape(x)[0], -1])
    return tf.matmul(tf.nn.relu(tf.matmul(x, W1) + b1), W2) + b2


@mistake(
    "forward",
    hint="Check the type of what you return: .numpy() leaves TensorFlow, and no gradient flows "
    "through a numpy array.",
)
def forward_returns_numpy(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> np.ndarray:
    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32)
    return (tf.matmul(tf.nn.relu(tf.matmul(x, W1) + b1), W2) + b2).numpy()


@alternative("forward")
def forward_with_operators(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> tf.Tensor:
    x = tf.cast(x, tf.float32)
    x = tf.reshape(x, (x.shape[0], -1))
    return tf.maximum(x @ W1 + b1, 0.0) @ W2 + b2


# END MISTAKES


def loss_fn(logits: Any, labels: Any) -> tf.Tensor:
    """Mean softmax cross-entropy between logits and the true classes.

    Concept: softmax turns a row of logits into probabilities, and the cross-entropy of one
    sample is ``-log(probability of its true class)``; the loss of a batch is the mean. Compute
    it from the logits in a numerically stable way: logits of size 1000 must not give
    ``inf`` or ``nan`` (``tf.nn`` has functions that take logits directly).

    Args:
        logits: ``[batch, classes]`` float32 raw scores.
        labels: either ``[batch]`` integer class ids (any integer dtype, e.g. ``uint8``), or
            ``[batch, classes]`` one-hot float rows; tell them apart by their rank.

    Returns:
        A scalar (shape ``()``) ``float32`` tensor, the mean loss over the batch.

    Do not call ``tfcourse.mlp.model.loss_fn`` or any ``keras.losses`` function.
    """
    # BEGIN SOLUTION
    logits = tf.convert_to_tensor(logits, tf.float32)
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 1:
        labels = tf.one_hot(tf.cast(labels, tf.int32), tf.shape(logits)[-1])
    per_sample = tf.nn.softmax_cross_entropy_with_logits(
        labels=tf.cast(labels, tf.float32), logits=logits
    )
    return tf.reduce_mean(per_sample)
    # END SOLUTION


# BEGIN MISTAKES
@mistake(
    "loss_fn",
    hint="The loss of a batch is an average; a sum grows with the batch size and scales the "
    "gradients.",
)
def loss_fn_sum(logits: Any, labels: Any) -> tf.Tensor:
    logits = tf.convert_to_tensor(logits, tf.float32)
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 1:
        labels = tf.one_hot(tf.cast(labels, tf.int32), tf.shape(logits)[-1])
    per_sample = tf.nn.softmax_cross_entropy_with_logits(tf.cast(labels, tf.float32), logits)
    return tf.reduce_sum(per_sample)


@mistake(
    "loss_fn",
    hint="exp(1000) overflows float32. Look for a way to compute the log-probabilities that "
    "never forms exp of a large logit.",
)
def loss_fn_naive_softmax(logits: Any, labels: Any) -> tf.Tensor:
    logits = tf.convert_to_tensor(logits, tf.float32)
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 1:
        labels = tf.one_hot(tf.cast(labels, tf.int32), tf.shape(logits)[-1])
    probs = tf.exp(logits) / tf.reduce_sum(tf.exp(logits), axis=-1, keepdims=True)
    return -tf.reduce_mean(tf.reduce_sum(tf.cast(labels, tf.float32) * tf.math.log(probs), -1))


@mistake(
    "loss_fn",
    hint="The functions that take logits apply the softmax themselves; check what you pass them.",
)
def loss_fn_softmax_twice(logits: Any, labels: Any) -> tf.Tensor:
    probs = tf.nn.softmax(tf.convert_to_tensor(logits, tf.float32))
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 1:
        labels = tf.one_hot(tf.cast(labels, tf.int32), tf.shape(probs)[-1])
    per_sample = tf.nn.softmax_cross_entropy_with_logits(tf.cast(labels, tf.float32), probs)
    return tf.reduce_mean(per_sample)


@mistake(
    "loss_fn",
    hint="Labels come in two forms here; re-read the docstring on how to tell them apart.",
)
def loss_fn_class_ids_only(logits: Any, labels: Any) -> tf.Tensor:
    per_sample = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(labels, tf.int32), logits=tf.convert_to_tensor(logits, tf.float32)
    )
    return tf.reduce_mean(per_sample)


@mistake(
    "loss_fn",
    hint="Labels come in two forms here; re-read the docstring on how to tell them apart.",
)
def loss_fn_one_hot_only(logits: Any, labels: Any) -> tf.Tensor:
    per_sample = tf.nn.softmax_cross_entropy_with_logits(
        labels=tf.cast(labels, tf.float32), logits=tf.convert_to_tensor(logits, tf.float32)
    )
    return tf.reduce_mean(per_sample)


@mistake(
    "loss_fn",
    hint="The number of classes is in the logits' shape; MNIST's 10 is only one case.",
)
def loss_fn_ten_classes(logits: Any, labels: Any) -> tf.Tensor:
    logits = tf.convert_to_tensor(logits, tf.float32)
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 1:
        labels = tf.one_hot(tf.cast(labels, tf.int32), 10)
    per_sample = tf.nn.softmax_cross_entropy_with_logits(tf.cast(labels, tf.float32), logits)
    return tf.reduce_mean(per_sample)


@mistake(
    "loss_fn",
    hint="MNIST labels are uint8, which not every TensorFlow function accepts as class ids. "
    "Check the dtypes the function you call allows.",
)
def loss_fn_uncast_class_ids(logits: Any, labels: Any) -> tf.Tensor:
    logits = tf.convert_to_tensor(logits, tf.float32)
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 1:
        per_sample = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    else:
        per_sample = tf.nn.softmax_cross_entropy_with_logits(tf.cast(labels, tf.float32), logits)
    return tf.reduce_mean(per_sample)


@mistake(
    "loss_fn",
    hint="Check the axes you average over: each sample's cross-entropy is a sum over classes.",
)
def loss_fn_mean_over_classes(logits: Any, labels: Any) -> tf.Tensor:
    logits = tf.convert_to_tensor(logits, tf.float32)
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 1:
        labels = tf.one_hot(tf.cast(labels, tf.int32), tf.shape(logits)[-1])
    return -tf.reduce_mean(tf.cast(labels, tf.float32) * tf.nn.log_softmax(logits))


@mistake(
    "loss_fn",
    hint="A loss to minimise should be small when the true class is likely; check its sign.",
)
def loss_fn_wrong_sign(logits: Any, labels: Any) -> tf.Tensor:
    logits = tf.convert_to_tensor(logits, tf.float32)
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 1:
        labels = tf.one_hot(tf.cast(labels, tf.int32), tf.shape(logits)[-1])
    log_p = tf.nn.log_softmax(logits)
    return tf.reduce_mean(tf.reduce_sum(tf.cast(labels, tf.float32) * log_p, axis=-1))


@mistake(
    "loss_fn",
    hint="Gradients only flow through TensorFlow operations: a detour through numpy cuts the "
    "graph, even if the value comes out right.",
)
def loss_fn_in_numpy(logits: Any, labels: Any) -> tf.Tensor:
    logits = np.asarray(logits, np.float64)
    labels = np.asarray(labels)
    if labels.ndim == 2:
        labels = labels.argmax(axis=1)
    top = logits.max(axis=1, keepdims=True)
    log_p = logits - top - np.log(np.exp(logits - top).sum(axis=1, keepdims=True))
    return tf.constant(-np.mean(log_p[np.arange(len(labels)), labels]), tf.float32)


@mistake(
    "loss_fn",
    hint="The loss of a batch is one number, the mean over its samples: check the shape of "
    "what you return.",
)
def loss_fn_per_sample(logits: Any, labels: Any) -> tf.Tensor:
    logits = tf.convert_to_tensor(logits, tf.float32)
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 1:
        labels = tf.one_hot(tf.cast(labels, tf.int32), tf.shape(logits)[-1])
    return tf.nn.softmax_cross_entropy_with_logits(tf.cast(labels, tf.float32), logits)


@mistake(
    "loss_fn",
    hint="Check the order of the arguments of the tf.nn function you call: which one is the "
    "labels and which the logits? Keyword arguments make it explicit.",
)
def loss_fn_arguments_swapped(logits: Any, labels: Any) -> tf.Tensor:
    logits = tf.convert_to_tensor(logits, tf.float32)
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 1:
        labels = tf.one_hot(tf.cast(labels, tf.int32), tf.shape(logits)[-1])
    per_sample = tf.nn.softmax_cross_entropy_with_logits(logits, tf.cast(labels, tf.float32))
    return tf.reduce_mean(per_sample)


@mistake(
    "loss_fn",
    hint="Check the type of what you return: .numpy() leaves TensorFlow, and no gradient flows "
    "through a numpy number.",
)
def loss_fn_returns_numpy(logits: Any, labels: Any) -> np.ndarray:
    logits = tf.convert_to_tensor(logits, tf.float32)
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 1:
        labels = tf.one_hot(tf.cast(labels, tf.int32), tf.shape(logits)[-1])
    per_sample = tf.nn.softmax_cross_entropy_with_logits(tf.cast(labels, tf.float32), logits)
    return tf.reduce_mean(per_sample).numpy()


@mistake(
    "loss_fn",
    hint="A sigmoid scores each class on its own, as if several could be true at once; here "
    "exactly one class is true, and the probabilities of a row sum to 1.",
)
def loss_fn_sigmoid_cross_entropy(logits: Any, labels: Any) -> tf.Tensor:
    logits = tf.convert_to_tensor(logits, tf.float32)
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 1:
        labels = tf.one_hot(tf.cast(labels, tf.int32), tf.shape(logits)[-1])
    per_entry = tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.cast(labels, tf.float32), logits=logits
    )
    return tf.reduce_mean(per_entry)


@alternative("loss_fn")
def loss_fn_log_softmax_written_out(logits: Any, labels: Any) -> tf.Tensor:
    logits = tf.cast(logits, tf.float32)
    if len(np.shape(labels)) == 1:
        labels = tf.one_hot(tf.cast(labels, tf.int64), logits.shape[1])
    log_p = logits - tf.reduce_logsumexp(logits, axis=1, keepdims=True)
    return -tf.reduce_mean(tf.reduce_sum(tf.cast(labels, tf.float32) * log_p, axis=1))


@alternative("loss_fn")
def loss_fn_sparse_for_class_ids(logits: Any, labels: Any) -> tf.Tensor:
    logits = tf.convert_to_tensor(logits, tf.float32)
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 2:
        labels = tf.argmax(labels, axis=-1)
    per_sample = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(labels, tf.int64), logits=logits
    )
    return tf.reduce_mean(per_sample)


# END MISTAKES


def accuracy(logits: Any, labels: Any) -> tf.Tensor:
    """Fraction of samples whose largest logit sits at the true class.

    Concept: the prediction of a classifier is the arg-max of its logits (softmax does not
    change the order, so it is not needed here).

    Args:
        logits: ``[batch, classes]`` float32 raw scores.
        labels: ``[batch]`` integer class ids (any integer dtype) or ``[batch, classes]``
            one-hot rows.

    Returns:
        A scalar ``float32`` tensor in ``[0, 1]``; e.g. 3 right out of 4 gives ``0.75``.

    Do not call ``tfcourse.mlp.model.accuracy`` or ``keras.metrics``.
    """
    # BEGIN SOLUTION
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 2:
        labels = tf.argmax(labels, axis=-1)
    pred = tf.argmax(logits, axis=-1, output_type=tf.int64)
    correct = tf.equal(pred, tf.cast(labels, tf.int64))
    return tf.reduce_mean(tf.cast(correct, tf.float32))
    # END SOLUTION


# BEGIN MISTAKES
@mistake(
    "accuracy",
    hint="Check the axis of the arg-max: one prediction per sample, chosen among the classes.",
)
def accuracy_wrong_axis(logits: Any, labels: Any) -> tf.Tensor:
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 2:
        labels = tf.argmax(labels, axis=-1)
    pred = tf.argmax(logits, axis=0, output_type=tf.int64)
    return tf.reduce_mean(tf.cast(tf.equal(pred, tf.cast(labels, tf.int64)), tf.float32))


@mistake("accuracy", hint="Accuracy is a fraction of the batch, not a count.")
def accuracy_counts_correct(logits: Any, labels: Any) -> tf.Tensor:
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 2:
        labels = tf.argmax(labels, axis=-1)
    pred = tf.argmax(logits, axis=-1, output_type=tf.int64)
    return tf.reduce_sum(tf.cast(tf.equal(pred, tf.cast(labels, tf.int64)), tf.float32))


@mistake(
    "accuracy",
    hint="The mean of an integer tensor is rounded to an integer. Check the dtype you average in.",
)
def accuracy_integer_mean(logits: Any, labels: Any) -> tf.Tensor:
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 2:
        labels = tf.argmax(labels, axis=-1)
    pred = tf.argmax(logits, axis=-1, output_type=tf.int64)
    return tf.reduce_mean(tf.cast(tf.equal(pred, tf.cast(labels, tf.int64)), tf.int32))


@mistake(
    "accuracy",
    hint="Labels come in two forms here; re-read the docstring on how to tell them apart.",
)
def accuracy_class_ids_only(logits: Any, labels: Any) -> tf.Tensor:
    pred = tf.argmax(logits, axis=-1, output_type=tf.int64)
    return tf.reduce_mean(tf.cast(tf.equal(pred, tf.cast(labels, tf.int64)), tf.float32))


@mistake(
    "accuracy",
    hint="tf.equal needs both sides in the same dtype, and MNIST labels are uint8. Check what "
    "arg-max returns.",
)
def accuracy_uncast_labels(logits: Any, labels: Any) -> tf.Tensor:
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 2:
        labels = tf.argmax(labels, axis=-1)
    correct = tf.equal(tf.argmax(logits, axis=-1), labels)
    return tf.reduce_mean(tf.cast(correct, tf.float32))


@mistake(
    "accuracy",
    hint="Class ids are already the true classes; only one-hot rows need converting.",
)
def accuracy_arg_max_of_any_labels(logits: Any, labels: Any) -> tf.Tensor:
    classes = tf.argmax(labels, axis=-1)
    correct = tf.equal(tf.argmax(logits, axis=-1), classes)
    return tf.reduce_mean(tf.cast(correct, tf.float32))


@mistake(
    "accuracy",
    hint="In TensorFlow, / between two integer tensors gives float64; check the dtype of what "
    "you return.",
)
def accuracy_float64(logits: Any, labels: Any) -> tf.Tensor:
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 2:
        labels = tf.argmax(labels, axis=-1)
    correct = tf.equal(tf.argmax(logits, axis=-1), tf.cast(labels, tf.int64))
    return tf.reduce_sum(tf.cast(correct, tf.int32)) / tf.size(correct)


@mistake(
    "accuracy",
    hint="The docstring asks for a float32 tensor: a numpy or Python number is neither (and "
    "numpy computes a mean in float64).",
)
def accuracy_returns_a_number(logits: Any, labels: Any) -> float:
    labels = np.asarray(labels)
    if labels.ndim == 2:
        labels = labels.argmax(axis=1)
    return np.mean(np.asarray(logits).argmax(axis=1) == labels)


@mistake(
    "accuracy",
    hint="Integer division rounds down, so any fraction below 1 becomes 0. Check at which "
    "point the values stop being integers.",
)
def accuracy_integer_division(logits: Any, labels: Any) -> tf.Tensor:
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 2:
        labels = tf.argmax(labels, axis=-1)
    correct = tf.equal(tf.argmax(logits, axis=-1), tf.cast(labels, tf.int64))
    return tf.math.count_nonzero(correct) // tf.size(correct, out_type=tf.int64)


@mistake(
    "accuracy",
    hint="Accuracy counts the samples the network gets right; check what you average.",
)
def accuracy_error_rate(logits: Any, labels: Any) -> tf.Tensor:
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 2:
        labels = tf.argmax(labels, axis=-1)
    wrong = tf.not_equal(tf.argmax(logits, axis=-1), tf.cast(labels, tf.int64))
    return tf.reduce_mean(tf.cast(wrong, tf.float32))


@mistake("accuracy", hint="A fraction between 0 and 1 is asked for, not a percentage.")
def accuracy_in_percent(logits: Any, labels: Any) -> tf.Tensor:
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 2:
        labels = tf.argmax(labels, axis=-1)
    correct = tf.equal(tf.argmax(logits, axis=-1), tf.cast(labels, tf.int64))
    return 100.0 * tf.reduce_mean(tf.cast(correct, tf.float32))


@alternative("accuracy")
def accuracy_in_top_1(logits: Any, labels: Any) -> tf.Tensor:
    if len(np.shape(labels)) == 2:
        labels = np.argmax(labels, axis=1)
    hits = tf.math.in_top_k(tf.cast(labels, tf.int32), tf.cast(logits, tf.float32), k=1)
    return tf.reduce_mean(tf.cast(hits, tf.float32))


@alternative("accuracy")
def accuracy_softmax_then_numpy_compare(logits: Any, labels: Any) -> tf.Tensor:
    labels = np.asarray(labels)
    classes = labels.argmax(axis=1) if labels.ndim == 2 else labels.astype(np.int64)
    pred = tf.argmax(tf.nn.softmax(logits), axis=1).numpy()
    return tf.constant((pred == classes).mean(), tf.float32)


# END MISTAKES


def train_step(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    """One training step on one batch, with ``tf.GradientTape``.

    Concept: record the forward pass and the loss on a gradient tape, ask the tape for the
    gradient of the loss with respect to every parameter, and let the optimizer move each
    parameter against its gradient (``optimizer.apply_gradients``).

    Args:
        x: ``[batch, n_in]`` float32 inputs.
        labels: ``[batch]`` integer class ids or ``[batch, classes]`` one-hot rows.
        params: ``[W1, b1, W2, b2]``, the ``tf.Variable`` objects to train. Update these very
            objects in place (the optimizer does that); do not create new variables.
        optimizer: a Keras optimizer such as ``keras.optimizers.Adam()`` or
            ``keras.optimizers.SGD(0.1)``; call its ``apply_gradients`` exactly once.

    Returns:
        The loss of the batch *before* the update, a scalar ``float32`` tensor.

    Use your own ``forward`` and ``loss_fn`` from above, called by those names: the tests of
    this exercise swap in simple stand-ins for them, so a mistake there is not counted twice.
    Do not call ``tfcourse.mlp.model`` or ``tfcourse.mlp.trainer``, and do not use ``model.fit``.
    """
    # BEGIN SOLUTION
    with tf.GradientTape() as tape:
        logits = forward(x, *params)
        loss = loss_fn(logits, labels)
    grads = tape.gradient(loss, params)
    optimizer.apply_gradients(zip(grads, params, strict=True))
    return loss
    # END SOLUTION


# BEGIN MISTAKES
@mistake(
    "train_step",
    hint="The optimizer changes the variables: a loss computed after that step is not the "
    "loss of the batch the step was taken for.",
)
def train_step_returns_loss_after_update(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    with tf.GradientTape() as tape:
        loss = loss_fn(forward(x, *params), labels)
    optimizer.apply_gradients(zip(tape.gradient(loss, params), params, strict=True))
    return loss_fn(forward(x, *params), labels)


@mistake(
    "train_step",
    hint="The optimizer you are given decides how the variables move (its learning rate, its "
    "algorithm); let it apply the gradients.",
)
def train_step_manual_update(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    with tf.GradientTape() as tape:
        loss = loss_fn(forward(x, *params), labels)
    for p, g in zip(params, tape.gradient(loss, params), strict=True):
        p.assign_sub(0.01 * g)
    return loss


@mistake(
    "train_step",
    hint="apply_gradients already moves each variable against its gradient; check the sign of "
    "what you give it.",
)
def train_step_gradient_ascent(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    with tf.GradientTape() as tape:
        loss = loss_fn(forward(x, *params), labels)
    grads = tape.gradient(loss, params)
    optimizer.apply_gradients(zip([-g for g in grads], params, strict=True))
    return loss


@mistake("train_step", hint="Every parameter of the network should learn, the biases too.")
def train_step_weights_only(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    weights = [params[0], params[2]]
    with tf.GradientTape() as tape:
        loss = loss_fn(forward(x, *params), labels)
    optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights, strict=True))
    return loss


@mistake(
    "train_step",
    hint="The optimizer is an argument: the caller chooses the algorithm and its learning "
    "rate, and expects its optimizer to take the step.",
)
def train_step_own_optimizer(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    with tf.GradientTape() as tape:
        loss = loss_fn(forward(x, *params), labels)
    own = keras.optimizers.Adam()
    own.apply_gradients(zip(tape.gradient(loss, params), params, strict=True))
    return loss


@mistake(
    "train_step",
    hint="The tape only records what runs inside its with block; check where the forward pass "
    "happens.",
)
def train_step_forward_outside_tape(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    logits = forward(x, *params)
    with tf.GradientTape() as tape:
        loss = loss_fn(logits, labels)
    optimizer.apply_gradients(zip(tape.gradient(loss, params), params, strict=True))
    return loss


@mistake(
    "train_step",
    hint="Variables you create inside the function are copies: training them leaves the "
    "caller's variables as they were.",
)
def train_step_trains_copies(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    params = [tf.Variable(p) for p in params]
    with tf.GradientTape() as tape:
        loss = loss_fn(forward(x, *params), labels)
    optimizer.apply_gradients(zip(tape.gradient(loss, params), params, strict=True))
    return loss


@mistake(
    "train_step",
    hint="Training minimises the loss: check what you ask the tape to differentiate.",
)
def train_step_gradient_of_logits(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    with tf.GradientTape() as tape:
        logits = forward(x, *params)
        loss = loss_fn(logits, labels)
    optimizer.apply_gradients(zip(tape.gradient(logits, params), params, strict=True))
    return loss


@mistake(
    "train_step",
    hint="Each call of apply_gradients is one step of the optimizer (Adam counts its steps and "
    "corrects its averages by that count): one training step is one call, with every gradient.",
)
def train_step_applies_per_variable(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    with tf.GradientTape() as tape:
        loss = loss_fn(forward(x, *params), labels)
    for g, p in zip(tape.gradient(loss, params), params, strict=True):
        optimizer.apply_gradients([(g, p)])
    return loss


@mistake(
    "train_step",
    hint="The optimizer you are given decides how the variables move, not only by how much: "
    "let it apply the gradients.",
)
def train_step_manual_update_at_its_rate(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    with tf.GradientTape() as tape:
        loss = loss_fn(forward(x, *params), labels)
    for p, g in zip(params, tape.gradient(loss, params), strict=True):
        p.assign_sub(optimizer.learning_rate * g)
    return loss


@mistake(
    "train_step",
    hint="The optimizer you are given decides how the variables move (its learning rate, its "
    "algorithm); let it apply the gradients.",
)
def train_step_manual_update_0_1(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    with tf.GradientTape() as tape:
        loss = loss_fn(forward(x, *params), labels)
    for p, g in zip(params, tape.gradient(loss, params), strict=True):
        p.assign_sub(0.1 * g)
    return loss


@mistake(
    "train_step",
    hint="Check the type of what you return: the docstring asks for the loss as a tensor, "
    "and .numpy() leaves TensorFlow.",
)
def train_step_returns_numpy(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> np.ndarray:
    with tf.GradientTape() as tape:
        loss = loss_fn(forward(x, *params), labels)
    optimizer.apply_gradients(zip(tape.gradient(loss, params), params, strict=True))
    return loss.numpy()


@mistake(
    "train_step",
    hint="The optimizer you are given decides how the variables move (its learning rate, its "
    "algorithm); let it apply the gradients.",
)
def train_step_manual_update_0_001(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    with tf.GradientTape() as tape:
        loss = loss_fn(forward(x, *params), labels)
    for p, g in zip(params, tape.gradient(loss, params), strict=True):
        p.assign_sub(0.001 * g)
    return loss


@mistake(
    "train_step",
    hint="apply_gradients takes (gradient, variable) pairs, in that order; check what you zip.",
)
def train_step_pairs_swapped(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    with tf.GradientTape() as tape:
        loss = loss_fn(forward(x, *params), labels)
    optimizer.apply_gradients(zip(params, tape.gradient(loss, params), strict=True))
    return loss


@mistake(
    "train_step",
    hint="The caller needs the loss of the batch to follow training: re-read what the function "
    "returns.",
)
def train_step_returns_nothing(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> None:
    with tf.GradientTape() as tape:
        loss = loss_fn(forward(x, *params), labels)
    optimizer.apply_gradients(zip(tape.gradient(loss, params), params, strict=True))


@mistake(
    "train_step",
    hint="Check the order of loss_fn's arguments: logits first, then labels.",
)
def train_step_loss_arguments_swapped(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    with tf.GradientTape() as tape:
        loss = loss_fn(labels, forward(x, *params))
    optimizer.apply_gradients(zip(tape.gradient(loss, params), params, strict=True))
    return loss


@mistake(
    "train_step",
    hint="Check the type of what you return: the docstring asks for the loss as a tensor, and "
    "float() makes it a Python number.",
)
def train_step_returns_python_float(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> float:
    with tf.GradientTape() as tape:
        loss = loss_fn(forward(x, *params), labels)
    optimizer.apply_gradients(zip(tape.gradient(loss, params), params, strict=True))
    return float(loss)


@alternative("train_step")
@tf.function
def train_step_as_tf_function(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    with tf.GradientTape() as tape:
        loss = loss_fn(forward(x, *params), labels)
    optimizer.apply_gradients(zip(tape.gradient(loss, params), params, strict=True))
    return loss


@alternative("train_step")
def train_step_with_apply(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    with tf.GradientTape() as tape:
        loss = loss_fn(forward(x, *params), labels)
    optimizer.apply(tape.gradient(loss, params), params)
    return loss


@alternative("train_step")
def train_step_unpacked(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    W1, b1, W2, b2 = params
    with tf.GradientTape() as tape:
        loss = loss_fn(forward(x, W1, b1, W2, b2), labels)
    dW1, db1, dW2, db2 = tape.gradient(loss, [W1, b1, W2, b2])
    optimizer.apply_gradients([(dW1, W1), (db1, b1), (dW2, W2), (db2, b2)])
    return loss


@alternative("train_step")
def train_step_keyword_arguments(
    x: Any, labels: Any, params: list[tf.Variable], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    W1, b1, W2, b2 = params
    with tf.GradientTape() as tape:
        logits = forward(x=x, W1=W1, b1=b1, W2=W2, b2=b2)
        loss = loss_fn(logits=logits, labels=labels)
    optimizer.apply_gradients(list(zip(tape.gradient(loss, params), params, strict=True)))
    return loss


# END MISTAKES
