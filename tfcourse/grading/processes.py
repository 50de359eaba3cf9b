"""The worker's process tree: adopting detached descendants, finding, measuring and killing them.

The grader is a child subreaper (:func:`become_subreaper`), so processes the submission detaches
(``setsid``, double fork) stay its descendants; :func:`descendants` and :func:`rss_bytes` let the
session watch them, and :func:`kill_descendants` (with :func:`kill_uid` in ``uid`` mode) removes
them all when grading ends. Containment itself is :mod:`.sandbox`.

Memory that no process's resident size shows counts too: files in the worker's own tmpfs
(:func:`private_mounts_bytes`), files it owns in folders (:func:`files_bytes`), files it holds
open with no name (:func:`open_unlinked_bytes`); :func:`remove_owned` deletes what uid nobody
left in the host's shared temporary folders (``uid`` mode).
"""

from __future__ import annotations

import ctypes
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

from tfcourse.grading.limits import NOBODY


def become_subreaper() -> None:
    """Adopt orphaned descendants (Linux ``PR_SET_CHILD_SUBREAPER``), so none escapes."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def children_map() -> dict[int, list[int]]:
    """``ppid -> [pid, ...]`` for every process in ``/proc``."""
    out: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        out.setdefault(ppid, []).append(int(entry.name))
    return out


def descendants(root: int) -> list[int]:
    """Every process below ``root`` (detached ones included, thanks to the subreaper)."""
    tree, found, todo = children_map(), [], [root]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def rss_bytes(pids: list[int]) -> int:
    """Resident memory of ``pids`` in bytes (processes that vanished count 0)."""
    page, total = os.sysconf("SC_PAGE_SIZE"), 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


def kill_descendants(keep: frozenset[int] = frozenset(), rounds: int = 50) -> None:
    """SIGKILL every descendant of this process except ``keep``, until none is left."""
    me = os.getpid()
    for _ in range(rounds):
        pids = [p for p in descendants(me) if p not in keep]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.02)
        reap_orphans(keep)


def reap_orphans(keep: frozenset[int] = frozenset()) -> None:
    """Collect exit statuses of adopted zombies (never those of ``keep``, our own Popens)."""
    for pid in children_map().get(os.getpid(), []):
        if pid in keep:
            continue
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def kill_uid(uid: int = NOBODY) -> None:
    """SIGKILL every process of ``uid`` (``uid`` mode: the sandbox uid is dedicated)."""
    if os.geteuid() != 0:
        return
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


# ---------------------------------------------------------------- memory held outside processes
SHARED_TMP = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")  # where uid nobody may write (uid mode)
PRIVATE_MOUNTS = ("tmp", "dev/shm", "dev")  # the sandbox's own tmpfs, seen via /proc/PID/root
MAX_SCANNED = 100_000  # files, folders and open files one scan looks at, at most
MAX_SCAN_DEPTH = 40  # folders nested deeper than this are not looked into


class ScanLimit(Exception):
    """The files to count are too many or nested too deep to count them cheaply."""


def files_bytes(folders: list[str | Path], uid: int | None, seen: set[tuple[int, int]]) -> int:
    """Bytes stored (allocated blocks) in the files below ``folders`` that ``uid`` owns.

    ``uid`` None counts every file (a folder of the worker's own). A folder that ``uid`` does
    not own is looked into only if anyone may write in it (``/tmp`` itself, a sticky folder
    inside). Symbolic links are never followed; each file counts once (``seen``: its device and
    inode), hard links included.

    Raises:
        ScanLimit: more than :data:`MAX_SCANNED` entries, or folders deeper than
            :data:`MAX_SCAN_DEPTH`, that ``uid`` owns.
    """
    total, count = 0, [0]
    for folder in folders:
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue
        try:
            total += _folder_bytes(fd, uid, seen, count, 0)
        finally:
            os.close(fd)
    return total


def _folder_bytes(
    dir_fd: int, uid: int | None, seen: set[tuple[int, int]], count: list[int], depth: int
) -> int:
    total = 0
    try:
        entries = list(os.scandir(dir_fd))
    except OSError:
        return 0
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        owned = uid is None or st.st_uid == uid
        if owned:
            count[0] += 1
            if count[0] > MAX_SCANNED:
                raise ScanLimit(f"more than {MAX_SCANNED} files and folders")
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
        if not stat.S_ISDIR(st.st_mode) or not (owned or st.st_mode & stat.S_IWOTH):
            continue
        if depth >= MAX_SCAN_DEPTH:
            if owned:
                raise ScanLimit(f"folders nested more than {MAX_SCAN_DEPTH} deep")
            continue
        try:
            child = os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
        except OSError:
            continue
        try:
            total += _folder_bytes(child, uid, seen, count, depth + 1)
        finally:
            os.close(child)
    return total


def private_mounts_bytes(pid: int, devices: set[int]) -> int:
    """Bytes used in the file systems that process ``pid`` has of its own at ``/tmp``,
    ``/dev/shm`` and ``/dev`` (bubblewrap's private tmpfs); adds their devices to ``devices``.

    A mount that is the grader's own (same device as here: uid and none modes) is skipped.
    """
    total = 0
    for name in PRIVATE_MOUNTS:
        inside = f"/proc/{pid}/root/{name}"
        try:
            device = os.stat(inside).st_dev
            if device in devices or device == os.stat(f"/{name}").st_dev:
                continue
            fs = os.statvfs(inside)
        except OSError:
            continue
        devices.add(device)
        total += (fs.f_blocks - fs.f_bfree) * fs.f_frsize
    return total


def open_unlinked_bytes(pids: list[int], devices: set[int], seen: set[tuple[int, int]]) -> int:
    """Bytes of the files that ``pids`` hold open but that have no name any more (deleted
    files, ``memfd_create``): no folder scan finds them. Files on ``devices`` are skipped
    (counted with their mount).

    Raises:
        ScanLimit: the processes hold more than :data:`MAX_SCANNED` open files.
    """
    total, count = 0, 0
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        count += len(fds)
        if count > MAX_SCANNED:
            raise ScanLimit(f"more than {MAX_SCANNED} open files")
        for fd in fds:
            try:
                st = os.stat(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            if stat.S_ISREG(st.st_mode) and st.st_nlink == 0 and st.st_dev not in devices:
                if key not in seen:
                    seen.add(key)
                    total += st.st_blocks * 512
    return total


def remove_owned(folders: list[str | Path], uid: int) -> None:
    """Delete everything ``uid`` owns in ``folders`` (and in the folders anyone may write in
    below them), whole trees included; nothing of another owner, no link followed.

    Run it once no process of ``uid`` is left (``uid`` mode: after :func:`kill_uid`).
    """
    doomed: list[str] = []
    for folder in folders:
        _owned_paths(str(folder), uid, doomed, 0)
    for start in range(0, len(doomed), 500):
        subprocess.run(
            ["rm", "-rf", "--one-file-system", "--", *doomed[start : start + 500]],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )


def _owned_paths(folder: str, uid: int, found: list[str], depth: int) -> None:
    """Append to ``found`` the entries of ``folder`` owned by ``uid``; look into the others
    that anyone may write in (e.g. ``/tmp/.X11-unix``)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if st.st_uid == uid:
            found.append(entry.path)
        elif stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_IWOTH and depth < MAX_SCAN_DEPTH:
            _owned_paths(entry.path, uid, found, depth + 1)
