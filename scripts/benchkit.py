"""What the benchmark scripts share: process memory, targets, the run-then-report ``main``.

Imported by ``scripts/bench_*.py`` (this folder is on ``sys.path`` when a script runs).

A :class:`Target` is set for a budget (``--epochs 10`` on all samples, say): a shortened run
(``--epochs 1``) reports it as "not checked at --epochs 1" instead of missed. In the JSON,
``targets_met[name]`` is then ``None`` and ``targets_not_checked[name]`` says why.
"""

from __future__ import annotations

import json
import operator
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq}


def rss_mb() -> float:
    """Resident set size of this process in MB, from VmRSS in /proc/self/status (0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return 0.0


def run_and_report(
    args: Any,
    run: Callable[..., dict[str, Any]],
    report: Callable[[dict[str, Any]], None],
    prefix: str,
    *extra: Any,
) -> int:
    """``run(args, logdir, *extra)`` in ``args.logdir`` (or a temporary folder, removed
    afterwards), print its human-readable ``report``, then the result as the last JSON line."""
    if args.logdir:
        result = run(args, args.logdir, *extra)
    else:
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
            result = run(args, tmp, *extra)
    report(result)
    print(json.dumps(result))
    return 0


@dataclass(frozen=True)
class Target:
    """``result[key] >= bound`` (``<=`` with ``at_most``), checked only for its budget.

    Attributes:
        name: key of the target in the report's ``targets`` and ``targets_met``.
        key: the result value compared with ``bound``.
        bound: the threshold.
        at_most: compare ``<=`` instead of ``>=``.
        needs: the budget the target was set for, as ``(argument, ">=" or "==", value)``
            triples on the script's parsed arguments, e.g. ``(("epochs", ">=", 10),)``.
    """

    name: str
    key: str
    bound: float
    at_most: bool = False
    needs: tuple[tuple[str, str, Any], ...] = ()

    def rule(self) -> str:
        """E.g. ``"test_accuracy >= 0.98 (for --epochs >= 10)"``."""
        text = f"{self.key} {'<=' if self.at_most else '>='} {self.bound}"
        if self.needs:
            text += " (for " + ", ".join(_flag(a, op, v) for a, op, v in self.needs) + ")"
        return text


def _flag(attribute: str, op: str, value: Any) -> str:
    flag = "--" + attribute.replace("_", "-")
    return f"{flag} {value}" if op == "==" else f"{flag} {op} {value}"


def check_targets(args: Any, result: dict[str, Any], targets: Sequence[Target]) -> dict[str, Any]:
    """Check ``targets`` against ``result`` for a run with arguments ``args``.

    Returns:
        ``targets`` (name -> bound), ``targets_met`` (name -> True, False or None when the run
        was shorter than the target's budget), ``targets_not_checked`` (name -> why) and
        ``target_rules`` (name -> :meth:`Target.rule`), to merge into the report.
    """
    met: dict[str, bool | None] = {}
    not_checked: dict[str, str] = {}
    for t in targets:
        short = [(a, op, v) for a, op, v in t.needs if not _OPS[op](getattr(args, a), v)]
        if short:
            met[t.name] = None
            given = ", ".join(_flag(a, "==", getattr(args, a)) for a, _, _ in short)
            not_checked[t.name] = f"not checked at {given}"
        else:
            value = result[t.key]
            met[t.name] = bool(value <= t.bound if t.at_most else value >= t.bound)
    return {
        "targets": {t.name: t.bound for t in targets},
        "targets_met": met,
        "targets_not_checked": not_checked,
        "target_rules": {t.name: t.rule() for t in targets},
    }


def target_lines(r: dict[str, Any]) -> list[str]:
    """One line per target of a :func:`check_targets` report, then the missed ones."""
    lines = []
    for name, ok in r["targets_met"].items():
        rule = r["target_rules"][name]
        if ok is None:
            lines.append(f"target {rule}: {r['targets_not_checked'][name]}")
        else:
            key = rule.split()[0]
            lines.append(f"target {rule}: {r[key]} ({'met' if ok else 'MISSED'})")
    missed = [name for name, ok in r["targets_met"].items() if ok is False]
    lines.append("missed targets: " + (", ".join(missed) or "none"))
    if r["targets_not_checked"]:
        lines.append("targets not checked (shortened run): " + ", ".join(r["targets_not_checked"]))
    return lines
