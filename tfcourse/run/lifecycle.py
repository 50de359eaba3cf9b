"""One training run on disk: its folder, checkpoints, TensorBoard writer, resume, chief/worker.

Every trainer opens one :class:`Run` once its model and optimizer exist::

    run = Run(config, chief=scale.chief, model=model, optimizer=optimizer, step=step,
              progress=("epochs_completed", config.epochs, "--epochs"))
    ...                                     # training: run.log(step, {...}); run.save(step)
    return run.finish(metrics)              # metrics.json, written atomically; lock released

It is built from :mod:`tfcourse.run.folder` (the folder, ``config.json``, finished runs),
:mod:`tfcourse.run.lock` (one trainer per folder) and :mod:`tfcourse.run.checkpoints` (newest
intact checkpoint); :func:`check_loss` stops a run whose loss diverged. Opening a run checks
everything before it writes anything: the name, the resumed run's settings, the lock (one
trainer per folder), whether the run is already finished, and the checkpoint; so a rejected
``--resume`` leaves the folder byte for byte as it was. In a multi-worker cluster only the
chief (worker 0) writes the real run folder; every other worker must still save (checkpoints
are collective operations), so it writes into a scratch folder that :meth:`Run.finish`
deletes.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from tfcourse.errors import RunError
from tfcourse.run import checkpoints, folder, summaries
from tfcourse.run.lock import RunLock, lock_run
from tfcourse.safe_write import atomic_write_json, storage_error

EARLIER_KEY = "earlier"  # metrics.json: the figures of the part a continued run had finished


def prepare(config: Any) -> None:
    """What every run does first: check the run name and ``--logdir``, then seed everything.

    Raises:
        ConfigError: a ``--name`` that would leave ``--logdir``, or an unwritable ``--logdir``.
    """
    folder.check_run_name(config.name)
    folder.ensure_writable_dir(config.logdir)
    keras.utils.set_random_seed(config.seed)


_DISK_ERRORS = {
    "No space left on device": errno.ENOSPC,
    "Disk quota exceeded": errno.EDQUOT,
    "Read-only file system": errno.EROFS,
    "Permission denied": errno.EACCES,
}


def disk_errno(message: str) -> int | None:
    """The ``errno`` of a TensorFlow file error's message (e.g. ENOSPC), or None if not one."""
    return next((code for text, code in _DISK_ERRORS.items() if text in message), None)


def check_loss(
    loss: float, step: int, unit: str = "epoch", checkpoint: str | None = None, hint: str = ""
) -> float:
    """Stop a run whose loss became NaN or infinite, saying where and what to do.

    Call it on the host with the loss of each epoch/chunk (a Python float: no extra
    device work), *before* saving that epoch's checkpoint, so the last checkpoint stays good.

    Args:
        loss: the loss just computed.
        step: the epoch or step it belongs to.
        unit: ``"epoch"`` or ``"step"``, for the message.
        checkpoint: the newest good checkpoint, named in the message when given.
        hint: the fix, e.g. ``"lower --lr (it is 1000)"``; a generic one by default.

    Returns:
        ``loss`` unchanged when it is finite.

    Raises:
        RunError: the loss is NaN or ±inf.
    """
    value = float(loss)
    if value == value and abs(value) != float("inf"):
        return loss
    kept = f"; the last good checkpoint is {checkpoint}" if checkpoint else ""
    fix = hint or "lower --lr, or check the inputs for NaN"
    raise RunError(f"the loss became {value} at {unit} {step}, so training stopped{kept}; {fix}")


