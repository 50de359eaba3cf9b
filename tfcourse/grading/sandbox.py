"""Containing the worker: which mode, the bwrap command line, its environment, uid-mode checks.

Three levels, best first (``mode="auto"`` picks the first that works here):

* ``bwrap``: bubblewrap gives the worker its own PID, network, IPC and mount namespaces, a
  read-only view of the system directories and of the Python installation only (no home, no
  project, no tests, no results folder, no tfcourse source), a private ``/tmp``, and kills every
  process inside when the worker goes. The worker is an unprivileged host uid, never root: a
  root grader starts bubblewrap without a user namespace and the sandbox's first program drops
  to a uid of this grading's own (:func:`worker_uid`) with ``no_new_privs``
  (:func:`.privileges.drop_command`); an ordinary account gets a user namespace mapping
  ``nobody`` to itself. bubblewrap reads its arguments from a file descriptor, so the
  sandbox's process 1 shows no host folder.
* ``uid``: the grader runs as root but bwrap cannot run (a container without namespaces), or
  ``--sandbox uid`` asks for it: the worker drops to ``nobody`` with ``no_new_privs`` before
  it starts, sees only processes of uid ``nobody`` where the kernel allows a private ``/proc``,
  and the grader refuses to start while ``nobody`` could read the solutions, the tests, the
  results or the tfcourse checkout (:func:`check_uid_mode`).
* ``none``: an ordinary account without bwrap. The submission has that user's rights; the
  grader says so once per run.

In every mode the worker imports tfcourse only from its runtime folder (:mod:`.runtime`), starts
in a fresh folder holding nothing but the submission, with a scrubbed environment
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
from tfcourse.grading import runtime
from tfcourse.grading.errors import GraderFailure
from tfcourse.grading.limits import NOBODY
from tfcourse.grading.privileges import drop_command

MODES = ("auto", "bwrap", "uid", "none")
SANDBOX_ROOT = "/sub"  # the worker's folder, as the worker sees it under bwrap
PACKAGE_ROOT = "/opt/tfcourse"  # its runtime folder (:mod:`.runtime`), as it sees it under bwrap
# bwrap as root: the worker's host uid is this plus the grader's pid, in a range no system
# allocates (systemd's "unused" 0x70000000-0x7FFFFFFF), so that concurrent gradings share no
# uid: not RLIMIT_NPROC's count, nor uid mode's cleanup of what uid nobody left
WORKER_UIDS = 0x7F000000


def _in_user_namespace() -> bool:
    """Whether the bwrap worker runs in a user namespace: always for an ordinary account; as
    root only where bubblewrap cannot create namespaces without one (no ``CAP_SYS_ADMIN``)."""
    return os.geteuid() != 0 or not _probe(_ROOT_SPACES)


def worker_uid(mode: str) -> int | None:
    """The host uid the worker is dropped to in ``mode``; None where it keeps the grader's.

    ``uid`` mode: :data:`.limits.NOBODY`. ``bwrap`` as root: one uid per grading process
    (:data:`WORKER_UIDS` plus its pid), unprivileged and no one else's. None for ``none`` mode
    and for a bwrap worker in a user namespace, which maps its uid ``nobody`` to the grader's
    (without capabilities: as root, only where bubblewrap has no other way).
    """
    if mode == "uid":
        return NOBODY
    if mode == "bwrap" and not _in_user_namespace():
        return WORKER_UIDS + os.getpid()
    return None


_ROOT_SPACES = ("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try")
_USER_SPACES = ("--unshare-all", "--cap-drop", "ALL", "--uid", str(NOBODY), "--gid", str(NOBODY))


def _namespaces(allow_network: bool = False) -> list[str]:
    """The namespace options: no user namespace where root may do without, its worker drops
    to an unprivileged host uid instead (:func:`worker_uid`); else a user namespace mapping
    ``nobody`` to the grader's uid, without capabilities."""
    if not _in_user_namespace():
        return [*_ROOT_SPACES, *([] if allow_network else ["--unshare-net"])]
    return [*_USER_SPACES, *(["--share-net"] if allow_network else [])]


