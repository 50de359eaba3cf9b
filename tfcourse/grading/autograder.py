"""Gradescope: grading one submission inside the autograder (the zip: :mod:`.autograder_zip`).

``run_autograder`` (see :mod:`.autograder_zip` for the zip's layout and base image) calls
``python -m tfcourse.grading.autograder run``: :func:`run` picks the file to grade, runs the
grading plugin on it and leaves ``results/results.json``, a failing one when the student's upload
holds nothing to grade.

The zip carries no solution, so the grader checks itself with a built-in canary instead: before
grading, :func:`check_canary` grades a tiny submission (numpy and TensorFlow, one function)
through the same plugin, sandbox and limits. If the canary fails, or the grader fails in any
other way of its own (:class:`~.errors.GraderFailure`), nothing is written: ``run_autograder``
says why on stderr and exits non-zero, so Gradescope reports an autograder error instead of
giving the student zeros.

Which file is graded (:func:`pick_submission`): ``<name>.ipynb`` or ``<name>.py``, ``<name>``
being the assignment's name (``toy``, ``tutorial1_mlp``); when a student uploads both, the
notebook is graded (the handout says "Submit this notebook") and the output says the ``.py`` was
not. Otherwise a single ``.py`` / ``.ipynb`` under any name is graded. Links (symbolic, or a
file with several hard links) are never graded: they may point at the instructor's files.
Anything else fails every test with a message naming the expected file. ``AUTOGRADER_ROOT``
(default ``/autograder``) and ``TFCOURSE_PYTHON`` (default ``/opt/tfcourse-venv/bin/python``,
else ``python3``) let ``run_autograder`` be tried outside Gradescope.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tfcourse.grading.assignment import load
from tfcourse.grading.errors import GraderFailure

SKIPPED_DIRS = {"__pycache__", "__MACOSX", ".ipynb_checkpoints"}
CANARY_VALUE = 6.0
CANARY_SUBMISSION = f'''"""The autograder's canary: works wherever the grader works."""


def canary():
    import numpy as np
    import tensorflow as tf

    return float(tf.reduce_sum(tf.constant(np.arange(4.0))).numpy())  # {CANARY_VALUE:g}
