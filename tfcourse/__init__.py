"""tfcourse: a thin, correct, fast teaching framework over TensorFlow 2 / Keras 3.

The public names below are imported lazily, so ``import tfcourse`` (and ``tfcourse --help``)
stays fast and does not pay for importing TensorFlow until a name that needs it is used.
"""

from __future__ import annotations

import importlib
from typing import Any

from tfcourse.errors import ConfigError, DataError, ShapeError, TfcourseError

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "load_mnist": "tfcourse.data",
    "load_fashion_mnist": "tfcourse.data",
    "load_dataset": "tfcourse.data",
    "scale_images": "tfcourse.preprocess",
    "flatten_images": "tfcourse.preprocess",
    "one_hot": "tfcourse.preprocess",
    "get_batch": "tfcourse.batching",
    "epoch_batches": "tfcourse.batching",
    "shuffled_batches": "tfcourse.batching",
    "make_dataset": "tfcourse.batching",
    "MLP": "tfcourse.mlp",
    "loss_fn": "tfcourse.mlp",
    "accuracy": "tfcourse.mlp",
    "MLPConfig": "tfcourse.mlp_config",
    "MLPTrainer": "tfcourse.train_mlp",
    "train_mlp": "tfcourse.train_mlp",
    "fast_mode": "tfcourse.settings",
    "A2CConfig": "tfcourse.rl.config",
    "A2CTrainer": "tfcourse.rl.trainer",
    "train_a2c": "tfcourse.rl.trainer",
    "ActorCritic": "tfcourse.rl.a2c",
    "assert_shape": "tfcourse.shapes",
    "make_sine_data": "tfcourse.sine",
    "SineMLP": "tfcourse.sine",
    "SineConfig": "tfcourse.sine_config",
    "SineTrainer": "tfcourse.train_sine",
    "train_sine": "tfcourse.train_sine",
}

__all__ = ["ConfigError", "DataError", "ShapeError", "TfcourseError", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tfcourse' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
