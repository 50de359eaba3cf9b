"""Shared fixtures: where the offline course data lives, and small real-data subsets."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def find_shared_data() -> Path | None:
    """``../shared/data`` beside the repo, else ``$TFCOURSE_DATA``, else None."""
    for candidate in (REPO.parent / "shared" / "data", os.environ.get("TFCOURSE_DATA")):
        if candidate and (Path(candidate) / "mnist.npz").is_file():
            return Path(candidate)
    return None


SHARED_DATA = find_shared_data()
needs_data = pytest.mark.skipif(
    SHARED_DATA is None, reason="offline MNIST not found: set TFCOURSE_DATA to ../shared/data"
)


@pytest.fixture(scope="session")
def mnist():
    """Real MNIST ``((x_train, y_train), (x_test, y_test))`` as uint8 arrays."""
    if SHARED_DATA is None:
        pytest.skip("offline MNIST not found: set TFCOURSE_DATA to ../shared/data")
    from tfcourse.data.loaders import load_mnist

    return load_mnist(path=SHARED_DATA / "mnist.npz", download=False)


@pytest.fixture(scope="session")
def small_mnist(mnist):
    """2,000 training and 1,000 test images of real MNIST: enough to learn, quick to train."""
    (x_tr, y_tr), (x_te, y_te) = mnist
    return (x_tr[:2000], y_tr[:2000]), (x_te[:1000], y_te[:1000])


@pytest.fixture
def data_env(monkeypatch):
    """Point ``TFCOURSE_DATA`` at the shared data for code that loads by name (CLI, scripts)."""
    if SHARED_DATA is None:
        pytest.skip("offline MNIST not found: set TFCOURSE_DATA to ../shared/data")
    monkeypatch.setenv("TFCOURSE_DATA", str(SHARED_DATA))
    return SHARED_DATA


@pytest.fixture(scope="session")
def grading_pool():
    """A thread pool for independent gradings in the default sandbox: two at a time under
    bubblewrap (each worker in its own PID and network namespaces, as ``tfcourse grade --jobs``
    does), one at a time otherwise (uid mode: every submission runs as uid nobody).

    Wait for every grading before a test body runs: pytest's putenv of PYTEST_CURRENT_TEST
    between tests races with a pool thread's exec (which reads ``environ``; EFAULT).
    """
    from concurrent.futures import ThreadPoolExecutor

    from tfcourse.grading import sandbox

    workers = 2 if sandbox.choose_mode() == "bwrap" else 1
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grading") as pool:
        yield pool


# the smoke runs of scripts/bench_*.py: script -> its arguments (besides --logdir)
BENCH_SMOKE = {
    "bench_mlp": "--epochs 1 --tutorial-batches 20 --keras-epochs 1 --train-samples 5000".split(),
    "bench_scale": ["--quick"],
    "bench_sine": ["--steps", "400", "--chunk", "200"],
}


@pytest.fixture(scope="session")
def bench_smoke(tmp_path_factory):
    """The BENCH_SMOKE runs, all started the first time one is needed, side by side (their
    tests check what they print, not their speed): ``script -> (Popen, its folder)``; read
    one with :func:`bench_output`. Runs needing MNIST are not started without it."""
    started = {}
    for script, args in BENCH_SMOKE.items():
        if script != "bench_sine" and SHARED_DATA is None:
            continue
        folder = tmp_path_factory.mktemp(script)
        cmd = [sys.executable, str(REPO / "scripts" / f"{script}.py"), *args]
        proc = subprocess.Popen(
            [*cmd, "--logdir", str(folder)],
            cwd=folder,
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started[script] = proc, folder
    yield started
    for proc, _ in started.values():
        if proc.poll() is None:  # a test failed before reading it
            proc.kill()
            proc.communicate()


def bench_output(bench_smoke: dict, script: str) -> tuple[str, str, Path]:
    """Wait for one :func:`bench_smoke` run: its stdout, stderr and folder; exit code 0."""
    proc, folder = bench_smoke[script]
    out, err = proc.communicate(timeout=400)
    assert proc.returncode == 0, err[-3000:]
    return out, err, folder


# long child runs, started as soon as the tests are collected (when a selected test needs one)
# so that they run beside the other tests: fixture name -> the child's arguments after python
ASSIGNMENT_NAMES = sorted(p.parent.name for p in (REPO / "assignments").glob("*/exercises.py"))
EARLY = {
    # tests/test_mistakes.py: a minute and a half of TensorFlow
    "mistake_reports": [
        *("-m", "tfcourse.cli", "mistakes", *ASSIGNMENT_NAMES, "--json"),
        *("--source", str(REPO / "assignments")),
    ],
    # tests/test_bench_compare.py (with the [compare] extra): SB3 beside tfcourse, --quick
    "sb3_side_by_side": [str(REPO / "scripts" / "bench_a2c.py"), "--quick"],
}
_STARTED: dict[str, tuple[subprocess.Popen, Path]] = {}


def _start_early(name: str) -> tuple[subprocess.Popen, Path]:
    """Start ``EARLY[name]`` (niced) in a new temporary folder, which holds its stdout and
    stderr files (read when it has ended) and is its working directory."""
    folder = Path(tempfile.mkdtemp(prefix=f"tfcourse-test-{name}-"))
    with open(folder / "stdout", "wb") as out, open(folder / "stderr", "wb") as err:
        proc = subprocess.Popen(
            ["nice", "-n", "10", sys.executable, *EARLY[name]],
            cwd=folder,
            env=subprocess_env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
    return proc, folder


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the EARLY runs that the selected tests need, before the first test runs."""
    needed = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    for name in EARLY:
        if name in needed and not _skipped(session, name):
            _STARTED[name] = _start_early(name)


