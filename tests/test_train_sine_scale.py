"""Sine trainer scale-out: --strategy mirrored equals default, --precision mixed_float16, errors.

Splitting the CPU into two logical devices must happen before TensorFlow initialises, so the
training runs happen in one child process that prints its results as JSON.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import tensorflow as tf
from conftest import child_json, start_child

from tfcourse import cli
from tfcourse.errors import ConfigError
from tfcourse.review.config import SineConfig
from tfcourse.review.sine import SineMLP

STEPS = 300
RUNS = ("default-float32", "mirrored-float32", "default-mixed_float16", "mirrored-mixed_float16")

CHILD = textwrap.dedent(
    f"""
    import json, tempfile
    from tfcourse.scale.devices import split_cpu
    split_cpu(2)
    from tfcourse.errors import ConfigError
    from tfcourse.review.trainer import SineConfig, SineTrainer

    out = {{}}
    for run in {RUNS!r}:
        strategy, precision = run.split("-")
        with tempfile.TemporaryDirectory() as d:
            cfg = SineConfig(steps={STEPS}, chunk=150, n_points=2000, logdir=d, progress=False,
                             strategy=strategy, precision=precision,
                             seed=0)  # the seed the tolerances below were set with
            trainer = SineTrainer(cfg)
            m = trainer.fit()
            out[run] = {{
                "replicas": trainer.scale.replicas,
                "final_mse": m["final_mse"],
                "final_loss": m["final_loss"],
                "steps": m["steps_completed"],
                "params": [v.numpy().ravel().tolist() for v in trainer.model.params],
                "dtypes": sorted({{v.dtype.name for v in trainer.model.params}}),
                "pred": trainer.predict(trainer.x.numpy()[::50]).ravel().tolist(),
            }}
    try:
        SineTrainer(SineConfig(batch_size=33, strategy="mirrored", logdir=d, progress=False))
    except ConfigError as exc:
        out["indivisible"] = str(exc)
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def child() -> dict:
    return child_json(start_child(CHILD), timeout=300)


def test_mirrored_over_two_cpus_trains_like_the_default_strategy(child):
    one, two = child["default-float32"], child["mirrored-float32"]
    assert (one["replicas"], two["replicas"]) == (1, 2)
    assert one["steps"] == two["steps"] == STEPS
    assert one["final_mse"] < 0.2  # it learned something (the data's variance is ~0.5)
    assert two["final_mse"] == pytest.approx(one["final_mse"], rel=1e-4)
    for a, b in zip(one["params"], two["params"], strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(two["pred"], one["pred"], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("strategy", ["default", "mirrored"])
def test_mixed_float16_is_finite_and_close_to_float32(child, strategy):
    ref, mixed = child[f"{strategy}-float32"], child[f"{strategy}-mixed_float16"]
    assert mixed["dtypes"] == ["float32"]  # variables (and Adam's state) stay float32
    assert mixed["steps"] == STEPS
    assert np.isfinite(mixed["final_mse"]) and np.isfinite(mixed["final_loss"])
    assert mixed["final_mse"] == pytest.approx(ref["final_mse"], rel=0.05)
    np.testing.assert_allclose(mixed["pred"], ref["pred"], atol=0.05)
    assert mixed["pred"] != ref["pred"]  # the matmuls really ran in float16


def test_batch_not_divisible_by_the_replicas_is_a_config_error(child):
    assert child["indivisible"] == (
        "batch-size 33 does not split evenly over 2 replicas; use a multiple of 2"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            dict(strategy="ring"),
            "--strategy must be one of default, mirrored, multiworker, got 'ring'",
        ),
        (
            dict(precision="float16"),
            "--precision must be float32 or mixed_float16, got 'float16'",
        ),
    ],
)
def test_unknown_strategy_or_precision_is_a_config_error(overrides, message):
    with pytest.raises(ConfigError, match=message):
        SineConfig(**overrides).resolved()


def test_cli_lists_and_checks_the_new_flags(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "sine", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--strategy STR" in out and "default|mirrored|multiworker" in out
    assert "--precision STR" in out and "float32|mixed_float16" in out
    argv = ["train", "sine", "--precision", "half", "--logdir", str(tmp_path)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == "tfcourse: error: --precision must be float32 or mixed_float16, got 'half'"


def test_sine_mlp_compute_dtype():
    x = np.linspace(-6, 6, 50, dtype=np.float32)[:, None]
    full, half = SineMLP(seed=2), SineMLP(seed=2, compute_dtype="float16")
    out = half(x)
    assert out.dtype == tf.float32 and all(v.dtype == tf.float32 for v in half.params)
    np.testing.assert_allclose(out.numpy(), full(x).numpy(), atol=1e-2)
    with pytest.raises(ConfigError, match="compute_dtype must be float32, float16 or bfloat16"):
        SineMLP(compute_dtype="int8")
