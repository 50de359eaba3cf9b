"""A released notebook runs on a fresh kernel that lacks tfcourse: its first cell installs it.

An offline stand-in for a fresh Colab runtime: a virtual environment without tfcourse whose
``sys.path`` still reaches this machine's other packages (TensorFlow, ipykernel, pip...) through
a ``.pth`` line naming a folder of symlinks to them (tfcourse's own entries left out, so
neither ``import tfcourse`` nor pip's view of installed packages sees the editable install).
The notebook's setup cell then pip-installs a wheel built here, with ``PIP_NO_INDEX=1``: every
dependency is already importable, so pip needs no network, exactly as on Colab, where
TensorFlow & co. are preinstalled.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import nbformat
import pytest

from tfcourse.grading.release import release

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
KERNEL = "tfcourse-fresh-venv"


def test_the_install_part_does_nothing_where_tfcourse_is_importable(monkeypatch):
    import subprocess as real

    from tfcourse.notebook_setup import install_cell

    calls = []
    monkeypatch.setattr(real, "run", lambda *a, **k: calls.append(a))
    exec(install_cell("/no/such.whl"), {})
    assert calls == []
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)  # as on a fresh kernel
    exec(install_cell("/no/such.whl"), {})
    assert calls == [([sys.executable, "-m", "pip", "install", "-q", "/no/such.whl"],)]
    monkeypatch.setenv("TFCOURSE_INSTALL", "/mine.whl")  # the variable overrides the cell
    exec(install_cell("/no/such.whl"), {})
    assert calls[-1][0][-1] == "/mine.whl"


def test_setup_says_where_the_data_comes_from(tmp_path, monkeypatch, capsys):
    from tfcourse.notebook_setup import setup_notebook

    monkeypatch.setenv("TFCOURSE_DATA", str(tmp_path))
    setup_notebook()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("tfcourse 0.") and lines[0].endswith("tfcourse")
    assert lines[1] == f"data: from TFCOURSE_DATA={tmp_path}"
    monkeypatch.setenv("TFCOURSE_DATA", str(tmp_path / "nope"))
    setup_notebook()
    assert f"TFCOURSE_DATA={tmp_path / 'nope'} is not a folder" in capsys.readouterr().out
    monkeypatch.delenv("TFCOURSE_DATA")
    setup_notebook()
    assert "downloaded there on first use (needs the internet)" in capsys.readouterr().out


def _hidden(name: str) -> bool:
    """Entries of site-packages that make up the editable tfcourse install."""
    return name.startswith("tfcourse") or (name.startswith("__editable__") and "tfcourse" in name)


def _build_wheel(tmp_path: Path, env: dict[str, str]) -> Path:
    """``pip wheel`` from a copy of the sources, so no build/ folder lands in the checkout."""
    src = tmp_path / "src"
    shutil.copytree(
        REPO / "tfcourse", src / "tfcourse", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    done = subprocess.run(
        [*cmd, "-w", str(tmp_path / "wheels"), str(src)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = (tmp_path / "wheels").glob("tfcourse-*.whl")
    return wheel


def _fresh_venv(tmp_path: Path) -> tuple[Path, Path]:
    """A venv without tfcourse that sees the system's other packages; (python, site-packages)."""
    root = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
    python = root / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    shadow = tmp_path / "system-packages"
    shadow.mkdir()
    folders = [*site.getsitepackages(), site.getusersitepackages()]
    for folder in filter(os.path.isdir, folders):
        for entry in Path(folder).iterdir():
            if not _hidden(entry.name) and not (shadow / entry.name).exists():
                (shadow / entry.name).symlink_to(entry)
    (purelib / "system-packages.pth").write_text(f"{shadow}\n")
    return python, purelib


@pytest.mark.notebook
def test_a_lone_released_notebook_installs_tfcourse_from_a_wheel_in_a_fresh_venv(
    tmp_path, monkeypatch
):
    from nbclient import NotebookClient

    try:
        import setuptools  # noqa: F401  (pip wheel --no-build-isolation builds with it)
    except ImportError:
        pytest.skip("setuptools is not installed: pip cannot build the wheel offline")
    monkeypatch.delenv("PYTHONPATH", raising=False)  # the checkout must stay invisible
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # offline: fail rather than reach for the network
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.delenv("TFCOURSE_INSTALL", raising=False)  # what release wrote must be used
    if SHARED_DATA.is_dir():
        monkeypatch.setenv("TFCOURSE_DATA", str(SHARED_DATA))
    env = dict(os.environ)

    wheel = _build_wheel(tmp_path, env)
    python, purelib = _fresh_venv(tmp_path)
    missing = subprocess.run(
        [str(python), "-c", "import tfcourse"],
        cwd=tmp_path,  # not the checkout: python -c puts the current folder on sys.path
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 1
    assert "No module named 'tfcourse'" in missing.stderr
    kernel_ok = subprocess.run(
        [str(python), "-c", "import ipykernel"], cwd=tmp_path, env=env, check=False
    )
    assert kernel_ok.returncode == 0, "the venv must reach ipykernel through the .pth line"

    out = release(
        "tutorial1_mlp", tmp_path / "handout", source=REPO / "assignments", install=str(wheel)
    )
    colab = tmp_path / "colab"  # the notebook alone, as uploaded to Colab
    colab.mkdir()
    shutil.copy(out / "tutorial1_mlp.ipynb", colab)
    nb = nbformat.read(colab / "tutorial1_mlp.ipynb", as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import tfcourse\n"
            "from tfcourse.notebook_setup import setup_notebook\n\n"
            "setup_notebook()\n"
            "(x_train, _), _ = tfcourse.load_mnist(download=False)\n"
            "print('mnist', x_train.shape)"
        )
    )

    kernels = tmp_path / "jupyter" / "kernels" / KERNEL
    kernels.mkdir(parents=True)
    spec = {
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "fresh venv without tfcourse",
        "language": "python",
    }
    (kernels / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    client = NotebookClient(
        nb, timeout=300, kernel_name=KERNEL, resources={"metadata": {"path": str(colab)}}
    )
    client.execute()

    record = json.loads(next(purelib.glob("tfcourse-*.dist-info/direct_url.json")).read_text())
    assert record["url"] == wheel.as_uri()  # installed into the venv, from the wheel
    assert (purelib / "tfcourse" / "notebook_setup.py").is_file()
    code = [c for c in nb.cells if c.cell_type == "code"]
    texts = {c.source: "".join(o.get("text", "") for o in c.outputs) for c in code}
    last = texts[nb.cells[-1].source]
    assert f"from {purelib / 'tfcourse'}\n" in last
    if SHARED_DATA.is_dir():
        assert f"data: from TFCOURSE_DATA={SHARED_DATA}\n" in last
    assert "mnist (60000, 28, 28)" in last

    checks = [c for c in code if c.source.startswith("check(")]
    assert len(checks) == 9
    first = texts[checks[0].source]
    assert first.startswith("(wrote tests_public.py from the copy embedded in this notebook)\n")
    assert (colab / "tests_public.py").read_text() == (out / "tests_public.py").read_text()
    for cell in checks:
        name = cell.source[len('check("') : -2]
        assert f"{name}: 0/" in texts[cell.source], texts[cell.source]
        assert "not implemented yet" in texts[cell.source]
        assert {o.output_type for o in cell.outputs} == {"stream"}  # no stray True/False
