"""The self-check: the reference solution must score full marks before anyone is graded.

When the instructor's ``exercises.py`` lies beside the tests (``tfcourse grade``, batch grading,
plain ``pytest`` on an assignment folder), the plugin grades it first, in the same sandbox mode
with the same limits, through :func:`.runner.grade` with ``--self-check off`` (so that run does
not check itself) and ``--maxfail 1`` (a failing check stops at once). Anything short of full
marks means the grader's limits or setup are wrong, not the student:
:func:`ensure_reference_passes` raises :class:`~.errors.GraderFailure` naming the failing test
and its message, and nobody is graded. A released handout or a Gradescope zip carries
``assignment.json`` instead of the solutions and is not self-checked.

A passing verdict is cached in ``$XDG_CACHE_HOME/tfcourse/selfcheck`` (default ``~/.cache``),
keyed by :func:`cache_key`: the contents of the solution and the test files, the tfcourse
version and package source, the Python and main library versions, the limits and the sandbox
mode. A failure is never cached (it is checked again next time); an unwritable cache only costs
time. Gradings that run at once (``--jobs 2``) take a lock on the entry, so one of them checks
and the others wait for its verdict.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import hashlib
import importlib.metadata
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tfcourse.errors import StorageError
from tfcourse.grading.errors import GraderFailure, GradingError
from tfcourse.grading.limits import Limits
from tfcourse.safe_write import atomic_write_json

REFERENCE = "exercises.py"
CHECKED_FILES = (REFERENCE, "tests_public.py", "tests_hidden.py", "conftest.py")
LIBRARIES = ("numpy", "tensorflow", "keras", "pytest")  # versions that can change a grade
MAX_MESSAGE = 400  # characters of the failing test's message kept in the error


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/tfcourse/selfcheck``, by default ``~/.cache/tfcourse/selfcheck``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tfcourse" / "selfcheck"


def is_reference(submission: Path, folder: Path) -> bool:
    """Whether ``submission`` is the reference solution of the assignment in ``folder``."""
    return submission.resolve() == (folder / REFERENCE).resolve()


@functools.cache
def package_digest() -> str:
    """Hash of the tfcourse version, its package source and the Python and library versions."""
    import tfcourse

    digest = hashlib.sha256(f"tfcourse {tfcourse.__version__}\n".encode())
    digest.update(f"python {sys.version} {sys.executable}\n".encode())
    for name in LIBRARIES:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{name} {version}\n".encode())
    digest.update(source_digest(Path(tfcourse.__file__).resolve().parent).encode())
    return digest.hexdigest()


def source_digest(root: Path) -> str:
    """Hash of the names and contents of every ``.py`` file under ``root``."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def cache_key(folder: Path, limits: Limits, mode: str, package: str | None = None) -> str:
    """The key of the self-check's verdict for the assignment in ``folder``.

    Args:
        folder: the assignment folder holding ``exercises.py`` and the tests.
        limits: every limit of the grading.
        mode: the sandbox mode actually used (``"bwrap"``, ``"uid"`` or ``"none"``).
        package: :func:`package_digest` (tests pass another).
    """
    digest = hashlib.sha256()
    for name in CHECKED_FILES:
        path = folder / name
        content = path.read_bytes() if path.is_file() else b"<absent>"
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    limits_text = json.dumps(dataclasses.asdict(limits), sort_keys=True)
    digest.update(f"\0limits {limits_text}\0sandbox {mode}\0".encode())
    digest.update((package if package is not None else package_digest()).encode())
    return digest.hexdigest()[:32]


