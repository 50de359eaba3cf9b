"""The ``tfcourse`` command line.

Every training command is generated from its config dataclass (CleanRL style): one flag per
field, ``--no-<flag>`` for booleans, help text from the field metadata and, for a field its
preset fills, the value under each preset. The config modules import no TensorFlow, so
building the parser (and ``--help``) is instant; TensorFlow is imported, without its C++ log
lines unless ``--verbose``, only by a command that runs. Every trainer writes its progress to
stderr and its metrics, as JSON alone, to stdout (``tfcourse train sine > out.json``). User
mistakes (:class:`~tfcourse.errors.TfcourseError`) print a short error to stderr and exit with
code 2.

Examples::

    tfcourse info
    tfcourse train mlp --dataset fashion_mnist --epochs 10
    tfcourse train mlp --preset tutorial --resume
    tfcourse tensorboard --logdir runs
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import importlib
import json
import os
import sys
import textwrap
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

from tfcourse.errors import TfcourseError
from tfcourse.grading.commands import add_grading_commands
from tfcourse.presets import preset_defaults
from tfcourse.settings import import_tensorflow_quietly

STORAGE_ERRNOS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.EISDIR,
    errno.ENOTDIR,
    errno.ENOENT,
}


@dataclasses.dataclass(frozen=True)
class Trainer:
    """What ``tfcourse train <what>`` runs: a tutorial's folder and two names in it.

    The folder holds ``config.py`` (the config dataclass, importing no TensorFlow: ``--help``
    is built from it) and ``trainer.py`` (a function from that config to the metrics).
    """

    package: str  # e.g. "tfcourse.mlp"
    config: str  # the dataclass in <package>.config
    train: str  # the function(config) -> metrics in <package>.trainer


# "train <what>" -> its Trainer; a new tutorial adds one line here
TRAINERS: dict[str, Trainer] = {
    "mlp": Trainer("tfcourse.mlp", "MLPConfig", "train_mlp"),
    "sine": Trainer("tfcourse.review", "SineConfig", "train_sine"),
    "a2c": Trainer("tfcourse.rl", "A2CConfig", "train_a2c"),
}
WIDTH = 100  # error lines are wrapped at this many characters
QUIET_COMMANDS = ("info", "train", "eval", "tensorboard", "mistakes")  # TensorFlow quietly first


def _plain(text: str) -> str:
    """A docstring line as ``--help`` shows it: without reStructuredText's double backticks."""
    return text.replace("``", "")


