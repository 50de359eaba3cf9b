"""The grader's setup is never the student's fault.

A worker that cannot start is a grader failure (no grade, a message naming the fix and quoting
the worker's stderr), the bubblewrap sandbox shows the grader's Python wherever it lies (a
scratch venv under ``/tmp``, a ``.venv`` inside a checkout), and a Gradescope autograder whose
canary submission fails exits non-zero instead of writing zeros.

"A Python that cannot start the worker" is simulated cheaply: a bash script standing in for
``sys.executable`` that runs the real interpreter (as itself, ``exec -a``) for everything but
the worker, and exits 1 with a message on stderr for the worker.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from conftest import run_autograder

import tfcourse
from tfcourse.grading import autograder, sandbox, session
from tfcourse.grading.assignment import load
from tfcourse.grading.autograder_zip import build
from tfcourse.grading.errors import GraderFailure
from tfcourse.grading.limits import Limits
from tfcourse.grading.remote import Remote, Submission
from tfcourse.grading.runner import GRADER_FAILURE_EXIT
from tfcourse.grading.session import WorkerLost, WorkerSession

FIXTURES = Path(__file__).parent / "grading_fixtures"
SOLUTION = FIXTURES / "toy" / "exercises.py"
WORKER_ERROR = "ModuleNotFoundError: No module named 'numpy' (fake python)"


def _script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def broken_python():
    """A Python whose grading worker dies at start (all else runs), in a folder others may
    traverse (``uid`` mode checks that uid nobody can run it)."""
    folder = Path(tempfile.mkdtemp(prefix="tfcourse-broken-python-"))
    folder.chmod(0o755)
    body = (
        'case "$*" in *tfcourse.grading.worker*)\n'
        f'  echo "Traceback (most recent call last):" >&2; echo "{WORKER_ERROR}" >&2; exit 1;;\n'
        "esac\n"
        f'exec -a "$0" {sys.executable} "$@"'
    )
    yield _script(folder / "bin" / "python", body)
    shutil.rmtree(folder)


def _session(mode: str = "none", submission: Path = SOLUTION, **limits) -> WorkerSession:
    return WorkerSession(submission, Limits(**limits), mode, [submission.parent.resolve()])


# ---------------------------------------------------------------------- the bwrap command
def test_bwrap_mounts_its_private_tmp_before_binding_a_python_under_tmp(tmp_path, monkeypatch):
    site = tmp_path / "venv" / "lib" / "site-packages"
    site.mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    cmd = sandbox.bwrap_command(tmp_path / "work", [])
    bind = cmd.index(str(site)) - 1
    assert cmd[bind : bind + 3] == ["--ro-bind", str(site), str(site)]
    assert cmd.index("--tmpfs") < bind and cmd[cmd.index("--tmpfs") + 1] == "/tmp"
    # /proc and /dev come before every bind too, as does the tmpfs before the system folders
    assert max(cmd.index("--proc"), cmd.index("--dev")) < cmd.index("/usr")


def test_python_folders_inside_a_hidden_folder_are_bound_but_not_the_hidden_one(
    tmp_path, monkeypatch
):
    repo = tmp_path / "repo"
    venv_site = repo / ".venv" / "lib" / "site-packages"
    venv_site.mkdir(parents=True)
    checkout = Path(tfcourse.__file__).resolve().parents[1]
    extra = [str(venv_site), str(repo), str(tmp_path), str(checkout)]
    monkeypatch.setattr(sys, "path", [*sys.path, *extra])
    dirs = sandbox._python_dirs([repo / "assignments", repo])
    assert str(venv_site) in dirs  # inside the hidden checkout: still bound
    assert str(repo) not in dirs  # the hidden folder itself
    assert str(tmp_path) not in dirs  # holds a hidden folder
    if (checkout / "pyproject.toml").is_file():  # an editable install's checkout root
        assert str(checkout) not in dirs


@pytest.mark.skipif(not sandbox.bwrap_works(), reason="needs bubblewrap")
def test_a_python_under_tmp_runs_the_worker_in_bwrap(tmp_path, monkeypatch):
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)],
        check=True,
        timeout=120,
    )
    monkeypatch.setattr(sys, "executable", str(venv / "bin" / "python"))
    monkeypatch.setattr(sys, "prefix", str(venv))
    monkeypatch.setattr(sys, "exec_prefix", str(venv))
    worker = _session("bwrap")
    try:
        worker.start()
        remote = Remote(worker)
        assert Submission(remote, remote.begin()).add(2, 3) == 5
    finally:
        worker.close()


# ---------------------------------------------------------------------- the ready line
def test_a_worker_that_dies_before_ready_is_a_grader_failure_quoting_its_stderr(
    broken_python, monkeypatch
):
    monkeypatch.setattr(sys, "executable", str(broken_python))
    worker = _session()
    worker.start()
    with pytest.raises(GraderFailure) as info:
        worker.ensure_loaded(time.monotonic() + 60)
    message = str(info.value)
    assert message.startswith(
        "the grading worker stopped before loading any submission (exit code 1), so nothing "
        f"was graded; `{broken_python} -c 'import tfcourse.grading.worker'` shows whether this "
        "Python works"
    )
    assert message.endswith(
        "Python works.\nThe worker's last output:\nTraceback (most recent call last):\n"
        + WORKER_ERROR
    )
    assert worker.proc is None and worker.workdir is None  # closed, folder removed


def test_a_replacement_worker_that_cannot_start_fails_the_test_not_the_grader(
    broken_python, monkeypatch
):
    monkeypatch.setattr(sys, "executable", str(broken_python))
    worker = _session()
    worker.ever_ready = True  # an earlier worker ran the submission: it may be the cause
    worker.start()
    with pytest.raises(WorkerLost, match=r"could not restart the worker .*\(exit code 1\)"):
        worker.ensure_loaded(time.monotonic() + 60)


def test_a_silent_worker_is_a_grader_failure_after_its_start_timeout(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(_script(tmp_path / "python", "exec sleep 60")))
    monkeypatch.setattr(session, "READY_TIMEOUT", 0.5)
    worker = _session(load_timeout=0.5)
    worker.start()
    start = time.monotonic()
    with pytest.raises(GraderFailure, match=r"\(it did not start within 0.5 s\)"):
        worker.ensure_loaded(time.monotonic() + 60)
    assert time.monotonic() - start < 5


def test_a_crash_in_the_graders_code_quotes_the_traceback(tmp_path):
    submission = tmp_path / "toy.py"
    submission.write_text("import json\njson.dumps = None\n\n\ndef add(a, b):\n    return a + b\n")
    worker = _session(submission=submission)
    worker.start()
    try:
        with pytest.raises(WorkerLost) as info:
            worker.ensure_loaded(time.monotonic() + 60)
    finally:
        worker.close()
    message = str(info.value)
    assert message.startswith(
        "loading your submission failed: the worker stopped with an error in the grader's "
        "code (exit code 1), likely after your code changed something it relies on"
    )
    assert message.endswith("TypeError: 'NoneType' object is not callable")
    assert "; the worker's last output:\nTraceback (most recent call last):\n" in message


# ---------------------------------------------------------------------- tfcourse grade
def _released_toy(folder: Path) -> Path:
    """The toy assignment as a handout keeps it: metadata and tests, no solution."""
    toy = folder / "toy"
    toy.mkdir(parents=True)
    (toy / "assignment.json").write_text(load("toy", FIXTURES).metadata_json())
    for name in ("tests_public.py", "tests_hidden.py"):
        shutil.copy(FIXTURES / "toy" / name, toy / name)
    return folder


def test_cli_grade_exits_2_with_one_line_and_no_results_when_the_worker_cannot_start(
    broken_python, tmp_path
):
    source = _released_toy(tmp_path / "src")
    results = tmp_path / "results.json"
    cmd = [str(broken_python), "-m", "tfcourse.cli", "grade", str(SOLUTION)]
    cmd += ["--assignment", "toy", "--source", str(source), "--results", str(results)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines[0].startswith("tfcourse: sandbox: ")  # which sandbox, and why
    assert len(lines) == 2 and lines[1].startswith(
        "tfcourse: error: the grading worker stopped before loading any submission (exit code "
        "1), so nothing was graded;"
    )
    assert lines[1].endswith(
        f". The worker's last output: Traceback (most recent call last): {WORKER_ERROR}"
    )
    assert not results.exists()


def test_cli_grade_names_the_sandbox_it_chose_and_why():
    mode = sandbox.choose_mode()
    line = sandbox.describe_mode(mode)
    assert line.startswith(f"sandbox: {sandbox._WHAT[mode][0]} ({sandbox.mode_reason(mode)}): ")
    if mode != "bwrap":
        assert "WARNING" in line
    if sandbox.bwrap_works():
        uid = sandbox.describe_mode("uid")
        assert "bubblewrap works here" in uid and "WARNING" in uid
        assert "bubblewrap cannot run" not in uid


# ---------------------------------------------------------------------- Gradescope canary
def _autograder_root(tmp_path: Path) -> Path:
    root = tmp_path / "autograder"
    with zipfile.ZipFile(build("toy", tmp_path / "toy.zip", source=FIXTURES)) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir()
    shutil.copy(SOLUTION, root / "submission" / "toy.py")
    (root / "results").mkdir()
    (root / "results" / "results.json").write_text('{"stale": true}')
    return root


def test_run_autograder_fails_loudly_without_results_when_the_canary_cannot_run(
    broken_python, tmp_path
):
    root = _autograder_root(tmp_path)
    done = run_autograder(root, broken_python)
    assert done.returncode == GRADER_FAILURE_EXIT
    assert not (root / "results" / "results.json").exists()  # no zeros, no stale file
    assert "tfcourse autograder: GRADER FAILURE, nothing was graded" in done.stderr
    assert "the canary submission could not be graded: the grading worker stopped" in done.stderr
    assert WORKER_ERROR in done.stderr


def test_a_canary_that_fails_its_test_stops_the_autograder(tmp_path, monkeypatch, capsys):
    root = _autograder_root(tmp_path)
    broken = "def canary():\n    raise ImportError(\"No module named 'tensorflow'\")\n"
    monkeypatch.setattr(autograder, "CANARY_SUBMISSION", broken)
    assert autograder.main(["run", "--root", str(root)]) == GRADER_FAILURE_EXIT
    assert json.loads((root / "results" / "results.json").read_text()) == {"stale": True}
    err = capsys.readouterr().err
    assert (
        "the built-in canary submission (numpy and tensorflow, one function) fails in this "
        "autograder: ImportError: No module named 'tensorflow'"
    ) in err