class Run:
    """The run folder of ``config`` (new, or the latest with ``config.resume``) and its files.

    Args:
        config: the trainer's resolved config (``logdir``, ``name``, ``seed``, ``resume``).
        chief: False on a non-chief worker: everything goes to a scratch folder instead.
        must_match: fields that must equal those of the run being resumed.
        progress: ``(done_key, target, flag)``, e.g. ``("epochs_completed", 10, "--epochs")``:
            a resumed run whose ``metrics.json`` already has ``target`` units is refused as
            finished; with a larger target it continues and keeps its earlier figures.
        **trackables: what a checkpoint holds, e.g. ``model=..., optimizer=..., step=...``;
            restored here from the newest intact checkpoint when resuming.

    Attributes:
        dir: the run folder. restored_from: the checkpoint restored, or None.
        restore_messages: why newer checkpoints were skipped (also printed to stderr).
        earlier: the finished part's ``metrics.json`` when a finished run is continued.
        writer: the TensorBoard summary writer of ``dir``.

    Raises:
        ConfigError, RunError, CheckpointError, StorageError: see :func:`folder.open_run_dir`,
            :func:`folder.check_not_finished` and :func:`checkpoints.restore`; nothing has
            been written to an existing run folder when they are raised.
    """

    def __init__(
        self,
        config: Any,
        chief: bool = True,
        must_match: tuple[str, ...] = (),
        progress: tuple[str, int, str] | None = None,
        **trackables: Any,
    ) -> None:
        self.scratch = None if chief else tempfile.mkdtemp(prefix="tfcourse-worker-")
        where = dataclasses.replace(config, logdir=self.scratch or config.logdir)
        self.dir: Path = folder.open_run_dir(where, must_match, lock=True, write_config=False)
        self._lock: RunLock | None = lock_run(self.dir)  # the lock just taken
        try:
            self.earlier: dict[str, Any] | None = None
            if config.resume and progress is not None:
                if folder.check_not_finished(self.dir, *progress):
                    self.earlier = folder.load_metrics(self.dir)
            self.ckpt, self.manager = checkpoints.make_manager(self.dir, **trackables)
            restored = checkpoints.restore(self.ckpt, self.manager, required=config.resume)
            self.restored_from, self.restore_messages = restored.path, restored.messages
            for line in self.restore_messages:
                print(f"tfcourse: note: {line}", file=sys.stderr)
            folder.write_config_file(self.dir, where)
            self.writer = summaries.create_writer(self.dir)
        except BaseException:
            self.release()
            if not config.resume:  # a folder this call created and nothing in it yet
                shutil.rmtree(self.dir, ignore_errors=True)
            raise

    def log(self, step: int, scalars: dict[str, float]) -> None:
        """Write TensorBoard scalars at ``step``."""
        summaries.log_scalars(self.writer, step, scalars)

    def save(self, step: int) -> None:
        """Save a checkpoint numbered ``step`` (the newest 3 are kept).

        Raises:
            StorageError: the disk is full, read-only or forbidden; the earlier checkpoints
                are kept and the half-written one is removed.
        """
        try:
            self.manager.save(checkpoint_number=step)
        except tf.errors.OpError as exc:
            errno_ = disk_errno(str(exc))
            if errno_ is None:
                raise
            for temp in Path(self.manager.directory).glob("*_temp"):
                shutil.rmtree(temp, ignore_errors=True)
            where = Path(self.manager.directory) / f"ckpt-{step}"
            error = OSError(errno_, os.strerror(errno_))
            raise storage_error(where, error, "--logdir") from None

    def say_resumed(self, unit: str, done: int, target: int) -> None:
        """With a restored checkpoint, print one line on stderr naming it and where it stands,
        e.g. ``tfcourse: resumed from runs/mlp-.../checkpoints/ckpt-2 at epoch 2 of 3``."""
        if self.restored_from is not None:
            where = f"{self.restored_from} at {unit} {done:,} of {target:,}"
            print(f"tfcourse: resumed from {where}", file=sys.stderr, flush=True)

    @property
    def latest_checkpoint(self) -> str | None:
        """The newest checkpoint saved (or restored) in this run, for error messages."""
        return self.manager.latest_checkpoint or self.restored_from

    def release(self) -> None:
        """Let another process train in the folder (idempotent; process exit also releases)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def finish(self, metrics: dict[str, Any]) -> dict[str, Any]:
        """Write ``metrics.json`` atomically, flush the logs, release the lock.

        A continued finished run keeps the earlier part's figures under ``"earlier"``.
        A non-chief worker deletes its scratch folder.

        Returns:
            ``metrics`` with ``run_dir`` (None on a non-chief worker: the chief has the results).
        """
        if self.earlier is not None:
            metrics[EARLIER_KEY] = {k: v for k, v in self.earlier.items() if k != "run_dir"}
        metrics["run_dir"] = str(self.dir)
        try:
            atomic_write_json(self.dir / folder.METRICS_FILE, metrics)
            self.writer.flush()
        finally:
            self.release()
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)
            metrics["run_dir"] = None
        return metrics
