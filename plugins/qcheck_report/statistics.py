"""The statistics report: one line per rule with its count over all models, most frequent first (ruff's --statistics)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from qcheck import Report


def render(reports: Sequence[Report], out: TextIO) -> None:
    counts: Counter[tuple[str, str, str]] = Counter()
    for r in reports:
        counts.update((f.code, str(f.severity), f.rule) for f in r.findings)
    # most frequent first; equal counts by severity (errors first), then code
    rank = {"error": 0, "warning": 1, "info": 2}
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], rank[kv[0][1]], kv[0][0]))
    width = max((len(str(n)) for _, n in rows), default=1)
    out.writelines(f"{n:>{width}}  {code}  {severity:<7}  {name}\n" for (code, severity, name), n in rows)
    unreadable = sum(1 for r in reports if r.error is not None)
    out.write(f"{sum(counts.values())} finding(s) in {len(reports)} model(s)" + (f", {unreadable} unreadable" if unreadable else "") + "\n")