def _field_type(annotation: Any) -> type:
    """``int | None`` -> ``int``; string annotations resolved by the caller."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0]
    return annotation


def add_dataclass_args(
    parser: argparse.ArgumentParser, cls: type, presets: dict[str, dict[str, Any]] | None = None
) -> None:
    """Add one ``--flag`` per field of dataclass ``cls``.

    ``--help`` shows each flag's default; a field left ``None`` for its preset to fill shows
    the value under each of ``presets`` instead, e.g. ``(default: 0.002 (fast), 0.001 (tutorial))``.
    """
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)  # hyper-parameters first, then where outputs go
    for f in sorted(fields, key=lambda f: f.metadata.get("hparam", True) is False):
        kind = _field_type(hints[f.name])
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata.get("help", "").replace(" (preset)", "")
        if f.default is None and presets and any(f.name in p for p in presets.values()):
            shown = preset_defaults(presets, f.name)
        else:
            shown = "none" if f.default is None else str(f.default)
        help_text = f"{help_text} (default: {shown.replace('%', '%%')})"
        if kind is bool:
            parser.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=f.default, help=help_text
            )
        else:
            parser.add_argument(
                flag,
                type=kind,
                default=f.default,
                dest=f.name,
                metavar=kind.__name__.upper(),
                help=help_text,
            )


def dataclass_from_args(cls: type, args: argparse.Namespace) -> Any:
    """Build ``cls`` from the parsed flags that :func:`add_dataclass_args` added."""
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls)})


def _cmd_info(args: argparse.Namespace) -> int:
    from tfcourse.scale.devices import device_report, format_report

    report = device_report()
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    trainer = TRAINERS[args.what]
    config = dataclass_from_args(args.config_cls, args)
    metrics = getattr(importlib.import_module(f"{trainer.package}.trainer"), trainer.train)(config)
    print(json.dumps(metrics, indent=2, sort_keys=True))
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from tfcourse.rl.evaluate import evaluate_run

    report = evaluate_run(args.run_dir, episodes=args.episodes, gif=args.gif, seed=args.seed)
    print(json.dumps(report, indent=2))
    return 0


def _cmd_tensorboard(args: argparse.Namespace) -> int:
    from tensorboard import main as tensorboard_main  # after TensorFlow's quiet import

    if not args.verbose:  # its 4-line NOTE that the (default) fast loader is experimental
        program = importlib.import_module("tensorboard.program")  # the module, not a lazy proxy
        program._DATA_SERVER_ADVISORY_MESSAGE = ""
    sys.argv = ["tensorboard", "--logdir", args.logdir, "--port", str(args.port)]
    if args.host:
        sys.argv += ["--host", args.host]
    tensorboard_main.run_main()  # serves until Ctrl+C
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The full ``tfcourse`` parser, built from the config dataclasses (no TensorFlow import)."""
    parser = argparse.ArgumentParser(prog="tfcourse", description=_plain(__doc__.split("\n\n")[0]))
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's C++ log lines too (start-up, XLA); in notebooks: "
        "TFCOURSE_VERBOSE=1",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info = sub.add_parser("info", help="TensorFlow/Keras versions, build and devices")
    info.add_argument("--json", action="store_true", help="print JSON instead of a table")
    info.set_defaults(handler=_cmd_info)

    train = sub.add_parser("train", help="train a model; writes runs/<name>-seed<seed>-<time>/")
    train_sub = train.add_subparsers(dest="what", required=True, metavar="MODEL")
    for what, trainer in TRAINERS.items():
        module = importlib.import_module(f"{trainer.package}.config")
        cls = getattr(module, trainer.config)
        p = train_sub.add_parser(what, help=_plain((cls.__doc__ or "").splitlines()[0]))
        add_dataclass_args(p, cls, getattr(module, "PRESETS", None))
        p.set_defaults(handler=_cmd_train, config_cls=cls)

    evaluate = sub.add_parser("eval", help="evaluate a trained agent greedily")
    eval_sub = evaluate.add_subparsers(dest="what", required=True, metavar="MODEL")
    a2c = eval_sub.add_parser("a2c", help="greedy episodes of a finished A2C run")
    a2c.add_argument("run_dir", help="run directory written by 'tfcourse train a2c'")
    a2c.add_argument("--episodes", type=int, default=100, help="greedy episodes (default: 100)")
    a2c.add_argument("--gif", default=None, help="also save one greedy episode as this GIF")
    a2c.add_argument("--seed", type=int, default=10_000, help="reset seed of the first episode")
    a2c.set_defaults(handler=_cmd_eval)

    board = sub.add_parser("tensorboard", help="TensorBoard on the runs, without TF's log lines")
    board.add_argument("--logdir", default="runs", help="folder of run folders (default: runs)")
    board.add_argument("--port", type=int, default=6006, help="port to serve on (default: 6006)")
    board.add_argument("--host", default=None, help="address to serve on (default: localhost)")
    board.set_defaults(handler=_cmd_tensorboard)
    add_grading_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tfcourse`` console script; returns the exit code.

    Every failure the user can act on ends with a ``tfcourse: error: ...`` message on stderr
    (see :func:`user_error`) and exit code 2: a :class:`~tfcourse.errors.TfcourseError`,
    running out of memory, and a file that cannot be written (full disk, read-only folder, a
    folder where a file goes).
    """
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    if args.command in QUIET_COMMANDS:
        import_tensorflow_quietly(verbose=args.verbose)
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("tfcourse: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        message = user_error(exc)
        if message is None:
            raise  # a bug: keep the traceback
        print(f"tfcourse: error: {message}", file=sys.stderr)
        return 2


def _tf_disk_errno(exc: BaseException) -> int | None:
    """ENOSPC & co. for a TensorFlow ``OpError`` about a file (TF reports a full disk as
    ``ResourceExhaustedError``, which is not an out-of-memory)."""
    if "tensorflow" not in type(exc).__module__:
        return None
    from tfcourse.run.lifecycle import disk_errno

    return disk_errno(str(exc))


def user_error(exc: BaseException) -> str | None:
    """The message for an error the user can fix, or None for a bug (traceback).

    Handles :class:`~tfcourse.errors.TfcourseError`, out of memory (``MemoryError`` and
    TensorFlow's ``ResourceExhaustedError``) and ``OSError`` s of writing (as
    :func:`tfcourse.safe_write.storage_error`). A message is one line, except a CLI message
    written in several (``cli_message`` with line breaks, e.g. the places a missing data set
    was looked for): it keeps its lines, each wrapped at :data:`WIDTH` characters.
    """
    if isinstance(exc, TfcourseError):
        text = exc.cli_message or str(exc)  # the fix in flags where it differs from Python
    elif type(exc).__name__.endswith("Error") and _tf_disk_errno(exc) is not None:
        from tfcourse.safe_write import storage_error

        code = _tf_disk_errno(exc)
        text = str(storage_error("a file", OSError(code, os.strerror(code))))
    elif isinstance(exc, MemoryError) or type(exc).__name__ == "ResourceExhaustedError":
        text = (
            "out of memory: the model or the data does not fit; use a smaller --hidden, "
            "--batch-size, --n-envs or --train-samples"
        )
    elif isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS:
        from tfcourse.safe_write import storage_error

        text = str(storage_error(exc.filename or "a file", exc))
    else:
        return None
    from tfcourse.grading.printable import printable  # messages may quote a submission

    if isinstance(exc, TfcourseError) and exc.cli_message and "\n" in exc.cli_message.strip():
        return "\n".join(printable(line, multiline=False) for line in _wrap(text))
    line = " ".join(part.strip() for part in text.splitlines() if part.strip())
    return printable(line, multiline=False)


def _wrap(text: str) -> list[str]:
    """``text``'s lines cut at :data:`WIDTH` characters (the first after ``tfcourse: error: ``);
    a continued line is indented like its list item's text (``  - ``), else by two spaces."""
    lines: list[str] = []
    prefix = " " * len("tfcourse: error: ")
    for i, raw in enumerate(text.strip().splitlines()):
        item = raw.lstrip()
        indent = " " * (len(raw) - len(item) + (2 if item.startswith("- ") else 2 * (i == 0)))
        wrapped = textwrap.wrap(
            raw,
            WIDTH,
            initial_indent=prefix if i == 0 else "",
            subsequent_indent=indent or "  ",
            break_long_words=False,  # paths stay whole
            break_on_hyphens=False,
        ) or [""]
        if i == 0:
            wrapped[0] = wrapped[0][len(prefix) :]
        lines += wrapped
    return lines


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
