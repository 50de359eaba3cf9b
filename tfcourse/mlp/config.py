"""Settings of an MLP run (tutorial 1): ``MLPConfig``, the flags of ``tfcourse train mlp``, and
its presets (how configs work: :mod:`tfcourse.presets`). Plain data, no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tfcourse.data.loaders import DATASETS  # numpy only
from tfcourse.presets import (
    INITS,
    PRECISIONS,
    STRATEGIES,
    RunConfig,
    bounded,
    in_range,
    one_of,
    scale_checks,
)

MAX_EPOCHS = 100_000  # far beyond any useful run; larger values overflow the lr schedule
MAX_HIDDEN = 50_000  # W1 alone is 784 x 50,000 floats (157 MB, x3 with Adam's moments)
MAX_LR = 1.0  # an Adam step above 1 only diverges
RESUME_MUST_MATCH = ("dataset", "hidden", "init", "batch_size", "train_samples")
PRESETS = {
    # the tuned default: He init, a larger Adam step that decays to zero, mild label smoothing
    "fast": dict(init="he", lr=2e-3, lr_schedule="cosine", label_smoothing=0.1, sampling="epoch"),
    # tutorial 1 exactly: N(0, 0.03) weights, Adam(1e-3), batches drawn with replacement
    "tutorial": dict(
        init="normal", lr=1e-3, lr_schedule="constant", label_smoothing=0.0, sampling="replacement"
    ),
}


@dataclass
class MLPConfig(RunConfig):
    """Every setting of an MLP run (saved as ``config.json``; each field is a CLI flag)."""

    dataset: str = field(default="mnist", metadata={"help": f"one of {', '.join(DATASETS)}"})
    preset: str = field(default="fast", metadata={"help": "fast (tuned) or tutorial (as written)"})
    epochs: int = field(default=10, metadata={"help": "passes over the training set"})
    batch_size: int = field(default=100, metadata={"help": "samples per gradient step"})
    lr: float | None = field(default=None, metadata={"help": "Adam learning rate (preset)"})
    lr_schedule: str | None = field(default=None, metadata={"help": "constant or cosine"})
    init: str | None = field(default=None, metadata={"help": f"{'|'.join(INITS)} (preset)"})
    label_smoothing: float | None = field(default=None, metadata={"help": "0 = none (preset)"})
    sampling: str | None = field(default=None, metadata={"help": "epoch or replacement (preset)"})
    hidden: int = field(default=300, metadata={"help": "hidden-layer width"})
    seed: int = field(default=1, metadata={"help": "seed for init, shuffling and Keras"})
    train_samples: int = field(default=0, metadata={"help": "use only the first N (0 = all)"})
    jit: bool = field(default=True, metadata={"help": "XLA-compile the train step"})
    steps_per_execution: int = field(
        default=0,
        metadata={"help": "train steps per compiled call (0 = the whole epoch, a loop in XLA)"},
    )
    strategy: str = field(default="default", metadata={"help": "|".join(STRATEGIES)})
    precision: str = field(default="float32", metadata={"help": "|".join(PRECISIONS)})
    name: str = field(default="mlp", metadata={"help": "run name prefix", "hparam": False})
    data_path: str | None = field(
        default=None, metadata={"help": "npz file or IDX directory", "hparam": False}
    )
    progress: bool = field(
        default=True, metadata={"help": "show a tqdm progress bar", "hparam": False}
    )

    presets = PRESETS

    def checks(self) -> list[tuple[bool, str]]:
        """Every flag's check (see :meth:`RunConfig.resolved`)."""
        return [
            one_of("--dataset", self.dataset, DATASETS),
            bounded("--epochs", self.epochs, 1, MAX_EPOCHS),
            bounded("--batch-size", self.batch_size, 1, 1_000_000),
            bounded("--lr", self.lr, 0, MAX_LR, low_open=True),
            one_of("--lr-schedule", self.lr_schedule, ("constant", "cosine")),
            one_of("--init", self.init, INITS),
            (
                in_range(self.label_smoothing, 0, 1) and self.label_smoothing < 1,
                f"--label-smoothing must be in [0, 1), got {self.label_smoothing}",
            ),
            one_of("--sampling", self.sampling, ("epoch", "replacement")),
            bounded("--hidden", self.hidden, 1, MAX_HIDDEN),
            bounded("--train-samples", self.train_samples, 0, 10**9),
            bounded("--steps-per-execution", self.steps_per_execution, 0, 10_000),
            *scale_checks(self),
        ]
