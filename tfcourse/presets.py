"""Settings as data, shared by every trainer's config: the allowed choices, presets, validation.

This module and the config dataclasses (``mlp_config``, ``sine_config``, ``rl.config``) import no
TensorFlow, so the command line can build its parser and ``--help`` from them in a blink.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from tfcourse.errors import ConfigError

C = TypeVar("C")

INITS = ("normal", "glorot", "he")  # MLP weight initialisations (see tfcourse.mlp)
STRATEGIES = ("default", "mirrored", "multiworker")  # --strategy (see tfcourse.distribute)
PRECISIONS = ("float32", "mixed_float16")  # --precision (see tfcourse.precision)


def apply_preset(config: C, presets: Mapping[str, Mapping[str, Any]]) -> C:
    """Return a copy of ``config`` whose ``None`` fields take the values of ``config.preset``.

    Fields the user set explicitly (not ``None``) always win over the preset.

    Raises:
        ConfigError: if ``config.preset`` is not a key of ``presets``.
    """
    name = config.preset  # type: ignore[attr-defined]
    if name not in presets:
        raise ConfigError(f"unknown preset {name!r}; choose {' or '.join(presets)}")
    unset = {k: v for k, v in presets[name].items() if getattr(config, k) is None}
    return dataclasses.replace(config, **unset)  # type: ignore[type-var]


def require(checks: Iterable[tuple[bool, str]]) -> None:
    """Raise a :class:`ConfigError` with the message of the first failed ``(ok, message)``."""
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)


def preset_defaults(presets: Mapping[str, Mapping[str, Any]], name: str) -> str:
    """``"0.002 (fast), 0.001 (tutorial)"``: what an unset field becomes under each preset."""
    values = {preset: fields[name] for preset, fields in presets.items() if name in fields}
    if len(set(map(repr, values.values()))) == 1:
        return f"{next(iter(values.values()))} (every preset)"
    return ", ".join(f"{value} ({preset})" for preset, value in values.items())


def learning_rate(lr: float, schedule: str, decay_steps: int) -> Any:
    """The optimizer's ``learning_rate`` for ``--lr-schedule``: ``lr`` itself for ``constant``,
    a ``keras.optimizers.schedules.CosineDecay`` from ``lr`` to 0 over ``decay_steps`` for
    ``cosine`` (Keras is imported here, when a run starts, not with the config)."""
    if schedule == "constant":
        return lr
    import keras

    return keras.optimizers.schedules.CosineDecay(lr, decay_steps)