def _cached_pass(entry: Path, key: str) -> bool:
    """Whether ``entry`` records a passing verdict for ``key`` (unreadable: no)."""
    try:
        data = json.loads(entry.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("key") == key and data.get("verdict") == "pass"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (nothing, if the cache folder is unwritable)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        fd = None
    try:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd is closed
        yield
    finally:
        if fd is not None:
            os.close(fd)


def _changed_limits(limits: Limits, mode: str) -> str:
    """The limits that differ from the defaults, and the mode: ``"call_timeout=0.05, ..."``."""
    defaults = Limits()
    changed = [
        f"{f.name}={getattr(limits, f.name):g}"
        for f in dataclasses.fields(Limits)
        if getattr(limits, f.name) != getattr(defaults, f.name)
    ]
    return ", ".join([*changed, f"sandbox={mode}"])


def failure_text(results: dict[str, Any]) -> str:
    """``"<test>: <message>"`` of the test that lost points (else the overall output).

    With ``--maxfail 1`` the tests after the first failure did not run: their output is the
    bare ``"failed"``, so the first test with a message is the one that failed.
    """
    lost = [
        test
        for test in results.get("tests", [])
        if float(test.get("score", 0)) < float(test.get("max_score", 0))
    ]
    told = [t for t in lost if str(t.get("output", "")).strip() not in ("", "failed")]
    for test in told or lost:
        message = " ".join(str(test.get("output", "")).split()) or "failed"
        return f"{test.get('name', '?')}: {message[:MAX_MESSAGE]}"
    output = " ".join(str(results.get("output", "")).split())
    return output[:MAX_MESSAGE] or "no test passed"


def _grade_reference(
    folder: Path, limits: Limits, mode: str, grade: Callable[..., dict[str, Any]]
) -> dict[str, Any]:
    """Grade ``folder/exercises.py`` with ``limits`` in ``mode``, without a nested self-check."""
    from tfcourse.grading.assignment import load

    options = dataclasses.asdict(limits)
    timeout = options.pop("call_timeout")
    options.pop("output_kb")  # not a command-line option; always the default
    reference, assignment = folder / REFERENCE, load(str(folder))
    return grade(
        reference, assignment, timeout, sandbox=mode, self_check="off", maxfail=1, **options
    )


def ensure_reference_passes(
    folder: Path,
    limits: Limits,
    mode: str,
    grade: Callable[..., dict[str, Any]] | None = None,
    cache: Path | None = None,
) -> str:
    """Check (or recall) that the reference solution in ``folder`` scores full marks.

    Args:
        folder: an assignment folder holding ``exercises.py``.
        limits: the limits the submission will be graded with.
        mode: the sandbox mode it will be graded in (``"bwrap"``, ``"uid"``, ``"none"``).
        grade: grades a file like :func:`.runner.grade` (tests pass a fake).
        cache: the cache folder (default :func:`cache_dir`).

    Returns:
        A line for the report: whether the verdict was cached or just checked.

    Raises:
        GraderFailure: the reference loses points, or could not be graded at all.
    """
    if grade is None:
        from tfcourse.grading.runner import grade
    cache = cache if cache is not None else cache_dir()
    key = cache_key(folder, limits, mode)
    entry = cache / f"{key}.json"
    if _cached_pass(entry, key):
        return "self-check: the reference solution scores full marks here (cached verdict)"
    with _locked(cache / f"{key}.lock"):
        if _cached_pass(entry, key):  # another grading checked it while this one waited
            return "self-check: the reference solution scores full marks here (cached verdict)"
        start = time.monotonic()
        reference = folder / REFERENCE
        try:
            results = _grade_reference(folder, limits, mode, grade)
        except GraderFailure:
            raise
        except GradingError as exc:
            raise GraderFailure(
                f"the reference solution {reference} could not be graded under these limits "
                f"({_changed_limits(limits, mode)}): {exc}; the grader's limits or setup are "
                "wrong, not the student"
            ) from None
        score, top = float(results.get("score", 0)), float(results.get("max_score", 0))
        if top <= 0 or score < top - 1e-9:
            raise GraderFailure(
                f"the reference solution {reference} loses points under these limits "
                f"({_changed_limits(limits, mode)}): {failure_text(results)}; the "
                "grader's limits or setup are wrong, not the student (raise the limits, "
                "e.g. tfcourse grade --timeout or pytest --call-timeout / --budget)"
            )
        seconds = time.monotonic() - start
        verdict = {"key": key, "verdict": "pass", "score": score, "max_score": top}
        verdict.update(folder=str(folder), seconds=round(seconds, 2), checked=time.time())
        with contextlib.suppress(OSError, StorageError):  # an unwritable cache costs time
            atomic_write_json(entry, verdict)
    return f"self-check: the reference solution scores full marks here ({seconds:.0f} s)"
