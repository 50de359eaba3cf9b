"""Loading a student submission (``.py`` or ``.ipynb``) into one module namespace.

Used by the grading worker (never by the grader's parent process). A ``.py`` file runs as one
piece and stops at its first error. A notebook's code cells run in order in the same namespace,
like "Run All" in Jupyter, except that a cell that raises (or does not compile, or calls
``exit()``) is recorded and loading goes on with the next cell, as nbgrader and otter-grader
do: one exploratory cell that reads a file only the student's laptop has costs no exercise.
IPython magics and shell lines (``%time``, ``!pip install``) are skipped, top-level
``check(...)`` calls are dropped, and ``from __future__`` imports carry over to later cells.

Each :class:`Failure` also lists the names its cell was meant to define, so that a test which
finds a function missing can name the cell that failed to define it (see :func:`report`).
"""

from __future__ import annotations
import __future__

import ast
import dataclasses
import json
import linecache
import re
import sys
import traceback
import types
from pathlib import Path
from typing import Any

from tfcourse.grading.errors import SubmissionError

MODULE_NAME = "submission"
FUTURE_FLAGS = 0
for _feature in __future__.all_feature_names:
    FUTURE_FLAGS |= getattr(__future__, _feature).compiler_flag

_MAGIC_LINE = re.compile(r"^(\s*)(?:[%!].*|\w+\s*=\s*[%!].*)$")
_RUN_BODY_CELL_MAGICS = {"time", "capture", "timeit"}
_TOP_LEVEL_NAME = re.compile(
    r"^(?:async\s+def|def|class)\s+(\w+)|^(\w+)\s*(?::[^=\n]*)?=(?!=)", re.MULTILINE
)
_OWN_SCOPES = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
MAX_LISTED = 5  # failures listed in the reply; the last line counts the rest
MAX_COUNTED = 20  # cell numbers in that last line
MAX_NAMES = 300  # names in the reply's ``defined_by``


def read_cells(path: Path) -> list[str]:
    """The sources of the code cells of ``path``: one for a ``.py`` file, one per notebook cell.

    Raises:
        SubmissionError: not a ``.py`` / ``.ipynb`` file, or a notebook that is not JSON.
    """
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".py":
        return [text]
    if path.suffix != ".ipynb":
        raise SubmissionError(f"{path.name}: submit a .py or .ipynb file")
    try:
        nb = json.loads(text)
        cells = nb["cells"]
    except (ValueError, KeyError, TypeError):
        raise SubmissionError(
            f"{path.name} is not a readable Jupyter notebook (nbformat 4 JSON); "
            "save it from Jupyter again"
        ) from None
    sources = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            src = cell.get("source", "")
            sources.append("".join(src) if isinstance(src, list) else str(src))
    return sources


def clean_cell(source: str) -> str | None:
    """Drop IPython syntax from a cell: ``None`` for a cell magic cell, else plain Python.

    Line magics and shell lines become ``pass`` (same indentation, same line numbers), so the
    rest of the cell still runs. ``%%time``-like cell magics run their body; other cell magics
    (``%%bash``, ``%%writefile``...) skip the whole cell.
    """
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(maxsplit=1)[0] if lines[0].strip() != "%%" else ""
        if magic not in _RUN_BODY_CELL_MAGICS:
            return None
        lines[0] = ""
    try:
        ast.parse("\n".join(lines))
        return "\n".join(lines) + "\n"  # plain Python: leave lines like "    % n)" alone
    except SyntaxError:
        pass
    out = []
    for line in lines:
        match = _MAGIC_LINE.match(line)
        out.append(f"{match.group(1)}pass" if match else line)
    return "\n".join(out) + "\n"


def _drop_check_calls(tree: ast.Module) -> ast.Module:
    def is_check(node: ast.stmt) -> bool:
        return (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "check"
        )

    tree.body = [node for node in tree.body if not is_check(node)]
    return tree


def load_submission(path: str | Path) -> tuple[types.ModuleType, list[Failure]]:
    """Run submission ``path`` into a fresh module named ``submission``.

    Args:
        path: the student's ``.py`` or ``.ipynb`` file.

    Returns:
        ``(module, failures)``: the module holds whatever got defined; ``failures`` is empty
        when everything ran, else one :class:`Failure` per notebook cell that raised or did
        not compile (a ``.py`` file stops at its first failure: at most one).

    Raises:
        SubmissionError: the file is not a ``.py`` / ``.ipynb`` (or not a notebook).
    """
    path = Path(path)
    cells = read_cells(path)
    module = types.ModuleType(MODULE_NAME)
    module.__file__ = str(path)
    sys.modules[MODULE_NAME] = module  # dataclasses, pickle and typing look modules up here
    if path.suffix != ".ipynb":
        failure = _run(cells[0], str(path), path.name, module, 0)[0]
        return module, [] if failure is None else [_whole_file(failure)]
    failures, flags = [], 0
    for index, raw in enumerate(cells, start=1):
        source = clean_cell(raw)
        if source is None:
            continue
        where = f"code cell {index} of {len(cells)}{_start(raw)}"
        failure, flags = _run(source, f"<cell {index}>", where, module, flags)
        if failure is not None:
            failures.append(dataclasses.replace(failure, cell=index))
    return module, failures


