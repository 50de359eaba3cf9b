"""Forbidden uses: what each exercise may not use, declared once and checked in the source.

An assignment's ``exercises.py`` declares, beside ``EXERCISES``, a top-level literal::

    FORBIDDEN = {
        "loss_fn": ["keras.losses", "keras.metrics"],
        "get_batch": ["numpy.random", "!numpy.random.Generator"],
    }

Each entry is a dotted name (``*`` matches anything, as in a shell) that the exercise, and
every helper it uses, may not reference; ``!name`` excepts what it names from the entries before
it. On top of its entries every exercise may use no part of ``tfcourse`` except what the released
student file itself imports (:func:`given_names`) and :data:`ALWAYS_GIVEN`. The literal stays
in the released file (it is the rule students read), and release and the Gradescope zip copy the
rules into ``assignment.json`` (:func:`metadata`), so copies without the solutions enforce them.

:class:`Checker` reads a submission as text, a ``.py`` file or each code cell of a notebook
(cleaned as :mod:`.loader` does), and parses it with :mod:`ast`: nothing of it runs, and this
happens in the grader's pytest process. From each exercise it follows the names the exercise
uses to their top-level definitions (helpers, module-level assignments, imports, classes,
other exercises), resolving import aliases (``import keras.losses as L``, ``tf.keras``), attribute
chains, literal ``getattr(x, "name")``, ``__import__("...")``, ``importlib.import_module("...")``,
``sys.modules["..."]``, ``globals()["..."]``, code in literal ``exec`` / ``eval`` strings and
module-level patches of library attributes. What the source does not spell out counts as a
use wherever it could reach a forbidden name: a name or module looked up by a string built at
run time, a module held in a variable or passed as an argument, ``exec`` of built text,
``importlib`` and the like (:data:`LOADERS`). A test of an exercise that breaks its rule fails
with a message naming the rule and the line (:meth:`Violation.message`), whatever the
submission returns. Not seen: what a library hands back through its own indirection (keras's
string identifiers, say); for tfcourse the worker's runtime (:mod:`.runtime`) is the guarantee.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import fnmatch
import heapq
import inspect
import itertools
import json
import re
import textwrap
import types
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from tfcourse.grading.errors import AssignmentError
from tfcourse.grading.session import StudentError

DECLARATION = "FORBIDDEN"  # the literal in exercises.py
METADATA_KEY = "forbidden"  # in assignment.json: {"exercises": {...}, "given": [...]}
PACKAGE = "tfcourse"
# every submission may use these: exceptions, the handout's check(), and the markers of known
# mistakes (stand-ins that change nothing, in the worker's runtime)
ALWAYS_GIVEN = (
    "tfcourse.errors",
    "tfcourse.notebook_setup",
    "tfcourse.grading.mistakes.mistake",
    "tfcourse.grading.mistakes.alternative",
)
# the same objects under another dotted name: references are compared in the second spelling
ALIASES = (
    ("builtins", ""),
    ("__builtins__", ""),
    ("tensorflow.keras", "keras"),
    ("tensorflow.losses", "keras.losses"),
    ("tensorflow.metrics", "keras.metrics"),
    # TF1's loss and metric functions do what keras.losses / keras.metrics do
    ("tensorflow.compat.v1.losses", "keras.losses"),
    ("tensorflow.compat.v1.metrics", "keras.metrics"),
    ("tensorflow.optimizers", "keras.optimizers"),
    ("tensorflow.initializers", "keras.initializers"),
    ("keras.src", "keras"),
    ("keras._tf_keras.keras", "keras"),
    ("tf_keras", "keras"),
)
IMPORTERS = {"__import__", "importlib.import_module", "importlib.__import__"}
GETTERS = {"getattr"}
RUNNERS = {"exec", "eval", "compile"}
# what loads or runs code by a name or text the source does not spell out, wherever it is used
# (the literal calls above are resolved instead)
LOADERS = (
    *IMPORTERS,
    *RUNNERS,
    *("importlib", "runpy", "pkgutil", "imp", "zipimport", "code", "marshal", "ctypes"),
    *("pickle.load", "pickle.loads", "types.CodeType", "types.FunctionType"),
    *("sys.modules", "globals", "vars", "locals", "gc"),  # gc: every live object, modules too
)
# attributes that reach objects by a name or a walk the source does not spell out
LOOKUPS = ("__dict__", "__getattribute__", "__getattr__", "__subclasses__", "__globals__")
MODULE_SELF = {"__main__", "submission"}  # the submission's own module, as it may import itself
DYNAMIC = "*"  # a name component the source does not spell out
_ENTRY = re.compile(r"!?[A-Za-z_*][\w*]*(\.[\w*]+)*")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try)
_BUILTINS = frozenset(dir(builtins))
MAX_CODE = 80  # characters of the offending line quoted in a message
# a larger submission is not read here (json.loads of a notebook costs a few times its size),
# nor one with more code (an exercise file has ~70 KB): every exercise fails, saying so
MAX_FILE_BYTES = 16 * 2**20
MAX_CODE_BYTES = 2**20


def canonical(name: str) -> str:
    """``name`` in the spelling rules use: ``tensorflow.keras.losses.X`` -> ``keras.losses.X``."""
    for _ in range(len(ALIASES)):
        for old, new in ALIASES:
            if name == old or name.startswith(old + "."):
                name = (new + name[len(old) :]).lstrip(".")
                break
        else:
            return name
    return name


def _under(name: str, prefix: str) -> bool:
    """Whether dotted ``name`` is ``prefix`` or lies inside it (``""`` holds everything)."""
    return not prefix or name == prefix or name.startswith(prefix + ".")


def _matches(name: str, entry: str) -> bool:
    return fnmatch.fnmatchcase(name, entry) or fnmatch.fnmatchcase(name, entry + ".*")


def _literal_part(entry: str) -> str:
    """The dotted prefix of ``entry`` before its first wildcard component."""
    parts = []
    for part in entry.split("."):
        if any(c in part for c in "*?["):
            break
        parts.append(part)
    return ".".join(parts)


def _spellings(prefix: str) -> set[str]:
    """``prefix`` and the other dotted names of the same object (:data:`ALIASES` reversed)."""
    found = {prefix}
    for old, new in ALIASES:
        if new and _under(prefix, new):
            found.add(old + prefix[len(new) :])
    return found


# ---------------------------------------------------------------------- the declared rules


@dataclasses.dataclass(frozen=True)
class Rules:
    """An assignment's rules: declared entries per exercise, and the tfcourse names given.

    Attributes:
        entries: exercise -> its declared entries (``FORBIDDEN``); absent: none.
        given: the tfcourse names (modules or objects) every exercise may use; ``("tfcourse",)``
            where they are unknown (all of it: the worker's runtime still guards it).
        exercises: every exercise of the assignment.
    """

    entries: Mapping[str, tuple[str, ...]]
    given: tuple[str, ...] = ALWAYS_GIVEN
    exercises: tuple[str, ...] = ()

    def broken_by(self, exercise: str, name: str) -> str | None:
        """The entry of ``exercise``'s rule that using ``name`` breaks, or None."""
        name = canonical(name)
        hit = None
        for entry in (PACKAGE, *self.entries.get(exercise, ())):
            if entry.startswith("!"):
                if hit is not None and _matches(name, entry[1:]):
                    hit = None
            elif _matches(name, entry):
                hit = entry
        if hit == PACKAGE and any(_under(name, g) for g in self.given):
            return None
        return hit

    def reached_by(self, exercise: str, base: str) -> str | None:
        """The entry a name looked up at run time inside ``base`` could break, or None.

        ``base`` is a dotted name (``""``: any module, as with ``__import__(name)``).
        """
        bases = {base, canonical(base)}
        for entry in (PACKAGE, *self.entries.get(exercise, ())):
            if entry.startswith("!"):
                continue
            if any(_under(s, b) for s in _spellings(_literal_part(entry)) for b in bases):
                return entry
            if self.broken_by(exercise, base) == entry:
                return entry
        return None


def declared(tree: ast.Module, path: Path, exercises: Iterable[str]) -> dict[str, list[str]]:
    """The top-level literal ``FORBIDDEN = {exercise: [entry, ...]}`` of ``exercises.py``.

    Returns:
        ``{}`` when there is none.

    Raises:
        AssignmentError: not a literal dict of lists of dotted names, or a key not in
            ``exercises``.
    """
    value = None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == DECLARATION for t in targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                value = None
                break
            break
    else:
        return {}
    return validate(value, str(path), exercises)


def validate(value: Any, where: str, exercises: Iterable[str]) -> dict[str, list[str]]:
    """``value`` as checked rules: ``{exercise: [entry, ...]}``.

    Raises:
        AssignmentError: naming ``where`` and the fix.
    """
    form = f"{DECLARATION} = {{'exercise': ['module.name', ...], ...}}"
    if not isinstance(value, dict):
        raise AssignmentError(f"{where}: write the rules as a literal {form}")
    known = list(exercises)
    out: dict[str, list[str]] = {}
    for exercise, entries in value.items():
        if exercise not in known:
            raise AssignmentError(
                f"{where}: {DECLARATION} names {exercise!r}, which EXERCISES does not list "
                f"({', '.join(known)})"
            )
        if not isinstance(entries, list | tuple) or not all(
            isinstance(e, str) and _ENTRY.fullmatch(e) for e in entries
        ):
            raise AssignmentError(
                f"{where}: {DECLARATION}[{exercise!r}] must be a list of dotted names such as "
                f"'keras.losses' or '!numpy.random.Generator', not {entries!r}"
            )
        out[exercise] = list(entries)
    return out


def given_names(source: str) -> list[str]:
    """The tfcourse names a released student file imports (``from tfcourse.x import y``:
    ``tfcourse.x.y``; ``import tfcourse.x``: the module), sorted."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if _under(a.name, PACKAGE))
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if _under(node.module, PACKAGE):
                found.update(f"{node.module}.{a.name}" for a in node.names if a.name != "*")
    return sorted(found - {PACKAGE})


def read_rules(folder: Path | None) -> Rules:
    """The rules of the assignment in ``folder``: from ``exercises.py`` (its ``FORBIDDEN`` and
    what its released version imports) or from ``assignment.json``; none known: tfcourse only.

    Raises:
        AssignmentError: a malformed ``FORBIDDEN`` or ``assignment.json`` record.
    """
    if folder is None:
        return Rules({}, (PACKAGE,))
    source = folder / "exercises.py"
    if source.is_file():
        from tfcourse.grading.assignment import exercises_list
        from tfcourse.grading.markers import strip_solutions

        text = source.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(source))
        exercises = exercises_list(tree, source)
        entries = declared(tree, source, exercises)
        return _rules(entries, given_names(strip_solutions(text, source)), exercises)
    meta_file = folder / "assignment.json"
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Rules({}, (PACKAGE,))
    record = meta.get(METADATA_KEY) if isinstance(meta, dict) else None
    exercises = meta.get("exercises") if isinstance(meta, dict) else None
    exercises = [str(e) for e in exercises] if isinstance(exercises, list) else []
    if record is None:  # written before rules were recorded
        return Rules({}, (PACKAGE,), tuple(exercises))
    where = f"{meta_file} ({METADATA_KEY})"
    if not isinstance(record, dict) or not isinstance(record.get("given"), list):
        raise AssignmentError(f"{where} is malformed; release the assignment again")
    entries = validate(record.get("exercises", {}), where, exercises)
    return _rules(entries, [str(g) for g in record["given"]], exercises)


def _rules(entries: dict[str, list[str]], given: Iterable[str], exercises: Iterable[str]) -> Rules:
    frozen = {e: tuple(v) for e, v in entries.items()}
    return Rules(frozen, tuple(dict.fromkeys([*ALWAYS_GIVEN, *given])), tuple(exercises))


def metadata(folder: Path) -> dict[str, Any]:
    """What ``assignment.json`` records of the rules: ``{"exercises": {...}, "given": [...]}``
    (``given`` without :data:`ALWAYS_GIVEN`)."""
    rules = read_rules(folder)
    return {
        "exercises": {e: list(v) for e, v in rules.entries.items()},
        "given": [g for g in rules.given if g not in ALWAYS_GIVEN],
    }


# ---------------------------------------------------------------------- the submission's code


@dataclasses.dataclass(eq=False)
class _Unit:
    """One top-level statement of the submission and where it came from."""

    node: ast.stmt
    cell: str  # "" for a .py file, else e.g. "code cell 3"
    lines: list[str]
    index: int  # position in the file
    unconditional: bool  # at the top level itself, not inside an if / try / loop
    pin: ast.AST | None = None  # from a literal exec string: report that exec's line
    header_only: bool = False  # an if / for / with / try: its body is in units of its own


@dataclasses.dataclass(frozen=True, eq=False)
class _Binding:
    """How a top-level name gets its value: an import (``alias``) or a statement."""

    unit: _Unit
    unconditional: bool
    alias: str | None = None  # the dotted name an import binds
    star: bool = False  # ``from alias import *``: binds any name


@dataclasses.dataclass(frozen=True)
class Violation:
    """A use that an exercise's rule forbids.

    Attributes:
        exercise: the exercise whose rule it breaks.
        entry: the rule's entry (``"keras.losses"``, ``"tfcourse"``).
        used: the dotted name used (``"keras.losses.categorical_crossentropy"``), or for a
            use the grader cannot resolve (``dynamic``), what the code does.
        where: ``"line 12"`` or ``"code cell 7, line 3"``.
        code: that line of the submission, stripped and clipped.
        via: the helper the use is in, when it is not the exercise's own definition.
        dynamic: a name or code built at run time.
    """

    exercise: str
    entry: str
    used: str
    where: str
    code: str
    via: str = ""
    dynamic: bool = False
    note: str = ""  # the whole message, for a submission the grader cannot read

    def message(self) -> str:
        """The sentence a failed test shows."""
        if self.note:
            return self.note
        if self.dynamic:
            why = f"{self.exercise} may not {self.used}: the grader cannot check such code"
        elif self.entry == PACKAGE:
            why = (
                f"{self.exercise} may not use {self.used}: of tfcourse, a submission may use only "
                "what the handout file imports"
            )
        else:
            shown = self.used if self.used == self.entry else f"{self.entry} ({self.used})"
            why = (
                f"{self.exercise} may not use {shown}: the handout's {DECLARATION} rules it out "
                "for this exercise (its docstring says why)"
            )
        if not self.where:
            return why
        via = f", in `{self.via}`, which {self.exercise} uses" if self.via else ""
        return f"{why}; {self.where}{via}: `{self.code}`"


class Program:
    """A submission's top-level statements, the names they bind and the patches they make.

    Args:
        cells: ``(label, source)`` pairs: ``("", text)`` for a ``.py`` file, ``("code cell
            3", source)`` for notebook cells. A cell that does not parse is left out (it does
            not run in the worker either).
    """

    def __init__(self, cells: Iterable[tuple[str, str]]) -> None:
        self.units: list[_Unit] = []
        for label, source in cells:
            try:
                tree = ast.parse(source)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            lines = source.splitlines()
            for node in tree.body:
                self._add(node, label, lines, True, None)
        self.bindings: dict[str, list[_Binding]] = {}
        self.stars: list[_Binding] = []
        # module-level code the grader cannot read: (unit, what it does), charged to every exercise
        self.opaque: list[tuple[_Unit, str]] = []
        for unit in self.units:
            self._bind(unit)
        self.patches: list[tuple[str, _Unit]] = []  # (library attribute set, the unit)
        for unit in self.units:
            try:
                _Scan(self, None, "").unit(unit)
            except (RecursionError, MemoryError):
                self.opaque.append((unit, "use code nested too deeply to read"))

    def _add(self, node: ast.stmt, label: str, lines: list[str], top: bool, pin: Any) -> None:
        literal = _exec_literal(node)
        if literal is not None:
            try:
                inner = ast.parse(literal).body
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                inner = []
            for stmt in inner:
                self._add(stmt, label, lines, top, pin or node)
            return
        index = len(self.units)
        if isinstance(node, _COMPOUND) or type(node).__name__ == "TryStar":
            self.units.append(_Unit(node, label, lines, index, False, pin, header_only=True))
            bodies = [getattr(node, f, []) for f in ("body", "orelse", "finalbody")]
            bodies += [h.body for h in getattr(node, "handlers", [])]
            for body in bodies:
                for stmt in body:
                    self._add(stmt, label, lines, False, pin)
            return
        self.units.append(_Unit(node, label, lines, index, top, pin))

    def _bind(self, unit: _Unit) -> None:
        node = unit.node
        if isinstance(node, ast.Import):
            for a in node.names:
                name = a.asname or a.name.split(".")[0]
                alias = a.name if a.asname else name
                self._put(name, _Binding(unit, unit.unconditional, alias))
            return
        if isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")  # relative: nothing a rule names
            for a in node.names:
                if a.name == "*":
                    self.stars.append(_Binding(unit, False, base, star=True))
                else:
                    binding = _Binding(unit, unit.unconditional, f"{base}.{a.name}")
                    self._put(a.asname or a.name, binding)
            return
        direct, indirect = _bound_names(node, unit.header_only)
        for name in direct:
            self._put(name, _Binding(unit, unit.unconditional))
        for name in indirect - direct:
            self._put(name, _Binding(unit, False))
        if not unit.header_only and _runs_built_code(node):
            self.opaque.append((unit, "run code built at run time (`exec`)"))

    def _put(self, name: str, binding: _Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    def effective(self, name: str) -> list[_Binding]:
        """The bindings that can give ``name`` its value once the whole file has run: the last
        unconditional one and every later (or, without one, every) conditional one."""
        found = self.bindings.get(name, [])
        last = max((b.unit.index for b in found if b.unconditional), default=-1)
        return [b for b in [*found, *self.stars] if b.unit.index >= last]


def _exec_literal(node: ast.stmt) -> str | None:
    """The text of a statement ``exec("...")`` with a literal string, else None."""
    if (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "exec"
        and node.value.args
    ):
        return _literal_str(node.value.args[0])
    return None


def _walk_scope(node: ast.AST) -> Iterator[ast.AST]:
    """``node`` and its descendants in the same scope: a function, lambda or class met on the
    way (``node`` itself included) is yielded with its decorators, defaults and bases, never
    its body."""
    todo = [node]
    while todo:
        current = todo.pop()
        yield current
        if isinstance(current, _SCOPES):
            todo += getattr(current, "decorator_list", [])
            if isinstance(current, ast.ClassDef):
                todo += [*current.bases, *current.keywords]
            else:
                todo += [*current.args.defaults, *filter(None, current.args.kw_defaults)]
        else:
            todo += ast.iter_child_nodes(current)


def _header(node: ast.stmt) -> list[ast.AST]:
    """The parts of a compound statement outside its bodies."""
    if isinstance(node, ast.If | ast.While):
        return [node.test]
    if isinstance(node, ast.For | ast.AsyncFor):
        return [node.target, node.iter]
    if isinstance(node, ast.With | ast.AsyncWith):
        return list(node.items)
    return [h.type for h in getattr(node, "handlers", []) if h.type is not None]


def _bound_names(node: ast.stmt, header_only: bool) -> tuple[set[str], set[str]]:
    """The top-level names a statement binds: ``(direct, indirect)``.

    Direct: definitions and assignment targets. Indirect: augmented assignments, walrus
    targets, ``globals()["name"] = ...``, ``setattr(..., "name", ...)``,
    ``globals().update(name=...)`` and names a function declares ``global`` (anywhere inside).
    """
    direct: set[str] = set()
    indirect: set[str] = set()
    roots = _header(node) if header_only else [node]
    if header_only:
        indirect.update(h.name for h in getattr(node, "handlers", []) if h.name)
    for root in roots:
        for sub in _walk_scope(root):
            if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                direct.add(sub.name)
            elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store | ast.Del):
                direct.add(sub.id)
            elif isinstance(sub, ast.AugAssign | ast.NamedExpr) and isinstance(
                sub.target, ast.Name
            ):
                indirect.add(sub.target.id)
            elif isinstance(sub, ast.Subscript) and isinstance(sub.ctx, ast.Store):
                key = _literal_str(sub.slice)
                if key and _is_globals_call(sub.value):
                    indirect.add(key)
        for sub in ast.walk(root):
            if isinstance(sub, ast.Global):
                indirect.update(sub.names)
            elif isinstance(sub, ast.Call):
                indirect.update(_call_binds(sub))
    if header_only or not isinstance(
        node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Assign | ast.AnnAssign
    ):
        indirect |= direct  # e.g. a for loop's target, an expression with a walrus
        direct = set()
    return direct, indirect


def _call_binds(call: ast.Call) -> set[str]:
    """Names a call may set on a module: ``setattr(x, "name", v)``, ``globals().update(...)``."""
    func = call.func
    if isinstance(func, ast.Name) and func.id == "setattr" and len(call.args) >= 2:
        key = _literal_str(call.args[1])
        return {key} if key else set()
    if (
        isinstance(func, ast.Attribute)
        and func.attr in ("update", "setdefault", "__setitem__")
        and _is_globals_call(func.value)
    ):
        keys = {k.arg for k in call.keywords if k.arg}
        for arg in call.args[:1]:
            if isinstance(arg, ast.Dict):
                keys.update(k for k in map(_literal_str, arg.keys) if k)
            elif _literal_str(arg):
                keys.add(_literal_str(arg))
        return keys
    return set()


def _is_globals_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("globals", "vars", "locals")
        and not node.args
    )


def _runs_built_code(node: ast.stmt) -> bool:
    """Whether module-level ``node`` runs text built at run time or sets a computed global
    (what it defines cannot be known without running it)."""
    for sub in _walk_scope(node):
        if isinstance(sub, ast.Subscript) and isinstance(sub.ctx, ast.Store):
            if _is_globals_call(sub.value) and _literal_str(sub.slice) is None:
                return True
        if not isinstance(sub, ast.Call):
            continue
        func = sub.func
        if isinstance(func, ast.Name) and func.id in ("exec", "eval") and sub.args:
            if _literal_str(sub.args[0]) is None:
                return True
        if isinstance(func, ast.Name) and func.id == "setattr" and len(sub.args) >= 2:
            if _literal_str(sub.args[1]) is None:
                return True
        if isinstance(func, ast.Attribute) and _is_globals_call(func.value):
            if func.attr in ("update", "setdefault", "__setitem__") and not _call_binds(sub):
                return True
    return False


def _literal_str(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


# ---------------------------------------------------------------------- the scan


class _TooLarge(Exception):
    """The submission is too large to read."""


class _Found(Exception):
    """Ends a scan at the first violation."""

    def __init__(self, violation: Violation) -> None:
        super().__init__(violation.message())
        self.violation = violation


class _Scan:
    """Walks statements of a :class:`Program` and resolves every name they use.

    Without ``rules`` it only records the program's module-level patches (``tf.nn.x = ...``,
    ``setattr(tf.nn, "x", ...)``). With them it checks each use against ``exercise``'s rule,
    raises :class:`_Found` at the first forbidden one, and queues the top-level definitions of
    the names it uses.
    """

    def __init__(self, program: Program, rules: Rules | None, exercise: str) -> None:
        self.program, self.rules, self.exercise = program, rules, exercise
        self.scopes: list[tuple[dict[str, str | None], bool]] = []  # (locals, a class body)
        self.queue: list[tuple[int, int, _Unit, str, frozenset[str]]] = []  # a heap
        self.counter = itertools.count()
        self.current: _Unit | None = None
        self.anchor: ast.AST | None = None  # report uses here (code in a literal string)
        self.via = ""
        self.through: frozenset[str] = frozenset()  # other exercises on the way here

    def unit(self, unit: _Unit, via: str = "", through: frozenset[str] = frozenset()) -> None:
        """Scan one top-level statement (``via``: the name it was reached by)."""
        self.current, self.via, self.through = unit, via, through
        if isinstance(unit.node, ast.Import | ast.ImportFrom):
            for b in self.program.effective(via) if via else []:
                if b.unit is unit:  # the name is the imported object itself
                    self.use(f"{b.alias}.{via}" if b.star else b.alias, unit.node)
            return
        for part in _header(unit.node) if unit.header_only else [unit.node]:
            self.visit(part)

    def _queue(self, unit: _Unit, via: str) -> None:
        if self.rules is None:
            return
        through = self.through
        if via in self.rules.exercises and via != self.exercise:
            through = through | {via}
        heapq.heappush(self.queue, (len(through), next(self.counter), unit, via, through))

    # -- names
    def lookup(self, name: str) -> list[str]:
        """The dotted names ``name`` can stand for here; queues its top-level definitions."""
        innermost = True
        for local, is_class in reversed(self.scopes):
            if is_class and not innermost:
                continue  # a class body's names are not visible in its methods
            innermost = False
            if name in local:
                alias = local[name]
                return [alias] if alias is not None else []
        return self.global_name(name)

    def global_name(self, name: str) -> list[str]:
        other = self.rules is not None and name in self.rules.exercises and name != self.exercise
        out: list[str] = []
        for b in self.program.effective(name):
            if b.alias is None or other:  # another exercise: checked as reached through it
                self._queue(b.unit, name)
            elif b.star:
                if name not in _BUILTINS:
                    out.append(f"{b.alias}.{name}")
            else:
                out.append(b.alias)
        if not self.program.bindings.get(name):
            out.append(name)  # a builtin, or a name the file never binds
        return out

    def resolve(self, node: ast.AST) -> list[str]:
        """The dotted names an expression stands for (empty: not a name); uses inside it that
        are not part of the name (call arguments, subscripts) are checked on the way."""
        if isinstance(node, ast.Name):
            return self.lookup(node.id)
        if isinstance(node, ast.Attribute):
            return [f"{b}.{node.attr}" for b in self.resolve(node.value)]
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.Subscript):
            return self._subscript(node)
        if isinstance(node, ast.NamedExpr):
            return self.resolve(node.value)
        self.visit(node)
        return []

    def _subscript(self, node: ast.Subscript) -> list[str]:
        bases = [canonical(b) for b in self.resolve(node.value)]
        self.visit(node.slice)
        key = _literal_str(node.slice)
        out: list[str] = []
        for b in bases:
            if b == "sys.modules":
                out.append(key if key is not None else DYNAMIC)
            elif b == "__dict__" or b.endswith(".__dict__"):  # builtins.__dict__ is "__dict__"
                owner = b[: -len("__dict__")]
                out.append(f"{owner}{key if key is not None else DYNAMIC}")
            elif b == "<globals>":
                if key is not None:
                    out += self.global_name(key)
                else:
                    for name in list(self.program.bindings):
                        out += self.global_name(name)
            else:
                self.use(b, node)
        return out

    def _call(self, node: ast.Call) -> list[str]:
        funcs = [canonical(f) for f in self.resolve(node.func)]
        args = node.args
        out: list[str] = []
        rest: list[ast.AST] = [*args, *node.keywords]
        for func in funcs:
            key = _literal_str(args[1]) if len(args) >= 2 else None
            if func in GETTERS and len(args) >= 2:
                out += [f"{b}.{key if key is not None else DYNAMIC}" for b in self.resolve(args[0])]
                rest = [*args[2:], *node.keywords]
            elif func == "setattr" and len(args) >= 2:
                for b in self.resolve(args[0]):
                    self._patched(b, key if key is not None else DYNAMIC)
                rest = [*args[2:], *node.keywords]
            elif func in IMPORTERS and args:
                out.append(_literal_str(args[0]) or DYNAMIC)
            elif func.endswith(".__getattribute__") and args:
                attr = _literal_str(args[0]) or DYNAMIC
                out.append(f"{func[: -len('.__getattribute__')]}.{attr}")
            elif func == "vars" and len(args) == 1:
                out += [f"{b}.__dict__" for b in self.resolve(args[0])]
                rest = list(node.keywords)
            elif func in ("globals", "vars") and not args:
                out.append("<globals>")
            elif func in RUNNERS and args:
                text = _literal_str(args[0])
                if text is None:
                    self.use(DYNAMIC, node, runner=func)
                else:
                    self._scan_text(text, node)
            else:
                self.use(func, node)
        for part in rest:
            self.visit(part)
        return out

    def _scan_text(self, text: str, call: ast.AST) -> None:
        """Code in a literal string (``eval("...")``): its uses are reported on ``call``."""
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return
        outer, self.anchor = self.anchor, self.anchor or call
        for stmt in tree.body:
            self.visit(stmt)
        self.anchor = outer

    def _patched(self, base: str, attr: str) -> None:
        """Record ``base.attr = ...`` (module-level patches of a library, in the first pass)."""
        if self.rules is not None or not base or DYNAMIC in base.split("."):
            return
        if base.split(".")[0] in MODULE_SELF:
            return
        self.program.patches.append((canonical(f"{base}.{attr}"), self.current))

    # -- uses
    def use(self, name: str, node: ast.AST, runner: str = "") -> None:
        """Check one dotted name the code uses (``*`` parts: a name built at run time)."""
        rules = self.rules
        if rules is None or name == "<globals>":
            return
        raw, name = name, canonical(name)
        for dotted, unit in self.program.patches:  # a library attribute the file replaced
            if _under(dotted, name) or _under(name, dotted):
                self._queue(unit, dotted)
        parts = name.split(".")
        for i, part in enumerate(parts):
            if part in LOOKUPS:
                parts = [*parts[:i], DYNAMIC]
                break
        loader = not runner and DYNAMIC not in parts and any(_under(name, x) for x in LOADERS)
        if runner or loader or DYNAMIC in parts:
            base = ".".join(parts[: parts.index(DYNAMIC)]) if DYNAMIC in parts else ""
            entry = rules.reached_by(self.exercise, base)
            if entry is None or any(rules.reached_by(e, base) for e in self.through):
                return
            if runner:
                used = f"run code built at run time (`{runner}`)"
            elif loader:
                used = f"use `{raw}`, which loads code by a name or text built at run time"
            elif base:
                used = f"look up a name built at run time in {base} (it could reach {entry})"
            else:
                used = f"import a module named at run time (it could be {entry})"
            raise _Found(self._violation(entry, used, node, dynamic=True))
        entry = rules.broken_by(self.exercise, name)
        if entry is not None:
            if any(rules.broken_by(e, name) for e in self.through):
                return  # another exercise on the way forbids it too: charged to that one
            raise _Found(self._violation(entry, name, node, dynamic=False))
        entry = rules.reached_by(self.exercise, name)  # a module passed around as a value
        if entry is None or any(rules.reached_by(e, name) for e in self.through):
            return
        used = f"use {raw or 'builtins'} as a value (it holds {entry})"
        raise _Found(self._violation(entry, used, node, dynamic=True))

    def _violation(self, entry: str, used: str, node: ast.AST, dynamic: bool) -> Violation:
        unit = self.current
        if unit is None:
            return Violation(self.exercise, entry, used, "", "", dynamic=dynamic)
        anchor = unit.pin or self.anchor or node
        lineno = getattr(anchor, "lineno", None) or getattr(unit.node, "lineno", 0)
        code = unit.lines[lineno - 1].strip() if 0 < lineno <= len(unit.lines) else ""
        if len(code) > MAX_CODE:
            code = code[: MAX_CODE - 3] + "..."
        where = f"{unit.cell}, line {lineno}" if unit.cell else f"line {lineno}"
        via = self.via if self.via != self.exercise else ""
        return Violation(self.exercise, entry, used, where, code, via, dynamic)

    # -- the walk
    def visit(self, node: ast.AST | None) -> None:
        if node is None:
            return
        if isinstance(node, ast.Name | ast.Attribute | ast.Call | ast.Subscript):
            if isinstance(getattr(node, "ctx", None), ast.Store | ast.Del):
                self._store(node)
            else:
                for name in self.resolve(node):
                    self.use(name, node)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            self._function(node)
        elif isinstance(node, ast.ClassDef):
            for part in [*node.decorator_list, *node.bases, *node.keywords]:
                self.visit(part)
            names = [s for stmt in node.body for s in _walk_scope(stmt)]
            local = {
                s.id: None
                for s in names
                if isinstance(s, ast.Name) and isinstance(s.ctx, ast.Store)
            }
            defs = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            local.update((s.name, None) for s in names if isinstance(s, defs))
            self.scopes.append((local, True))
            for stmt in node.body:
                self.visit(stmt)
            self.scopes.pop()
        elif isinstance(node, ast.AnnAssign):
            self.visit(node.target)
            self.visit(node.value)
        elif isinstance(node, _COMPREHENSIONS):
            local: dict[str, str | None] = {}
            for gen in node.generators:
                local.update((s.id, None) for s in ast.walk(gen.target) if isinstance(s, ast.Name))
            self.scopes.append((local, False))
            for child in ast.iter_child_nodes(node):
                self.visit(child)
            self.scopes.pop()
        elif isinstance(node, ast.Import | ast.ImportFrom):
            self._import(node)
        elif not isinstance(node, ast.arg):
            # annotations are not uses; imports count where the names they bind are used
            for child in ast.iter_child_nodes(node):
                self.visit(child)

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        """An import inside a function that binds a name the function declares ``global`` is
        a use right here (that name may be an exercise); other imports count where the names
        they bind are used."""
        if not self.scopes or (isinstance(node, ast.ImportFrom) and node.level):
            return
        local = self.scopes[-1][0]
        for a in node.names:
            if isinstance(node, ast.ImportFrom):
                name, alias = a.asname or a.name, f"{node.module}.{a.name}"
            else:
                name = a.asname or a.name.split(".")[0]
                alias = a.name if a.asname else name
            if a.name != "*" and name not in local:
                self.use(alias, node)

    def _store(self, node: ast.AST) -> None:
        """An assignment target: ``tf.nn.x = ...`` patches a library."""
        if isinstance(node, ast.Subscript):
            self.visit(node.value)
            self.visit(node.slice)
        elif isinstance(node, ast.Attribute):
            for b in self.resolve(node.value):
                self._patched(b, node.attr)
        elif not isinstance(node, ast.Name):
            self.visit(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        args = node.args
        for default in [*args.defaults, *[d for d in args.kw_defaults if d is not None]]:
            self.visit(default)
        for dec in getattr(node, "decorator_list", []):
            self.visit(dec)
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        every += [a for a in (args.vararg, args.kwarg) if a is not None]
        local: dict[str, str | None] = {a.arg: None for a in every}
        body = node.body if isinstance(node.body, list) else [node.body]
        outer: set[str] = set()
        for stmt in body:
            for sub in _walk_scope(stmt):
                if isinstance(sub, ast.Global | ast.Nonlocal):
                    outer.update(sub.names)
                elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store | ast.Del):
                    local.setdefault(sub.id, None)
                elif isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    local.setdefault(sub.name, None)
                elif isinstance(sub, ast.Import):
                    for a in sub.names:
                        name = a.asname or a.name.split(".")[0]
                        local[name] = a.name if a.asname else name
                elif isinstance(sub, ast.ImportFrom) and not sub.level and sub.module:
                    for a in sub.names:
                        if a.name != "*":
                            local[a.asname or a.name] = f"{sub.module}.{a.name}"
        for name in outer:
            local.pop(name, None)
        self.scopes.append((local, False))
        for stmt in body:
            self.visit(stmt)
        self.scopes.pop()


# ---------------------------------------------------------------------- checking


def check_program(
    program: Program, rules: Rules, exercise: str, root: str = ""
) -> Violation | None:
    """The first use that ``exercise``'s rule forbids in its definition (or in the one named
    ``root``, standing in for it) and in everything that uses, or None.

    Other exercises it uses are followed too, but a use that their own rule forbids as well is
    charged to them alone (``train_step`` calling a ``loss_fn`` that breaks its rule).
    """
    root = root or exercise
    scan = _Scan(program, rules, exercise)
    try:
        for unit, used in program.opaque:
            scan.current = unit
            raise _Found(scan._violation(PACKAGE, used, unit.node, dynamic=True))
        for b in program.effective(root):
            scan._queue(b.unit, root)
        seen: set[tuple[int, str]] = set()
        while scan.queue:
            _, _, unit, via, through = heapq.heappop(scan.queue)
            imports = isinstance(unit.node, ast.Import | ast.ImportFrom)
            key = (id(unit), via if imports else "")  # an import binds each name on its own
            if key not in seen:
                seen.add(key)
                scan.unit(unit, via, through)
    except _Found as found:
        return found.violation
    except (RecursionError, MemoryError):
        used = "use code nested too deeply to read"
        return Violation(exercise, PACKAGE, used, "", "", dynamic=True)
    return None


def file_cells(path: Path) -> list[tuple[str, str]]:
    """A submission's ``(label, source)`` cells, as :class:`Program` takes them: the ``.py``
    file, or each code cell of a notebook cleaned of IPython syntax as the worker runs it."""
    from tfcourse.grading.loader import clean_cell, read_cells

    sources = read_cells(path)
    if path.suffix != ".ipynb":
        return [("", sources[0])]
    cells = []
    for index, raw in enumerate(sources, start=1):
        source = clean_cell(raw)
        if source is not None:
            cells.append((f"code cell {index}", source))
    return cells


def namespace_cells(namespace: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(label, source)`` cells for a live namespace (a notebook's ``globals()``): a cell of
    imports standing for its modules and imported objects, and the source of each function
    and class defined there (what :func:`inspect.getsource` finds)."""
    own = {"__main__", str(namespace.get("__name__", "__main__"))}
    imports: list[str] = []
    cells: list[tuple[str, str]] = []
    for name, value in list(namespace.items()):
        if name.startswith("__") or not name.isidentifier():
            continue
        if isinstance(value, types.ModuleType):
            module = getattr(value, "__name__", "")
            if all(p.isidentifier() for p in module.split(".")):
                imports.append(f"import {module} as {name}")
            continue
        module = getattr(value, "__module__", None)
        qualname = getattr(value, "__qualname__", None)
        if not isinstance(module, str) or not isinstance(qualname, str):
            continue
        if module in own:
            if inspect.isfunction(value) or inspect.isclass(value):
                try:
                    source = textwrap.dedent(inspect.getsource(value))
                except (OSError, TypeError):
                    continue
                if value.__name__ != name:
                    source += f"\n{name} = {value.__name__}\n"
                cells.append((f"`{name}`", source))
        elif qualname.isidentifier() and all(p.isidentifier() for p in module.split(".")):
            imports.append(f"from {module} import {qualname} as {name}")
    return [("your notebook's imports", "\n".join(imports)), *cells]