def _skipped(session: pytest.Session, fixture: str) -> bool:
    """Whether every selected test using ``fixture`` carries a skipif that holds."""
    users = [i for i in session.items if fixture in getattr(i, "fixturenames", ())]
    return all(any(m.args and m.args[0] is True for m in i.iter_markers("skipif")) for i in users)


def early_output(name: str, timeout: float = 1200) -> tuple[int, str, str, Path]:
    """Wait for the EARLY run ``name`` (started now if it was not): exit code, stdout,
    stderr and its folder."""
    proc, folder = _STARTED.pop(name, None) or _start_early(name)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    out, err = (folder / "stdout").read_text(), (folder / "stderr").read_text()
    return proc.returncode, out, err, folder


@pytest.fixture(scope="session")
def mistake_reports() -> Iterator[dict[str, dict]]:
    """``tfcourse mistakes ... --json`` of every assignment: ``name -> report`` (see
    :func:`tfcourse.grading.mistakes.report`); exit code 0 (no problem) or 1 (problems)."""
    code, out, err, folder = early_output("mistake_reports")
    said = f"tfcourse mistakes exited {code} ({folder}); stderr ends:\n{err[-3000:]}"
    assert code in (0, 1) and out.strip(), said
    yield {rep["assignment"]: rep for rep in json.loads(out)}
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def sb3_side_by_side() -> Iterator[tuple[int, str, str, Path]]:
    """``scripts/bench_a2c.py --quick``: exit code, stdout, stderr, folder (runs/ inside)."""
    result = early_output("sb3_side_by_side", timeout=600)
    yield result
    shutil.rmtree(result[3], ignore_errors=True)


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for child processes: quiet TensorFlow, shared data, no GPU surprises."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", MPLBACKEND="Agg", **extra)
    if SHARED_DATA is not None:
        env["TFCOURSE_DATA"] = str(SHARED_DATA)
    return env


def run_autograder(root: Path, python: str | Path = sys.executable) -> subprocess.CompletedProcess:
    """Run an unpacked Gradescope autograder (``root/source/run_autograder``) as Gradescope
    would, its grading done by ``python`` (``TFCOURSE_PYTHON``); exit code not checked."""
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "TFCOURSE_PYTHON": str(python)}
    return subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_server(server: subprocess.Popen) -> None:
    """Terminate a server started with ``stderr=PIPE`` (killed after 10 s) and close the pipe."""
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)
    server.stderr.close()


def start_child(code: str, *args: str, **env: str) -> subprocess.Popen:
    """Start ``python -c code *args`` in the repository (so it imports this checkout).

    For what must happen before TensorFlow initialises (logical devices, a cluster).
    """
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env=subprocess_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def child_json(proc: subprocess.Popen, timeout: float = 300) -> dict:
    """Wait for a :func:`start_child` process; its last stdout line, parsed as JSON."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def as_float(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


@contextlib.contextmanager
def uid_mode_setup() -> Iterator[None]:
    """What a ``--sandbox uid`` grading needs on this machine, for the time of a test.

    uid nobody may traverse the folders above this Python, its venv and its base installation
    (e.g. under /root or a private /tmp folder) but not enter this checkout, which holds the
    solutions: the grader refuses uid mode while nobody could read it. Every permission changed
    is restored; an exclusive lock serialises the uid gradings of concurrent test runs, so that
    none restores what another one changed.
    """
    with open("/tmp/tfcourse-tests-uid-mode.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        changed: dict[Path, int] = {}
        python = Path(sys.executable)  # a venv's (e.g. under a private /tmp folder) and its base
        needed = {python.parent, python.resolve().parent, Path(sys.prefix), Path(sys.base_prefix)}
        for folder in sorted({f for p in needed for f in (p, *p.parents)}):
            mode = folder.stat().st_mode & 0o7777
            if not mode & 0o001:
                changed[folder] = mode
                os.chmod(folder, mode | 0o011)
        mode = REPO.stat().st_mode & 0o7777
        changed[REPO] = mode
        os.chmod(REPO, mode & ~0o007)
        try:
            yield
        finally:
            for folder, mode in changed.items():
                os.chmod(folder, mode)
