"""Giving up privileges before a submission runs: uid nobody, ``no_new_privs``, hidden processes.

Used where the grader runs as root: in ``uid`` mode by the worker's pre-exec step
(:func:`.limits.preexec`), and inside bubblewrap by the first program of the sandbox
(:func:`drop_command`: ``setpriv`` from util-linux, else a ``python -I -S -c`` stub doing the
same), so that the worker is the host's unprivileged uid ``nobody``, never root.
"""

from __future__ import annotations

import ctypes
import os
import shutil

PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 0x4000, 0x40000

# what drop_command runs when setpriv is missing: the same steps, then the worker
_STUB = (
    "import ctypes, os, sys; uid = int(sys.argv[1]); os.setgroups([]); os.setgid(uid); "
    "os.setuid(uid); ctypes.CDLL(None, use_errno=True).prctl(38, 1, 0, 0, 0) == 0 or "
    "sys.exit('cannot set no_new_privs'); os.execv(sys.argv[2], sys.argv[2:])"
)


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def no_new_privs() -> None:
    """Forbid this process and its children to gain privileges (setuid programs stay plain).

    Raises:
        OSError: the kernel refused.
    """
    if _libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")


def become(uid: int) -> None:
    """Drop every group, then to gid and uid ``uid`` (a root process's capabilities go too),
    with :func:`no_new_privs`."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    no_new_privs()


def hide_other_processes() -> bool:
    """Give this (root) process a private mount namespace whose ``/proc`` shows only the
    processes of its own uid (``hidepid``); False where the kernel does not allow it."""
    libc = _libc()
    if libc.unshare(CLONE_NEWNS) != 0:
        return False
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return False
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    for option in (b"hidepid=invisible", b"hidepid=2"):  # the second for kernels before 5.8
        if libc.mount(b"proc", b"/proc", b"proc", flags, option) == 0:
            return True
    return False


def drop_command(uid: int, python: str) -> list[str]:
    """The program that starts a sandbox's command as ``uid`` with ``no_new_privs``.

    ``setpriv`` where it lies in a system folder (bound into the sandbox), else ``python``
    running :data:`_STUB`; the command to run follows the returned list.
    """
    setpriv = shutil.which("setpriv", path="/usr/bin:/bin:/usr/sbin:/sbin")
    if setpriv is not None:
        return [
            setpriv,
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--no-new-privs",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--",
        ]
    return [python, "-I", "-S", "-c", _STUB, str(uid)]
