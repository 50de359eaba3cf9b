"""Settings of an A2C run, with two presets: ``fast`` (tuned) and ``tutorial`` (as written).

Plain data: importing this module imports neither TensorFlow nor gymnasium.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tfcourse.errors import ConfigError
from tfcourse.presets import MAX_SEED, PRECISIONS, STRATEGIES, apply_preset, bounded, require
from tfcourse.rundir import check_run_name  # no TensorFlow

PRESETS = {
    # tuned: many envs, short rollouts, RMSprop, clipped gradients, rewards scaled for the critic,
    # no entropy bonus (chosen by a sweep over seeds 1-5, checked on seeds 6-10; see README)
    "fast": dict(n_envs=16, n_steps=16, gamma=0.99, lam=1.0, optimizer="rmsprop", lr=5e-3,
                 max_grad_norm=0.5, reward_scale=0.1, entropy_coef=0.0, actor_reduction="mean",
                 total_steps=300_000, anneal_lr=False),
    # tutorial 2 as written: one env, 64-step batches, gamma 0.95, Adam, summed actor loss
    "tutorial": dict(n_envs=1, n_steps=64, gamma=0.95, lam=1.0, optimizer="adam", lr=1e-3,
                     max_grad_norm=0.0, reward_scale=1.0, entropy_coef=0.05, actor_reduction="sum",
                     total_steps=100_000, anneal_lr=False),
}  # fmt: skip


@dataclass
class A2CConfig:
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
    normalize_advantages: bool = field(default=False, metadata={"help": "per-batch z-score"})
    seed: int = field(default=1, metadata={"help": "seed for envs, init and sampling"})
    target_return: float = field(default=475.0, metadata={"help": "solved: mean of last 100"})
    stop_when_solved: bool = field(default=False, metadata={"help": "stop at target_return"})
    eval_episodes: int = field(default=100, metadata={"help": "greedy episodes at the end"})
    gif: bool = field(default=True, metadata={"help": "save a GIF of one greedy episode"})
    jit: bool = field(default=True, metadata={"help": "XLA-compile the update"})
    strategy: str = field(
        default="default", metadata={"help": "default|mirrored (the update's devices)"}
    )
    precision: str = field(default="float32", metadata={"help": "|".join(PRECISIONS)})
    logdir: str = field(default="runs", metadata={"help": "parent directory of run dirs"})
    name: str = field(default="a2c", metadata={"help": "run name prefix"})
    resume: bool = field(default=False, metadata={"help": "continue the latest run of this name"})
    progress: bool = field(default=True, metadata={"help": "show a tqdm progress bar"})

    def resolved(self) -> A2CConfig:
        """Validate every field and fill the ``None`` ones from the preset."""
        from tfcourse.rl.rollout import check_env_id  # gymnasium: only when a run starts

        cfg = apply_preset(self, PRESETS)
        checks = [
            (cfg.n_envs >= 1, f"--n-envs must be >= 1, got {cfg.n_envs}"),
            bounded("--n-envs", cfg.n_envs, 1, 1024),
            (cfg.n_steps >= 1, f"--n-steps must be >= 1, got {cfg.n_steps}"),
            bounded("--n-steps", cfg.n_steps, 1, 100_000),
            bounded("--total-steps", cfg.total_steps, 1, 10**10),
            (cfg.total_steps >= cfg.n_envs * cfg.n_steps,
             f"--total-steps must be >= n-envs * n-steps = {cfg.n_envs * cfg.n_steps}"),
            bounded("--gamma", cfg.gamma, 0, 1),
            bounded("--lam", cfg.lam, 0, 1),
            (cfg.optimizer in ("rmsprop", "adam"), "--optimizer must be rmsprop or adam"),
            (not cfg.lr <= 0, f"--lr must be > 0, got {cfg.lr}"),
            bounded("--lr", cfg.lr, 0, 1.0, low_open=True),
            (cfg.max_grad_norm >= 0, "--max-grad-norm must be >= 0 (0 = no clipping)"),
            bounded("--max-grad-norm", cfg.max_grad_norm, 0, 1e6),
            (cfg.reward_scale > 0, "--reward-scale must be > 0"),
            bounded("--reward-scale", cfg.reward_scale, 0, 1e6, low_open=True),
            (cfg.entropy_coef >= 0, "--entropy-coef must be >= 0"),
            bounded("--entropy-coef", cfg.entropy_coef, 0, 1e3),
            bounded("--target-return", cfg.target_return, -1e12, 1e12),
            (cfg.actor_reduction in ("sum", "mean"), "--actor-reduction must be sum or mean"),
            (cfg.eval_episodes >= 0, "--eval-episodes must be >= 0"),
            bounded("--eval-episodes", cfg.eval_episodes, 0, 10_000),
            bounded("--seed", cfg.seed, 0, MAX_SEED),
            (cfg.strategy in STRATEGIES,
             f"unknown strategy {cfg.strategy!r}; choose default or mirrored"),
            (cfg.precision in PRECISIONS,
             f"unknown precision {cfg.precision!r}; choose one of {', '.join(PRECISIONS)}"),
        ]  # fmt: skip
        require(checks)
        check_env_id(cfg.env)
        check_run_name(cfg.name)
        if cfg.strategy == "multiworker":
            raise ConfigError(
                "--strategy multiworker is not supported for A2C: every worker process would "
                "step its own copy of the environments and they would have to agree on each "
                "rollout; use --strategy mirrored (the update split over this machine's "
                "devices) or default"
            )
        return cfg
