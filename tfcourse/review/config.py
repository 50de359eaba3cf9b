"""Settings of a sine-regression run (tutorial 3): ``SineConfig``, the flags of ``tfcourse train
sine``, and its presets (how configs work: :mod:`tfcourse.presets`). Plain data, no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tfcourse.presets import PRECISIONS, STRATEGIES, RunConfig, bounded, one_of, scale_checks

RESUME_MUST_MATCH = ("hidden", "depth", "batch_size", "n_points", "noise", "seed")
PRESETS = {
    # default: a larger Adam step that decays to 0 along a cosine; plain MSE 0.0025-0.0028
    # after 10,000 steps (16 seeds)
    "fast": dict(lr=2e-2, lr_schedule="cosine"),
    # the review exactly: Adam(1e-3); its printed 0.002 is 0.5·MSE; plain MSE 0.003-0.004
    "tutorial": dict(lr=1e-3, lr_schedule="constant"),
}


@dataclass
class SineConfig(RunConfig):
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
    name: str = field(default="sine", metadata={"help": "run name prefix", "hparam": False})
    progress: bool = field(
        default=True, metadata={"help": "print one line per chunk", "hparam": False}
    )

    presets = PRESETS

    def checks(self) -> list[tuple[bool, str]]:
        """Every flag's check (see :meth:`RunConfig.resolved`)."""
        return [
            bounded("--steps", self.steps, 1, 10**9),
            bounded("--batch-size", self.batch_size, 1, 1_000_000),
            bounded("--lr", self.lr, 0, 1.0, low_open=True),
            one_of("--lr-schedule", self.lr_schedule, ("constant", "cosine")),
            bounded("--hidden", self.hidden, 1, 10_000),
            bounded("--depth", self.depth, 0, 100),
            bounded("--chunk", self.chunk, 1, 1_000_000),
            bounded("--n-points", self.n_points, 1, 10_000_000),
            bounded("--noise", self.noise, 0, 100.0),
            *scale_checks(self),
        ]

    @property
    def sizes(self) -> tuple[int, ...]:
        """Layer widths, ``(1, 20, 20, 1)`` by default."""
        return (1, *[self.hidden] * self.depth, 1)
