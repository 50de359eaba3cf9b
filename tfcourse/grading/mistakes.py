"""Known mistakes: authored beside each solution, graded by the project's tests, named to students.

An instructor writes, in ``exercises.py`` and between ``# BEGIN MISTAKES`` / ``# END MISTAKES``
lines (which ``release`` strips like solutions), the mistakes students plausibly make::

    # BEGIN MISTAKES
    @mistake("forward", hint="Without a nonlinearity two layers are one linear map.")
    def forward_without_relu(x, W1, b1, W2, b2):
        ...
    # END MISTAKES

The decorated object stands in for the exercise (a function for a function, usually a subclass
for a class); its name is the mistake's name. Everything here is instructor code and runs in the
pytest process, never in the worker:

* :func:`analyse` is mutation analysis of the grading suite: the reference must pass every
  test, and each mistake must fail a test of its own exercise and no test of another.
* :func:`diagnose` replays the calls a failed exercise's tests made to a submission against
  each known mistake of that exercise; the mistakes that answer every call exactly as the
  student's code did (and unlike the reference) are named.
* :func:`report` is both, as plain data, for ``tfcourse mistakes`` and the project's tests.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import math
import re
import sys
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from tfcourse.grading.codec import CodecError, Handle, decode

T = TypeVar("T")
MARK = "__tfcourse_mistake__"
SOURCE_FILE = "exercises.py"


def mistake(exercise: str, hint: str) -> Callable[[T], T]:
    """Declare the decorated function or class a known mistake in ``exercise``.

    Args:
        exercise: the entry of ``EXERCISES`` it replaces.
        hint: one or two sentences that teach without giving the answer.
    """
    if not exercise or not hint.strip():
        raise ValueError("a mistake needs its exercise and a hint")

    def mark(obj: T) -> T:
        setattr(obj, MARK, (exercise, " ".join(hint.split())))
        return obj

    return mark


def alternative(exercise: str) -> Callable[[T], T]:
    """Declare the decorated object another *correct* way to solve ``exercise``.

    Mutation analysis checks that it earns full marks, so the tests never demand one particular
    way of writing the answer. Like mistakes, alternatives sit between ``# BEGIN MISTAKES`` and
    ``# END MISTAKES`` and never reach students.
    """
    if not exercise:
        raise ValueError("an alternative needs its exercise")

    def mark(obj: T) -> T:
        setattr(obj, MARK, (exercise, None))
        return obj

    return mark


@dataclasses.dataclass(frozen=True)
class Mistake:
    """One known mistake: its name, the exercise it belongs to, and the hint students read."""

    name: str
    exercise: str
    hint: str  # empty for a correct alternative

    @property
    def correct(self) -> bool:
        return not self.hint


# ---------------------------------------------------------------------- reading, statically


def declared(folder: str | Path) -> list[Mistake]:
    """The mistakes declared in ``folder/exercises.py``, read with :mod:`ast` (nothing runs)."""
    path = Path(folder) / SOURCE_FILE
    if not path.is_file():
        return []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.ClassDef):
            continue
        for dec in node.decorator_list:
            if (
                isinstance(dec, ast.Call)
                and isinstance(dec.func, ast.Name)
                and dec.func.id in ("mistake", "alternative")
            ):
                args = [ast.literal_eval(a) for a in dec.args]
                kwargs = {k.arg: ast.literal_eval(k.value) for k in dec.keywords}
                exercise = kwargs.get("exercise", args[0] if args else "")
                hint = kwargs.get("hint", args[1] if len(args) > 1 else "")
                if dec.func.id == "alternative":
                    hint = ""
                found.append(Mistake(node.name, exercise, " ".join(str(hint).split())))
    return found


def dependencies(source: str) -> dict[str, set[str]]:
    """For each top-level name of ``source``: the top-level names it uses, transitively."""
    tree = ast.parse(source)
    defs: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            defs[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    defs[target.id] = node
    direct = {
        name: {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in defs} - {name}
        for name, node in defs.items()
    }
    closure: dict[str, set[str]] = {}
    for name in direct:
        seen, todo = set(), [name]
        while todo:
            for dep in direct.get(todo.pop(), ()):
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        closure[name] = seen
    return closure


# ---------------------------------------------------------------------- modules, in this process


class Reference:
    """``exercises.py`` of one assignment, loaded in this process (instructor code only)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder).resolve()
        self.path = self.folder / SOURCE_FILE
        self.source = self.path.read_text(encoding="utf-8")
        self.code = compile(self.source, str(self.path), "exec")
        self.mistakes = {m.name: m for m in declared(self.folder)}
        self.uses = dependencies(self.source)

    def module(self, mistake_name: str | None = None) -> types.ModuleType:
        """A fresh copy of the reference, or of the reference with one mistake in place."""
        module = types.ModuleType("submission")
        module.__file__ = str(self.path)
        saved = sys.modules.get("submission")
        sys.modules["submission"] = module  # dataclasses & co. look the module up by name
        try:
            exec(self.code, module.__dict__)
        finally:
            if saved is None:
                sys.modules.pop("submission", None)
            else:
                sys.modules["submission"] = saved
        if mistake_name is not None:
            m = self.mistakes[mistake_name]
            obj = getattr(module, mistake_name)
            if isinstance(obj, type):  # a student's class bears the exercise's name, and the
                obj.__name__ = obj.__qualname__ = m.exercise  # worker reports handles by it
            setattr(module, m.exercise, obj)
        return module

    def affected(self, touched: Iterable[str]) -> set[str]:
        """Names whose replacement can change what a test that touched ``touched`` sees."""
        out = set()
        for name in touched:
            out.add(name)
            out |= self.uses.get(name, set())
        return out


