"""What the benchmark scripts share: the machine's facts, process memory, targets, the
run-then-report ``main``.

Imported by ``scripts/bench_*.py`` (this folder is on ``sys.path`` when a script runs).

Every benchmark prints :func:`machine_facts` with its figures (and puts them in its JSON under
``"machine"``), so that figures from two machines can be compared: the CPU model, the
instruction sets that decide matmul speed (AVX2, AVX-512, FMA), the cores this process may use,
the load while it ran and TensorFlow's thread settings.

A :class:`Target` is set for a budget (``--epochs 10`` on all samples, say): a shortened run
(``--epochs 1``) reports it as "not checked at --epochs 1" instead of missed. In the JSON,
``targets_met[name]`` is then ``None`` and ``targets_not_checked[name]`` says why.
"""

from __future__ import annotations

import json
import operator
import os
import platform
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq}
# the instruction sets that matter for float32 matmuls, as /proc/cpuinfo spells them
ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")
# environment variables that change TensorFlow's CPU speed
SPEED_ENV = (
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "OMP_NUM_THREADS",
    "TF_ENABLE_ONEDNN_OPTS",
    "XLA_FLAGS",
)


def _cpuinfo() -> dict[str, str]:
    """The first processor's ``key: value`` lines of /proc/cpuinfo ({} where there is none)."""
    info: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return info
    for line in text.split("\n\n")[0].splitlines():
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    return info


def tf_threads() -> dict[str, Any]:
    """TensorFlow's intra- and inter-op thread settings (0 = TensorFlow picks: one thread per
    usable core). Read from TensorFlow when the process has imported it, else from the
    ``TF_NUM_*_THREADS`` variables TensorFlow would read (TensorFlow is not imported here)."""
    tf = sys.modules.get("tensorflow")
    if tf is not None and hasattr(tf, "config"):
        return {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
            "source": "tf.config.threading",
        }
    return {
        "intra_op": int(os.environ.get("TF_NUM_INTRAOP_THREADS") or 0),
        "inter_op": int(os.environ.get("TF_NUM_INTEROP_THREADS") or 0),
        "source": "environment (TensorFlow not imported by this process)",
    }


def machine_facts() -> dict[str, Any]:
    """What a benchmark's figures depend on, for comparing them across machines.

    Returns:
        ``cpu_model``, ``cpu_mhz``, ``isa`` (which of :data:`ISA_FLAGS` the CPU has),
        ``usable_cores`` (``os.sched_getaffinity``), ``logical_cpus`` (``os.cpu_count``),
        ``load_avg`` (1, 5 and 15 minutes), ``tf_threads`` (:func:`tf_threads`), ``env`` (the
        :data:`SPEED_ENV` variables that are set) and ``python``.
    """
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count())
    return {
        "cpu_model": info.get("model name") or platform.processor() or platform.machine(),
        "cpu_mhz": float(info["cpu MHz"]) if "cpu MHz" in info else None,
        "isa": [f for f in ISA_FLAGS if f in flags],
        "usable_cores": len(cores),
        "logical_cpus": os.cpu_count(),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "tf_threads": tf_threads(),
        "env": {k: os.environ[k] for k in SPEED_ENV if k in os.environ},
        "python": platform.python_version(),
    }


def machine_line(facts: Mapping[str, Any]) -> str:
    """One line of :func:`machine_facts`, e.g. ``machine: Intel(R) Xeon(R) ... | avx2 fma
    avx512f | 2 usable cores of 2 | load 3.1 2.9 2.5 | TF threads intra 0 inter 0 (0 = one
    per usable core)``."""
    threads = facts["tf_threads"]
    mhz = f" @ {facts['cpu_mhz']:.0f} MHz" if facts.get("cpu_mhz") else ""
    line = (
        f"machine: {facts['cpu_model']}{mhz} | {' '.join(facts['isa']) or 'no AVX'} | "
        f"{facts['usable_cores']} usable cores of {facts['logical_cpus']} | load "
        f"{' '.join(f'{x:.1f}' for x in facts['load_avg'])} | TF threads intra "
        f"{threads['intra_op']} inter {threads['inter_op']} (0 = one per usable core)"
    )
    if facts["env"]:
        line += " | " + " ".join(f"{k}={v}" for k, v in facts["env"].items())
    return line


def report_machine() -> dict[str, Any]:
    """Print :func:`machine_line` and return :func:`machine_facts`, for a script's JSON:
    ``report["machine"] = report_machine()``."""
    facts = machine_facts()
    print(machine_line(facts), flush=True)
    return facts


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
    afterwards), print its human-readable ``report`` and the machine's facts, then the result
    (with ``"machine"``) as the last JSON line.

    Returns:
        The exit code: 1 when the result names ``failed_parts``, else 0 (missed targets are
        reported, not failures).
    """
    load_before = os.getloadavg()
    if args.logdir:
        result = run(args, args.logdir, *extra)
    else:
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
            result = run(args, tmp, *extra)
    report(result)
    facts = report_machine()  # its load_avg is the load at the end
    facts["load_avg_at_start"] = [round(x, 2) for x in load_before]
    result["machine"] = facts
    print(json.dumps(result))
    return 1 if result.get("failed_parts") else 0


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


def check_targets(
    args: Any,
    result: dict[str, Any],
    targets: Sequence[Target],
    why_missing: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Check ``targets`` against ``result`` for a run with arguments ``args``.

    A target whose value is ``None`` (its part failed or was skipped) is not checked; it says
    ``why_missing[key]`` (default: "not checked: no figure").

    Returns:
        ``targets`` (name -> bound), ``targets_met`` (name -> True, False or None when the run
        was shorter than the target's budget), ``targets_not_checked`` (name -> why) and
        ``target_rules`` (name -> :meth:`Target.rule`), to merge into the report.
    """
    met: dict[str, bool | None] = {}
    not_checked: dict[str, str] = {}
    for t in targets:
        short = [(a, op, v) for a, op, v in t.needs if not _OPS[op](getattr(args, a), v)]
        if result.get(t.key) is None:
            met[t.name] = None
            not_checked[t.name] = (why_missing or {}).get(t.key, "not checked: no figure")
        elif short:
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
        lines.append("targets not checked: " + ", ".join(r["targets_not_checked"]))
    return lines
