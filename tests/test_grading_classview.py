"""The class view of batch grading: summary, histogram, mistakes, feedback files, escaping.

Most tests use synthetic ``results.json`` dicts for the numpy-only ``toy`` assignment (tests:
add 1 public + 1 hidden, mean_square 2 public, scale 1 public + 1 hidden = 6 points), so every
number below is worked out by hand; one test grades two tiny submissions for real.
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

import pytest

from tfcourse.cli import user_error
from tfcourse.errors import ConfigError
from tfcourse.grading import batch, classview, commands, runner
from tfcourse.grading.assignment import load
from tfcourse.grading.commands import add_grading_commands
from tfcourse.grading.errors import GraderFailure, SubmissionError
from tfcourse.grading.mistakes import declared
from tfcourse.grading.printable import printable
from tfcourse.grading.results import format_report

FIXTURES = Path(__file__).parent / "grading_fixtures"
TOY = load("toy", FIXTURES)
LOADED = batch.LOADED_OK
FORGED = "oops\x1b[1A\x1b[2K\rPASS 2/2\x08\x08\x9b\u202e\u2028Score: 6 / 6"
MISTAKES = """
# BEGIN MISTAKES
@mistake("add", hint="Read the sign of   b again.")
def add_subtracts(a, b):
    return a - b


@mistake(exercise="scale", hint="Work on a copy.")
def scale_in_place(x, factor):
    x *= factor
    return x
# END MISTAKES
"""


def results(scores, mistakes=None, output=LOADED, message="wrong"):
    """Gradescope results for TOY's five tests, in order, with ``mistakes`` by test name."""
    mistakes = mistakes or {}
    tests = []
    for spec, score in zip(TOY.tests, scores, strict=True):
        test = {
            "name": spec.title,
            "score": float(score),
            "max_score": spec.points,
            "output": "passed" if score == spec.points else message,
            "visibility": spec.visibility,
        }
        if spec.name in mistakes:
            test["extra_data"] = {"mistakes": mistakes[spec.name]}
        tests.append(test)
    return {"score": float(sum(scores)), "max_score": 6.0, "output": output, "tests": tests}


def row(label, data):
    points = batch.exercise_points(data, TOY)
    return batch.Row(label, f"/class/{label}", points, sum(points.values()), "", data)


def zero_row(label, error, grader_failed=False):
    zeros = dict.fromkeys(TOY.exercises, 0.0)
    return batch.Row(label, "", zeros, 0.0, error, None, grader_failed)


BOB = results(
    [0, 0, 2, 1, 0],
    {
        "test_add_small": ["add_subtracts"],
        "test_add_negative": ["add_subtracts"],  # named twice: bob counts once
        "test_scale_does_not_modify_input": ["scale_in_place"],
    },
)
CAROL = results([1, 1, 0, 0, 0], {"test_mean_square": ["mean_not_squared"], "test_scale": []})
CAROL["tests"][3]["extra_data"] = {"mistakes": ["scale_in_place"]}


def class_rows():
    return [
        row("alice.py", results([1, 1, 2, 1, 1])),  # 2 2 2 = 6
        row("bob.py", BOB),  # 0 2 1 = 3
        row("carol", CAROL),  # 2 0 0 = 2
        zero_row("dan.py", "grader failure: the worker died", grader_failed=True),
        zero_row("erin.txt", "erin.txt: submit a .py or .ipynb file, not '.txt'"),  # 0
    ]


def test_summary_numbers_histogram_and_ranking_are_hand_computed():
    text = classview.summary(class_rows(), TOY)
    # over alice, bob, carol, erin (dan's grader failed): add 2+0+2+0 = 4 -> 1.00, full 2/4;
    # mean_square 2+2+0+0 -> 1.00, 2/4; scale 2+1+0+0 = 3 -> 0.75, 1/4; total 11 -> 2.75, 1/4.
    # bins of 0.6: 0 -> [0, 0.6), 2 -> [1.8, 2.4), 3 -> [3, 3.6), 6 -> [5.4, 6]
    assert text.splitlines() == [
        "Class summary of toy: 5 submissions, max 6 points",
        "  1 could not be graded (no readable .py or .ipynb; see the error column): counted as "
        "0 points",
        "  1 grader failure (the error column starts with 'grader failure:'): no grade, left "
        "out of the statistics below",
        "",
        "exercise         mean / max  full marks",
        "add                1.00 / 2   50% (2 of 4)",
        "mean_square        1.00 / 2   50% (2 of 4)",
        "scale              0.75 / 2   25% (1 of 4)",
        "total              2.75 / 6   25% (1 of 4)",
        "",
        "Score distribution (total points, 4 submissions)",
        "  [0, 0.6)    # 1",
        "  [0.6, 1.2)  0",
        "  [1.2, 1.8)  0",
        "  [1.8, 2.4)  # 1",
        "  [2.4, 3)    0",
        "  [3, 3.6)    # 1",
        "  [3.6, 4.2)  0",
        "  [4.2, 4.8)  0",
        "  [4.8, 5.4)  0",
        "  [5.4, 6]    # 1",
        "",
        "Known mistakes, by number of students who made them",
        "  2  scale_in_place    (scale)",
        "  1  add_subtracts     (add)",
        "  1  mean_not_squared  (mean_square)",
    ]


