"""A run's folder: its name, creating or finding it, its ``config.json`` and ``metrics.json``.

Layout of one run (see README, "TensorBoard and run directories")::

    <logdir>/<name>-seed<seed>-<YYYYmmdd-HHMMSS>/
        config.json        every setting of the run
        events.out.tfevents.*   TensorBoard summaries
        checkpoints/       tf.train.CheckpointManager files
        metrics.json       final figures (written atomically at the end)
        .tfcourse-lock     held (flock) by the trainer at work; deleted when the run ends
        *.png / *.gif      figures

* a run name cannot leave ``--logdir`` (:func:`check_run_name`);
* a new run gets a fresh folder (:func:`new_run_dir`), ``--resume`` the latest one of its name
  (:func:`latest_run_dir`) after checking the settings that must match (:func:`open_run_dir`);
* ``metrics.json`` is written only when training ends, so its counters (``epochs_completed``,
  ``steps_completed``) tell whether a ``--resume`` has anything left to do
  (:func:`check_not_finished`).

The files are written atomically as strict JSON (:mod:`tfcourse.safe_write`); one trainer per
folder is :mod:`tfcourse.run.lock`'s job.
"""

from __future__ import annotations

import glob
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from tfcourse.errors import ConfigError, RunError
from tfcourse.run.lock import lock_run
from tfcourse.safe_write import atomic_write_json, load_json, storage_error

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"


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


def load_metrics(run: str | os.PathLike) -> dict[str, Any] | None:
    """The run's ``metrics.json`` (written when it finished), or None if it has none yet.

    Raises:
        RunError: ``metrics.json`` exists but is corrupt.
    """
    path = Path(run) / METRICS_FILE
    return load_json(path) if path.exists() else None


def check_not_finished(run: str | os.PathLike, done_key: str, target: int, flag: str) -> int:
    """Refuse to resume a run that already did ``target`` units; return the units done.

    ``metrics.json`` is written only at the end of training, so its ``done_key`` (e.g.
    ``"epochs_completed"``, ``"steps_completed"``) tells how far a finished run got.

    Args:
        run: the run folder being resumed.
        done_key: the metrics key counting completed units.
        target: the units this resume asks for in total (e.g. ``config.epochs``).
        flag: the CLI flag that sets ``target``, e.g. ``"--epochs"``.

    Returns:
        Units the earlier finished part completed (0 if the run never finished: resume it).

    Raises:
        RunError: the run already completed ``target`` or more; the message says how to
            train on (a larger ``flag``) or start afresh.
    """
    metrics = load_metrics(run)
    done = metrics.get(done_key) if metrics else None
    if not isinstance(done, int | float) or isinstance(done, bool):
        return 0
    if done >= target:
        raise RunError(
            f"--resume: run {run} is finished ({done_key} {int(done)} of {target} in "
            f"{METRICS_FILE}); nothing to do. Pass {flag} larger than {int(done)} to train on, "
            "or drop --resume to start a new run"
        )
    return int(done)
