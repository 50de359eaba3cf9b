"""A real ``tensorboard`` server on 127.0.0.1 serves a training run's scalars over HTTP."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port, stop_server, subprocess_env

from tfcourse.mlp.config import MLPConfig
from tfcourse.mlp.trainer import train_mlp

pytestmark = pytest.mark.network_local


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read().decode())


def test_tensorboard_lists_run_and_serves_scalars(small_mnist, tmp_path):
    logdir = tmp_path / "runs"
    metrics = train_mlp(MLPConfig(epochs=2, logdir=str(logdir), progress=False), data=small_mnist)
    run = Path(metrics["run_dir"]).name

    port = free_port()
    exe = shutil.which("tensorboard")
    cmd = [exe] if exe else [sys.executable, "-m", "tensorboard.main"]
    cmd += [
        "--logdir",
        str(logdir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--reload_interval",
        "1",
    ]
    server = subprocess.Popen(
        cmd, env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        runs, deadline = [], time.monotonic() + 90
        while time.monotonic() < deadline and run not in runs:
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            try:
                runs = _get_json(f"{base}/data/runs")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        assert run in runs, f"run {run} not listed by TensorBoard: {runs}"

        tags, deadline = {}, time.monotonic() + 30
        while time.monotonic() < deadline and "mlp/losses/train" not in tags.get(run, {}):
            tags = _get_json(f"{base}/data/plugin/scalars/tags")
            time.sleep(0.5)
        assert {"mlp/losses/train", "mlp/charts/test_accuracy"} <= set(tags[run])
        # the chart's ⓘ text says what the x axis counts
        about = tags[run]["mlp/charts/test_accuracy"]["description"]
        assert "x axis: epoch." in about, about

        query = urllib.parse.urlencode({"run": run, "tag": "mlp/charts/test_accuracy"})
        points = _get_json(f"{base}/data/plugin/scalars/scalars?{query}")
        assert [step for _, step, _ in points] == [1, 2]
        assert points[-1][2] == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    finally:
        stop_server(server)
