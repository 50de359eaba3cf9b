"""One training run on disk: its folder, checkpoints, TensorBoard writer, resume, chief/worker.

Every trainer opens one :class:`Run` once its model and optimizer exist::

    run = Run(config, chief=scale.chief, model=model, optimizer=optimizer, step=step)
    ...                                     # training: run.log(step, {...}); run.save(step)
    return run.finish(metrics)              # metrics.json, written atomically

It is built from :mod:`tfcourse.rundir` (folders, ``config.json``, atomic writes) and
:mod:`tfcourse.checkpoints` (manager, strict restore). In a multi-worker cluster only the chief
(worker 0) writes the real run folder; every other worker must still save (checkpoints are
collective operations), so it writes into a scratch folder that :meth:`Run.finish` deletes.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import Any

import keras

from tfcourse import checkpoints, rundir, summaries


def prepare(config: Any) -> None:
    """What every run does first: prove ``--logdir`` is writable, then seed Python, numpy, TF.

    Raises:
        ConfigError: naming ``--logdir`` when it cannot be written.
    """
    rundir.ensure_writable_dir(config.logdir)
    keras.utils.set_random_seed(config.seed)


class Run:
    """The run folder of ``config`` (new, or the latest with ``config.resume``) and its files.

    Args:
        config: the trainer's resolved config (``logdir``, ``name``, ``seed``, ``resume``).
        chief: False on a non-chief worker: everything goes to a scratch folder instead.
        must_match: fields that must equal those of the run being resumed.
        **trackables: what a checkpoint holds, e.g. ``model=..., optimizer=..., step=...``;
            restored here from the newest checkpoint when there is one.

    Attributes:
        dir: the run folder. restored_from: the checkpoint restored, or None.
        writer: the TensorBoard summary writer of ``dir``.
    """

    def __init__(
        self, config: Any, chief: bool = True, must_match: tuple[str, ...] = (), **trackables: Any
    ) -> None:
        self.scratch = None if chief else tempfile.mkdtemp(prefix="tfcourse-worker-")
        where = dataclasses.replace(config, logdir=self.scratch or config.logdir)
        self.dir: Path = rundir.open_run_dir(where, must_match=must_match)
        self.ckpt, self.manager = checkpoints.make_manager(self.dir, **trackables)
        self.restored_from = checkpoints.restore_latest(self.ckpt, self.manager, config.resume)
        self.writer = summaries.create_writer(self.dir)

    def log(self, step: int, scalars: dict[str, float]) -> None:
        """Write TensorBoard scalars at ``step``."""
        summaries.log_scalars(self.writer, step, scalars)

    def save(self, step: int) -> None:
        """Save a checkpoint numbered ``step`` (the newest 3 are kept)."""
        self.manager.save(checkpoint_number=step)

    def finish(self, metrics: dict[str, Any]) -> dict[str, Any]:
        """Write ``metrics.json`` atomically and flush the logs; a worker deletes its scratch.

        Returns:
            ``metrics`` with ``run_dir`` (None on a non-chief worker: the chief has the results).
        """
        metrics["run_dir"] = str(self.dir)
        rundir.atomic_write_json(self.dir / rundir.METRICS_FILE, metrics)
        self.writer.flush()
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)
            metrics["run_dir"] = None
        return metrics
