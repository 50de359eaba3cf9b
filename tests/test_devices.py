"""Devices: report, GPU settings safe on CPU, logical CPUs and placement (in a fresh process)."""

from __future__ import annotations

import textwrap

import pytest
import tensorflow as tf
from conftest import child_json, start_child

from tfcourse.errors import ConfigError, TfcourseError
from tfcourse.scale import devices

HAS_GPU = bool(tf.config.list_physical_devices("GPU"))

# Device configuration only works before TensorFlow initialises its devices, which the test
# process did long ago; so the configuration itself runs in a fresh interpreter.
CHILD = textwrap.dedent(
    """
    import json
    from tfcourse.scale import devices
    out = {"split": devices.split_cpu(3)}
    out["growth"] = devices.enable_memory_growth()
    out["limit"] = devices.limit_gpu_memory(256)
    import tensorflow as tf

    out["listed"] = devices.list_devices()
    placed = devices.run_on("CPU:2", lambda: tf.constant([1.0, 2.0]) * 3)
    out["placed_device"], out["placed_value"] = placed.device, placed.numpy().tolist()
    out["same_again"] = devices.split_cpu(3)  # an identical configuration is accepted
    for name, call in [
        ("too_late", lambda: devices.split_cpu(2)),
        ("missing", lambda: devices.run_on("CPU:7", tf.constant, 1.0)),
    ]:
        try:
            call()
        except Exception as exc:
            out[name] = [type(exc).__name__, str(exc)]
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def child() -> dict:
    return child_json(start_child(CHILD), timeout=120)


def test_split_cpu_creates_logical_devices_and_ops_run_there(child):
    assert child["split"] == ["CPU:0", "CPU:1", "CPU:2"]
    assert child["listed"]["logical"][:3] == ["CPU:0", "CPU:1", "CPU:2"]
    assert child["listed"]["physical"][0] == "CPU:0"
    assert child["placed_device"].endswith("/device:CPU:2")
    assert child["placed_value"] == [3.0, 6.0]
    assert child["same_again"] == child["split"]


def test_configuring_too_late_says_call_this_first(child):
    kind, message = child["too_late"]
    assert kind == "DeviceConfigError"
    assert message.startswith("split_cpu(2): TensorFlow has already initialised its devices")
    assert "call this first, before any tensor is created" in message


def test_placing_on_a_missing_device_is_refused_instead_of_silently_moved(child):
    kind, message = child["missing"]
    assert kind == "ConfigError"
    assert message.startswith("device 'CPU:7' does not exist (logical devices: CPU:0, CPU:1")


@pytest.mark.skipif(HAS_GPU, reason="checks the CPU-only messages")
def test_gpu_settings_are_safe_without_a_gpu(child):
    assert child["growth"] == "no GPU visible; memory growth not applied"
    assert child["limit"] == "no GPU visible; memory limit not applied"
    assert devices.enable_memory_growth() == "no GPU visible; memory growth not applied"


def test_bad_arguments_are_config_errors():
    with pytest.raises(ConfigError, match="megabytes must be > 0, got 0"):
        devices.limit_gpu_memory(0)
    with pytest.raises(ConfigError, match="n must be >= 1, got 0"):
        devices.split_cpu(0)


def test_too_late_error_in_this_process():
    tf.constant(1.0)  # devices are initialised now, for certain
    n = len(tf.config.list_logical_devices("CPU")) + 1
    with pytest.raises(devices.DeviceConfigError, match="call this first") as info:
        devices.split_cpu(n)
    assert isinstance(info.value, TfcourseError) and isinstance(info.value, RuntimeError)


def test_run_on_default_cpu_and_report_still_work():
    result = devices.run_on("/CPU:0", lambda: tf.constant(2.0) + 1)
    assert float(result) == 3.0 and result.device.endswith("CPU:0")
    report = devices.device_report()
    assert report["tensorflow"] == tf.__version__ and "CPU:0" in report["default_device"]
    assert "tensorflow" in devices.format_report(report)
