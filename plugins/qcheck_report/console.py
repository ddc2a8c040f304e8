"""The console report: rich, grouped per model, ordered by location, colour by severity."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TextIO

from qcheck import Report
from qcheck.findings import Severity
from qcheck.reporting import Run
from qcheck.textsafe import shown
from qcheck_report import targets_view

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def render(reports: Sequence[Report], out: TextIO, *, verbose: bool = False) -> None:
    from rich.console import Console

    tty = out.isatty() if hasattr(out, "isatty") else False
    console = Console(file=out, force_terminal=tty, no_color=(not tty) or "NO_COLOR" in os.environ,
                      highlight=False, width=None if tty else 200, soft_wrap=not tty)
    run = reports if isinstance(reports, Run) else Run(tuple(reports))
    for r in run:
        if run.quiet:  # the errors only: unreadable models and ERROR findings
            for f in (f for f in r.findings if f.severity == Severity.ERROR):
                console.print(f"[bold]{shown(r.path)}[/bold]: [bold red]{f.code}[/bold red] {shown(str(f.location))}: {shown(f.message)}")
            if r.error is not None:
                console.print(f"[bold]{shown(r.path)}[/bold]: [bold red]error[/bold red]: {shown(r.error)}")
            continue
        console.print(f"[bold]{shown(r.path)}[/bold]")
        if r.error is not None:
            console.print(f"  [bold red]error[/bold red]: {shown(r.error)}")
            continue
        if r.highlights:
            console.print(f"  {shown(' · '.join(r.highlights))}")
        for result in r.targets.values():
            console.print(f"  [bold]{shown(targets_view.summary(result))}[/bold]")
            for line in targets_view.every_op(result) if verbose else targets_view.grouped(result):
                console.print(f"      {shown(line)}")
            for line in targets_view.confirmation(result):
                console.print(f"      [magenta]{shown(line)}[/magenta]")
        if len(r.targets) > 1:
            for line in targets_view.comparison(list(r.targets.values())):
                console.print(f"    {shown(line)}", markup=False)
        for f in sorted(r.findings, key=lambda f: -f.severity):  # errors first, each kind in graph order (a stable sort)
            style = _STYLE[f.severity]
            console.print(f"  [{style}]{f.code} {f.severity}[/{style}] {shown(str(f.location))}: {shown(f.message)} [dim]\\[{f.rule}][/dim]")
            if f.fix:
                console.print(f"      [dim]fix: {shown(f.fix)}[/dim]")
        if not r.findings:
            console.print("  [green]no findings[/green]")
        if r.suppressed:
            console.print(f"  [dim]{len(r.suppressed)} suppressed[/dim]")
    console.print(f"[bold]{shown(summary_line(run))}[/bold]")


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
    render(reports, out, verbose=True)
