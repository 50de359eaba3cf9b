"""The student notebook of a handout: its cells, and the tutorial notebooks it links to.

:func:`student_notebook` turns the student module into cells: the assignment's title and
intro, a setup cell (installs tfcourse where it is missing, see :mod:`tfcourse.notebook_setup`,
and binds ``check``), a collapsed cell embedding the public tests (so a lone notebook, e.g.
uploaded to Colab, can run its checks), then one cell per exercise, each followed by a
``check("name")`` cell. :func:`handout_links` copies the tutorial notebooks the README links to
into the handout and points the links at the copies.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import nbformat

from tfcourse.grading.assignment import Assignment
from tfcourse.notebook_setup import (
    EMBEDDED_TESTS,
    REPOSITORY_INSTALL,
    install_cell,
    install_line,
)

PUBLIC_TESTS = "tests_public.py"
_CHECK_SETUP = f"""\
from tfcourse.notebook_setup import handout_check

# check("name") runs the public tests of one exercise: {PUBLIC_TESTS} beside this notebook,
# or else the copy embedded in the next cell (written out as {PUBLIC_TESTS} when needed).
check = handout_check(globals(), tests="{PUBLIC_TESTS}")
"""
_EMBED_TITLE = (
    f'#@title The public tests ({PUBLIC_TESTS}), embedded for check() {{ display-mode: "form" }}'
)


def python_literal(text: str) -> str:
    """``text`` as a Python string literal that keeps its lines readable (raw, triple-quoted)."""
    for quote in ("'''", '"""'):
        literal = f"r{quote}{text}{quote}"
        if quote in text:
            continue
        try:
            if ast.literal_eval(literal) == text:
                return literal
        except (SyntaxError, ValueError):
            pass
    return repr(text)


def notebook_cells(
    source: str,
    assignment: Assignment,
    public_tests: str = "",
    install: str = REPOSITORY_INSTALL,
) -> list[nbformat.NotebookNode]:
    """Split the student module into notebook cells: intro, setup, one cell per exercise.

    The setup cell installs ``install`` where tfcourse is missing (see
    :mod:`tfcourse.notebook_setup`) and binds ``check``; the next cell embeds ``public_tests``.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    v4 = nbformat.v4
    cells = [v4.new_markdown_cell(f"# {assignment.title}\n\n{assignment.intro}".strip())]
    cells.append(
        v4.new_markdown_cell(
            "Fill in every function marked `raise NotImplementedError`, run its cell, then run "
            "the `check(...)` cell under it to try the public tests. Submit this notebook "
            "(or a `.py` file with the same functions).\n\n"
            "Run the next cell first: it defines `check`, after installing `tfcourse` where it "
            "is missing (a fresh Colab runtime, say). The public tests are embedded in the "
            "cell after it, so this notebook also works on its own, e.g. uploaded to Colab "
            "without the rest of the handout."
        )
    )
    cells.append(v4.new_code_cell(install_cell(install, then=_CHECK_SETUP)))
    cells.append(
        v4.new_code_cell(
            f"{_EMBED_TITLE}\n{EMBEDDED_TESTS} = {python_literal(public_tests)}",
            metadata={"cellView": "form", "jupyter": {"source_hidden": True}},
        )
    )
    body = tree.body[1:] if ast.get_docstring(tree) else tree.body
    pending: list[str] = []
    start = body[0].lineno - 1 if body else len(lines)
    for node in body:
        first = min([node.lineno, *[d.lineno for d in getattr(node, "decorator_list", [])]]) - 1
        named = getattr(node, "name", None)
        if named in assignment.exercises:
            if pending and "".join(pending).strip():
                cells.append(v4.new_code_cell("\n".join(pending).strip("\n")))
            comment_start = first
            while comment_start > start and lines[comment_start - 1].lstrip().startswith("#"):
                comment_start -= 1
            cells.append(v4.new_markdown_cell(f"## Exercise: `{named}`"))
            cells.append(v4.new_code_cell("\n".join(lines[comment_start : node.end_lineno])))
            cells.append(v4.new_code_cell(f'check("{named}")'))
            pending = []
        else:
            pending += lines[start : node.end_lineno]
        start = node.end_lineno
    pending += lines[start:]
    if "".join(pending).strip():
        cells.append(v4.new_code_cell("\n".join(pending).strip("\n")))
    return cells


_LINK = re.compile(r"\]\((\.\./\.\./notebooks/[\w.-]+)\)")


def _copy_notebook(target: Path, copy: Path, install: str) -> None:
    """Copy a tutorial notebook; its setup cell installs ``install`` instead of the repository."""
    shutil.copyfile(target, copy)
    if install == REPOSITORY_INSTALL or copy.suffix != ".ipynb":
        return
    nb = nbformat.read(copy, as_version=4)
    default, mine = install_line(REPOSITORY_INSTALL), install_line(install)
    for cell in nb.cells:
        if cell.cell_type == "code" and default in cell.source.splitlines():
            cell.source = cell.source.replace(default, mine, 1)
    nbformat.write(nb, copy)


def handout_links(
    text: str, assignment: Assignment, staging: Path, install: str = REPOSITORY_INSTALL
) -> str:
    """Point README links at copies inside the handout: ``../../notebooks/X`` -> ``notebooks/X``.

    A handout is used away from the repository, so each tutorial notebook the README links to
    is copied into ``notebooks/`` beside it (a link to a file that does not exist is dropped),
    its setup cell naming ``install`` like the handout's own notebook.
    """

    def local(match: re.Match[str]) -> str:
        target = (assignment.path / match.group(1)).resolve()
        if not target.is_file():
            return f"]({Path(match.group(1)).name})"
        (staging / "notebooks").mkdir(exist_ok=True)
        _copy_notebook(target, staging / "notebooks" / target.name, install)
        return f"](notebooks/{target.name})"

    return _LINK.sub(local, text)


def student_notebook(
    source: str, assignment: Assignment, public_tests: str, install: str = REPOSITORY_INSTALL
) -> nbformat.NotebookNode:
    """The handout's ``.ipynb``: :func:`notebook_cells` with a Python 3 kernel and stable ids."""
    notebook = nbformat.v4.new_notebook(
        cells=notebook_cells(source, assignment, public_tests, install)
    )
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index:03d}"
    return notebook
