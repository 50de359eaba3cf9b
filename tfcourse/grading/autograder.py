"""Gradescope: grading one submission inside the autograder (the zip: :mod:`.autograder_zip`).

``run_autograder`` (see :mod:`.autograder_zip` for the zip's layout and base image) calls
``python -m tfcourse.grading.autograder run``: :func:`run` picks the file to grade, runs the
grading plugin on it and leaves ``results/results.json``, a failing one when nothing can be graded.

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
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tfcourse.grading.assignment import load

SKIPPED_DIRS = {"__pycache__", "__MACOSX", ".ipynb_checkpoints"}


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


def run(root: str | Path, timeout: float = 60.0) -> dict[str, Any]:
    """Grade ``<root>/submission`` with ``<root>/source/assignment``; write and return results.

    The grading is a ``python -m pytest`` run of the plugin (:func:`.runner.pytest_command`),
    which writes ``<root>/results/results.json`` itself; this adds the note about the chosen
    file, and writes a failing result when no file can be chosen or pytest wrote nothing.
    """
    from tfcourse.grading.limits import Limits
    from tfcourse.grading.results import failing_results
    from tfcourse.grading.runner import INI, pytest_command, write_results

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
