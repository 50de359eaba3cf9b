"""Environment switches shared by notebooks, scripts and tests.

``TFCOURSE_FAST=1`` ("FAST mode") shrinks epochs, steps and data so that every notebook runs
end to end in seconds inside the test-suite. Code asks :func:`fast_mode` or :func:`fast_or`
instead of reading the variable itself, so there is one definition of "fast".
"""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")

FAST_ENV = "TFCOURSE_FAST"


def fast_mode() -> bool:
    """True when ``$TFCOURSE_FAST`` is set to anything but ``""``, ``"0"`` or ``"false"``."""
    return os.environ.get(FAST_ENV, "").strip().lower() not in ("", "0", "false", "no")


def fast_or(full: T, fast: T) -> T:
    """Return ``fast`` in FAST mode and ``full`` otherwise (e.g. ``epochs = fast_or(10, 1)``)."""
    return fast if fast_mode() else full
