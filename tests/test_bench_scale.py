"""Smoke test of scripts/bench_scale.py: a --quick run whose last stdout line is the JSON report."""

from __future__ import annotations

import json

import pytest
from conftest import SHARED_DATA, bench_output

RATES = ("default", "jit", "mirrored", "mixed_float16")
RATIOS = {  # ratio key: (numerator, denominator)
    "jit_speedup": ("jit", "default"),
    "mirrored_vs_default": ("mirrored", "jit"),
    "mixed_vs_float32": ("mixed_float16", "jit"),
}


@pytest.mark.skipif(SHARED_DATA is None, reason="offline MNIST not found: set TFCOURSE_DATA")
def test_bench_scale_quick(bench_smoke):
    stdout, _, _ = bench_output(bench_smoke, "bench_scale")  # --quick
    report = json.loads(stdout.strip().splitlines()[-1])
    required = {f"samples_per_s_{k}" for k in RATES} | set(RATIOS)
    assert required | {"devices", "epochs", "notes"} <= set(report)
    for key in required:
        assert report[key] > 0, key
    for key, (num, den) in RATIOS.items():
        quotient = report[f"samples_per_s_{num}"] / report[f"samples_per_s_{den}"]
        assert report[key] == pytest.approx(quotient, rel=1e-3, abs=1e-3), key
    for key in RATES:
        assert 0 < report[f"test_accuracy_{key}"] <= 1, key
    assert report["devices"] == ["CPU:0", "CPU:1"]
    assert report["replicas_mirrored"] == len(report["devices_mirrored"]) >= 1
    assert report["epochs"] == 2 and report["train_samples"] == 2000
    # same init and batches: the mirrored run ends with the default run's weights
    assert report["max_abs_weight_diff_mirrored"] < 1e-4
    assert "all-reduc" in report["notes"] and "emulated" in report["notes"]
    assert "samples/s" in stdout  # the human table comes first
