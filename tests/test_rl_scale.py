"""A2C scale-out: --strategy mirrored and --precision mixed_float16 for the update.

The distributed checks run in a child process: the CPU must be split into two logical devices
before TensorFlow initialises, which pytest's process has long done.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import child_json, start_child

from tfcourse.errors import ConfigError
from tfcourse.rl.config import A2CConfig

CHILD = r"""
import json, os, sys, tempfile
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
from tfcourse.scale.devices import split_cpu
split_cpu(2)
import numpy as np
from tfcourse.errors import ConfigError
from tfcourse.rl.config import A2CConfig
from tfcourse.rl.rollout import Rollout
from tfcourse.rl.trainer import A2CTrainer

T, N = 8, 4
rng = np.random.default_rng(0)
dones = (rng.random((T, N)) < 0.15).astype(np.float32)
truncations = dones * (rng.random((T, N)) < 0.5)
ROLLOUT = Rollout(
    obs=rng.normal(size=(T, N, 4)).astype(np.float32),
    actions=rng.integers(0, 2, (T, N)).astype(np.int32),
    rewards=np.ones((T, N), np.float32),
    dones=dones,
    truncations=truncations.astype(np.float32),
    final_values=(truncations * rng.normal(size=(T, N))).astype(np.float32),
    last_obs=rng.normal(size=(N, 4)).astype(np.float32),
)
CASES = {
    "clip": dict(max_grad_norm=1e-3),  # binds: the gradient norm is ~10
    "sum_normalized": dict(preset="tutorial", max_grad_norm=0.0, normalize_advantages=True),
}
case = sys.argv[1]
out = {}
with tempfile.TemporaryDirectory() as logdir:
    for strategy in ("default", "mirrored"):
        for precision in ("float32", "mixed_float16"):
            # XLA (the default) only where it is new, the mirrored per-replica gradients: the
            # compiles take most of this test's time (the default update's XLA graph is the one
            # tests/test_rl_trainer.py trains with; measured equal here too, 7e-12)
            cfg = A2CConfig(logdir=logdir, name=f"{strategy}-{precision}", progress=False,
                            n_envs=N, n_steps=T, total_steps=2 * T * N, eval_episodes=0,
                            gif=False, strategy=strategy, precision=precision,
                            jit=(strategy, precision) == ("mirrored", "float32"), **CASES[case])
            trainer = A2CTrainer(cfg)
            before = [w.copy() for w in trainer.model.get_weights()]
            if precision == "mixed_float16":  # make the first steps overflow float16
                trainer.optimizer.dynamic_scale.assign(2.0**24)
            skipped = 0  # LossScaleOptimizer skips such steps and halves the scale
            while not np.isfinite(float((losses := trainer.update(ROLLOUT))["grad_norm"])):
                skipped += 1
                if skipped == 20:
                    break
            out[f"{strategy}/{precision}"] = {
                "skipped": skipped,
                "replicas": trainer.scale.replicas,
                "losses": {k: float(v) for k, v in losses.items()},
                "before": [w.ravel().tolist() for w in before],
                "after": [w.ravel().tolist() for w in trainer.model.get_weights()],
                "global_step": int(trainer.global_step.numpy()),
                "iterations": int(trainer.optimizer.iterations.numpy()),
            }
    if case == "clip":  # a short mirrored run end to end: collect, update, checkpoint, save
        # (the same all-reduce shapes as above: TF caches collectives by key per process, and
        # every MirroredStrategy starts at the same keys)
        cfg = A2CConfig(logdir=logdir, name="run", progress=False, n_envs=N, n_steps=T,
                        total_steps=3 * T * N, eval_episodes=2, gif=False, strategy="mirrored",
                        jit=False)
        metrics = A2CTrainer(cfg).fit()
        out["run"] = {k: metrics[k] for k in ("steps_completed", "mean_return")}
        try:
            A2CTrainer(A2CConfig(logdir=logdir, n_envs=3, strategy="mirrored", progress=False))
        except ConfigError as error:
            out["n_envs_error"] = str(error)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def child() -> dict:
    """Both cases at once, one child process each: {case: {"strategy/precision": result}}."""
    cases = ("clip", "sum_normalized")  # the CASES of the child script
    procs = {case: start_child(CHILD, case, CUDA_VISIBLE_DEVICES="") for case in cases}
    return {case: child_json(proc) for case, proc in procs.items()}


