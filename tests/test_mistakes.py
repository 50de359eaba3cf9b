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
from pathlib import Path

import pytest

from tfcourse.grading import mistakes
from tfcourse.grading.assignment import load
from tfcourse.grading.errors import AssignmentError
from tfcourse.grading.markers import strip_mistakes, strip_solutions

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.parent.name for p in (REPO / "assignments").glob("*/exercises.py"))
MIN_PER_EXERCISE = 3
MIN_IN_ALL = 80
MIN_PUBLIC_SHARE = 0.8


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def analysis(request: pytest.FixtureRequest) -> tuple[str, mistakes.Analysis]:
    folder = REPO / "assignments" / request.param
    return request.param, mistakes.analyse(folder)


def test_each_exercise_has_its_known_mistakes_and_the_course_has_80():
    total = 0
    for name in ASSIGNMENTS:
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


def test_the_reference_passes_every_test(analysis):
    name, result = analysis
    failures = [f"{r.title}: {r.message}" for r in result.reference_failures]
    assert not failures, f"{name}: the reference solution fails:\n" + "\n".join(failures)


def test_each_mistake_loses_points_on_its_own_exercise_and_nowhere_else(analysis):
    name, result = analysis
    missed = [v.mistake.name for v in result.verdicts if not v.mistake.correct and not v.caught]
    assert not missed, f"{name}: mistakes that keep full marks on their exercise: {missed}"
    charged = {
        v.mistake.name: v.elsewhere
        for v in result.verdicts
        if not v.mistake.correct and v.elsewhere
    }
    assert not charged, f"{name}: mistakes that cost points on other exercises: {charged}"


def test_correct_alternatives_keep_full_marks(analysis):
    name, result = analysis
    alternatives = [v for v in result.verdicts if v.mistake.correct]
    failed = {v.mistake.name: [r.title for r in v.failed] for v in alternatives if v.failed}
    assert not failed, f"{name}: correct alternatives that lose points: {failed}"


def test_most_mistakes_fail_a_public_test(analysis):
    name, result = analysis
    real = [v for v in result.verdicts if not v.mistake.correct]
    hidden_only = [v.mistake.name for v in real if not v.public]
    share = 1 - len(hidden_only) / len(real)
    assert share >= MIN_PUBLIC_SHARE, f"{name}: only hidden tests catch {hidden_only}"


def test_the_diagnosis_names_each_mistake_from_the_test_it_fails(analysis):
    name, result = analysis
    folder = REPO / "assignments" / name
    unnamed = []
    for v in result.verdicts:
        if v.mistake.correct or not v.caught:
            continue
        runs = [r for r in v.runs if r.exercise == v.mistake.exercise]
        failing = [r.calls for r in runs if not r.passed]
        passing = [r.calls for r in runs if r.passed]
        # the diagnosis's own path, with this mistake as the one candidate (the others are
        # replayed the same way; test_the_grader_names... runs it with all of them)
        named = mistakes.diagnose(
            folder, v.mistake.exercise, failing, passing, among=[v.mistake.name]
        )
        if [d.name for d in named] != [v.mistake.name]:
            unnamed.append(v.mistake.name)
    assert not unnamed, f"{name}: the diagnosis never names {unnamed}"


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


@pytest.mark.parametrize("name", ASSIGNMENTS)
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
