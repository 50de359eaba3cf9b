"""The ``release``, ``grade``, ``mistakes`` and ``autograder build`` commands: parsers, handlers.

``tfcourse.cli`` adds them with :func:`add_grading_commands`. Building the parsers imports
nothing heavy; a handler imports the grading modules it needs when it runs (never TensorFlow
for a submission: grading happens in pytest and worker processes; ``mistakes`` runs the
instructor's own ``exercises.py``, which may import it). Mistakes raise
:class:`~tfcourse.errors.TfcourseError` subclasses, which the CLI prints on one line (exit 2).

Examples::

    tfcourse release tutorial1_mlp handout/
    tfcourse grade work.ipynb --assignment tutorial1_mlp --results results.json
    tfcourse grade submissions/ --assignment tutorial1_mlp --jobs 2 --csv grades.csv
    tfcourse mistakes tutorial1_mlp tutorial2_a2c
    tfcourse autograder build tutorial1_mlp tutorial1_autograder.zip
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from tfcourse.errors import ConfigError

SOURCE_HELP = (
    "folder holding the assignments (default: ./assignments, else the assignments/ folder of "
    "the tfcourse checkout that is installed)"
)
TIMEOUT_HELP = "seconds allowed per call into the submission (default: 60)"
MISTAKES_HELP = "check that the tests grade every known mistake and alternative right"
MISTAKES_DESCRIPTION = (
    "Mutation analysis of each assignment's tests: the reference must pass every test; each "
    "@mistake must fail a test of its own exercise (and of no other) and be named by the "
    "diagnosis; each @alternative must keep full marks. Prints a summary per assignment and "
    "one line per problem; exits 1 if there is any."
)


def add_grading_commands(sub: Any) -> None:
    """Add ``release``, ``grade`` and ``autograder build`` to ``sub`` (argparse subparsers)."""
    release = sub.add_parser("release", help="write the student version of an assignment")
    release.add_argument("assignment", help="assignment name, e.g. tutorial1_mlp")
    release.add_argument("out_dir", help="folder to create for the students")
    release.add_argument("--source", default=None, help=SOURCE_HELP)
    release.add_argument("--force", action="store_true", help="replace a non-empty OUT_DIR")
    release.add_argument(
        "--install",
        default=None,
        metavar="WHEEL_OR_URL",
        help="what the notebook's first cell pip-installs where tfcourse is missing, e.g. the "
        "URL of a published wheel (default: $TFCOURSE_INSTALL, else the course repository)",
    )
    release.set_defaults(handler=cmd_release)

    grade = sub.add_parser(
        "grade",
        help="grade one submission, or a class (folders / several files) into a CSV",
        description="One file: print its report (and --results). Several files or folders: "
        "grade them --jobs at a time, one CSV row each (--csv, else printed), print a class "
        "summary and, with --feedback, write a Markdown feedback file per submission. Exits 2 "
        "if the grader itself failed on any submission.",
    )
    grade.add_argument(
        "submissions",
        nargs="+",
        metavar="DIR_OR_FILE",
        help="a .py/.ipynb file, or a folder of them (a sub-folder per student also works)",
    )
    grade.add_argument("--assignment", required=True, help="assignment name or folder")
    grade.add_argument("--source", default=None, help=SOURCE_HELP)
    grade.add_argument("--results", default=None, help="also write Gradescope results.json")
    grade.add_argument("--timeout", type=float, default=60.0, help=TIMEOUT_HELP)
    grade.add_argument(
        "--sandbox",
        choices=("auto", "bwrap", "uid", "none"),
        default="auto",
        help="containment of the submissions (default auto: bwrap where it works, else uid as "
        "root, else none; README 'What the sandbox guarantees')",
    )
    grade.add_argument(
        "--jobs", type=int, default=1, help="submissions graded at once (default: 1)"
    )
    grade.add_argument("--csv", default=None, help="write the grades to this CSV file")
    grade.add_argument(
        "--feedback",
        default=None,
        metavar="DIR",
        help="write one Markdown feedback file per submission into DIR (created if missing): "
        "score per exercise, failed tests' messages (hidden ones marked), known mistakes",
    )
    grade.set_defaults(handler=cmd_grade)

    known = sub.add_parser("mistakes", help=MISTAKES_HELP, description=MISTAKES_DESCRIPTION)
    known.add_argument("assignments", nargs="+", metavar="ASSIGNMENT", help="name or folder")
    known.add_argument("--source", default=None, help=SOURCE_HELP)
    known.add_argument(
        "--json", action="store_true", help="print the reports as JSON (a list), nothing else"
    )
    known.set_defaults(handler=cmd_mistakes)

    autograder = sub.add_parser("autograder", help="Gradescope autograder packaging")
    auto_sub = autograder.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = auto_sub.add_parser("build", help="write a Gradescope autograder zip")
    build.add_argument("assignment", help="assignment name, e.g. tutorial1_mlp")
    build.add_argument("out_zip", help="the .zip file to write")
    build.add_argument("--source", default=None, help=SOURCE_HELP)
    build.add_argument("--timeout", type=float, default=60.0, help=TIMEOUT_HELP)
    build.set_defaults(handler=cmd_autograder_build)


def check_timeout(value: float, flag: str = "--timeout") -> float:
    """``value`` if it is a finite number of seconds > 0.

    Raises:
        ConfigError: naming ``flag``.
    """
    if math.isnan(value) or math.isinf(value):
        raise ConfigError(f"{flag} must be a finite number of seconds, got {value:g}")
    if value <= 0:
        raise ConfigError(f"{flag} must be > 0 seconds, got {value:g}")
    return value


def cmd_release(args: argparse.Namespace) -> int:
    from tfcourse.grading.release import release

    out = release(
        args.assignment, args.out_dir, source=args.source, force=args.force, install=args.install
    )
    print(f"student version of {args.assignment!r} written to {out}/")
    return 0


def cmd_mistakes(args: argparse.Namespace) -> int:
    import json

    from tfcourse.grading.assignment import load
    from tfcourse.grading.mistakes import SOURCE_FILE, problems, report

    folders = [load(name, args.source).path for name in args.assignments]
    for folder in folders:
        if not (folder / SOURCE_FILE).is_file():
            raise ConfigError(
                f"ASSIGNMENT {folder.name}: {folder / SOURCE_FILE} is missing (the reference "
                "solution, where the @mistake and @alternative declarations live)"
            )
    reports = [report(folder) for folder in folders]
    found = [problems(rep) for rep in reports]
    if args.json:
        print(json.dumps(reports))
        return 1 if any(found) else 0
    for rep, lines in zip(reports, found, strict=True):
        real = [e for e in rep["mistakes"] if not e["correct"]]
        alts = [e for e in rep["mistakes"] if e["correct"]]
        print(
            f"{rep['assignment']}: {sum(e['caught'] for e in real)}/{len(real)} mistakes "
            f"caught ({sum(e['public'] for e in real)} by a public test), "
            f"{sum(bool(e['named']) for e in real)} named, "
            f"{sum(bool(e['elsewhere']) for e in real)} charged elsewhere; "
            f"{sum(e['caught'] for e in alts)}/{len(alts)} alternatives keep full marks"
        )
        for line in lines:
            print(f"  {line}")
    return 1 if any(found) else 0


def cmd_autograder_build(args: argparse.Namespace) -> int:
    from tfcourse.grading.autograder_zip import build

    check_timeout(args.timeout)
    out = build(args.assignment, args.out_zip, source=args.source, timeout=args.timeout)
    print(f"Gradescope autograder for {args.assignment!r} written to {out}")
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    from tfcourse.grading.assignment import load

    check_timeout(args.timeout)
    if args.jobs < 1:
        raise ConfigError(f"--jobs must be >= 1 submissions at once, got {args.jobs}")
    csv_path = _check_file_flag("--csv", args.csv, "grades.csv")
    _check_file_flag("--results", args.results, "results.json")
    feedback_dir = _check_dir_flag("--feedback", args.feedback)
    paths = [Path(p) for p in args.submissions]
    assignment = load(args.assignment, args.source)
    if len(paths) == 1 and not paths[0].is_dir() and csv_path is None and feedback_dir is None:
        return _grade_one(paths[0], assignment, args)
    return _grade_batch(paths, assignment, csv_path, feedback_dir, args)


def _check_file_flag(flag: str, given: str | None, example: str) -> Path | None:
    """An output file flag's path, checked before minutes of grading are spent."""
    if given is None:
        return None
    path = Path(given)
    if path.is_dir():
        raise ConfigError(f"{flag} {given}: is a folder; give a file name such as {example}")
    if not path.resolve().parent.is_dir():
        raise ConfigError(f"{flag} {given}: folder {str(path.parent)!r} does not exist")
    return path


