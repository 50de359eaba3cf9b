"""The grader's setup is never the student's fault: grading from a virtual environment in /tmp.

A scratch venv under ``/tmp`` (``python -m venv --system-site-packages`` plus a ``.pth`` naming
this checkout, what ``pip install -e`` of it amounts to) grades reference solutions at full
marks with ``--sandbox bwrap`` (its private ``/tmp`` must not hide the venv) and, as root, with
``--sandbox uid``. Each grading imports TensorFlow in a worker (5-40 s), so each mode grades one
assignment (all of them are graded at full marks by tests/test_assignments.py); a numpy-only
batch grading through the CLI, in the mode ``auto`` picks, checks the class CSV's row.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, subprocess_env, uid_mode_setup

from tfcourse.grading.sandbox import bwrap_works

INI = "[pytest]\naddopts =\n"  # the graded run ignores the project's pytest settings


@pytest.fixture(scope="module")
def venv_python() -> Iterator[Path]:
    """The python of a venv under /tmp that sees this machine's packages and this checkout."""
    holder = Path(tempfile.mkdtemp(prefix="tfcourse-venv-", dir="/tmp"))
    holder.chmod(0o755)  # as `python -m venv /tmp/x` leaves it: others may traverse it
    try:
        root = holder / "venv"
        cmd = [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip"]
        subprocess.run([*cmd, str(root)], check=True, timeout=120)
        python = root / "bin" / "python"
        where = "import sys, sysconfig; print(sys.prefix); print(sysconfig.get_path('purelib'))"
        prefix, purelib = _run(python, "-c", where).stdout.split()
        assert Path(prefix) == root
        (Path(purelib) / "tfcourse-checkout.pth").write_text(f"{REPO}\n")
        found = _run(python, "-c", "import tfcourse; print(tfcourse.__file__)").stdout.strip()
        assert Path(found) == REPO / "tfcourse" / "__init__.py"
        yield python
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def _env(tmp_path: Path) -> dict[str, str]:
    """The child's environment: no PYTHONPATH (the venv's own sys.path), a fresh cache."""
    env = subprocess_env(XDG_CACHE_HOME=str(tmp_path / "cache"))
    env.pop("PYTHONPATH", None)
    return env


def _run(python: Path, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [str(python), *args], env=env, capture_output=True, text=True, check=True, **kwargs
    )


def _grade_reference(python: Path, name: str, mode: str, tmp_path: Path) -> None:
    """Grade ``name``'s reference solution with the venv's pytest, as the README shows."""
    folder = REPO / "assignments" / name
    results, ini = tmp_path / "results.json", tmp_path / "pytest.ini"
    ini.write_text(INI)
    tests = [str(folder / "tests_public.py"), str(folder / "tests_hidden.py")]
    cmd = [str(python), "-m", "pytest", *tests, "--submission", str(folder / "exercises.py")]
    cmd += ["--results", str(results), "--sandbox", mode, "-q", "--tb=no"]
    cmd += ["-p", "no:cacheprovider", "-c", str(ini), "--rootdir", str(tmp_path)]
    done = subprocess.run(
        cmd, cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=900
    )
    report = (done.stdout + done.stderr)[-4000:]
    assert results.is_file(), report
    data = json.loads(results.read_text())
    lost = [
        f"{t['name']}: {t['output'][:300]}" for t in data["tests"] if t["score"] < t["max_score"]
    ]
    assert not lost, "\n".join(lost)
    assert data["score"] == data["max_score"] > 0, report
    assert done.returncode == 0, report


@pytest.mark.skipif(not bwrap_works(), reason="bubblewrap cannot run here (.ci/run installs it)")
def test_bwrap_grades_a_reference_solution_from_a_venv_in_tmp(venv_python, tmp_path):
    _grade_reference(venv_python, "tutorial3_review", "bwrap", tmp_path)


@pytest.mark.skipif(os.geteuid() != 0, reason="uid mode needs root")
def test_uid_mode_grades_a_reference_solution_from_a_venv_in_tmp(venv_python, tmp_path):
    with uid_mode_setup():
        _grade_reference(venv_python, "tutorial1_mlp", "uid", tmp_path)


def test_batch_grading_from_a_venv_in_tmp_gives_full_marks_and_no_error(venv_python, tmp_path):
    if not bwrap_works() and os.geteuid() != 0:
        pytest.skip("neither bubblewrap nor root: only --sandbox none, which is not a setup")
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    shutil.copy(REPO / "tests" / "grading_fixtures" / "toy" / "exercises.py", class_dir / "ada.py")
    grades = tmp_path / "grades.csv"
    cmd = ["-m", "tfcourse.cli", "grade", str(class_dir), "--assignment", "toy"]
    cmd += ["--source", str(REPO / "tests" / "grading_fixtures"), "--csv", str(grades)]
    uid = contextlib.nullcontext() if bwrap_works() else uid_mode_setup()
    with uid:  # auto picks bwrap, else (as root) uid
        done = subprocess.run(
            [str(venv_python), *cmd],
            cwd=tmp_path,
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (row,) = csv.DictReader(grades.open())
    assert (row["submission"], row["total"], row["error"]) == ("ada.py", "6", "")
