"""Run directories and atomic writes, shared by every trainer.

Layout of one run (see README, "Conventions")::

    <logdir>/<name>-seed<seed>-<YYYYmmdd-HHMMSS>/
        config.json        every setting of the run
        events.out.tfevents.*   TensorBoard summaries
        checkpoints/       tf.train.CheckpointManager files
        metrics.json       final figures (written atomically at the end)
        *.png / *.gif      figures

Nothing is ever half-written: JSON and image bytes go to a temporary file in the same
directory and are moved into place with :func:`os.replace`, which is atomic on POSIX.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from tfcourse.errors import ConfigError

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    Args:
        path: destination file; its parent directory must exist.
        data: the complete file contents.

    Returns:
        The destination as a :class:`Path`.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Serialise ``obj`` as indented JSON and write it atomically."""
    text = json.dumps(to_jsonable(obj), indent=2, sort_keys=True) + "\n"
    return atomic_write_bytes(path, text.encode("utf-8"))


def to_jsonable(obj: Any) -> Any:
    """Convert dataclasses, paths, numpy scalars and tuples into plain JSON values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if hasattr(obj, "item") and callable(obj.item):  # numpy / tf scalars
        return obj.item()
    return obj


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
    """Create a fresh ``<logdir>/<name>-seed<seed>-<timestamp>`` directory and return it."""
    base = ensure_writable_dir(logdir)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run = base / f"{name}-seed{seed}-{stamp}"
    suffix = 1
    while run.exists():  # two runs started within the same second
        suffix += 1
        run = base / f"{name}-seed{seed}-{stamp}-{suffix}"
    run.mkdir()
    return run


def latest_run_dir(logdir: str | os.PathLike, name: str) -> Path | None:
    """Return the most recently modified run directory ``<logdir>/<name>-*`` or ``None``."""
    base = Path(logdir)
    if not base.is_dir():
        return None
    runs = [p for p in base.glob(f"{name}-seed*") if p.is_dir() and (p / CONFIG_FILE).exists()]
    return max(runs, key=lambda p: (p / CONFIG_FILE).stat().st_mtime, default=None)


def open_run_dir(config: Any, must_match: tuple[str, ...] = ()) -> Path:
    """The run directory of a trainer: a new one, or with ``config.resume`` the latest one.

    ``config`` needs ``logdir``, ``name``, ``seed`` and ``resume``; its ``config.json`` is
    (re)written atomically.

    Args:
        config: the trainer's resolved config dataclass.
        must_match: fields that must equal the resumed run's saved values (e.g. the model size).

    Raises:
        ConfigError: nothing to resume, or a ``must_match`` field differs from the saved run.
    """
    if not config.resume:
        run = new_run_dir(config.logdir, config.name, config.seed)
    else:
        run = latest_run_dir(config.logdir, config.name)
        if run is None:
            raise ConfigError(
                f"--resume: no run named {config.name!r} in {config.logdir!r}; "
                "start one without --resume"
            )
        saved = load_json(run / CONFIG_FILE)
        for key in must_match:
            if saved.get(key) != getattr(config, key):
                raise ConfigError(
                    f"--resume: {key} was {saved.get(key)!r} in {run}, "
                    f"not {getattr(config, key)!r}; use the original value"
                )
    atomic_write_json(run / CONFIG_FILE, config)
    return run


def load_json(path: str | os.PathLike) -> dict[str, Any]:
    """Read a JSON file written by :func:`atomic_write_json`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
