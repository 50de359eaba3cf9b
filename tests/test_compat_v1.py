"""TF1 graph/session examples beside TF2: identical values, clear feed errors, no global switch."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfcourse.errors import ConfigError, ShapeError
from tfcourse.review import compat_v1 as v1
from tfcourse.review.config import SineConfig
from tfcourse.review.sine import SineMLP, make_sine_data
from tfcourse.review.sine_v1 import Tf1SineRegression, train_v1
from tfcourse.review.trainer import SineTrainer, replay_batch_indices

TUTORIAL_NAMES = [
    "layer_0/W0:0",
    "layer_0/b0:0",
    "layer_1/W1:0",
    "layer_1/b1:0",
    "layer_2/W2:0",
    "layer_2/b2:0",
]


def test_constant_add():
    assert v1.constant_add_v1() == 3.0


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [([1.0], [2.0], [3.0]), ([2.0], [4.0], [6.0]), ([1.0, 2.0], [2.0, 4.0], [3.0, 6.0])],
)
def test_placeholders_with_none_shape_take_any_length_like_function_arguments(a, b, expected):
    got_v1 = v1.placeholder_add_v1(a, b)
    got_v2 = v1.placeholder_add_v2(a, b)
    np.testing.assert_array_equal(got_v1, expected)
    np.testing.assert_array_equal(got_v2, got_v1)


def test_fixed_shape_placeholder_accepts_exactly_that_shape():
    np.testing.assert_array_equal(v1.placeholder_add_v1([1.0], [2.0], shape=[1]), [3.0])
    with pytest.raises(ShapeError, match=r"expects shape \[1\] .* fed shape \[2\]"):
        v1.placeholder_add_v1([1.0, 2.0], [2.0, 4.0], shape=[1])


def test_wrong_feed_shape_is_a_shape_error_with_expected_got_and_fix():
    with pytest.raises(ShapeError) as info:
        v1.placeholder_add_v1([[1.0, 2.0]], [[2.0, 4.0]])
    assert str(info.value) == (
        "placeholder 'a_placeholder:0' expects shape [None] (None = any size) but was fed "
        "shape [1, 2]; reshape the value, e.g. np.reshape(value, [-1]), or declare the "
        "placeholder as shape=[None, 2]"
    )
    assert isinstance(info.value.__cause__, ValueError)  # TF's own error is kept as the cause
    with pytest.raises(ShapeError, match=r"a: expected rank 1 with shape \[None\], got rank 2"):
        v1.placeholder_add_v2([[1.0, 2.0]], [[2.0, 4.0]])


def test_broadcasting_examples_by_hand_and_identical_in_tf1_and_tf2():
    old, new = v1.broadcasting_v1(), v1.broadcasting_v2()
    expected = {
        "b_plus_b": [[2.0, 4.0, 6.0]],
        "a_plus_b": [[0.0, 1.0, 2.0], [-1.0, 0.0, 1.0], [-2.0, -1.0, 0.0]],  # [3,1] + [1,3]
        "elementwise": [[-1.0, -2.0, -3.0], [-2.0, -4.0, -6.0], [-3.0, -6.0, -9.0]],
        "matmul": [[-14.0]],  # 1·-1 + 2·-2 + 3·-3
        "chained": [[3.0, 5.0, 7.0]],
        "mean": 2.0,
    }
    assert set(old) == set(new) == set(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(old[key], value, err_msg=key)
        np.testing.assert_array_equal(new[key], old[key], err_msg=key)
    assert old["a_plus_b"].shape == (3, 3) and old["matmul"].shape == (1, 1)


def test_variables_need_an_initializer_in_tf1_but_give_the_same_sum():
    old, new = v1.variable_add_v1(), v1.variable_add_v2()
    assert old["names"] == new["names"] == ["myvar:0"]
    np.testing.assert_array_equal(old["c"], [[3.0, 6.0, 9.0]])
    np.testing.assert_array_equal(new["c"], old["c"])


def test_variable_scope_names_match_the_tf2_module_names():
    assert v1.scoped_variable_names_v1() == TUTORIAL_NAMES
    assert SineMLP().variable_names() == TUTORIAL_NAMES


def test_saver_restores_into_a_new_graph(tmp_path):
    out = v1.saver_roundtrip_v1(tmp_path, value=[[1.5, -2.0]])
    assert out["path"] == str(tmp_path / "model.ckpt")
    assert (tmp_path / "model.ckpt.index").is_file()
    np.testing.assert_array_equal(out["restored"], [[1.5, -2.0]])


def test_no_global_switch_is_flipped():
    global_graph = tf.compat.v1.get_default_graph()
    before = len(global_graph.get_operations())
    v1.broadcasting_v1()
    v1.variable_add_v1()
    assert tf.executing_eagerly()
    assert len(global_graph.get_operations()) == before  # our ops lived in their own graphs


def test_tf1_regression_starts_from_given_values_and_lists_scoped_names():
    x, _ = make_sine_data(200)
    model = SineMLP(seed=3)
    with Tf1SineRegression(init_values=[v.numpy() for v in model.params]) as tf1:
        assert tf1.variable_names() == TUTORIAL_NAMES
        np.testing.assert_array_equal(tf1.predict(x), model(x).numpy())
        with pytest.raises(ShapeError, match=r"'input_ph:0' expects shape \[None, 1\]"):
            tf1.predict(x[:, 0])
    with pytest.raises(ConfigError, match="init_values needs 6 arrays"):
        Tf1SineRegression(init_values=[np.zeros((1, 20))])


def test_tf1_session_loop_and_tf2_trainer_train_identically(tmp_path):
    """Same init values, same batches (replayed generator), same Adam: same network."""
    for preset in ("tutorial", "fast"):
        trainer = SineTrainer(
            SineConfig(
                preset=preset,
                steps=300,
                chunk=100,
                n_points=2000,
                logdir=str(tmp_path / preset),
                progress=False,
            )
        )
        cfg, x, y = trainer.config, trainer.x.numpy(), trainer.y.numpy()
        init = [v.numpy() for v in trainer.model.params]
        indices = replay_batch_indices(cfg, len(x))
        trainer.fit()
        decay = cfg.steps if cfg.lr_schedule == "cosine" else None
        with Tf1SineRegression(cfg.sizes, init, lr=cfg.lr, decay_steps=decay) as tf1:
            logged = train_v1(tf1, x, y, indices, log_every=100, log=None)
            assert [step for step, _ in logged] == [0, 100, 200]
            same = np.abs(tf1.predict(x) - trainer.predict(x)).max()
        with Tf1SineRegression(cfg.sizes, init, lr=cfg.lr, decay_steps=decay) as tf1:
            train_v1(tf1, x, y, np.roll(indices, 1, axis=0), log=None)  # other batch order
            other = np.abs(tf1.predict(x) - trainer.predict(x)).max()
        assert same < 1e-4, (preset, same)  # float rounding only
        assert other > 100 * same, (preset, other)


def test_tf1_saver_save_restore_reproduces_predictions(tmp_path):
    x, y = make_sine_data(500)
    rng = np.random.default_rng(0)
    with Tf1SineRegression(seed=1) as tf1:
        train_v1(tf1, x, y, rng.integers(0, 500, (50, 32)), log=None)
        path = tf1.save(tmp_path / "model.ckpt")
        before = tf1.predict(x)
    with Tf1SineRegression(seed=2) as fresh:
        assert not np.array_equal(fresh.predict(x), before)
        fresh.restore(path)
        np.testing.assert_array_equal(fresh.predict(x), before)
