"""Config helpers shared by every trainer: fill unset fields from a preset, validate in one go."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from tfcourse.errors import ConfigError

C = TypeVar("C")


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