def _max_diff(a: list[list[float]], b: list[list[float]]) -> float:
    return float(np.max(np.abs(np.concatenate(a) - np.concatenate(b))))


@pytest.mark.parametrize("case", ["clip", "sum_normalized"])
def test_mirrored_update_equals_the_single_device_update(child, case):
    single, mirrored = child[case]["default/float32"], child[case]["mirrored/float32"]
    assert (single["replicas"], mirrored["replicas"]) == (1, 2)
    assert _max_diff(single["before"], mirrored["before"]) == 0.0  # same seed, same init
    assert _max_diff(single["before"], single["after"]) > 1e-4  # the update moved the weights
    assert _max_diff(single["after"], mirrored["after"]) < 1e-5
    for key, value in single["losses"].items():
        assert mirrored["losses"][key] == pytest.approx(value, rel=1e-5, abs=1e-6), key
    assert single["global_step"] == mirrored["global_step"] == 32


def test_clipping_binds_on_the_global_norm(child):
    """max_grad_norm 1e-3 is far below the norm (~9), so clipping sets the step; the norm
    is that of the SUMMED gradients on two replicas too (per-replica clipping fails the test
    above: measured 4e-4 off)."""
    single, mirrored = child["clip"]["default/float32"], child["clip"]["mirrored/float32"]
    assert single["losses"]["grad_norm"] > 100 * 1e-3
    assert mirrored["losses"]["grad_norm"] == pytest.approx(single["losses"]["grad_norm"], 1e-5)


@pytest.mark.parametrize("strategy", ["default", "mirrored"])
@pytest.mark.parametrize("case", ["clip", "sum_normalized"])
def test_mixed_float16_skips_overflows_then_matches_float32(child, strategy, case):
    """With a loss scale of 2**24 the first updates overflow float16 and are skipped, on every
    replica alike (one replica applying inf/NaN would wreck the weights); the first applied
    one gives finite losses and nearly the float32 weights."""
    mixed, full = child[case][f"{strategy}/mixed_float16"], child[case]["default/float32"]
    assert 1 <= mixed["skipped"] < 20 and mixed["iterations"] == 1
    for key, value in mixed["losses"].items():
        assert np.isfinite(value), key
        assert value == pytest.approx(full["losses"][key], rel=0.02, abs=0.02), key
    # Adam's first step is about lr * sign(g): compare mean differences, not the worst weight
    step = np.mean(np.abs(np.concatenate(full["after"]) - np.concatenate(full["before"])))
    off = np.mean(np.abs(np.concatenate(full["after"]) - np.concatenate(mixed["after"])))
    assert off < 0.02 * step  # measured: ~0.1%


def test_a_short_mirrored_run_trains_checkpoints_and_evaluates(child):
    assert child["clip"]["run"]["steps_completed"] == 96
    assert child["clip"]["run"]["mean_return"] >= 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(strategy="tpu"), "--strategy must be default or mirrored, got 'tpu'"),
        (dict(strategy="multiworker"), "multiworker is not supported for A2C: every worker"),
        (dict(precision="float16"), "--precision must be float32 or mixed_float16, got 'float16'"),
    ],
)
def test_bad_scale_settings_are_config_errors(overrides, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        A2CConfig(logdir=str(tmp_path), **overrides).resolved()


def test_n_envs_must_split_over_the_replicas(child):
    assert child["clip"]["n_envs_error"] == (
        "n-envs 3 does not split evenly over 2 replicas; use a multiple of 2"
    )
