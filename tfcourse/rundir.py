"""Run directories, strict JSON and atomic writes, shared by every trainer.

Layout of one run (see README, "TensorBoard and run directories")::

    <logdir>/<name>-seed<seed>-<YYYYmmdd-HHMMSS>/
        config.json        every setting of the run
        events.out.tfevents.*   TensorBoard summaries
        checkpoints/       tf.train.CheckpointManager files
        metrics.json       final figures (written atomically at the end)
        .tfcourse-lock     held (flock) by the trainer at work; deleted when the run ends
        *.png / *.gif      figures

Guarantees, and the helper that gives each (the writers live in :mod:`tfcourse.safe_write`,
the lock in :mod:`tfcourse.run_lock`, finished/diverged runs in :mod:`tfcourse.run_state`;
all are importable from here):

* nothing is half-written (:func:`atomic_write_bytes`: temporary file + :func:`os.replace`);
  a full, read-only or forbidden disk raises :class:`~tfcourse.errors.StorageError` naming the
  path and the fix (:func:`storage_error` turns any ``OSError`` into one);
* JSON is strict (:func:`atomic_write_json`: ``allow_nan=False``; NaN/inf become ``null`` and
  their keys are listed under ``"non_finite"``);
* a run name cannot leave ``--logdir`` (:func:`check_run_name`);
* one trainer per run folder (:func:`lock_run`); a finished run is recognised
  (:func:`check_not_finished`), a diverged one stopped (:func:`check_loss`); a corrupt
  ``config.json`` is named (:func:`load_json`).
"""

from __future__ import annotations

import glob
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from tfcourse.errors import ConfigError
from tfcourse.run_lock import LOCK_FILE, RunLock, lock_run
from tfcourse.run_state import METRICS_FILE, check_loss, check_not_finished, load_metrics
from tfcourse.safe_write import (
    NON_FINITE_KEY,
    atomic_write_bytes,
    atomic_write_json,
    load_json,
    storage_error,
    strict_json,
    to_jsonable,
)

CONFIG_FILE = "config.json"
__all__ = [  # with the writers of safe_write and the lock of run_lock, importable from here
    "CONFIG_FILE",
    "LOCK_FILE",
    "METRICS_FILE",
    "NON_FINITE_KEY",
    "RunLock",
    "atomic_write_bytes",
    "atomic_write_json",
    "check_loss",
    "check_not_finished",
    "check_run_name",
    "ensure_writable_dir",
    "latest_run_dir",
    "load_json",
    "load_metrics",
    "lock_run",
    "new_run_dir",
    "open_run_dir",
    "storage_error",
    "strict_json",
    "to_jsonable",
    "write_config_file",
]


def check_run_name(name: str, flag: str = "--name") -> str:
    """Return ``name`` if it is a plain folder-name prefix that stays inside ``--logdir``.

    Raises:
        ConfigError: empty, ``.``/``..``, absolute, containing ``/`` or ``\\``, a NUL byte, or
            starting with ``-`` or ``.``.
    """
    text = str(name)
    bad = (
        not text.strip()
        or text.startswith((".", "-"))
        or any(sep in text for sep in ("/", "\\", "\0", os.sep, os.altsep or "/"))
        or os.path.isabs(text)
    )
    if bad:
        raise ConfigError(
            f"{flag} {text!r} is not a plain run name (it must stay inside --logdir: no '/', "
            f"'\\', '..' or leading '.' or '-'); use e.g. {flag} my-run"
        )
    return text


def ensure_writable_dir(path: str | os.PathLike, what: str = "--logdir") -> Path:
    """Create ``path`` if needed and prove we can write into it.

    Raises:
        ConfigError: if the directory cannot be created or written, naming ``what`` to change.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise ConfigError(
            f"{what} {os.fspath(path)!r} is not writable ({exc.strerror or exc}); "
            f"pass a directory you can write to, e.g. {what} runs"
        ) from None
    return path


def new_run_dir(logdir: str | os.PathLike, name: str, seed: int) -> Path:
    """Create a fresh ``<logdir>/<name>-seed<seed>-<timestamp>`` directory and return it.

    Raises:
        ConfigError: a bad ``name`` (:func:`check_run_name`) or an unwritable ``logdir``.
        StorageError: the folder cannot be created.
    """
    check_run_name(name)
    base = ensure_writable_dir(logdir)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run = base / f"{name}-seed{seed}-{stamp}"
    suffix = 1
    while True:
        try:
            run.mkdir()
            return run
        except FileExistsError:  # two runs started within the same second
            suffix += 1
            run = base / f"{name}-seed{seed}-{stamp}-{suffix}"
        except OSError as exc:
            raise storage_error(run, exc, "--logdir") from None


def latest_run_dir(logdir: str | os.PathLike, name: str) -> Path | None:
    """Return the most recently modified run directory ``<logdir>/<name>-seed*`` or ``None``.

    Raises:
        ConfigError: a bad ``name`` (:func:`check_run_name`).
    """
    check_run_name(name)
    base = Path(logdir)
    if not base.is_dir():
        return None
    runs = [
        p
        for p in base.glob(f"{glob.escape(name)}-seed*")
        if p.is_dir() and (p / CONFIG_FILE).exists()
    ]
    return max(runs, key=lambda p: (p / CONFIG_FILE).stat().st_mtime, default=None)


def open_run_dir(
    config: Any, must_match: tuple[str, ...] = (), *, lock: bool = False, write_config: bool = True
) -> Path:
    """The run directory of a trainer: a new one, or with ``config.resume`` the latest one.

    ``config`` needs ``logdir``, ``name``, ``seed`` and ``resume``. Every check happens before
    anything is written, so a rejected resume leaves the run folder as it was.

    Args:
        config: the trainer's resolved config dataclass.
        must_match: fields that must equal the resumed run's saved values (e.g. the model size).
        lock: take :func:`lock_run` on the folder (before ``config.json`` is written).
        write_config: (re)write ``config.json`` now; pass False to write it yourself with
            :func:`write_config_file` after your own checks (checkpoint, finished run).

    Raises:
        ConfigError: bad name, nothing to resume, or a ``must_match`` field differs.
        RunError: the saved ``config.json`` is corrupt, or (``lock``) another process trains
            in the folder.
        StorageError: the folder or ``config.json`` cannot be written.
    """
    check_run_name(config.name)
    if not config.resume:
        run = new_run_dir(config.logdir, config.name, config.seed)
    else:
        run = latest_run_dir(config.logdir, config.name)
        if run is None:
            raise ConfigError(
                f"--resume: no run named {config.name!r} in {str(config.logdir)!r}; "
                "start one without --resume"
            )
        saved = load_json(run / CONFIG_FILE)
        for key in must_match:
            if saved.get(key) != getattr(config, key):
                was, now, flag = saved.get(key), getattr(config, key), key.replace("_", "-")
                raise ConfigError(
                    f"resume: {key} was {was!r} in {run}, not {now!r}; use the original value"
                ).for_cli(
                    f"--resume: --{flag} was {was!r} in {run}, not {now!r}; "
                    f"pass the original --{flag} value"
                )
    if lock:
        lock_run(run)
    if write_config:
        write_config_file(run, config)
    return run


def write_config_file(run: str | os.PathLike, config: Any) -> Path:
    """Write ``<run>/config.json`` (strict JSON, atomically)."""
    return atomic_write_json(Path(run) / CONFIG_FILE, config)