class _Tracking(types.ModuleType):
    """A module that remembers which of its attributes a test looked up."""

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("__"):
            object.__getattribute__(self, "_touched").add(name)
        return super().__getattribute__(name)


def inline(module: types.ModuleType) -> tuple[Any, set[str]]:
    """An in-process ``Remote`` for ``module`` and the set that records what tests touch."""
    from tfcourse.grading.remote import Inline

    remote = Inline({})
    tracked = _Tracking("submission")
    touched: set[str] = set()
    object.__setattr__(tracked, "_touched", touched)
    for key, value in module.__dict__.items():
        if not key.startswith("__"):
            setattr(tracked, key, value)
    touched.clear()
    remote.worker.sub = tracked
    return remote, touched


# ---------------------------------------------------------------------- tests, in this process


@dataclasses.dataclass
class TestRun:
    """What one test did against one module: passed, why not, what it touched, its calls."""

    __test__ = False

    title: str
    exercise: str
    file: str
    passed: bool
    message: str
    touched: set[str]
    calls: list[tuple[dict[str, Any], dict[str, Any]]]


@dataclasses.dataclass(frozen=True)
class GradedTest:
    """A test function of an assignment, with its ``@points`` data."""

    __test__ = False

    title: str
    exercise: str
    file: str
    func: Callable[[Any], Any]


def load_tests(folder: str | Path) -> list[GradedTest]:
    """The ``@points`` tests of ``tests_public.py`` and ``tests_hidden.py``, imported here."""
    from tfcourse.grading.assignment import load

    assignment = load(str(Path(folder).resolve()))
    modules: dict[str, types.ModuleType] = {}
    saved = sys.modules.get("tests_public")
    try:
        for stem in assignment.sources:
            path = assignment.path / f"{stem}.py"
            spec = importlib.util.spec_from_file_location(
                f"_tfcourse_{assignment.name}_{stem}", path
            )
            module = importlib.util.module_from_spec(spec)
            sys.modules[stem] = module  # tests_hidden imports its helpers from tests_public
            spec.loader.exec_module(module)
            modules[stem] = module
    finally:
        if saved is None:
            sys.modules.pop("tests_public", None)
        else:
            sys.modules["tests_public"] = saved
        sys.modules.pop("tests_hidden", None)
    return [
        GradedTest(t.title, t.exercise, t.file, getattr(modules[t.file], t.name))
        for t in assignment.tests
    ]


def run_test(test: GradedTest, module: types.ModuleType) -> TestRun:
    """Run ``test`` against ``module`` through the codec, as the grader would."""
    from tfcourse.grading.remote import Submission
    from tfcourse.grading.results import failure_message

    remote, touched = inline(module)
    proxy = Submission(remote, float("inf"))
    proxy._deadline = remote.begin()
    try:
        test.func(proxy)
    except Exception as exc:
        message = failure_message(exc, None)
        return TestRun(test.title, test.exercise, test.file, False, message, touched, proxy._log)
    return TestRun(test.title, test.exercise, test.file, True, "", touched, proxy._log)


# ---------------------------------------------------------------------- mutation analysis


@dataclasses.dataclass
class MistakeVerdict:
    """How the suite treats one mistake."""

    mistake: Mistake
    runs: list[TestRun]  # the tests re-run against it (its exercise's, and those it affects)

    @property
    def failed(self) -> list[TestRun]:
        """The tests it failed (any exercise)."""
        return [r for r in self.runs if not r.passed]

    @property
    def caught(self) -> bool:
        """A mistake: a test of its exercise failed. An alternative: nothing failed."""
        if self.mistake.correct:
            return not self.failed
        return any(r.exercise == self.mistake.exercise for r in self.failed)

    @property
    def elsewhere(self) -> list[str]:
        return [r.title for r in self.failed if r.exercise != self.mistake.exercise]

    @property
    def public(self) -> bool:
        return any(r.file == "tests_public" for r in self.failed)


