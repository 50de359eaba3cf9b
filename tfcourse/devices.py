"""What TensorFlow can run on here: versions, build, visible devices.

Safe on a CPU-only machine: GPU entries are simply empty lists.
"""

from __future__ import annotations

import platform
from typing import Any


def device_report() -> dict[str, Any]:
    """Versions and devices as a plain dict (printed by ``tfcourse info``)."""
    import keras
    import numpy as np
    import tensorflow as tf

    build = dict(tf.sysconfig.get_build_info())
    gpus = tf.config.list_physical_devices("GPU")
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "numpy": np.__version__,
        "built_with_cuda": bool(build.get("is_cuda_build", False)),
        "cuda_version": build.get("cuda_version", "n/a"),
        "cudnn_version": build.get("cudnn_version", "n/a"),
        "physical_devices": [
            f"{d.device_type}:{d.name}" for d in tf.config.list_physical_devices()
        ],
        "gpus": [d.name for d in gpus],
        "logical_devices": [d.name for d in tf.config.list_logical_devices()],
        "default_device": "GPU:0" if gpus else "CPU:0",
    }


def format_report(report: dict[str, Any]) -> str:
    """Render :func:`device_report` as aligned ``key: value`` lines."""
    width = max(map(len, report))
    lines = []
    for key, value in report.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        lines.append(f"{key:<{width}}  {shown if shown != '' else '(none)'}")
    return "\n".join(lines)
