"""The pytest plugin that grades a submission (registered as ``tfcourse`` in ``pytest11``).

In a released assignment folder, plain ``pytest`` grades the student's file with the public
tests; an instructor adds the hidden ones and a results file::

    pytest                                            # in the folder `tfcourse release` wrote
    pytest assignments/tutorial1_mlp/tests_*.py --submission work.ipynb --results results.json

Tests are ordinary pytest functions that take the ``sub`` fixture (a :class:`.remote.Submission`)
and carry ``@pytest.mark.points(value, exercise=...)`` (or the :func:`.points.points` wrapper).
They, their expected values and every assertion run here, in the pytest process; the
submission runs only in a contained worker (:mod:`.sandbox`), and only data comes back.
Without ``--submission`` and outside an assignment folder the plugin stays out of the way.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tfcourse.grading import processes, sandbox
from tfcourse.grading.limits import Limits
from tfcourse.grading.remote import Inline, Remote, Submission
from tfcourse.grading.results import (
    Outcome,
    failure_message,
    format_report,
    gradescope,
    mistake_note,
)
from tfcourse.grading.runtime import probe_imports, released_imports

TEST_FILES = ("tests_public.py", "tests_hidden.py")
_LIMIT_FLAGS = {
    "call_timeout": ("--call-timeout", float, "seconds per call into the submission"),
    "test_timeout": ("--test-timeout", float, "seconds per test"),
    "load_timeout": ("--load-timeout", float, "seconds to run the submission file itself"),
    "budget": ("--budget", float, "seconds for the whole submission"),
    "memory_mb": ("--memory-mb", int, "memory cap of the submission's processes (MB)"),
    "max_procs": ("--max-procs", int, "processes and threads the submission may have"),
    "file_size_mb": ("--file-size-mb", int, "largest file the submission may write (MB)"),
    "cpu_seconds": ("--cpu-seconds", int, "CPU seconds the submission may use"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tfcourse", "tfcourse grading")
    group.addoption("--submission", help="the student's .py or .ipynb file to grade")
    group.addoption("--results", help="write Gradescope results.json here")
    group.addoption("--exercise", help="run only the tests of this exercise")
    group.addoption(
        "--sandbox",
        choices=sandbox.MODES,
        default="auto",
        help="containment of the submission (default: the best available)",
    )
    group.addoption(
        "--self-check",
        choices=("on", "off"),
        default="on",
        help="on (default): where exercises.py lies beside the tests, first grade that "
        "reference solution with the same sandbox and limits and refuse to grade anyone unless "
        "it scores full marks (the verdict is cached in $XDG_CACHE_HOME/tfcourse/selfcheck); "
        "off: skip it (the self-check's own run uses this; an instructor may too, but then a "
        "too-tight limit costs students points instead of stopping the grading)",
    )
    defaults = Limits()
    for field, (flag, kind, text) in _LIMIT_FLAGS.items():
        default = getattr(defaults, field)
        group.addoption(flag, type=kind, default=default, help=f"{text} ({default:g})")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "points(value, exercise): points a graded test earns towards an exercise"
    )
    if any(isinstance(p, GradingPlugin) for p in config.pluginmanager.get_plugins()):
        return  # check() registered one with the notebook's namespace
    if config.getoption("submission") or _assignment_folder(config) is not None:
        config.pluginmanager.register(GradingPlugin(), "tfcourse-grading")


def _assignment_folder(config: pytest.Config) -> Path | None:
    """The folder holding ``assignment.json`` (a handout) among the arguments or cwd."""
    candidates = [Path(a.split("::")[0]) for a in config.args] or [config.invocation_params.dir]
    for c in candidates:
        folder = c if c.is_dir() else c.parent
        if (folder / "assignment.json").is_file() or (folder / "exercises.py").is_file():
            return folder.resolve()
    return None


def _default_submission(folder: Path) -> Path:
    from tfcourse.grading.assignment import read_metadata

    name = read_metadata(folder)[0]
    found = [p for p in (folder / f"{name}.py", folder / f"{name}.ipynb") if p.is_file()]
    if not found:
        raise pytest.UsageError(f"no {name}.py or {name}.ipynb here; pass --submission FILE")
    return max(found, key=lambda p: p.stat().st_mtime)  # the one the student saved last


class GradingPlugin:
    """Collects the assignment's tests, provides ``sub`` and writes the grades."""

    def __init__(self, inline: dict[str, Any] | None = None) -> None:
        self.inline = inline
        self.outcomes: dict[str, Outcome] = {}
        self.results: dict[str, Any] | None = None
        self.remote: Any = None
        self.started = time.monotonic()
        self.submission: Path | None = None
        self.diagnosis_errors: list[str] = []  # shown to the instructor, never graded
        self.calls: dict[str, list[Any]] = {}  # nodeid -> (request, reply) pairs of that test

    def pytest_configure(self, config: pytest.Config) -> None:
        self.config, self.folder = config, _assignment_folder(config)
        if self.inline is not None:
            return
        given = config.getoption("submission")
        reference = self.folder / "exercises.py" if self.folder else None
        is_reference = bool(
            given
            and reference
            and reference.is_file()
            and Path(given).is_file()
            and reference.samefile(given)
        )
        if given and not is_reference:
            from tfcourse.grading.autograder import link_problem

            problem = link_problem(Path(given).absolute())  # (the self-check's own is exempt)
            if problem:  # a link may point at any file here, the solution included
                raise pytest.UsageError(f"--submission {given}: {problem}")
        self.submission = Path(given).resolve() if given else _default_submission(self.folder)
        if not self.submission.is_file():
            raise pytest.UsageError(f"--submission {given}: no such file")
        if self.submission.suffix not in (".py", ".ipynb"):
            raise pytest.UsageError(
                f"--submission {given}: submit a .py or .ipynb file, not "
                f"{self.submission.suffix or 'a file without extension'!r}"
            )

    def limits(self) -> Limits:
        values = {f: self.config.getoption(f) for f in _LIMIT_FLAGS}
        for field, value in values.items():
            if not value > 0 or value == float("inf"):
                flag = _LIMIT_FLAGS[field][0]
                raise pytest.UsageError(f"{flag} must be a finite number > 0, not {value}")
        return Limits(**values)

    # ------------------------------------------------------------------ session
    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.inline is not None:
            self.remote = Inline(self.inline)
            return
        from tfcourse.grading.session import WorkerSession

        limits = self.limits()
        mode = sandbox.choose_mode(self.config.getoption("sandbox"))
        self.mode_note = sandbox.describe_mode(mode)
        if mode == "uid":
            from tfcourse.grading.errors import GraderFailure
            from tfcourse.grading.runner import GRADER_FAILURE_EXIT

            try:
                warnings = sandbox.check_uid_mode(self._instructor_files())
            except RuntimeError as exc:
                raise pytest.UsageError(str(exc)) from None
            except GraderFailure as exc:  # nobody is graded: no results.json
                pytest.exit(str(exc), returncode=GRADER_FAILURE_EXIT)
            self.mode_note = "\n".join([self.mode_note, *warnings])
        self._self_check(limits, mode)
        processes.become_subreaper()
        hidden = [self.config.rootpath, self.config.invocation_params.dir, self.submission.parent]
        hidden += [Path(a.split("::")[0]).resolve().parent for a in self.config.args]
        if self.config.getoption("results"):
            hidden.append(Path(self.config.getoption("results")).resolve().parent)
        # all of tfcourse the worker gets: what the student file and the probes import
        modules = released_imports(self.folder) | probe_imports(self.folder)
        hidden = [h.resolve() for h in hidden]
        worker = WorkerSession(self.submission, limits, mode, hidden, modules)
        worker.start()  # loads while pytest collects the tests
        self.remote = Remote(worker)

    def _instructor_files(self) -> list[Path]:
        """What a ``uid``-mode worker must not read: the test files, the assignment folder and
        its ``exercises.py``, the results file's folder (the checkout: see
        :func:`.sandbox.check_uid_mode`)."""
        paths = [Path(a.split("::")[0]).resolve() for a in self.config.args]
        if self.folder is not None:
            paths += [self.folder, self.folder / "exercises.py"]
        if self.config.getoption("results"):
            paths.append(Path(self.config.getoption("results")).resolve().parent)
        return [p for p in dict.fromkeys(paths) if p.exists()]

    def _self_check(self, limits: Limits, mode: str) -> None:
        """Grade the reference solution first, where it is at hand (see :mod:`.selfcheck`).

        A reference short of full marks ends the session (no results.json), with
        :data:`.runner.GRADER_FAILURE_EXIT` and the :class:`.errors.GraderFailure` message.
        """
        from tfcourse.grading import selfcheck
        from tfcourse.grading.errors import GraderFailure
        from tfcourse.grading.runner import GRADER_FAILURE_EXIT

        folder, submission = self.folder, self.submission
        if self.config.getoption("self_check") == "off" or folder is None or submission is None:
            return
        if not (folder / selfcheck.REFERENCE).is_file():
            return  # a handout or Gradescope copy: assignment.json, no solutions
        if selfcheck.is_reference(submission, folder):
            return  # grading the reference is its own check
        try:
            note = selfcheck.ensure_reference_passes(folder, limits, mode)
        except GraderFailure as exc:
            pytest.exit(str(exc), returncode=GRADER_FAILURE_EXIT)
        self.mode_note = "\n".join([self.mode_note, note])

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> Any:
        # files named on the command line are collected by pytest's own python plugin
        if file_path.name in TEST_FILES and not parent.session.isinitpath(file_path):
            return pytest.Module.from_parent(parent, path=file_path)
        return None

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        exercise = config.getoption("exercise")
        keep, dropped = [], []
        for item in items:
            mark = item.get_closest_marker("points")
            if mark is None:
                keep.append(item)
                continue
            value = mark.args[0] if mark.args else mark.kwargs.get("value", 0)
            name = mark.kwargs.get("exercise", mark.args[1] if len(mark.args) > 1 else "")
            if exercise and name != exercise:
                dropped.append(item)
                continue
            stem = Path(str(item.path)).stem
            self.outcomes[item.nodeid] = Outcome(item.name, name, float(value), stem)
            keep.append(item)
        order = self._exercise_order()

        def exercise(item: pytest.Item) -> int:
            return order.get(getattr(self.outcomes.get(item.nodeid), "exercise", ""), len(order))

        def hidden(item: pytest.Item) -> bool:
            return Path(str(item.path)).name == "tests_hidden.py"

        keep.sort(key=exercise)  # the report's order
        self.outcomes = {
            i.nodeid: self.outcomes[i.nodeid] for i in keep if i.nodeid in self.outcomes
        }
        # every public test runs before any hidden probe reaches the worker, so a submission
        # that records what it is sent cannot echo hidden source into a visible message
        keep.sort(key=hidden)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep

    def _exercise_order(self) -> dict[str, int]:
        if self.folder is None:
            return {}
        from tfcourse.grading.assignment import read_metadata

        try:
            return {e: i for i, e in enumerate(read_metadata(self.folder)[3])}
        except Exception:
            return {}

    # ------------------------------------------------------------------ tests
    @pytest.fixture
    def sub(self, request: pytest.FixtureRequest) -> Submission:
        """The submission under test: call its functions, or ``sub.run(probe, ...)``."""
        from tfcourse.grading.errors import GraderFailure
        from tfcourse.grading.runner import GRADER_FAILURE_EXIT

        proxy = Submission(self.remote, 0.0)
        if self._forbidden_use(request.node) is not None:
            return proxy  # the test fails before its first call (pytest_runtest_call)
        request.node._tfcourse_sub = proxy
        try:
            proxy._deadline = self.remote.begin()
        except GraderFailure as exc:  # the grader's setup: nobody is graded, no results.json
            self.grader_failure = str(exc)
            pytest.exit(self.grader_failure, returncode=GRADER_FAILURE_EXIT)
        return proxy

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        """A test of an exercise that breaks its rule (:mod:`.forbidden`) fails unrun."""
        violation = self._forbidden_use(item)
        if violation is not None:
            from tfcourse.grading.forbidden import ForbiddenUse

            raise ForbiddenUse(violation.message())

    def _forbidden_use(self, item: pytest.Item) -> Any:
        """The forbidden use in the code of ``item``'s exercise, read from the submission's
        source in this process (never run), or None; each exercise is checked once."""
        outcome = self.outcomes.get(item.nodeid)
        if outcome is None:
            return None
        from tfcourse.grading import forbidden

        checker = getattr(self, "_checker", None)
        if checker is None:
            if self.inline is not None:
                rules = forbidden.inline_rules(self.folder, self.inline)
                checker = forbidden.Checker(rules, namespace=self.inline)
            else:
                from tfcourse.grading.errors import AssignmentError
                from tfcourse.grading.runner import GRADER_FAILURE_EXIT

                try:
                    rules = forbidden.read_rules(self.folder)
                except AssignmentError as exc:  # the instructor's: nobody is graded
                    self.grader_failure = str(exc)
                    pytest.exit(self.grader_failure, returncode=GRADER_FAILURE_EXIT)
                checker = forbidden.Checker(rules, path=self.submission)
            self._checker = checker
        if self.inline is not None:
            try:  # check() in a student's notebook: the grader is the judge, never crash here
                return checker.violation(outcome.exercise)
            except Exception:
                return None
        return checker.violation(outcome.exercise)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        report = yield
        outcome = self.outcomes.get(item.nodeid)
        if outcome is None or not (report.when == "call" or report.failed):
            return report
        outcome.passed = report.passed and report.when == "call"
        if report.failed and call.excinfo is not None:
            statement = None
            for entry in reversed(call.excinfo.traceback):
                if Path(str(entry.path)) == Path(str(item.path)):
                    statement = str(entry.statement).strip().splitlines()[0]
                    break
            proxy = getattr(item, "_tfcourse_sub", None)
            printed = proxy.printed if proxy is not None else ""
            outcome.output = failure_message(call.excinfo.value, statement, printed)
        proxy = getattr(item, "_tfcourse_sub", None)
        if proxy is not None and self.inline is None and report.when == "call":
            self.calls[item.nodeid] = proxy._log  # replayed against known mistakes at the end
        return report

    def _diagnose(self) -> None:
        """Name the known mistakes the submission's failures match, exercise by exercise.

        Instructor code (the reference and its mistakes) replays, here in pytest's process, the
        calls every test of a failed exercise made to the submission (see
        :func:`.mistakes.diagnose`); only possible where ``exercises.py`` sits beside the tests.
        """
        if self.folder is None or not (self.folder / "exercises.py").is_file():
            return
        from tfcourse.grading.mistakes import diagnose

        failed = {o.exercise for o in self.outcomes.values() if not o.passed}
        for exercise in sorted(failed):
            tests = [
                (nodeid, o)
                for nodeid, o in self.outcomes.items()
                if o.exercise == exercise and nodeid in self.calls
            ]
            failing = [self.calls[n] for n, o in tests if not o.passed]
            passing = [self.calls[n] for n, o in tests if o.passed]
            try:
                found = diagnose(self.folder, exercise, failing, passing)
            except Exception as exc:  # a diagnosis never changes a grade
                self.diagnosis_errors.append(f"{exercise}: {type(exc).__name__}: {exc}")
                continue
            for _, o in tests:
                if not o.passed and found:
                    o.mistakes = [m.name for m in found]
                    o.output += mistake_note(found)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        notes = []
        worker = getattr(self.remote, "session", None)
        if worker is not None:
            notes = [f"Problem while loading your submission: {e}" for e in worker.load_errors]
            worker.close()
        failure = getattr(self, "grader_failure", "")
        if failure:  # pytest shows no summary for this exit status: say it here, write nothing
            import sys

            from tfcourse.grading.runner import report_grader_failure

            report_grader_failure(failure, sys.stderr)
            return
        self._diagnose()
        seconds = time.monotonic() - self.started
        self.results = gradescope(list(self.outcomes.values()), notes, seconds)
        path = self.config.getoption("results")
        if path:
            from tfcourse.safe_write import atomic_write_json

            atomic_write_json(Path(path), self.results)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.results is None or self.inline is not None:
            return
        terminalreporter.section("tfcourse grades")
        terminalreporter.write_line(f"graded {self.submission} (choose another with --submission)")
        terminalreporter.write_line(self.mode_note)
        terminalreporter.write_line(format_report(self.results))
