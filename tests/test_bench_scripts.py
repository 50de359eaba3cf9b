"""Smoke test of the benchmark scripts: a tiny run whose last stdout line is the JSON report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TFCOURSE_DATA") or REPO.parent / "shared" / "data")
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


@pytest.mark.skipif(not (DATA / "mnist.npz").is_file(), reason=f"no offline MNIST in {DATA}")
def test_bench_mlp_smoke(tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        str(REPO / "scripts" / "bench_mlp.py"),
        "--epochs",
        "1",
        "--tutorial-batches",
        "20",
        "--keras-epochs",
        "1",
        "--train-samples",
        "5000",
        "--logdir",
        str(tmp_path),
    ]
    env = dict(os.environ, TFCOURSE_DATA=str(DATA), TF_CPP_MIN_LOG_LEVEL="2", MPLBACKEND="Agg")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
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
        "not checked at --epochs 1, --train-samples 5000\n" in proc.stdout
    )
    assert "MISSED" not in proc.stdout and "missed targets: none\n" in proc.stdout


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
