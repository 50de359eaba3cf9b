"""Reading an assignment folder without importing it.

An assignment is a folder ``<source>/<name>/`` holding ``tests_public.py``, ``tests_hidden.py``
and either ``exercises.py`` (the instructor source, with solutions) or ``assignment.json`` (the
metadata alone: ``{"name", "title", "intro", "exercises", "imports", "forbidden"}``, what a
Gradescope zip ships instead of the solutions). Everything here is read with :mod:`ast`: neither
the solutions nor the tests are imported, so the grader's parent process stays light and never
runs instructor or student code.
"""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

from tfcourse.grading.errors import AssignmentError

TEST_FILES = {"tests_public": "visible", "tests_hidden": "after_published"}
METADATA_FILE = "assignment.json"


@dataclasses.dataclass(frozen=True)
class TestSpec:
    """One point-valued test, as found in a tests file.

    Attributes:
        file: the file's stem, ``"tests_public"`` or ``"tests_hidden"``.
        name: the test function's name, ``"test_..."``.
        exercise: the exercise it grades.
        points: points earned when it passes.
        visibility: Gradescope visibility, from the file.
    """

    __test__ = False  # not a pytest test class

    file: str
    name: str
    exercise: str
    points: float
    visibility: str

    @property
    def title(self) -> str:
        """The name reported to Gradescope: ``"<exercise>: <test> (<file stem>)"``."""
        return f"{self.exercise}: {self.name} ({self.file})"


@dataclasses.dataclass(frozen=True)
class Assignment:
    """Metadata and tests of one assignment (never the solutions)."""

    name: str
    path: Path
    title: str
    intro: str
    exercises: tuple[str, ...]
    tests: tuple[TestSpec, ...]
    sources: dict[str, str]  # test file stem -> source text

    @property
    def max_score(self) -> float:
        """Sum of the points of every test."""
        return sum(t.points for t in self.tests)

    def metadata_json(self) -> str:
        """The ``assignment.json`` that stands in for ``exercises.py`` in released copies.

        ``imports`` lists the tfcourse modules the student file imports: all of tfcourse a
        graded submission may import (:mod:`.runtime`); ``forbidden`` holds what each exercise
        may not use (:func:`.forbidden.metadata`).
        """
        from tfcourse.grading.forbidden import METADATA_KEY, metadata
        from tfcourse.grading.runtime import released_imports

        meta = {
            "name": self.name,
            "title": self.title,
            "intro": self.intro,
            "exercises": list(self.exercises),
            "imports": sorted(released_imports(self.path)),
            METADATA_KEY: metadata(self.path),
        }
        return json.dumps(meta, indent=2) + "\n"


def available(source: str | Path) -> list[str]:
    """Names of the assignment folders in ``source`` (sorted)."""
    root = Path(source)
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and ((p / "exercises.py").is_file() or (p / METADATA_FILE).is_file())
    )


def default_sources() -> list[Path]:
    """Where ``--source`` looks when not given: ``./assignments``, then the checkout's own.

    The second is the ``assignments/`` folder beside the installed package when tfcourse is
    installed from a source checkout (``pip install -e .``), so ``tfcourse grade --assignment
    NAME`` works from any folder. A wheel never ships solutions, hence no package data.
    """
    import tfcourse

    checkout = Path(tfcourse.__file__).resolve().parents[1] / "assignments"
    return list(dict.fromkeys([Path("assignments").resolve(), checkout]))


def find(name: str, source: str | Path | None = None) -> Path:
    """The folder of assignment ``name`` in ``source`` (``None``: :func:`default_sources`).

    Raises:
        AssignmentError: unknown name (the message lists the available ones) or no folder.
    """
    roots = [Path(source)] if source is not None else default_sources()
    for root in roots:
        if name in available(root):
            return root / name
    existing = [r for r in roots if r.is_dir()]
    if not existing:
        tried = " or ".join(repr(str(r)) for r in roots)
        raise AssignmentError(
            f"no assignments folder {tried}; pass source=PATH_TO_ASSIGNMENTS"
        ).for_cli(f"no assignments folder {tried}; pass --source PATH_TO_ASSIGNMENTS")
    listed = ", ".join(sorted({n for r in existing for n in available(r)})) or "none"
    where = " or ".join(repr(str(r)) for r in existing)
    raise AssignmentError(f"unknown assignment {name!r} in {where}; available: {listed}")


