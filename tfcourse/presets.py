"""Settings as data, shared by every trainer's config: the allowed choices, presets, validation.

This module and the config dataclasses (``mlp.config``, ``review.config``, ``rl.config``) import
no TensorFlow, so the command line can build its parser and ``--help`` from them in a blink.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from tfcourse.errors import ConfigError

C = TypeVar("C")

INITS = ("normal", "glorot", "he")  # MLP weight initialisations (see tfcourse.mlp.model)
STRATEGIES = ("default", "mirrored", "multiworker")  # --strategy (see tfcourse.scale.distribute)
PRECISIONS = ("float32", "mixed_float16")  # --precision (see tfcourse.scale.precision)


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


MAX_SEED = 2**31 - 1  # numpy, Python and TF all accept seeds up to here


def in_range(value: Any, low: float, high: float, low_open: bool = False) -> bool:
    """``low <= value <= high`` (``low < value`` with ``low_open``) for a finite real number.

    NaN, ±inf, bools and non-numbers are never in range, so ``--lr inf`` or ``--gamma nan``
    fail the check they appear in.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if not math.isfinite(value):
        return False
    return (low < value if low_open else low <= value) and value <= high


def bounded(flag: str, value: Any, low: float, high: float, low_open: bool = False) -> tuple:
    """A :func:`require` check that ``--flag`` is a finite number in ``[low, high]``.

    The message names the flag as typed on the command line, e.g.
    ``"--lr must be a finite number in (0, 1], got inf"``.
    """
    bracket = "(" if low_open else "["
    kind = "an integer" if isinstance(value, int) and not isinstance(value, bool) else "a number"
    ok = in_range(value, low, high, low_open)
    return ok, f"{flag} must be {kind} in {bracket}{_num(low)}, {_num(high)}], got {value}"


def _num(x: float) -> str:
    return f"{x:,}".replace(",", "_") if isinstance(x, int) and abs(x) >= 10**4 else f"{x:g}"


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
