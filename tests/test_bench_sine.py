"""Smoke test of scripts/bench_sine.py: a short run whose last stdout line is the JSON report."""

from __future__ import annotations

import json

from conftest import bench_output

REQUIRED = (
    "seconds_tfcourse",
    "seconds_tf1_session",
    "speedup",
    "final_mse",
    "final_mse_tf1_session",
    "same_init",
    "same_batches",
    "targets",
    "targets_met",
)


def test_bench_sine_smoke(bench_smoke):
    stdout, _, _ = bench_output(bench_smoke, "bench_sine")  # --steps 400 --chunk 200
    report = json.loads(stdout.strip().splitlines()[-1])
    assert set(REQUIRED) <= set(report)
    assert report["seconds_tfcourse"] > 0 and report["seconds_tf1_session"] > 0
    assert report["speedup"] > 0 and report["steps"] == 400
    assert report["same_init"] is True
    assert set(report["targets_met"]) == set(report["targets"])
    assert 0 < report["final_mse"] < 0.5
    # same init, same batches, same Adam: the two final errors agree closely
    assert abs(report["final_mse"] - report["final_mse_tf1_session"]) < 1e-3
    assert "0200 mse:" in stdout  # the TF1 loop logs like the review
    # both targets were set for 10,000 steps: a 400-step run checks neither
    assert report["targets_met"] == {"final_mse_max": None, "speedup_min": None}
    assert report["targets_not_checked"]["final_mse_max"] == "not checked at --steps 400"
    assert (
        "target final_mse <= 0.003 (for --steps >= 10000): not checked at --steps 400\n" in stdout
    )
    assert "MISSED" not in stdout and "missed targets: none\n" in stdout