@dataclasses.dataclass
class Analysis:
    """Mutation analysis of one assignment's tests."""

    reference_failures: list[TestRun]
    verdicts: list[MistakeVerdict]


def analyse(folder: str | Path, only: Iterable[str] | None = None) -> Analysis:
    """Run the tests against the reference, then against each mistake (or those in ``only``).

    Correct alternatives (:func:`alternative`) are analysed like mistakes; their verdict is
    ``caught`` when they fail nothing.

    A test is re-run for a mistake in exercise X only if it belongs to X or if what it touched
    of the reference uses X (statically, through the module's own names): other tests see
    exactly the reference and would pass as it did.
    """
    ref = Reference(folder)
    tests = load_tests(folder)
    baseline = [run_test(t, ref.module()) for t in tests]
    reference_failures = [r for r in baseline if not r.passed]
    names = list(ref.mistakes) if only is None else list(only)
    verdicts = []
    for name in names:
        m = ref.mistakes[name]
        module = ref.module(name)
        runs = [
            run_test(test, module)
            for test, base in zip(tests, baseline, strict=True)
            if test.exercise == m.exercise or m.exercise in ref.affected(base.touched)
        ]
        verdicts.append(MistakeVerdict(m, runs))
    return Analysis(reference_failures, verdicts)


# ---------------------------------------------------------------------- diagnosis


