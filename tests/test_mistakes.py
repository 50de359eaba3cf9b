"""The tests are tested: every known mistake of every assignment is graded (mutation analysis).

Each assignment's ``exercises.py`` declares, beside each solution, the mistakes students
plausibly make (:func:`tfcourse.grading.mistakes.mistake`) and other correct ways to write the
answer (:func:`~tfcourse.grading.mistakes.alternative`). Here the reference must pass every
test; each mistake must lose points on its own exercise and nowhere else, most of them in a
public test; each alternative must keep full marks; and the diagnosis must name each mistake
from the calls of the test it fails.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ASSIGNMENT_NAMES, subprocess_env

from tfcourse.grading import mistakes
from tfcourse.grading.assignment import load
from tfcourse.grading.errors import AssignmentError
from tfcourse.grading.markers import strip_mistakes, strip_solutions

REPO = Path(__file__).resolve().parents[1]
TOY = REPO / "tests" / "grading_fixtures" / "toy"
MIN_PER_EXERCISE = 3
MIN_IN_ALL = 80
MIN_PUBLIC_SHARE = 0.8


def test_each_exercise_has_its_known_mistakes_and_the_course_has_80():
    total = 0
    for name in ASSIGNMENT_NAMES:
        folder = REPO / "assignments" / name
        declared = [m for m in mistakes.declared(folder) if not m.correct]
        exercises = load(str(folder)).exercises
        per = {e: sum(m.exercise == e for m in declared) for e in exercises}
        thin = {e: n for e, n in per.items() if n < MIN_PER_EXERCISE}
        assert not thin, f"{name}: exercises with fewer than {MIN_PER_EXERCISE} mistakes: {thin}"
        unknown = {m.exercise for m in declared} - set(exercises)
        assert not unknown, f"{name}: mistakes of exercises not in EXERCISES: {unknown}"
        assert all(len(m.hint) > 20 for m in declared), f"{name}: a mistake without a real hint"
        names = [m.name for m in mistakes.declared(folder)]
        assert len(names) == len(set(names)), f"{name}: two mistakes share a name"
        total += len(declared)
    assert total >= MIN_IN_ALL


# `tfcourse mistakes` (conftest.mistake_reports, one run for all assignments): each entry was
# graded by the assignment's own tests, in-process, as the grader's pytest would


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_the_reference_passes_every_test(mistake_reports, name):
    failures = mistake_reports[name]["reference_failures"]
    assert not failures, f"{name}: the reference solution fails:\n" + "\n".join(failures)


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_each_mistake_loses_points_on_its_own_exercise_and_nowhere_else(mistake_reports, name):
    entries = mistake_reports[name]["mistakes"]
    assert len(entries) == len(mistakes.declared(REPO / "assignments" / name))
    missed = [e["name"] for e in entries if not e["correct"] and not e["caught"]]
    assert not missed, f"{name}: mistakes that keep full marks on their exercise: {missed}"
    charged = {e["name"]: e["elsewhere"] for e in entries if not e["correct"] and e["elsewhere"]}
    assert not charged, f"{name}: mistakes that cost points on other exercises: {charged}"


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_correct_alternatives_keep_full_marks(mistake_reports, name):
    failed = {e["name"]: e["failed"] for e in mistake_reports[name]["mistakes"] if e["correct"]}
    assert not {k: v for k, v in failed.items() if v}, f"{name}: alternatives that lose points"


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_most_mistakes_fail_a_public_test(mistake_reports, name):
    real = [e for e in mistake_reports[name]["mistakes"] if not e["correct"]]
    hidden_only = [e["name"] for e in real if not e["public"]]
    share = 1 - len(hidden_only) / len(real)
    assert share >= MIN_PUBLIC_SHARE, f"{name}: only hidden tests catch {hidden_only}"


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_the_diagnosis_names_each_mistake_from_the_test_it_fails(mistake_reports, name):
    # the diagnosis's own path, with the mistake as its one candidate (the others are replayed
    # the same way; test_the_grader_names_a_known_mistake_in_results_json runs all of them)
    real = [e for e in mistake_reports[name]["mistakes"] if not e["correct"]]
    unnamed = [e["name"] for e in real if e["named"] is not True]
    assert not unnamed, f"{name}: the diagnosis never names {unnamed}"


def _toy_with(tmp_path: Path, block: str) -> Path:
    folder = tmp_path / "toy"
    folder.mkdir()
    for src in TOY.glob("*.py"):
        (folder / src.name).write_text(src.read_text())
    with (folder / "exercises.py").open("a") as f:
        f.write(f"\n\n# BEGIN MISTAKES\nfrom tfcourse.grading.mistakes import *\n\n{block}\n")
        f.write("# END MISTAKES\n")
    return folder


def test_tfcourse_mistakes_names_each_problem_and_exits_1(tmp_path):
    block = (
        "@mistake('add', hint='adds the same way, so no test can see it')\n"
        "def add_again(a, b):\n    return b + a\n\n\n"
        "@mistake('mean_square', hint='the mean of x, not of its squares')\n"
        "def mean_not_squared(x):\n    return float(np.mean(helper_given(x)))\n\n\n"
        "@alternative('scale')\ndef scale_in_place(x, factor):\n"
        "    x *= factor\n    return x\n\n\n"
    )
    folder = _toy_with(tmp_path, block)
    run = subprocess.run(
        [sys.executable, "-m", "tfcourse.cli", "mistakes", str(folder)],
        cwd=tmp_path,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 1, run.stderr
    assert run.stdout.splitlines() == [
        "toy: 1/2 mistakes caught (1 by a public test), 1 named, 0 charged elsewhere; "
        "0/1 alternatives keep full marks",
        "  mistake add_again (add) keeps full marks: no test of add fails",
        "  alternative scale_in_place (scale) loses points: "
        "scale: test_scale_does_not_modify_input (tests_hidden)",
    ]
    as_json = subprocess.run(
        [sys.executable, "-m", "tfcourse.cli", "mistakes", str(folder), "--json"],
        cwd=tmp_path,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    (rep,) = json.loads(as_json.stdout)
    by_name = {e["name"]: e for e in rep["mistakes"]}
    assert by_name["mean_not_squared"]["named"] is True
    assert by_name["mean_not_squared"]["failed"] == ["mean_square: test_mean_square (tests_public)"]
    assert by_name["add_again"]["named"] is None and not by_name["add_again"]["caught"]


# ---------------------------------------------------------------------- release and markers


def test_release_drops_every_mistake_block():
    text = (
        "import tensorflow as tf\n\n# BEGIN MISTAKES\nfrom tfcourse.grading.mistakes import"
        " mistake\n\n# END MISTAKES\n\n\ndef f(x):\n    # BEGIN SOLUTION\n    return x + 1\n"
        "    # END SOLUTION\n\n\n# BEGIN MISTAKES\n@mistake('f', hint='off by one, look again')\n"
        "def f_plus_two(x):\n    return x + 2\n\n\n# END MISTAKES\n\n\ndef g():\n    pass\n"
    )
    stub = strip_solutions(text)
    assert "mistake" not in stub and "x + 2" not in stub and "x + 1" not in stub
    assert 'raise NotImplementedError("f: write your solution here")' in stub
    assert "\n\n\n\n" not in stub  # the gaps close up
    ast.parse(stub)
    with pytest.raises(AssignmentError, match="py:2: '# BEGIN MISTAKES' is never closed"):
        strip_mistakes("x = 1\n# BEGIN MISTAKES\n")
    with pytest.raises(AssignmentError, match="must be at the top level"):
        strip_mistakes("def f():\n    # BEGIN MISTAKES\n    pass\n    # END MISTAKES\n")


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_released_sources_hold_no_mistake(name):
    from tfcourse.grading.release import student_source

    code = student_source(load(str(REPO / "assignments" / name)))
    for m in mistakes.declared(REPO / "assignments" / name):
        assert f"def {m.name}(" not in code and f"class {m.name}(" not in code
    assert "tfcourse.grading.mistakes" not in code


def test_a_mistake_outside_its_block_is_refused(tmp_path):
    from tfcourse.grading.release import student_source

    folder = tmp_path / "toy"
    folder.mkdir()
    source = (REPO / "tests" / "grading_fixtures" / "toy" / "exercises.py").read_text()
    for stem in ("tests_public", "tests_hidden"):
        src = REPO / "tests" / "grading_fixtures" / "toy" / f"{stem}.py"
        if src.is_file():
            (folder / f"{stem}.py").write_text(src.read_text())
    stray = "\n\n@mistake('x', hint='a stray mistake that must not ship')\ndef stray():\n    pass\n"
    (folder / "exercises.py").write_text(source + stray)
    with pytest.raises(AssignmentError, match="'stray' lies outside a '# BEGIN MISTAKES' block"):
        student_source(load(str(folder)))


# ---------------------------------------------------------------------- through the real grader


def test_the_grader_names_a_known_mistake_in_results_json(tmp_path):
    """A submission with one known mistake: its exercise's failures name it; others do not."""
    from tfcourse.grading.runner import grade

    folder = REPO / "assignments" / "tutorial1_mlp"
    found = [m for m in mistakes.declared(folder) if m.name == "forward_without_relu"]
    assert found, "the example mistake forward_without_relu is gone; pick another one here"
    source = (folder / "exercises.py").read_text(encoding="utf-8")
    submission = tmp_path / "tutorial1_mlp.py"
    submission.write_text(source + "\nforward = forward_without_relu\n", encoding="utf-8")
    results = grade(submission, load(str(folder)), timeout=60)
    json.dumps(results)  # plain data
    failed = [t for t in results["tests"] if t["score"] < t["max_score"]]
    assert failed and all(t["name"].startswith("forward:") for t in failed)
    named = [t for t in failed if t.get("extra_data", {}).get("mistakes")]
    assert named, "no failing test names the mistake"
    for t in named:
        assert t["extra_data"] == {"mistakes": ["forward_without_relu"]}
        assert "This looks like a known mistake (forward_without_relu): " in t["output"]
        assert found[0].hint in t["output"]
    assert not any("extra_data" in t for t in results["tests"] if t["score"] == t["max_score"])
