"""Batching: with-replacement statistics, exact epoch coverage, in-graph shuffling, tf.data."""

import numpy as np
import pytest
import tensorflow as tf

from tfcourse.data.batching import epoch_batches, get_batch, make_dataset, shuffled_batches
from tfcourse.errors import ConfigError, ShapeError

N = 1000
X = np.arange(N * 4, dtype=np.float32).reshape(N, 4)  # row i is [4i, 4i+1, 4i+2, 4i+3]
Y = np.arange(N)  # label == index, so a batch tells us which rows it drew


def test_get_batch_pairs_rows_with_their_labels():
    xb, yb = get_batch(X, Y, 32, rng=0)
    assert xb.shape == (32, 4) and yb.shape == (32,)
    np.testing.assert_array_equal(xb[:, 0], 4 * yb)


def test_get_batch_samples_with_replacement():
    # n draws from n items: expect a fraction 1 - (1 - 1/n)^n ~ 63.2 % distinct, some repeats
    rng = np.random.default_rng(1)
    _, yb = get_batch(X, Y, N, rng=rng)
    distinct = len(np.unique(yb)) / N
    assert 0.60 < distinct < 0.67
    # the generator advances: a second call draws a different batch
    _, yb2 = get_batch(X, Y, N, rng=rng)
    assert not np.array_equal(yb, yb2)


def test_get_batch_is_reproducible_from_a_seed():
    np.testing.assert_array_equal(get_batch(X, Y, 50, rng=7)[1], get_batch(X, Y, 50, rng=7)[1])


def test_epoch_covers_every_index_exactly_once_with_short_last_batch():
    batches = list(epoch_batches(X, Y, 300, rng=3))
    assert [len(b[1]) for b in batches] == [300, 300, 300, 100]
    seen = np.concatenate([yb for _, yb in batches])
    np.testing.assert_array_equal(np.sort(seen), Y)
    assert not np.array_equal(seen, Y)  # shuffled, not in order


def test_epoch_drop_last_drops_only_the_remainder():
    batches = list(epoch_batches(X, Y, 300, rng=3, drop_last=True))
    assert [len(b[1]) for b in batches] == [300, 300, 300]
    assert len(np.unique(np.concatenate([b[1] for b in batches]))) == 900


def test_shuffled_batches_in_graph_is_a_permutation_and_changes_each_call():
    gen = tf.random.Generator.from_seed(0)
    fn = tf.function(lambda: shuffled_batches(tf.constant(X), tf.constant(Y), 100, gen))
    xb, yb = fn()
    assert xb.shape == (10, 100, 4) and yb.shape == (10, 100)
    np.testing.assert_array_equal(np.sort(yb.numpy().ravel()), Y)
    np.testing.assert_array_equal(xb.numpy()[..., 0], 4 * yb.numpy())
    assert not np.array_equal(fn()[1].numpy(), yb.numpy())


def test_shuffled_batches_drops_remainder():
    gen = tf.random.Generator.from_seed(0)
    _, yb = shuffled_batches(tf.constant(X), tf.constant(Y), 300, gen)
    assert yb.shape == (3, 300)
    assert len(np.unique(yb.numpy())) == 900


def test_make_dataset_batches_and_reshuffles_each_epoch():
    ds = make_dataset(X, Y, 400, seed=0)
    first = [yb.numpy() for _, yb in ds]
    second = [yb.numpy() for _, yb in ds]
    assert [len(b) for b in first] == [400, 400, 200]
    np.testing.assert_array_equal(np.sort(np.concatenate(first)), Y)
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))


@pytest.mark.parametrize("bad", [0, -5, 2.5])
def test_bad_batch_size_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="batch_size must be a positive integer"):
        get_batch(X, Y, bad)


def test_mismatched_lengths_are_a_shape_error():
    with pytest.raises(ShapeError, match="x has 1000 samples but y has 999"):
        list(epoch_batches(X, Y[:-1], 10))
