"""What TensorFlow can run on here, and how to configure and use those devices.

Safe on a CPU-only machine: GPU entries are simply empty lists, and GPU settings return a
message saying they were not applied.

Device *configuration* (memory growth, a memory cap, splitting a device into logical ones) must
happen before TensorFlow initialises its devices, which it does the first time a tensor is
created or a logical device is listed. Call these functions first, at the top of a script or
notebook; called too late they raise :class:`DeviceConfigError` saying so. TF1 passed the same
settings per session instead: ``tf.ConfigProto(gpu_options=tf.GPUOptions(allow_growth=True,
per_process_gpu_memory_fraction=0.5))``; TF2 has no sessions, so they are process-wide.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
from collections.abc import Callable
from typing import Any

from tfcourse.errors import ConfigError, TfcourseError

TOO_LATE_FIX = (
    "call this first, before any tensor is created (at the top of the script or notebook; "
    "in Jupyter restart the kernel)"
)


class DeviceConfigError(TfcourseError, RuntimeError):
    """Devices were configured after TensorFlow had initialised them."""


def _version(package: str) -> str:
    """An installed distribution's version without importing it, or ``"not installed"``."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def cpu_report() -> dict[str, Any]:
    """CPU threads: the machine's CPUs, those this process may use, TensorFlow's thread pools.

    TensorFlow's intra-op pool (threads inside one op, e.g. a matmul) and inter-op pool (ops
    run side by side) are 0 unless set with ``tf.config.threading``: TensorFlow then sizes
    them from the usable CPUs.
    """
    import tensorflow as tf

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu_count": os.cpu_count(),  # CPUs of the machine
        "cpu_usable": usable,  # CPUs this process may run on (taskset, cgroups cpusets)
        "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "tf_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
    }


def data_report() -> dict[str, str]:
    """Per data set, where ``load_dataset`` finds it: ``$TFCOURSE_DATA``, Keras cache or not."""
    from tfcourse.data.loaders import DATASETS, data_source

    return {f"data_{name}": data_source(name) for name in DATASETS}


def device_report() -> dict[str, Any]:
    """Versions, data, CPU threads and devices as a plain dict (printed by ``tfcourse info``)."""
    import keras
    import numpy as np
    import tensorflow as tf

    import tfcourse

    build = dict(tf.sysconfig.get_build_info())
    gpus = tf.config.list_physical_devices("GPU")
    return {
        "tfcourse": tfcourse.__version__,
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "numpy": np.__version__,
        "gymnasium": _version("gymnasium"),
        **data_report(),
        **cpu_report(),
        "built_with_cuda": bool(build.get("is_cuda_build", False)),
        "cuda_version": build.get("cuda_version", "n/a"),
        "cudnn_version": build.get("cudnn_version", "n/a"),
        "physical_devices": [
            f"{d.device_type}:{d.name}" for d in tf.config.list_physical_devices()
        ],
        "gpus": [d.name for d in gpus],
        "logical_devices": [d.name for d in tf.config.list_logical_devices()],
        "default_device": "GPU:0" if gpus else "CPU:0",
        "memory_growth": [f"{g.name}: {tf.config.experimental.get_memory_growth(g)}" for g in gpus]
        or "n/a (no GPU)",
        "tf_config": "set" if os.environ.get("TF_CONFIG") else "not set",
        **strategy_report(),
    }


def strategy_report() -> dict[str, str]:
    """One line per ``--strategy`` value: the replicas and devices a run would use."""
    from tfcourse.presets import STRATEGIES
    from tfcourse.scale.distribute import describe

    report = {}
    for name in STRATEGIES:
        try:
            info = describe(name)
        except TfcourseError as exc:  # e.g. a malformed TF_CONFIG
            report[f"strategy_{name}"] = f"unusable: {exc}"
            continue
        if info.get("note"):
            line = f"{info['strategy']} ({info['note']})"
        else:
            where = ", ".join(info.get("workers") or info["devices"])
            line = f"{info['strategy']}, {info['replicas']} replica(s): {where}"
        report[f"strategy_{name}"] = line
    return report


def format_report(report: dict[str, Any]) -> str:
    """Render :func:`device_report` as aligned ``key: value`` lines."""
    width = max(map(len, report))
    lines = []
    for key, value in report.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        if key.endswith("_op_threads") and value == 0:
            shown = "0 (TensorFlow's default: sized from cpu_usable)"
        lines.append(f"{key:<{width}}  {shown if shown != '' else '(none)'}")
    return "\n".join(lines)


