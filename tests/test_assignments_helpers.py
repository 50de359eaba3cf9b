"""Each assignment's test helpers live in one place: ``tests_public.py``, which the hidden tests
import from.

The public file is handed out alone (``tfcourse release``, the copy embedded in the notebook),
so it imports nothing from ``tests_hidden.py``; the hidden file sits beside it wherever it runs
(pytest's default ``prepend`` import mode puts that folder on ``sys.path``) and imports helpers
only: a ``test_*`` function imported there would be collected and graded twice. The real
assignments grade through ``tfcourse grade`` in test_assignments.py; here a toy copy whose
hidden tests import their probe from the public file grades in the Gradescope zip's layout and
through plain ``pytest`` with this project's settings, hidden file alone or with the public one.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import wait
from pathlib import Path

import pytest

from tfcourse.grading.assignment import available
from tfcourse.grading.autograder import run
from tfcourse.grading.autograder_zip import build

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = REPO / "assignments"
FIXTURES = Path(__file__).parent / "grading_fixtures"
SOLUTION = (FIXTURES / "toy" / "exercises.py").read_text()
MUTATES = SOLUTION + "\n\ndef scale(x, factor):\n    x *= factor\n    return x\n"


def _top_level_names(tree: ast.Module) -> set[str]:
    """Names a module defines at top level: functions, classes and assigned names."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _imported_modules(tree: ast.Module) -> set[str]:
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("name", available(ASSIGNMENTS))
def test_hidden_tests_import_their_shared_helpers_from_the_public_file(name):
    folder = ASSIGNMENTS / name
    public = ast.parse((folder / "tests_public.py").read_text(encoding="utf-8"))
    hidden = ast.parse((folder / "tests_hidden.py").read_text(encoding="utf-8"))
    assert not {m for m in _imported_modules(public) if m.startswith("tests_hidden")}, (
        "tests_public.py is handed out alone: it must not import tests_hidden"
    )
    imported = [
        alias.name
        for node in hidden.body
        if isinstance(node, ast.ImportFrom) and node.module == "tests_public"
        for alias in node.names
    ]
    assert imported, "tests_hidden.py should import its shared helpers from tests_public"
    assert not [n for n in imported if n == "*" or n.startswith("test")], imported
    public_names, hidden_names = _top_level_names(public), _top_level_names(hidden)
    assert set(imported) <= public_names, set(imported) - public_names
    helpers = {n for n in public_names & hidden_names if not n.startswith("test_")}
    assert not helpers, f"defined in both test files (keep one, in tests_public.py): {helpers}"


def _toy_sharing_its_probe(source: Path) -> Path:
    """A copy of the toy assignment whose hidden tests import ``_scale_twice`` from the public
    file (the probe moves there), in ``source/toy``."""
    toy = shutil.copytree(FIXTURES / "toy", source / "toy")
    hidden = (toy / "tests_hidden.py").read_text()
    start = hidden.index("def _scale_twice(")
    end = hidden.index("@points", start)
    points_import = "from tfcourse.grading.points import points\n"
    assert hidden.count(points_import) == 1
    shared = hidden[:start].replace(
        points_import, f"from tests_public import _scale_twice\n\n{points_import}"
    )
    (toy / "tests_hidden.py").write_text(shared + hidden[end:])
    public = (toy / "tests_public.py").read_text()
    (toy / "tests_public.py").write_text(f"{public}\n\n{hidden[start:end]}")
    return toy


def _in_zip_layout(zip_path: Path, root: Path, submission: str) -> dict:
    """Grade ``submission`` (as toy.py) from the zip unpacked as Gradescope does."""
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir()
    (root / "submission" / "toy.py").write_text(submission)
    return run(root)


def _plain_pytest(toy: Path, files: list[str], submission: Path) -> subprocess.CompletedProcess:
    """``pytest <files> --submission ...`` from the checkout (its pytest settings apply)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        *(str(toy / f) for f in files),
        "--submission",
        str(submission),
        "-p",
        "no:cacheprovider",
    ]
    return subprocess.run(
        cmd, cwd=REPO, capture_output=True, text=True, timeout=300, check=False, env=env
    )


def test_hidden_tests_using_a_public_probe_grade_in_every_layout(tmp_path, grading_pool):
    toy = _toy_sharing_its_probe(tmp_path / "src")
    assert "def _scale_twice(" not in (toy / "tests_hidden.py").read_text()
    zip_path = build("toy", tmp_path / "toy.zip", source=tmp_path / "src")
    with zipfile.ZipFile(zip_path) as zf:
        assert "def _scale_twice(" in zf.read("assignment/tests_public.py").decode()
    mutating = tmp_path / "mutating.py"
    mutating.write_text(MUTATES)
    jobs = {
        "zip": (_in_zip_layout, zip_path, tmp_path / "ag1", SOLUTION),
        "zip_mutating": (_in_zip_layout, zip_path, tmp_path / "ag2", MUTATES),
        "both": (_plain_pytest, toy, ["tests_public.py", "tests_hidden.py"], mutating),
        "hidden_alone": (_plain_pytest, toy, ["tests_hidden.py"], mutating),
    }
    futures = {key: grading_pool.submit(*job) for key, job in jobs.items()}
    wait(futures.values())  # before asserting: see grading_pool
    done = {key: f.result() for key, f in futures.items()}

    assert done["zip"]["score"] == done["zip"]["max_score"] == 6
    failed = {t["name"]: t["output"] for t in done["zip_mutating"]["tests"] if t["score"] == 0}
    assert failed == {
        "scale: test_scale_does_not_modify_input (tests_hidden)": "scale must not modify its input"
    }
    for key, passed in [("both", 4), ("hidden_alone", 1)]:
        out = done[key].stdout
        assert done[key].returncode == 1, out[-3000:]  # the one failing test
        assert f"1 failed, {passed} passed" in out, out[-3000:]
        assert "scale must not modify its input" in out
