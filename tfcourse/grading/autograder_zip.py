"""Building the Gradescope autograder zip (grading inside it: :mod:`.autograder`).

The zip holds (Gradescope unpacks it to ``/autograder/source``)::

    setup.sh            installs Python, bubblewrap and a virtual environment /opt/tfcourse-venv
                        with this tfcourse and the TensorFlow, Keras, gymnasium, numpy and pytest
                        versions of the environment that built the zip
    run_autograder      locks the source and results folders (chmod 700), then runs
                        ``python -m tfcourse.grading.autograder run``, which grades a built-in
                        canary submission first; a grader failure exits non-zero and writes
                        no results (Gradescope shows an error, never zeros)
    assignment/         assignment.json, tests_public.py, tests_hidden.py (never solutions) and
                        broken_results.json (every test at 0, used if Python cannot even start)
    tfcourse_src/       this tfcourse version: pyproject.toml, README.md and every ``.py`` of the
                        package

Target: Gradescope's **Ubuntu 22.04** base image (choose it in the autograder settings). Its
``python3`` is 3.10; when the building Python has another minor version, ``setup.sh`` installs
that one from Ubuntu (``python3.11`` is in 22.04's universe) or the deadsnakes PPA, so the pinned
wheels exist. The virtual environment keeps pip away from the system Python (PEP 668). How to
try the zip outside Gradescope: :mod:`.autograder`.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

from tfcourse.grading.assignment import METADATA_FILE, load
from tfcourse.grading.errors import GradingError
from tfcourse.grading.results import failing_results
from tfcourse.grading.runner import GRADER_FAILURE_EXIT

VENV = "/opt/tfcourse-venv"
BROKEN_RESULTS = "broken_results.json"
PINNED = ("tensorflow", "keras", "gymnasium", "numpy", "pytest")

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
# Gradescope runs this for every submission. It leaves results/results.json, except when the
# grader itself fails (its canary submission, exit status {failure}): then it exits non-zero
# with no results, so Gradescope reports an autograder error instead of giving zeros.
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
status=$?
if [ "$status" -eq {failure} ]; then
  rm -f "$ROOT/results/results.json"
  echo "run_autograder: the grader failed (see above); no results written" >&2
  exit "$status"
fi
if [ ! -s "$ROOT/results/results.json" ]; then
  cp "$ROOT/source/assignment/{broken}" "$ROOT/results/results.json"
fi
exit 0
"""


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
    return RUN_AUTOGRADER.format(
        venv=VENV, timeout=f"{timeout:g}", broken=BROKEN_RESULTS, failure=GRADER_FAILURE_EXIT
    )


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
