"""Run folders (issue 13 items 2, 4, 5): strict JSON, names, locks, finished runs, disk errors."""

import dataclasses
import errno
import json
import os
import stat
import subprocess
import sys
import textwrap

import pytest

from tfcourse import safe_write
from tfcourse.errors import ConfigError, RunError, StorageError
from tfcourse.run import folder, lifecycle, lock


@dataclasses.dataclass
class Cfg:
    logdir: str
    name: str = "mlp"
    seed: int = 0
    resume: bool = False
    hidden: int = 300
    epochs: int = 10


def strict_loads(text: str):
    def refuse(token):
        raise ValueError(f"non-strict JSON token {token}")

    return json.loads(text, parse_constant=refuse)


# --- strict JSON ----------------------------------------------------------------------------


def test_non_finite_values_are_written_as_null_and_listed(tmp_path):
    np = pytest.importorskip("numpy")
    metrics = {
        "test_loss": float("nan"),
        "curve": [1.0, float("inf"), np.float32(2.5)],
        "nested": {"best": -np.inf, "ok": 3},
        "steps": np.int64(7),
    }
    path = safe_write.atomic_write_json(tmp_path / "metrics.json", metrics)
    saved = strict_loads(path.read_text())
    assert saved == {
        "test_loss": None,
        "curve": [1.0, None, 2.5],
        "nested": {"best": None, "ok": 3},
        "steps": 7,
        "non_finite": ["curve[1]", "nested.best", "test_loss"],
    }


def test_finite_values_get_no_note_and_arrays_become_lists(tmp_path):
    np = pytest.importorskip("numpy")
    text = safe_write.strict_json({"a": np.arange(3), "b": (1, 2.0)})
    assert strict_loads(text) == {"a": [0, 1, 2], "b": [1, 2.0]}
    assert safe_write.strict_json([float("nan")]) == "[\n  null\n]\n"  # no dict: nowhere for a note


def test_written_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = safe_write.atomic_write_json(tmp_path / "m.json", {"a": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


# --- disk errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "code", "message"),
    [
        ("fsync", errno.ENOSPC, r"cannot write '.*m\.json': the disk is full; free some space"),
        ("mkstemp", errno.EROFS, r"the file system is read-only; write somewhere else"),
        ("mkstemp", errno.EACCES, r"permission denied; fix the folder's permissions"),
        ("replace", errno.EDQUOT, r"quota is used up"),
        ("fsync", errno.EIO, r"Input/output error; write somewhere else"),
    ],
)
def test_disk_errors_name_the_path_and_the_fix_and_leave_the_old_file(
    tmp_path, monkeypatch, where, code, message
):
    path = tmp_path / "m.json"
    path.write_text('{"old": 1}')

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    target = {
        "fsync": (os, "fsync"),
        "mkstemp": (safe_write.tempfile, "mkstemp"),
        "replace": (os, "replace"),
    }[where]
    monkeypatch.setattr(*target, fail)
    with pytest.raises(StorageError, match=message):
        safe_write.atomic_write_json(path, {"new": 2})
    monkeypatch.undo()
    assert path.read_text() == '{"old": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temporary file left


def test_a_folder_or_a_missing_folder_as_the_target_is_named(tmp_path):
    with pytest.raises(StorageError, match=r"cannot write --gif '.*': it is a folder; pass a file"):
        safe_write.atomic_write_bytes(tmp_path, b"GIF89a", what="--gif")
    with pytest.raises(StorageError, match=r"its folder does not exist; create it first"):
        safe_write.atomic_write_bytes(tmp_path / "no" / "x.png", b"png")
    with pytest.raises(StorageError, match=r"part of the path is a file"):
        (tmp_path / "f").write_text("")
        safe_write.atomic_write_bytes(tmp_path / "f" / "x.png", b"png")


def test_a_real_full_device_is_a_storage_error():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "wb", buffering=0) as f:
        with pytest.raises(OSError) as info:
            f.write(b"x")
    assert "the disk is full" in str(safe_write.storage_error("/dev/full", info.value))


# --- config.json ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", r"config\.json is corrupt: not valid JSON \(Expecting property name .* line 1"),
        ("", r"is corrupt: not valid JSON"),
        ("[1, 2]", r"is corrupt: it holds a JSON list, not an object of settings"),
        ('"mlp"', r"holds a JSON str, not an object"),
        ("\xff\xfe", r"is corrupt: not valid JSON|cannot be read"),
    ],
)
def test_a_corrupt_config_is_named_and_the_resume_changes_nothing(tmp_path, text, message):
    run = folder.open_run_dir(Cfg(str(tmp_path)))
    (run / folder.CONFIG_FILE).write_text(text, encoding="latin-1")
    before = sorted(os.listdir(run))
    with pytest.raises(RunError, match=message):
        folder.open_run_dir(Cfg(str(tmp_path), resume=True), must_match=("hidden",), lock=True)
    assert (run / folder.CONFIG_FILE).read_text(encoding="latin-1") == text
    assert sorted(os.listdir(run)) == before


def test_a_missing_json_file_is_named(tmp_path):
    with pytest.raises(RunError, match=r"config\.json is missing; is .* a run folder"):
        safe_write.load_json(tmp_path / "config.json")


