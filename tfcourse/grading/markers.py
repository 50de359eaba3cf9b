"""Instructor-only blocks of ``exercises.py``: solutions to stub out, known mistakes to drop.

A marker is a comment alone on its line (found with :mod:`tokenize`, so the words inside a
string or a docstring are not markers). Release replaces each ``# BEGIN SOLUTION`` ...
``# END SOLUTION`` block, markers included, with::

    raise NotImplementedError("<exercise>: write your solution here")

at the indentation of the ``# BEGIN SOLUTION`` line, where ``<exercise>`` is the top-level
function or class that contains the block. ``# BEGIN MISTAKES`` ... ``# END MISTAKES`` blocks
(the known mistakes of :mod:`tfcourse.grading.mistakes`, at the top level) are removed whole.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

from tfcourse.grading.errors import MarkerError


def solution_blocks(text: str, filename: str | Path = "exercises.py") -> list[tuple[int, int]]:
    """The ``(begin_line, end_line)`` pairs (1-based, inclusive) of the solution blocks.

    Raises:
        MarkerError: an END without BEGIN, a BEGIN inside a block, or a block never closed;
            the message names the file and line.
    """
    return _blocks(text, filename, "SOLUTION")


def mistake_blocks(text: str, filename: str | Path = "exercises.py") -> list[tuple[int, int]]:
    """The ``(begin_line, end_line)`` pairs of the ``# BEGIN MISTAKES`` blocks.

    Raises:
        MarkerError: as :func:`solution_blocks`.
    """
    return _blocks(text, filename, "MISTAKES")


def _blocks(text: str, filename: str | Path, word: str) -> list[tuple[int, int]]:
    begin_re = re.compile(rf"#\s*BEGIN\s+{word}\s*$", re.IGNORECASE)
    end_re = re.compile(rf"#\s*END\s+{word}\s*$", re.IGNORECASE)
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
        if begin_re.fullmatch(tok.string.strip()):
            if begin is not None:
                raise MarkerError(
                    f"{filename}:{line}: '# BEGIN {word}' inside the block opened on line "
                    f"{begin}; add '# END {word}' before it"
                )
            begin = line
        elif end_re.fullmatch(tok.string.strip()):
            if begin is None:
                raise MarkerError(
                    f"{filename}:{line}: '# END {word}' without a '# BEGIN {word}' above it"
                )
            blocks.append((begin, line))
            begin = None
    if begin is not None:
        raise MarkerError(
            f"{filename}:{begin}: '# BEGIN {word}' is never closed; add '# END {word}'"
        )
    return blocks


def strip_mistakes(text: str, filename: str | Path = "exercises.py") -> str:
    """``text`` without its ``# BEGIN MISTAKES`` blocks (markers included).

    Raises:
        MarkerError: unbalanced markers, or a block that is not at the top level.
    """
    lines = text.splitlines(keepends=True)
    for begin, end in reversed(mistake_blocks(text, filename)):
        if lines[begin - 1][:1].isspace():
            raise MarkerError(
                f"{filename}:{begin}: '# BEGIN MISTAKES' must be at the top level (no indent)"
            )
        del lines[begin - 1 : end]
    return re.sub(r"\n{4,}", "\n\n\n", "".join(lines))


def strip_solutions(text: str, filename: str | Path = "exercises.py") -> str:
    """``text`` without its known mistakes and with every solution block replaced by a
    ``raise NotImplementedError`` stub.

    Raises:
        MarkerError: unbalanced markers, a block outside any top-level function or class, or
            a result that no longer parses (the message names the file and line).
    """
    text = strip_mistakes(text, filename)
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
