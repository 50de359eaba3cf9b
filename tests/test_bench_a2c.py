"""Smoke test of scripts/bench_a2c.py: a --quick run whose last stdout line is the JSON report."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO, subprocess_env

REQUIRED = (
    "steps_per_s_tutorial",
    "steps_per_s_tfcourse",
    "speedup",
    "solve_steps",
    "solve_seconds",
    "median_solve_steps",
    "solved",
    "rss_growth_mb",
    "targets",
    "targets_met",
)
TARGETS = {
    "speedup_min",
    "solved_fraction_min",
    "median_solve_steps_max",
    "solve_seconds_max",
    "rss_growth_mb_max",
}


def test_bench_a2c_quick_smoke(tmp_path):
    cmd = [sys.executable, str(REPO / "scripts" / "bench_a2c.py"), "--quick"]
    cmd += ["--logdir", str(tmp_path / "runs")]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=subprocess_env(), cwd=tmp_path, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(REQUIRED) <= set(report)
    assert report["quick"] is True and report["seeds"] == [1]
    for key in ("steps_per_s_tutorial", "steps_per_s_tfcourse"):
        assert isinstance(report[key], float) and report[key] > 0, key
    assert report["speedup"] == pytest.approx(
        report["steps_per_s_tfcourse"] / report["steps_per_s_tutorial"], rel=1e-2
    )
    n = len(report["seeds"])
    assert isinstance(report["solve_steps"], list) and len(report["solve_steps"]) == n
    assert isinstance(report["solve_seconds"], list) and len(report["solve_seconds"]) == n
    for steps, seconds in zip(report["solve_steps"], report["solve_seconds"], strict=True):
        assert (steps is None) == (seconds is None)
        assert steps is None or (isinstance(steps, int) and 0 < steps <= report["max_steps"])
    assert report["solved"] == sum(s is not None for s in report["solve_steps"])
    median = report["median_solve_steps"]
    assert median is None or isinstance(median, (int, float))
    assert isinstance(report["rss_growth_mb"], (int, float))
    assert set(report["targets"]) == TARGETS == set(report["targets_met"])
    assert all(isinstance(v, bool) for v in report["targets_met"].values())
    assert "(a) tutorial:" in proc.stdout and "(c) seed 1:" in proc.stdout
    assert (tmp_path / "runs").is_dir()  # runs went where we said, nothing in the repo
