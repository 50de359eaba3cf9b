"""Hostile submissions (tests/grading_fixtures/hostile, one trick each) earn nothing they did not.

Each grades against the numpy-only toy assignment (max 6: add 1+1, mean_square 2, scale 1+1).
Every hostile file keeps ``add`` honest (2 points) unless its trick lives in ``add``; the hidden
"scale does not modify its input" test passes for any ``scale`` that leaves ``x`` alone.

The bwrap gradings run two at a time (:func:`bwrap_graded`): each worker has its own PID,
network, IPC and mount namespaces, so they cannot see each other (as ``tfcourse grade --jobs``
relies on). The uid gradings, the fork bomb and the timed endless loops run alone, after them.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

import pytest
from conftest import uid_mode_setup

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
def mode(request, bwrap_graded):
    """The sandbox mode; ``uid`` makes the checkout private and lets uid nobody traverse /root
    (where Python lives) meanwhile (``uid_mode_setup``).

    A uid grading starts after every bwrap grading has finished: nothing runs beside it.
    """
    if request.param == "uid":
        with uid_mode_setup():
            yield "uid"
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


def _run_and_watch(name: str, mode: str, folder: Path) -> tuple[str, str, str]:
    """Grade ``name`` as the CLI does, in ``folder`` beside a canary file; return the canary's
    text, the results.json as written and as it is afterwards (4 s later for the rewriter)."""
    folder.mkdir()
    canary = folder / "canary.txt"
    canary.write_text("still here")
    submission = folder / name
    submission.write_text((HOSTILE / name).read_text())
    results_path, ini = folder / "results.json", folder / "pytest.ini"
    ini.write_text(INI)
    cmd = pytest_command(submission, TOY, results_path, {"call_timeout": 3, "sandbox": mode})
    start = time.monotonic()
    subprocess.run(
        [*cmd, "-c", str(ini), "--rootdir", str(folder)],
        cwd=folder,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert time.monotonic() - start < 60
    written = results_path.read_text()
    if name == "detached_rewriter.py":  # it tries for 10 s after starting (deletes_files.py
        time.sleep(4)  # starts no process: nothing of it can write once the grading is over)
    return canary.read_text(), written, results_path.read_text()


# not fork_bomb.py: its tasks must not count against a concurrent grading's limit
BWRAP = [
    "eq_anything.py",
    "fd_writer.py",
    "patcher.py",
    "gc_editor.py",
    "signals.py",
    "memory_bomb.py",
    "output_flood.py",
    "reads_disk.py",
    "network.py",
]
WATCHED = ["detached_rewriter.py", "deletes_files.py"]


@pytest.fixture(scope="module")
def bwrap_graded(tmp_path_factory) -> dict[str, Future]:
    """Every bwrap grading but the fork bomb and the timed loops, two at a time as root (each
    in its own pids cgroup; else one at a time): ``name -> Future`` of ``_grade`` (BWRAP) or
    ``_run_and_watch`` (``"watch:" + name``), all done before any test runs (see
    ``grading_pool`` in conftest). A failed grading raises in the test reading it."""
    folder = tmp_path_factory.mktemp("hostile_bwrap")
    with ThreadPoolExecutor(max_workers=2 if IS_ROOT else 1, thread_name_prefix="bwrap") as pool:
        futures = {name: pool.submit(_grade, name, "bwrap") for name in BWRAP}
        for name in WATCHED:
            futures["watch:" + name] = pool.submit(
                _run_and_watch, name, "bwrap", folder / name.removesuffix(".py")
            )
        wait(futures.values())
    return futures


def _graded(name: str, mode: str, bwrap_graded: dict[str, Future]) -> dict:
    return bwrap_graded[name].result() if mode == "bwrap" else _grade(name, mode)


HONEST_ADD = {
    "test_add_small": 1,
    "test_add_negative": 1,
    "test_mean_square": 0,
    "test_scale": 0,
    "test_scale_does_not_modify_input": 0,
}


def test_objects_equal_to_anything_earn_only_the_free_point(bwrap_graded):
    results = bwrap_graded["eq_anything.py"].result()
    assert results["score"] == 1  # only "scale leaves x alone"
    assert _scores(results)["test_scale_does_not_modify_input"] == 1


@pytest.mark.parametrize("name", ["fd_writer.py", "patcher.py", "gc_editor.py"])
def test_fake_replies_patches_and_gc_edits_change_nothing(bwrap_graded, name):
    results = bwrap_graded[name].result()
    assert _scores(results) == (
        dict.fromkeys(HONEST_ADD, 0) if name == "patcher.py" else HONEST_ADD
    )
    if name == "fd_writer.py":
        assert "lost contact with your code" in results["tests"][2]["output"]
    if name == "gc_editor.py":  # the exercises that call the editor are refused by name
        assert "scale may not use `gc.get_objects`" in results["tests"][3]["output"]


@pytest.mark.parametrize("mode", MODES, indirect=True)
def test_signals_to_the_grader_do_not_stop_it(mode, bwrap_graded):
    assert _scores(_graded("signals.py", mode, bwrap_graded)) == HONEST_ADD


def test_fork_bomb_is_bounded(bwrap_graded):  # after the others: alone
    results = _grade("fork_bomb.py", "bwrap")
    assert results["score"] == 0
    first = results["tests"][0]["output"]
    if "'forked " in first:  # else the bomb was stopped by the memory cap first
        assert int(first.split("'forked ")[1].split("'")[0]) < 64
    else:
        assert "memory" in first or "crashed" in first, first


def test_memory_bomb_is_stopped_with_a_message_about_memory(bwrap_graded):
    results = bwrap_graded["memory_bomb.py"].result()
    assert _scores(results) == HONEST_ADD
    assert results["tests"][2]["output"] == (
        "your code used more than 400 MB of memory and was stopped"
    )


def test_output_flood_is_capped(bwrap_graded):
    results = bwrap_graded["output_flood.py"].result()
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
def test_tests_solution_and_network_are_out_of_reach(mode, name, bwrap_graded):
    results = _graded(name, mode, bwrap_graded)
    expected = dict(HONEST_ADD) if name == "network.py" else dict.fromkeys(HONEST_ADD, 0)
    assert _scores(results) == expected


@pytest.mark.parametrize("mode", MODES, indirect=True)
@pytest.mark.parametrize("name", ["detached_rewriter.py", "deletes_files.py"])
def test_results_stay_and_files_outside_survive(mode, name, tmp_path, bwrap_graded):
    if mode == "bwrap":
        canary, written, later = bwrap_graded["watch:" + name].result()
    else:
        canary, written, later = _run_and_watch(name, mode, tmp_path / "graded")
    assert later == written  # unchanged 4 s after the grading ended
    results = json.loads(written)
    assert _scores(results) == HONEST_ADD
    _no_hidden_source(results)
    assert canary == "still here"


def test_endless_loops_are_bounded_by_the_budget(bwrap_graded):  # after the others: alone
    start = time.monotonic()
    results = _grade("loops.py", "bwrap", timeout=2, budget=6)
    assert time.monotonic() - start < 6 + 15
    assert results["score"] == 0
    outputs = [t["output"] for t in results["tests"]]
    assert outputs[0].startswith("timed out after 2 s")
    assert "time budget for this submission (6 s) ran out" in outputs[-1]


def test_none_mode_prints_the_warning(tmp_path):
    ini = tmp_path / "pytest.ini"
    ini.write_text(INI)
    cmd = pytest_command(
        FIXTURES / "toy" / "exercises.py", TOY, tmp_path / "r.json", {"sandbox": "none"}
    )
    done = subprocess.run(
        [*cmd, "-c", str(ini), "--rootdir", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "WARNING: no sandbox" in done.stdout
    assert json.loads((tmp_path / "r.json").read_text())["score"] == 6
