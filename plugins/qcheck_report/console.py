"""The console report: rich, grouped per model, ordered by location, colour by severity."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import TextIO

from qcheck import Report
from qcheck.findings import Severity
from qcheck.reporting import Run, as_run, render_all
from qcheck.textsafe import printable
from qcheck_report import targets_view

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


Segment = str | tuple[str, str]  # text, or (text, rich style)


class _Lines:
    """Writes lines of segments: through rich on a terminal, as plain text otherwise (10x faster for a zoo's report)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        tty = out.isatty() if hasattr(out, "isatty") else False
        self.console = None
        if tty:
            from rich.console import Console

            self.console = Console(file=out, force_terminal=True, no_color="NO_COLOR" in os.environ, highlight=False)

    def __call__(self, *segments: Segment) -> None:
        if self.console is None:
            self.out.write("".join(s if isinstance(s, str) else s[0] for s in segments) + "\n")
        else:
            from rich.text import Text

            self.console.print(Text.assemble(*segments))


class ConsoleStream:
    """Each model's block as it arrives (errors first within it), then the run's summary line."""

    def __init__(self, run: Run, out: TextIO) -> None:
        self.line, self.quiet, self.verbose = _Lines(out), run.quiet, run.verbose

    def add(self, r: Report) -> None:
        line = self.line
        path = (printable(r.path), "bold")
        if self.quiet:  # the errors only: unreadable models and ERROR findings
            for f in (f for f in r.findings if f.severity == Severity.ERROR):
                line(path, ": ", (f.code, "bold red"), f" {printable(f.location)}: {printable(f.message)}")
            if r.error is not None:
                line(path, ": ", ("error", "bold red"), f": {printable(r.error)}")
            return
        line(path)
        if r.error is not None:
            line("  ", ("error", "bold red"), f": {printable(r.error)}")
            return
        if r.highlights:
            line(f"  {printable(' · '.join(r.highlights))}")
        for result in r.targets.values():
            line("  ", (printable(targets_view.summary(result)), "bold"))
            for text in targets_view.every_op(result) if self.verbose else targets_view.grouped(result):
                line(f"      {printable(text)}")
            for text in targets_view.confirmation(result):
                line("      ", (printable(text), "magenta"))
        if len(r.targets) > 1:
            for text in targets_view.comparison(list(r.targets.values())):
                line(f"    {printable(text)}")
        for f in sorted(r.findings, key=lambda f: -f.severity):  # errors first, each kind in graph order (a stable sort)
            line("  ", (f"{f.code} {f.severity}", _STYLE[f.severity]), f" {printable(f.location)}: {printable(f.message)} ", (f"[{f.rule}]", "dim"))
            if f.fix:
                line("      ", (f"fix: {printable(f.fix)}", "dim"))
        if not r.findings:
            line("  ", ("no findings", "green"))
        if r.suppressed:
            line("  ", (f"{len(r.suppressed)} suppressed", "dim"))

    def close(self, run: Run) -> None:
        self.line((printable(summary_line(run)), "bold"))


render = render_all(ConsoleStream)


def summary_line(run: Run) -> str:
    """"3 model(s): 1 error(s), 2 warning(s), 0 info, 1 unreadable · 4 suppressed (3 baselined, 1 fixed since the baseline)"."""
    t = run.totals
    line = f"{t['models']} model(s): {t['error']} error(s), {t['warning']} warning(s), {t['info']} info"
    line += f", {t['unreadable']} unreadable" if t["unreadable"] else ""
    if t["suppressed"]:
        line += f" · {t['suppressed']} suppressed"
    if run.baseline is not None:
        line += f" ({run.baseline.baselined} baselined, {run.baseline.fixed} fixed since the baseline)"
    return line


def render_verbose(reports: Sequence[Report], out: TextIO) -> None:
    render(replace(as_run(reports), verbose=True), out)
