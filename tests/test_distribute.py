"""Strategies and precision for the MLP trainer: same results on 1, 2 replicas and 2 processes.

Splitting the CPU into logical devices and starting a multi-worker cluster must happen before
TensorFlow initialises, so those cases run in child processes that print JSON.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import child_json, free_port, start_child

from tfcourse.errors import ConfigError
from tfcourse.scale import distribute as dist
from tfcourse.scale.precision import compute_dtype, wrap_optimizer

TRAIN = textwrap.dedent(
    """
    import json, sys, tempfile
    import numpy as np
    from tfcourse.mlp.trainer import MLPConfig, MLPTrainer

    def train(logdir, **options):
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (1200, 784), dtype=np.uint8)
        y = rng.integers(0, 10, 1200)
        data = ((x, y), (x[:300], y[:300]))
        options = {"hidden": 32, **options}
        config = MLPConfig(epochs=2, logdir=logdir, progress=False, **options)
        trainer = MLPTrainer(config, data=data)
        metrics = trainer.fit()
        return {"test_loss": metrics["test_loss"], "steps": metrics["steps_completed"],
                "W1": trainer.model.W1.numpy().ravel()[::97].tolist(),
                "chief": trainer.scale.chief, "run_dir": str(trainer.run_dir)}
    """
)


def test_mirrored_and_mixed_precision_match_a_single_device(tmp_path):
    """With ``jit=False`` (XLA's compile time was most of this test): test_bench_scale_quick
    trains the same four ways with jit on, the default, and checks the mirrored run's weights
    against the single-device run's (within 1e-4)."""
    code = (
        "from tfcourse.scale.devices import split_cpu\nsplit_cpu(2)\n"
        + TRAIN
        + textwrap.dedent(
            f"""
        out = {{}}
        for strategy in ("default", "mirrored"):
            out[strategy] = train({str(tmp_path)!r}, strategy=strategy, jit=False)
        out["mixed"] = train({str(tmp_path)!r}, precision="mixed_float16", jit=False)
        # a second mirrored run with other gradient shapes reuses the one strategy object
        out["mirrored_16"] = train({str(tmp_path)!r}, strategy="mirrored", hidden=16, jit=False)
        try:
            train({str(tmp_path)!r}, strategy="mirrored", batch_size=99, jit=False)
        except Exception as exc:
            out["odd_batch"] = str(exc)
        print(json.dumps(out))
        """
        )
    )
    out = child_json(start_child(code))
    default, mirrored, mixed = out["default"], out["mirrored"], out["mixed"]
    assert default["steps"] == mirrored["steps"] == 24  # 2 epochs x 1200 / 100
    np.testing.assert_allclose(mirrored["W1"], default["W1"], rtol=1e-4, atol=1e-6)
    assert mirrored["test_loss"] == pytest.approx(default["test_loss"], rel=1e-5)
    # float16 matmuls change the numbers a little, not the training
    assert np.isfinite(mixed["test_loss"])
    assert mixed["test_loss"] == pytest.approx(default["test_loss"], rel=2e-2)
    np.testing.assert_allclose(mixed["W1"], default["W1"], atol=5e-3)
    assert out["mirrored_16"]["steps"] == 24 and np.isfinite(out["mirrored_16"]["test_loss"])
    assert out["odd_batch"] == (
        "batch-size 99 does not split evenly over 2 replicas; use a multiple of 2"
    )


def test_two_process_multiworker_run_agrees_and_only_the_chief_keeps_files(tmp_path):
    workers = [f"127.0.0.1:{free_port()}" for _ in range(2)]
    code = TRAIN + f"print(json.dumps(train({str(tmp_path / 'runs')!r}, strategy='multiworker')))"
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        procs.append(start_child(code, TF_CONFIG=json.dumps(tf_config)))
    try:
        chief, other = (child_json(p) for p in procs)
    finally:
        for p in procs:
            p.kill()
    assert chief["chief"] is True and other["chief"] is False
    assert chief["steps"] == other["steps"] == 24  # each step used both workers' halves
    np.testing.assert_array_equal(chief["W1"], other["W1"])  # replicas stay identical
    run_dir = Path(chief["run_dir"])
    assert run_dir.parent == tmp_path / "runs"
    assert (run_dir / "metrics.json").is_file()
    assert not Path(other["run_dir"]).exists()  # the worker's scratch copy was removed
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [run_dir.name]


def test_unknown_names_and_missing_tf_config_are_clear(monkeypatch):
    with pytest.raises(ConfigError, match="unknown strategy 'tpu'; choose one of default"):
        dist.make_strategy("tpu")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="--strategy multiworker needs TF_CONFIG"):
        dist.make_strategy("multiworker")
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {}}')
    with pytest.raises(ConfigError, match="TF_CONFIG must be JSON like"):
        dist.tf_config()
    with pytest.raises(ConfigError, match="unknown precision 'float8'"):
        compute_dtype("float8")


def test_describe_reports_what_a_run_would_use(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    default = dist.describe("default")
    assert default["replicas"] == 1 and default["devices"][0].endswith("CPU:0")
    mirrored = dist.describe("mirrored")
    assert mirrored["strategy"] == "MirroredStrategy"
    assert mirrored["replicas"] == len(mirrored["devices"]) >= 1
    assert dist.describe("multiworker")["note"] == "TF_CONFIG is not set"
    workers = ["127.0.0.1:1111", "127.0.0.1:2222"]
    monkeypatch.setenv(
        "TF_CONFIG", json.dumps({"cluster": {"worker": workers}, "task": {"index": 1}})
    )
    info = dist.describe("multiworker")
    assert info["workers"] == workers and info["task_index"] == 1 and info["replicas"] == 2


def test_default_strategy_is_chief_and_keeps_batches_whole():
    import tensorflow as tf

    strategy = dist.make_strategy("default")
    assert dist.is_chief(strategy)
    x = tf.range(6)
    assert dist.distribute_batch(strategy, x)[0] is x
    dist.check_divisible(7, strategy, "batch-size")  # one replica: anything splits


def test_mixed_precision_wraps_the_optimizer_with_loss_scaling():
    import keras

    opt = wrap_optimizer(keras.optimizers.Adam(1e-3), "mixed_float16")
    assert isinstance(opt, keras.optimizers.LossScaleOptimizer)
    plain = keras.optimizers.Adam(1e-3)
    assert wrap_optimizer(plain, "float32") is plain
    assert compute_dtype("mixed_float16") == "float16"
