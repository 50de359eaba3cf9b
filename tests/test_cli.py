"""The command line: one-line errors with exit code 2, info, a real training run."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from conftest import REPO, subprocess_env

from tfcourse.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--epochs", "-3"], "epochs must be >= 1, got -3"),
        (["--dataset", "svhn"], "unknown dataset 'svhn'; choose mnist or fashion_mnist"),
        (["--batch-size", "0"], "batch-size must be >= 1"),
    ],
)
def test_bad_values_print_one_line_and_exit_2(argv, message, tmp_path, capsys):
    code = main(["train", "mlp", "--logdir", str(tmp_path), *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"tfcourse: error: {message}\n" or (message in err and err.count("\n") == 1)


def test_unwritable_logdir_exits_2(tmp_path, capsys, data_env):
    (tmp_path / "f").write_text("x")
    assert main(["train", "mlp", "--logdir", str(tmp_path / "f" / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tfcourse: error: --logdir") and err.count("\n") == 1


def test_non_numeric_flag_is_an_argparse_error_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "mlp", "--epochs", "ten"])
    assert exc.value.code == 2
    assert "invalid int value: 'ten'" in capsys.readouterr().err


def test_missing_data_exits_2_with_instructions(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TFCOURSE_DATA", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    from tfcourse import data

    monkeypatch.setattr(
        data, "_keras_download", lambda name: (_ for _ in ()).throw(OSError("offline"))
    )
    assert main(["train", "mlp", "--logdir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert "TFCOURSE_DATA" in err and err.count("\n") == 1


def test_info_reports_versions_and_devices(capsys):
    import tensorflow as tf

    assert main(["info", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tensorflow"] == tf.__version__
    assert report["keras_backend"] == "tensorflow"
    assert any(d.startswith("CPU") for d in report["physical_devices"])
    assert report["strategy_default"] == f"default, 1 replica(s): {report['logical_devices'][0]}"
    assert report["strategy_mirrored"].startswith("MirroredStrategy, ")
    if "TF_CONFIG" not in os.environ:
        assert report["strategy_multiworker"] == (
            "MultiWorkerMirroredStrategy (TF_CONFIG is not set)"
        )
    if not tf.config.list_physical_devices("GPU"):
        assert report["memory_growth"] == "n/a (no GPU)"


def test_console_script_trains_and_prints_metrics(tmp_path):
    cmd = [
        "tfcourse",
        "train",
        "mlp",
        "--epochs",
        "1",
        "--train-samples",
        "1000",
        "--logdir",
        str(tmp_path),
        "--no-progress",
        "--seed",
        "4",
    ]
    out = subprocess.run(
        cmd,
        env=subprocess_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if "TFCOURSE_DATA" not in subprocess_env():
        pytest.skip("offline MNIST not found")
    assert out.returncode == 0, out.stderr[-2000:]
    metrics = json.loads(out.stdout)
    assert metrics["epochs_completed"] == 1 and 0.5 < metrics["test_accuracy"] <= 1.0
    assert (tmp_path / metrics["run_dir"].split("/")[-1] / "metrics.json").is_file()