class ForbiddenUse(StudentError):
    """A test's exercise breaks its rule: the test fails with :meth:`Violation.message`."""


def inline_rules(folder: Path | None, namespace: Mapping[str, Any]) -> Rules:
    """The rules ``check()`` applies in a student's notebook: the handout folder's, else the
    ``FORBIDDEN`` the notebook itself defines (a lone notebook: tfcourse left to the grader).
    Never raises."""
    try:
        if folder is not None:
            return read_rules(folder)
    except Exception:
        pass
    value = namespace.get(DECLARATION)
    try:
        entries = validate(value, DECLARATION, list(value) if isinstance(value, dict) else [])
    except Exception:
        entries = {}
    return _rules(entries, [PACKAGE], entries)


class Checker:
    """The rules of one grading and the submission's code, each exercise checked once.

    Args:
        rules: the assignment's rules (:func:`read_rules`).
        path: the submission file, read as text here (never run).
        namespace: instead of ``path``, a live namespace (``check()`` in a notebook).
    """

    def __init__(
        self,
        rules: Rules,
        path: Path | None = None,
        namespace: Mapping[str, Any] | None = None,
    ) -> None:
        self.rules, self.path, self.namespace = rules, path, namespace
        self.program: Program | None = None
        self.problem = ""  # why the code could not be read: every exercise fails with it
        self.found: dict[str, Violation | None] = {}

    def _load(self) -> None:
        if self.namespace is not None:
            self.program = Program(namespace_cells(self.namespace))
            return
        from tfcourse.grading.errors import SubmissionError

        try:
            if self.path.stat().st_size > MAX_FILE_BYTES:
                raise _TooLarge(f"{self.path.stat().st_size // 2**20} MB")
            cells = file_cells(self.path)
            size = sum(len(source) for _, source in cells)
            if size > MAX_CODE_BYTES:
                raise _TooLarge(f"{size // 1024} KB of code")
        except (SubmissionError, OSError):
            cells = []  # not a notebook, or gone: the worker says so in every test
        except _TooLarge as exc:
            self.problem = (
                f"is too large for the grader to check ({exc}; at most "
                f"{MAX_CODE_BYTES // 1024} KB of code in a file of at most "
                f"{MAX_FILE_BYTES // 2**20} MB: clear a notebook's outputs before saving it)"
            )
            cells = []
        self.program = Program(cells)

    def violation(self, exercise: str) -> Violation | None:
        """The first forbidden use of ``exercise`` (cached), or None."""
        if exercise not in self.found:
            if self.program is None:
                self._load()
            if self.problem:
                note = f"{exercise} cannot be graded: your submission {self.problem}"
                self.found[exercise] = Violation(exercise, PACKAGE, "", "", "", note=note)
            else:
                self.found[exercise] = check_program(self.program, self.rules, exercise)
        return self.found[exercise]