def test_a_class_whose_grader_always_failed_has_no_statistics():
    rows = [
        zero_row("a.py", "grader failure: x", True),
        zero_row("b.py", "grader failure: x", True),
    ]
    assert classview.summary(rows, TOY).splitlines()[1:] == [
        "  2 grader failures (the error column starts with 'grader failure:'): no grade, left "
        "out of the statistics below",
        "  no submission was graded",
    ]


def test_histogram_bins_edges_and_scaled_bars():
    # width 4: 3.9 stays in [0, 4), 4 starts [4, 8), 40 joins the last bin
    assert classview.histogram([0, 3.9, 4, 20, 39.99, 40, 40], 40) == [
        "[0, 4)    ## 2",
        "[4, 8)    # 1",
        "[8, 12)   0",
        "[12, 16)  0",
        "[16, 20)  0",
        "[20, 24)  # 1",
        "[24, 28)  0",
        "[28, 32)  0",
        "[32, 36)  0",
        "[36, 40]  ### 3",
    ]
    # 100 in one bin: 40 characters; 1 in another keeps one '#' (0.4 rounds up to 1)
    lines = classview.histogram([10.0] * 100 + [0.0], 10, bins=2)
    assert lines == ["[0, 5)   # 1", "[5, 10]  " + "#" * 40 + " 100"]


def test_ranking_counts_each_student_once_and_breaks_ties_by_name():
    assert classview.ranked_mistakes(class_rows(), TOY) == [
        ("scale_in_place", "scale", 2),
        ("add_subtracts", "add", 1),
        ("mean_not_squared", "mean_square", 1),
    ]


def test_csv_mistakes_column_sits_between_total_and_error():
    lines = batch.csv_text(class_rows(), TOY.exercises).splitlines()
    assert lines == [
        "submission,file,add,mean_square,scale,total,mistakes,error",
        "alice.py,/class/alice.py,2,2,2,6,,",
        "bob.py,/class/bob.py,0,2,1,3,add_subtracts scale_in_place,",
        "carol,/class/carol,2,0,0,2,mean_not_squared scale_in_place,",
        "dan.py,,0,0,0,0,,grader failure: the worker died",
        "erin.txt,,0,0,0,0,,\"erin.txt: submit a .py or .ipynb file, not '.txt'\"",
    ]


def test_malformed_extra_data_names_nothing():
    data = results([0, 0, 0, 0, 0])
    data["tests"][0]["extra_data"] = {"mistakes": "add_subtracts"}  # not a list
    data["tests"][1]["extra_data"] = ["add_subtracts"]  # not a dict
    data["tests"][2]["extra_data"] = {"mistakes": [3, "", "  ", "real_one"]}
    assert row("x.py", data).mistakes == ["real_one"]


def test_feedback_has_scores_failed_messages_hidden_marks_and_hints(tmp_path):
    folder = tmp_path / "toy"
    shutil.copytree(FIXTURES / "toy", folder)
    with open(folder / "exercises.py", "a") as f:
        f.write(MISTAKES)
    toy = load(str(folder))
    text = classview.feedback(row("bob.py", BOB), toy, {m.name: m for m in declared(folder)})
    assert text == (
        "# Feedback on `bob.py`\n"
        "\n"
        "Assignment: Toy assignment for testing the grader\n"
        "\n"
        "**Score: 3 / 6**\n"
        "\n"
        "| exercise | points |\n"
        "| --- | ---: |\n"
        "| `add` | 0 / 2 |\n"
        "| `mean_square` | 2 / 2 |\n"
        "| `scale` | 1 / 2 |\n"
        "\n"
        "## Tests that failed\n"
        "\n"
        "### `add: test_add_small (tests_public)`: 0 / 1\n"
        "\n"
        "```\nwrong\n```\n"
        "\n"
        "### `add: test_add_negative (tests_hidden)` (hidden test): 0 / 1\n"
        "\n"
        "```\nwrong\n```\n"
        "\n"
        "### `scale: test_scale_does_not_modify_input (tests_hidden)` (hidden test): 0 / 1\n"
        "\n"
        "```\nwrong\n```\n"
        "\n"
        "## Known mistakes recognised\n"
        "\n"
        "- `add_subtracts` in `add`: Read the sign of b again.\n"
        "- `scale_in_place` in `scale`: Work on a copy.\n"
    )


