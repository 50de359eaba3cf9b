"""The Gradescope package: which file it grades, what setup.sh installs, and a whole run.

The run unzips the built autograder into a simulated ``/autograder`` (``AUTOGRADER_ROOT``) and
runs ``run_autograder`` with this Python (``TFCOURSE_PYTHON``) instead of the virtual
environment ``setup.sh`` would create (that needs the network). ``toy`` is worth 6 points.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from concurrent.futures import wait
from pathlib import Path

import pytest
from conftest import run_autograder

from tfcourse.grading.assignment import load
from tfcourse.grading.autograder import pick_submission
from tfcourse.grading.autograder_zip import build
from tfcourse.grading.results import failing_results

FIXTURES = Path(__file__).parent / "grading_fixtures"
SUBMISSIONS = FIXTURES / "submissions"
SOLUTION = FIXTURES / "toy" / "exercises.py"
TOY = load("toy", FIXTURES)


def _files(folder: Path, *names: str) -> Path:
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("x = 1\n")
    return folder


def test_pick_prefers_the_assignments_own_name(tmp_path):
    sub = _files(tmp_path / "a", "helpers.py", "toy.py")
    assert pick_submission(sub, "toy") == (sub / "toy.py", "")
    both = _files(tmp_path / "b", "toy.py", "toy.ipynb", "aaa.py")
    chosen, note = pick_submission(both, "toy")
    assert chosen == both / "toy.ipynb"
    assert note.startswith("Graded toy.ipynb; toy.py was also submitted and was not graded")
    nested = _files(tmp_path / "c", "repo/toy.py", "repo/deeper/toy.ipynb", "repo/util.py")
    assert pick_submission(nested, "toy")[0] == nested / "repo" / "toy.py"  # shallowest


def test_pick_takes_a_single_file_under_any_name(tmp_path):
    sub = _files(tmp_path / "a", "work.py", ".hidden.py", "__MACOSX/._work.py", "notes.txt")
    assert pick_submission(sub, "toy") == (
        sub / "work.py",
        "Graded work.py (the expected name is toy.ipynb or toy.py).",
    )


def test_pick_refuses_to_guess_and_names_the_expected_file(tmp_path):
    sub = _files(tmp_path / "a", "helpers.py", "work.ipynb")
    chosen, note = pick_submission(sub, "toy")
    assert chosen is None
    assert note == (
        "Your submission has several .py/.ipynb files (helpers.py, work.ipynb) and none is "
        "named toy.ipynb or toy.py; rename the one to grade to toy.ipynb (or toy.py) and "
        "submit again."
    )
    assert pick_submission(_files(tmp_path / "b", "a.txt"), "toy") == (
        None,
        "No .py or .ipynb file was found in your submission; submit toy.ipynb or toy.py.",
    )


def test_failing_results_list_every_test_with_its_max_score():
    results = failing_results(TOY, "why")
    assert results["score"] == 0 and results["max_score"] == 6
    assert [(t["name"], t["score"], t["max_score"], t["output"]) for t in results["tests"]] == [
        (t.title, 0.0, t.points, "why") for t in TOY.tests
    ]
    assert [t["visibility"] for t in results["tests"]].count("after_published") == 2


def test_setup_sh_installs_into_a_venv_with_this_environments_versions(tmp_path):
    zip_path = build("toy", tmp_path / "toy.zip", source=FIXTURES)
    with zipfile.ZipFile(zip_path) as zf:
        setup = zf.read("setup.sh").decode()
        broken = json.loads(zf.read("assignment/broken_results.json"))
    assert "Ubuntu 22.04" in setup
    assert re.search(r'"\$PY" -m venv /opt/tfcourse-venv\n', setup)
    assert re.search(r"apt-get install [^\n]*\bbubblewrap\b", setup)
    pins = dict(re.findall(r'"([a-z-]+)(?:\[[a-z-]+\])?==([^"]+)"', setup))
    tf = "tensorflow" if "tensorflow" in pins else "tensorflow-cpu"
    assert {k: pins[k] for k in (tf, "keras", "gymnasium", "numpy")} == {
        k: importlib.metadata.version(k) for k in (tf, "keras", "gymnasium", "numpy")
    }
    # every pip runs from the venv (a PEP 668 system Python refuses pip install)
    pip_lines = [ln for ln in setup.splitlines() if "pip install" in ln]
    assert pip_lines and all(
        ln.startswith("/opt/tfcourse-venv/bin/python -m pip") for ln in pip_lines
    )
    assert f"WANT={sys.version_info[0]}.{sys.version_info[1]}\n" in setup
    (tmp_path / "setup.sh").write_text(setup)
    subprocess.run(["bash", "-n", str(tmp_path / "setup.sh")], check=True)
    assert broken["score"] == 0 and len(broken["tests"]) == 5


def _autograde(root: Path, files: dict[str, Path | str], python: str = sys.executable) -> dict:
    """Replace ``root/submission`` with ``files`` and run ``run_autograder``."""
    shutil.rmtree(root / "submission", ignore_errors=True)
    (root / "submission").mkdir()
    for name, content in files.items():
        target = root / "submission" / name
        if isinstance(content, Path):
            shutil.copy(content, target)
        else:
            target.write_text(content)
    done = run_autograder(root, python)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text())


@pytest.mark.skipif(os.geteuid() != 0, reason="Gradescope runs the autograder as root")
def test_the_zip_grades_in_a_simulated_autograder_layout(tmp_path, grading_pool):
    zip_path = build("toy", tmp_path / "toy.zip", source=FIXTURES)
    uploads = [
        ({"toy.py": SOLUTION}, sys.executable),
        # helpers.py sorts first, but toy.py is the assignment's file: exceptions.py scores 3
        ({"helpers.py": SOLUTION, "toy.py": SUBMISSIONS / "exceptions.py"}, sys.executable),
        ({"work.py": SUBMISSIONS / "missing_function.py"}, sys.executable),
        ({"helpers.py": SOLUTION, "work.py": SOLUTION}, sys.executable),
        ({"toy.py": SOLUTION}, "/bin/false"),  # no Python at all
    ]
    roots = []  # one simulated /autograder per upload, so they can be graded side by side
    for i in range(len(uploads)):
        roots.append(root := tmp_path / f"autograder{i}")
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(root / "source")
        for script in ("setup.sh", "run_autograder"):
            os.chmod(root / "source" / script, 0o755)
    futures = [
        grading_pool.submit(_autograde, root, *upload)
        for root, upload in zip(roots, uploads, strict=True)
    ]
    wait(futures)  # before asserting: see grading_pool
    solution, helpers, work, two, no_python = (f.result() for f in futures)

    assert solution["score"] == solution["max_score"] == 6
    for folder in ("source", "results"):
        assert stat.S_IMODE((roots[0] / folder).stat().st_mode) == 0o700

    assert helpers["score"] == 3

    assert work["score"] == 4  # add 2, mean_square 2, no scale
    assert work["output"].startswith("Graded work.py (the expected name is toy.ipynb")

    assert two["score"] == 0 and two["max_score"] == 6
    assert [t["max_score"] for t in two["tests"]] == [1, 1, 2, 1, 1]
    assert all("none is named toy.ipynb or toy.py" in t["output"] for t in two["tests"])

    assert no_python["score"] == 0 and len(no_python["tests"]) == 5
    assert "could not start Python" in no_python["output"]