def load(name: str, source: str | Path | None = None) -> Assignment:
    """Read assignment ``name`` from ``source``: exercise list, intro and tests.

    ``name`` may also be the path of an assignment folder (a released or autograder copy).

    Raises:
        AssignmentError: the folder, ``EXERCISES`` or a test's ``@points`` is missing or wrong.
    """
    candidate = Path(name).resolve()
    if candidate.is_dir() and candidate.name in available(candidate.parent):
        folder = candidate  # a path to the folder itself
    else:
        folder = find(name, source)
    real_name, title, intro, exercises = read_metadata(folder)
    if (folder / "exercises.py").is_file():  # a malformed FORBIDDEN stops here, not in grading
        from tfcourse.grading.forbidden import declared

        source_file = folder / "exercises.py"
        declared(
            _parse(source_file.read_text(encoding="utf-8"), source_file), source_file, exercises
        )
    tests: list[TestSpec] = []
    sources: dict[str, str] = {}
    for stem, visibility in TEST_FILES.items():
        path = folder / f"{stem}.py"
        if not path.is_file():
            if stem == "tests_public":
                raise AssignmentError(f"{path} is missing; every assignment needs public tests")
            continue
        sources[stem] = path.read_text(encoding="utf-8")
        tests += parse_tests(sources[stem], path, visibility)
    for t in tests:
        if t.exercise not in exercises:
            raise AssignmentError(
                f"{folder / t.file}.py: {t.name} grades exercise {t.exercise!r}, "
                f"which EXERCISES does not list ({', '.join(exercises)})"
            )
    order = {ex: i for i, ex in enumerate(exercises)}
    files = list(TEST_FILES)
    tests.sort(key=lambda t: (order[t.exercise], files.index(t.file)))  # stable: file order
    return Assignment(real_name, folder, title, intro, tuple(exercises), tuple(tests), sources)


def read_metadata(folder: Path) -> tuple[str, str, str, list[str]]:
    """``(name, title, intro, exercises)`` from ``exercises.py`` (via ast) or
    ``assignment.json`` (released copies keep the name there; the folder may be renamed)."""
    source_file = folder / "exercises.py"
    if source_file.is_file():
        text = source_file.read_text(encoding="utf-8")
        tree = _parse(text, source_file)
        doc = ast.get_docstring(tree) or folder.name
        title, _, intro = doc.partition("\n")
        return folder.name, title.strip(), intro.strip(), exercises_list(tree, source_file)
    meta_file = folder / METADATA_FILE
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        exercises = [str(e) for e in meta["exercises"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AssignmentError(f"{meta_file} is unreadable ({exc}); rebuild it") from None
    name = str(meta.get("name", folder.name))
    return name, str(meta.get("title", folder.name)), str(meta.get("intro", "")), exercises


def exercises_list(tree: ast.Module, path: Path) -> list[str]:
    """The literal top-level ``EXERCISES = [...]`` of a parsed ``exercises.py``."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "EXERCISES" for t in node.targets
        ):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                break
            if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
                if len(set(value)) != len(value):
                    raise AssignmentError(f"{path}: EXERCISES lists a name twice: {value}")
                return list(value)
            break
    raise AssignmentError(
        f"{path} needs a top-level literal EXERCISES = ['exercise_name', ...] "
        "listing the exercise functions in order"
    )


def parse_tests(text: str, path: Path, visibility: str) -> list[TestSpec]:
    """The ``@points``-decorated ``test_*`` functions of one tests file, in file order."""
    tree = _parse(text, path)
    found: dict[str, TestSpec] = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
            continue
        where = f"{path}:{node.lineno}: {node.name}"
        if node.name in found:
            raise AssignmentError(f"{where} is defined twice; rename one of them")
        if len(node.args.args) != 1:
            raise AssignmentError(f"{where} must take exactly one argument, `sub`")
        value, exercise = _points_args(node, where)
        found[node.name] = TestSpec(path.stem, node.name, exercise, value, visibility)
    return list(found.values())


def _points_args(node: ast.FunctionDef, where: str) -> tuple[float, str]:
    for dec in node.decorator_list:
        if not isinstance(dec, ast.Call):
            continue
        func = dec.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name != "points":
            continue
        try:
            args = [ast.literal_eval(a) for a in dec.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in dec.keywords}
        except ValueError:
            raise AssignmentError(f"{where}: write @points(...) arguments as literals") from None
        if len(args) > 1:
            kwargs.setdefault("exercise", args[1])
        value = args[0] if args else kwargs.get("value")
        exercise = kwargs.get("exercise")
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise AssignmentError(f"{where}: @points needs a number >= 0, got {value!r}")
        if not isinstance(exercise, str) or not exercise:
            raise AssignmentError(f'{where}: @points needs exercise="<exercise name>"')
        return float(value), exercise
    raise AssignmentError(f'{where} has no @points(n, exercise="...") decorator')


def _parse(text: str, path: Path) -> ast.Module:
    try:
        return ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise AssignmentError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
