"""Repository promises: the README's commands are what CI runs, the code is lint-clean."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from conftest import REPO


def _readme_quick_start() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", text, re.S)
    assert block, "README needs a '## Quick start' section with a bash block"
    lines = [ln.split("#")[0].strip() for ln in block.group(1).splitlines()]
    return [ln for ln in lines if ln and not ln.startswith("export ")]


def test_readme_quick_start_is_two_commands_and_ci_runs_the_test_one():
    commands = _readme_quick_start()
    assert len(commands) == 2, commands
    assert "tfcourse train mlp" in commands[0]
    ci_lines = [
        ln.strip()
        for ln in (REPO / ".ci" / "run").read_text().splitlines()
        if ln.strip() and not ln.lstrip().startswith("#")
    ]
    assert ci_lines[-1] == commands[1], "the last line of .ci/run must be README command 2"


def test_every_notebook_source_has_its_ipynb_and_vice_versa():
    sources = {p.stem for p in (REPO / "notebooks").glob("[0-9][0-9]_*.py")}
    notebooks = {p.stem for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert sources and sources == notebooks


def test_no_module_shadows_the_stdlib_or_a_dependency():
    banned = {"logging", "tensorboard", "tensorflow", "keras", "gymnasium", "json", "random",
              "types", "typing", "copy", "io", "numpy", "test", "signal"}  # fmt: skip
    names = {p.stem for p in (REPO / "tfcourse").rglob("*.py")}
    assert not names & banned


@pytest.mark.skipif(
    shutil.which("ruff") is None, reason="ruff not installed (pip install -e .[dev])"
)
@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]])
def test_ruff_is_clean(command):
    out = subprocess.run(["ruff", *command], cwd=REPO, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout[-3000:]


def test_every_lazy_public_name_resolves():
    import tfcourse

    for name in tfcourse.__all__:
        assert getattr(tfcourse, name) is not None, name


def test_every_package_folder_is_a_regular_package():
    """A folder of modules without __init__.py is left out of wheels (find_packages)."""
    folders = {p.parent for p in (REPO / "tfcourse").rglob("*.py") if "__pycache__" not in str(p)}
    missing = sorted(str(f.relative_to(REPO)) for f in folders if not (f / "__init__.py").is_file())
    assert not missing