'''
CANARY_TEST = f"""import pytest


@pytest.mark.points(1, exercise="canary")
def test_canary(sub):
    value = sub.canary()
    assert value == {CANARY_VALUE!r}, f"the canary returned {{value!r}}, not {CANARY_VALUE!r}"
"""


def link_problem(path: Path, root: Path | None = None) -> str:
    """Why ``path`` is not graded because it is a link, or ``""``.

    A symbolic link (``path`` itself, or a folder between ``root`` and it: unzip keeps links)
    may point at any file of the grading machine, such as the instructor's solution; a file
    with more than one hard link shares its data with another file.
    """
    shown = path.relative_to(root).as_posix() if root is not None else path.name
    inside = [p for p in path.parents if p != root and p.is_relative_to(root)] if root else []
    for link in (path, *inside):
        if link.is_symlink():
            where = "is" if link == path else f"lies in {link.relative_to(root)}/, which is"
            return f"{shown} {where} a symbolic link, and links are not graded: upload the file"
    try:
        st = path.lstat()
    except OSError:
        return ""
    if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
        return (
            f"{shown} is a hard link (one file under {st.st_nlink} names), and links are not "
            "graded: upload a copy of the file"
        )
    return ""


def _candidates(folder: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Every ``.py`` / ``.ipynb`` under ``folder``, skipping hidden and tool folders, and the
    ones refused because they are links (:func:`link_problem`), with the reason."""
    found, links = [], []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if any(p.startswith(".") or p in SKIPPED_DIRS for p in parts):
            continue
        if path.suffix not in (".py", ".ipynb") and not (path.is_symlink() and path.is_dir()):
            continue
        problem = link_problem(path, folder)
        if problem:
            links.append((path, problem))
        elif path.is_file():
            found.append(path)
    return found, links


def pick_submission(folder: str | Path, name: str) -> tuple[Path | None, str]:
    """The file to grade in a student's upload, and a note for the student (or the reason).

    ``<name>.ipynb`` / ``<name>.py`` first (the shallowest; the notebook when both), else the
    single ``.py`` / ``.ipynb`` present. A file that is a link, or lies in a linked folder, is
    never picked (:func:`link_problem`); the note says so.

    Returns:
        ``(path, note)``; ``path`` is None when no file can be chosen, and ``note`` then says
        why and names the expected file.
    """
    folder = Path(folder)
    expected = f"{name}.ipynb or {name}.py"
    found, links = _candidates(folder) if folder.is_dir() and not folder.is_symlink() else ([], [])
    refused = "".join(f"{problem}. " for _, problem in links)
    if folder.is_symlink():
        refused = "Your upload is a symbolic link, and links are not graded: upload the file. "
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
        return chosen, (refused + note).strip()
    if len(found) == 1:
        return found[0], f"{refused}Graded {found[0].name} (the expected name is {expected})."
    if not found:
        if refused:
            return None, f"{refused}Nothing was graded; submit {expected}."
        return None, f"No .py or .ipynb file was found in your submission; submit {expected}."
    listed = ", ".join(p.relative_to(folder).as_posix() for p in found)
    return None, refused + (
        f"Your submission has several .py/.ipynb files ({listed}) and none is named {expected}; "
        f"rename the one to grade to {name}.ipynb (or {name}.py) and submit again."
    )


def check_canary(mode: str, timeout: float) -> float:
    """Grade the built-in canary submission in sandbox ``mode``; return the seconds it took.

    Same plugin, worker, sandbox and limits as a student's grading: if the canary cannot score,
    no student can, whatever they submitted.

    Raises:
        GraderFailure: the canary did not score its point (the message says why).
    """
    from tfcourse.grading.runner import INI, grader_failure, pytest_command

    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tfcourse-canary-") as tmp:
        folder = Path(tmp)
        submission, test = folder / "canary.py", folder / "test_canary.py"
        submission.write_text(CANARY_SUBMISSION)
        test.write_text(CANARY_TEST)
        (folder / "pytest.ini").write_text(INI)
        results_path = folder / "results.json"
        options = {"call_timeout": timeout, "sandbox": mode}
        cmd = pytest_command(submission, [test], results_path, options)
        cmd += ["-c", str(folder / "pytest.ini"), "--rootdir", tmp]
        try:
            done = subprocess.run(
                cmd, cwd=tmp, capture_output=True, text=True, check=False, timeout=300
            )
        except subprocess.TimeoutExpired:
            raise GraderFailure("the canary submission was not graded within 300 s") from None
        failure = grader_failure(done.returncode, done.stderr)
        if failure is not None:
            raise GraderFailure(f"the canary submission could not be graded: {failure}")
        try:
            results = json.loads(results_path.read_text())
            test_result = results["tests"][0]
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            log = (done.stderr.strip() or done.stdout.strip())[-2000:]
            raise GraderFailure(
                f"grading the canary submission wrote no results (pytest exit code "
                f"{done.returncode}):\n{log}"
            ) from None
    if test_result.get("score") != test_result.get("max_score"):
        raise GraderFailure(
            "the built-in canary submission (numpy and tensorflow, one function) fails in this "
            f"autograder: {test_result.get('output')}; check what setup.sh installed and that "
            f"the {mode} sandbox can run it"
        )
    return time.monotonic() - start


def run(root: str | Path, timeout: float = 60.0) -> dict[str, Any]:
    """Grade ``<root>/submission`` with ``<root>/source/assignment``; write and return results.

    The grading is a ``python -m pytest`` run of the plugin (:func:`.runner.pytest_command`),
    which writes ``<root>/results/results.json`` itself; this adds the note about the chosen
    file, and writes a failing result when no file can be chosen or pytest wrote nothing.
    The canary (:func:`check_canary`) runs first.

    Raises:
        GraderFailure: the canary failed, or the grader failed on the submission for a reason
            of its own; nothing is written.
    """
    from tfcourse.grading import sandbox
    from tfcourse.grading.limits import Limits
    from tfcourse.grading.results import failing_results
    from tfcourse.grading.runner import INI, grader_failure, pytest_command, write_results

    root = Path(root)
    assignment = load(str(root / "source" / "assignment"), root / "source")
    results_path = root / "results" / "results.json"
    results_path.parent.mkdir(parents=True, exist_ok=True)
    chosen, note = pick_submission(root / "submission", assignment.name)
    if chosen is None:
        results = failing_results(assignment, note)
        write_results(results, results_path)
        return results
    mode = sandbox.choose_mode()
    print(sandbox.describe_mode(mode), flush=True)
    spent = check_canary(mode, timeout)
    print(f"canary: graded in {spent:.1f} s", flush=True)
    print(f"grading {chosen}", flush=True)
    budget = max(Limits().budget - spent, 60.0)  # Gradescope's limit covers the canary too
    with tempfile.TemporaryDirectory(prefix="tfcourse-ag-") as tmp:
        ini = Path(tmp) / "pytest.ini"
        ini.write_text(INI)
        options = {"call_timeout": timeout, "budget": budget, "sandbox": mode}
        cmd = pytest_command(chosen, assignment, results_path, options)
        cmd += ["-c", str(ini), "--rootdir", tmp]
        try:
            done = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=budget + 45)
            log, why = done.stdout + done.stderr, f"pytest exited with code {done.returncode}"
        except subprocess.TimeoutExpired as exc:
            done, log, why = None, str(exc.stdout or ""), "grading ran out of time"
    print(log[-5000:])  # instructors see this on Gradescope (stdout_visibility hidden)
    failure = grader_failure(done.returncode, done.stderr) if done is not None else None
    if failure is not None:
        results_path.unlink(missing_ok=True)
        raise GraderFailure(failure)
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
    try:
        results = run(args.root, args.timeout)
    except GraderFailure as exc:
        from tfcourse.grading.runner import GRADER_FAILURE_EXIT

        rule = "=" * 72
        heading = (
            "tfcourse autograder: GRADER FAILURE, nothing was graded and no results were "
            "written (Gradescope shows an autograder error, not a grade):"
        )
        print(f"{rule}\n{heading}\n{exc}\n{rule}", file=sys.stderr)
        return GRADER_FAILURE_EXIT
    print(f"score: {results['score']:g} / {results.get('max_score', 0):g}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
