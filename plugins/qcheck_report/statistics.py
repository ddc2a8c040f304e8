"""The statistics report: one line per rule with its count over all models, most frequent first (ruff's --statistics)."""

from __future__ import annotations

from collections import Counter
from typing import TextIO

from qcheck import Report
from qcheck.reporting import Run, render_all


class StatisticsStream:
    def __init__(self, run: Run, out: TextIO) -> None:
        self.out = out
        self.counts: Counter[tuple[str, str, str]] = Counter()

    def add(self, r: Report) -> None:
        self.counts.update((f.code, str(f.severity), f.rule) for f in r.findings)

    def close(self, run: Run) -> None:
        # most frequent first; equal counts by severity (errors first), then code
        rank = {"error": 0, "warning": 1, "info": 2}
        rows = sorted(self.counts.items(), key=lambda kv: (-kv[1], rank[kv[0][1]], kv[0][0]))
        width = max((len(str(n)) for _, n in rows), default=1)
        self.out.writelines(f"{n:>{width}}  {code}  {severity:<7}  {name}\n" for (code, severity, name), n in rows)
        unreadable = run.tally.unreadable
        self.out.write(f"{sum(self.counts.values())} finding(s) in {run.tally.models} model(s)" + (f", {unreadable} unreadable" if unreadable else "") + "\n")


render = render_all(StatisticsStream)
