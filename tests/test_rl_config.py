"""A2C settings: per-environment presets picked by --env, explicit flags win, no TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys

import gymnasium as gym
import pytest
from conftest import subprocess_env

from tfcourse.errors import ConfigError
from tfcourse.rl.config import ENV_PRESETS, PRESETS, A2CConfig


def test_cartpole_gets_the_fast_preset_with_the_lr_drop_and_target_475():
    cfg = A2CConfig().resolved()
    got = (cfg.env, cfg.target_return, cfg.lr, cfg.anneal_lr, cfg.solved_lr_factor)
    assert got == ("CartPole-v1", 475.0, PRESETS["fast"]["lr"], True, 0.1)
    assert (cfg.normalize_obs, cfg.normalize_reward, cfg.activation) == (False, False, "relu")


def test_acrobot_gets_its_own_preset_and_target_minus_100():
    cfg = A2CConfig(env="Acrobot-v1").resolved()
    expected = ENV_PRESETS["Acrobot-v1"]
    assert cfg.target_return == -100.0
    assert (cfg.normalize_obs, cfg.normalize_reward, cfg.reward_scale) == (True, True, 1.0)
    assert (cfg.activation, cfg.policy_init_scale, cfg.total_steps) == ("tanh", 0.01, 500_000)
    assert cfg.lr == expected["lr"] == 5e-3 and (cfg.n_envs, cfg.n_steps) == (32, 8)
    assert A2CConfig(env="MountainCar-v0").resolved().n_envs == PRESETS["fast"]["n_envs"]


def test_explicit_flags_win_over_the_env_preset():
    cfg = A2CConfig(
        env="Acrobot-v1", lr=1e-3, target_return=-90.0, normalize_obs=False, activation="relu"
    ).resolved()
    got = (cfg.lr, cfg.target_return, cfg.normalize_obs, cfg.activation)
    assert got == (1e-3, -90.0, False, "relu")
    assert cfg.normalize_reward is True  # not given: still the preset's


def test_tutorial_preset_keeps_its_values_and_takes_only_the_env_target():
    cfg = A2CConfig(env="Acrobot-v1", preset="tutorial").resolved()
    got = (cfg.n_envs, cfg.optimizer, cfg.normalize_obs, cfg.target_return)
    assert got == (1, "adam", False, -100.0)


def test_an_env_without_preset_uses_its_registered_threshold_or_asks_for_the_flag():
    assert A2CConfig(env="LunarLander-v3").resolved().target_return == 200.0
    env_id = "tfcourse-test/NoThreshold-v0"
    if env_id not in gym.registry:
        gym.register(env_id, "gymnasium.envs.classic_control:CartPoleEnv", max_episode_steps=50)
    with pytest.raises(ConfigError, match=rf"{env_id} has no preset .* pass --target-return"):
        A2CConfig(env=env_id).resolved()
    assert A2CConfig(env=env_id, target_return=40.0).resolved().target_return == 40.0
    with pytest.raises(ConfigError, match="Blackjack-v1 has observations"):  # that first
        A2CConfig(env="Blackjack-v1").resolved()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(activation="sigmoid"), "--activation must be relu or tanh"),
        (dict(solved_lr_factor=0.0), "--solved-lr-factor must be > 0, got 0.0"),
        (dict(solved_lr_factor=1.5), r"--solved-lr-factor must be a number in \(0, 1\], got 1.5"),
        (dict(policy_init_scale=-1.0), "--policy-init-scale must be >= 0, got -1.0"),
        (dict(policy_init_scale=1e3), r"--policy-init-scale must be a number in \[0, 100\]"),
    ],
)
def test_bad_new_settings_are_config_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        A2CConfig(**overrides).resolved()


def test_cli_env_flag_alone_picks_the_acrobot_preset_without_tensorflow():
    code = (
        "import json, sys\n"
        "from tfcourse.cli import build_parser, dataclass_from_args\n"
        "args = build_parser().parse_args(['train', 'a2c', '--env', 'Acrobot-v1'])\n"
        "cfg = dataclass_from_args(args.config_cls, args).resolved()\n"
        "print(json.dumps([cfg.target_return, cfg.normalize_obs, cfg.activation,\n"
        "                  'tensorflow' in sys.modules]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [-100.0, True, "tanh", False]
