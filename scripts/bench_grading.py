"""How long grading a full solution takes, contained vs not, side by side in one run.

For each assignment: (a) ``runner.grade`` with the default sandbox (a pytest process plus a
contained worker), (b) the same with ``--sandbox none`` (a plain child process), and (c) the
public and hidden tests run in this process against the imported solution through the plugin's
``Inline`` mode (what ``check()`` does: no second process, no isolation) as the floor. Prints
seconds and the ratios (a)/(c) and (a)/(b); the last line is one JSON object.

    python scripts/bench_grading.py [--assignments tutorial1_mlp ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INLINE = """
import runpy, sys, time
import pytest
from tfcourse.grading.plugin import GradingPlugin
folder = sys.argv[1]
namespace = runpy.run_path(folder + "/exercises.py")
start = time.perf_counter()
plugin = GradingPlugin(inline=namespace)
pytest.main([folder + "/tests_public.py", folder + "/tests_hidden.py", "-q", "-p",
             "no:cacheprovider", "-c", "/dev/null"], plugins=[plugin])
print("SECONDS", time.perf_counter() - start)
print("SCORE", sum(o.points for o in plugin.outcomes.values() if o.passed))
"""


def timed_grade(name: str, **options: object) -> tuple[float, float]:
    from tfcourse.grading.assignment import load
    from tfcourse.grading.runner import grade

    assignment = load(name, ROOT / "assignments")
    start = time.perf_counter()
    results = grade(ROOT / "assignments" / name / "exercises.py", assignment, **options)
    return time.perf_counter() - start, results["score"]


def timed_inline(name: str) -> tuple[float, float]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", INLINE, str(ROOT / "assignments" / name)],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - start  # includes importing TensorFlow once, like (a)
    score = float(done.stdout.split("SCORE")[-1].split()[0])
    return seconds, score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--assignments", nargs="+", default=["tutorial1_mlp", "tutorial2_a2c", "tutorial3_review"]
    )
    args = parser.parse_args()
    from tfcourse.grading import sandbox

    mode = sandbox.choose_mode("auto")
    report = {"sandbox": mode}
    for name in args.assignments:
        contained, score = timed_grade(name)
        plain, _ = timed_grade(name, sandbox="none")
        inline, inline_score = timed_inline(name)
        print(
            f"{name}: {mode} {contained:.1f} s, none {plain:.1f} s, in-process {inline:.1f} s"
            f" -> {contained / inline:.2f}x in-process, {contained / plain:.2f}x none;"
            f" score {score:g} (in-process {inline_score:g})"
        )
        report[name] = {
            "contained_s": round(contained, 2),
            "none_s": round(plain, 2),
            "inline_s": round(inline, 2),
            "score": score,
        }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
