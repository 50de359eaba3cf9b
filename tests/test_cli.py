"""The command line: one-line errors with exit code 2, info, a real training run."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
from conftest import REPO, subprocess_env

from tfcourse.cli import main
from tfcourse.settings import STARTUP_NOISE


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--epochs", "-3"], "epochs must be >= 1, got -3"),
        (["--dataset", "svhn"], "--dataset must be mnist or fashion_mnist, got 'svhn'"),
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
    from tfcourse.data import loaders

    monkeypatch.setattr(
        loaders, "_keras_download", lambda name: (_ for _ in ()).throw(OSError("offline"))
    )
    assert main(["train", "mlp", "--logdir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()  # the places tried one per line, every line short
    assert lines[0] == "tfcourse: error: Could not load mnist. Tried:"
    assert lines[1].startswith("  - $TFCOURSE_DATA ")
    assert "  - Keras download: download failed: OSError: offline" in lines
    assert max(map(len, lines)) <= 100, err
    start = next(i for i, line in enumerate(lines) if line.startswith("Fix: "))
    fix = " ".join(line.strip() for line in lines[start:])
    assert fix == (
        "Fix: pass --data-path FILE (an .npz file or a folder of IDX files) or set "
        "TFCOURSE_DATA=DIR holding mnist.npz (offline; the course ships it in ../shared/data), "
        "or connect to the internet so Keras can download it."
    )  # in the CLI's words: no path=... or download=True
    assert "path=" not in err and "=True" not in err and err.endswith(".\n")
    missing = tmp_path / "nowhere.npz"
    assert (
        main(["train", "mlp", "--logdir", str(tmp_path / "runs"), "--data-path", str(missing)]) == 2
    )
    assert capsys.readouterr().err == (
        f"tfcourse: error: --data-path {str(missing)!r} does not exist. Pass an existing .npz "
        "file or folder (with the IDX files or mnist.npz), or leave out --data-path to search "
        "$TFCOURSE_DATA and Keras's cache.\n"
    )


def test_info_reports_versions_data_threads_and_devices(tmp_path, monkeypatch, capsys):
    import importlib.metadata

    import tensorflow as tf

    import tfcourse

    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "mnist.npz").write_bytes(b"")  # info only looks, it does not read
    cached = tmp_path / "keras" / "datasets" / "fashion-mnist"
    cached.mkdir(parents=True)
    (cached / "train-images-idx3-ubyte.gz").write_bytes(b"")
    monkeypatch.setenv("TFCOURSE_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert main(["info", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tfcourse"] == tfcourse.__version__
    assert report["gymnasium"] == importlib.metadata.version("gymnasium")
    assert report["data_mnist"] == f"$TFCOURSE_DATA {tmp_path / 'env' / 'mnist.npz'}"
    assert report["data_fashion_mnist"] == f"Keras cache {cached}"
    assert report["cpu_count"] == os.cpu_count()
    assert report["cpu_usable"] == len(os.sched_getaffinity(0))
    threading = tf.config.threading
    assert report["tf_intra_op_threads"] == threading.get_intra_op_parallelism_threads()
    assert report["tf_inter_op_threads"] == threading.get_inter_op_parallelism_threads()
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


def test_help_imports_no_tensorflow_and_shows_preset_defaults():
    code = (
        "import sys, contextlib, io\n"
        "from tfcourse.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "    main(['train', 'mlp', '--help'])\n"
        "print('tensorflow' in sys.modules, 'gymnasium' in sys.modules)\n"
        "print(out.getvalue())\n"
    )
    out = subprocess.run(
        ["python", "-c", code],
        env=subprocess_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    first, help_text = out.stdout.split("\n", 1)
    assert first == "False False"
    flat = " ".join(help_text.split())
    assert "--lr FLOAT Adam learning rate (default: 0.002 (fast), 0.001 (tutorial))" in flat
    assert "--init STR normal|glorot|he (default: he (fast), normal (tutorial))" in flat
    assert "(default: None)" not in flat and out.stderr == ""


def test_a2c_help_shows_every_preset_value():
    from tfcourse.cli import build_parser
    from tfcourse.rl.config import PRESETS

    sub = build_parser()._subparsers._group_actions[0].choices["train"]
    a2c = sub._subparsers._group_actions[0].choices["a2c"]
    flat = " ".join(a2c.format_help().split())
    fast, tutorial = PRESETS["fast"]["n_envs"], PRESETS["tutorial"]["n_envs"]
    assert f"--n-envs INT parallel envs (default: {fast} (fast), {tutorial} (tutorial))" in flat
    assert "--lam FLOAT GAE lambda, 1 = n-step returns (default: 1.0 (every preset))" in flat


def test_console_script_start_up_is_quiet_unless_verbose(tmp_path):
    """Quiet mode hides TensorFlow's C++ start-up lines; ``--verbose`` lets them through.

    Which lines TensorFlow prints depends on the CPU (oneDNN is on by default only with AVX-512
    and newer; cpu_feature_guard only for instructions the build leaves out), so
    ``TF_ENABLE_ONEDNN_OPTS=1`` forces the oneDNN line on any x86 CPU and the test asks for
    any start-up line, not one in particular.
    """
    env = {**subprocess_env(), "TF_CPP_MIN_LOG_LEVEL": "0", "TF_ENABLE_ONEDNN_OPTS": "1"}
    procs = [  # side by side: each mostly imports TensorFlow
        subprocess.Popen(
            ["tfcourse", *flags, "info"],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for flags in ([], ["--verbose"])
    ]
    (quiet_out, quiet_err), (verbose_out, verbose_err) = (p.communicate(timeout=120) for p in procs)
    assert [p.returncode for p in procs] == [0, 0], quiet_err + verbose_err
    absl_line = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:[\d.]+ +\d+ \S+:\d+\]", re.MULTILINE)
    noise = [line for line in verbose_err.splitlines() if STARTUP_NOISE.search(line)]
    assert noise and absl_line.search(verbose_err), verbose_err  # the lines exist...
    # ...and quiet mode filters them
    assert not [line for line in quiet_err.splitlines() if STARTUP_NOISE.search(line)], quiet_err
    assert quiet_out.splitlines()[0] == verbose_out.splitlines()[0]


def test_info_table_names_data_sources_and_thread_defaults(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TFCOURSE_DATA", str(tmp_path))  # empty: nothing found
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert main(["info"]) == 0
    rows = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    missing = "not found (Keras downloads it on first use; needs the internet)"
    assert rows["data_mnist"] == rows["data_fashion_mnist"] == missing
    assert rows["cpu_count"] == str(os.cpu_count())
    import tensorflow as tf

    intra = tf.config.threading.get_intra_op_parallelism_threads()
    default = "0 (TensorFlow's default: sized from cpu_usable)"
    assert rows["tf_intra_op_threads"] == (default if intra == 0 else str(intra))
    assert rows["tfcourse"].count(".") >= 2 and rows["keras_backend"] == "tensorflow"
