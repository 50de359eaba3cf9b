"""Issue 13 end to end, through ``tfcourse ...`` in subprocesses: nothing lost, no tracebacks.

Three tiny runs (mlp, sine, a2c) are trained once. Then every table of bad inputs -- against
them, against copies of them each damaged in one way, and a run on a full disk -- is played by
ONE child process that calls the CLI's ``main`` once per row (:func:`played`), so TensorFlow is
imported twice in all, not once per row or table. Each row checks the exit code, that stderr
ends with one ``tfcourse: error:`` line naming the problem (or, for an accepted resume, what
was done), and that the run folders are byte for byte unchanged where the row was refused.
Runs use ``--no-jit``: XLA is not what these rows are about (the trainers' own tests cover it),
and its compile time was most of this file's.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, needs_data, subprocess_env

from tfcourse.run import folder, lock

pytestmark = needs_data

# run by the child: for each case, patch (optionally), call main(argv), record rc/stderr
DRIVER = r"""
import contextlib, io, json, sys, traceback
from tfcourse.cli import main

def nan_losses():  # every MLP step's loss is NaN, as after a diverged update
    from tfcourse.mlp import trainer
    step = trainer.train_step
    def poisoned(*args, **kwargs):
        out = step(*args, **kwargs)
        return {**out, "loss": out["loss"] * float("nan")}
    trainer.train_step = poisoned
    return lambda: setattr(trainer, "train_step", step)

results = {}
for case in json.loads(sys.argv[1]):
    undo = nan_losses() if case.get("patch") == "nan" else None
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(case["argv"])
    except SystemExit as exc:
        rc = exc.code
    except BaseException:
        rc, err = "traceback", io.StringIO(err.getvalue() + traceback.format_exc())
    finally:
        if undo:
            undo()
    results[case["id"]] = {"rc": rc, "err": err.getvalue(), "out": out.getvalue()}
