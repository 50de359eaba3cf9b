"""What the benchmark scripts share: process memory and the run-then-report ``main``.

Imported by ``scripts/bench_*.py`` (this folder is on ``sys.path`` when a script runs).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


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
