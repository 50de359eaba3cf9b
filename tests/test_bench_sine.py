"""Smoke test of scripts/bench_sine.py: a short run whose last stdout line is the JSON report."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import REPO, subprocess_env

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


def test_bench_sine_smoke(tmp_path):
    cmd = [sys.executable, str(REPO / "scripts" / "bench_sine.py"), "--steps", "400"]
    cmd += ["--chunk", "200", "--logdir", str(tmp_path)]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=subprocess_env(), cwd=tmp_path, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(REQUIRED) <= set(report)
    assert report["seconds_tfcourse"] > 0 and report["seconds_tf1_session"] > 0
    assert report["speedup"] > 0 and report["steps"] == 400
    assert report["same_init"] is True
    assert set(report["targets_met"]) == set(report["targets"])
    assert 0 < report["final_mse"] < 0.5
    # same init, same batches, same Adam: the two final errors agree closely
    assert abs(report["final_mse"] - report["final_mse_tf1_session"]) < 1e-3
    assert "0200 mse:" in proc.stdout  # the TF1 loop logs like the review
    # both targets were set for 10,000 steps: a 400-step run checks neither
    assert report["targets_met"] == {"final_mse_max": None, "speedup_min": None}
    assert report["targets_not_checked"]["final_mse_max"] == "not checked at --steps 400"
    assert (
        "target final_mse <= 0.003 (for --steps >= 10000): not checked at --steps 400\n"
        in proc.stdout
    )
    assert "MISSED" not in proc.stdout and "missed targets: none\n" in proc.stdout
