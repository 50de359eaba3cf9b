"""Grading a class: many submissions, a few at a time, one CSV row each.

``tfcourse grade submissions/ --assignment tutorial1_mlp --jobs 2 --csv grades.csv``. Each
submission is graded by :func:`.runner.grade` (its own ``pytest`` process and worker), in a
pool of ``jobs`` threads; a submission that cannot be graded (missing, not a ``.py`` /
``.ipynb``) gets a row of zeros and the reason in the ``error`` column, and the batch goes on.
When the grader itself fails (:class:`~.errors.GraderFailure`, or a bug), the row's ``error``
starts with ``grader failure:`` and the command exits non-zero. The CSV columns are
``submission, file``, one per exercise (the points earned), ``total``, ``mistakes`` (the known
mistakes the grader named, separated by spaces) and ``error``; every text cell goes through
:func:`.printable` (one line, no control characters).

A folder given on the command line holds submissions: each ``.py`` / ``.ipynb`` file in it is
one, and each sub-folder is one student's upload, whose file is chosen as on Gradescope
(:func:`.autograder.pick_submission`). An upload that is a link is never graded (it may point
at the instructor's solution): its row says so.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from tfcourse.errors import TfcourseError
from tfcourse.grading.assignment import Assignment
from tfcourse.grading.autograder import SKIPPED_DIRS, link_problem, pick_submission
from tfcourse.grading.errors import GraderFailure
from tfcourse.grading.printable import printable

SUFFIXES = (".py", ".ipynb")
LOADED_OK = "Your submission loaded without errors."
MAX_ERROR = 500  # characters of an error kept in the CSV
GRADER_FAILURE = "grader failure: "  # how the error column of such a row starts


@dataclasses.dataclass
class Item:
    """One submission to grade: a label for its row, its file, or why there is none."""

    label: str
    path: Path | None
    error: str = ""


@dataclasses.dataclass
class Row:
    """One graded submission: points per exercise, total, and what went wrong (if anything).

    Attributes:
        grader_failed: the grader, not the submission, failed (``error`` says how); the zeros
            are no grade.
    """

    label: str
    file: str
    points: dict[str, float]
    total: float
    error: str = ""
    results: dict[str, Any] | None = None
    grader_failed: bool = False

    @property
    def mistakes(self) -> list[str]:
        """The known mistakes named in this submission's results, each once, in test order."""
        return list(dict.fromkeys(name for _, name in named_mistakes(self.results)))


def collect(inputs: Sequence[str | Path], name: str) -> tuple[list[Item], list[Path]]:
    """The submissions named by ``inputs`` (files and folders), and files a folder held but
    that are not submissions (e.g. ``notes.txt``).

    An upload in a folder that is a link (a symbolic link to a file or folder, or a file with
    several hard links) is not graded: its row says so (:func:`.autograder.link_problem`).

    Args:
        inputs: files (each one submission, whatever it is) and folders (see module doc).
        name: the assignment's name, to choose the file in a student's sub-folder.
    """
    items: list[Item] = []
    ignored: list[Path] = []
    for given in inputs:
        path = Path(given)
        if not path.is_dir():
            items.append(Item(path.name, path))
            continue
        for entry in sorted(path.iterdir()):
            if entry.name.startswith(".") or entry.name in SKIPPED_DIRS:
                continue
            gradable = entry.is_dir() or entry.suffix in SUFFIXES
            problem = link_problem(entry, path) if gradable else ""
            if problem:
                items.append(Item(entry.name, None, f"not graded: {problem}"))
            elif entry.is_dir():
                chosen, note = pick_submission(entry, name)
                items.append(Item(entry.name, chosen, "" if chosen else note))
            elif gradable:
                items.append(Item(entry.name, entry))
            else:
                ignored.append(entry)
    return items, ignored


def exercise_of(test_name: str, assignment: Assignment) -> str:
    """The exercise a test of ``results.json`` grades (its name is ``"<exercise>: ..."``)."""
    by_title = {t.title: t.exercise for t in assignment.tests}
    return by_title.get(test_name, test_name.split(":", 1)[0])


def exercise_points(results: dict[str, Any], assignment: Assignment) -> dict[str, float]:
    """Points earned per exercise (every exercise present, in the assignment's order)."""
    points = dict.fromkeys(assignment.exercises, 0.0)
    for test in results["tests"]:
        exercise = exercise_of(test["name"], assignment)
        if exercise in points:
            points[exercise] += float(test["score"])
    return points


