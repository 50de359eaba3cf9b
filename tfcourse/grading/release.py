"""Release the student version of an assignment: a stub module, a notebook, the public tests.

``release("tutorial1_mlp", "out/")`` writes::

    out/tutorial1_mlp.py      exercises.py, each solution replaced by a NotImplementedError stub
    out/tutorial1_mlp.ipynb   the same code, one cell per exercise, each followed by a check cell
    out/tests_public.py       the tests students may run (hidden tests never leave the source)
    out/assignment.json       title and exercise list (what ``tfcourse grade`` needs)
    out/README.md             the assignment's instructions, when it has them

The folder is built next to ``out`` and renamed into place, so a failed release leaves nothing.
"""

from __future__ import annotations

import ast
import shutil
import tempfile
from pathlib import Path

import nbformat

from tfcourse.grading.assignment import METADATA_FILE, Assignment, load
from tfcourse.grading.errors import AssignmentError, GradingError
from tfcourse.grading.markers import solution_blocks, strip_solutions

PUBLIC_TESTS = "tests_public.py"


def student_source(assignment: Assignment) -> str:
    """``exercises.py`` with solutions stripped (checked to contain no solution lines)."""
    path = assignment.path / "exercises.py"
    if not path.is_file():
        raise AssignmentError(f"{path} is missing; release needs the instructor source")
    text = path.read_text(encoding="utf-8")
    blocks = solution_blocks(text, path)
    if not blocks:
        raise AssignmentError(f"{path} has no '# BEGIN SOLUTION' blocks; nothing to release")
    return strip_solutions(text, path)


def notebook_cells(source: str, assignment: Assignment) -> list[nbformat.NotebookNode]:
    """Split the student module into notebook cells: intro, setup, one cell per exercise."""
    tree = ast.parse(source)
    lines = source.splitlines()
    v4 = nbformat.v4
    cells = [v4.new_markdown_cell(f"# {assignment.title}\n\n{assignment.intro}".strip())]
    cells.append(
        v4.new_markdown_cell(
            "Fill in every function marked `raise NotImplementedError`, run its cell, then run "
            "the `check(...)` cell under it to try the public tests. Submit this notebook "
            "(or a `.py` file with the same functions)."
        )
    )
    cells.append(
        v4.new_code_cell(
            "from tfcourse.grading.check import make_check\n\n"
            f'check = make_check(globals(), tests="{PUBLIC_TESTS}")'
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


def release(name: str, out_dir: str | Path, source: str | Path = "assignments",
            force: bool = False) -> Path:
    """Write the student version of assignment ``name`` into ``out_dir``.

    Args:
        name: assignment folder name (or a path to the folder).
        out_dir: destination; must not exist or be empty unless ``force``.
        source: folder holding the assignments.
        force: replace an existing non-empty ``out_dir``.

    Returns:
        ``out_dir`` as a :class:`~pathlib.Path`.

    Raises:
        AssignmentError: unknown assignment, bad markers or tests.
        GradingError: ``out_dir`` exists and is not empty (without ``force``).
    """
    assignment = load(name, source)
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise GradingError(
            f"{str(out)!r} exists and is not empty; choose a new folder or pass --force"
        )
    code = student_source(assignment)
    notebook = nbformat.v4.new_notebook(cells=notebook_cells(code, assignment))
    notebook.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3", "language": "python"
    }
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index:03d}"
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        (staging / f"{assignment.name}.py").write_text(code, encoding="utf-8")
        nbformat.write(notebook, staging / f"{assignment.name}.ipynb")
        (staging / PUBLIC_TESTS).write_text(assignment.sources["tests_public"], encoding="utf-8")
        (staging / METADATA_FILE).write_text(assignment.metadata_json(), encoding="utf-8")
        readme = assignment.path / "README.md"
        if readme.is_file():
            shutil.copyfile(readme, staging / "README.md")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out
