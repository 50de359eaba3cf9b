"""Loading a student submission (``.py`` or ``.ipynb``) into one module namespace.

Used by the grading worker (never by the grader's parent process). A ``.py`` file runs as one
piece. A notebook's code cells run in order in the same namespace, like "Run All" in Jupyter:
IPython magics and shell lines (``%time``, ``!pip install``) are skipped, top-level
``check(...)`` calls are dropped, and ``from __future__`` imports carry over to later cells. A
cell that raises stops loading: the error is recorded and everything defined so far is kept,
so earlier exercises are still graded.
"""

from __future__ import annotations
import __future__

import ast
import json
import linecache
import re
import sys
import traceback
import types
from pathlib import Path

from tfcourse.grading.errors import SubmissionError

MODULE_NAME = "submission"
FUTURE_FLAGS = 0
for _feature in __future__.all_feature_names:
    FUTURE_FLAGS |= getattr(__future__, _feature).compiler_flag

_MAGIC_LINE = re.compile(r"^(\s*)(?:[%!].*|\w+\s*=\s*[%!].*)$")
_RUN_BODY_CELL_MAGICS = {"time", "capture", "timeit"}


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


def load_submission(path: str | Path) -> tuple[types.ModuleType, list[str]]:
    """Run submission ``path`` into a fresh module named ``submission``.

    Args:
        path: the student's ``.py`` or ``.ipynb`` file.

    Returns:
        ``(module, errors)``: the module holds whatever got defined; ``errors`` is empty when
        everything ran, else one message saying what stopped loading and what was skipped.

    Raises:
        SubmissionError: the file is not a ``.py`` / ``.ipynb`` (or not a notebook).
    """
    path = Path(path)
    cells = read_cells(path)
    module = types.ModuleType(MODULE_NAME)
    module.__file__ = str(path)
    sys.modules[MODULE_NAME] = module  # dataclasses, pickle and typing look modules up here
    flags = 0
    notebook = path.suffix == ".ipynb"
    for index, raw in enumerate(cells, start=1):
        source = clean_cell(raw) if notebook else raw
        if source is None:
            continue
        filename = f"<cell {index}>" if notebook else str(path)
        where = f"code cell {index} of {len(cells)}{_start(raw)}" if notebook else path.name
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            tree = _drop_check_calls(ast.parse(source, filename=filename))
            code = compile(tree, filename, "exec", flags=flags, dont_inherit=True)
        except SyntaxError as exc:
            return module, [
                f"{where} has a syntax error on line {exc.lineno}: {exc.msg}"
                + _skipped(index, len(cells), notebook, nothing_ran=not notebook)
            ]
        flags |= code.co_flags & FUTURE_FLAGS
        try:
            exec(code, module.__dict__)
        except BaseException as exc:
            return module, [
                f"{where} raised {describe(exc)}{_line_of(exc, filename)}"
                + _skipped(index, len(cells), notebook, nothing_ran=False)
            ]
    return module, []


def describe(exc: BaseException) -> str:
    """``"ValueError: bad value"``; ``"SystemExit(0)"`` for exits."""
    if isinstance(exc, SystemExit):
        return f"SystemExit({exc.code!r})"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _line_of(exc: BaseException, filename: str) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    if not frames:
        return ""
    line = (frames[-1].line or "").strip()
    return f" on line {frames[-1].lineno}" + (f" (`{line}`)" if line else "")


def _skipped(index: int, total: int, notebook: bool, nothing_ran: bool) -> str:
    if not notebook:
        if nothing_ran:
            return "; nothing in the file could be run"
        return "; whatever the file defines after that line is missing"
    if index == total:
        return "; it was the last code cell"
    return f"; code cells {index + 1}-{total} were not run, so what they define is missing"


def _start(source: str) -> str:
    first = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
    return f" (the one starting `{first[:40]}`)" if first else ""
