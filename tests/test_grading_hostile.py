"""Hostile submissions (tests/grading_fixtures/hostile, one trick each) earn nothing they did not.

Each grades against the numpy-only toy assignment (max 6: add 1+1, mean_square 2, scale 1+1).
Every hostile file keeps ``add`` honest (2 points) unless its trick lives in ``add``; the hidden
"scale does not modify its input" test passes for any ``scale`` that leaves ``x`` alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tfcourse.grading.assignment import load
from tfcourse.grading.runner import INI, grade, pytest_command

FIXTURES = Path(__file__).parent / "grading_fixtures"
HOSTILE = FIXTURES / "hostile"
TOY = load("toy", FIXTURES)
HIDDEN_SOURCE = (FIXTURES / "toy" / "tests_hidden.py").read_text()
LIMITS = {"timeout": 3, "budget": 25, "memory_mb": 400, "max_procs": 64}
IS_ROOT = os.geteuid() == 0
MODES = ["bwrap", pytest.param("uid", marks=pytest.mark.skipif(not IS_ROOT, reason="root only"))]


@pytest.fixture
def mode(request):
    """The sandbox mode; ``uid`` lets uid nobody traverse /root (where Python lives) meanwhile."""
    if request.param == "uid":
        before = os.stat("/root").st_mode & 0o777
        os.chmod("/root", before | 0o711)
        yield "uid"
        os.chmod("/root", before)
    else:
        yield request.param


def _scores(results: dict) -> dict[str, float]:
    return {t["name"].split(":")[1].split("(")[0].strip(): t["score"] for t in results["tests"]}


def _no_hidden_source(results: dict) -> None:
    # a hidden test's own output may quote it (students see it only once published)
    shown = [results["output"]] + [
        t["output"] for t in results["tests"] if t["visibility"] == "visible"
    ]
    text = json.dumps(shown)
    for line in HIDDEN_SOURCE.splitlines():
        if len(line.strip()) > 12:
            assert json.dumps(line.strip())[1:-1] not in text, line


def _grade(name: str, mode: str, **options) -> dict:
    start = time.monotonic()
    results = grade(HOSTILE / name, TOY, sandbox=mode, **{**LIMITS, **options})
    assert time.monotonic() - start < 60
    assert len(results["tests"]) == 5 and results["max_score"] == 6
    _no_hidden_source(results)
    return results


HONEST_ADD = {"test_add_small": 1, "test_add_negative": 1, "test_mean_square": 0,
              "test_scale": 0, "test_scale_does_not_modify_input": 0}  # fmt: skip


@pytest.mark.parametrize("mode", ["bwrap"], indirect=True)
def test_objects_equal_to_anything_earn_only_the_free_point(mode):
    results = _grade("eq_anything.py", mode)
    assert results["score"] == 1  # only "scale leaves x alone"
    assert _scores(results)["test_scale_does_not_modify_input"] == 1


@pytest.mark.parametrize("mode", ["bwrap"], indirect=True)
@pytest.mark.parametrize("name", ["fd_writer.py", "patcher.py", "gc_editor.py"])
def test_fake_replies_patches_and_gc_edits_change_nothing(mode, name):
    results = _grade(name, mode)
    assert _scores(results) == (
        dict.fromkeys(HONEST_ADD, 0) if name == "patcher.py" else HONEST_ADD
    )
    if name == "fd_writer.py":
        assert "lost contact with your code" in results["tests"][2]["output"]


@pytest.mark.parametrize("mode", MODES, indirect=True)
def test_signals_to_the_grader_do_not_stop_it(mode):
    assert _scores(_grade("signals.py", mode)) == HONEST_ADD


@pytest.mark.parametrize("mode", ["bwrap"], indirect=True)
def test_fork_bomb_is_bounded(mode):
    results = _grade("fork_bomb.py", mode)
    assert results["score"] == 0
    first = results["tests"][0]["output"]
    if "'forked " in first:  # else the bomb was stopped by the memory cap first
        assert int(first.split("'forked ")[1].split("'")[0]) < 64
    else:
        assert "memory" in first or "crashed" in first, first


@pytest.mark.parametrize("mode", ["bwrap"], indirect=True)
def test_memory_bomb_is_stopped_with_a_message_about_memory(mode):
    results = _grade("memory_bomb.py", mode)
    assert _scores(results) == HONEST_ADD
    assert results["tests"][2]["output"] == (
        "your code used more than 400 MB of memory and was stopped"
    )


@pytest.mark.parametrize("mode", ["bwrap"], indirect=True)
def test_output_flood_is_capped(mode):
    results = _grade("output_flood.py", mode)
    assert _scores(results) == HONEST_ADD
    assert all(len(t["output"]) < 3500 for t in results["tests"])


@pytest.mark.parametrize(
    ("mode", "name"),
    [
        ("bwrap", "reads_disk.py"),
        ("bwrap", "network.py"),
        pytest.param("uid", "reads_disk.py", marks=MODES[1].marks),
        pytest.param("uid", "network.py", marks=MODES[1].marks),  # root: a new netns
    ],
    indirect=["mode"],
)
def test_tests_solution_and_network_are_out_of_reach(mode, name):
    results = _grade(name, mode)
    expected = dict(HONEST_ADD) if name == "network.py" else dict.fromkeys(HONEST_ADD, 0)
    assert _scores(results) == expected


@pytest.mark.parametrize("mode", MODES, indirect=True)
@pytest.mark.parametrize("name", ["detached_rewriter.py", "deletes_files.py"])
def test_results_stay_and_files_outside_survive(mode, name, tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text("still here")
    submission = tmp_path / name
    submission.write_text((HOSTILE / name).read_text())
    results_path, ini = tmp_path / "results.json", tmp_path / "pytest.ini"
    ini.write_text(INI)
    cmd = pytest_command(submission, TOY, results_path, {"call_timeout": 3, "sandbox": mode})
    start = time.monotonic()
    subprocess.run([*cmd, "-c", str(ini), "--rootdir", str(tmp_path)], cwd=tmp_path,
                   capture_output=True, timeout=120, check=False)  # fmt: skip
    assert time.monotonic() - start < 60
    written = results_path.read_text()
    time.sleep(4)  # the rewriter tries for 10 s after starting
    assert results_path.read_text() == written
    results = json.loads(written)
    assert _scores(results) == HONEST_ADD
    _no_hidden_source(results)
    assert canary.read_text() == "still here"


@pytest.mark.parametrize("mode", ["bwrap"], indirect=True)
def test_endless_loops_are_bounded_by_the_budget(mode):
    start = time.monotonic()
    results = _grade("loops.py", mode, timeout=2, budget=6)
    assert time.monotonic() - start < 6 + 15
    assert results["score"] == 0
    outputs = [t["output"] for t in results["tests"]]
    assert outputs[0].startswith("timed out after 2 s")
    assert "time budget for this submission (6 s) ran out" in outputs[-1]


def test_none_mode_prints_the_warning(tmp_path):
    ini = tmp_path / "pytest.ini"
    ini.write_text(INI)
    cmd = pytest_command(FIXTURES / "toy" / "exercises.py", TOY, tmp_path / "r.json",
                         {"sandbox": "none"})  # fmt: skip
    done = subprocess.run([*cmd, "-c", str(ini), "--rootdir", str(tmp_path)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert "WARNING: no sandbox" in done.stdout
    assert json.loads((tmp_path / "r.json").read_text())["score"] == 6