def test_feedback_of_a_full_score_a_loading_note_and_an_ungraded_file():
    full = classview.feedback(row("a.py", results([1, 1, 2, 1, 1], output="cell 3 failed")), TOY)
    assert "## Loading your submission\n\n```\ncell 3 failed\n```\n" in full
    assert full.endswith("## Tests that failed\n\nNone: every test passed.\n")
    bad = classview.feedback(zero_row("e.txt", "e.txt: submit a .py"), TOY)
    assert bad.endswith("## Not graded\n\n```\ne.txt: submit a .py\n```\n")


def test_markup_in_messages_and_labels_stays_text():
    data = results([0, 1, 2, 1, 1], message="```\n# Score: 6 / 6\n<img src=x onerror=alert(1)>")
    text = classview.feedback(row("`<b>`.py", data), TOY)
    assert "# Feedback on `` `<b>`.py ``\n" in text  # a code span longer than the backticks
    assert "````\n```\n# Score: 6 / 6\n<img src=x onerror=alert(1)>\n````\n" in text


def test_file_names_are_safe_and_distinct():
    labels = ["alice.py", "Alice.py", "../etc/passwd", ".hidden", "bob smith\x1b.ipynb", "", "é"]
    assert classview.file_names(labels) == [
        "alice.py.md",
        "Alice.py-2.md",  # a case-insensitive file system would merge it with alice.py.md
        "_etc_passwd.md",
        "hidden.md",
        "bob_smith_.ipynb.md",
        "submission.md",
        "_.md",
    ]


# ---------------------------------------------------------------------- escaping


def test_printable_escapes_controls_and_keeps_text():
    assert printable(FORGED) == (
        "oops\\x1b[1A\\x1b[2K\\rPASS 2/2\\x08\\x08\\x9b\\u202e\\u2028Score: 6 / 6"
    )
    assert printable("é 😀 ok\tcol\nnext") == "é 😀 ok\tcol\nnext"
    assert printable("a\tb\nc\x00\ud800", multiline=False) == "a\\tb\\nc\\x00\\ud800"


def test_format_report_cannot_be_forged():
    data = results([1, 1, 0, 1, 1], output=f"loaded {FORGED}", message=f"bad\n{FORGED}")
    data["score"] = 4.0
    report = format_report(data)
    assert not any(ch in report for ch in "\x1b\r\x08\x9b\u202e\u2028")
    assert report.splitlines()[-1] == "Score: 4 / 6"
    assert "       oops\\x1b[1A\\x1b[2K\\rPASS 2/2" in report  # indented under its FAIL line


def test_csv_and_feedback_escape_student_text():
    data = results([0, 1, 2, 1, 1], output=FORGED, message=FORGED)
    rows = [row("evil\x1b[2K.py", data), zero_row("x\r.py", f"failed: {FORGED}")]
    text = batch.csv_text(rows, TOY.exercises) + classview.feedback(rows[0], TOY)
    text += classview.feedback(rows[1], TOY)
    assert not any(ch in text for ch in "\x1b\r\x08\x9b\u202e\u2028")
    assert "evil\\x1b[2K.py" in text


def test_one_line_cli_errors_are_escaped():
    # \r splits lines like \n (joined by a space); the ANSI escape is shown, not run
    assert user_error(GraderFailure("worker stderr: \x1b[2Kboom\rdone\x08")) == (
        "worker stderr: \\x1b[2Kboom done\\x08"
    )


# ---------------------------------------------------------------------- the command


def _grade(*argv: str, source: Path = FIXTURES) -> int:
    parser = argparse.ArgumentParser(prog="tfcourse")
    add_grading_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["grade", *argv, "--assignment", "toy", "--source", str(source)])
    return args.handler(args)


@pytest.fixture
def fake_class(tmp_path, monkeypatch):
    """A folder of four; runner.grade answers from synthetic results (no pytest run)."""
    answers = {
        "alice.py": results([1, 1, 2, 1, 1]),
        "bob.py": BOB,
        "carol.py": SubmissionError("carol.py: not a readable Jupyter notebook"),
        "dan.py": GraderFailure("the worker died before it was ready; install bubblewrap"),
    }
    folder = tmp_path / "class"
    folder.mkdir()
    for name in answers:
        (folder / name).write_text("")

    def grade(path, assignment, **options):
        answer = answers[Path(path).name]
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(runner, "grade", grade)
    monkeypatch.setattr(commands, "_self_check_once", lambda *args: None)  # not graded here
    return folder, answers


