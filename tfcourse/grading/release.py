"""Release the student version of an assignment: a stub module, a notebook, the public tests.

``release("tutorial1_mlp", "out/")`` writes::

    out/tutorial1_mlp.py      exercises.py, each solution replaced by a NotImplementedError stub
    out/tutorial1_mlp.ipynb   the same code, one cell per exercise, each followed by a check cell,
                              after a setup cell (installs tfcourse where it is missing) and a
                              collapsed cell embedding the public tests (for a lone notebook)
    out/tests_public.py       the tests students may run (hidden tests never leave the source)
    out/assignment.json       title and exercise list (what ``tfcourse grade`` needs)
    out/README.md             the assignment's instructions, when it has them

The folder is built next to ``out`` and renamed into place, so a failed release leaves nothing.
Release never deletes what it did not write: ``out`` may not be, contain or lie inside the
source assignments, nor be the current folder or contain the current project (a folder with
``pyproject.toml`` or ``.git``); ``force`` replaces only a folder that an earlier release wrote
(it holds the marker file ``.tfcourse-release``, which lists the files written) and that holds
nothing else. Files and folders get the usual permissions
(``0o666`` / ``0o777`` minus the umask).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import tempfile
from pathlib import Path

import nbformat

from tfcourse.grading.assignment import METADATA_FILE, Assignment, load
from tfcourse.grading.errors import AssignmentError, GradingError
from tfcourse.grading.markers import solution_blocks, strip_solutions
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
MARKER = ".tfcourse-release"  # written into every released folder; --force replaces only these
PROJECT_MARKERS = ("pyproject.toml", ".git")


class ReleaseError(GradingError):
    """``OUT_DIR`` is unsafe (source, project, foreign files) or cannot be written."""


def _within(path: Path, folder: Path) -> bool:
    """True when ``path`` is ``folder`` or lies inside it (both already resolved)."""
    return path == folder or folder in path.parents


def project_root(start: str | Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: cwd) holding pyproject.toml or .git."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if any((folder / name).exists() for name in PROJECT_MARKERS):
            return folder
    return None


def check_out_dir(out_dir: str | Path, assignment: Assignment, force: bool = False) -> Path:
    """Refuse an ``out_dir`` whose replacement could delete something release did not write.

    Returns:
        ``out_dir`` resolved.

    Raises:
        ReleaseError: ``out_dir`` is, contains or lies inside the assignment sources; is the
            current folder or contains it or the current project; is a file; or is a non-empty
            folder without the release marker or with files release did not write (with
            ``force``), or at all (without it).
    """
    out = Path(out_dir).resolve()
    shown = str(out_dir)
    fix = "choose a new folder, e.g. handout/"
    src = assignment.path.resolve()
    if _within(out, src) or _within(src, out):
        where = "is" if out == src else "lies inside" if _within(out, src) else "contains"
        raise ReleaseError(f"OUT_DIR {shown!r} {where} the assignment's source folder {src}; {fix}")
    cwd = Path.cwd().resolve()
    root = project_root(cwd)
    if root is not None and _within(root, out):
        raise ReleaseError(f"OUT_DIR {shown!r} is or contains the project {root}; {fix}")
    if _within(cwd, out):
        raise ReleaseError(f"OUT_DIR {shown!r} is or contains the current folder {cwd}; {fix}")
    if out.exists() and not out.is_dir():
        raise ReleaseError(f"OUT_DIR {shown!r} is a file, not a folder; {fix}")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise ReleaseError(
                f"{shown!r} exists and is not empty; choose a new folder or pass --force"
            )
        if not (out / MARKER).is_file():
            raise ReleaseError(
                f"--force replaces only a folder an earlier release wrote, and {shown!r} has "
                f"no {MARKER} marker; move its files away yourself or {fix}"
            )
        foreign = sorted({p.name for p in out.iterdir()} - _written(out))
        if foreign:
            raise ReleaseError(
                f"--force would delete {', '.join(foreign)} in {shown!r}, which release did "
                f"not write; move {'them' if len(foreign) > 1 else 'it'} away first or {fix}"
            )
    return out


def _written(folder: Path) -> set[str]:
    """Names an earlier release recorded in its marker (the marker itself included)."""
    lines = (folder / MARKER).read_text(encoding="utf-8", errors="replace").splitlines()
    return {MARKER, *(line[2:] for line in lines if line.startswith("- "))}


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _apply_umask(folder: Path) -> None:
    """Give ``folder`` and its files the permissions a plain ``mkdir``/``open`` would."""
    mask = _umask()
    for path in folder.rglob("*"):
        path.chmod((0o777 if path.is_dir() else 0o666) & ~mask)
    folder.chmod(0o777 & ~mask)


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


def release(
    name: str,
    out_dir: str | Path,
    source: str | Path | None = None,
    force: bool = False,
    install: str | None = None,
) -> Path:
    """Write the student version of assignment ``name`` into ``out_dir``.

    Args:
        name: assignment folder name (or a path to the folder).
        out_dir: destination; must not exist or be empty unless ``force``.
        source: folder holding the assignments.
        force: replace an existing non-empty ``out_dir`` that an earlier release wrote.
        install: what the notebook's first cell pip-installs where tfcourse is missing (a
            wheel's URL or path, or a ``git+https://`` URL); default ``$TFCOURSE_INSTALL``,
            else the course repository.

    Returns:
        ``out_dir`` as a :class:`~pathlib.Path`.

    Raises:
        AssignmentError: unknown assignment, bad markers or tests.
        ReleaseError: ``out_dir`` is unsafe (see :func:`check_out_dir`) or cannot be written.
    """
    assignment = load(name, source)
    out = Path(out_dir)
    check_out_dir(out, assignment, force)
    code = student_source(assignment)
    install = install or os.environ.get("TFCOURSE_INSTALL") or REPOSITORY_INSTALL
    cells = notebook_cells(code, assignment, assignment.sources["tests_public"], install)
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index:03d}"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    except OSError as exc:
        raise ReleaseError(
            f"cannot write into {str(out.parent)!r} ({exc.strerror or exc}); "
            "choose a folder you can write to"
        ) from None
    old = staging.with_name(staging.name + ".old")
    try:
        (staging / f"{assignment.name}.py").write_text(code, encoding="utf-8")
        nbformat.write(notebook, staging / f"{assignment.name}.ipynb")
        (staging / PUBLIC_TESTS).write_text(assignment.sources["tests_public"], encoding="utf-8")
        (staging / METADATA_FILE).write_text(assignment.metadata_json(), encoding="utf-8")
        readme = assignment.path / "README.md"
        if readme.is_file():
            text = readme.read_text(encoding="utf-8")
            text = handout_links(text, assignment, staging, install)
            (staging / "README.md").write_text(text, encoding="utf-8")
        names = "".join(f"- {p.name}\n" for p in sorted(staging.iterdir()))
        (staging / MARKER).write_text(
            f"Written by 'tfcourse release {assignment.name}'; --force may replace this folder"
            f" while it holds only these files:\n{names}",
            encoding="utf-8",
        )
        _apply_umask(staging)
        if out.exists():  # checked above: empty, or an earlier release
            out.rename(old)
        staging.rename(out)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if old.exists() and not out.exists():
            old.rename(out)
        raise ReleaseError(
            f"cannot write the release into {str(out)!r} ({exc.strerror or exc}); "
            "free some space or choose a folder you can write to"
        ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if old.exists() and not out.exists():
            old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return out
