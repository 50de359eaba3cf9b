"""Settings of an A2C run: two presets, ``fast`` (tuned) and ``tutorial`` (as written), and
per-environment values of ``fast`` (``ENV_PRESETS``) that ``--env`` picks.

Plain data: importing this module imports neither TensorFlow nor gymnasium.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from tfcourse.errors import ConfigError
from tfcourse.presets import PRECISIONS, RunConfig, apply_preset, bounded, one_of, scale_checks

COMMON = dict(
    solved_lr_factor=1.0,
    normalize_obs=False,
    normalize_reward=False,
    activation="relu",
    policy_init_scale=0.0,
)
PRESETS = {
    # tuned on CartPole-v1: many envs, short rollouts, RMSprop, clipped gradients, rewards
    # scaled for the critic, no entropy bonus, lr annealed to 0 and x0.1 once solved (chosen by
    # sweeps over seeds 1-5, checked on seeds 6-10; docs/research/a2c_sweep.md)
    "fast": {
        **COMMON,
        **dict(n_envs=16, n_steps=16, gamma=0.99, lam=1.0, total_steps=300_000),
        **dict(optimizer="rmsprop", lr=8e-3, anneal_lr=True, solved_lr_factor=0.1),
        **dict(max_grad_norm=0.5, reward_scale=0.1, entropy_coef=0.0, actor_reduction="mean"),
    },
    # tutorial 2 as written: one env, 64-step batches, gamma 0.95, Adam, summed actor loss
    "tutorial": {
        **COMMON,
        **dict(n_envs=1, n_steps=64, gamma=0.95, lam=1.0, total_steps=100_000),
        **dict(optimizer="adam", lr=1e-3, anneal_lr=False),
        **dict(max_grad_norm=0.0, reward_scale=1.0, entropy_coef=0.05, actor_reduction="sum"),
    },
}
# per environment: what replaces the ``fast`` preset's values (``target_return``: "solved",
# for every preset). Acrobot and MountainCar need normalised observations and rewards and a
# tanh trunk with a near-uniform initial policy; MountainCar-v0 stays unsolved (about -145).
_NORMALIZED = dict(
    lr=5e-3,
    anneal_lr=False,
    solved_lr_factor=1.0,
    normalize_obs=True,
    normalize_reward=True,
    reward_scale=1.0,
    activation="tanh",
    policy_init_scale=0.01,
    total_steps=500_000,
)
ENV_PRESETS = {
    "CartPole-v1": dict(target_return=475.0),
    # 32 envs x 8 steps (the batch of 16 x 16): half the acting calls per env step; seeds 1-10
    # still solve within 100k (60k-94k) and score better greedily (worst -84.9 vs -86.5)
    "Acrobot-v1": dict(_NORMALIZED, n_envs=32, n_steps=8, target_return=-100.0),
    "MountainCar-v0": dict(_NORMALIZED, target_return=-110.0),
}
ACTIVATIONS = ("relu", "tanh")
MULTIWORKER = (
    "--strategy multiworker is not supported for A2C: every worker process would step its own "
    "copy of the environments and they would have to agree on each rollout; use --strategy "
    "mirrored (the update split over this machine's devices) or default"
)


def env_preset(env: str, preset: str) -> dict:
    """The values ``--env`` gives to unset fields under ``preset`` (only ``target_return``
    outside ``fast``); an env without an entry gets its registered ``reward_threshold``."""
    values = dict(ENV_PRESETS.get(env, {}))
    if "target_return" not in values:
        from tfcourse.rl.rollout import check_env_id  # gymnasium, no TensorFlow

        threshold = check_env_id(env).reward_threshold
        if threshold is not None:
            values["target_return"] = float(threshold)
    return values if preset == "fast" else {"target_return": values.get("target_return")}


@dataclass
class A2CConfig(RunConfig):
    """Every setting of an A2C run (saved as ``config.json``; each field is a CLI flag)."""

    env: str = field(default="CartPole-v1", metadata={"help": "gymnasium id (discrete actions)"})
    preset: str = field(default="fast", metadata={"help": "fast (tuned) or tutorial"})
    n_envs: int | None = field(default=None, metadata={"help": "parallel envs (preset)"})
    n_steps: int | None = field(default=None, metadata={"help": "rollout length T (preset)"})
    total_steps: int | None = field(default=None, metadata={"help": "env steps to train"})
    gamma: float | None = field(default=None, metadata={"help": "discount factor (preset)"})
    lam: float | None = field(default=None, metadata={"help": "GAE lambda, 1 = n-step returns"})
    optimizer: str | None = field(default=None, metadata={"help": "rmsprop or adam (preset)"})
    lr: float | None = field(default=None, metadata={"help": "learning rate (preset)"})
    max_grad_norm: float | None = field(default=None, metadata={"help": "clip, 0 = off"})
    reward_scale: float | None = field(default=None, metadata={"help": "reward multiplier"})
    entropy_coef: float | None = field(default=None, metadata={"help": "entropy bonus weight"})
    actor_reduction: str | None = field(default=None, metadata={"help": "sum or mean"})
    anneal_lr: bool | None = field(default=None, metadata={"help": "decay lr linearly to 0"})
    solved_lr_factor: float | None = field(
        default=None, metadata={"help": "lr x this once the target is first reached (preset)"}
    )
    normalize_obs: bool | None = field(
        default=None, metadata={"help": "running obs z-score (Acrobot: on)"}
    )
    normalize_reward: bool | None = field(
        default=None, metadata={"help": "rewards / running std of the return (Acrobot: on)"}
    )
    activation: str | None = field(
        default=None, metadata={"help": "trunk: relu or tanh (Acrobot: tanh)"}
    )
    policy_init_scale: float | None = field(
        default=None, metadata={"help": "policy head Orthogonal gain, 0 = Glorot (Acrobot: 0.01)"}
    )
    normalize_advantages: bool = field(default=False, metadata={"help": "per-batch z-score"})
    seed: int = field(default=1, metadata={"help": "seed for envs, init and sampling"})
    target_return: float | None = field(
        default=None,
        metadata={
            "help": "solved: mean of last 100; 475 CartPole-v1, -100 Acrobot-v1, else the "
            "env's reward_threshold"
        },
    )
    stop_when_solved: bool = field(default=False, metadata={"help": "stop at target_return"})
    eval_episodes: int = field(default=100, metadata={"help": "greedy episodes at the end"})
    gif: bool = field(
        default=True, metadata={"help": "save a GIF of one greedy episode", "hparam": False}
    )
    jit: bool = field(default=True, metadata={"help": "XLA-compile the update"})
    strategy: str = field(
        default="default", metadata={"help": "default|mirrored (the update's devices)"}
    )
    precision: str = field(default="float32", metadata={"help": "|".join(PRECISIONS)})
    name: str = field(default="a2c", metadata={"help": "run name prefix", "hparam": False})
    progress: bool = field(
        default=True, metadata={"help": "show a tqdm progress bar", "hparam": False}
    )

    presets = PRESETS

    def with_preset(self) -> A2CConfig:
        """A copy whose ``None`` fields take ``--env``'s values (:func:`env_preset`), then the
        preset's; an env this A2C cannot train, or one without a target, is a ConfigError."""
        from tfcourse.rl.rollout import check_env_id  # gymnasium: only when a run starts

        if not isinstance(self.env, str):
            raise ConfigError(f"--env must be a gymnasium id, got {self.env!r}")
        check_env_id(self.env)
        preset = env_preset(self.env, self.preset)
        unset = {k: v for k, v in preset.items() if getattr(self, k) is None}
        cfg = apply_preset(dataclasses.replace(self, **unset), PRESETS)
        if cfg.target_return is None:
            from tfcourse.rl.rollout import make_envs

            make_envs(cfg.env, 1, 0).close()  # an env this A2C cannot train is the first problem
            raise ConfigError(
                f"{cfg.env} has no preset and no registered reward threshold: pass "
                "--target-return (the mean of the last 100 episode returns that counts as solved)"
            )
        return cfg

    def checks(self) -> list[tuple[bool, str]]:
        """Every flag's check (see :meth:`RunConfig.resolved`)."""
        return [
            (self.strategy != "multiworker", MULTIWORKER),
            bounded("--n-envs", self.n_envs, 1, 1024),
            bounded("--n-steps", self.n_steps, 1, 100_000),
            bounded("--total-steps", self.total_steps, 1, 10**10),
            (
                self.total_steps >= self.n_envs * self.n_steps,
                f"--total-steps must be >= n-envs * n-steps = {self.n_envs * self.n_steps}",
            ),
            bounded("--gamma", self.gamma, 0, 1),
            bounded("--lam", self.lam, 0, 1),
            one_of("--optimizer", self.optimizer, ("rmsprop", "adam")),
            bounded("--lr", self.lr, 0, 1.0, low_open=True),
            bounded("--max-grad-norm", self.max_grad_norm, 0, 1e6),
            bounded("--reward-scale", self.reward_scale, 0, 1e6, low_open=True),
            bounded("--entropy-coef", self.entropy_coef, 0, 1e3),
            bounded("--target-return", self.target_return, -1e12, 1e12),
            bounded("--solved-lr-factor", self.solved_lr_factor, 0, 1, low_open=True),
            one_of("--activation", self.activation, ACTIVATIONS),
            bounded("--policy-init-scale", self.policy_init_scale, 0, 100),
            one_of("--actor-reduction", self.actor_reduction, ("sum", "mean")),
            bounded("--eval-episodes", self.eval_episodes, 0, 10_000),
            *scale_checks(self, strategies=("default", "mirrored")),
        ]
