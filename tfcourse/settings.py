"""Environment switches shared by notebooks, scripts and tests.

``TFCOURSE_FAST=1`` ("FAST mode") shrinks epochs, steps and data so that every notebook runs
end to end in seconds inside the test-suite. Code asks :func:`fast_mode` or :func:`fast_or`
instead of reading the variable itself, so there is one definition of "fast".

:func:`import_tensorflow_quietly` imports TensorFlow without its C++/absl start-up lines
(oneDNN, CUDA drivers, cuInit, CPU features); every other line it prints still shows.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from typing import TypeVar

T = TypeVar("T")

FAST_ENV = "TFCOURSE_FAST"


def fast_mode() -> bool:
    """True when ``$TFCOURSE_FAST`` is set to anything but ``""``, ``"0"`` or ``"false"``."""
    return os.environ.get(FAST_ENV, "").strip().lower() not in ("", "0", "false", "no")


def fast_or(full: T, fast: T) -> T:
    """Return ``fast`` in FAST mode and ``full`` otherwise (e.g. ``epochs = fast_or(10, 1)``)."""
    return fast if fast_mode() else full


# TensorFlow's start-up chatter on machines without a GPU: informative, never actionable
STARTUP_NOISE = re.compile(
    r"oneDNN custom operations|cuda drivers|cuInit|cpu_feature_guard|absl::InitializeLog|"
    r"To enable the following instructions|Unable to register cu(DNN|FFT|BLAS) factory|"
    r"computation placer already registered|TF-TRT Warning|rebuild TensorFlow with"
)


def import_tensorflow_quietly(verbose: bool = False) -> None:
    """Import TensorFlow and find its devices with the start-up lines filtered out of stderr.

    The C++ logs are written straight to file descriptor 2, below Python's ``sys.stderr``, so
    the descriptor is pointed at a temporary file while TensorFlow starts; afterwards every
    line that is not :data:`STARTUP_NOISE` is written to the real stderr. With ``verbose``,
    or when TensorFlow is already imported, this is a plain import.
    """
    if verbose or "tensorflow" in sys.modules:
        import tensorflow  # noqa: F401

        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # loads the CUDA platform (the cuInit line)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            log.seek(0)
            lines = log.read().decode("utf-8", "replace").splitlines(keepends=True)
            kept = [line for line in lines if not STARTUP_NOISE.search(line)]
            sys.stderr.write("".join(kept))
            sys.stderr.flush()
