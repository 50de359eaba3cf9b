"""Package an assignment as a Gradescope autograder zip.

The zip holds (Gradescope unpacks it to ``/autograder/source``)::

    setup.sh            installs the bundled tfcourse (and its dependencies from PyPI)
    run_autograder      finds the submission and runs ``tfcourse grade``
    assignment/         assignment.json, tests_public.py, tests_hidden.py (no solutions)
    tfcourse_src/       this tfcourse version: pyproject.toml and the package

``AUTOGRADER_ROOT`` (default ``/autograder``) lets ``run_autograder`` be tried locally.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import tfcourse
from tfcourse.grading.assignment import METADATA_FILE, load
from tfcourse.grading.errors import GradingError

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
apt-get update -qq && apt-get install -y -qq python3-pip python3-venv > /dev/null
python3 -m pip install --quiet /autograder/source/tfcourse_src
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it must always leave results/results.json.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
cd "$ROOT/source"
sub=$(find "$ROOT/submission" -maxdepth 2 \\( -name '*.ipynb' -o -name '*.py' \\) \\
      -not -name '.*' | sort | head -n 1)
mkdir -p "$ROOT/results"
if [ -z "$sub" ]; then
  echo '{"score": 0, "output": "No .py or .ipynb file was found in your submission.", \
"tests": []}' > "$ROOT/results/results.json"
  exit 0
fi
python3 -m tfcourse.cli grade "$sub" --assignment "$ROOT/source/assignment" \\
  --results "$ROOT/results/results.json" --timeout {timeout}
"""


def _package_files() -> list[tuple[Path, str]]:
    """``(file, name in zip)`` for the tfcourse package and its pyproject.toml."""
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
    name: str, out_zip: str | Path, source: str | Path = "assignments", timeout: float = 60.0
) -> Path:
    """Write the Gradescope autograder zip of assignment ``name`` to ``out_zip`` atomically.

    Raises:
        AssignmentError: unknown or malformed assignment.
        GradingError: ``out_zip`` does not end in ``.zip``.
    """
    assignment = load(name, source)
    out = Path(out_zip)
    if out.suffix != ".zip":
        raise GradingError(f"{str(out)!r}: the autograder must be a .zip file")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}-", dir=out.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for script, text in (
                ("setup.sh", SETUP_SH),
                ("run_autograder", RUN_AUTOGRADER.replace("{timeout}", f"{timeout:g}")),
            ):
                info = zipfile.ZipInfo(script)
                info.external_attr = 0o100755 << 16  # executable, as Gradescope requires
                zf.writestr(info, text)
            zf.writestr(f"assignment/{METADATA_FILE}", assignment.metadata_json())
            for stem, text in assignment.sources.items():
                zf.writestr(f"assignment/{stem}.py", text)
            for path, arcname in _package_files():
                zf.write(path, arcname)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
