"""Checkpoints: save every epoch, resume from the newest one that restores, survive a crash.

A thin layer over ``tf.train.Checkpoint`` + ``tf.train.CheckpointManager``. TensorFlow already
writes checkpoints safely: the data files are written first and the small ``checkpoint`` state
file, which names the latest checkpoint, is replaced atomically afterwards. A process killed
mid-save therefore leaves the previous checkpoint as "latest" and loadable.

Files can still be damaged afterwards (a full disk, a bad copy, a hand edit). :func:`restore`
checks every candidate before touching the model, newest first, and falls back to the newest
one that is intact. Each kind of damage gets its own reason:

* the ``checkpoint`` state file is garbage -> the ``ckpt-*.index`` files are listed instead;
* ``ckpt-N.index`` is garbage or missing -> "index file ... is corrupt";
* ``ckpt-N.data-*`` is shorter than its index says -> "data file ... is truncated";
* a value's bytes fail their CRC32C checksum -> "data file ... is corrupt (checksum ...)".

Three failures are told apart: no checkpoint at all, checkpoints that are all corrupt, and an
intact checkpoint that does not match the model (other settings).
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from pathlib import Path

import tensorflow as tf

from tfcourse.errors import CheckpointError

CHECKPOINT_DIR = "checkpoints"
STATE_FILE = "checkpoint"  # TensorFlow's name for the file that lists the checkpoints


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


@dataclasses.dataclass
class Restored:
    """What :func:`restore` did.

    Attributes:
        path: the checkpoint prefix restored (e.g. ``.../ckpt-20``), or None if there was none.
        skipped: ``(prefix, reason)`` of each newer checkpoint passed over, newest first.
        notes: other findings, e.g. a corrupt ``checkpoint`` state file.
    """

    path: str | None
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        """One line per finding, for the user: notes, then why each checkpoint was skipped."""
        lines = list(self.notes)
        lines += [f"skipped checkpoint {p}: {why}" for p, why in self.skipped]
        if self.path and (self.skipped or self.notes):
            lines.append(f"resumed from {self.path}, the newest checkpoint that restores")
        return lines


def _number(prefix: str) -> int:
    match = re.search(r"-(\d+)$", prefix)
    return int(match.group(1)) if match else -1


def candidates(directory: str | os.PathLike) -> tuple[list[str], list[str]]:
    """Checkpoint prefixes in ``directory``, newest first, and notes about the state file.

    The state file's list comes first (it knows the save order); any ``ckpt-*.index`` on disk
    that it does not name is added by number, so a garbage state file loses nothing.
    """
    directory = Path(directory)
    notes: list[str] = []
    listed: list[str] = []
    state = directory / STATE_FILE
    if state.exists():
        try:
            parsed = tf.train.get_checkpoint_state(str(directory))
        except Exception as exc:
            parsed, detail = None, f" ({type(exc).__name__}: {exc})"
        else:
            detail = ""
        if parsed is None:
            notes.append(
                f"checkpoint state file {state} is corrupt{detail}; "
                "looked for the ckpt-*.index files instead"
            )
        else:
            listed = [str(directory / Path(p).name) for p in parsed.all_model_checkpoint_paths]
            latest = str(directory / Path(parsed.model_checkpoint_path).name)
            if parsed.model_checkpoint_path and latest not in listed:
                listed.append(latest)
            listed.reverse()
    on_disk = sorted(
        (str(p.with_suffix("")) for p in directory.glob("*.index")), key=_number, reverse=True
    )
    return listed + [p for p in on_disk if p not in listed], notes


def damage(prefix: str) -> str | None:
    """Why the checkpoint files of ``prefix`` cannot be read, or None if every value reads back.

    Reads every saved value, which checks each one's size and CRC32C checksum.
    """
    index = Path(prefix + ".index")
    if not index.is_file():
        return f"index file {index.name} is missing"
    if not list(index.parent.glob(Path(prefix).name + ".data-*")):
        return f"data file {Path(prefix).name}.data-* is missing"
    try:
        reader = tf.train.load_checkpoint(prefix)
    except Exception as exc:
        return f"index file {index.name} is corrupt ({_first_line(exc)})"
    try:
        for key in reader.get_variable_to_shape_map():
            reader.get_tensor(key)
    except Exception as exc:
        text = _first_line(exc)
        data = ", ".join(p.name for p in sorted(index.parent.glob(Path(prefix).name + ".data-*")))
        if isinstance(exc, IndexError) or "less bytes" in text or "truncated" in text.lower():
            return f"data file {data} is truncated ({text})"
        if "checksum" in text.lower():
            return f"data file {data} is corrupt: checksum mismatch, bytes changed ({text})"
        return f"data file {data} cannot be read ({text})"
    return None


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    return re.sub(r"^\{\{function_node [^}]*\}\}\s*", "", text)[:300]


def restore(
    ckpt: tf.train.Checkpoint,
    manager: tf.train.CheckpointManager,
    required: bool = False,
    partial: bool = False,
) -> Restored:
    """Restore the newest intact checkpoint of ``manager`` into ``ckpt``'s objects.

    Corrupt checkpoints are checked before anything is assigned and skipped with a reason.
    Every value of the chosen checkpoint must find its object
    (``assert_existing_objects_matched``), so restoring into a model of another shape fails
    loudly instead of silently training from scratch. A mismatch does not fall back to an older
    checkpoint: those were written by the same run, so they would not match either.

    Args:
        ckpt: the checkpoint of :func:`make_manager`.
        manager: its manager.
        required: raise instead of returning ``Restored(None)`` when there is no checkpoint.
        partial: ``ckpt`` holds only part of what was saved (e.g. the model without its
            optimizer, to evaluate or export); the unused saved values are not an error.

    Returns:
        A :class:`Restored`; show ``restored.messages`` to the user.

    Raises:
        CheckpointError: "no checkpoint" (only if ``required``), "all N checkpoints are
            corrupt" (always: resuming must not silently start again), or "does not match".
    """
    directory = Path(manager.directory)
    prefixes, notes = candidates(directory)
    skipped: list[tuple[str, str]] = []
    for prefix in prefixes:
        why = damage(prefix)
        if why is not None:
            skipped.append((prefix, why))
            continue
        try:
            status = ckpt.restore(prefix)
            (status.expect_partial() if partial else status).assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as exc:
            raise CheckpointError(
                f"checkpoint {prefix} does not match this model ({_first_line(exc)}); "
                "resume with the same settings the run was started with"
            ) from None
        return Restored(prefix, skipped, notes)
    if skipped:
        reasons = "; ".join(f"{Path(p).name}: {why}" for p, why in skipped)
        raise CheckpointError(
            f"all {len(skipped)} checkpoints in {directory} are corrupt ({reasons}); "
            "restore them from a backup, or start a new run without --resume"
        )
    if required:
        extra = f" ({notes[0]})" if notes else ""
        raise CheckpointError(
            f"no checkpoint found in {directory}{extra}; train first or drop --resume"
        )
    return Restored(None, [], notes)


def restore_latest(
    ckpt: tf.train.Checkpoint, manager: tf.train.CheckpointManager, required: bool = False
) -> str | None:
    """:func:`restore`, returning only the path; findings go to stderr as warnings.

    Kept for the trainers written before :func:`restore` (same signature as before).

    Returns:
        The restored checkpoint path, or ``None`` if there was none (and ``required`` is False).

    Raises:
        CheckpointError: as :func:`restore` (a :class:`~tfcourse.errors.TfcourseError`).
    """
    restored = restore(ckpt, manager, required)
    for line in restored.messages:
        print(f"tfcourse: warning: {line}", file=sys.stderr)
    return restored.path
