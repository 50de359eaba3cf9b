"""Gradescope: build the autograder zip, and grade one submission inside it.

The zip holds (Gradescope unpacks it to ``/autograder/source``)::

    setup.sh            installs Python, bubblewrap and a virtual environment /opt/tfcourse-venv
                        with this tfcourse and the TensorFlow, Keras, gymnasium, numpy and pytest
                        versions of the environment that built the zip
    run_autograder      locks the source and results folders (chmod 700), then runs
                        ``python -m tfcourse.grading.autograder run``
    assignment/         assignment.json, tests_public.py, tests_hidden.py (no solutions) and
                        broken_results.json (every test at 0, used if Python cannot even start)
    tfcourse_src/       this tfcourse version: pyproject.toml and the package

Target: Gradescope's **Ubuntu 22.04** base image (choose it in the autograder settings). Its
``python3`` is 3.10; when the building Python has another minor version, ``setup.sh`` installs
that one from Ubuntu (``python3.11`` is in 22.04's universe) or the deadsnakes PPA, so the pinned
wheels exist. The virtual environment keeps pip away from the system Python (PEP 668).

Which file is graded (:func:`pick_submission`): ``<name>.ipynb`` or ``<name>.py``, ``<name>``
being the assignment's name (``toy``, ``tutorial1_mlp``); when a student uploads both, the
notebook is graded (the handout says "Submit this notebook") and the output says the ``.py`` was
not. Otherwise a single ``.py`` / ``.ipynb`` under any name is graded. Anything else fails every
test with a message naming the expected file. ``AUTOGRADER_ROOT`` (default ``/autograder``) and
``TFCOURSE_PYTHON`` (default ``/opt/tfcourse-venv/bin/python``, else ``python3``) let
``run_autograder`` be tried outside Gradescope.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from tfcourse.grading.assignment import METADATA_FILE, Assignment, load
from tfcourse.grading.errors import GradingError

VENV = "/opt/tfcourse-venv"
BROKEN_RESULTS = "broken_results.json"
PINNED = ("tensorflow", "keras", "gymnasium", "numpy", "pytest")
SKIPPED_DIRS = {"__pycache__", "__MACOSX", ".ipynb_checkpoints"}

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (base image: Ubuntu 22.04).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
WANT={python}
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip bubblewrap > /dev/null
has_python() {{ command -v "$1" > /dev/null && "$1" -c \\
  "import sys; sys.exit(f'{{sys.version_info[0]}}.{{sys.version_info[1]}}' != '$WANT')"; }}
PY=python3
if ! has_python "$PY"; then
  PY="python$WANT"
  if ! apt-get install -y -qq "$PY" "$PY-venv" > /dev/null 2>&1; then
    apt-get install -y -qq software-properties-common > /dev/null
    add-apt-repository -y ppa:deadsnakes/ppa && apt-get update -qq
    apt-get install -y -qq "$PY" "$PY-venv" > /dev/null
  fi
fi
"$PY" -m venv {venv}
{venv}/bin/python -m pip install --quiet --upgrade pip
# the versions of the environment that built this zip, so grading matches the instructor's runs
{venv}/bin/python -m pip install --quiet {pins} /autograder/source/tfcourse_src
{venv}/bin/python -c "import tensorflow, keras, gymnasium, tfcourse.grading.plugin"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it must always leave results/results.json.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PY="${{TFCOURSE_PYTHON:-{venv}/bin/python}}"
if [ -z "${{TFCOURSE_PYTHON:-}}" ] && [ ! -x "$PY" ]; then PY=python3; fi
mkdir -p "$ROOT/results"
rm -f "$ROOT/results/results.json"
# root-only: a worker that drops to uid nobody can read neither the tests nor the results
chmod 700 "$ROOT/source" "$ROOT/results"
cd "$ROOT/source"
"$PY" -m tfcourse.grading.autograder run --root "$ROOT" --timeout {timeout}
if [ ! -s "$ROOT/results/results.json" ]; then
  cp "$ROOT/source/assignment/{broken}" "$ROOT/results/results.json"
fi
exit 0
"""


