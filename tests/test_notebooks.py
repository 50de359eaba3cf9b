"""Every notebook is in sync with its jupytext source and runs top to bottom in FAST mode."""

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


def test_notebook_executes_in_fast_mode(source, tmp_path, monkeypatch):
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    if "python3" not in KernelSpecManager().find_kernel_specs():
        pytest.fail("no 'python3' Jupyter kernel: run  python -m ipykernel install --user")

    # the kernel inherits this environment when it starts
    monkeypatch.setenv("TFCOURSE_FAST", "1")
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)  # as a student's kernel starts
    monkeypatch.setenv("MPLBACKEND", "Agg")
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
