"""Every notebook is in sync with its jupytext source and runs top to bottom in FAST mode.

The kernel uses Jupyter's own inline matplotlib backend, as a student's does (under
``MPLBACKEND=Agg`` a ``plt.show()`` draws nothing), and every cell tagged ``figure`` in the
``py:percent`` source (``# %% tags=["figure"]``) must show its images.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
FIGURE_CALL = re.compile(r"\bplt\.show\(|\bdisplay\(Image\(")  # each shows one image


def _load_sync():
    """Import scripts/sync_notebooks.py (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "sync_notebooks", REPO / "scripts" / "sync_notebooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sync = _load_sync()
PAIRS = [p for p in sync.sources(REPO / "notebooks") if p.with_suffix(".ipynb").exists()]

pytestmark = [
    pytest.mark.notebook,
    pytest.mark.parametrize("source", PAIRS, ids=[p.stem for p in PAIRS]),
]


def test_ipynb_matches_py_source(source):
    problems = sync.differences(source)
    assert not problems, f"{source.name}: {problems}; run python scripts/sync_notebooks.py"


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _is_figure(cell) -> bool:
    return "figure" in cell.get("metadata", {}).get("tags", [])


def test_first_code_cell_installs_tfcourse_where_missing(source):
    from tfcourse.notebook_setup import TUTORIAL_SETUP, install_cell

    first = _code_cells(sync.build(source))[0].source
    assert first == install_cell(then=TUTORIAL_SETUP), (
        f"the first code cell of {source.name} must be, word for word:\n"
        + install_cell(then=TUTORIAL_SETUP)
    )


def test_cells_that_show_figures_are_tagged(source):
    for cell in _code_cells(sync.build(source)):
        shows = bool(FIGURE_CALL.search(cell.source))
        problem = "shows a figure but is not tagged" if shows else "is tagged but shows no figure"
        assert shows == _is_figure(cell), (
            f"{source.name}: the cell starting {cell.source[:50]!r} {problem}; tag exactly the "
            'cells that call plt.show() or display(Image(...)) with # %% tags=["figure"]'
        )


def test_notebook_executes_in_fast_mode(source, tmp_path, monkeypatch):
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    if "python3" not in KernelSpecManager().find_kernel_specs():
        pytest.fail("no 'python3' Jupyter kernel: run  python -m ipykernel install --user")

    # the kernel inherits this environment when it starts
    monkeypatch.setenv("TFCOURSE_FAST", "1")
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)  # as a student's kernel starts
    monkeypatch.delenv("MPLBACKEND", raising=False)  # Jupyter's inline backend, as students get
    if SHARED_DATA.is_dir():
        monkeypatch.setenv("TFCOURSE_DATA", str(SHARED_DATA))
    # cwd is tmp_path (so runs/ lands there): make the checkout importable without installing
    path = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(REPO), path) if p))

    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{source.name} failed:\n{ANSI.sub('', str(exc))}", pytrace=False)
    from tfcourse.settings import STARTUP_NOISE

    noise = [
        line
        for cell in nb.cells
        for out in cell.get("outputs", [])
        for line in out.get("text", "").splitlines()
        if STARTUP_NOISE.search(line)
    ]
    assert not noise, f"TensorFlow start-up lines in {source.name}: {noise[:3]}"

    empty = [
        cell.source.splitlines()[0]
        for cell in _code_cells(nb)
        if _is_figure(cell)
        and sum(any(k.startswith("image/") for k in o.get("data", {})) for o in cell.outputs)
        < len(FIGURE_CALL.findall(cell.source))
    ]
    assert not empty, f"figure cells of {source.name} that showed too few images: {empty}"
    results = [
        (cell.source.splitlines()[-1], out["data"]["text/plain"])
        for cell in _code_cells(nb)
        for out in cell.outputs
        if out.output_type == "execute_result" and "text/plain" in out.get("data", {})
    ]
    stray = [r for r in results if r[1] in ("True", "False")]
    assert not stray, f"cells of {source.name} that show a bare True/False: {stray}"
