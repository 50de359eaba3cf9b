"""Bad inputs to the library get a ShapeError/ConfigError/DataError naming the problem (item 6)."""

import gzip
import struct

import numpy as np
import pytest
import tensorflow as tf

from tfcourse.data.batching import epoch_batches, get_batch, make_dataset, shuffled_batches
from tfcourse.data.loaders import load_mnist
from tfcourse.data.preprocess import flatten_images
from tfcourse.errors import ConfigError, DataError, ShapeError
from tfcourse.value_checks import check_batch_size, check_binary, check_finite, check_labels

IDX = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def idx_bytes(arr: np.ndarray) -> bytes:
    magic = 0x803 if arr.ndim == 3 else 0x801
    return struct.pack(f">I{arr.ndim}I", magic, *arr.shape) + arr.tobytes()


def write_set(folder, n_train=3, n_test=2, images=None):
    """Four gz IDX files; ``images`` replaces the raw bytes of train-images."""
    rng = np.random.default_rng(0)
    arrays = [
        rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_train, dtype=np.uint8),
        rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_test, dtype=np.uint8),
    ]
    folder.mkdir()
    for name, arr in zip(IDX, arrays, strict=True):
        raw = images if (images is not None and name == IDX[0]) else idx_bytes(arr)
        (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
    return folder


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", r"it has 0 bytes, fewer than the 16-byte IDX header"),
        (struct.pack(">I", 0x803) + b"\x00" * 7, r"it has 11 bytes, fewer than the 16-byte"),
        (struct.pack(">4I", 0x801, 1, 28, 28), r"IDX magic number is 0x00000801, expected 0x0+803"),
        (
            struct.pack(">4I", 0x803, 2**32 - 1, 2**32 - 1, 2**16) + b"\x00" * 10,
            r"26 bytes, but its header \(4294967295, 4294967295, 65536\) needs "
            f"{(2**32 - 1) ** 2 * 2**16 + 16:,}",  # 16 header bytes + one byte per pixel
        ),
    ],
    ids=["empty", "short", "magic", "huge"],
)
def test_bad_idx_headers_are_named(tmp_path, raw, message):
    write_set(tmp_path / "idx", images=raw)
    with pytest.raises(DataError, match=message) as info:
        load_mnist(path=tmp_path / "idx", download=False)
    assert "train-images-idx3-ubyte.gz is corrupt or truncated" in str(info.value)
    assert "magic number is 0x00000803, expected 0x00000803" not in str(info.value)


@pytest.mark.parametrize(("n_train", "n_test", "split"), [(0, 2, "train"), (3, 0, "test")])
def test_empty_data_arrays_are_named(tmp_path, n_train, n_test, split):
    write_set(tmp_path / "idx", n_train=n_train, n_test=n_test)
    with pytest.raises(DataError, match=rf"x_{split} and y_{split} are empty \(0 {split} images\)"):
        load_mnist(path=tmp_path / "idx", download=False)


