"""The grader survives wrong and hostile submissions and always reports a valid result.

Every case grades a file from ``tests/grading_fixtures/submissions`` against the numpy-only
``toy`` assignment (max 6 points: add 1+1, mean_square 2, scale 1+1) and checks the exact
score and the message a student would read. The gradings are independent, so the module's
fixture :func:`graded` starts them all at once on the ``grading_pool`` (two at a time under
bubblewrap) and each test reads the results it checks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import Future, wait
from pathlib import Path

import nbformat
import pytest

from tfcourse.grading.assignment import load
from tfcourse.grading.errors import SubmissionError
from tfcourse.grading.markers import strip_solutions
from tfcourse.grading.runner import format_report, grade, write_results

FIXTURES = Path(__file__).parent / "grading_fixtures"
SUBMISSIONS = FIXTURES / "submissions"
TOY = load("toy", FIXTURES)


def _scores(results: dict) -> dict[str, float]:
    return {t["name"].split(":")[1].split("(")[0].strip(): t["score"] for t in results["tests"]}


def _output(results: dict, test: str) -> str:
    return next(t["output"] for t in results["tests"] if f" {test} " in t["name"])


def _notebook(path: Path) -> Path:
    v4 = nbformat.v4
    nb = v4.new_notebook(
        cells=[
            v4.new_markdown_cell("# my work"),
            v4.new_code_cell("import numpy as np\n%matplotlib inline\n!pip list"),
            v4.new_code_cell("def add(a, b):\n    return a + b"),
            v4.new_code_cell('check("add")'),
            v4.new_code_cell("1 / 0"),
            v4.new_code_cell("def scale(x, factor):\n    return np.asarray(x) * factor"),
        ]
    )
    nbformat.write(nb, path)
    return path


def _forger(folder: Path) -> Path:
    """Tries to write a 999-point results.json where the grader writes, and in its cwd."""
    folder.mkdir()
    results_path, sub = folder / "results.json", folder / "forger.py"
    sub.write_text(
        "import json\n"
        "try:\n"
        f"    json.dump({{'score': 999, 'tests': []}}, open({str(results_path)!r}, 'w'))\n"
        "except OSError:\n    pass\n"
        "json.dump({'score': 999}, open('results.json', 'w'))\n"
        "def add(a, b):\n    return a + b\n"
    )
    return sub


PLAIN = (
    "exceptions.py",
    "sys_exit.py",
    "os_exit.py",
    "import_crash.py",
    "import_os_exit.py",
    "missing_function.py",
    "reads_tests.py",
    "noisy.py",
)


@pytest.fixture(scope="module")
def graded_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("graded")


@pytest.fixture(scope="module")
def graded(grading_pool, graded_dir) -> dict[str, Future]:
    """Every grading of this module, started at once: ``name -> Future`` of its results."""
    stub = graded_dir / "stub.py"
    stub.write_text(strip_solutions((FIXTURES / "toy" / "exercises.py").read_text()))
    broken = graded_dir / "broken.ipynb"
    broken.write_text("{not json")
    jobs: dict[str, tuple[Path, dict]] = {
        "solution": (FIXTURES / "toy" / "exercises.py", {}),
        "stub": (stub, {}),
        "infinite_loop.py": (SUBMISSIONS / "infinite_loop.py", {"timeout": 2}),
        "notebook": (_notebook(graded_dir / "work.ipynb"), {}),
        "forger": (_forger(graded_dir / "forger"), {}),
        "broken.ipynb": (broken, {}),
    }
    for name in PLAIN:
        jobs[name] = (SUBMISSIONS / name, {})
    futures = {k: grading_pool.submit(grade, path, TOY, **kw) for k, (path, kw) in jobs.items()}
    wait(futures.values())  # before any test runs: see grading_pool
    return futures


def test_toy_assignment_is_parsed_with_points_and_visibility():
    assert TOY.exercises == ("add", "mean_square", "scale")
    assert TOY.max_score == 6
    assert [(t.name, t.points, t.visibility) for t in TOY.tests] == [
        ("test_add_small", 1.0, "visible"),
        ("test_add_negative", 1.0, "after_published"),
        ("test_mean_square", 2.0, "visible"),
        ("test_scale", 1.0, "visible"),
        ("test_scale_does_not_modify_input", 1.0, "after_published"),
    ]


def test_solution_gets_max_and_stub_gets_zero(graded):
    results = graded["solution"].result()
    assert results["score"] == results["max_score"] == 6
    assert {t["output"] for t in results["tests"]} == {"passed"}
    results = graded["stub"].result()
    assert results["score"] == 0
    assert _output(results, "test_add_small") == (
        "not implemented yet (add: write your solution here)"
    )


def test_exceptions_are_reported_with_the_students_line(graded):
    results = graded["exceptions.py"].result()
    assert results["score"] == 3  # add 2, scale's public test 1
    assert _output(results, "test_mean_square") == (
        "ValueError: I gave up on this one (in your code, line 6: "
        '`raise ValueError("I gave up on this one")`)'
    )
    assert _output(results, "test_scale_does_not_modify_input") == (
        "scale must not modify its input"
    )


def test_infinite_loop_times_out_and_the_rest_is_graded(graded):
    results = graded["infinite_loop.py"].result()
    assert _scores(results) == {
        "test_add_small": 0,
        "test_add_negative": 0,
        "test_mean_square": 2,
        "test_scale": 1,
        "test_scale_does_not_modify_input": 1,
    }
    assert _output(results, "test_add_small").startswith("timed out after 2 s")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("sys_exit.py", "SystemExit(0) (in your code, line 7: `sys.exit(0)`)"),
        ("os_exit.py", "your code ended the Python process (exit code 0, e.g. os._exit or exit)"),
    ],
)
def test_exits_fail_one_test_and_a_new_worker_grades_the_rest(graded, name, message):
    results = graded[name].result()
    assert results["score"] == 4
    assert _output(results, "test_add_small") == message
    assert _output(results, "test_add_negative") == message


def test_crash_at_import_keeps_what_was_defined_before(graded):
    results = graded["import_crash.py"].result()
    assert results["score"] == 2  # add is defined above the crash
    assert "import_crash.py raised RuntimeError: boom at import on line 8" in results["output"]
    assert _output(results, "test_scale") == (
        "your submission does not define `scale` (check the spelling and run its cell)"
    )


def test_os_exit_at_import_fails_every_test_with_the_reason(graded):
    results = graded["import_os_exit.py"].result()
    assert results["score"] == 0 and len(results["tests"]) == 5
    assert {t["output"] for t in results["tests"]} == {
        "loading your submission failed: your code ended the Python process "
        "(exit code 3, e.g. os._exit or exit)"
    }


def test_missing_function_is_named(graded):
    results = graded["missing_function.py"].result()
    assert results["score"] == 4
    assert "does not define `scale`" in _output(results, "test_scale")


def test_submission_cannot_see_the_tests(graded):
    results = graded["reads_tests.py"].result()
    # every answer is wrong unless it found tests_*.py near its cwd or an ASSIGN* variable;
    # only the hidden "input unchanged" test passes (it does not look at the answer)
    assert results["score"] == 1
    assert _output(results, "test_add_small") == "add(2, 3) should be 5, got 'no tests found'"


def test_prints_forged_replies_and_input_do_not_fool_the_grader(graded):
    results = graded["noisy.py"].result()
    assert _scores(results) == {
        "test_add_small": 0,
        "test_add_negative": 0,
        "test_mean_square": 0,
        "test_scale": 1,
        "test_scale_does_not_modify_input": 1,
    }
    add_output = _output(results, "test_add_small")
    assert add_output.startswith("add(2, 3) should be 5, got 6\nyour code printed:\n...")
    assert len(add_output) < 700  # the 100,000 printed characters are cut
    assert _output(results, "test_mean_square").startswith("EOFError: EOF when reading a line")


def test_notebook_failing_midway_reports_the_cell_and_runs_the_next_ones(graded):
    results = graded["notebook"].result()
    assert _scores(results)["test_scale"] == 1  # defined in the cell after the failing one
    assert results["score"] == 4  # add 2, scale 2; mean_square is not in the notebook
    assert results["output"] == (
        "Problem while loading your submission: code cell 4 of 5 (the one starting `1 / 0`) "
        "raised ZeroDivisionError: division by zero on line 1"
    )


def test_results_file_is_written_by_the_parent_only(graded, graded_dir):
    folder = graded_dir / "forger"
    results_path = folder / "results.json"
    results = graded["forger"].result()
    write_results(results, results_path)
    written = json.loads(results_path.read_text())
    assert written["score"] == 2 and written["max_score"] == 6
    assert [t["visibility"] for t in written["tests"]].count("after_published") == 2
    # replaced atomically, no temporary file left beside it
    assert sorted(p.name for p in folder.iterdir()) == ["forger.py", "results.json"]


def test_bad_submission_paths_raise_clear_errors(tmp_path, graded):
    with pytest.raises(SubmissionError, match="does not exist"):
        grade(tmp_path / "nope.py", TOY)
    text = tmp_path / "answers.txt"
    text.write_text("42")
    with pytest.raises(SubmissionError, match=r"submit a \.py or \.ipynb file"):
        grade(text, TOY)
    results = graded["broken.ipynb"].result()  # "{not json": the worker reports it; all 0
    assert results["score"] == 0
    assert "not a readable Jupyter notebook" in results["output"]


def test_report_lists_failures_and_the_total(graded):
    results = graded["missing_function.py"].result()
    report = format_report(results)
    assert report.splitlines()[-1] == "Score: 4 / 6"
    assert "FAIL 0/1  scale: test_scale (tests_public)" in report
    public_only = format_report(results, show_hidden=False)
    assert "test_add_negative" not in public_only


def test_cli_grade_with_a_bad_timeout_exits_2_before_grading():
    """A graded ``python -m tfcourse.cli grade ... --results`` run is in test_assignments
    (every released notebook) and test_grading_batch (this file's exceptions.py: 3 / 6)."""
    cmd = [
        sys.executable,
        "-m",
        "tfcourse.cli",
        "grade",
        str(SUBMISSIONS / "exceptions.py"),
        "--assignment",
        str(FIXTURES / "toy"),
        "--timeout",
        "0",
    ]
    bad = subprocess.run(cmd, capture_output=True, text=True, timeout=240, check=False)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1] == (
        "tfcourse: error: --timeout must be > 0 seconds, got 0"
    )
    assert bad.stdout == ""  # nothing was graded


def test_a_test_sees_the_type_of_what_the_submission_raised(tmp_path):
    """`StudentError.types` names the exception class and its bases, as plain data."""
    (tmp_path / "tests_public.py").write_text(
        "import pytest\n"
        "from tfcourse.grading.points import points\n"
        "from tfcourse.grading.session import StudentError\n\n"
        "@points(1, exercise='add')\n"
        "def test_types(sub):\n"
        "    with pytest.raises(StudentError) as info:\n"
        "        sub.add('a', 1)\n"
        "    assert info.value.types[:2] == ('TypeError', 'Exception')\n"
        "    assert str(info.value).startswith('TypeError: can only concatenate str')\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests_public.py",
            "-p",
            "no:cacheprovider",
            "--submission",
            str(FIXTURES / "toy" / "exercises.py"),
            "-c",
            os.devnull,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert "Score: 1 / 1" in done.stdout
