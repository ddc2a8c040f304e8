"""The conversion subcommands: `qcheck strategies` and `qcheck convert`."""

from __future__ import annotations

import argparse
import io
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TextIO

from qcheck import cli
from qcheck.calibration_choices import DEFAULT_SAMPLES, PREPROCESS
from qcheck.registry import Registry

if TYPE_CHECKING:
    from qcheck.convert import ConvertResult

EXIT_OK, EXIT_FAIL, EXIT_ERROR = 0, 1, 2


def add_commands(sub: Any) -> None:
    p = sub.add_parser("strategies", help="list the registered quantization strategies")
    p.add_argument("--format", default="table", choices=("table", "json"))
    p.set_defaults(func=run_strategies)

    p = sub.add_parser("convert", help="convert a float TensorFlow model with a strategy, then verify the output",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="--preprocess (image folders):\n" + "\n".join(f"  {k:10} {v}" for k, v in PREPROCESS.items()))
    p.add_argument("source", metavar="SOURCE", help="a SavedModel folder or a Keras .keras / .h5 file")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--strategy", metavar="NAME", help="the strategy to use (see 'qcheck strategies')")
    which.add_argument("--all", action="store_true", help="convert with every strategy into the folder given by -o")
    p.add_argument("-o", "--output", required=True, metavar="PATH", help="the .tflite to write (with --all: a folder)")
    p.add_argument("--calibration", metavar="DATA", help="a .npy / .npz file, an image folder, or 'random' (poor accuracy)")
    p.add_argument("--samples", type=int, default=DEFAULT_SAMPLES, metavar="N", help=f"use at most N calibration samples (default {DEFAULT_SAMPLES})")
    p.add_argument("--preprocess", default="unit", choices=tuple(PREPROCESS), help="how image pixels become inputs (see below)")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.add_argument("--unsafe", action="store_true", help="allow Keras Lambda layers (runs code stored in the file)")
    p.add_argument("--format", default="console", choices=("console", "json"), help="output format (default: console)")
    p.set_defaults(func=run_convert)


def run_strategies(args: argparse.Namespace, registry: Registry) -> int:
    rows = [{"name": s.name, "expect": s.expect, "description": s.description} for s in registry.strategies.values()]
    if args.format == "json":
        print(cli.dump_json(rows), end="")
        return EXIT_OK
    width = max((len(r["name"]) for r in rows), default=4)
    exp = max((len(r["expect"]) for r in rows), default=6)
    print(f"{'name':{width}}  {'expect':{exp}}  description")
    for r in rows:
        print(f"{r['name']:{width}}  {r['expect']:{exp}}  {r['description']}")
    return EXIT_OK


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


def run_convert(args: argparse.Namespace, registry: Registry) -> int:
    # Imported here: `qcheck verify` starts without the conversion machinery.
    from qcheck.convert import ConversionError, convert_all, run

    kw: dict[str, Any] = {"calibration": args.calibration, "samples": args.samples, "preprocess": args.preprocess,
                          "unsafe": args.unsafe, "force": args.force, "registry": registry, "warn": warn_loudly}
    try:
        with RichProgress() as progress:
            if args.all:
                results = convert_all(args.source, args.output, progress=progress, **kw)
            else:
                results = run(args.source, [(args.strategy, Path(args.output))], progress=progress, **kw)
    except ConversionError as e:
        if args.debug:
            sys.stderr.write(getattr(e, "log", ""))
            traceback.print_exception(e)
        raise
    if args.debug:
        for r in results:
            sys.stderr.write(f"--- converter output, {r.strategy} ---\n{r.log}")
    if args.format == "json":
        print(cli.dump_json([result_json(r, results) for r in results]), end="")
    else:
        render(results, registry, sys.stdout, table=args.all, reports=not args.all)
    return exit_status(results)


def exit_status(results: Sequence[ConvertResult]) -> int:
    if any(r.verdict == "error" for r in results):
        return EXIT_ERROR
    return EXIT_FAIL if any(r.verdict == "fail" for r in results) else EXIT_OK


def _ratio(r: ConvertResult, results: Sequence[ConvertResult]) -> float | None:
    base = next((x.size for x in results if x.expect == "float32" and x.size), 0)
    return round(r.size / base, 3) if base and r.size else None


def result_json(r: ConvertResult, results: Sequence[ConvertResult]) -> dict[str, object]:
    findings = r.report.findings if r.report else ()
    return {
        "strategy": r.strategy, "expect": r.expect, "output": None if r.output is None else str(r.output),
        "bytes": r.size, "ratio_to_float": _ratio(r, results), "scheme": r.scheme, "verdict": r.verdict,
        "findings": [{"code": f.code, "severity": str(f.severity), "message": f.message} for f in findings],
        "seconds": round(r.seconds, 3), "load_seconds": round(r.load_seconds, 3), "overhead_seconds": round(r.overhead, 3),
        "calibration": r.calibration,
        "notes": list(r.notes), "error": r.error,
    }


def _size(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def render(results: Sequence[ConvertResult], registry: Registry, out: TextIO, *, table: bool, reports: bool) -> None:
    """The comparison table and/or the verification reports, then each strategy's notes and errors."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

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
        for col in ("strategy", "output size", "ratio to float", "detected scheme", "verdict", "findings", "conversion time"):
            t.add_column(col, justify="right" if col in ("output size", "ratio to float", "findings", "conversion time") else "left")
        style = {"ok": "green", "fail": "bold red", "error": "bold red"}
        for r in results:
            ratio = _ratio(r, results)
            t.add_row(r.strategy, _size(r.size) if r.size else "-", "-" if ratio is None else f"{ratio:.2f}", r.scheme or "-",
                      f"[{style[r.verdict]}]{r.verdict}[/]", str(len(r.report.findings)) if r.report else "-", f"{r.seconds:.2f} s")
        console.print(t)
    for r in results:
        where = f" {r.output}" if r.output is not None else ""
        if r.verdict == "error":
            console.print(f"[bold red]{escape(r.strategy)}: error[/]: {escape(r.error or 'no output')}")
        elif r.verdict == "fail":
            console.print(f"[bold red]{escape(r.strategy)}: FAIL[/]: the output{escape(where)} is not what the strategy promises "
                          f"(--expect {escape(r.expect)}): {r.errors} error(s) in its report; detected scheme {escape(r.scheme or 'unknown')}")
        elif not table:
            extra = (f", calibrated on {r.calibration}" if r.calibration else "") + (
                f" (source loaded in {r.load_seconds:.2f} s)" if r.load_seconds >= 0.05 else "")
            console.print(f"[green]{escape(r.strategy)}: ok[/]: the output{escape(where)} ({_size(r.size)}) keeps its promise "
                          f"(--expect {escape(r.expect)}), converted in {r.seconds:.2f} s{escape(extra)}")
        for note in r.notes:
            console.print(f"[yellow]{escape(r.strategy)}: note[/]: {escape(note)}")