X = np.arange(40, dtype=np.float32).reshape(10, 4)
Y = np.arange(10)
X_NAN = X.copy()
X_NAN[7, 2] = np.nan


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: get_batch(X, Y, 0), ConfigError, r"batch_size must be a positive integer, got 0"),
        (lambda: get_batch(X, Y, True), ConfigError, r"positive integer, got True"),
        (lambda: get_batch(X[:0], Y[:0], 2), ShapeError, r"cannot batch an empty data set"),
        (
            lambda: get_batch(X_NAN, Y, 500, rng=0),
            ShapeError,
            r"get_batch: x has NaN or inf in sample 7; clean the data first",
        ),
        (
            lambda: get_batch(X, np.full(10, np.inf), 3, rng=0),
            ShapeError,
            r"get_batch: y has NaN or inf in sample \d",
        ),
        (
            lambda: list(epoch_batches(X_NAN, Y, 5, rng=0)),
            ShapeError,
            r"epoch_batches: x has NaN or inf in sample 7",
        ),
        (
            lambda: make_dataset(X_NAN, Y, 5),
            ShapeError,
            r"make_dataset: x has NaN or inf in sample 7",
        ),
        (lambda: list(epoch_batches(X, Y, -1)), ConfigError, r"got -1"),
        (
            lambda: shuffled_batches(X, Y, 11, tf.random.Generator.from_seed(0)),
            ShapeError,
            r"batch_size 11 is larger than the 10 samples",
        ),
        (
            lambda: shuffled_batches(X, Y, 0, tf.random.Generator.from_seed(0)),
            ConfigError,
            r"batch_size must be a positive integer, got 0",
        ),
        (
            lambda: shuffled_batches(X, Y[:9], 2, tf.random.Generator.from_seed(0)),
            ShapeError,
            r"x has 10 samples but y has 9",
        ),
        (
            lambda: flatten_images(np.zeros((2, 27, 28), np.uint8)),
            ShapeError,
            r"images of 28x28 pixels \(\[n, 28, 28\]\), got shape \(2, 27, 28\); crop or pad",
        ),
        (lambda: check_batch_size(2.5), ConfigError, r"got 2\.5"),
        (
            lambda: check_batch_size(8, n=5, name="--batch-size"),
            ShapeError,
            r"--batch-size 8 is larger than the 5 samples",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_batching_inputs(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_valid_edge_cases_still_work():
    assert get_batch(X, Y, 25, rng=0)[0].shape == (25, 4)  # with replacement: bs > n is fine
    assert [len(b) for _, b in epoch_batches(X, Y, 25)] == [10]  # one short batch
    xb, yb = shuffled_batches(X, Y, 10, tf.random.Generator.from_seed(0))
    assert xb.shape == (1, 10, 4) and sorted(yb.numpy()[0]) == list(range(10))
    assert flatten_images(np.zeros((0, 28, 28), np.uint8)).shape == (0, 784)
    assert flatten_images(np.zeros((2, 27, 28)), image_shape=None).shape == (2, 756)
    assert flatten_images(np.zeros((2, 8, 8)), image_shape=(8, 8)).shape == (2, 64)


def test_shuffled_batches_checks_an_unknown_n_when_the_graph_runs():
    gen = tf.random.Generator.from_seed(0)
    spec = (tf.TensorSpec([None, 4], tf.float32), tf.TensorSpec([None], tf.int64))
    fn = tf.function(lambda x, y: shuffled_batches(x, y, 4, gen), input_signature=spec)
    assert fn(X, Y)[0].shape == (2, 4, 4)
    with pytest.raises(tf.errors.InvalidArgumentError, match="batch_size 4 is larger than"):
        fn(X[:3], Y[:3])


# --- the value guards of value_checks.py, for mlp/model.py and rl/returns.py ---------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: check_finite([1.0, np.nan, 2.0], "logits"),
            r"logits has 1 non-finite value\(s\) \(NaN or inf\), the first nan at index \[1\]",
        ),
        (
            lambda: check_finite(np.array([[0.0, 1.0], [np.inf, -np.inf]]), "x"),
            r"x has 2 non-finite .* the first inf at index \[1, 0\]",
        ),
        (
            lambda: check_labels(tf.constant([0.0, 1.0]), 10),
            r"labels must be integer class ids 0\.\.9, got dtype float32; pass tf\.cast",
        ),
        (
            lambda: check_labels([3, 10, 2], 10, "y_test"),
            r"y_test: label 10 at index \[1\] is outside 0\.\.9 \(num_classes=10\)",
        ),
        (lambda: check_labels([-1], 10), r"label -1 at index \[0\] is outside"),
        (
            lambda: check_binary([0.0, 1.0, 2.0]),
            r"dones must hold only 0 \(not done\) or 1 .* "
            r"got 2\.0 at index \[2\]",
        ),
        (lambda: check_binary(np.array([[0, 1], [1, 7]]), "terminated"), r"terminated .* got 7"),
        (lambda: check_binary([0.0, np.nan]), r"got nan at index \[1\]"),
    ],
)
def test_value_guards_raise_shape_errors_eagerly(call, message):
    with pytest.raises(ShapeError, match=message):
        call()


def test_value_guards_pass_good_values_through_unchanged():
    x = tf.constant([[1.0, 2.0]])
    assert check_finite(x) is x
    assert check_finite(tf.constant([1, 2])).dtype == tf.int32  # ints cannot be NaN
    np.testing.assert_array_equal(check_labels(np.array([0, 9], np.uint8), 10).numpy(), [0, 9])
    np.testing.assert_array_equal(check_binary([0.0, 1.0, 1.0]).numpy(), [0, 1, 1])
    assert check_binary(tf.constant([True, False])).dtype == tf.bool
    assert check_batch_size(np.int64(4), n=4) == 4


