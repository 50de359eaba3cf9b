"""Environment switches shared by notebooks, scripts and tests.

``TFCOURSE_FAST=1`` ("FAST mode") shrinks epochs, steps and data so that every notebook runs
end to end in seconds inside the test-suite. Code asks :func:`fast_mode` or :func:`fast_or`
instead of reading the variable itself, so there is one definition of "fast".

:func:`import_tensorflow_quietly` imports TensorFlow without its C++/absl log lines: the start-up
ones (oneDNN, CUDA drivers, cuInit, CPU features) and the INFO lines of later work (XLA's "service
initialized" and "Compiled cluster", MLIR notes, ``INFO:tensorflow:Restoring parameters``);
warnings and errors still show. ``TFCOURSE_VERBOSE=1`` (or ``tfcourse --verbose``) shows
everything, as a plain ``import tensorflow`` does.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
from typing import TypeVar

T = TypeVar("T")

FAST_ENV = "TFCOURSE_FAST"
VERBOSE_ENV = "TFCOURSE_VERBOSE"
LOG_LEVEL_ENV = "TF_CPP_MIN_LOG_LEVEL"  # read once, when TensorFlow's C++ logging starts
QUIET_LOG_LEVEL = "1"  # C++ warnings and errors only: the INFO lines are hidden


def _switch(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def fast_mode() -> bool:
    """True when ``$TFCOURSE_FAST`` is set to anything but ``""``, ``"0"`` or ``"false"``."""
    return _switch(FAST_ENV)


def verbose_mode() -> bool:
    """True when ``$TFCOURSE_VERBOSE`` asks for TensorFlow's log lines (as ``fast_mode``)."""
    return _switch(VERBOSE_ENV)


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
    """Import TensorFlow with its C++/absl log lines off, now and for the rest of the process.

    Three things, as each kind of line needs its own (nothing here runs with ``verbose`` or
    ``$TFCOURSE_VERBOSE``, which leave TensorFlow as a plain import does):

    * ``TF_CPP_MIN_LOG_LEVEL`` is set to 1 unless already set: the C++ INFO lines of later work
      (the first XLA compile, MLIR, ...) are dropped. The variable is read once, when
      TensorFlow's C++ logging starts, so this must happen before the first import; it also
      reaches the subprocesses this process starts.
    * The start-up lines are printed before that variable takes effect, straight to file
      descriptor 2 (below Python's ``sys.stderr``): the descriptor is pointed at a temporary
      file while TensorFlow starts and finds its devices, then every line that is not
      :data:`STARTUP_NOISE` is written to the real stderr.
    * The Python logger ``tensorflow`` shows warnings only (in Jupyter it logs INFO lines such
      as ``INFO:tensorflow:Restoring parameters``).

    When TensorFlow is already imported, its start-up is over and its C++ logging has read
    the variable: only the logger is set (and the variable, for subprocesses).
    """
    if verbose or verbose_mode():
        import tensorflow  # noqa: F401

        return
    os.environ.setdefault(LOG_LEVEL_ENV, QUIET_LOG_LEVEL)
    if "tensorflow" not in sys.modules:
        _import_filtered()
    import tensorflow as tf

    tf.get_logger().setLevel(logging.WARNING)  # the first call configures it (INFO in Jupyter)


def _import_filtered() -> None:
    """``import tensorflow`` and device discovery with fd 2 filtered by :data:`STARTUP_NOISE`."""
    sys.stderr.flush()
    try:
        log = tempfile.TemporaryFile()
    except OSError:  # nowhere to write (a locked-down sandbox): a plain import
        import tensorflow  # noqa: F401

        return
    saved = os.dup(2)
    with log:
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