print("RESULTS " + json.dumps(results))
"""

MLP = "train mlp --name m --epochs 2 --train-samples 300 --no-progress --no-jit".split()
SINE = "train sine --name s --steps 200 --chunk 100 --n-points 500 --no-progress --no-jit".split()
A2C = [
    *"train a2c --name a --total-steps 512 --n-envs 2 --n-steps 16 --eval-episodes 2".split(),
    *"--no-gif --no-progress --no-jit".split(),
]
MORE = [*MLP, "--resume", "--epochs", "3"]  # one epoch more than the finished run m


def play(cases: list[dict], timeout: float = 240) -> dict[str, dict]:
    """Run ``cases`` in one child process; return ``{id: {"rc", "err", "out"}}``."""
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(cases)],
        cwd=REPO,
        env=subprocess_env(TFCOURSE_FAST="1"),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULTS ")]
    assert lines, proc.stderr[-3000:]
    return json.loads(lines[-1][len("RESULTS ") :])


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (the lock file's pid excepted)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != lock.LOCK_FILE
    }


def one_error_line(result: dict, *needles: str) -> str:
    """Assert exit 2 and a last stderr line ``tfcourse: error: ...`` holding every needle."""
    err = result["err"]
    assert result["rc"] == 2, err
    assert "Traceback" not in err, err
    last = err.rstrip("\n").splitlines()[-1]
    assert last.startswith("tfcourse: error: "), err
    for needle in needles:
        assert needle in last, last
    return last


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """A logdir holding three finished tiny runs: m (mlp, 2 epochs), s (sine), a (a2c)."""
    logdir = tmp_path_factory.mktemp("nothing_lost") / "runs"
    flags = ["--logdir", str(logdir)]
    done = play(
        [{"id": k, "argv": argv + flags} for k, argv in (("m", MLP), ("s", SINE), ("a", A2C))]
    )
    for result in done.values():
        assert result["rc"] == 0, result["err"][-2000:]
    return logdir


def run_of(logdir: Path, name: str) -> Path:
    found = list(logdir.glob(f"{name}-seed*"))
    assert len(found) == 1, found
    return found[0]


# id, argv, what the last stderr line must say (all exit 2, nothing written)
REFUSED = [
    (
        "finished mlp",
        [*MLP, "--resume"],
        ["is finished", "epochs_completed 2 of 2", "--epochs larger than 2"],
    ),
    ("finished sine", [*SINE, "--resume"], ["is finished", "--steps larger than 200"]),
    ("finished a2c", [*A2C, "--resume"], ["is finished", "--total-steps larger than 512"]),
    ("a2c other preset", [*A2C, "--resume", "--preset", "tutorial"], ["is finished"]),
    (
        "other hidden",
        [*MLP, "--resume", "--epochs", "3", "--hidden", "50"],
        ["--resume: ", "hidden was 300", "not 50"],
    ),  # "--hidden was" once run.folder says so
    ("lr inf", [*MLP, "--lr", "inf"], ["--lr must be a number in (0, 1], got inf"]),
    ("lr nan", [*SINE, "--lr", "nan"], ["--lr must be a number in (0, 1], got nan"]),
    ("a2c lr 1000", [*A2C, "--lr", "1000"], ["--lr must be a number in (0, 1], got 1000.0"]),
    ("gamma 2", [*A2C, "--gamma", "2"], ["--gamma must be a number in [0, 1], got 2.0"]),
    ("lam nan", [*A2C, "--lam", "nan"], ["--lam must be a number in [0, 1], got nan"]),
    ("huge epochs", [*MLP, "--epochs", "1000000000000"], ["--epochs must be an integer in"]),
    ("huge hidden", [*MLP, "--hidden", "1000000000"], ["--hidden must be an integer in"]),
    ("huge total steps", [*A2C, "--total-steps", str(10**15)], ["--total-steps must be"]),
    ("noise inf", [*SINE, "--noise", "inf"], ["--noise must be a number in [0, 100], got inf"]),
    ("escape name", [*MLP, "--name", "../../escape"], ["--name '../../escape' is not a plain"]),
    (
        "gif is a folder",
        ["eval", "a2c", "{a}", "--episodes", "1", "--gif", "{a}"],
        ["cannot write --gif", "it is a folder"],
    ),
    (
        "gif no folder",
        ["eval", "a2c", "{a}", "--episodes", "1", "--gif", "{a}/no/such/x.gif"],
        ["cannot write --gif", "its folder does not exist"],
    ),
    (
        "gif in /proc",
        ["eval", "a2c", "{a}", "--episodes", "1", "--gif", "/proc/x.gif"],
        ["cannot write --gif"],
    ),
    ("eval no run", ["eval", "a2c", "{a}-missing"], ["is not a finished A2C run"]),
]


def _refused_cases(runs: Path) -> list[dict]:
    dirs = {name: str(run_of(runs, name)) for name in "msa"}
    cases = []
    for case_id, argv, _ in REFUSED:
        argv = [a.format(**dirs) for a in argv]
        if argv[0] == "train":
            argv += ["--logdir", str(runs)]
        cases.append({"id": case_id, "argv": argv})
    return cases


def test_refused_inputs_end_with_one_line_and_change_nothing(runs, played):
    for case_id, _, needles in REFUSED:
        one_error_line(played["results"][case_id], *needles)
    assert {name: snapshot(run_of(runs, name)) for name in "msa"} == played["runs_before"]
    names = sorted(p.name for p in played["runs_before_dirs"])
    assert sorted(p.name for p in runs.iterdir()) == names
    # no ../../escape
    assert sorted(p.name for p in runs.parent.parent.iterdir()) == played["outside"]


def _truncate_newest(run: Path) -> None:
    data = sorted((run / "checkpoints").glob("ckpt-2.data-*"))[0]
    data.write_bytes(data.read_bytes()[:-40])


def _truncate_all(run: Path) -> None:
    for data in (run / "checkpoints").glob("ckpt-*.data-*"):
        data.write_bytes(data.read_bytes()[:10])


def _garbage_config(run: Path) -> None:
    (run / folder.CONFIG_FILE).write_text('{"name": "m", "hidden": 3')


def _list_config(run: Path) -> None:
    (run / folder.CONFIG_FILE).write_text("[1, 2]\n")


# id, damage done to a copy of run m (or a), argv, rc, needles (stderr), metrics check
DAMAGED = [
    ("more epochs", None, MORE, 0, [], "earlier"),
    (
        "truncated newest",
        _truncate_newest,
        MORE,
        0,
        ["skipped checkpoint", "ckpt-2", "is truncated", "resumed from", "ckpt-1"],
        "fallback",
    ),
    (
        "all truncated",
        _truncate_all,
        MORE,
        2,
        ["all 2 checkpoints", "corrupt", "truncated"],
        "unchanged",
    ),
    (
        "garbage config",
        _garbage_config,
        MORE,
        2,
        ["config.json is corrupt: not valid JSON"],
        "unchanged",
    ),
    (
        "config not object",
        _list_config,
        MORE,
        2,
        ["config.json is corrupt: it holds a JSON list"],
        "unchanged",
    ),
    (
        "nan loss",
        "nan",
        MORE,
        2,
        ["the loss became nan at epoch 3", "last good checkpoint is", "ckpt-2", "lower --lr"],
        "kept",
    ),
    ("locked", "lock", MORE, 2, ["is in use by another trainer (pid"], "unchanged"),
    (
        "eval config list",
        _list_config,
        ["eval", "a2c", "{run}", "--episodes", "1"],
        2,
        ["config.json is corrupt: it holds a JSON list"],
        "unchanged",
    ),
]


def _damaged_cases(runs: Path, folder: Path, locks: list) -> tuple[list[dict], dict[str, Path]]:
    """Copy run m (or a) once per DAMAGED row into its own logdir under ``folder``, damage it."""
    cases, copies = [], {}
    for case_id, damage, argv, *_ in DAMAGED:
        source = run_of(runs, "a" if argv[0] == "eval" else "m")
        logdir = folder / case_id.replace(" ", "_")
        copies[case_id] = run = logdir / source.name
        shutil.copytree(source, run)
        if callable(damage):
            damage(run)
        elif damage == "lock":
            locks.append(lock.lock_run(run))  # held by this process, not the child's
        argv = [a.format(run=run) for a in argv]
        if argv[0] == "train":
            argv += ["--logdir", str(logdir)]
        cases.append({"id": case_id, "argv": argv, "patch": damage if damage == "nan" else None})
    return cases, copies


def _small_disk(mount: Path) -> bool:
    """Mount a 200 kB tmpfs on ``mount`` (needs root and mount)."""
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mount)], capture_output=True
    )
    return made.returncode == 0


@pytest.fixture(scope="module")
def played(runs, tmp_path_factory):
    """Every row of REFUSED and DAMAGED, and a run on a full disk, played by one child.

    Returns the results by row id, what was there before (snapshots of the runs and of each
    damaged copy), the copies and the tmpfs (None where it cannot be mounted).
    """
    folder = tmp_path_factory.mktemp("played")
    runs_before = {name: snapshot(run_of(runs, name)) for name in "msa"}
    outside = sorted(p.name for p in runs.parent.parent.iterdir())
    locks: list = []
    damaged, copies = _damaged_cases(runs, folder / "damaged", locks)
    before = {case_id: snapshot(run) for case_id, run in copies.items()}
    mount = folder / "tiny"
    full = _small_disk(mount)
    cases = _refused_cases(runs) + damaged
    if full:
        cases.append({"id": "full", "argv": [*MLP, "--logdir", str(mount / "runs")]})
    try:
        results = play(cases, timeout=480)
    finally:
        for held in locks:
            held.release()
    yield {
        "results": results,
        "runs_before": runs_before,
        "runs_before_dirs": [run_of(runs, name) for name in "msa"],
        "outside": outside,
        "copies": copies,
        "before": before,
        "mount": mount if full else None,
    }
    if full:
        subprocess.run(["umount", str(mount)], check=False)


def test_damaged_runs_fall_back_or_end_with_one_line(played):
    results, copies, before = played["results"], played["copies"], played["before"]
    for case_id, _, _, rc, needles, check in DAMAGED:
        result, run = results[case_id], copies[case_id]
        if rc == 2:
            one_error_line(result, *needles)
        else:
            assert result["rc"] == 0 and "Traceback" not in result["err"], result["err"]
            for needle in needles:
                assert needle in result["err"], result["err"]
        metrics = json.loads((run / folder.METRICS_FILE).read_text())  # strict JSON
        if check == "unchanged":
            assert snapshot(run) == before[case_id]
        elif check == "kept":  # an accepted resume that diverged: figures and checkpoints kept
            kept = {k: v for k, v in before[case_id].items() if k.startswith(("metrics", "ckpt"))}
            kept |= {k: v for k, v in before[case_id].items() if k.startswith("checkpoints")}
            now = snapshot(run)
            assert {k: now.get(k) for k in kept} == kept
            assert not (run / "checkpoints" / "ckpt-3.index").exists()
        elif check == "earlier":  # continued: 3 epochs now, the 2 finished ones kept
            assert metrics["epochs_completed"] == 3
            assert metrics["earlier"]["epochs_completed"] == 2
            assert metrics["samples_per_s"] > 0 and metrics["earlier"]["samples_per_s"] > 0
        elif check == "fallback":  # epoch 2 trained again from ckpt-1, then epoch 3
            assert metrics["epochs_completed"] == 3
            assert (run / "checkpoints" / "ckpt-3.index").exists()


def test_full_disk_ends_with_one_line(played):
    """A real full disk: a 200 kB tmpfs (needs root and mount; skipped elsewhere)."""
    mount = played["mount"]
    if mount is None:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    one_error_line(played["results"]["full"], "the disk is full", "No space left on device")
    run = run_of(mount / "runs", "m")
    assert not list((run / "checkpoints").glob("*_temp"))  # no half-written checkpoint
    assert not (run / folder.METRICS_FILE).exists()


@pytest.mark.parametrize(
    "error",
    [MemoryError(), "ResourceExhaustedError"],
    ids=["MemoryError", "ResourceExhaustedError"],
)
def test_out_of_memory_ends_with_one_line(error, monkeypatch, capsys):
    import tensorflow as tf

    from tfcourse import cli

    if error == "ResourceExhaustedError":
        error = tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")

    def trainer(config):
        raise error

    monkeypatch.setattr(importlib.import_module("tfcourse.review.trainer"), "train_sine", trainer)
    assert cli.main(["train", "sine", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "tfcourse: error: out of memory: the model or the data does not fit; use a smaller "
        "--hidden, --batch-size, --n-envs or --train-samples\n"
    )


def test_a_bug_still_shows_its_traceback(monkeypatch):
    from tfcourse import cli

    def trainer(config):
        raise ZeroDivisionError("a bug in tfcourse")

    monkeypatch.setattr(importlib.import_module("tfcourse.review.trainer"), "train_sine", trainer)
    with pytest.raises(ZeroDivisionError):
        cli.main(["train", "sine", "--no-progress"])
