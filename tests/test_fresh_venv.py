"""A released notebook runs on a fresh kernel that lacks tfcourse: its first cell installs it.

An offline stand-in for a fresh venv, JupyterHub image or Colab runtime: a virtual environment
without system site-packages (pip from ``ensurepip``) that reaches, through a ``.pth`` line
naming a folder of symlinks, exactly the distributions that pip would install with the wheel
(the closure of its ``Requires-Dist``, markers and extras evaluated) plus the Jupyter kernel's
(ipykernel and its closure), all taken from this machine's environment. Nothing else: a
runtime dependency missing from ``pyproject.toml`` (pytest, which grading and ``check()``
run) fails the notebook here as it would for a student. The notebook's setup cell then
pip-installs a wheel built here, with ``PIP_NO_INDEX=1``: every dependency is already
importable, so pip needs no network.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path, PurePath

import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tfcourse.grading.release import release

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
KERNEL = "tfcourse-fresh-venv"
JUPYTER_KERNEL = "ipykernel"  # what the notebook runner needs; not a tfcourse dependency


def test_the_install_part_does_nothing_where_tfcourse_is_importable(monkeypatch):
    import subprocess as real

    from tfcourse.notebook_setup import install_cell

    calls = []
    monkeypatch.setattr(real, "run", lambda *a, **k: calls.append(a))
    exec(install_cell("/no/such.whl"), {})
    assert calls == []

    def not_installed(name):  # as on a fresh kernel
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr("importlib.metadata.distribution", not_installed)
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


def _wheel_requirements(wheel: Path) -> list[str]:
    """The ``Requires-Dist`` lines of a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        meta = Parser().parsestr(archive.read(name).decode("utf-8"))
    return meta.get_all("Requires-Dist") or []


def _closure(requirements: list[str]) -> dict[str, metadata.Distribution]:
    """The installed distributions that ``requirements`` need, recursively, by canonical name.

    Markers are evaluated for this interpreter, with ``extra`` set to each extra requested of
    the distribution that declares them (``gymnasium[classic-control]`` pulls in pygame).
    """
    found: dict[str, metadata.Distribution] = {}
    extras_done: dict[str, set[str]] = {}
    todo = [(Requirement(line), {""}) for line in requirements]
    while todo:
        req, context = todo.pop()
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in context):
            continue
        name = canonicalize_name(req.name)
        extras = {"", *req.extras} - extras_done.get(name, set())
        if not extras:
            continue
        try:
            dist = found.get(name) or metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            pytest.fail(f"{req} is required but not installed here: pip install it first")
        found[name] = dist
        extras_done.setdefault(name, set()).update(extras)
        todo += [(Requirement(line), extras) for line in dist.requires or []]
    return found


def _top_level(dist: metadata.Distribution) -> set[str]:
    """The entries of site-packages a distribution's RECORD lists (not scripts in bin/)."""
    assert dist.files is not None, f"{dist.metadata['Name']} has no RECORD: cannot link it"
    return {f.parts[0] for f in dist.files if f.parts[0] != ".."}


def _link_distributions(dists: dict[str, metadata.Distribution], shadow: Path) -> None:
    """Symlink exactly ``dists``'s files into ``shadow``, as if pip had installed only them.

    An entry of site-packages that no other installed distribution shares (``tensorflow/``,
    ``numpy.libs/``, a ``.dist-info``) is linked whole; a shared one (the ``google``
    namespace, ``__pycache__``) is rebuilt as real folders holding links to ``dists``'s
    files only, so a namespace package shows none of the distributions left out.
    """
    owners: dict[str, set[str]] = {}
    for dist in metadata.distributions():
        for top in _top_level(dist) if dist.files is not None else ():
            owners.setdefault(top, set()).add(canonicalize_name(dist.metadata["Name"]))
    for dist in dists.values():
        for file in dist.files or ():
            top = file.parts[0]
            if top == "..":
                continue
            whole = owners[top] <= dists.keys()
            target = Path(dist.locate_file(top if whole else file))
            link = shadow / (top if whole else PurePath(file))
            if link.is_symlink() or not target.exists():
                continue
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(target)


def _fresh_venv(tmp_path: Path, wheel: Path) -> tuple[Path, Path]:
    """A venv that sees only ``wheel``'s dependencies and the kernel's; (python, site-packages)."""
    root = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, symlinks=True).create(root)  # pip: ensurepip, offline
    python = root / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    dists = _closure([*_wheel_requirements(wheel), JUPYTER_KERNEL])
    dists.pop("pip", None)  # the venv's own pip stays the one pip sees
    shadow = tmp_path / "dependencies"
    shadow.mkdir()
    _link_distributions(dists, shadow)
    # addsitedir, not a bare path: the folder's own .pth files run as in a real site-packages
    (purelib / "dependencies.pth").write_text(f"import site; site.addsitedir({str(shadow)!r})\n")
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
    python, purelib = _fresh_venv(tmp_path, wheel)
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
    leak = subprocess.run(  # installed here (".[dev]"), needed by neither tfcourse nor the kernel
        [str(python), "-c", "import jupytext"], cwd=tmp_path, env=env, capture_output=True
    )
    assert leak.returncode == 1, "the venv must see only the wheel's and the kernel's closure"

    out = release(
        "tutorial1_mlp", tmp_path / "handout", source=REPO / "assignments", install=str(wheel)
    )
    colab = tmp_path / "colab"  # the notebook alone, as uploaded to Colab
    colab.mkdir()
    shutil.copy(out / "tutorial1_mlp.ipynb", colab)
    nb = nbformat.read(colab / "tutorial1_mlp.ipynb", as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "from tfcourse.data.loaders import load_mnist\n"
            "from tfcourse.notebook_setup import setup_notebook\n\n"
            "setup_notebook()\n"
            "(x_train, _), _ = load_mnist(download=False)\n"
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
