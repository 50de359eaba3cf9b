"""Checkpoint fallback (issue 13 item 3): the newest checkpoint that restores, with reasons."""

import os
import re
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tfcourse.errors import CheckpointError, TfcourseError
from tfcourse.run import checkpoints


def make(run_dir, size=100):
    w = tf.Variable(np.zeros(size, np.float32))
    step = tf.Variable(0, dtype=tf.int64)
    ckpt, manager = checkpoints.make_manager(run_dir, w=w, step=step)
    return w, step, ckpt, manager


@pytest.fixture
def run(tmp_path):
    """A run folder with ckpt-1, ckpt-2, ckpt-3; ckpt-N holds w = N and step = N."""
    w, step, _, manager = make(tmp_path)
    for n in (1, 2, 3):
        w.assign(np.full(100, n, np.float32))
        step.assign(n)
        manager.save(checkpoint_number=n)
    return tmp_path


def ckdir(run) -> Path:
    return run / checkpoints.CHECKPOINT_DIR


def data(run, n) -> Path:
    return ckdir(run) / f"ckpt-{n}.data-00000-of-00001"


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def flip_bits(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 3] ^= 0xFF  # inside w's 400 bytes
    path.write_bytes(bytes(raw))


def garbage(path: Path) -> None:
    path.write_bytes(b"\x13garbage, not a checkpoint at all" * 7)


def restored_values(run):
    w, step, ckpt, manager = make(run)
    result = checkpoints.restore(ckpt, manager, required=True)
    return result, float(w.numpy()[0]), int(step.numpy())


def test_an_intact_run_restores_the_newest_with_nothing_to_report(run):
    result, w, step = restored_values(run)
    assert (Path(result.path).name, w, step) == ("ckpt-3", 3.0, 3)
    assert result.skipped == [] and result.messages == []


@pytest.mark.parametrize(
    ("damage", "used", "reasons"),
    [
        (
            lambda r: truncate(data(r, 3)),
            2,
            [r"ckpt-3: data file ckpt-3\.data-00000-of-00001 is truncated"],
        ),
        (
            lambda r: flip_bits(data(r, 3)),
            2,
            [r"ckpt-3: data file .* is corrupt: checksum mismatch"],
        ),
        (
            lambda r: garbage(ckdir(r) / "ckpt-3.index"),
            2,
            [r"ckpt-3: index file ckpt-3\.index is corrupt"],
        ),
        (
            lambda r: (ckdir(r) / "ckpt-3.index").unlink(),
            2,
            [r"ckpt-3: index file ckpt-3\.index is missing"],
        ),
        (lambda r: data(r, 3).unlink(), 2, [r"ckpt-3: data file ckpt-3\.data-\* is missing"]),
        (
            lambda r: (truncate(data(r, 3)), flip_bits(data(r, 2))),
            1,
            [r"ckpt-3: .* is truncated", r"ckpt-2: .* checksum mismatch"],
        ),
        (lambda r: garbage(ckdir(r) / "checkpoint"), 3, []),
        (
            lambda r: (garbage(ckdir(r) / "checkpoint"), truncate(data(r, 3))),
            2,
            [r"ckpt-3: .* truncated"],
        ),
    ],
)
def test_corruption_falls_back_to_the_newest_intact_checkpoint(run, damage, used, reasons):
    damage(run)
    result, w, step = restored_values(run)
    assert (Path(result.path).name, w, step) == (f"ckpt-{used}", used, used)
    assert len(result.skipped) == len(reasons)
    for (prefix, why), pattern in zip(result.skipped, reasons, strict=True):
        assert re.search(pattern, f"{Path(prefix).name}: {why}"), why
    state_corrupt = "checkpoint state file" in " ".join(result.notes)
    assert state_corrupt == ((ckdir(run) / "checkpoint").read_bytes().startswith(b"\x13"))
    if reasons or result.notes:
        assert result.messages[-1].endswith(f"ckpt-{used}, the newest checkpoint that restores")


def test_all_corrupt_is_not_no_checkpoint(run):
    truncate(data(run, 3))
    flip_bits(data(run, 2))
    garbage(ckdir(run) / "ckpt-1.index")
    garbage(ckdir(run) / "checkpoint")
    w, _, ckpt, manager = make(run)
    with pytest.raises(CheckpointError) as info:
        checkpoints.restore(ckpt, manager, required=False)  # corrupt is an error even so
    text = str(info.value)
    assert text.startswith(f"all 3 checkpoints in {ckdir(run)} are corrupt (ckpt-3: data file")
    assert "ckpt-2: data file" in text and "checksum" in text and "ckpt-1: index file" in text
    assert text.endswith("restore them from a backup, or start a new run without --resume")
    assert float(w.numpy()[0]) == 0.0  # nothing was assigned from a damaged file


def test_no_checkpoint_is_none_or_an_error_when_required(tmp_path):
    _, _, ckpt, manager = make(tmp_path)
    assert checkpoints.restore(ckpt, manager) == checkpoints.Restored(None)
    assert checkpoints.restore_latest(ckpt, manager) is None
    with pytest.raises(CheckpointError, match=r"^no checkpoint found in .*; train first or drop"):
        checkpoints.restore(ckpt, manager, required=True)


def test_another_model_is_a_mismatch_not_corruption(run):
    _, _, ckpt, manager = make(run, size=7)
    with pytest.raises(CheckpointError, match=r"checkpoint .*ckpt-3 does not match this model"):
        checkpoints.restore(ckpt, manager, required=True)


def test_restore_latest_keeps_its_signature_and_warns_on_stderr(run, capsys):
    truncate(data(run, 3))
    w, _, ckpt, manager = make(run)
    path = checkpoints.restore_latest(ckpt, manager, True)
    assert Path(path).name == "ckpt-2" and float(w.numpy()[0]) == 2.0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("tfcourse: warning: skipped checkpoint ") and "truncated" in err[0]
    assert err[-1].endswith("resumed from " + path + ", the newest checkpoint that restores")
    assert issubclass(CheckpointError, TfcourseError)


def test_training_on_after_a_fallback_saves_and_restores_again(run):
    truncate(data(run, 3))
    w, step, ckpt, manager = make(run)
    checkpoints.restore(ckpt, manager, required=True)
    w.assign_add(np.ones(100, np.float32))
    step.assign(4)
    manager.save(checkpoint_number=4)
    result, value, n = restored_values(run)
    assert (Path(result.path).name, value, n) == ("ckpt-4", 3.0, 4)
    assert os.path.exists(data(run, 3))  # the damaged file is left for the user to inspect


def test_partial_restores_only_the_model_without_warnings(run):
    w = tf.Variable(np.zeros(100, np.float32))
    ckpt, manager = checkpoints.make_manager(run, w=w)  # no step: like a model without optimizer
    result = checkpoints.restore(ckpt, manager, required=True, partial=True)
    assert Path(result.path).name == "ckpt-3" and float(w.numpy()[0]) == 3.0
