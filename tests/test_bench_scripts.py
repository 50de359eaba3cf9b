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
