"""The quick SB3 side-by-side of scripts/bench_a2c.py, run when the ``[compare]`` extra (SB3 and
torch) is installed; skipped otherwise. CI installs only ``.[dev]``, so there it is skipped."""

from __future__ import annotations

import importlib.util
import json

import pytest

COMPARE = ("stable_baselines3", "torch")
missing = [name for name in COMPARE if importlib.util.find_spec(name) is None]
pytestmark = pytest.mark.skipif(
    bool(missing),
    reason=f"the [compare] extra is not installed (no {', '.join(missing)}): "
    "pip install -e '.[compare]'",
)


def test_quick_side_by_side_with_sb3_in_its_own_process(sb3_side_by_side):
    code, stdout, stderr, _ = sb3_side_by_side  # started when the tests were collected
    assert code == 0, stdout[-2000:] + stderr[-3000:]
    report = json.loads(stdout.strip().splitlines()[-1])
    assert report["failed_parts"] == {}
    sb3 = report["sb3"]
    assert set(sb3) == {"CartPole-v1", "Acrobot-v1"}
    for env, steps in (("CartPole-v1", 3072), ("Acrobot-v1", 2048)):
        side = sb3[env]
        theirs, mine = side["sb3"], side["tfcourse"]
        assert side["seed"] == 1 and side["steps"] == steps
        assert theirs["tensorflow_imported"] is False  # the child kept TensorFlow out
        assert steps <= theirs["steps"] < steps + 16 * 5  # SB3 stops at a whole rollout
        assert theirs["steps_per_s"] == pytest.approx(theirs["steps"] / theirs["seconds"])
        assert theirs["speed_ratio"] == pytest.approx(mine["steps_per_s"] / theirs["steps_per_s"])
        assert (theirs["solve_steps"] is None) == (theirs["solve_seconds"] is None)
        assert theirs["greedy_std"] >= 0
    assert 8 <= sb3["CartPole-v1"]["sb3"]["greedy"] <= 500
    assert -500 <= sb3["Acrobot-v1"]["sb3"]["greedy"] <= 0
    assert report["sb3_speed_ratio_cartpole"] == sb3["CartPole-v1"]["sb3"]["speed_ratio"]
    assert report["sb3_speed_ratio_acrobot"] == sb3["Acrobot-v1"]["sb3"]["speed_ratio"]
    # a --quick run is far below the target's budget: reported, not checked
    assert report["targets_met"]["sb3_speed_ratio_min"] is None
    assert report["targets_not_checked"]["sb3_speed_ratio_min"] == (
        "not checked at --cartpole-steps 3072, --eval-episodes 3"
    )
    out = stdout
    assert "side by side                 solve steps  solve s  wall s  steps/s   greedy" in out
    assert "SB3 A2C CartPole-v1 s1" in out and "tfcourse Acrobot-v1 s1" in out
    assert out.count("tfcourse / SB3 env steps/s: ") == 2
