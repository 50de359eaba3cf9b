"""Settings as data, shared by every trainer's config: the allowed choices, presets, validation.

Each tutorial's ``config.py`` (``mlp``, ``review``, ``rl``) holds one dataclass whose fields are
the flags of ``tfcourse train <what>`` (see :mod:`tfcourse.cli`); its ``None`` fields are filled
from the chosen preset by its ``resolved()``, which also validates everything in one go. This
module and those configs import no TensorFlow, so the command line can build its parser and
``--help`` from them in a blink.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from tfcourse.errors import ConfigError
from tfcourse.run.folder import check_run_name  # no TensorFlow

C = TypeVar("C")
R = TypeVar("R", bound="RunConfig")

INITS = ("normal", "glorot", "he")  # MLP weight initialisations (see tfcourse.mlp.model)
STRATEGIES = ("default", "mirrored", "multiworker")  # --strategy (see tfcourse.scale.distribute)
PRECISIONS = ("float32", "mixed_float16")  # --precision (see tfcourse.scale.precision)


@dataclass
class RunConfig:
    """The base of every trainer's config: the flags all share, and :meth:`resolved`.

    A tutorial's config subclasses it with its own fields (each a flag of ``tfcourse train
    <what>``; ``None`` = from the preset), a ``name`` field (the run-name prefix), ``presets``
    (its ``PRESETS``) and :meth:`checks`.

    A field whose metadata says ``"hparam": False`` changes where outputs go or what is shown,
    not results: it is left out of TensorBoard's HParams tab
    (:func:`tfcourse.run.summaries.hparams_of`) and listed after the hyper-parameters by
    ``--help``.
    """

    presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    logdir: str = field(
        default="runs", metadata={"help": "parent directory of run dirs", "hparam": False}
    )
    resume: bool = field(
        default=False, metadata={"help": "continue the latest run of this name", "hparam": False}
    )

    def resolved(self: R) -> R:
        """A copy with every ``None`` field filled from the preset, all fields validated.

        Raises:
            ConfigError: naming the first wrong flag, and what it must be.
        """
        cfg = self.with_preset()
        require(cfg.checks())
        check_run_name(cfg.name)  # type: ignore[attr-defined]
        return cfg

    def with_preset(self: R) -> R:
        """A copy whose ``None`` fields take the values of ``--preset`` (:func:`apply_preset`)."""
        return apply_preset(self, self.presets)

    def checks(self) -> list[tuple[bool, str]]:
        """``(ok, message)`` for every field, on the preset-filled copy (see :func:`require`)."""
        raise NotImplementedError(f"{type(self).__name__} must list its checks")


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


def bounded(
    flag: str, value: Any, low: float, high: float, low_open: bool = False
) -> tuple[bool, str]:
    """A :func:`require` check that ``--flag`` is a finite number in ``[low, high]``.

    The message names the flag as typed on the command line: ``"--epochs must be >= 1, got
    -3"`` for a number below the range, else the whole range, e.g. ``"--lr must be a number in
    (0, 1], got inf"``.
    """
    ok = in_range(value, low, high, low_open)
    if not ok and in_range(value, -math.inf, low):  # a finite number below the range
        return ok, f"{flag} must be {'>' if low_open else '>='} {_num(low)}, got {value}"
    bracket = "(" if low_open else "["
    kind = "an integer" if isinstance(value, int) and not isinstance(value, bool) else "a number"
    return ok, f"{flag} must be {kind} in {bracket}{_num(low)}, {_num(high)}], got {value}"


def one_of(flag: str, value: Any, choices: Sequence[str]) -> tuple[bool, str]:
    """A :func:`require` check that ``--flag`` is one of ``choices``, e.g. ``"--activation must
    be relu or tanh, got 'sigmoid'"``."""
    names = " or ".join(choices) if len(choices) == 2 else f"one of {', '.join(choices)}"
    return value in choices, f"{flag} must be {names}, got {value!r}"


def scale_checks(cfg: Any, strategies: Sequence[str] = STRATEGIES) -> list[tuple[bool, str]]:
    """The checks every trainer's config shares: ``--seed``, ``--strategy``, ``--precision``."""
    return [
        bounded("--seed", cfg.seed, 0, MAX_SEED),
        one_of("--strategy", cfg.strategy, strategies),
        one_of("--precision", cfg.precision, PRECISIONS),
    ]


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