@functools.cache
def _probe(spaces: tuple[str, ...]) -> bool:
    """Whether bubblewrap runs ``true`` with these namespace options here."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False
    cmd = [exe, *spaces, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def bwrap_works() -> bool:
    """Whether bubblewrap is installed and may create namespaces on this machine."""
    return _probe(tuple(_namespaces()))


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
        "own PID and network namespaces, read-only system, no view of the tests, results "
        "or tfcourse source, an unprivileged uid",
    ),
    "uid": (
        "uid nobody",
        "WARNING: weaker than bubblewrap: the submission shares the grader's file system "
        "(grading refuses to start while uid nobody could read the solutions, tests, results "
        "or tfcourse checkout) and may see processes of uid nobody",
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
    if mode == "bwrap" and os.geteuid() == 0 and _in_user_namespace():
        what += (
            "; WARNING: bubblewrap needs a user namespace here, so the worker is root in it "
            "(without capabilities) and can read root's files in the folders it sees"
        )
    return f"sandbox: {name} ({mode_reason(mode)}): {what}"


def _checkout_root() -> Path | None:
    """The source checkout tfcourse is installed from in editable mode (it holds the solutions)."""
    root = Path(tfcourse.__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() else None


def _python_dirs(hidden: list[Path]) -> list[str]:
    """Folders the interpreter needs, minus those that are or hold a hidden folder.

    Its prefixes and the folders of :func:`.runtime.python_path` (standard library,
    site-packages). A folder inside a hidden one stays (a virtual environment in the checkout,
    ``.venv``); the checkout root never shows.
    """
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(sys.executable).parent)}
    dirs.update(runtime.python_path())
    checkout = _checkout_root()
    hidden = [*hidden, checkout] if checkout is not None else list(hidden)
    keep = []
    for d in sorted(dirs):
        real = Path(d).resolve()
        if any(h == real or h.is_relative_to(real) for h in hidden):
            continue
        keep.append(str(real))
    return keep


def _masks(bound: list[str]) -> list[str]:
    """Options hiding tfcourse itself in the bound site-packages folders (its package, its
    distribution record, an editable install's finder, which names the checkout)."""
    options: list[str] = []
    for folder in runtime.python_path():
        if not any(folder == b or folder.startswith(b.rstrip("/") + "/") for b in bound):
            continue
        for path in runtime.masked_entries(folder):
            if os.path.isdir(path):
                options += ["--tmpfs", path, "--remount-ro", path]
            else:
                options += ["--ro-bind", "/dev/null", path]
    return options


def _traversable(bound: list[str]) -> list[str]:
    """``--chmod 0755`` for the folders bubblewrap made on the way to the ``bound`` ones (it
    makes them private to root, which would lock the worker out of a Python under ``/root``)."""
    made: set[str] = set()
    for target in bound:
        for parent in Path(target).parents:
            folder = str(parent)
            inside = any(folder == b or folder.startswith(b.rstrip("/") + "/") for b in bound)
            if folder not in ("/", "/tmp") and not inside:
                made.add(folder)
    return [arg for folder in sorted(made) for arg in ("--chmod", "0755", folder)]


def bwrap_command(
    workdir: Path,
    hidden: list[Path],
    allow_network: bool = False,
    runtime_dir: Path | None = None,
    tmpfs_bytes: int | None = None,
) -> list[str]:
    """The ``bwrap`` arguments that put the worker in its own namespaces and views, ending
    with ``--`` (as root, followed by the program that drops to :func:`worker_uid`).

    Args:
        workdir: the submission's folder, the worker's ``/sub`` (writable).
        hidden: folders the sandbox must not show (the checkout root never shows).
        allow_network: keep the host's network.
        runtime_dir: the worker's runtime (:mod:`.runtime`), bound read-only at
            :data:`PACKAGE_ROOT`.
        tmpfs_bytes: the size of each of the private ``/tmp`` and ``/dev/shm`` (``/dev``
            itself is read-only), so files cannot hold memory beyond the worker's cap.

    The private ``/tmp``, ``/proc`` and ``/dev`` come first, so that the Python folders bound
    after them show even where they lie below ``/tmp`` (a scratch virtual environment).
    """
    cmd = ["bwrap", "--die-with-parent", "--new-session", *_namespaces(allow_network)]
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    if tmpfs_bytes is None:
        cmd += ["--tmpfs", "/tmp", "--chmod", "1777", "/tmp"]
    else:
        size = str(int(tmpfs_bytes))
        cmd += [
            "--remount-ro",
            "/dev",
            "--size",
            size,
            "--tmpfs",
            "/tmp",
            "--chmod",
            "1777",
            "/tmp",
        ]
        cmd += ["--size", size, "--tmpfs", "/dev/shm", "--chmod", "1777", "/dev/shm"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            cmd += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            cmd += ["--ro-bind", top, top]
    cmd += ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for secret in ("/etc/shadow", "/etc/gshadow", "/etc/sudoers"):
        if os.path.exists(secret):
            cmd += ["--ro-bind", "/dev/null", secret]
    bound = ["/usr", "/etc"]
    for d in _python_dirs(hidden):
        if not d.startswith(("/usr/", "/etc/")):
            cmd += ["--ro-bind", d, d]
            bound.append(d)
    cmd += _masks(bound)
    if runtime_dir is not None:
        cmd += ["--ro-bind", str(runtime_dir), PACKAGE_ROOT]
        bound.append(PACKAGE_ROOT)
    cmd += ["--bind", str(workdir), SANDBOX_ROOT]
    cmd += _traversable([*bound, SANDBOX_ROOT])
    cmd += ["--chdir", SANDBOX_ROOT, "--"]
    uid = worker_uid("bwrap")
    if uid is not None:
        cmd += drop_command(uid, sys.executable)
    return cmd


def args_from_fd(cmd: list[str]) -> tuple[list[str], int | None]:
    """``cmd`` with bubblewrap's options moved into a memory file (``--args FD``), so the
    sandbox's process 1 shows ``bwrap --args FD -- ...``, no host folder; and that file's
    descriptor, to pass to the child and close afterwards (None: unchanged, no such file)."""
    end = cmd.index("--")
    try:
        fd = os.memfd_create("bwrap-args", 0)
    except (AttributeError, OSError):
        return cmd, None
    os.write(fd, b"".join(os.fsencode(a) + b"\0" for a in cmd[1:end]))
    os.lseek(fd, 0, os.SEEK_SET)
    return [cmd[0], "--args", str(fd), *cmd[end:]], fd


def scrubbed_env(home: str) -> dict[str, str]:
    """The few variables the worker gets: nothing that names the grader's files."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "USER": "nobody",  # getpass.getuser() works even where the uid has no passwd entry
        "LOGNAME": "nobody",
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
    """Refuse ``uid`` mode where uid nobody could run no Python or read an instructor's file.

    Args:
        secrets: what the worker must not read: the test files, the assignment folder and its
            ``exercises.py``, the results folder. The tfcourse checkout (an editable install's
            source folder, which holds the solutions) is added here.

    Returns:
        Warnings for the mode's note: tfcourse's own source installed where uid nobody can
        read it (the finished functions of the exercises; grading goes on).

    Raises:
        RuntimeError: uid nobody cannot execute this interpreter or read its standard library.
        GraderFailure: uid nobody could read one of ``secrets``; the message names each one
            and the fix (``chmod -R o-rwx FOLDER``).
    """
    needed = [Path(sys.executable), Path(os.__file__)]
    if not all(nobody_can(needed[:1], os.X_OK) + nobody_can(needed[1:], os.R_OK)):
        raise RuntimeError(
            f"--sandbox uid: uid {NOBODY} cannot run {sys.executable} or read its standard "
            "library (a parent folder is not searchable by others); install Python where "
            "others may run it (e.g. /usr or /opt), or make its folders traversable (chmod o+x)"
        )
    checkout = _checkout_root()
    paths = list(dict.fromkeys([*secrets, *([checkout] if checkout is not None else [])]))
    paths = [p for p in paths if p.exists()]
    readable = nobody_can(paths, os.R_OK)
    searchable = nobody_can(paths, os.X_OK)
    exposed = [
        p for p, r, x in zip(paths, readable, searchable, strict=True) if r or (x and p.is_dir())
    ]
    if exposed:
        lines = [
            f"  {p}: chmod -R o-rwx {p if p.is_dir() else p.parent}"
            + (" (the tfcourse checkout: it holds the solutions)" if p == checkout else "")
            for p in exposed
        ]
        raise GraderFailure(
            f"--sandbox uid: the submission would run as uid {NOBODY}, which could read the "
            "instructor's files below, so nothing was graded; make them private to their "
            "owner (the grader runs as root and still reads them):\n" + "\n".join(lines)
        )
    package = runtime.package_dir()
    if (checkout is None or not package.is_relative_to(checkout)) and nobody_can(
        [package / "__init__.py"], os.R_OK
    )[0]:
        return [
            f"note: uid {NOBODY} can read tfcourse's own source in {package}, finished "
            "functions included; make it private (chmod -R o-rwx) where only root grades"
        ]
    return []
