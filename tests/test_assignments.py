"""Every course assignment grades right: solution = max, released stubs = 0, partial = exact.

Each grading run goes through the real pytest plugin and its sandboxed worker, through
``tfcourse.grading.runner.grade``, plain ``pytest`` in a handout folder, and ``tfcourse grade``,
so this also keeps every assignment under the one-minute grading budget. The twelve gradings
are independent: :func:`graded` releases the handouts, then starts every grading at once on
the ``grading_pool`` (two at a time under bubblewrap); each test reads the ones it checks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import Future, wait
from pathlib import Path
from typing import Any

import pytest

from tfcourse.grading.assignment import available, load
from tfcourse.grading.release import release
from tfcourse.grading.runner import grade

ASSIGNMENTS = Path(__file__).resolve().parents[1] / "assignments"
NAMES = available(ASSIGNMENTS)
BUDGET_S = 60.0


def _timed_grade(path: Path, assignment) -> tuple[dict, float]:
    start = time.perf_counter()
    results = grade(path, assignment)
    return results, time.perf_counter() - start


def _cli_grade(name: str, notebook: Path, results_path: Path) -> tuple[Any, Path]:
    cmd = [
        sys.executable,
        "-m",
        "tfcourse.cli",
        "grade",
        str(notebook),
        "--assignment",
        name,
        "--source",
        str(ASSIGNMENTS),
        "--results",
        str(results_path),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    return done, results_path


def _plain_pytest(handout: Path, student_file: Path) -> tuple[Any, Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
        cwd=handout,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    return done, student_file


def _partial(name: str, assignment, folder: Path) -> Path:
    """The solution with exercise 1 raising and exercise 2 calling sys.exit (a hostile trick)."""
    raising, exiting = assignment.exercises[:2]
    text = (ASSIGNMENTS / name / "exercises.py").read_text()
    partial = folder / "partial.py"
    partial.write_text(
        text
        + f"\n\ndef {raising}(*args, **kwargs):\n    raise RuntimeError('ran out of time')\n"
        + f"\n\ndef {exiting}(*args, **kwargs):\n    import sys\n    sys.exit(3)\n"
    )
    return partial


@pytest.fixture(scope="module")
def graded(grading_pool, tmp_path_factory) -> dict[tuple[str, str], Future]:
    """``(kind, name) -> Future`` for kind ``solution`` (results, seconds), ``cli`` (process,
    results.json path), ``handout`` (process, the solution copied into the handout) and
    ``partial`` (results)."""
    jobs = {}
    for name in NAMES:
        assignment = load(name, ASSIGNMENTS)
        folder = tmp_path_factory.mktemp(name)
        student = release(name, folder / "student", source=ASSIGNMENTS)  # here: uses the umask
        handout = release(name, folder / "handout", source=ASSIGNMENTS)
        student_file = handout / f"{name}.py"
        shutil.copyfile(ASSIGNMENTS / name / "exercises.py", student_file)
        os.utime(student_file)  # the newest of NAME.py / NAME.ipynb is the one graded
        jobs[("solution", name)] = (_timed_grade, ASSIGNMENTS / name / "exercises.py", assignment)
        jobs[("cli", name)] = (_cli_grade, name, student / f"{name}.ipynb", folder / "r.json")
        jobs[("handout", name)] = (_plain_pytest, handout, student_file)
        jobs[("partial", name)] = (grade, _partial(name, assignment, folder), assignment)
    futures = {key: grading_pool.submit(*job) for key, job in jobs.items()}
    wait(futures.values())  # before any test runs: see grading_pool
    return futures


def test_every_tutorial_has_an_assignment():
    assert NAMES == ["tutorial1_mlp", "tutorial2_a2c", "tutorial3_review"]


@pytest.mark.parametrize("name", NAMES)
def test_assignment_is_well_formed(name):
    assignment = load(name, ASSIGNMENTS)
    assert len(assignment.exercises) >= 5
    assert assignment.title and assignment.intro
    graded = {t.exercise for t in assignment.tests}
    assert graded == set(assignment.exercises), "every exercise needs tests"
    for exercise in assignment.exercises:
        files = {t.file for t in assignment.tests if t.exercise == exercise}
        assert "tests_public" in files, f"{exercise} needs a public test for check()"
    assert (ASSIGNMENTS / name / "README.md").is_file()


@pytest.mark.parametrize("name", NAMES)
def test_solution_scores_max_within_budget(name, graded):
    assignment = load(name, ASSIGNMENTS)
    results, seconds = graded[("solution", name)].result()
    failed = {t["name"]: t["output"] for t in results["tests"] if t["score"] < t["max_score"]}
    assert not failed
    assert results["score"] == assignment.max_score > 0
    assert seconds < BUDGET_S, f"grading {name} took {seconds:.1f} s"


@pytest.mark.parametrize("name", NAMES)
def test_released_notebook_scores_zero_through_the_cli(name, graded):
    assignment = load(name, ASSIGNMENTS)
    done, results_path = graded[("cli", name)].result()
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(results_path.read_text())
    assert results["output"] == "Your submission loaded without errors."
    assert results["score"] == 0
    assert len(results["tests"]) == len(assignment.tests)
    outputs = {t["output"] for t in results["tests"]}
    assert all("not implemented yet" in o for o in outputs), outputs
    assert f"Score: 0 / {assignment.max_score:g}" in done.stdout


@pytest.mark.parametrize("name", NAMES)
def test_plain_pytest_in_a_handout_grades_the_students_file(name, graded):
    """A student runs `pytest` in the released folder: the public tests grade their file."""
    assignment = load(name, ASSIGNMENTS)
    done, student_file = graded[("handout", name)].result()
    public = [t for t in assignment.tests if t.file == "tests_public"]
    assert done.returncode == 0, done.stdout[-3000:]
    assert f"graded {student_file}" in done.stdout
    total = sum(t.points for t in public)
    assert f"Score: {total:g} / {total:g}" in done.stdout
    assert f"{len(public)} passed" in done.stdout


@pytest.mark.parametrize("name", NAMES)
def test_wrong_exercises_lose_exactly_their_points(name, graded):
    """The solution with exercise 1 raising and exercise 2 calling sys.exit (a hostile trick)."""
    assignment = load(name, ASSIGNMENTS)
    raising, exiting = assignment.exercises[:2]
    results = graded[("partial", name)].result()
    lost = sum(t.points for t in assignment.tests if t.exercise in (raising, exiting))
    assert results["score"] == assignment.max_score - lost
    expected = {raising: "RuntimeError: ran out of time", exiting: "SystemExit(3)"}
    for exercise, message in expected.items():
        outputs = [t["output"] for t in results["tests"] if t["name"].startswith(f"{exercise}:")]
        assert outputs and all(o.startswith(message) for o in outputs), outputs