@pytest.mark.parametrize(
    ("guard", "good", "bad", "message"),
    [
        (lambda t: check_finite(t, "rewards"), [1.0, 2.0], [1.0, np.nan], "rewards has NaN or inf"),
        (lambda t: check_labels(t, 10), [1, 9], [1, 10], r"labels must be in 0\.\.9"),
        (lambda t: check_labels(t, 10), [1, 9], [-3, 1], r"labels must be in 0\.\.9"),
        (lambda t: check_binary(t), [0.0, 1.0], [0.0, 2.0], "dones must hold only 0 or 1"),
    ],
)
def test_value_guards_work_inside_tf_function(guard, good, bad, message):
    dtype = tf.int32 if isinstance(good[0], int) else tf.float32
    fn = tf.function(lambda t: guard(t) * 2, input_signature=[tf.TensorSpec([None], dtype)])
    np.testing.assert_array_equal(fn(tf.constant(good, dtype)).numpy(), np.array(good) * 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        fn(tf.constant(bad, dtype))


def test_float_labels_are_refused_even_while_tracing():
    fn = tf.function(lambda t: check_labels(t, 10), input_signature=[tf.TensorSpec([None])])
    with pytest.raises(ShapeError, match="got dtype float32"):
        fn.get_concrete_function()


# --- the guards wired into the lesson functions (eager calls; compiled steps stay check-free) --


def _library_calls():
    from tfcourse.mlp import model
    from tfcourse.rl import returns

    logits = tf.zeros([2, 10])
    return [
        (lambda: model.loss_fn(logits, [1.0, 2.0]), r"labels must be integer class ids 0\.\.9"),
        (lambda: model.loss_fn(logits, [1, 10]), r"label 10 at index \[1\] is outside 0\.\.9"),
        (lambda: model.accuracy(logits, [1, 10]), r"label 10 at index \[1\] is outside 0\.\.9"),
        (lambda: model.accuracy(logits, tf.constant([0.0, 1.0])), "got dtype float32"),
        (lambda: model.loss_fn(tf.fill([2, 10], np.nan), [1, 2]), r"logits has 20 non-finite"),
        (lambda: model.MLP()(np.full([1, 784], np.nan, np.float32)), r"MLP inputs has 784 non-fin"),
        (
            lambda: returns.discounted_returns_loop([1.0, 1.0], [0, 2], 0.9, 0.0),
            r"dones must hold only 0 \(not done\) or 1 \(done\), got 2 at index \[1\]",
        ),
        (
            lambda: returns.discounted_returns([1.0, np.nan], [0, 0], 0.9, 0.0),
            r"rewards has 1 non-finite value\(s\) .* the first nan at index \[1\]",
        ),
        (
            lambda: returns.gae_advantages([1.0], [np.inf], [0], 0.0, 0.9, 0.95),
            r"values has 1 non-finite value\(s\) .* the first inf at index \[0\]",
        ),
        (
            lambda: returns.gae_advantages([1.0], [0.0], [0], np.nan, 0.9, 0.95),
            r"bootstrap_value has 1 non-finite",
        ),
    ]


@pytest.mark.parametrize("index", range(10))
def test_lesson_functions_name_bad_values(index):
    call, message = _library_calls()[index]
    with pytest.raises(ShapeError, match=message):
        call()


def test_lesson_functions_still_compute_the_same_values():
    from tfcourse.mlp import model
    from tfcourse.rl import returns

    logits = tf.constant([[2.0, 0.0], [0.0, 1.0]])
    # hand-computed: -log softmax([2, 0])[0] and -log softmax([0, 1])[1]
    expected = (np.log1p(np.exp(-2.0)) + np.log1p(np.exp(-1.0))) / 2
    assert float(model.loss_fn(logits, np.array([0, 1], np.uint8))) == pytest.approx(expected)
    assert float(model.accuracy(logits, [0, 0])) == 0.5
    # 1 + 0.5 * (1 + 0.5 * 4) = 2.5 for an unfinished episode bootstrapped with V = 4
    np.testing.assert_allclose(
        returns.discounted_returns_loop([1.0, 1.0], [0, 0], 0.5, 4.0), [2.5, 3.0]
    )
    np.testing.assert_allclose(
        returns.discounted_returns([1.0, 1.0], [False, True], 0.5, 4.0), [1.5, 1.0]
    )


def test_compiled_steps_carry_no_value_checks():
    """Inside a graph only the (static) dtype is checked: no Assert ops in the hot loop."""
    from tfcourse.mlp import model

    fn = tf.function(lambda lg, y: model.loss_fn(lg, y))
    graph = fn.get_concrete_function(
        tf.TensorSpec([None, 10]), tf.TensorSpec([None], tf.int32)
    ).graph
    kinds = {op.type for op in graph.get_operations()}
    assert not kinds & {"Assert", "CheckNumerics", "CheckNumericsV2"}, kinds


def test_a_batch_larger_than_the_training_set_is_named_in_each_interfaces_words():
    from tfcourse.mlp.config import MLPConfig
    from tfcourse.mlp.data import training_data

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(50, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=50)
    cfg = MLPConfig(batch_size=100).resolved()
    with pytest.raises(ConfigError, match="batch_size 100 exceeds the 50 training samples") as e:
        training_data(cfg, ((images, labels), (images, labels)))
    assert e.value.cli_message == (
        "--batch-size 100 exceeds the 50 training samples; use a smaller --batch-size or a "
        "larger --train-samples"
    )
