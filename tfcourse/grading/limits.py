"""The resource limits of one submission, and applying them to the worker before it starts.

:class:`Limits` holds every limit (each a command-line option of the plugin). :func:`preexec` is
what the worker's child process runs before ``exec``: a new session, ``RLIMIT_NPROC``,
``RLIMIT_FSIZE``, ``RLIMIT_CPU``, no core files, and in ``uid`` mode no network, no System V
shared memory, and uid nobody with ``no_new_privs`` and a ``/proc`` that shows only its
processes (:mod:`.privileges`).
:func:`pids_cgroup` caps the worker's tasks where ``RLIMIT_NPROC`` cannot (root under bwrap), and
:func:`remove_cgroup` deletes that cgroup afterwards. The timeouts, the memory cap and the output
cap are enforced while the worker runs (:mod:`.session`, :mod:`.remote`); choosing and
describing the containment is :mod:`.sandbox`.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tfcourse.grading import privileges

NOBODY = 65534  # the uid and gid the worker runs as (bwrap and uid modes)
CLONE_NEWNET = 0x40000000
CLONE_NEWIPC = 0x08000000
PIDS_CGROUP = Path("/sys/fs/cgroup/pids")


@dataclass(frozen=True)
class Limits:
    """What one submission may use; every field is a command-line option of the plugin."""

    call_timeout: float = 60.0  # seconds per call into the submission
    test_timeout: float = 120.0  # seconds per test (all its calls)
    load_timeout: float = 300.0  # seconds to load (run) the submission file
    budget: float = 540.0  # seconds for the whole submission (Gradescope's default limit: 600)
    memory_mb: int = 4096  # resident memory of all its processes
    max_procs: int = 512  # processes and threads (RLIMIT_NPROC)
    file_size_mb: int = 256  # largest file it may write (RLIMIT_FSIZE)
    cpu_seconds: int = 3600  # CPU time (RLIMIT_CPU)
    output_kb: int = 64  # what is kept of its printed output


def _user_tasks() -> int:
    """Processes and threads of this user now (RLIMIT_NPROC counts them all)."""
    uid, count = os.getuid(), 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                continue
    return count


def _no_network() -> None:
    """Put this (root) process in new, empty network and IPC namespaces, where the kernel
    allows, with System V shared memory switched off in the latter: a segment would hold
    memory that no process's resident size shows, and would outlive the worker."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNET | CLONE_NEWIPC) != 0:
            libc.unshare(CLONE_NEWNET)
            return
    except (OSError, AttributeError):
        return
    try:
        with open("/proc/sys/kernel/shmall", "w") as f:  # this IPC namespace's own setting
            f.write("0")
    except OSError:
        pass


def pids_cgroup(max_procs: int) -> Path | None:
    """A fresh cgroup (v1 ``pids`` controller) capping tasks at ``max_procs``, if root may make one.

    RLIMIT_NPROC does not bind processes whose real uid is root, which is what bubblewrap's
    user namespace maps ``nobody`` to when the grader runs as root; the cgroup does.
    """
    if os.geteuid() != 0 or not os.access(PIDS_CGROUP, os.W_OK):
        return None
    path = PIDS_CGROUP / f"tfcourse-{os.getpid()}-{time.monotonic_ns()}"
    try:
        path.mkdir()
        (path / "pids.max").write_text(str(max_procs))
    except OSError:
        return None
    return path


def remove_cgroup(path: Path | None) -> None:
    """Delete a cgroup made by :func:`pids_cgroup` (once its processes are gone)."""
    if path is not None:
        for _ in range(50):
            try:
                path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.05)


def preexec(mode: str, limits: Limits, cgroup: Path | None = None) -> Callable[[], None]:
    """What the child runs before ``exec``: new session, limits, and (``uid``) drop to nobody."""
    procs = limits.max_procs + (_user_tasks() if mode == "none" else 0)
    procs_file = str(cgroup / "cgroup.procs") if cgroup is not None else None

    def run() -> None:
        os.setsid()
        if procs_file is not None:
            with open(procs_file, "w") as f:
                f.write(str(os.getpid()))
        mb = 2**20
        for kind, value in (
            (resource.RLIMIT_NPROC, procs),
            (resource.RLIMIT_FSIZE, limits.file_size_mb * mb),
            (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_CORE, 0),
        ):
            resource.setrlimit(kind, (value, value))
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        if mode == "uid":
            _no_network()
            privileges.hide_other_processes()
            privileges.become(NOBODY)  # with no_new_privs

    return run
