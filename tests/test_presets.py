"""The config checks every trainer shares (tfcourse.presets): messages name the flag and the fix."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from tfcourse.errors import ConfigError
from tfcourse.presets import RunConfig, bounded, one_of, require, scale_checks


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--epochs", 5, 1, 10), (True, "--epochs must be an integer in [1, 10], got 5")),
        (("--epochs", -3, 1, 10), (False, "--epochs must be >= 1, got -3")),
        (("--lr", 0.0, 0, 1.0, True), (False, "--lr must be > 0, got 0.0")),
        (("--lr", 2.0, 0, 1.0, True), (False, "--lr must be a number in (0, 1], got 2.0")),
        (("--lr", math.inf, 0, 1.0), (False, "--lr must be a number in [0, 1], got inf")),
        (("--lr", -math.inf, 0, 1.0), (False, "--lr must be a number in [0, 1], got -inf")),
        (("--n", True, 0, 1), (False, "--n must be a number in [0, 1], got True")),
        (("--steps", 0, 1, 10**9), (False, "--steps must be >= 1, got 0")),
        (
            ("--steps", 2 * 10**9, 1, 10**9),
            (False, "--steps must be an integer in [1, 1_000_000_000], got 2000000000"),
        ),
    ],
)
def test_bounded_says_the_lower_bound_or_the_whole_range(args, expected):
    assert bounded(*args) == expected


def test_one_of_lists_two_choices_with_or_and_more_with_commas():
    assert one_of("--activation", "relu", ("relu", "tanh"))[0] is True
    assert one_of("--activation", "sigmoid", ("relu", "tanh")) == (
        False,
        "--activation must be relu or tanh, got 'sigmoid'",
    )
    assert one_of("--init", "zeros", ("normal", "glorot", "he")) == (
        False,
        "--init must be one of normal, glorot, he, got 'zeros'",
    )


def test_scale_checks_report_the_first_bad_flag():
    good = dict(seed=1, strategy="mirrored", precision="float32")
    require(scale_checks(SimpleNamespace(**good)))
    with pytest.raises(ConfigError, match=r"^--seed must be >= 0, got -1$"):
        require(scale_checks(SimpleNamespace(**{**good, "seed": -1, "strategy": "tpu"})))
    a2c = ("default", "mirrored")
    with pytest.raises(ConfigError, match=r"^--strategy must be default or mirrored, got 'multi"):
        require(scale_checks(SimpleNamespace(**{**good, "strategy": "multiworker"}), a2c))


def test_every_config_shares_the_run_flags_and_lists_them_after_the_hyper_parameters():
    import argparse

    from tfcourse.cli import add_dataclass_args
    from tfcourse.mlp.config import MLPConfig
    from tfcourse.review.config import SineConfig
    from tfcourse.rl.config import A2CConfig

    for cls in (MLPConfig, SineConfig, A2CConfig):
        assert issubclass(cls, RunConfig)
        parser = argparse.ArgumentParser()
        add_dataclass_args(parser, cls, cls.presets)
        flags = [a.option_strings[0] for a in parser._actions if a.option_strings[0] != "-h"]
        assert flags.index("--precision") < flags.index("--logdir") < flags.index("--name")
        assert flags[0] in ("--dataset", "--preset", "--env")


ONE_PRESET = {"fast": {}}


def test_a_config_without_checks_says_so():
    import dataclasses

    @dataclasses.dataclass
    class Bare(RunConfig):
        preset: str = "fast"
        name: str = "bare"
        presets = ONE_PRESET

    with pytest.raises(NotImplementedError, match="Bare must list its checks"):
        Bare().resolved()
