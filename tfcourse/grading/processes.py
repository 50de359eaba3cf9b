"""The worker's process tree: adopting detached descendants, finding, measuring and killing them.

The grader is a child subreaper (:func:`become_subreaper`), so processes the submission detaches
(``setsid``, double fork) stay its descendants; :func:`descendants` and :func:`rss_bytes` let the
session watch them, and :func:`kill_descendants` (with :func:`kill_uid` in ``uid`` mode) removes
them all when grading ends. Containment itself is :mod:`.sandbox`.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time

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
