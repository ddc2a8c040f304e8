"""Markdown for pull-request comments and GitHub job summaries: a table per model, findings grouped by rule.

GitHub-flavoured Markdown: pipe tables, `<details>` blocks (collapsed until clicked). Text from a model is
escaped for both (pipes, HTML, backticks, line breaks), and each rule lists at most DETAILS_PER_RULE
findings, so the report of the whole third-party corpus stays well under GitHub's 1 MB comment and
summary limits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TextIO

from qcheck import Report
from qcheck.findings import Severity
from qcheck.reporting import Run, render_all
from qcheck.textsafe import markdown_code as code
from qcheck.textsafe import markdown_text as escape

DETAILS_PER_RULE = 50
_ICON = {Severity.ERROR: "🔴", Severity.WARNING: "🟡", Severity.INFO: "🔵"}


class MarkdownStream:
    """Rows per model as they come; the findings by rule (counts, then collapsed details) at the end."""

    def __init__(self, run: Run, out: TextIO) -> None:
        self.out = out
        self.counts: Counter[tuple[str, str, Severity]] = Counter()
        self.models: dict[tuple[str, str, Severity], set[str]] = defaultdict(set)
        self.details: dict[tuple[str, str, Severity], list[str]] = defaultdict(list)
        self.rows: list[str] = []

    def add(self, r: Report) -> None:
        if r.error is not None:
            self.rows.append(f"| {code(r.path)} | ⛔ unreadable: {escape(r.error)} | | | | |")
            return
        by = Counter(f.severity for f in r.findings)
        placed = " · ".join(escape(f"{t.target}: {t.verdict}, {t.count('accelerated')}/{len(t.ops)} ops accelerated")
                            for t in r.targets.values()) if r.targets else ""
        self.rows.append(f"| {code(r.path)} | {escape(' · '.join(r.highlights))} | {by[Severity.ERROR]} | {by[Severity.WARNING]} | "
                         f"{by[Severity.INFO]} | {placed} |")
        for f in r.findings:
            key = (f.code, f.rule, f.severity)
            self.counts[key] += 1
            self.models[key].add(r.path)
            if len(self.details[key]) < DETAILS_PER_RULE:
                self.details[key].append(f"- {code(r.path)} {escape(f.location)}: {escape(f.message)}")

    def close(self, run: Run) -> None:
        t = run.totals
        w = self.out.write
        w("## qcheck\n\n")
        w(f"**{t['models']} model(s)**: {t['error']} error(s), {t['warning']} warning(s), {t['info']} info"
          + (f", {t['unreadable']} unreadable" if t["unreadable"] else "")
          + (f", {t['suppressed']} suppressed" if t["suppressed"] else "")
          + (f" ({run.baseline.baselined} baselined, {run.baseline.fixed} fixed since the baseline)" if run.baseline else "")
          + f" · exit status {run.exit_status} (fail on {run.fail_on})\n\n")
        w("| model | facts | errors | warnings | info | targets |\n|---|---|---:|---:|---:|---|\n")
        w("".join(row + "\n" for row in self.rows))
        if not self.counts:
            w("\nNo findings.\n")
            return
        order = sorted(self.counts, key=lambda k: (-k[2], -self.counts[k], k[0]))
        w("\n### Findings by rule\n\n| rule | severity | findings | models |\n|---|---|---:|---:|\n")
        w("".join(f"| {_ICON[k[2]]} {k[0]} {escape(k[1])} | {k[2]} | {self.counts[k]} | {len(self.models[k])} |\n" for k in order))
        for k in order:
            more = self.counts[k] - len(self.details[k])
            w(f"\n<details><summary>{k[0]} {escape(k[1])}: {self.counts[k]} finding(s)</summary>\n\n")
            w("\n".join(self.details[k]) + "\n")
            w(f"- … and {more} more (see the JSON or SARIF report)\n" if more else "")
            w("\n</details>\n")


render = render_all(MarkdownStream)
