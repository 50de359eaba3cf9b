"""Smoke test of the benchmark scripts: a tiny run whose last stdout line is the JSON report,
with the machine's facts; bench_mlp's FLOP count and its fraction of this CPU's matmul rate."""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

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
    "matmul_fraction",
    "gflops_tfcourse",
    "matmul_gflops",
    "flop_per_sample",
    "machine",
)


def import_benchkit():
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import benchkit
    finally:
        sys.path.remove(str(REPO / "scripts"))
    return benchkit


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
    why = report["targets_not_checked"].pop("matmul_fraction_min")
    if report["matmul_fraction_quiet"] is None:  # judged on a quiet machine only
        cores = len(os.sched_getaffinity(0))
        assert max(report["load_during_trainer"]) > 1.25 * cores
        assert why.startswith("not checked: machine busy (1-minute load up to ")
    else:
        assert report["matmul_fraction_quiet"] == report["matmul_fraction"]
        assert why == "not checked at --epochs 1"
    assert report["targets_not_checked"] == {
        "speedup_vs_tutorial": "not checked at --epochs 1",
        "speedup_vs_keras_fit": "not checked at --epochs 1, --keras-epochs 1",
        "test_accuracy": "not checked at --epochs 1, --train-samples 5000",
    }
    # 784-300-10: forward 2(784*300 + 300*10), as much for the weight gradients, and the
    # hidden-layer gradient 2*10*300 (none for the input)
    assert report["flop_per_sample_terms"] == {
        "forward": 476_400,
        "weight_gradients": 476_400,
        "hidden_gradients": 6_000,
        "total": 958_800,
    }
    assert report["flop_per_sample"] == 958_800
    gflops = report["samples_per_s_tfcourse"] * 958_800 / 1e9
    assert report["gflops_tfcourse"] == pytest.approx(gflops, rel=1e-3, abs=5e-3)
    assert len(report["matmul_gflops_runs"]) == 2  # --matmul-repeats 2 after the one epoch
    median = statistics.median(report["matmul_gflops_runs"])
    assert report["matmul_gflops"] == pytest.approx(median, abs=0.1)
    fraction = gflops / report["matmul_gflops"]
    assert report["matmul_fraction"] == pytest.approx(fraction, rel=2e-2, abs=2e-3)
    before_after = report["matmul_gflops_before_after"]
    assert {k: len(v) for k, v in before_after.items()} == {"tf": 4, "xla": 4, "numpy": 4}
    assert all(x > 0.5 for v in before_after.values() for x in v)  # GFLOP/s, any CPU
    assert "FLOP per sample 958,800 = forward 476,400 + weight gradients 476,400" in stdout
    assert "of tf.matmul's rate" in stdout and report["matmul_size"] == 2048
    machine = report["machine"]  # benchkit.run_and_report: also bench_scale's and bench_a2c's
    assert machine["usable_cores"] == len(os.sched_getaffinity(0))
    assert machine["tf_threads"]["source"] == "tf.config.threading"
    assert len(machine["load_avg_at_start"]) == 3
    assert f"\nmachine: {machine['cpu_model']}" in stdout
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
        "targets not checked: acc, speed",
    ]
    full = type("Args", (), {"epochs": 10, "samples": 0})()
    checked = check_targets(full, result, targets)
    assert checked["targets_met"] == {"acc": False, "mse_max": False, "speed": True}
    assert checked["targets_not_checked"] == {}
    assert target_lines({**result, **checked})[-1] == "missed targets: acc, mse_max"
    sampled = type("Args", (), {"epochs": 10, "samples": 5000})()
    checked = check_targets(sampled, result, targets)
    assert checked["targets_not_checked"] == {"acc": "not checked at --samples 5000"}


def test_machine_facts_are_this_machines() -> None:
    benchkit = import_benchkit()
    facts = benchkit.machine_facts()
    flags = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    assert facts["isa"] == [f for f in benchkit.ISA_FLAGS if f in flags]
    assert facts["usable_cores"] == len(os.sched_getaffinity(0))
    assert len(facts["load_avg"]) == 3 and all(x >= 0 for x in facts["load_avg"])
    line = benchkit.machine_line(facts)
    assert line.startswith(f"machine: {facts['cpu_model']}")
    assert f"{facts['usable_cores']} usable cores of {os.cpu_count()}" in line
    assert "TF threads intra " in line and "(0 = one per usable core)" in line


def test_tf_threads_come_from_tensorflow_once_it_is_imported(monkeypatch) -> None:
    import tensorflow as tf

    benchkit = import_benchkit()
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # as in a process without it
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "3")
    monkeypatch.delenv("TF_NUM_INTEROP_THREADS", raising=False)
    assert benchkit.tf_threads() == {
        "intra_op": 3,
        "inter_op": 0,
        "source": "environment (TensorFlow not imported by this process)",
    }
    monkeypatch.setitem(sys.modules, "tensorflow", tf)
    threads = benchkit.tf_threads()
    assert threads["source"] == "tf.config.threading"
    assert threads["intra_op"] == tf.config.threading.get_intra_op_parallelism_threads()
