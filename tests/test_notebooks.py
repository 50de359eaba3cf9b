"""Every notebook is in sync with its jupytext source and runs top to bottom in FAST mode.

The kernel uses Jupyter's own inline matplotlib backend, as a student's does (under
``MPLBACKEND=Agg`` a ``plt.show()`` draws nothing), and every cell tagged ``figure`` in the
``py:percent`` source (``# %% tags=["figure"]``) must show its images.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
FIGURE_CALL = re.compile(r"\bplt\.show\(|\bdisplay\(Image\(")  # each shows one image
# a C++/absl log line (I0000 00:00:... service.cc:153] XLA service ...), TF's Python logger
LOG_LINE = re.compile(r"^[IWEF]\d{4} |absl::InitializeLog|INFO:tensorflow")


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


# executes one notebook in its own process (nbclient), so that two can run side by side
RUNNER = """
import sys
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

source, out, folder = sys.argv[1:4]
nb = nbformat.read(source, as_version=4)
error = ""
try:
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": folder}}).execute()
except CellExecutionError as exc:
    error = str(exc)
nbformat.write(nb, out)
open(out + ".error", "w").write(error)
"""


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict[str, Path]:
    """Every notebook executed in FAST mode, two at a time: ``stem -> executed .ipynb``.

    Each runs in its own empty folder (so ``runs/`` lands there) with the environment a
    student's kernel has: TFCOURSE_FAST=1, no TF_CPP_MIN_LOG_LEVEL and no MPLBACKEND (Jupyter's
    inline backend), the checkout importable without installing, the course data offline.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    if "python3" not in KernelSpecManager().find_kernel_specs():
        pytest.fail("no 'python3' Jupyter kernel: run  python -m ipykernel install --user")
    unset = ("TF_CPP_MIN_LOG_LEVEL", "MPLBACKEND", "TFCOURSE_VERBOSE")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env["TFCOURSE_FAST"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    if SHARED_DATA.is_dir():
        env["TFCOURSE_DATA"] = str(SHARED_DATA)
    root = tmp_path_factory.mktemp("notebooks")

    def run(source: Path) -> Path:
        folder = root / source.stem
        folder.mkdir()
        out = root / f"{source.stem}.executed.ipynb"
        args = [sys.executable, "-c", RUNNER, str(source.with_suffix(".ipynb")), str(out)]
        subprocess.run([*args, str(folder)], env=env, cwd=folder, check=True, timeout=900)
        return out

    with ThreadPoolExecutor(max_workers=2) as pool:  # the longest first
        order = sorted(PAIRS, key=lambda p: p.stem not in ("05_scaling", "02_mnist_mlp"))
        futures = {p.stem: pool.submit(run, p) for p in order}
        return {stem: f.result() for stem, f in futures.items()}


def test_notebook_executes_in_fast_mode(source, executed):
    out = executed[source.stem]
    error = Path(f"{out}.error").read_text()
    if error:
        pytest.fail(f"{source.name} failed:\n{ANSI.sub('', error)}", pytrace=False)
    nb = nbformat.read(out, as_version=4)
    from tfcourse.settings import STARTUP_NOISE

    noise = [
        line
        for cell in nb.cells
        for out in cell.get("outputs", [])
        for line in out.get("text", "").splitlines()
        if STARTUP_NOISE.search(line) or LOG_LINE.search(line)
    ]
    assert not noise, f"TensorFlow log lines in {source.name}: {noise[:3]}"

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
