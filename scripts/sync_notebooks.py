"""Regenerate ``notebooks/NN_*.ipynb`` from their jupytext ``py:percent`` sources.

The ``.py`` file is the source of truth; the ``.ipynb`` is generated from it with no outputs
and with stable cell ids (``cell-000``, ``cell-001``, ...) so that regenerating an unchanged
notebook changes no byte.

Usage::

    python scripts/sync_notebooks.py            # write every notebooks/NN_*.ipynb
    python scripts/sync_notebooks.py --check    # exit 1, listing notebooks that are out of sync

``--check`` compares cell types, sources and tags, and also reports saved outputs (run the
notebook, then forgot to regenerate it before committing).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOURCE_RE = re.compile(r"^\d\d_\w+\.py$")


def sources(folder: Path = NOTEBOOKS) -> list[Path]:
    """The ``NN_name.py`` notebook sources in ``folder``, sorted."""
    return sorted(p for p in folder.glob("*.py") if SOURCE_RE.match(p.name))


def build(source: Path) -> nbformat.NotebookNode:
    """Read a ``py:percent`` source into a notebook without outputs and with stable cell ids."""
    nb = jupytext.read(source, fmt="py:percent")
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:03d}"
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def write(source: Path) -> Path:
    """Write ``source``'s ``.ipynb`` sibling and return its path."""
    target = source.with_suffix(".ipynb")
    jupytext.write(build(source), target, fmt="ipynb")
    return target


def differences(source: Path) -> list[str]:
    """Why ``source``'s ``.ipynb`` is out of sync with it (empty list: in sync)."""
    target = source.with_suffix(".ipynb")
    if not target.exists():
        return [f"{target.name} is missing"]
    expected = build(source).cells
    actual = nbformat.read(target, as_version=4).cells
    problems = []
    if len(expected) != len(actual):
        problems.append(f"{len(actual)} cells in the .ipynb, {len(expected)} in the .py")
    for i, (want, got) in enumerate(zip(expected, actual, strict=False)):
        tags = (want.metadata.get("tags", []), got.metadata.get("tags", []))
        if (want.cell_type, want.source) != (got.cell_type, got.source) or tags[0] != tags[1]:
            first_line = want.source.splitlines()[0] if want.source else ""
            problems.append(f"cell {i} differs (source starts {first_line[:50]!r})")
    if any(c.cell_type == "code" and c.get("outputs") for c in actual):
        problems.append("the .ipynb contains outputs")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, write nothing")
    parser.add_argument("folder", nargs="?", type=Path, default=NOTEBOOKS)
    args = parser.parse_args(argv)
    stale = 0
    for source in sources(args.folder):
        if args.check:
            for problem in differences(source):
                print(f"{source.relative_to(args.folder.parent)}: {problem}")
                stale = 1
        else:
            print(f"wrote {write(source).relative_to(args.folder.parent)}")
    if args.check and stale:
        print("run: python scripts/sync_notebooks.py", file=sys.stderr)
    return stale


if __name__ == "__main__":
    sys.exit(main())
