"""Solution markers: find ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` blocks and stub them out.

A marker is a comment alone on its line (found with :mod:`tokenize`, so the words inside a
string or a docstring are not markers). Release replaces each block, markers included, with::

    raise NotImplementedError("<exercise>: write your solution here")

at the indentation of the ``# BEGIN SOLUTION`` line, where ``<exercise>`` is the top-level
function or class that contains the block.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

from tfcourse.grading.errors import MarkerError

BEGIN_RE = re.compile(r"#\s*BEGIN\s+SOLUTION\s*$", re.IGNORECASE)
END_RE = re.compile(r"#\s*END\s+SOLUTION\s*$", re.IGNORECASE)


def solution_blocks(text: str, filename: str | Path = "exercises.py") -> list[tuple[int, int]]:
    """The ``(begin_line, end_line)`` pairs (1-based, inclusive) of the solution blocks.

    Raises:
        MarkerError: an END without BEGIN, a BEGIN inside a block, or a block never closed;
            the message names the file and line.
    """
    blocks: list[tuple[int, int]] = []
    begin: int | None = None
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as exc:
        raise MarkerError(f"{filename}: cannot be tokenized ({exc})") from None
    for tok in tokens:
        if tok.type != tokenize.COMMENT or tok.line.strip() != tok.string.strip():
            continue
        line = tok.start[0]
        if BEGIN_RE.fullmatch(tok.string.strip()):
            if begin is not None:
                raise MarkerError(
                    f"{filename}:{line}: '# BEGIN SOLUTION' inside the block opened on line "
                    f"{begin}; add '# END SOLUTION' before it"
                )
            begin = line
        elif END_RE.fullmatch(tok.string.strip()):
            if begin is None:
                raise MarkerError(
                    f"{filename}:{line}: '# END SOLUTION' without a '# BEGIN SOLUTION' above it"
                )
            blocks.append((begin, line))
            begin = None
    if begin is not None:
        raise MarkerError(
            f"{filename}:{begin}: '# BEGIN SOLUTION' is never closed; add '# END SOLUTION'"
        )
    return blocks


def strip_solutions(text: str, filename: str | Path = "exercises.py") -> str:
    """``text`` with every solution block replaced by a ``raise NotImplementedError`` stub.

    Raises:
        MarkerError: unbalanced markers, a block outside any top-level function or class, or
            a result that no longer parses (the message names the file and line).
    """
    blocks = solution_blocks(text, filename)
    try:
        tree = ast.parse(text, filename=str(filename))
    except SyntaxError as exc:
        raise MarkerError(f"{filename}:{exc.lineno}: syntax error: {exc.msg}") from None
    lines = text.splitlines(keepends=True)
    for begin, end in reversed(blocks):
        indent = lines[begin - 1][: len(lines[begin - 1]) - len(lines[begin - 1].lstrip())]
        owner = _owner(tree, begin) if indent else None
        if owner is None:
            raise MarkerError(
                f"{filename}:{begin}: solution markers must sit inside the body of a "
                "top-level function or class"
            )
        stub = f'{indent}raise NotImplementedError("{owner}: write your solution here")\n'
        lines[begin - 1 : end] = [stub]
    result = "".join(lines)
    try:
        ast.parse(result, filename=str(filename))
    except SyntaxError as exc:
        raise MarkerError(
            f"{filename}:{exc.lineno}: the released version does not parse ({exc.msg}); "
            "check the indentation of the solution markers"
        ) from None
    return result


def _owner(tree: ast.Module, line: int) -> str | None:
    """Name of the top-level function or class whose body contains (indented) ``line``."""
    before = [node for node in tree.body if node.lineno < line]
    if before and isinstance(before[-1], ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return before[-1].name
    return None
