"""The ``train a2c`` progress bar: env steps, with a rate measured over the recent updates.

tqdm's own rate and time-left come from the time between its redraws, starting at the bar's
creation: the first update of a run includes tracing and XLA compilation (seconds), so for most
of a short run they showed a rate far below the real one. This bar leaves tqdm's rate out and
shows ``sps`` measured over the last ``window`` updates (never the first, compiling one) and
the time left at that rate, set on every update.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import IO

from tqdm import tqdm  # plain text bars: no ipywidgets needed in notebooks

BAR_FORMAT = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"


class Progress:
    """A tqdm bar of env steps; call :meth:`update` after every update.

    Args:
        total: env steps of the whole run. initial: steps already done (a resumed run).
        desc: the bar's label. disable: no bar at all. window: updates the rate is measured
        over. file: where to draw (default stderr).
    """

    def __init__(
        self,
        total: int,
        initial: int = 0,
        desc: str = "",
        disable: bool = False,
        window: int = 20,
        file: IO[str] | None = None,
    ) -> None:
        self.bar = tqdm(
            total=total,
            initial=initial,
            unit="step",
            desc=desc,
            disable=disable,
            mininterval=0.5,
            bar_format=BAR_FORMAT,
            file=file,
        )
        self.total = total
        self.marks: deque[tuple[float, int]] = deque(maxlen=window + 1)  # (time, step)

    def rate(self) -> float:
        """Env steps per second over the marked updates (NaN before two updates)."""
        if len(self.marks) < 2:
            return math.nan
        (t0, s0), (t1, s1) = self.marks[0], self.marks[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else math.nan

    def text(self, mean_return: float) -> str:
        """The postfix: ``mean_return=..., sps=..., left=...`` (``sps=?`` until measured)."""
        rate = self.rate()
        if not math.isfinite(rate) or rate <= 0:
            return f"mean_return={mean_return:.1f}, sps=?"
        left = max(0, self.total - self.marks[-1][1]) / rate
        return f"mean_return={mean_return:.1f}, sps={rate:,.0f}, left={tqdm.format_interval(left)}"

    def update(self, step: int, n: int, mean_return: float, now: float | None = None) -> None:
        """An update ended at env step ``step`` after ``n`` new steps."""
        self.marks.append((time.perf_counter() if now is None else now, step))
        self.bar.set_postfix_str(self.text(mean_return), refresh=False)
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()