# ---------------------------------------------------------------------------- build
def pinned_requirements() -> list[str]:
    """``name==version`` for TensorFlow (or tensorflow-cpu), Keras, gymnasium, numpy, pytest.

    Raises:
        GradingError: one of them is not installed here (it must be, to pin it).
    """
    pins = []
    for name in PINNED:
        candidates = ("tensorflow", "tensorflow-cpu") if name == "tensorflow" else (name,)
        for dist in candidates:
            try:
                version = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                continue
            extra = "[classic-control]" if dist == "gymnasium" else ""
            pins.append(f"{dist}{extra}=={version}")
            break
        else:
            raise GradingError(
                f"autograder build pins the {name} version of this environment, but {name} "
                "is not installed; build the zip where the course runs"
            )
    return pins


def setup_script(pins: list[str], python: str | None = None) -> str:
    """``setup.sh`` installing ``pins`` for Python ``python`` (``"3.11"``; default: this one)."""
    python = python or f"{sys.version_info[0]}.{sys.version_info[1]}"
    quoted = " ".join(f'"{p}"' for p in pins)
    return SETUP_SH.format(python=python, venv=VENV, pins=quoted)


def run_script(timeout: float) -> str:
    """``run_autograder`` with ``timeout`` seconds per call into the submission."""
    return RUN_AUTOGRADER.format(venv=VENV, timeout=f"{timeout:g}", broken=BROKEN_RESULTS)


def _package_files() -> list[tuple[Path, str]]:
    """``(file, name in zip)`` for the tfcourse package and its pyproject.toml."""
    import tfcourse

    package = Path(tfcourse.__file__).resolve().parent
    pyproject = package.parent / "pyproject.toml"
    if not pyproject.is_file():
        raise GradingError(
            "autograder build needs tfcourse installed from a source checkout "
            "(pip install -e .), so that pyproject.toml can be bundled"
        )
    files = [(pyproject, "tfcourse_src/pyproject.toml")]
    readme = package.parent / "README.md"
    if readme.is_file():
        files.append((readme, "tfcourse_src/README.md"))
    for path in sorted(package.rglob("*.py")):
        files.append((path, f"tfcourse_src/tfcourse/{path.relative_to(package).as_posix()}"))
    return files


def build(
    name: str, out_zip: str | Path, source: str | Path | None = None, timeout: float = 60.0
) -> Path:
    """Write the Gradescope autograder zip of assignment ``name`` to ``out_zip`` atomically.

    Raises:
        AssignmentError: unknown or malformed assignment.
        GradingError: ``out_zip`` does not end in ``.zip``, or a pinned package is missing.
    """
    assignment = load(name, source)
    out = Path(out_zip)
    if out.suffix != ".zip":
        raise GradingError(f"{str(out)!r}: the autograder must be a .zip file")
    scripts = {
        "setup.sh": setup_script(pinned_requirements()),
        "run_autograder": run_script(timeout),
    }
    broken = failing_results(
        assignment,
        "The autograder could not start Python to grade your submission; "
        "tell your instructor (its setup may have failed).",
    )
    files = _package_files()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}-", dir=out.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for script, text in scripts.items():
                info = zipfile.ZipInfo(script)
                info.external_attr = 0o100755 << 16  # executable, as Gradescope requires
                zf.writestr(info, text)
            zf.writestr(f"assignment/{METADATA_FILE}", assignment.metadata_json())
            zf.writestr(f"assignment/{BROKEN_RESULTS}", json.dumps(broken, indent=2) + "\n")
            for stem, text in assignment.sources.items():
                zf.writestr(f"assignment/{stem}.py", text)
            for path, arcname in files:
                zf.write(path, arcname)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


# ---------------------------------------------------------------------------- grading
def _candidates(folder: Path) -> list[Path]:
    """Every ``.py`` / ``.ipynb`` under ``folder``, skipping hidden and tool folders."""
    found = []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if any(p.startswith(".") or p in SKIPPED_DIRS for p in parts):
            continue
        if path.suffix in (".py", ".ipynb") and path.is_file():
            found.append(path)
    return found


