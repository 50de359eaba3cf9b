"""Hidden stays hidden: no hidden probe's source can reach a message that students see.

Probes travel to the worker as source text, and a submission can read what it is sent (it
walks up its call stack to the worker's request). Every public test therefore runs before
any hidden probe is sent; the report still lists tests by exercise.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tfcourse.grading.assignment import load
from tfcourse.grading.runner import grade

TOY = Path(__file__).parent / "grading_fixtures" / "toy"

# a hidden probe of the FIRST exercise: before, it reached the worker before the public tests
# of the later exercises, which could then echo it
HIDDEN_PROBE = '''

def _add_in_worker(sub, a, b):
    """Probe: add run in the worker (SECRET-PROBE-LINE)."""
    secret_marker = "SECRET-PROBE-LINE"
    return sub.add(a, b)


@points(1, exercise="add")
def test_add_through_a_probe(sub):
    assert sub.run(_add_in_worker, 1.5, 2.0) == 3.5
'''

ECHO = '''
import sys

import numpy as np

SEEN = []


def _harvest():
    """Keep the source of every probe the worker was sent, found on the call stack."""
    frame = sys._getframe(1)
    while frame is not None:
        request = frame.f_locals.get("request")
        if isinstance(request, dict) and isinstance(request.get("source"), str):
            if request["source"] not in SEEN:
                SEEN.append(request["source"])
        frame = frame.f_back


def _echo():
    if SEEN:
        raise ValueError("seen:\\n" + "\\n".join(SEEN))


def add(a, b):
    _harvest()
    return a + b


def mean_square(x):
    _harvest()
    _echo()
    return float(np.mean(np.asarray(x, np.float64) ** 2))


def scale(x, factor):
    _harvest()
    _echo()
    return np.asarray(x) * factor
'''


def test_no_hidden_probe_source_reaches_a_visible_message(tmp_path):
    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    with (folder / "tests_hidden.py").open("a", encoding="utf-8") as f:
        f.write(HIDDEN_PROBE)
    submission = tmp_path / "echo.py"
    submission.write_text(ECHO, encoding="utf-8")
    results = grade(submission, load(str(folder)), timeout=20)
    by_name = {t["name"]: t for t in results["tests"]}
    probe = by_name["add: test_add_through_a_probe (tests_hidden)"]
    assert probe["score"] == 1  # the probe ran, and its source was there to be seen
    visible = [t for t in results["tests"] if t["visibility"] == "visible"]
    assert visible and all(t["score"] == t["max_score"] for t in visible)
    shown = results["output"] + "".join(t["output"] for t in visible)
    assert "SECRET-PROBE-LINE" not in shown
    # the hidden tests that ran after it did see it: the trick works, the order defeats it
    hidden_outputs = "".join(t["output"] for t in results["tests"] if t not in visible)
    assert "SECRET-PROBE-LINE" in hidden_outputs
    # the report keeps the exercise order
    exercises = [t["name"].split(":")[0] for t in results["tests"]]
    assert exercises == sorted(exercises, key=["add", "mean_square", "scale"].index)
