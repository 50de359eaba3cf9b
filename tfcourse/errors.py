"""User-facing errors.

Every mistake a student can make with the library (a missing data file, a bad hyper-parameter,
an input of the wrong shape) raises :class:`TfcourseError` (or a subclass) whose message says
what went wrong *and* how to fix it. The command line turns it into one line on stderr and exit
code 2; no traceback is shown for user mistakes.

An error whose fix is worded in Python (``path=...``) can carry the same fix in CLI words
(``--data-path FILE``): ``raise DataError(python_text).for_cli(cli_text)``. The command line
prints :attr:`TfcourseError.cli_message` when set, everyone else sees ``str(error)``.
"""

from __future__ import annotations

from typing import Self


class TfcourseError(Exception):
    """A problem the user can fix; the message names the problem and the fix."""

    # AutoGraph re-raises an error from inside a tf.function with its own type only when the
    # type's __init__ is Exception.__init__ (else it becomes a StagingError); the subclasses
    # below also inherit ValueError, whose __init__ would otherwise win in the MRO.
    __init__ = Exception.__init__

    cli_message: str | None = None  # the message in CLI words (flags), if it differs

    def for_cli(self, message: str) -> Self:
        """Also give the message in the CLI's words (flags instead of parameters); returns
        ``self``, so ``raise DataError("pass path=...").for_cli("pass --data-path FILE")``."""
        self.cli_message = message
        return self


class DataError(TfcourseError):
    """A data set could not be found, read or validated."""


class ConfigError(TfcourseError, ValueError):
    """A configuration value (CLI flag or dataclass field) is out of range or unknown."""


class ShapeError(TfcourseError, ValueError):
    """A tensor has the wrong rank, shape, dtype or contents for the operation."""


class StorageError(TfcourseError):
    """A file or folder cannot be written: disk full, read-only, no permission, a directory."""


class RunError(TfcourseError):
    """A run folder cannot be used: locked by another trainer, finished, or its files corrupt."""


class CheckpointError(RunError):
    """No checkpoint, every checkpoint corrupt, or checkpoints of a different model."""