def test_grader_failure_gives_exit_status_2_and_its_error_column(fake_class, tmp_path, capsys):
    folder, _ = fake_class
    out, feedback = tmp_path / "grades.csv", tmp_path / "fb" / "new"
    code = _grade(str(folder), "--csv", str(out), "--feedback", str(feedback))
    assert code == 2
    with open(out, newline="") as f:
        rows = {r["submission"]: r for r in csv.DictReader(f)}
    assert rows["dan.py"]["error"] == (
        "grader failure: the worker died before it was ready; install bubblewrap"
    )
    assert rows["carol.py"]["error"] == "carol.py: not a readable Jupyter notebook"
    assert rows["bob.py"]["mistakes"] == "add_subtracts scale_in_place"
    captured = capsys.readouterr()
    assert "  1 grader failure (the error column starts with 'grader failure:')" in captured.out
    assert "add                0.67 / 2   33% (1 of 3)" in captured.out  # alice 2, bob 0, carol 0
    assert f"feedback for 3 submissions written to {feedback}/" in captured.out
    assert captured.err.splitlines()[-1].startswith(
        "tfcourse: error: the grader failed on 1 of 4 submissions"
    )
    # no feedback for dan: his zeros are no grade
    assert sorted(p.name for p in feedback.iterdir()) == ["alice.py.md", "bob.py.md", "carol.py.md"]


def test_a_bad_submission_alone_is_no_grader_failure(fake_class, capsys):
    folder, _ = fake_class
    (folder / "dan.py").unlink()
    assert _grade(str(folder)) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("submission,file,add,mean_square,scale,total,mistakes,error\n")
    assert "Class summary of toy: 3 submissions" in captured.err  # stdout is the CSV
    assert "grader failure" not in captured.out + captured.err


def test_feedback_naming_a_file_is_refused(tmp_path):
    taken = tmp_path / "feedback"
    taken.write_text("")
    with pytest.raises(ConfigError, match=r"--feedback .*: is a file; give a folder"):
        _grade(str(FIXTURES / "toy" / "exercises.py"), "--feedback", str(taken))
    with pytest.raises(ConfigError, match=r"--feedback .*: cannot create this folder"):
        _grade(str(FIXTURES / "toy" / "exercises.py"), "--feedback", str(taken / "sub"))


def test_two_real_submissions_get_a_summary_and_feedback_files(tmp_path, capsys):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(FIXTURES / "toy" / "exercises.py", folder / "alice.py")
    (folder / "eve.py").write_text(
        "def add(a, b):\n    return a + b\n\n\n"
        "def mean_square(x):\n    raise ValueError('\\x1b[2K\\rScore: 6 / 6')\n\n\n"
        "def scale(x, factor):\n    x *= factor\n    return x\n"
    )
    out, feedback = tmp_path / "grades.csv", tmp_path / "feedback"
    assert _grade(str(folder), "--csv", str(out), "--feedback", str(feedback)) == 0
    printed = capsys.readouterr().out
    # alice 6; eve: add 2, mean_square 0 (raises), scale 1 (modifies its input: hidden test)
    assert "total              4.50 / 6   50% (1 of 2)" in printed
    assert "scale              1.50 / 2   50% (1 of 2)" in printed
    assert sorted(p.name for p in feedback.iterdir()) == ["alice.py.md", "eve.py.md"]
    eve = (feedback / "eve.py.md").read_text()
    assert "**Score: 3 / 6**" in eve
    assert "\\x1b[2K\\rScore: 6 / 6" in eve and "\x1b" not in eve
    assert "### `scale: test_scale_does_not_modify_input (tests_hidden)` (hidden test)" in eve
    assert "scale must not modify its input" in eve
    assert (feedback / "alice.py.md").read_text().endswith("None: every test passed.\n")


def test_a_reference_that_loses_points_stops_the_whole_class(tmp_path, monkeypatch, capsys):
    """The self-check runs once, before anyone is graded; a failing one grades nobody."""
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("ann.py", "ben.py"):
        (folder / name).write_text("")
    graded = []

    def grade(path, assignment, *args, **options):
        graded.append(Path(path).name)
        return results([1, 1, 2, 1, 0])  # the reference misses a point: limits too small

    monkeypatch.setattr(runner, "grade", grade)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "grades.csv"
    with pytest.raises(GraderFailure, match=r"the reference solution .* loses points"):
        _grade(str(folder), "--csv", str(out))
    assert graded == ["exercises.py"] and not out.exists()