def same_value(a: Any, b: Any, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """Whether two decoded replies say the same (numbers to ``rtol``/``atol``; shapes, dtypes
    and kinds exact)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.shape != b.shape or getattr(a, "kind", "") != getattr(b, "kind", ""):
            return False
        if a.dtype != b.dtype:
            return False  # float32 against float64, int32 against int64: a dtype mistake
        if a.dtype.kind in "biufc":
            return bool(
                np.allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol, equal_nan=True)
            )
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    if isinstance(a, Handle) or isinstance(b, Handle):
        return isinstance(a, Handle) and isinstance(b, Handle) and a.type == b.type
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(same_value(x, y, rtol, atol) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k], rtol, atol) for k in a)
    if isinstance(a, str) and isinstance(b, str):
        return _same_text(a, b)
    return type(a) is type(b) and a == b


def _normalized(message: Any) -> str:
    """An error message without what differs between two runs of the same code: where in
    whose file it was raised, numbers, addresses and generated names (``dense_3``)."""
    text = str(message).split(" (in your code", 1)[0]
    text = re.sub(r"0x[0-9a-fA-F]+", "0x", text)
    return re.sub(r"\d+", "#", text)


def _same_text(a: str, b: str) -> bool:
    """Texts equal up to numbers, addresses and the order of their words (an error message
    that lists a set of objects lists them in any order)."""
    if a == b:
        return True
    na, nb = _normalized(a), _normalized(b)
    return na == nb or sorted(na.split()) == sorted(nb.split())


def same_reply(student: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether two replies to one request agree: both values alike, or both the same error
    (same kind, same exception type, same message up to numbers and places)."""
    if bool(student.get("ok")) != bool(other.get("ok")):
        return False
    if not student.get("ok"):
        mine, theirs = student.get("error") or {}, other.get("error") or {}
        if not isinstance(mine, dict) or mine.get("kind") != theirs.get("kind"):
            return False
        types_a, types_b = mine.get("types") or [""], theirs.get("types") or [""]
        if str(types_a[0]) != str(types_b[0]):
            return False
        return _same_text(str(mine.get("message", "")), str(theirs.get("message", "")))
    try:
        return same_value(decode(student.get("value")), decode(other.get("value")))
    except CodecError:
        return False


Calls = list[tuple[dict[str, Any], dict[str, Any]]]


def replay(module: types.ModuleType, calls: Calls) -> bool:
    """Whether ``module`` answers every recorded request as the submission did."""
    remote, _ = inline(module)
    remote.begin()
    for message, reply in calls:
        if not same_reply(reply, remote.call(dict(message), float("inf"))):
            return False
    return True


_REFERENCES: dict[Path, Reference] = {}


def _stub(calls: Calls) -> bool:
    """Whether every failed call of a test was "not implemented yet" (nothing to diagnose)."""
    errors = [r.get("error") for _, r in calls if not r.get("ok")]
    return bool(errors) and all(
        isinstance(e, dict) and e.get("kind") in ("not_implemented", "missing") for e in errors
    )


def diagnose(
    folder: str | Path,
    exercise: str,
    failing: list[Calls],
    passing: list[Calls] = (),
    among: Iterable[str] | None = None,
) -> list[Mistake]:
    """The known mistakes of ``exercise`` that behave exactly as the submission did.

    Args:
        folder: the assignment folder (holding ``exercises.py``).
        exercise: the exercise whose tests failed.
        failing: for each failed test of ``exercise``, its requests and the submission's replies.
        passing: the same for its passed tests.
        among: only these mistakes are candidates (default: every mistake of ``exercise``).

    A mistake is named only if it answers every recorded request of every test of the exercise
    (failed and passed) as the submission did, and the reference does not (so the replies tell
    the two apart). Two mistakes that the tests cannot tell apart are both named.
    """
    folder = Path(folder).resolve()
    failing = [c for c in failing if c and not _stub(c)]
    if not failing or not (folder / SOURCE_FILE).is_file():
        return []
    ref = _REFERENCES.get(folder)
    if ref is None:
        ref = _REFERENCES[folder] = Reference(folder)
    candidates = [m for m in ref.mistakes.values() if m.exercise == exercise and not m.correct]
    if among is not None:
        wanted = set(among)
        candidates = [m for m in candidates if m.name in wanted]
    if not candidates:
        return []
    named = []
    with _quiet():
        if all(replay(ref.module(), calls) for calls in failing):
            return []  # the replies do not show what went wrong
        for m in candidates:
            module = ref.module(m.name)
            try:
                if all(replay(module, c) for c in failing) and all(
                    replay(module, c) for c in passing if c
                ):
                    named.append(m)
            except Exception:  # a mistake that cannot even replay these calls is not it
                continue
    return named


class _quiet:
    """Silence what replayed code prints (it is not the student's output)."""

    def __enter__(self) -> None:
        import contextlib
        import io

        self._stack = contextlib.ExitStack()
        self._stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        self._stack.enter_context(contextlib.redirect_stderr(io.StringIO()))

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


# ---------------------------------------------------------------------- the report


def report(folder: str | Path) -> dict[str, Any]:
    """Mutation analysis and diagnosis of one assignment, as plain data.

    Returns:
        ``{"assignment", "reference_failures": ["title: message"], "mistakes": [...]}``, one
        entry per declared mistake or alternative: ``name``, ``exercise``, ``correct`` (an
        alternative), ``failed`` (titles of the tests it fails), ``caught`` (a mistake: a test
        of its exercise fails; an alternative: nothing fails), ``public`` (a public test
        fails), ``elsewhere`` (failed tests of other exercises) and ``named`` (the diagnosis
        names it from the calls of its exercise's tests; None for alternatives and misses).
    """
    folder = Path(folder).resolve()
    analysis = analyse(folder)
    entries = []
    for v in analysis.verdicts:
        m, named = v.mistake, None
        if not m.correct and v.caught:
            runs = [r for r in v.runs if r.exercise == m.exercise]
            found = diagnose(
                folder,
                m.exercise,
                [r.calls for r in runs if not r.passed],
                [r.calls for r in runs if r.passed],
                among=[m.name],
            )
            named = [d.name for d in found] == [m.name]
        entries.append(
            {
                "name": m.name,
                "exercise": m.exercise,
                "correct": m.correct,
                "failed": [r.title for r in v.failed],
                "caught": v.caught,
                "public": v.public,
                "elsewhere": v.elsewhere,
                "named": named,
            }
        )
    return {
        "assignment": folder.name,
        "reference_failures": [f"{r.title}: {r.message}" for r in analysis.reference_failures],
        "mistakes": entries,
    }


def problems(rep: dict[str, Any]) -> list[str]:
    """What is wrong in a :func:`report`, one line each (empty: the tests grade every known
    mistake and alternative right): a failing reference, a mistake that keeps full marks or
    costs points on another exercise, an alternative that loses points, a mistake the
    diagnosis cannot name."""
    out = [f"the reference fails {f}" for f in rep["reference_failures"]]
    for e in rep["mistakes"]:
        kind = "alternative" if e["correct"] else "mistake"
        where = f"{kind} {e['name']} ({e['exercise']})"
        if e["correct"] and not e["caught"]:
            out.append(f"{where} loses points: {', '.join(e['failed'])}")
        elif not e["correct"] and not e["caught"]:
            out.append(f"{where} keeps full marks: no test of {e['exercise']} fails")
        if not e["correct"] and e["elsewhere"]:
            out.append(f"{where} costs points elsewhere: {', '.join(e['elsewhere'])}")
        if e["named"] is False:
            out.append(
                f"{where} is never named: replayed, it does not answer its tests' calls as it "
                "did (or the reference answers them the same)"
            )
    return out
