"""The first code cell of every notebook and handout: install tfcourse where it is missing.

A notebook may start on a kernel that has TensorFlow but not this package: a fresh Colab
runtime, a JupyterHub image, a student's own Python. Its first code cell, :func:`install_cell`
(the tutorial notebooks carry it verbatim, ``tfcourse release`` writes it into every handout),
pip-installs ``TFCOURSE_INSTALL`` where the package is not installed, and does nothing where it
is: it asks for the installed distribution (``importlib.metadata.distribution("tfcourse")``),
not for an importable module, since a folder named ``tfcourse`` in the working directory (the
clone of the repository after ``!git clone`` on Colab) is importable as an empty namespace
package; then ``sys.executable -m pip install -q $TFCOURSE_INSTALL`` installs it into the
kernel's own environment.

What gets installed: the tutorial notebooks name the course repository (always the newest
version; needs git and the internet). A handout names what the instructor chose at release time
(``TFCOURSE_INSTALL=<wheel URL or path> tfcourse release ...``), typically a wheel published
with the assignment, so students get exactly the version the assignment was tested with. The
environment variable ``TFCOURSE_INSTALL`` overrides either (e.g. offline, a local wheel).

The install part cannot live here (this module is not there yet); what runs after it does:
:func:`setup_notebook` (tutorials) and :func:`handout_check` (handouts).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPOSITORY_INSTALL = "git+https://github.com/tfcourse/tfcourse.git"
EMBEDDED_TESTS = "PUBLIC_TESTS"  # the handout variable holding the public tests' source
# what a tutorial notebook's first cell runs after the install part
TUTORIAL_SETUP = """\
from tfcourse.notebook_setup import setup_notebook

setup_notebook()  # which tfcourse runs here, where the data comes from
"""

_INSTALL_CELL = """\
# Installs tfcourse if this kernel lacks it (e.g. a fresh Colab runtime); else does nothing.
# TFCOURSE_INSTALL is what pip installs: the course repository (newest version, needs git),
# or for a handout the wheel it was released with. An environment variable of the same name
# overrides it (offline: the path of a local wheel).
import importlib
import importlib.metadata
import os
import subprocess
import sys

{install_line}

try:  # installed? (a folder named tfcourse here, e.g. a git clone, does not count)
    importlib.metadata.distribution("tfcourse")
except importlib.metadata.PackageNotFoundError:
    install = os.environ.get("TFCOURSE_INSTALL", TFCOURSE_INSTALL)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", install], check=True)
    importlib.invalidate_caches()  # so that the import below finds the new package
"""


def install_line(install: str) -> str:
    """The line of the setup cell that names what pip installs."""
    return f"TFCOURSE_INSTALL = {json.dumps(install)}"  # json: a "..." Python string literal


def install_cell(install: str = REPOSITORY_INSTALL, then: str = "") -> str:
    """The source of a notebook's first code cell: install ``install`` if tfcourse is missing.

    Args:
        install: what pip installs: a ``git+https://`` URL, or a wheel's URL or path.
        then: code appended after the install part (it may import tfcourse).
    """
    text = _INSTALL_CELL.format(install_line=install_line(install))
    return (text + "\n" + then.strip("\n")).rstrip("\n") if then.strip() else text.rstrip("\n")


def data_source() -> str:
    """One line saying where the MNIST loaders will look first (no data is read)."""
    folder = os.environ.get("TFCOURSE_DATA", "")
    if folder and Path(folder).is_dir():
        return f"data: from TFCOURSE_DATA={folder}"
    if folder:
        return (
            f"data: TFCOURSE_DATA={folder} is not a folder; set it to the folder holding "
            "mnist.npz, or unset it to let Keras download the data"
        )
    return (
        "data: from Keras's cache (~/.keras/datasets), downloaded there on first use (needs "
        "the internet); offline, set TFCOURSE_DATA to a folder holding mnist.npz"
    )


def setup_notebook() -> None:
    """Print which tfcourse this kernel runs and where the data will come from."""
    import tfcourse

    where = Path(tfcourse.__file__).resolve().parent
    print(f"tfcourse {tfcourse.__version__} from {where}")
    print(data_source())


def handout_check(
    namespace: dict[str, Any], tests: str | Path = "tests_public.py"
) -> Callable[[str], None]:
    """``check(exercise)`` for a handout: the public tests from ``tests``, or the embedded copy.

    It also imports TensorFlow quietly (:func:`tfcourse.settings.import_tensorflow_quietly`):
    the exercise cells import it next, and its C++ log lines would land under the cells.

    A handout notebook embeds its public tests as the string ``PUBLIC_TESTS`` (a collapsed cell
    under the setup cell), so a notebook uploaded alone (e.g. to Colab) can still check its
    exercises: when ``tests`` is missing, ``check`` first writes it from that string. Nothing
    is written until ``check`` is called (the grader drops those calls). Otherwise this is
    :func:`tfcourse.grading.check.make_check`: it prints the report and returns None.
    """
    from tfcourse.grading.check import make_check
    from tfcourse.grading.errors import GradingError
    from tfcourse.settings import import_tensorflow_quietly

    import_tensorflow_quietly()
    check = make_check(namespace, tests)

    def handout(exercise: str) -> None:
        path = Path(tests)
        embedded = namespace.get(EMBEDDED_TESTS)
        if not path.exists() and not isinstance(embedded, str):
            raise GradingError(
                f"cannot find {str(tests)!r}, and the cell that embeds the public tests "
                f"({EMBEDDED_TESTS} = ...) has not run; run the notebook's cells from the top"
            )
        if not path.exists():
            try:
                path.write_text(embedded, encoding="utf-8")
            except OSError as exc:
                raise GradingError(
                    f"cannot write {str(tests)!r} from the copy in this notebook "
                    f"({exc.strerror or exc}); start the notebook in a folder you can write to"
                ) from None
            print(f"(wrote {tests} from the copy embedded in this notebook)")
        check(exercise)

    return handout
