"""Smoke test of scripts/bench_a2c.py: a --quick run whose last stdout line is the JSON report;
without SB3 the side-by-side is skipped with one line saying how to install it; a part that
fails (an SB3 process that crashes, an exception) is named and the JSON is still printed.
(The side-by-side with SB3 installed: tests/test_bench_compare.py.)"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest
from conftest import REPO, subprocess_env

REQUIRED = (
    "steps_per_s_tutorial",
    "steps_per_s_tfcourse",
    "speedup",
    "rss_growth_mb",
    "runs",
    "sb3",
    "cartpole_solved_150k_fraction",
    "cartpole_held_450_fraction",
    "cartpole_greedy_worst",
    "acrobot_solved_100k_fraction",
    "acrobot_greedy_worst",
    "targets",
    "targets_met",
    "sb3_speed_ratio_cartpole",
    "sb3_speed_ratio_acrobot",
)
TARGETS = {
    "speedup_min",
    "cartpole_solved_fraction_min",
    "cartpole_held_fraction_min",
    "cartpole_greedy_min",
    "cartpole_greedy_std_max",
    "acrobot_solved_fraction_min",
    "acrobot_greedy_min",
    "sb3_speed_ratio_min",
    "rss_growth_mb_max",
}


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
    assert report["target_rules"]["sb3_speed_ratio_min"] == (
        "sb3_speed_ratio_cartpole >= 1.5 (for --cartpole-steps >= 300000, --eval-episodes >= 100)"
    )
    assert report["failed_parts"] == {} and "failed parts: none\n" in proc.stdout
    machine = report["machine"]
    assert machine["usable_cores"] == len(os.sched_getaffinity(0))
    assert machine["tf_threads"]["source"] == "tf.config.threading"
    assert f"machine: {machine['cpu_model']}" in proc.stdout
    assert "SB3 side-by-side skipped (--no-sb3)" in proc.stdout
    assert "(a) tutorial:" in proc.stdout and "(c) Acrobot-v1 seed 1:" in proc.stdout
    assert (tmp_path / "runs").is_dir()  # runs went where we said, nothing in the repo


def import_bench_a2c():
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import bench_a2c
    finally:
        sys.path.remove(str(REPO / "scripts"))
    return bench_a2c


def test_without_sb3_the_side_by_side_is_skipped_with_the_install_hint(monkeypatch, capsys):
    bench_a2c = import_bench_a2c()
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if "stable_baselines3" in name else real(name, *a),
    )
    assert bench_a2c.sb3_available() is False
    args = bench_a2c.parse_args(["--quick"])
    assert bench_a2c.side_by_side(args, {}) is None
    assert capsys.readouterr().out.strip() == (
        "SB3 not installed: side-by-side skipped (pip install -e '.[compare]')"
    )


# stand-ins for the parts' figures (the tests below check the report, not the training)
TUTORIAL = {"steps_per_s": 100.0, "seconds": 3.0, "rss_growth_mb": 0.0, "mean_return": 20.0}
SPEED = {
    "steps_per_s": 9000.0,
    "timed_steps": 1536,
    "warmup_steps": 512,
    "steps_per_s_incl_compile": 100.0,
    "rss_growth_mb": 1.0,
    "rss_mb_end": 900.0,
}
RUN = {
    "solve_steps": 1000,
    "solve_seconds": 1.0,
    "min_after": 480.0,
    "greedy": 500.0,
    "greedy_std": 0.0,
    "steps_per_s": 5000.0,
}
# an SB3 child that dies as torch beside TensorFlow did
CRASH = """import os, signal, sys
print("dying", file=sys.stderr, flush=True)
os.kill(os.getpid(), signal.SIGSEGV)
"""


def test_a_failed_part_is_named_and_the_json_still_printed(tmp_path, monkeypatch, capsys):
    """(a) raises and the SB3 child dies of SIGSEGV (as torch beside TensorFlow did): the
    other parts report, the failed ones are named, the JSON is the last line, exit code 1."""
    bench_a2c = import_bench_a2c()
    crash = tmp_path / "crash.py"
    crash.write_text(CRASH)
    monkeypatch.setattr(bench_a2c, "SB3_SCRIPT", crash)
    monkeypatch.setattr(bench_a2c, "sb3_available", lambda: True)

    def tutorial(args):
        raise ValueError("the tutorial loop broke")

    monkeypatch.setattr(bench_a2c, "bench_tutorial", tutorial)
    monkeypatch.setattr(bench_a2c, "bench_tfcourse", lambda args, logdir: SPEED)
    monkeypatch.setattr(bench_a2c, "stability", lambda env, seed, *a: {"seed": seed, **RUN})
    code = bench_a2c.main(["--quick", "--logdir", str(tmp_path / "runs")])
    out = capsys.readouterr().out
    report = json.loads(out.strip().splitlines()[-1])
    assert code == 1
    died = "RuntimeError: the SB3 process ended with killed by SIGSEGV (exit 139 in a shell): dying"
    assert report["failed_parts"] == {
        "(a) tutorial loop": "ValueError: the tutorial loop broke",
        "(e) SB3 CartPole-v1 seed 1": died,
        "(e) SB3 Acrobot-v1 seed 1": died,
    }
    assert report["sb3"]["CartPole-v1"]["sb3"] == {"error": died}
    assert report["sb3"]["CartPole-v1"]["tfcourse"]["steps_per_s"] == 5000.0
    assert report["steps_per_s_tutorial"] is None is report["speedup"]
    assert report["steps_per_s_tfcourse"] == 9000.0 and report["cartpole_greedy_worst"] == 500.0
    assert report["sb3_speed_ratio_cartpole"] is None
    assert report["targets_not_checked"]["sb3_speed_ratio_min"] == (
        "not checked: the side-by-side failed"
    )
    assert report["targets_not_checked"]["speedup_min"] == "not checked: part (a) or (b) failed"
    assert f"(e) SB3 CartPole-v1 seed 1 FAILED: {died}" in out
    assert f"{'SB3 A2C CartPole-v1 s1':<28}FAILED: {died}" in out
    assert "failed parts: (a) tutorial loop: ValueError: the tutorial loop broke; " in out


def test_a_failed_stability_run_leaves_its_env_summary_unchecked(tmp_path, monkeypatch, capsys):
    bench_a2c = import_bench_a2c()

    def stability(env, seed, steps, args, logdir):
        if env == "Acrobot-v1" and seed == 2:
            raise RuntimeError("diverged")
        return {"seed": seed, **RUN}

    monkeypatch.setattr(bench_a2c, "bench_tutorial", lambda args: TUTORIAL)
    monkeypatch.setattr(bench_a2c, "bench_tfcourse", lambda args, logdir: SPEED)
    monkeypatch.setattr(bench_a2c, "stability", stability)
    args = ["--quick", "--no-sb3", "--acrobot-seeds", "1", "2", "--logdir", str(tmp_path)]
    assert bench_a2c.main(args) == 1
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["failed_parts"] == {"(c) Acrobot-v1 seed 2": "RuntimeError: diverged"}
    assert report["runs"]["Acrobot-v1"][1] == {"seed": 2, "error": "RuntimeError: diverged"}
    assert report["acrobot_greedy_worst"] is None and report["cartpole_greedy_worst"] == 500.0
    assert report["speedup"] == 90.0
    assert report["targets_not_checked"]["acrobot_greedy_min"] == (
        "not checked: a run of (c) on Acrobot-v1 failed"
    )