def _check_dir_flag(flag: str, given: str | None) -> Path | None:
    """An output folder flag's path, created now (with its parents) if missing.

    Raises:
        ConfigError: it is a file, or it cannot be created.
    """
    if given is None:
        return None
    path = Path(given)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{flag} {given}: is a file; give a folder (it is created if missing)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{flag} {given}: cannot create this folder ({exc.strerror})") from None
    return path


def _grade_one(path: Path, assignment: Any, args: argparse.Namespace) -> int:
    from tfcourse.grading import sandbox
    from tfcourse.grading.results import format_report
    from tfcourse.grading.runner import grade, write_results

    mode = sandbox.choose_mode(args.sandbox)
    print(f"tfcourse: {sandbox.describe_mode(mode)}", file=sys.stderr)
    results = grade(path, assignment, timeout=args.timeout, sandbox=mode)
    if args.results:
        write_results(results, args.results)
    print(format_report(results))
    return 0


def _grade_batch(
    paths: list[Path],
    assignment: Any,
    csv_path: Path | None,
    feedback_dir: Path | None,
    args: argparse.Namespace,
) -> int:
    """Grade a class: CSV (``--csv`` or stdout), class summary, ``--feedback`` files.

    Returns 2 when the grader itself failed on a submission (after writing everything else).
    """
    from tfcourse.grading import batch, classview, sandbox
    from tfcourse.grading.errors import SubmissionError
    from tfcourse.grading.printable import printable
    from tfcourse.grading.runner import write_results

    items, ignored = batch.collect(paths, assignment.name)
    if not items:
        listed = ", ".join(str(p) for p in paths)
        raise SubmissionError(f"no .py or .ipynb submission found in {listed}")
    if args.results and len(items) > 1:
        raise ConfigError(
            "--results writes one submission's results.json; "
            f"for {len(items)} submissions use --csv FILE"
        )
    for path in ignored:
        shown = printable(str(path), multiline=False)
        print(f"tfcourse: skipping {shown} (not a .py or .ipynb file)", file=sys.stderr)
    jobs = args.jobs
    mode = sandbox.choose_mode(args.sandbox)
    if jobs > 1 and mode == "uid":
        print(
            "tfcourse: note: without bubblewrap, submissions run as uid nobody, which "
            "parallel gradings would share; grading one at a time (--jobs 1)",
            file=sys.stderr,
        )
        jobs = 1
    print(f"tfcourse: {sandbox.describe_mode(mode)}", file=sys.stderr)
    _self_check_once(assignment, args.timeout, mode)
    rows = batch.grade_items(items, assignment, jobs=jobs, timeout=args.timeout, sandbox=mode)
    if args.results and rows[0].results is not None:
        write_results(rows[0].results, args.results)
    report = sys.stdout
    if csv_path is None:
        print(batch.csv_text(rows, assignment.exercises), end="")
        report = sys.stderr  # stdout is the CSV
    else:
        batch.write_csv(rows, assignment.exercises, csv_path)
        print(
            f"grades of {len(rows)} submissions (max {assignment.max_score:g} points) written "
            f"to {csv_path}"
        )
    print(classview.summary(rows, assignment), file=report)
    if feedback_dir is not None:
        written = classview.write_feedback(rows, assignment, feedback_dir)
        print(f"feedback for {len(written)} submissions written to {feedback_dir}/", file=report)
    failures = sum(1 for r in rows if r.grader_failed)
    if failures:
        print(
            f"tfcourse: error: the grader failed on {failures} of {len(rows)} submissions "
            f"(error column 'grader failure: ...'); fix the grader's setup as it says and grade "
            "them again",
            file=sys.stderr,
        )
        return 2
    return 0


def _self_check_once(assignment: Any, timeout: float, mode: str) -> None:
    """Grade the reference once before a class (each grading then finds the verdict cached).

    Raises:
        GraderFailure: the reference loses points under these limits: nobody is graded.
    """
    from tfcourse.grading import selfcheck
    from tfcourse.grading.limits import Limits

    folder = assignment.path.resolve()
    if not (folder / selfcheck.REFERENCE).is_file():
        return  # a handout or Gradescope copy: no solutions to check
    note = selfcheck.ensure_reference_passes(folder, Limits(call_timeout=timeout), mode)
    print(f"tfcourse: {note}", file=sys.stderr)