def test_a_rejected_resume_does_not_rewrite_config(tmp_path):
    run = folder.open_run_dir(Cfg(str(tmp_path)))
    before = (run / folder.CONFIG_FILE).read_bytes()
    with pytest.raises(ConfigError, match=r"resume: hidden was 300 in .*, not 20; use the") as e:
        folder.open_run_dir(Cfg(str(tmp_path), resume=True, hidden=20), must_match=("hidden",))
    assert e.value.cli_message.startswith("--resume: --hidden was 300 in ")
    assert e.value.cli_message.endswith("not 20; pass the original --hidden value")
    assert (run / folder.CONFIG_FILE).read_bytes() == before
    same = folder.open_run_dir(Cfg(str(tmp_path), resume=True, epochs=20), write_config=False)
    assert same == run and (run / folder.CONFIG_FILE).read_bytes() == before
    folder.write_config_file(run, Cfg(str(tmp_path), resume=True, epochs=20))
    assert safe_write.load_json(run / folder.CONFIG_FILE)["epochs"] == 20


# --- run names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../../escape", "..", ".", "", "  ", "a/b", "a\\b", "/abs", ".hidden", "-x", "a\0b"]
)
def test_names_that_would_leave_logdir_are_refused(tmp_path, name):
    logdir = tmp_path / "runs"
    with pytest.raises(ConfigError, match=r"^--name .* is not a plain run name .* --name my-run$"):
        folder.open_run_dir(Cfg(str(logdir), name=name))
    with pytest.raises(ConfigError, match="is not a plain run name"):
        folder.latest_run_dir(logdir, name)
    assert sorted(p.name for p in tmp_path.rglob("*")) == []  # not even --logdir was made


@pytest.mark.parametrize("name", ["mlp", "mlp-small", "a2c_v2", "run[1]", "x*y", "été"])
def test_plain_names_work_and_glob_characters_are_literal(tmp_path, name):
    run = folder.open_run_dir(Cfg(str(tmp_path), name=name))
    assert run.parent == tmp_path and run.name.startswith(f"{name}-seed0-")
    assert folder.latest_run_dir(tmp_path, name) == run


# --- locks ----------------------------------------------------------------------------------

HOLDER = textwrap.dedent(
    """
    import sys
    from tfcourse.run.lock import lock_run
    lock_run(sys.argv[1])
    print("locked", flush=True)
    sys.stdin.read()
    """
)


def test_a_second_trainer_is_told_which_pid_holds_the_run(tmp_path):
    run = folder.open_run_dir(Cfg(str(tmp_path)))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(run)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = (run / folder.CONFIG_FILE).read_bytes()
        with pytest.raises(RunError) as info:
            folder.open_run_dir(Cfg(str(tmp_path), resume=True, epochs=99), lock=True)
        assert str(info.value) == (
            f"run {run.resolve()} is in use by another trainer (pid {holder.pid}); wait for it "
            f"to finish, stop it (kill {holder.pid}), or start a new run without --resume"
        )
        assert (run / folder.CONFIG_FILE).read_bytes() == before  # refused before writing
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    held = lock.lock_run(run)  # the holder exited: the kernel dropped its lock
    assert (run / lock.LOCK_FILE).read_text() == f"{os.getpid()}\n"
    held.release()


def test_a_lock_is_reentrant_in_one_process_and_released(tmp_path):
    run = folder.open_run_dir(Cfg(str(tmp_path)), lock=True)
    again = lock.lock_run(run)
    assert again is lock.lock_run(run) and again.fd >= 0
    again.release()
    assert again.fd == -1
    lock.lock_run(run).release()  # can be taken again after a release


# --- finished runs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metrics", "target", "done", "refused"),
    [
        (None, 10, 0, False),  # never finished (killed): resume it
        ({"epochs_completed": 10}, 10, 10, True),
        ({"epochs_completed": 10}, 5, 10, True),
        ({"epochs_completed": 10}, 15, 10, False),  # more asked: continue from 10
        ({"steps_completed": 10}, 10, 0, False),  # another key: not a record of this unit
        ({"epochs_completed": None}, 10, 0, False),
    ],
)
def test_check_not_finished(tmp_path, metrics, target, done, refused):
    if metrics is not None:
        safe_write.atomic_write_json(tmp_path / folder.METRICS_FILE, metrics)
    if refused:
        with pytest.raises(
            RunError,
            match=(
                r"--resume: run .* is finished \(epochs_completed 10 of \d+ in metrics\.json\); "
                r"nothing to do\. Pass --epochs larger than 10 to train on, or drop --resume"
            ),
        ):
            folder.check_not_finished(tmp_path, "epochs_completed", target, "--epochs")
    else:
        assert folder.check_not_finished(tmp_path, "epochs_completed", target, "--epochs") == done


def test_load_metrics(tmp_path):
    assert folder.load_metrics(tmp_path) is None
    (tmp_path / folder.METRICS_FILE).write_text("{truncated")
    with pytest.raises(RunError, match=r"metrics\.json is corrupt"):
        folder.load_metrics(tmp_path)


@pytest.mark.parametrize(
    ("loss", "kwargs", "message"),
    [
        (float("nan"), {}, r"^the loss became nan at epoch 3, so training stopped; lower --lr, or"),
        (
            float("inf"),
            {"unit": "step", "checkpoint": "runs/x/checkpoints/ckpt-2"},
            r"became inf at step 3, so training stopped; the last good checkpoint is .*ckpt-2;",
        ),
        (
            -float("inf"),
            {"hint": "lower --lr (it is 1000)"},
            r"became -inf .*; lower --lr \(it is 1000\)$",
        ),
    ],
)
def test_check_loss_stops_a_diverged_run(loss, kwargs, message):
    with pytest.raises(RunError, match=message):
        lifecycle.check_loss(loss, 3, **kwargs)


def test_check_loss_passes_finite_values():
    np = pytest.importorskip("numpy")
    assert lifecycle.check_loss(0.25, 1) == 0.25
    assert lifecycle.check_loss(np.float32(1e30), 1) == np.float32(1e30)