@dataclasses.dataclass
class Failure:
    """A cell (or ``.py`` file) that did not run to its end.

    Attributes:
        message: what the student reads, e.g. ``code cell 4 of 9 (the one starting `x = 1`)
            raised ZeroDivisionError: division by zero on line 2 (`1 / 0`)``.
        defines: the top-level names of the statements that did not run (a function,
            class, assignment or import at or after the failing statement).
        compiled: False for a syntax error (nothing of the cell ran).
        cell: the code cell's number (from 1); 0 for a ``.py`` file.
    """

    message: str
    defines: list[str]
    compiled: bool = True
    cell: int = 0


def report(failures: list[Failure]) -> dict[str, Any]:
    """The worker's plain-data reply for ``failures``.

    Returns:
        ``{"errors": [message, ...], "defined_by": {name: message}}``: at most
        :data:`MAX_LISTED` messages (the last one counts the rest), and for each name a failed
        cell was meant to define, the last such cell's message.
    """
    errors = [f.message for f in failures]
    if len(errors) > MAX_LISTED:
        rest = failures[MAX_LISTED - 1 :]
        shown = ", ".join(str(f.cell) for f in rest[:MAX_COUNTED])
        more = ", ..." if len(rest) > MAX_COUNTED else ""
        errors = [
            *errors[: MAX_LISTED - 1],
            f"{len(rest)} more code cells failed: cells {shown}{more}",
        ]
    defined_by: dict[str, str] = {}
    for failure in failures:
        for name in failure.defines:
            defined_by.pop(name, None)  # the last failed cell defining a name is named
            defined_by[name] = failure.message
    return {"errors": errors, "defined_by": dict(list(defined_by.items())[-MAX_NAMES:])}


def _run(
    source: str, filename: str, where: str, module: types.ModuleType, flags: int
) -> tuple[Failure | None, int]:
    """Compile and run ``source`` in ``module``; return its failure and the future flags."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        tree = _drop_check_calls(ast.parse(source, filename=filename))
        code = compile(tree, filename, "exec", flags=flags, dont_inherit=True)
    except SyntaxError as exc:
        message = f"{where} has a syntax error on line {exc.lineno}: {_clip(exc.msg, 150)}"
        return Failure(message, _names_by_pattern(source), compiled=False), flags
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, nesting too deep
        message = f"{where} could not be compiled: {_clip(describe(exc), 200)}"
        return Failure(message, _names_by_pattern(source), compiled=False), flags
    flags |= code.co_flags & FUTURE_FLAGS
    try:
        exec(code, module.__dict__)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: report, go on
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
        top = frames[0].lineno if frames else 0  # in the top-level statement that raised
        message = f"{where} raised {_clip(describe(exc), 200)}{_line_of(frames, source)}"
        return Failure(message, _names_from(tree, top)), flags
    return None, flags


def _whole_file(failure: Failure) -> Failure:
    """A ``.py`` file stops at its failure: say that what comes after it is missing."""
    if failure.compiled:
        rest = "whatever the file defines after that line is missing"
    else:
        rest = "nothing in the file could be run"
    return Failure(f"{failure.message}; {rest}", failure.defines, failure.compiled)


def describe(exc: BaseException) -> str:
    """``"ValueError: bad value"``; ``"SystemExit(0)"`` for exits."""
    try:
        if isinstance(exc, SystemExit):
            return f"SystemExit({exc.code!r})"
        text = str(exc)
    except Exception:  # a broken __str__ or __repr__ of the submission's own class
        return type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _clip(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _line_of(frames: list[traceback.FrameSummary], source: str) -> str:
    """`` on line 3 (`x = f()`)`` for the deepest frame (no code if it is the first line)."""
    if not frames:
        return ""
    line = (frames[-1].line or "").strip()
    if not line or line == _first_line(source):
        return f" on line {frames[-1].lineno}"
    return f" on line {frames[-1].lineno} (`{_clip(line, 60)}`)"


def _names_from(tree: ast.Module, line: int) -> list[str]:
    """Names defined by the top-level statements of ``tree`` that end on or after ``line``."""
    names: dict[str, None] = {}
    stack = [s for s in tree.body if (s.end_lineno or s.lineno) >= line][::-1]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = None
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    names[alias.asname or alias.name.split(".")[0]] = None
        elif isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Store):
                names[node.id] = None
        elif not isinstance(node, _OWN_SCOPES):
            stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return list(names)


def _names_by_pattern(source: str) -> list[str]:
    """Top-level names of a cell that does not parse: ``def f``, ``class C``, ``x =``."""
    return list(dict.fromkeys(m.group(1) or m.group(2) for m in _TOP_LEVEL_NAME.finditer(source)))


def _first_line(source: str) -> str:
    return next((ln.strip() for ln in source.splitlines() if ln.strip()), "")


def _start(source: str) -> str:
    first = _first_line(source)
    return f" (the one starting `{_clip(first, 40)}`)" if first else ""