def named_mistakes(results: dict[str, Any] | None) -> list[tuple[dict[str, Any], str]]:
    """``(test, mistake name)`` for each known mistake a test of ``results`` names.

    The grader records them per test as ``"extra_data": {"mistakes": [names]}``; anything
    else there is ignored.
    """
    found = []
    for test in (results or {}).get("tests", []):
        extra = test.get("extra_data")
        names = extra.get("mistakes") if isinstance(extra, dict) else None
        if isinstance(names, list):
            found += [(test, n) for n in names if isinstance(n, str) and n.strip()]
    return found


def failed_row(item: Item, assignment: Assignment, exc: BaseException) -> Row:
    """The row of zeros for a submission whose grading raised ``exc``.

    A :class:`~tfcourse.errors.TfcourseError` other than :class:`.GraderFailure` is the
    submission's (missing, not a ``.py``...); a :class:`.GraderFailure` or any other exception
    (a bug) is the grader's.
    """
    said = " ".join(str(exc).split()) or type(exc).__name__
    ours = isinstance(exc, GraderFailure) or not isinstance(exc, TfcourseError)
    if ours:
        said = GRADER_FAILURE + (said if isinstance(exc, GraderFailure) else repr(exc))
    zeros = dict.fromkeys(assignment.exercises, 0.0)
    shown = str(item.path) if item.path is not None else ""
    return Row(item.label, shown, zeros, 0.0, said[:MAX_ERROR], grader_failed=ours)


def grade_item(item: Item, assignment: Assignment, **options: Any) -> Row:
    """Grade one submission; never raises (an error becomes a row of zeros)."""
    from tfcourse.grading.runner import grade

    zeros = dict.fromkeys(assignment.exercises, 0.0)
    shown = str(item.path) if item.path is not None else ""
    if item.path is None:
        return Row(item.label, shown, zeros, 0.0, item.error)
    try:
        results = grade(item.path, assignment, **options)
    except Exception as exc:  # one broken submission never stops the batch
        return failed_row(item, assignment, exc)
    points = exercise_points(results, assignment)
    output = str(results.get("output", ""))
    note = "" if output == LOADED_OK else " ".join(output.split())
    return Row(item.label, shown, points, sum(points.values()), note, results)


def grade_items(
    items: Sequence[Item],
    assignment: Assignment,
    jobs: int = 1,
    progress: bool = True,
    grader: Callable[..., Row] = grade_item,
    **options: Any,
) -> list[Row]:
    """Grade ``items`` with ``jobs`` at a time; rows in the order of ``items``.

    Args:
        items: from :func:`collect`.
        assignment: from :func:`tfcourse.grading.assignment.load`.
        jobs: submissions graded at once (each is a pytest process plus a worker).
        progress: show a tqdm bar on stderr.
        grader: grades one item (tests may replace it).
        **options: passed to :func:`.runner.grade` (``timeout=``, limits).
    """
    from tqdm import tqdm

    rows: list[Row | None] = [None] * len(items)
    bar = tqdm(total=len(items), unit="submission", disable=not progress, file=sys.stderr)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {
            pool.submit(grader, item, assignment, **options): i for i, item in enumerate(items)
        }
        for future in as_completed(futures):
            i = futures[future]
            try:
                rows[i] = future.result()
            except Exception as exc:  # a grader bug must not lose the other rows
                rows[i] = failed_row(items[i], assignment, exc)
            bar.set_postfix_str(printable(items[i].label[-30:], multiline=False), refresh=False)
            bar.update()
    bar.close()
    return [r for r in rows if r is not None]


def csv_text(rows: Sequence[Row], exercises: Sequence[str]) -> str:
    """The grades as CSV: ``submission, file, <exercise>..., total, mistakes, error``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["submission", "file", *exercises, "total", "mistakes", "error"])
    for row in rows:
        values = [f"{row.points[e]:g}" for e in exercises]
        text = [row.label, row.file, *values, f"{row.total:g}", " ".join(row.mistakes), row.error]
        writer.writerow([printable(cell, multiline=False) for cell in text])
    return out.getvalue()


def write_csv(rows: Sequence[Row], exercises: Sequence[str], path: str | Path) -> Path:
    """Write :func:`csv_text` to ``path`` atomically (a reader never sees half a file)."""
    from tfcourse.safe_write import atomic_write_bytes

    return atomic_write_bytes(Path(path), csv_text(rows, exercises).encode("utf-8"))
