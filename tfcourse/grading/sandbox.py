"""Containing the worker: which mode, the bwrap command line, its environment, uid-mode checks.

Three levels, best first (``mode="auto"`` picks the first that works here):

* ``bwrap``: bubblewrap gives the worker its own PID, network, IPC and mount namespaces, a
  read-only view of the system directories and of the Python installation only (no home, no
  project, no tests, no results folder), a private ``/tmp``, uid ``nobody``, and kills every
  process inside when the worker goes.
* ``uid``: the grader runs as root but bwrap cannot run (a container without user namespaces),
  or ``--sandbox uid`` asks for it: the worker drops to ``nobody`` before it starts, so it
  cannot signal the grader nor read or write files that only root may.
* ``none``: an ordinary account without bwrap. The submission has that user's rights; the
  grader says so once per run.

In every mode the worker starts in a fresh empty folder with a scrubbed environment
(:func:`scrubbed_env`) and the resource limits of :mod:`.limits`; the grader is a child
subreaper, so processes that detach (``setsid``, double fork) stay its descendants, and
:func:`.processes.kill_descendants` removes them all when grading ends.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import tfcourse
from tfcourse.grading.limits import NOBODY

MODES = ("auto", "bwrap", "uid", "none")
SANDBOX_ROOT = "/sub"  # the worker's folder, as the worker sees it under bwrap
PACKAGE_ROOT = "/opt/tfcourse"


@functools.cache
def bwrap_works() -> bool:
    """Whether bubblewrap is installed and may create namespaces on this machine."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False
    probe = [exe, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--unshare-all"]
    try:
        done = subprocess.run([*probe, "true"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def choose_mode(requested: str = "auto") -> str:
    """``"bwrap"``, ``"uid"`` or ``"none"``: the strongest containment available."""
    if requested not in MODES:
        raise ValueError(f"sandbox mode must be one of {', '.join(MODES)}, not {requested!r}")
    if requested != "auto":
        return requested
    if bwrap_works():
        return "bwrap"
    return "uid" if os.geteuid() == 0 else "none"


def mode_reason(mode: str) -> str:
    """Why ``mode`` contains the submission here: chosen by ``auto`` or by ``--sandbox``."""
    if mode == "bwrap":
        return "bubblewrap works here"
    if mode == "uid":
        if bwrap_works():
            return "chosen with --sandbox uid, although bubblewrap works here"
        return "bubblewrap cannot run here and the grader runs as root"
    if bwrap_works() or os.geteuid() == 0:
        return "chosen with --sandbox none"
    return "bubblewrap cannot run here and the grader does not run as root"


_WHAT = {
    "bwrap": (
        "bubblewrap",
        "own PID and network namespaces, read-only system, no view of the "
        "tests or results, uid nobody",
    ),
    "uid": (
        "uid nobody",
        "WARNING: weaker than bubblewrap: the submission shares the grader's "
        "file system and sees its processes; keep the tests and results folders unreadable "
        "to others",
    ),
    "none": (
        "none",
        "WARNING: no sandbox: the submission runs with this user's rights and could read or "
        "change this user's files; grade untrusted work only as root or where bubblewrap "
        "works",
    ),
}


def describe_mode(mode: str) -> str:
    """One line: what contains the submission, why (:func:`mode_reason`), a warning below bwrap."""
    name, what = _WHAT[mode]
    return f"sandbox: {name} ({mode_reason(mode)}): {what}"


def _checkout_root() -> Path | None:
    """The source checkout tfcourse is installed from in editable mode (it holds the solutions)."""
    root = Path(tfcourse.__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() else None


def _python_dirs(hidden: list[Path]) -> list[str]:
    """Folders the interpreter needs, minus those that are or hold a hidden folder.

    A folder inside a hidden one stays (a virtual environment in the checkout, ``.venv``); the
    checkout root itself, which an editable install puts on ``sys.path``, never shows.
    """
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(sys.executable).parent)}
    dirs.update(p for p in sys.path if p and os.path.isdir(p))
    checkout = _checkout_root()
    hidden = [*hidden, checkout] if checkout is not None else list(hidden)
    keep = []
    for d in sorted(dirs):
        real = Path(d).resolve()
        if any(h == real or h.is_relative_to(real) for h in hidden):
            continue
        keep.append(str(real))
    return keep


def bwrap_command(workdir: Path, hidden: list[Path], allow_network: bool = False) -> list[str]:
    """The ``bwrap`` arguments that put the worker in its own namespaces and views.

    The private ``/tmp``, ``/proc`` and ``/dev`` come first, so that the Python folders bound
    after them show even where they lie below ``/tmp`` (a scratch virtual environment).
    """
    cmd = ["bwrap", "--die-with-parent", "--new-session", "--unshare-all", "--cap-drop", "ALL"]
    if allow_network:
        cmd.append("--share-net")
    cmd += ["--uid", str(NOBODY), "--gid", str(NOBODY)]
    cmd += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            cmd += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            cmd += ["--ro-bind", top, top]
    cmd += ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for secret in ("/etc/shadow", "/etc/gshadow", "/etc/sudoers"):
        if os.path.exists(secret):
            cmd += ["--ro-bind", "/dev/null", secret]
    for d in _python_dirs(hidden):
        if not d.startswith(("/usr/", "/etc/")):
            cmd += ["--ro-bind", d, d]
    package = str(Path(tfcourse.__file__).resolve().parent)
    cmd += ["--ro-bind", package, f"{PACKAGE_ROOT}/tfcourse"]
    cmd += ["--bind", str(workdir), SANDBOX_ROOT, "--chdir", SANDBOX_ROOT]
    return [*cmd, "--"]


def scrubbed_env(home: str) -> dict[str, str]:
    """The few variables the worker gets: nothing that names the grader's files."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "MPLBACKEND": "Agg",
        "KERAS_HOME": f"{home}/.keras",
        "MPLCONFIGDIR": f"{home}/.matplotlib",
    }
    for name in ("TFCOURSE_FAST", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def nobody_can(paths: list[Path], mode: int) -> list[bool]:
    """Whether uid ``nobody`` may access each path with ``mode`` (``os.R_OK``, ``os.X_OK``)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.write(write, bytes(int(os.access(p, mode)) for p in paths))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        answer = f.read()
    os.waitpid(pid, 0)
    return [bool(b) for b in answer.ljust(len(paths), b"\0")]


def check_uid_mode(secrets: list[Path]) -> list[str]:
    """Problems of ``uid`` mode here: raises if nobody cannot run Python; lists readable secrets.

    Raises:
        RuntimeError: uid nobody cannot execute this interpreter or read tfcourse.
    """
    package = Path(tfcourse.__file__).resolve()
    runs = nobody_can([Path(sys.executable), package], os.X_OK)
    if not runs[0] or not nobody_can([package], os.R_OK)[0]:
        raise RuntimeError(
            f"--sandbox uid: uid {NOBODY} cannot run {sys.executable} or read {package} (a "
            "parent folder is not searchable by others); install Python and tfcourse where "
            "others may run them (e.g. /usr or /opt), or make the folders traversable (chmod o+x)"
        )
    exposed = nobody_can(secrets, os.R_OK)
    return [
        f"uid {NOBODY} can read {p}: make its folder chmod 700"
        for p, e in zip(secrets, exposed, strict=True)
        if e
    ]
