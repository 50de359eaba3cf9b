"""Batch grading: ``tfcourse grade DIR_OR_FILES... --jobs N --csv grades.csv``.

Graded against the numpy-only ``toy`` assignment (add 1+1, mean_square 2, scale 1+1 = 6 points)
with files from ``tests/grading_fixtures/submissions``; the expected points are worked out by
hand in each test.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tfcourse.errors import ConfigError
from tfcourse.grading import batch, commands
from tfcourse.grading.assignment import load
from tfcourse.grading.commands import add_grading_commands

FIXTURES = Path(__file__).parent / "grading_fixtures"
SUBMISSIONS = FIXTURES / "submissions"
SOLUTION = FIXTURES / "toy" / "exercises.py"
TOY = load("toy", FIXTURES)


def _run(*argv: str) -> int:
    """Parse and run ``tfcourse <argv>`` with the grading commands only."""
    parser = argparse.ArgumentParser(prog="tfcourse")
    add_grading_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.handler(args)


def _grade(*argv: str) -> int:
    return _run("grade", *argv, "--assignment", "toy", "--source", str(FIXTURES))


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as f:
        return {row["submission"]: row for row in csv.DictReader(f)}


def test_a_folder_of_four_with_two_jobs_gives_points_per_exercise(tmp_path):
    folder = tmp_path / "class"
    (folder / "bob").mkdir(parents=True)
    shutil.copy(SOLUTION, folder / "alice.py")
    shutil.copy(SUBMISSIONS / "exceptions.py", folder / "carol.py")
    shutil.copy(SUBMISSIONS / "missing_function.py", folder / "dan.py")
    # bob uploaded a folder: his toy.py is graded, not the helpers.py beside it
    shutil.copy(SUBMISSIONS / "sys_exit.py", folder / "bob" / "toy.py")
    (folder / "bob" / "helpers.py").write_text("def add(a, b):\n    return a + b\n")
    (folder / "notes.txt").write_text("not a submission")
    out = tmp_path / "grades.csv"
    assert _grade(str(folder), "--jobs", "2", "--csv", str(out)) == 0
    with open(out, newline="") as f:
        header = next(csv.reader(f))
    assert ",".join(header) == "submission,file,add,mean_square,scale,total,mistakes,error"
    rows = _rows(out)
    assert list(rows) == ["alice.py", "bob", "carol.py", "dan.py"]  # notes.txt skipped
    points = {k: [r["add"], r["mean_square"], r["scale"], r["total"]] for k, r in rows.items()}
    assert points == {
        "alice.py": ["2", "2", "2", "6"],  # the solution
        "bob": ["0", "2", "2", "4"],  # add calls sys.exit: both add tests fail
        "carol.py": ["2", "0", "1", "3"],  # mean_square raises; scale modifies its input
        "dan.py": ["2", "2", "0", "4"],  # no scale
    }
    assert rows["bob"]["file"] == str(folder / "bob" / "toy.py")
    assert all(r["error"] == "" for r in rows.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["class", "grades.csv"]  # atomic


def test_missing_and_garbage_files_get_a_row_with_the_error(tmp_path, capsys):
    garbage = tmp_path / "answers.txt"
    garbage.write_text("42")
    broken = tmp_path / "broken.ipynb"
    broken.write_bytes(b"\x00\xff not a notebook")
    out = tmp_path / "grades.csv"
    files = [str(tmp_path / "nope.py"), str(garbage), str(broken), str(SUBMISSIONS / "os_exit.py")]
    assert _grade(*files, "--csv", str(out)) == 0
    rows = _rows(out)
    assert rows["nope.py"]["error"] == f"submission {str(tmp_path / 'nope.py')!r} does not exist"
    assert rows["answers.txt"]["error"] == "answers.txt: submit a .py or .ipynb file, not '.txt'"
    assert "not a readable Jupyter notebook" in rows["broken.ipynb"]["error"]
    for name in ("nope.py", "answers.txt", "broken.ipynb"):
        assert [rows[name][c] for c in ("add", "mean_square", "scale", "total")] == ["0"] * 4
    # os._exit(0) in add: both add tests fail, the rest is graded by a fresh worker
    assert [rows["os_exit.py"][c] for c in ("add", "mean_square", "scale", "total")] == [
        "0",
        "2",
        "2",
        "4",
    ]
    assert "could not be graded" in capsys.readouterr().out  # 2 rows have no results


def test_a_grader_crash_on_one_submission_keeps_the_other_rows():
    items = [batch.Item("a", Path("a.py")), batch.Item("b", Path("b.py"))]

    def grader(item, assignment, **options):
        if item.label == "a":
            raise RuntimeError("grader bug")
        return batch.Row(item.label, str(item.path), {"add": 1.0}, 1.0)

    rows = batch.grade_items(items, TOY, jobs=2, progress=False, grader=grader)
    assert [(r.label, r.total, r.error) for r in rows] == [
        ("a", 0.0, "grader failure: RuntimeError('grader bug')"),
        ("b", 1.0, ""),
    ]
    assert rows[0].points == {"add": 0.0, "mean_square": 0.0, "scale": 0.0}
    assert [r.grader_failed for r in rows] == [True, False]


def test_exercise_points_sum_each_exercises_tests():
    results = {
        "tests": [
            {"name": t.title, "score": s}
            for t, s in zip(TOY.tests, [1.0, 0.0, 2.0, 0.0, 1.0], strict=True)
        ]
    }
    assert batch.exercise_points(results, TOY) == {"add": 1.0, "mean_square": 2.0, "scale": 1.0}


def test_one_file_without_csv_prints_the_report_and_writes_results(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert _grade(str(SUBMISSIONS / "exceptions.py"), "--results", str(out)) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[-1] == "Score: 3 / 6"
    assert "FAIL 0/2  mean_square: test_mean_square (tests_public)" in printed
    assert json.loads(out.read_text())["score"] == 3


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--timeout", "nan"], "--timeout must be a finite number of seconds, got nan"),
        (["--timeout", "inf"], "--timeout must be a finite number of seconds, got inf"),
        (["--timeout", "0"], "--timeout must be > 0 seconds, got 0"),
        (["--jobs", "0"], "--jobs must be >= 1 submissions at once, got 0"),
        (["--csv", "/nonexistent-dir/g.csv"], "folder '/nonexistent-dir' does not exist"),
    ],
)
def test_bad_flags_are_config_errors_naming_the_flag(flags, message):
    with pytest.raises(ConfigError) as info:
        _grade(str(SUBMISSIONS / "exceptions.py"), *flags)
    assert message in str(info.value)


def test_csv_naming_a_folder_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"is a folder; give a file name such as grades\.csv"):
        _grade(str(SUBMISSIONS / "exceptions.py"), "--csv", str(tmp_path))


def test_results_with_several_submissions_is_refused_before_grading(tmp_path):
    with pytest.raises(ConfigError, match="for 2 submissions use --csv FILE"):
        _grade(str(SUBMISSIONS / "exceptions.py"), str(SOLUTION), "--results", "r.json")


def test_autograder_build_checks_its_timeout(tmp_path):
    with pytest.raises(ConfigError, match="--timeout must be a finite number"):
        _run("autograder", "build", "toy", str(tmp_path / "a.zip"), "--timeout", "inf")
    assert list(tmp_path.iterdir()) == []


def test_building_the_parser_imports_no_tensorflow_numpy_or_pytest():
    code = (
        "import argparse, sys\n"
        "from tfcourse.grading.commands import add_grading_commands\n"
        "add_grading_commands(argparse.ArgumentParser().add_subparsers())\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'numpy', "
        "'pytest', 'keras', 'tqdm'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr


def test_without_csv_the_grades_are_printed_and_uid_mode_grades_one_at_a_time(
    tmp_path, capsys, monkeypatch
):
    from tfcourse.grading import sandbox

    seen = {}

    def fake_grade_items(items, assignment, jobs, **options):
        seen["jobs"] = jobs
        zeros = dict.fromkeys(assignment.exercises, 0.0)
        return [batch.Row(i.label, str(i.path), {**zeros, "add": 2.0}, 2.0) for i in items]

    monkeypatch.setattr(sandbox, "choose_mode", lambda requested="auto": "uid")
    monkeypatch.setattr(batch, "grade_items", fake_grade_items)
    monkeypatch.setattr(commands, "_self_check_once", lambda *args: None)  # not graded here
    files = [tmp_path / "a.py", tmp_path / "b.ipynb"]
    for f in files:
        f.write_text("")
    assert _grade(str(tmp_path), "--jobs", "4") == 0
    captured = capsys.readouterr()
    assert seen["jobs"] == 1  # parallel gradings would share uid nobody
    assert "grading one at a time (--jobs 1)" in captured.err
    assert captured.out == (
        "submission,file,add,mean_square,scale,total,mistakes,error\n"
        f"a.py,{files[0]},2,0,0,2,,\n"
        f"b.ipynb,{files[1]},2,0,0,2,,\n"
    )


@pytest.mark.parametrize(
    ("results", "message"),
    [
        ("{tmp}", "--results {tmp}: is a folder; give a file name such as results.json"),
        ("{tmp}/no/r.json", "--results {tmp}/no/r.json: folder '{tmp}/no' does not exist"),
    ],
)
def test_a_bad_results_path_is_refused_before_grading(tmp_path, results, message):
    cmd = [
        sys.executable,
        "-m",
        "tfcourse.cli",
        "grade",
        str(FIXTURES / "toy" / "exercises.py"),
        "--assignment",
        "toy",
        "--source",
        str(FIXTURES),
        "--results",
        results.format(tmp=tmp_path),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.strip() == "tfcourse: error: " + message.format(tmp=tmp_path)
    assert "Score" not in done.stdout  # nothing was graded