def pick_submission(folder: str | Path, name: str) -> tuple[Path | None, str]:
    """The file to grade in a student's upload, and a note for the student (or the reason).

    ``<name>.ipynb`` / ``<name>.py`` first (the shallowest; the notebook when both), else the
    single ``.py`` / ``.ipynb`` present.

    Returns:
        ``(path, note)``; ``path`` is None when no file can be chosen, and ``note`` then says
        why and names the expected file.
    """
    folder = Path(folder)
    expected = f"{name}.ipynb or {name}.py"
    found = _candidates(folder) if folder.is_dir() else []
    named = [p for p in found if p.name in (f"{name}.ipynb", f"{name}.py")]
    if named:
        named.sort(key=lambda p: (len(p.relative_to(folder).parts), p.suffix != ".ipynb"))
        chosen = named[0]
        others = [p for p in named[1:] if p.parent == chosen.parent]
        note = "".join(
            f"Graded {chosen.name}; {p.name} was also submitted and was not graded "
            "(the notebook is graded when both are present)."
            for p in others
        )
        return chosen, note
    if len(found) == 1:
        return found[0], f"Graded {found[0].name} (the expected name is {expected})."
    if not found:
        return None, f"No .py or .ipynb file was found in your submission; submit {expected}."
    listed = ", ".join(p.relative_to(folder).as_posix() for p in found)
    return None, (
        f"Your submission has several .py/.ipynb files ({listed}) and none is named {expected}; "
        f"rename the one to grade to {name}.ipynb (or {name}.py) and submit again."
    )


def failing_results(assignment: Assignment, message: str) -> dict[str, Any]:
    """``results.json`` giving 0 to every test of ``assignment``, each with ``message``."""
    from tfcourse.grading.results import Outcome, gradescope

    outcomes = [
        Outcome(t.name, t.exercise, t.points, t.file, passed=False, output=message)
        for t in assignment.tests
    ]
    return gradescope(outcomes, [message], 0.0)


def run(root: str | Path, timeout: float = 60.0) -> dict[str, Any]:
    """Grade ``<root>/submission`` with ``<root>/source/assignment``; write and return results.

    The grading is a ``python -m pytest`` run of the plugin (:func:`.runner.pytest_command`),
    which writes ``<root>/results/results.json`` itself; this adds the note about the chosen
    file, and writes a failing result when no file can be chosen or pytest wrote nothing.
    """
    from tfcourse.grading.runner import INI, pytest_command, write_results
    from tfcourse.grading.sandbox import Limits

    root = Path(root)
    assignment = load(str(root / "source" / "assignment"), root / "source")
    results_path = root / "results" / "results.json"
    results_path.parent.mkdir(parents=True, exist_ok=True)
    chosen, note = pick_submission(root / "submission", assignment.name)
    if chosen is None:
        results = failing_results(assignment, note)
        write_results(results, results_path)
        return results
    print(f"grading {chosen}", flush=True)
    with tempfile.TemporaryDirectory(prefix="tfcourse-ag-") as tmp:
        ini = Path(tmp) / "pytest.ini"
        ini.write_text(INI)
        cmd = pytest_command(chosen, assignment, results_path, {"call_timeout": timeout})
        cmd += ["-c", str(ini), "--rootdir", tmp]
        try:
            done = subprocess.run(
                cmd, cwd=tmp, capture_output=True, text=True, timeout=Limits().budget + 45
            )
            log, why = done.stdout + done.stderr, f"pytest exited with code {done.returncode}"
        except subprocess.TimeoutExpired as exc:
            log, why = str(exc.stdout or ""), "grading ran out of time"
    print(log[-5000:])  # instructors see this on Gradescope (stdout_visibility hidden)
    try:
        results = json.loads(results_path.read_text())
        if not isinstance(results, dict) or "tests" not in results:
            raise ValueError("not a results object")
    except (OSError, ValueError):
        message = (
            f"The autograder failed while grading {chosen.name} ({why}); tell your instructor."
        )
        results = failing_results(assignment, message)
        write_results(results, results_path)
        return results
    if note:
        results["output"] = f"{note}\n{results.get('output', '')}".strip()
        write_results(results, results_path)
    return results


def main(argv: list[str] | None = None) -> int:
    """``python -m tfcourse.grading.autograder run|pick ...`` (what ``run_autograder`` calls)."""
    parser = argparse.ArgumentParser(prog="python -m tfcourse.grading.autograder")
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="grade <root>/submission into <root>/results")
    p_run.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    p_run.add_argument("--timeout", type=float, default=60.0)
    p_pick = sub.add_parser("pick", help="print the file that would be graded")
    p_pick.add_argument("folder")
    p_pick.add_argument("--name", required=True, help="the assignment's name")
    args = parser.parse_args(argv)
    if args.command == "pick":
        chosen, note = pick_submission(args.folder, args.name)
        print(chosen if chosen is not None else note)
        return 0 if chosen is not None else 1
    results = run(args.root, args.timeout)
    print(f"score: {results['score']:g} / {results.get('max_score', 0):g}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
