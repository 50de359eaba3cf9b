"""The self-check: the reference solution must score full marks before a submission is graded.

The key and the cache are tested with a fake grade function; three real gradings (the numpy-only
``toy`` assignment, a few seconds each, and one of ``tutorial3_review`` with too small a
timeout) show the plugin and the command line refuse to grade anyone when the reference fails.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tfcourse.grading import selfcheck
from tfcourse.grading.errors import GraderFailure, GradingError
from tfcourse.grading.limits import Limits

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "tests" / "grading_fixtures" / "toy"
FULL = {
    "score": 6.0,
    "max_score": 6.0,
    "tests": [{"name": "add: test_add_small (tests_public)", "score": 1.0, "max_score": 1.0}],
}
PARTIAL = {  # as with --maxfail 1: a public test failed, so the hidden one after it never ran
    "score": 1.0,
    "max_score": 6.0,
    "tests": [
        {"name": "add: test_add_small (tests_public)", "score": 1.0, "max_score": 1.0},
        {
            "name": "add: test_add_big (tests_hidden)",
            "score": 0.0,
            "max_score": 1.0,
            "output": "failed",
        },
        {
            "name": "mean_square: test_mean_square (tests_public)",
            "score": 0.0,
            "max_score": 2.0,
            "output": "the call took more than\n 0.05 s",
        },
    ],
}


class FakeGrade:
    """Stands in for :func:`tfcourse.grading.runner.grade`: records calls, returns ``results``."""

    def __init__(self, results: dict, seconds: float = 0.0) -> None:
        self.results, self.seconds = results, seconds
        self.calls: list[tuple] = []

    def __call__(self, submission, assignment, timeout, **options):
        self.calls.append((Path(submission), assignment.name, timeout, options))
        time.sleep(self.seconds)
        if isinstance(self.results, Exception):
            raise self.results
        return self.results


@pytest.fixture
def toy(tmp_path) -> Path:
    """A copy of the toy assignment that a test may edit."""
    return Path(shutil.copytree(TOY, tmp_path / "toy"))


def test_a_passing_verdict_is_cached_and_the_reference_graded_with_the_same_limits(toy, tmp_path):
    fake, limits = FakeGrade(FULL), Limits(call_timeout=7.0, budget=100.0, memory_mb=900)
    cache = tmp_path / "cache"
    first = selfcheck.ensure_reference_passes(toy, limits, "uid", grade=fake, cache=cache)
    second = selfcheck.ensure_reference_passes(toy, limits, "uid", grade=fake, cache=cache)
    assert len(fake.calls) == 1
    assert "cached" not in first and "(cached verdict)" in second
    submission, name, timeout, options = fake.calls[0]
    assert (submission, name, timeout) == (toy / "exercises.py", "toy", 7.0)
    assert (options["sandbox"], options["self_check"], options["maxfail"]) == ("uid", "off", 1)
    expected = {f: v for f, v in dataclasses.asdict(limits).items() if f != "output_kb"}
    expected.pop("call_timeout")
    assert {k: options[k] for k in expected} == expected
    assert len(list(cache.glob("*.json"))) == 1


def test_changed_tests_solution_limits_mode_or_package_change_the_key(toy):
    limits = Limits()
    key = selfcheck.cache_key(toy, limits, "bwrap", package="p1")
    assert selfcheck.cache_key(toy, Limits(), "bwrap", package="p1") == key
    others = {
        selfcheck.cache_key(toy, Limits(call_timeout=0.05), "bwrap", package="p1"),
        selfcheck.cache_key(toy, Limits(memory_mb=100), "bwrap", package="p1"),
        selfcheck.cache_key(toy, limits, "uid", package="p1"),
        selfcheck.cache_key(toy, limits, "bwrap", package="p2"),
    }
    for name in ("tests_hidden.py", "exercises.py"):
        path = toy / name
        path.write_text(path.read_text() + "\n# edited\n")
        others.add(selfcheck.cache_key(toy, limits, "bwrap", package="p1"))
    assert len(others) == 6 and key not in others


def test_an_edited_test_file_misses_the_cache(toy, tmp_path):
    fake, cache = FakeGrade(FULL), tmp_path / "cache"
    selfcheck.ensure_reference_passes(toy, Limits(), "none", grade=fake, cache=cache)
    (toy / "tests_public.py").write_text((toy / "tests_public.py").read_text() + "\n")
    selfcheck.ensure_reference_passes(toy, Limits(), "none", grade=fake, cache=cache)
    selfcheck.ensure_reference_passes(toy, Limits(budget=60.0), "none", grade=fake, cache=cache)
    assert len(fake.calls) == 3


def test_an_edit_of_the_package_source_changes_its_digest(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "sub" / "mod.py").write_text("x = 1\n")
    before = selfcheck.source_digest(package)
    (package / "sub" / "mod.py").write_text("x = 2\n")
    edited = selfcheck.source_digest(package)
    (package / "sub" / "mod.py").rename(package / "mod.py")
    moved = selfcheck.source_digest(package)
    assert len({before, edited, moved}) == 3
    assert len(selfcheck.package_digest()) == 64


def test_a_reference_short_of_full_marks_names_the_first_failing_test_and_is_not_cached(
    toy, tmp_path
):
    fake, cache = FakeGrade(PARTIAL), tmp_path / "cache"
    for _ in range(2):
        with pytest.raises(GraderFailure) as caught:
            selfcheck.ensure_reference_passes(
                toy, Limits(call_timeout=0.05), "bwrap", grade=fake, cache=cache
            )
    assert str(caught.value) == (
        f"the reference solution {toy / 'exercises.py'} loses points under these limits "
        "(call_timeout=0.05, sandbox=bwrap): mean_square: test_mean_square (tests_public): "
        "the call took more than 0.05 s; the grader's limits or setup are wrong, not the "
        "student (raise the limits, e.g. tfcourse grade --timeout or pytest --call-timeout / "
        "--budget)"
    )
    assert len(fake.calls) == 2  # a failure is checked again next time
    assert not list(cache.glob("*.json"))


def test_a_reference_that_cannot_be_graded_is_a_grader_failure(toy, tmp_path):
    fake = FakeGrade(GradingError("grading exercises.py ran no test (pytest exit code 3)"))
    with pytest.raises(GraderFailure, match=r"could not be graded .*ran no test \(pytest exit"):
        selfcheck.ensure_reference_passes(toy, Limits(), "none", grade=fake, cache=tmp_path)


def test_an_unwritable_cache_only_costs_time(toy, tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    fake = FakeGrade(FULL)
    for _ in range(2):
        note = selfcheck.ensure_reference_passes(
            toy, Limits(), "none", grade=fake, cache=blocker / "selfcheck"
        )
        assert "full marks" in note
    assert len(fake.calls) == 2


def test_gradings_at_once_check_the_reference_once(toy, tmp_path):
    fake, cache = FakeGrade(FULL, seconds=0.5), tmp_path / "cache"
    notes: list[str] = []

    def check() -> None:
        notes.append(selfcheck.ensure_reference_passes(toy, Limits(), "none", fake, cache))

    threads = [threading.Thread(target=check) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fake.calls) == 1
    assert sum("(cached verdict)" in n for n in notes) == 2


def test_the_cache_lives_under_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert selfcheck.cache_dir() == tmp_path / "tfcourse" / "selfcheck"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert selfcheck.cache_dir() == Path.home() / ".cache" / "tfcourse" / "selfcheck"


# ---------------------------------------------------------------- real gradings


def _pytest(cwd: Path, cache: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    cmd = [sys.executable, "-m", "pytest", str(TOY), "-p", "no:cacheprovider", *args]
    return subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_plain_pytest_checks_the_reference_once_and_never_while_grading_it(tmp_path):
    cache, entries = tmp_path / "cache", tmp_path / "cache" / "tfcourse" / "selfcheck"
    work = tmp_path / "work.py"
    shutil.copy(TOY / "exercises.py", work)
    itself = _pytest(tmp_path, cache, "--submission", str(TOY / "exercises.py"))
    assert itself.returncode == 0, itself.stdout[-2000:]
    assert "self-check" not in itself.stdout and not list(entries.glob("*.json"))
    first = _pytest(tmp_path, cache, "--submission", str(work), "--results", "r1.json")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    assert "self-check: the reference solution scores full marks here (" in first.stdout
    assert len(list(entries.glob("*.json"))) == 1
    second = _pytest(tmp_path, cache, "--submission", str(work), "--results", "r2.json")
    assert "scores full marks here (cached verdict)" in second.stdout
    assert (tmp_path / "r2.json").read_text().count('"score": 6') == 1


def test_limits_too_small_for_the_reference_stop_plain_pytest_unless_self_check_is_off(
    tmp_path,
):
    cache, work = tmp_path / "cache", tmp_path / "work.py"
    shutil.copy(TOY / "exercises.py", work)
    tiny = ("--submission", str(work), "--results", "r.json", "--call-timeout", "0.0001")
    refused = _pytest(tmp_path, cache, *tiny)
    assert refused.returncode != 0
    text = refused.stdout + refused.stderr
    assert f"the reference solution {TOY / 'exercises.py'} loses points" in text
    assert "call_timeout=0.0001" in text and "add: test_add_small (tests_public)" in text
    assert not (tmp_path / "r.json").exists()
    graded = _pytest(tmp_path, cache, *tiny, "--self-check", "off")
    assert (tmp_path / "r.json").is_file(), graded.stdout[-2000:]


def test_tfcourse_grade_with_too_small_a_timeout_exits_non_zero_naming_the_test(tmp_path):
    work = tmp_path / "copy_of_solution.py"
    shutil.copy(ROOT / "assignments" / "tutorial3_review" / "exercises.py", work)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    flags = ["--assignment", "tutorial3_review", "--timeout", "0.05", "--results", "r.json"]
    cmd = [sys.executable, "-m", "tfcourse.cli", "grade", str(work), *flags]
    done = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 2  # a grader failure, as for any setup problem
    assert "tfcourse: error: the reference solution" in done.stderr
    assert "call_timeout=0.05" in done.stderr
    assert "(tests_public): " in done.stderr or "(tests_hidden): " in done.stderr
    assert not (tmp_path / "r.json").exists()
