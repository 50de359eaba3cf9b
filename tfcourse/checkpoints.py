"""Checkpoints: save every epoch, resume from the latest, survive a crash.

A thin layer over ``tf.train.Checkpoint`` + ``tf.train.CheckpointManager``. TensorFlow already
writes checkpoints safely: the data files are written first and the small ``checkpoint`` index
file, which names the latest checkpoint, is replaced atomically afterwards. A process killed
mid-save therefore leaves the previous checkpoint as "latest" and loadable.
"""

from __future__ import annotations

import os
from pathlib import Path

import tensorflow as tf

from tfcourse.errors import TfcourseError

CHECKPOINT_DIR = "checkpoints"


def make_manager(
    run_dir: str | os.PathLike, max_to_keep: int = 3, **trackables
) -> tuple[tf.train.Checkpoint, tf.train.CheckpointManager]:
    """Create a checkpoint of ``trackables`` saved under ``<run_dir>/checkpoints``.

    Args:
        run_dir: the run directory.
        max_to_keep: how many recent checkpoints to keep on disk.
        **trackables: objects to save, e.g. ``model=mlp, optimizer=adam, epoch=epoch_var``.

    Returns:
        ``(checkpoint, manager)``.
    """
    ckpt = tf.train.Checkpoint(**trackables)
    manager = tf.train.CheckpointManager(ckpt, str(Path(run_dir) / CHECKPOINT_DIR), max_to_keep)
    return ckpt, manager


def restore_latest(
    ckpt: tf.train.Checkpoint, manager: tf.train.CheckpointManager, required: bool = False
) -> str | None:
    """Restore the newest checkpoint of ``manager`` into ``ckpt``'s objects.

    Every saved value must find its object (``assert_existing_objects_matched``), so restoring
    into a model of a different shape fails loudly instead of silently training from scratch.

    Returns:
        The restored checkpoint path, or ``None`` if there was none (and ``required`` is False).

    Raises:
        TfcourseError: if ``required`` and there is no checkpoint, or it does not match.
    """
    path = manager.latest_checkpoint
    if path is None:
        if required:
            raise TfcourseError(
                f"no checkpoint found in {manager.directory}; train first or drop --resume"
            )
        return None
    try:
        ckpt.restore(path).assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.OpError) as exc:
        raise TfcourseError(
            f"checkpoint {path} does not match this model ({str(exc).splitlines()[0]}); "
            "resume with the same settings the run was started with"
        ) from None
    return path
