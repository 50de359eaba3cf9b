"""One trainer per run folder: an exclusive ``flock`` on ``<run>/.tfcourse-lock``.

The file exists while a trainer works in the folder: :meth:`RunLock.release` (the end of a run,
also on errors) deletes it. The kernel drops the lock when the process ends, even on SIGKILL,
so a killed trainer leaves the file but never a stale lock; the next trainer takes it over. The
pid written into the file is only there for the message a second trainer gets.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from tfcourse.errors import RunError
from tfcourse.safe_write import storage_error

LOCK_FILE = ".tfcourse-lock"


class RunLock:
    """An exclusive ``flock`` on ``<run>/.tfcourse-lock``, held until :meth:`release` or exit."""

    def __init__(self, run: Path, fd: int) -> None:
        self.run, self.fd = run, fd

    def release(self) -> None:
        """Delete the lock file, then unlock (idempotent).

        The file goes first, while the lock is still held: a trainer that opened it just
        before finds, once it gets the lock, that the path no longer names the file it locked
        (see :func:`lock_run`), so no two trainers can ever both hold "the" lock.
        """
        if self.fd >= 0:
            _HELD.pop(str(self.run), None)
            try:
                (self.run / LOCK_FILE).unlink(missing_ok=True)
            except OSError:  # a read-only or vanished folder: the lock is released all the same
                pass
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = -1


_HELD: dict[str, RunLock] = {}  # locks of this process, so re-locking the same run is a no-op


def _same_file(fd: int, path: Path) -> bool:
    """True while ``path`` still names the file open as ``fd`` (not deleted, not replaced)."""
    try:
        here, there = os.fstat(fd), os.stat(path)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


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
    while True:
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
                f"run {run} is in use by another trainer (pid {holder}); wait for it to "
                f"finish, stop it (kill {holder}), or start a new run without --resume"
            ) from None
        if _same_file(fd, path):
            break
        os.close(fd)  # the holder released (and deleted) it between our open and flock: again
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    _HELD[str(run)] = lock = RunLock(run, fd)
    return lock
