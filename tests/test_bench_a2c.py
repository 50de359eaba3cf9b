"""Smoke test of scripts/bench_a2c.py: a --quick run whose last stdout line is the JSON report;
without SB3 the side-by-side is skipped with one line saying how to install it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
from conftest import REPO, subprocess_env

REQUIRED = (
    "steps_per_s_tutorial", "steps_per_s_tfcourse", "speedup", "rss_growth_mb", "runs", "sb3",
    "cartpole_solved_150k_fraction", "cartpole_held_450_fraction", "cartpole_greedy_worst",
    "acrobot_solved_100k_fraction", "acrobot_greedy_worst", "targets", "targets_met",
    "sb3_speed_ratio_cartpole", "sb3_speed_ratio_acrobot",
)  # fmt: skip
TARGETS = {
    "speedup_min", "cartpole_solved_fraction_min", "cartpole_held_fraction_min",
    "cartpole_greedy_min", "cartpole_greedy_std_max", "acrobot_solved_fraction_min",
    "acrobot_greedy_min", "sb3_speed_ratio_min", "rss_growth_mb_max",
}  # fmt: skip


def test_bench_a2c_quick_smoke(tmp_path):
    cmd = [sys.executable, str(REPO / "scripts" / "bench_a2c.py"), "--quick", "--no-sb3"]
    cmd += ["--logdir", str(tmp_path / "runs")]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=subprocess_env(), cwd=tmp_path, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(REQUIRED) <= set(report)
    assert report["quick"] is True and report["sb3"] is None
    assert report["sb3_speed_ratio_cartpole"] is None is report["sb3_speed_ratio_acrobot"]
    for key in ("steps_per_s_tutorial", "steps_per_s_tfcourse"):
        assert isinstance(report[key], float) and report[key] > 0, key
    assert report["speedup"] == pytest.approx(
        report["steps_per_s_tfcourse"] / report["steps_per_s_tutorial"], rel=1e-2
    )
    runs = report["runs"]
    assert set(runs) == {"CartPole-v1", "Acrobot-v1"}
    for env, steps in (("CartPole-v1", 3072), ("Acrobot-v1", 2048)):
        (run,) = runs[env]
        assert run["seed"] == 1 and run["steps_per_s"] > 0
        assert run["solve_steps"] is None or 0 < run["solve_steps"] <= steps
        assert (run["solve_steps"] is None) == (run["min_after"] is None)
        assert isinstance(run["greedy"], float) and run["greedy_std"] >= 0
    assert 8 <= runs["CartPole-v1"][0]["greedy"] <= 500
    assert -500 <= runs["Acrobot-v1"][0]["greedy"] <= 0
    assert set(report["targets"]) == TARGETS == set(report["targets_met"])
    # a --quick run is too short for any target: none is checked, each says why
    assert all(v is None for v in report["targets_met"].values())
    assert report["targets_not_checked"]["sb3_speed_ratio_min"] == "not checked: SB3 skipped"
    assert report["target_rules"]["sb3_speed_ratio_min"] == "sb3_speed_ratio_cartpole >= 1.5"
    assert "SB3 side-by-side skipped (--no-sb3)" in proc.stdout
    assert "(a) tutorial:" in proc.stdout and "(c) Acrobot-v1 seed 1:" in proc.stdout
    assert (tmp_path / "runs").is_dir()  # runs went where we said, nothing in the repo


def test_without_sb3_the_side_by_side_is_skipped_with_the_install_hint(monkeypatch, capsys):
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import bench_a2c
    finally:
        sys.path.remove(str(REPO / "scripts"))
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if "stable_baselines3" in name
        else real(name, *a),
    )  # fmt: skip
    assert bench_a2c.sb3_available() is False
    args = bench_a2c.parse_args(["--quick"])
    assert bench_a2c.side_by_side(args, {}) is None
    assert capsys.readouterr().out.strip() == (
        "SB3 not installed: side-by-side skipped (pip install -e '.[compare]')"
    )
