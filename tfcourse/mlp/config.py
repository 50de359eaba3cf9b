"""Settings of an MLP run (tutorial 1): the dataclass behind ``tfcourse train mlp`` and its presets.

Every field is a command-line flag (see :mod:`tfcourse.cli`); ``None`` fields are filled from
the chosen preset by :meth:`MLPConfig.resolved`, which also validates everything in one go.
Plain data: importing this module does not import TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tfcourse.data.loaders import DATASETS  # numpy only
from tfcourse.presets import (
    INITS,
    MAX_SEED,
    PRECISIONS,
    STRATEGIES,
    apply_preset,
    bounded,
    in_range,
    require,
)
from tfcourse.run.folder import check_run_name  # no TensorFlow

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
class MLPConfig:
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
    steps_per_execution: int = field(default=4, metadata={"help": "steps per compiled call"})
    strategy: str = field(default="default", metadata={"help": "|".join(STRATEGIES)})
    precision: str = field(default="float32", metadata={"help": "|".join(PRECISIONS)})
    # "hparam": False = not a hyper-parameter: left out of TensorBoard's HParams tab
    # (tfcourse.run.summaries.hparams_of), as it changes where outputs go or what is shown, not
    # results
    logdir: str = field(
        default="runs", metadata={"help": "parent directory of run dirs", "hparam": False}
    )
    name: str = field(default="mlp", metadata={"help": "run name prefix", "hparam": False})
    resume: bool = field(
        default=False, metadata={"help": "continue the latest run of this name", "hparam": False}
    )
    data_path: str | None = field(
        default=None, metadata={"help": "npz file or IDX directory", "hparam": False}
    )
    progress: bool = field(
        default=True, metadata={"help": "show a tqdm progress bar", "hparam": False}
    )

    def resolved(self) -> MLPConfig:
        """Validate every field and fill the ``None`` ones from the preset."""
        cfg = apply_preset(self, PRESETS)
        checks = [
            (
                cfg.dataset in DATASETS,
                f"unknown dataset {cfg.dataset!r}; choose mnist or fashion_mnist",
            ),
            (cfg.epochs >= 1, f"--epochs must be >= 1, got {cfg.epochs}"),
            bounded("--epochs", cfg.epochs, 1, MAX_EPOCHS),
            (cfg.batch_size >= 1, f"--batch-size must be >= 1, got {cfg.batch_size}"),
            bounded("--batch-size", cfg.batch_size, 1, 1_000_000),
            (not cfg.lr <= 0, f"--lr must be > 0, got {cfg.lr}"),
            bounded("--lr", cfg.lr, 0, MAX_LR, low_open=True),
            (cfg.lr_schedule in ("constant", "cosine"), "--lr-schedule must be constant or cosine"),
            (cfg.init in INITS, f"--init must be one of {', '.join(INITS)}, got {cfg.init!r}"),
            (in_range(cfg.label_smoothing, 0, 1) and cfg.label_smoothing < 1,
             f"--label-smoothing must be in [0, 1), got {cfg.label_smoothing}"),
            (cfg.sampling in ("epoch", "replacement"), "--sampling must be epoch or replacement"),
            (cfg.hidden >= 1, f"--hidden must be >= 1, got {cfg.hidden}"),
            bounded("--hidden", cfg.hidden, 1, MAX_HIDDEN),
            (cfg.train_samples >= 0, "--train-samples must be >= 0 (0 = all)"),
            bounded("--train-samples", cfg.train_samples, 0, 10**9),
            (cfg.steps_per_execution >= 1, "--steps-per-execution must be >= 1"),
            bounded("--steps-per-execution", cfg.steps_per_execution, 1, 10_000),
            bounded("--seed", cfg.seed, 0, MAX_SEED),
            (cfg.strategy in STRATEGIES, f"strategy must be one of {STRATEGIES}"),
            (cfg.precision in PRECISIONS, f"precision must be one of {PRECISIONS}"),
            (bool(cfg.name), "--name must not be empty; use e.g. --name my-run"),
        ]  # fmt: skip
        require(checks)
        check_run_name(cfg.name)
        return cfg
