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
import sys
import tempfile
from pathlib import Path

import nbformat

from tfcourse.grading.assignment import METADATA_FILE, Assignment, load
from tfcourse.grading.errors import AssignmentError, GradingError
from tfcourse.grading.handout import PUBLIC_TESTS, handout_links, student_notebook
from tfcourse.grading.markers import solution_blocks, strip_solutions
from tfcourse.notebook_setup import REPOSITORY_INSTALL

MARKER = ".tfcourse-release"  # written into every released folder; --force replaces only these
VCS_URL = re.compile(r"^(git|hg|svn|bzr)\+", re.IGNORECASE)  # pip installs a repository's tree
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
                f"{shown!r} exists and is not empty; choose a new folder or pass force=True"
            ).for_cli(f"{shown!r} exists and is not empty; choose a new folder or pass --force")
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
    """``exercises.py`` without solutions and known mistakes (checked: none left)."""
    path = assignment.path / "exercises.py"
    if not path.is_file():
        raise AssignmentError(f"{path} is missing; release needs the instructor source")
    text = path.read_text(encoding="utf-8")
    blocks = solution_blocks(text, path)
    if not blocks:
        raise AssignmentError(f"{path} has no '# BEGIN SOLUTION' blocks; nothing to release")
    code = strip_solutions(text, path)
    for node in ast.parse(code).body:
        for dec in getattr(node, "decorator_list", []):
            func = dec.func if isinstance(dec, ast.Call) else dec
            if isinstance(func, ast.Name) and func.id in ("mistake", "alternative"):
                raise AssignmentError(
                    f"{path}: @{func.id} {node.name!r} lies outside a '# BEGIN MISTAKES' block "
                    "and would reach students; put it between '# BEGIN MISTAKES' and "
                    "'# END MISTAKES'"
                )
    return code


def install_warning(install: str) -> str | None:
    """Two lines for stderr when students would install from a repository, which (the course
    repository certainly) also holds the solutions and hidden tests; else None."""
    if install == REPOSITORY_INSTALL:
        place = "the course repository, which also holds"
    elif VCS_URL.match(install):
        place = f"{install}, a repository that may also hold"
    else:
        return None
    return (
        f"tfcourse: warning: the handout installs tfcourse from {place}\n"
        "  the solutions (exercises.py) and hidden tests; pin a wheel: --install URL_OF_WHEEL"
    )


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
            else the course repository. A repository gets a warning on stderr
            (:func:`install_warning`): students could read the solutions there.

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
    notebook = student_notebook(code, assignment, assignment.sources["tests_public"], install)
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
    warning = install_warning(install)
    if warning:
        print(warning, file=sys.stderr)
    return out
