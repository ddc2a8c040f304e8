"""How conversion results are shown: the progress line, the comparison table, the JSON rows (used by the CLI and the demo)."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import Self, TextIO

from qcheck.convert.request import ConvertResult
from qcheck.registry import Registry


class RichProgress:
    """A transient progress line on the terminal's stderr, kept visible while the converter's output is captured."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        # A duplicate of fd 2: the conversion redirects fd 2 itself to keep the converter quiet.
        self.stream = os.fdopen(os.dup(2), "w")
        console = Console(file=self.stream, stderr=True)
        self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=console, transient=True)
        self.task = self.bar.add_task("starting", total=None)
        self.strategy = ""

    def __enter__(self) -> Self:
        if self.bar.console.is_terminal:  # nothing at all for logs and pipes
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar.live.is_started:
            self.bar.stop()
        self.stream.close()

    def phase(self, strategy: str, text: str) -> None:
        # A new task per phase: an indeterminate bar, and the elapsed time of this phase alone.
        self.strategy = strategy
        self.bar.remove_task(self.task)
        self.task = self.bar.add_task(f"{strategy}: {text}", total=None)

    def calibrated(self, done: int, total: int) -> None:
        self.bar.update(self.task, description=f"{self.strategy}: calibrating", total=total, completed=done)


def warn_loudly(message: str) -> None:
    from rich.console import Console

    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[bold red]{message}[/bold red]")


def _ratio(r: ConvertResult, results: Sequence[ConvertResult]) -> float | None:
    base = next((x.size for x in results if x.baseline and x.size), 0)
    return round(r.size / base, 3) if base and r.size else None


def headline_title(registry: Registry) -> str:
    """The title of the headline fact ("scheme" with the built-in plugins): the heading of its column."""
    return next((f.title for f in registry.facts.values() if f.headline), "headline")


def result_json(r: ConvertResult, results: Sequence[ConvertResult], registry: Registry) -> dict[str, object]:
    findings = r.report.findings if r.report else ()
    return {
        "strategy": r.strategy, "expect": r.expect, "output": None if r.output is None else str(r.output),
        "bytes": r.size, "ratio_to_float": _ratio(r, results), headline_title(registry): r.headline, "verdict": r.verdict,
        "findings": [{"code": f.code, "severity": str(f.severity), "message": f.message} for f in findings],
        "seconds": round(r.seconds, 3), "load_seconds": round(r.load_seconds, 3), "overhead_seconds": round(r.overhead, 3),
        "calibration": r.calibration,
        "notes": list(r.notes), "error": r.error, "accuracy": r.accuracy,
    }


def _size(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def _accuracy(r: ConvertResult) -> tuple[str, str]:
    a = r.accuracy or {}
    if "error" in a:
        return "does not run", "-"
    sqnr, top1 = a.get("output_sqnr_db"), a.get("top1_agreement")
    shown = "reference" if r.baseline else ("exact" if a.get("exact") else "-" if not isinstance(sqnr, float) else f"{sqnr:.1f} dB")
    return shown, f"{top1:.1%}" if isinstance(top1, float) else "-"


def render(results: Sequence[ConvertResult], registry: Registry, out: TextIO, *, table: bool, reports: bool) -> None:
    """The comparison table and/or the verification reports, then each strategy's notes and errors."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    title = headline_title(registry)
    tty = out.isatty() if hasattr(out, "isatty") else False
    console = Console(file=out, force_terminal=tty, no_color=not tty or "NO_COLOR" in os.environ, highlight=False,
                      width=None if tty else 160, soft_wrap=not tty)
    # Single conversions show their report; comparisons only the reports of the failing outputs.
    shown = [r.report for r in results if r.report is not None and (reports or r.verdict == "fail")]
    if shown and "console" in registry.reporters:
        buf = io.StringIO()
        registry.reporters["console"].render(shown, buf)
        out.write(buf.getvalue())
    if table:
        loaded = sum(r.load_seconds for r in results)
        t = Table(title="qcheck convert: strategies compared",
                  caption=f"source loaded once in {loaded:.2f} s, not counted in the conversion times" if loaded else None)
        accuracy = any(r.accuracy for r in results)
        columns = ("strategy", "output size", "ratio to float", f"detected {title}", "verdict", "findings", "conversion time")
        for col in columns + (("output SQNR", "top-1 agreement") if accuracy else ()):
            t.add_column(col, justify="left" if col in ("strategy", f"detected {title}", "verdict") else "right")
        style = {"ok": "green", "fail": "bold red", "error": "bold red"}
        for r in results:
            ratio = _ratio(r, results)
            t.add_row(r.strategy, _size(r.size) if r.size else "-", "-" if ratio is None else f"{ratio:.2f}", r.headline or "-",
                      f"[{style[r.verdict]}]{r.verdict}[/]", str(len(r.report.findings)) if r.report else "-", f"{r.seconds:.2f} s",
                      *(_accuracy(r) if accuracy else ()))
        console.print(t)
    for r in results:
        where = f" {r.output}" if r.output is not None else ""
        if r.verdict == "error":
            console.print(f"[bold red]{escape(r.strategy)}: error[/]: {escape(r.error or 'no output')}")
        elif r.verdict == "fail":
            console.print(f"[bold red]{escape(r.strategy)}: FAIL[/]: the output{escape(where)} is not what the strategy promises "
                          f"(--expect {escape(r.expect)}): {r.errors} error(s) in its report; detected {title} {escape(r.headline or 'unknown')}")
        elif not table:
            extra = (f", calibrated on {r.calibration}" if r.calibration else "") + (
                f" (source loaded in {r.load_seconds:.2f} s)" if r.load_seconds >= 0.05 else "")
            console.print(f"[green]{escape(r.strategy)}: ok[/]: the output{escape(where)} ({_size(r.size)}) keeps its promise "
                          f"(--expect {escape(r.expect)}), converted in {r.seconds:.2f} s{escape(extra)}")
        for note in r.notes:
            console.print(f"[yellow]{escape(r.strategy)}: note[/]: {escape(note)}")
