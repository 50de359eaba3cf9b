"""How long grading a full solution takes: against the code before issue 21, and contained vs not.

For each assignment, side by side in one run, each version grading a copy of its own reference
solution with its own tests (a correct student's file: grading ``exercises.py`` itself skips
the self-check, a copy does not):

* ``first``: ``runner.grade`` now, with an empty self-check cache (grades the reference too);
* ``now`` and ``old``: ``runner.grade`` now, with the self-check verdict cached, against the
  code of ``--old-commit`` (run from a ``git worktree`` at ``--old-tree``, made if missing, in
  a subprocess whose ``PYTHONPATH`` points at it), alternating ``--repeat`` times; the fastest
  of each counts, and ``now / old`` must stay within 1.5x;
* ``none``: now, with ``--sandbox none`` (a plain child process instead of bubblewrap);
* ``inline``: the public and hidden tests in one process against the imported solution through
  the plugin's ``Inline`` mode (what ``check()`` does: no second process, no isolation).

Prints seconds and ratios; the last line is one JSON object.

    python scripts/bench_grading.py [--assignments tutorial1_mlp ...] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchkit import report_machine

ROOT = Path(__file__).resolve().parents[1]
OLD_COMMIT = "e8545ec"  # the last commit before issue 21's round
TARGET = 1.5  # now / old, with the self-check verdict cached
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
OLD = """
import json, sys, time
import tfcourse
from tfcourse.grading.assignment import load
from tfcourse.grading.runner import grade
assignment = load(sys.argv[2])
start = time.perf_counter()
results = grade(sys.argv[1], assignment)
seconds = time.perf_counter() - start
full = results["score"] == assignment.max_score
print(json.dumps({"seconds": seconds, "full": full, "package": tfcourse.__file__}))
"""


def old_tree(path: Path, commit: str) -> Path:
    """A worktree of ``commit`` at ``path`` (``git worktree add`` if missing)."""
    if not path.exists():
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), commit],
            check=True,
            capture_output=True,
        )
    head = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    wanted = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", commit], capture_output=True, text=True, check=True
    ).stdout.strip()
    if head != wanted:
        sys.exit(f"--old-tree {path} is at {head[:8]}, not {commit}; remove it or pick another")
    return path


def timed_now(submission: Path, name: str, **options: object) -> tuple[float, float]:
    """Seconds and score of grading ``submission`` with this checkout's code."""
    from tfcourse.grading.assignment import load
    from tfcourse.grading.runner import grade

    assignment = load(name, ROOT / "assignments")
    start = time.perf_counter()
    results = grade(submission, assignment, **options)
    return time.perf_counter() - start, results["score"]


def timed_old(submission: Path, name: str, tree: Path) -> tuple[float, bool]:
    """Seconds of grading ``submission`` with the code in ``tree``; whether at full marks."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", OLD, str(submission), str(tree / "assignments" / name)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tree,
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    if not data["package"].startswith(str(tree)):
        sys.exit(f"the old run imported {data['package']}, not the code in {tree}")
    return data["seconds"], data["full"]


def timed_inline(name: str) -> tuple[float, float]:
    """Seconds and score of the tests run in one process against the imported solution."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", INLINE, str(ROOT / "assignments" / name)],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - start  # includes importing TensorFlow once, like the others
    score = float(done.stdout.split("SCORE")[-1].split()[0])
    return seconds, score


def bench(name: str, tree: Path, repeat: int, work: Path) -> dict[str, float]:
    """Every timing of assignment ``name``, printed as one line."""
    from tfcourse.grading import sandbox
    from tfcourse.grading.assignment import load

    top = load(name, ROOT / "assignments").max_score
    submission, old_submission = work / name / "solution_copy.py", work / name / "old_copy.py"
    submission.parent.mkdir(parents=True)
    shutil.copy(ROOT / "assignments" / name / "exercises.py", submission)
    shutil.copy(tree / "assignments" / name / "exercises.py", old_submission)
    first, score = timed_now(submission, name)  # the cache is empty: self-check + grading
    scores, old_full = {"first": score}, True
    now_runs, old_runs = [], []
    for i in range(repeat):  # alternate, so a busy moment slows both alike
        order = ("old", "now") if i % 2 == 0 else ("now", "old")
        for which in order:
            if which == "old":
                seconds, full = timed_old(old_submission, name, tree)
                old_full = old_full and full
                old_runs.append(seconds)
            else:
                seconds, scores["now"] = timed_now(submission, name)
                now_runs.append(seconds)
    plain, scores["none"] = timed_now(submission, name, sandbox="none")
    inline, scores["inline"] = timed_inline(name)
    now, old = min(now_runs), min(old_runs)
    wrong = {k: v for k, v in scores.items() if v != top} | ({} if old_full else {"old": "<full"})
    verdict = "ok" if now / old <= TARGET else f"OVER {TARGET}x"
    print(
        f"{name} ({sandbox.choose_mode()}): now {now:.1f} s vs old {old:.1f} s -> "
        f"{now / old:.2f}x ({verdict}, target <= {TARGET}x, cached self-check); "
        f"first (self-check) {first:.1f} s; none {plain:.1f} s; in-process {inline:.1f} s; "
        f"score {score:g}/{top:g}" + (f"; NOT FULL MARKS: {wrong}" if wrong else "")
    )
    return {
        "now_s": round(now, 2),
        "old_s": round(old, 2),
        "now_over_old": round(now / old, 3),
        "first_s": round(first, 2),
        "none_s": round(plain, 2),
        "inline_s": round(inline, 2),
        "now_runs_s": [round(s, 2) for s in now_runs],
        "old_runs_s": [round(s, 2) for s in old_runs],
        "score": score,
        "max_score": top,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--assignments", nargs="+", default=["tutorial1_mlp", "tutorial2_a2c", "tutorial3_review"]
    )
    parser.add_argument("--old-commit", default=OLD_COMMIT, help="the code to compare with")
    parser.add_argument(
        "--old-tree", default="/tmp/tfcourse-old", help="its git worktree (made if missing)"
    )
    parser.add_argument("--repeat", type=int, default=2, help="old and now gradings each")
    args = parser.parse_args()
    tree = old_tree(Path(args.old_tree), args.old_commit)
    report: dict[str, object] = {"old_commit": args.old_commit, "target": TARGET}
    with tempfile.TemporaryDirectory(prefix="tfcourse-bench-") as tmp:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")  # an empty self-check cache
        for name in args.assignments:
            report[name] = bench(name, tree, max(args.repeat, 1), Path(tmp))
    report["machine"] = report_machine()  # CPU, instruction sets, cores, load, TF threads
    print(json.dumps(report))


if __name__ == "__main__":
    main()