def _configure(what: str, apply: Callable[[], None]) -> None:
    """Run one ``tf.config`` setter, turning TF's "too late" RuntimeError into ours."""
    try:
        apply()
    except RuntimeError as exc:
        raise DeviceConfigError(
            f"{what}: TensorFlow has already initialised its devices ({exc}); {TOO_LATE_FIX}"
        ) from None


def list_devices() -> dict[str, list[str]]:
    """Physical and logical device names, e.g. ``{"physical": ["CPU:0"], "logical": [...]}``.

    Listing *logical* devices initialises them: configure devices before calling this.
    """
    import tensorflow as tf

    return {
        "physical": [
            d.name.removeprefix("/physical_device:") for d in tf.config.list_physical_devices()
        ],
        "logical": [d.name.removeprefix("/device:") for d in tf.config.list_logical_devices()],
    }


def enable_memory_growth() -> str:
    """Let every visible GPU allocate memory as needed instead of grabbing it all at start.

    Returns:
        What was done, e.g. ``"no GPU visible; memory growth not applied"``.

    Raises:
        DeviceConfigError: if TensorFlow already initialised its devices.
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "no GPU visible; memory growth not applied"
    for gpu in gpus:
        _configure(
            "enable_memory_growth", lambda g=gpu: tf.config.experimental.set_memory_growth(g, True)
        )
    return f"memory growth enabled on {len(gpus)} GPU(s)"


def limit_gpu_memory(megabytes: int, gpu: int = 0) -> str:
    """Cap what TensorFlow may allocate on one GPU (TF1: ``per_process_gpu_memory_fraction``).

    TF1 took a fraction of the card; TF2 takes megabytes, e.g. half of a 16 GB card is
    ``limit_gpu_memory(8192)``. The GPU then appears as one logical device with that limit.

    Args:
        megabytes: the cap, > 0.
        gpu: index of the physical GPU.

    Returns:
        What was done (``"no GPU visible; memory limit not applied"`` on a CPU-only machine).

    Raises:
        ConfigError: for a non-positive cap or a GPU index that does not exist.
        DeviceConfigError: if TensorFlow already initialised its devices.
    """
    import tensorflow as tf

    if megabytes <= 0:
        raise ConfigError(f"megabytes must be > 0, got {megabytes}")
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "no GPU visible; memory limit not applied"
    if not 0 <= gpu < len(gpus):
        raise ConfigError(f"gpu {gpu} does not exist; {len(gpus)} GPU(s) are visible")
    config = [tf.config.LogicalDeviceConfiguration(memory_limit=int(megabytes))]
    _configure(
        "limit_gpu_memory", lambda: tf.config.set_logical_device_configuration(gpus[gpu], config)
    )
    return f"GPU:{gpu} limited to {int(megabytes)} MB"


def split_cpu(n: int) -> list[str]:
    """Split the CPU into ``n`` logical devices ``CPU:0`` ... ``CPU:n-1`` (they share the cores).

    Handy to try device placement and multi-device strategies on a laptop.

    Returns:
        The logical CPU device names afterwards, e.g. ``["CPU:0", "CPU:1"]``.

    Raises:
        ConfigError: if ``n < 1``.
        DeviceConfigError: if TensorFlow already initialised its devices differently.
    """
    import tensorflow as tf

    if n < 1:
        raise ConfigError(f"n must be >= 1, got {n}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    config = [tf.config.LogicalDeviceConfiguration() for _ in range(n)]
    _configure(f"split_cpu({n})", lambda: tf.config.set_logical_device_configuration(cpu, config))
    return [d.name.removeprefix("/device:") for d in tf.config.list_logical_devices("CPU")]


def run_on(device: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` with its ops placed on ``device`` (``"CPU:1"``, ``"/GPU:0"``, ...).

    Unlike a bare ``with tf.device(...)``, which silently falls back to another device when the
    named one does not exist, this checks the name first.

    Raises:
        ConfigError: if no logical device has that name, listing the ones that exist.
    """
    import tensorflow as tf

    names = [d.name.removeprefix("/device:") for d in tf.config.list_logical_devices()]
    wanted = device.removeprefix("/").removeprefix("device:").upper()
    if wanted not in names:
        raise ConfigError(
            f"device {device!r} does not exist (logical devices: {', '.join(names)}); "
            "split_cpu(n) creates CPU:1 ... CPU:n-1 if called first, before any tensor"
        )
    with tf.device(wanted):
        return fn(*args)
