"""Smoke test of the benchmark scripts: a tiny run whose last stdout line is the JSON report."""

from __future__ import annotations

import json
import sys

import pytest
from conftest import REPO, SHARED_DATA, bench_output

REQUIRED = (
    "samples_per_s_tutorial",
    "samples_per_s_tfcourse",
    "samples_per_s_keras_fit",
    "speedup_vs_tutorial",
    "speedup_vs_keras_fit",
    "test_accuracy",
    "dataset",
    "epochs",
    "targets",
    "targets_met",
)


@pytest.mark.skipif(SHARED_DATA is None, reason="offline MNIST not found: set TFCOURSE_DATA")
def test_bench_mlp_smoke(bench_smoke) -> None:
    stdout, _, _ = bench_output(bench_smoke, "bench_mlp")  # conftest.BENCH_SMOKE: its flags
    report = json.loads(stdout.strip().splitlines()[-1])
    assert set(REQUIRED) <= set(report)
    for key in ("samples_per_s_tutorial", "samples_per_s_tfcourse", "samples_per_s_keras_fit"):
        assert report[key] > 0, key
    assert report["dataset"] == "mnist" and report["epochs"] == 1
    assert report["train_samples"] == 5000
    assert set(report["targets_met"]) == set(report["targets"])
    assert 0 < report["test_accuracy"] <= 1
    # every target was set for a longer run: none is checked, none is reported MISSED
    assert report["targets_met"] == dict.fromkeys(report["targets"])
    assert report["targets_not_checked"] == {
        "speedup_vs_tutorial": "not checked at --epochs 1",
        "speedup_vs_keras_fit": "not checked at --epochs 1, --keras-epochs 1",
        "test_accuracy": "not checked at --epochs 1, --train-samples 5000",
    }
    assert (
        "target test_accuracy >= 0.98 (for --epochs >= 10, --train-samples 0): "
        "not checked at --epochs 1, --train-samples 5000\n" in stdout
    )
    assert "MISSED" not in stdout and "missed targets: none\n" in stdout


def test_benchkit_checks_targets_only_at_their_budget() -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from benchkit import Target, check_targets, target_lines
    finally:
        sys.path.remove(str(REPO / "scripts"))
    targets = [
        Target("acc", "accuracy", 0.9, needs=(("epochs", ">=", 10), ("samples", "==", 0))),
        Target("mse_max", "mse", 0.01, at_most=True),
        Target("speed", "speedup", 2.0, needs=(("epochs", ">=", 2),)),
    ]
    result = {"accuracy": 0.5, "mse": 0.02, "speedup": 3.0}
    short = type("Args", (), {"epochs": 1, "samples": 0})()
    checked = check_targets(short, result, targets)
    assert checked["targets"] == {"acc": 0.9, "mse_max": 0.01, "speed": 2.0}
    assert checked["targets_met"] == {"acc": None, "mse_max": False, "speed": None}
    assert checked["targets_not_checked"] == {
        "acc": "not checked at --epochs 1",
        "speed": "not checked at --epochs 1",
    }
    assert target_lines({**result, **checked}) == [
        "target accuracy >= 0.9 (for --epochs >= 10, --samples 0): not checked at --epochs 1",
        "target mse <= 0.01: 0.02 (MISSED)",
        "target speedup >= 2.0 (for --epochs >= 2): not checked at --epochs 1",
        "missed targets: mse_max",
        "targets not checked (shortened run): acc, speed",
    ]
    full = type("Args", (), {"epochs": 10, "samples": 0})()
    checked = check_targets(full, result, targets)
    assert checked["targets_met"] == {"acc": False, "mse_max": False, "speed": True}
    assert checked["targets_not_checked"] == {}
    assert target_lines({**result, **checked})[-1] == "missed targets: acc, mse_max"
    sampled = type("Args", (), {"epochs": 10, "samples": 5000})()
    checked = check_targets(sampled, result, targets)
    assert checked["targets_not_checked"] == {"acc": "not checked at --samples 5000"}
