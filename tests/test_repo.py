"""Repository promises: the README's commands are what CI runs, the code is lint-clean, the
package's layout shows its plan."""

from __future__ import annotations

import ast
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
    banned = {"tensorflow", "tensorboard", "keras", "gymnasium", "numpy", "test"}
    banned |= set("logging json random types typing copy io signal".split())  # stdlib
    names = {p.stem for p in (REPO / "tfcourse").rglob("*.py")}
    assert not names & banned


@pytest.mark.skipif(
    shutil.which("ruff") is None, reason="ruff not installed (pip install -e .[dev])"
)
@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]])
def test_ruff_is_clean(command):
    out = subprocess.run(["ruff", *command], cwd=REPO, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout[-3000:]


PACKAGE = REPO / "tfcourse"


def _modules() -> dict[str, ast.Module]:
    """Every tfcourse module by dotted name (a package by its own name), parsed."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = ast.parse(
            path.read_text(encoding="utf-8")
        )
    return found


def _defined(tree: ast.Module) -> set[str]:
    """The names a module binds at its top level other than by importing them."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def test_the_package_shows_its_plan():
    """A folder per tutorial and per wing; at the root only what they all share."""
    root_modules = sorted(p.stem for p in PACKAGE.glob("*.py"))
    packages = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    assert len(root_modules) <= 10, root_modules
    assert {"mlp", "rl", "review", "data", "run", "scale", "grading"} <= set(packages)
    for name in packages:
        face = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text()))
        assert face and len(face.splitlines()) >= 3, f"tfcourse/{name}/__init__.py needs a map"


def test_faces_import_nothing_and_no_module_has_a_getattr_shim():
    """``tfcourse train <what> --help`` imports config modules inside the tutorial folders, so
    no ``__init__`` may import anything heavy; names are imported from where they are defined."""
    for name, tree in _modules().items():
        is_face = not (REPO / f"{name.replace('.', '/')}.py").is_file()
        imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
        if is_face:
            assert not imports, f"{name}/__init__.py imports {ast.unparse(imports[0])}"
        assert "__getattr__" not in _defined(tree), name


def test_every_tfcourse_import_names_the_home_of_the_name():
    """One home per name: ``from tfcourse.x import n`` only where ``x`` defines ``n``."""
    modules = _modules()
    defined = {name: _defined(tree) for name, tree in modules.items()}
    files = [
        *PACKAGE.rglob("*.py"),
        *(REPO / "tests").rglob("*.py"),
        *(REPO / "scripts").glob("*.py"),
        *(REPO / "notebooks").glob("*.py"),
        *(REPO / "assignments").rglob("*.py"),
    ]
    wrong = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith(
                "tfcourse"
            ):
                continue
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in modules or alias.name in defined.get(node.module, set()):
                    continue
                wrong.append(f"{path.relative_to(REPO)}:{node.lineno} {full}")
    assert wrong == KNOWN_RE_EXPORTS


# grading/runner.py hands on results.format_report (issue 23: import it from results instead)
KNOWN_RE_EXPORTS = ["tests/test_grading.py:25 tfcourse.grading.runner.format_report"]


def test_every_package_folder_is_a_regular_package():
    """A folder of modules without __init__.py is left out of wheels (find_packages)."""
    folders = {p.parent for p in (REPO / "tfcourse").rglob("*.py") if "__pycache__" not in str(p)}
    missing = sorted(str(f.relative_to(REPO)) for f in folders if not (f / "__init__.py").is_file())
    assert not missing
