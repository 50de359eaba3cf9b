"""What a student sees (issue 24): no TensorFlow log lines, one CLI convention, a setup cell
that installs where a folder only looks like the package, and a release that warns.

Every command here runs as a student's shell would run it: ``TF_CPP_MIN_LOG_LEVEL`` unset.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO, free_port, subprocess_env

from tfcourse.cli import build_parser, main
from tfcourse.mlp.config import MLPConfig
from tfcourse.notebook_setup import install_cell
from tfcourse.review.config import SineConfig
from tfcourse.rl.config import A2CConfig
from tfcourse.run import lock

FIXTURES = Path(__file__).parent / "grading_fixtures"
# a C++/absl log line (I0000 00:00:... service.cc:153] ...), absl's notice, TF's Python logger
LOG_LINE = re.compile(r"^[IWEF]\d{4} |absl::InitializeLog|INFO:tensorflow", re.MULTILINE)


def student_env(**extra: str) -> dict[str, str]:
    """A student's environment: no TF_CPP_MIN_LOG_LEVEL, no TFCOURSE_VERBOSE."""
    env = subprocess_env(**extra)
    for name in ("TF_CPP_MIN_LOG_LEVEL", "TFCOURSE_VERBOSE"):
        env.pop(name, None)
    return env


def tfcourse(*argv: str, cwd: Path) -> subprocess.Popen:
    """Start ``tfcourse *argv`` (this checkout's) as a student would."""
    return subprocess.Popen(
        [sys.executable, "-m", "tfcourse.cli", *argv],
        cwd=cwd,
        env=student_env(PYTHONPATH=str(REPO)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(proc: subprocess.Popen, timeout: float = 300) -> tuple[dict, str]:
    """Wait for a ``train`` command: (stdout parsed as JSON, all of it; stderr)."""
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    assert not LOG_LINE.search(err + out), err
    return json.loads(out), err


def test_trainers_print_json_alone_on_stdout_no_log_lines_and_leave_no_lock(tmp_path):
    logdir = str(tmp_path / "runs")
    sine = ["train", "sine", "--chunk", "25", "--n-points", "500", "--logdir", logdir]
    mlp = ["train", "mlp", "--epochs", "1", "--train-samples", "1000", "--logdir", logdir]
    procs = tfcourse(*sine, "--steps", "50", cwd=tmp_path), tfcourse(*mlp, cwd=tmp_path)
    (metrics, err), (mlp_metrics, _) = (finished(proc) for proc in procs)
    assert metrics["steps_completed"] == 50 and mlp_metrics["epochs_completed"] == 1
    assert [line[:6] for line in err.splitlines()] == ["00025 ", "00050 "]  # progress: stderr
    for run in (Path(metrics["run_dir"]), Path(mlp_metrics["run_dir"])):
        assert "-seed1-" in run.name  # the one default seed
        assert not (run / lock.LOCK_FILE).exists()

    resumed, err = finished(tfcourse(*sine, "--steps", "100", "--resume", cwd=tmp_path))
    run = Path(metrics["run_dir"])
    assert resumed["run_dir"] == str(run) and resumed["steps_completed"] == 100
    notes = [line for line in err.splitlines() if line.startswith("tfcourse:")]
    assert notes == [f"tfcourse: resumed from {run / 'checkpoints' / 'ckpt-50'} at step 50 of 100"]
    assert not (run / lock.LOCK_FILE).exists()


class Killed(Exception):
    """Stands in for a trainer killed right after a checkpoint."""


def test_resume_after_a_crash_names_the_checkpoint_and_the_lock_file_goes(
    tmp_path, small_mnist, capsys
):
    from tfcourse.mlp.trainer import MLPTrainer

    config = MLPConfig(epochs=2, logdir=str(tmp_path), progress=False, jit=False)
    trainer = MLPTrainer(config, data=small_mnist)
    save = trainer.run.save

    def save_then_die(step: int) -> None:
        save(step)
        raise Killed

    trainer.run.save = save_then_die
    with pytest.raises(Killed):
        trainer.fit()
    run = trainer.run_dir
    assert (run / "checkpoints" / "ckpt-1.index").exists()
    assert not (run / lock.LOCK_FILE).exists()  # gone on an error too
    capsys.readouterr()

    again = MLPTrainer(dataclasses.replace(config, resume=True), data=small_mnist)
    assert again.fit()["epochs_completed"] == 2
    resumed = [line for line in capsys.readouterr().err.splitlines() if "resumed" in line]
    assert resumed == [f"tfcourse: resumed from {run / 'checkpoints' / 'ckpt-1'} at epoch 1 of 2"]
    assert not (run / lock.LOCK_FILE).exists()


def test_a_lock_file_deleted_between_open_and_flock_is_opened_again(tmp_path, monkeypatch):
    """The race a deleted lock file opens: a trainer opens the file, the holder deletes it and
    unlocks, the trainer's flock succeeds on the deleted file; it must try again, or a third
    trainer could lock the new file at the same time."""
    path = tmp_path / lock.LOCK_FILE
    calls = []
    real_flock = lock.fcntl.flock

    def holder_releases_first(fd: int, op: int) -> None:
        if op & lock.fcntl.LOCK_EX and not calls:
            path.unlink()  # what RunLock.release does while this trainer was opening the file
        calls.append(op)
        real_flock(fd, op)

    monkeypatch.setattr(lock.fcntl, "flock", holder_releases_first)
    held = lock.lock_run(tmp_path)
    try:
        assert len(calls) == 2  # locked the deleted file, noticed, locked the new one
        assert os.fstat(held.fd).st_ino == path.stat().st_ino
        assert path.read_text() == f"{os.getpid()}\n"
    finally:
        held.release()
    assert not path.exists()


def _parsers(parser):
    yield parser
    for action in parser._subparsers._group_actions if parser._subparsers else []:
        for sub in action.choices.values():
            yield from _parsers(sub)


def test_help_texts_show_no_double_backticks():
    parsers = list(_parsers(build_parser()))
    assert len(parsers) > 10  # tfcourse, train, train mlp, ..., release, grade
    shown = {p.prog: p.format_help() for p in parsers}
    assert not [prog for prog, text in shown.items() if "``" in text]
    assert "The tfcourse command line." in shown["tfcourse"]


def test_every_trainer_defaults_to_seed_1():
    assert [cls().seed for cls in (MLPConfig, SineConfig, A2CConfig)] == [1, 1, 1]


# runs the setup cell's install part with pip replaced by a recorder; prints what it would run
SETUP_CELL_RUNNER = """
import importlib.util, json, subprocess, sys
calls = []
subprocess.run = lambda cmd, **kw: calls.append(cmd)
importable = importlib.util.find_spec("tfcourse") is not None
exec(sys.stdin.read(), {})
print(json.dumps({"importable": importable, "pip": calls}))
"""


@pytest.mark.parametrize("installed", [False, True])
def test_the_setup_cell_installs_where_only_a_tfcourse_folder_sits_in_the_cwd(tmp_path, installed):
    """After ``!git clone`` on Colab, the clone (a folder named tfcourse) is importable as a
    namespace package; the cell must still install. ``python -S`` is a Python without
    site-packages: tfcourse is not installed there."""
    (tmp_path / "tfcourse" / "tfcourse").mkdir(parents=True)  # the repository's layout
    (tmp_path / "tfcourse" / "pyproject.toml").write_text("[project]\nname = 'tfcourse'\n")
    python = [sys.executable] if installed else [sys.executable, "-S"]
    done = subprocess.run(
        [*python, "-c", SETUP_CELL_RUNNER],
        input=install_cell("/wheels/tfcourse.whl"),
        cwd=tmp_path,
        env=student_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["importable"]  # find_spec would have said "installed"
    pip = [sys.executable, "-m", "pip", "install", "-q", "/wheels/tfcourse.whl"]
    assert result["pip"] == ([] if installed else [pip])


def test_release_warns_when_students_would_install_from_the_repository(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.delenv("TFCOURSE_INSTALL", raising=False)
    argv = ["release", "toy", "--source", str(FIXTURES)]
    assert main([*argv, str(tmp_path / "a")]) == 0
    out, err = capsys.readouterr()
    assert out == f"student version of 'toy' written to {tmp_path / 'a'}/\n"
    assert err.splitlines() == [
        "tfcourse: warning: the handout installs tfcourse from the course repository, which "
        "also holds",
        "  the solutions (exercises.py) and hidden tests; pin a wheel: --install URL_OF_WHEEL",
    ]
    fork = "git+https://example.org/me/tfcourse.git@v1"
    assert main([*argv, str(tmp_path / "b"), "--install", fork]) == 0
    assert f"from {fork}, a repository that may also hold" in capsys.readouterr().err
    wheel = "https://example.org/tfcourse-0.1.0-py3-none-any.whl"
    assert main([*argv, str(tmp_path / "c"), "--install", wheel]) == 0
    assert capsys.readouterr().err == ""  # a pinned wheel holds no solutions


# executes every code cell of a handout notebook, in order, in one namespace (as a kernel does)
HANDOUT_RUNNER = """
import sys
import nbformat
namespace = {"__name__": "__main__"}
for cell in nbformat.read(sys.argv[1], as_version=4).cells:
    if cell.cell_type == "code":
        exec(compile(cell.source, "<cell>", "exec"), namespace)
"""


def test_a_handouts_cells_show_no_tensorflow_log_lines(tmp_path):
    from tfcourse.grading.release import release

    out = release("tutorial1_mlp", tmp_path / "h", install="/wheels/tfcourse.whl")
    done = subprocess.run(
        [sys.executable, "-c", HANDOUT_RUNNER, "tutorial1_mlp.ipynb"],
        cwd=out,
        env=student_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "forward: 0/3 points from the public tests." in done.stdout  # the checks ran
    assert not LOG_LINE.search(done.stdout + done.stderr), done.stderr[-3000:]


@pytest.mark.network_local
def test_tfcourse_tensorboard_serves_without_tensorflow_log_lines(tmp_path):
    (tmp_path / "runs").mkdir()
    port = free_port()
    server = tfcourse("tensorboard", "--host", "127.0.0.1", "--port", str(port), cwd=tmp_path)
    try:
        deadline, runs = time.monotonic() + 120, None
        while runs is None and time.monotonic() < deadline:
            assert server.poll() is None, server.communicate()[1][-2000:]
            try:
                url = f"http://127.0.0.1:{port}/data/runs"
                with urllib.request.urlopen(url, timeout=5) as response:
                    runs = json.loads(response.read())
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        assert runs == []  # serving the default --logdir runs (empty)
    finally:
        server.terminate()
        _, err = server.communicate(timeout=60)
    assert "TensorBoard " in err and f"http://127.0.0.1:{port}/" in err
    assert not LOG_LINE.search(err), err
    assert "NOTE: Using experimental fast data loading" not in err, err
