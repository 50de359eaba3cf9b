"""One trainer per run folder: an exclusive ``flock`` on ``<run>/.tfcourse-lock``.

The kernel drops the lock when the process ends, even on SIGKILL, so a crash never leaves a
stale lock; the pid written into the file is only there for the message a second trainer gets.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from tfcourse.errors import RunError
from tfcourse.safe_write import storage_error

LOCK_FILE = ".tfcourse-lock"


class RunLock:
    """An exclusive ``flock`` on ``<run>/.tfcourse-lock``, held until :meth:`release` or exit.

    The kernel drops the lock when the process ends, even on SIGKILL, so a crash never leaves
    a stale lock; the pid in the file is only for the message.
    """

    def __init__(self, run: Path, fd: int) -> None:
        self.run, self.fd = run, fd

    def release(self) -> None:
        """Unlock (the lock file stays; it is harmless)."""
        if self.fd >= 0:
            _HELD.pop(str(self.run), None)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = -1


_HELD: dict[str, RunLock] = {}  # locks of this process, so re-locking the same run is a no-op


def lock_run(run: str | os.PathLike) -> RunLock:
    """Lock run folder ``run`` for this process (re-entrant within one process).

    Returns:
        The :class:`RunLock` (keep it, or let process exit release it).

    Raises:
        RunError: another process holds the lock; the message names the run and its pid.
        StorageError: the lock file cannot be created.
    """
    run = Path(run).resolve()
    if str(run) in _HELD:
        return _HELD[str(run)]
    path = run / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise storage_error(path, exc, "--logdir") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise RunError(
            f"run {run} is in use by another trainer (pid {holder}); wait for it to finish, "
            f"stop it (kill {holder}), or start a new run without --resume"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    _HELD[str(run)] = lock = RunLock(run, fd)
    return lock
