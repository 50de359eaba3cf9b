"""Settings of a sine-regression run (tutorial 3): the dataclass behind ``tfcourse train sine``.

Every field is a command-line flag (see :mod:`tfcourse.cli`); ``None`` fields are filled from
the chosen preset by :meth:`SineConfig.resolved`, which also validates everything in one go.
Plain data: importing this module does not import TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tfcourse.presets import MAX_SEED, PRECISIONS, STRATEGIES, apply_preset, bounded, require
from tfcourse.run.folder import check_run_name  # no TensorFlow

RESUME_MUST_MATCH = ("hidden", "depth", "batch_size", "n_points", "noise", "seed")
PRESETS = {
    # default: a larger Adam step that decays to 0 along a cosine; plain MSE 0.0025-0.0028
    # after 10,000 steps (16 seeds)
    "fast": dict(lr=2e-2, lr_schedule="cosine"),
    # the review exactly: Adam(1e-3); its printed 0.002 is 0.5·MSE; plain MSE 0.003-0.004
    "tutorial": dict(lr=1e-3, lr_schedule="constant"),
}


@dataclass
class SineConfig:
    """Every setting of a sine-regression run (saved as ``config.json``; each field is a flag)."""

    preset: str = field(default="fast", metadata={"help": "fast (tuned) or tutorial (as written)"})
    steps: int = field(default=10000, metadata={"help": "Adam steps in total"})
    batch_size: int = field(default=32, metadata={"help": "samples per step (with replacement)"})
    lr: float | None = field(default=None, metadata={"help": "Adam learning rate (preset)"})
    lr_schedule: str | None = field(
        default=None, metadata={"help": "constant or cosine (decays to 0) (preset)"}
    )
    hidden: int = field(default=20, metadata={"help": "width of each hidden layer"})
    depth: int = field(default=2, metadata={"help": "number of hidden layers"})
    chunk: int = field(default=1000, metadata={"help": "steps per compiled call, log, checkpoint"})
    n_points: int = field(default=10000, metadata={"help": "points on [-2pi, 2pi]"})
    noise: float = field(default=0.05, metadata={"help": "std of the noise added to sin(x)"})
    seed: int = field(default=1, metadata={"help": "seed for data, init, batches and Keras"})
    jit: bool = field(default=True, metadata={"help": "XLA-compile each chunk"})
    strategy: str = field(default="default", metadata={"help": "|".join(STRATEGIES)})
    precision: str = field(default="float32", metadata={"help": "|".join(PRECISIONS)})
    # "hparam": False = not a hyper-parameter: left out of TensorBoard's HParams tab
    # (tfcourse.run.summaries.hparams_of), as it changes where outputs go or what is shown, not
    # results
    logdir: str = field(
        default="runs", metadata={"help": "parent directory of run dirs", "hparam": False}
    )
    name: str = field(default="sine", metadata={"help": "run name prefix", "hparam": False})
    resume: bool = field(
        default=False, metadata={"help": "continue the latest run of this name", "hparam": False}
    )
    progress: bool = field(
        default=True, metadata={"help": "print one line per chunk", "hparam": False}
    )

    def resolved(self) -> SineConfig:
        """Validate every field and fill the ``None`` ones from the preset."""
        cfg = apply_preset(self, PRESETS)
        checks = [
            (cfg.steps >= 1, f"--steps must be >= 1, got {cfg.steps}"),
            bounded("--steps", cfg.steps, 1, 10**9),
            (cfg.batch_size >= 1, f"--batch-size must be >= 1, got {cfg.batch_size}"),
            bounded("--batch-size", cfg.batch_size, 1, 1_000_000),
            (not cfg.lr <= 0, f"--lr must be > 0, got {cfg.lr}"),
            bounded("--lr", cfg.lr, 0, 1.0, low_open=True),
            (cfg.lr_schedule in ("constant", "cosine"),
             f"--lr-schedule must be constant or cosine, got {cfg.lr_schedule!r}"),
            (cfg.hidden >= 1, f"--hidden must be >= 1, got {cfg.hidden}"),
            bounded("--hidden", cfg.hidden, 1, 10_000),
            (cfg.depth >= 0, f"--depth must be >= 0, got {cfg.depth}"),
            bounded("--depth", cfg.depth, 0, 100),
            (cfg.chunk >= 1, f"--chunk must be >= 1, got {cfg.chunk}"),
            bounded("--chunk", cfg.chunk, 1, 1_000_000),
            (cfg.n_points >= 1, f"--n-points must be >= 1, got {cfg.n_points}"),
            bounded("--n-points", cfg.n_points, 1, 10_000_000),
            (cfg.noise >= 0, f"--noise must be >= 0, got {cfg.noise}"),
            bounded("--noise", cfg.noise, 0, 100.0),
            bounded("--seed", cfg.seed, 0, MAX_SEED),
            (cfg.strategy in STRATEGIES,
             f"strategy must be one of {', '.join(STRATEGIES)}, got {cfg.strategy!r}"),
            (cfg.precision in PRECISIONS,
             f"precision must be one of {', '.join(PRECISIONS)}, got {cfg.precision!r}"),
        ]  # fmt: skip
        require(checks)
        check_run_name(cfg.name)
        return cfg

    @property
    def sizes(self) -> tuple[int, ...]:
        """Layer widths, ``(1, 20, 20, 1)`` by default."""
        return (1, *[self.hidden] * self.depth, 1)
