"""The class view of a batch: a summary for the instructor and a feedback file per student.

``tfcourse grade submissions/ --assignment NAME --csv grades.csv --feedback feedback/`` prints
:func:`summary` (per exercise the mean points and the share of full marks, the distribution of
totals as a text histogram, the known mistakes ranked by how many students made them) and
writes :func:`feedback` for each submission with :func:`write_feedback`.

Statistics count every submission the grader could judge, including those that earned 0
because their file was missing or unreadable; a row whose grader failed
(:attr:`.batch.Row.grader_failed`) holds no grade and is left out. Feedback files include
the hidden tests' messages, marked as hidden: instructors send them once grades are
published. All text that can come from a submission goes through :func:`.printable`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from tfcourse.grading.assignment import Assignment
from tfcourse.grading.batch import LOADED_OK, Row, exercise_of, named_mistakes
from tfcourse.grading.mistakes import Mistake, declared
from tfcourse.grading.printable import printable

BINS = 10  # histogram bins over [0, max score]
BAR_WIDTH = 40  # characters of the longest bar
EPS = 1e-9  # points closer than this to the maximum are full marks
MAX_NAME = 100  # characters of a feedback file's name (before ".md")


def _one_line(text: str) -> str:
    return printable(str(text), multiline=False)


def exercise_max(assignment: Assignment) -> dict[str, float]:
    """The points each exercise is worth (the sum of its tests' points)."""
    worth = dict.fromkeys(assignment.exercises, 0.0)
    for test in assignment.tests:
        worth[test.exercise] = worth.get(test.exercise, 0.0) + test.points
    return worth


def histogram(totals: Sequence[float], max_score: float, bins: int = BINS) -> list[str]:
    """A text histogram of ``totals`` over ``bins`` equal bins of ``[0, max_score]``.

    Bin ``i`` holds totals in ``[i w, (i+1) w)`` with ``w = max_score / bins``; the last bin
    also holds ``max_score``. A bar has one ``#`` per submission, scaled down so the longest
    is :data:`BAR_WIDTH` characters (a non-empty bin keeps at least one ``#``).
    """
    counts = [0] * bins
    for total in totals:
        counts[min(max(int(total * bins / max_score), 0), bins - 1)] += 1
    scale = min(1.0, BAR_WIDTH / max(max(counts), 1))
    edges = [f"{round(max_score * i / bins, 2):g}" for i in range(bins + 1)]
    labels = [f"[{edges[i]}, {edges[i + 1]}{']' if i == bins - 1 else ')'}" for i in range(bins)]
    width = max(len(label) for label in labels)
    lines = []
    for label, count in zip(labels, counts, strict=True):
        bar = "#" * (max(1, round(count * scale)) if count else 0)
        lines.append(f"{label:<{width}}  {bar}{' ' if bar else ''}{count}")
    return lines


def ranked_mistakes(rows: Sequence[Row], assignment: Assignment) -> list[tuple[str, str, int]]:
    """``(mistake, exercise, students)`` for every known mistake named, most frequent first.

    A student counts once per mistake however many tests named it; ties are sorted by name.
    """
    students: Counter[str] = Counter()
    exercise: dict[str, str] = {}
    for row in rows:
        found = named_mistakes(row.results)
        for test, name in found:
            exercise.setdefault(name, exercise_of(str(test.get("name", "")), assignment))
        students.update({name for _, name in found})
    ranked = sorted(students.items(), key=lambda item: (-item[1], item[0]))
    return [(name, exercise[name], count) for name, count in ranked]


def summary(rows: Sequence[Row], assignment: Assignment) -> str:
    """The class summary printed after a batch (plain text, no trailing newline)."""
    graded = [r for r in rows if not r.grader_failed]
    failures = len(rows) - len(graded)
    unreadable = sum(1 for r in graded if r.results is None)
    max_score = assignment.max_score
    lines = [
        f"Class summary of {assignment.name}: {len(rows)} submissions, max {max_score:g} points"
    ]
    if unreadable:
        lines.append(
            f"  {unreadable} could not be graded (no readable .py or .ipynb; see the error "
            "column): counted as 0 points"
        )
    if failures:
        lines.append(
            f"  {failures} grader failure{'s' if failures != 1 else ''} (the error column "
            f"starts with 'grader failure:'): no grade, left out of the statistics below"
        )
    if not graded:
        lines.append("  no submission was graded")
        return "\n".join(lines)

    n = len(graded)
    worth = exercise_max(assignment)
    names = [*assignment.exercises, "total"]
    width = max(len(name) for name in names)
    lines += ["", f"{'exercise':<{width}}  {'mean / max':>14}  full marks"]
    for name in names:
        top = max_score if name == "total" else worth[name]
        got = [r.total if name == "total" else r.points.get(name, 0.0) for r in graded]
        full = sum(1 for g in got if g >= top - EPS)
        mean = f"{sum(got) / n:.2f} / {top:g}"
        lines.append(f"{name:<{width}}  {mean:>14}  {100 * full / n:3.0f}% ({full} of {n})")

    if max_score > 0:
        lines += ["", f"Score distribution (total points, {n} submissions)"]
        lines += [f"  {line}" for line in histogram([r.total for r in graded], max_score)]

    ranked = ranked_mistakes(graded, assignment)
    if ranked:
        lines += ["", "Known mistakes, by number of students who made them"]
        w_count = len(str(ranked[0][2]))
        w_name = max(len(_one_line(name)) for name, _, _ in ranked)
        for name, exercise, count in ranked:
            lines.append(
                f"  {count:>{w_count}}  {_one_line(name):<{w_name}}  ({_one_line(exercise)})"
            )
    else:
        lines += ["", "Known mistakes: none named"]
    return "\n".join(lines)


# ---------------------------------------------------------------------- feedback files


def _code(text: str) -> str:
    """``text`` as one Markdown code span (no markup or HTML in it is interpreted)."""
    text = _one_line(text) or " "
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    padded = text[0] == "`" or text[-1] == "`" or (text[0] == " " and text[-1] == " ")
    return f"{ticks} {text} {ticks}" if padded else f"{ticks}{text}{ticks}"


def _block(text: str) -> list[str]:
    """``text`` as a fenced Markdown code block whose fence no line of it can close."""
    text = printable(str(text))
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return [fence, *text.splitlines(), fence]


def feedback(row: Row, assignment: Assignment, hints: dict[str, Mistake] | None = None) -> str:
    """One submission's feedback as Markdown.

    Args:
        row: the graded submission (:class:`.batch.Row`).
        assignment: what it was graded against.
        hints: known mistakes by name (:func:`.mistakes.declared`), for their hints.

    Returns:
        The score per exercise, the loading notes, each failing test's message (hidden tests
        included and marked as such), and the known mistakes named with their hints.
    """
    hints = hints or {}
    worth = exercise_max(assignment)
    lines = [
        f"# Feedback on {_code(row.label)}",
        "",
        f"Assignment: {_one_line(assignment.title or assignment.name)}",
        "",
        f"**Score: {row.total:g} / {assignment.max_score:g}**",
        "",
        "| exercise | points |",
        "| --- | ---: |",
    ]
    lines += [f"| {_code(e)} | {row.points.get(e, 0.0):g} / {worth[e]:g} |" for e in worth]
    if row.results is None:
        lines += ["", "## Not graded", "", *_block(row.error or "no submission")]
        return "\n".join(lines) + "\n"

    output = str(row.results.get("output", ""))
    if output and output != LOADED_OK:
        lines += ["", "## Loading your submission", "", *_block(output)]

    failed = [t for t in row.results.get("tests", []) if t.get("score") != t.get("max_score")]
    lines += ["", "## Tests that failed", ""]
    if not failed:
        lines.append("None: every test passed.")
    for test in failed:
        hidden = test.get("visibility", "visible") != "visible"
        mark = " (hidden test)" if hidden else ""
        earned = f"{float(test.get('score', 0)):g} / {float(test.get('max_score', 0)):g}"
        lines += [f"### {_code(test.get('name', ''))}{mark}: {earned}", ""]
        lines += [*_block(test.get("output", "")), ""]

    if row.mistakes:
        lines += ["## Known mistakes recognised", ""]
        for name in row.mistakes:
            known = hints.get(name)
            hint = f": {_one_line(known.hint)}" if known is not None and known.hint else ""
            where = f" in {_code(known.exercise)}" if known is not None else ""
            lines.append(f"- {_code(name)}{where}{hint}")
    return "\n".join(lines).rstrip("\n") + "\n"


def file_names(labels: Sequence[str]) -> list[str]:
    """A distinct, safe ``.md`` file name for each row label, in order.

    Characters other than letters, digits, ``.``, ``_`` and ``-`` become ``_``; no name starts
    with a dot; names that would clash (ignoring case) get ``-2``, ``-3``...
    """
    taken: set[str] = set()
    names = []
    for label in labels:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", label).lstrip(".")[:MAX_NAME] or "submission"
        name, k = f"{stem}.md", 1
        while name.lower() in taken:
            k += 1
            name = f"{stem}-{k}.md"
        taken.add(name.lower())
        names.append(name)
    return names


def write_feedback(rows: Sequence[Row], assignment: Assignment, folder: str | Path) -> list[Path]:
    """Write :func:`feedback` of each graded row into ``folder`` (which must exist), each file
    atomically; rows whose grader failed get none. Returns the files written."""
    from tfcourse.safe_write import atomic_write_bytes

    hints = {m.name: m for m in declared(assignment.path)}
    written = []
    for row, name in zip(rows, file_names([r.label for r in rows]), strict=True):
        if row.grader_failed:
            continue
        text = feedback(row, assignment, hints)
        written.append(atomic_write_bytes(Path(folder) / name, text.encode(), "--feedback"))
    return written
