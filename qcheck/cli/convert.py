"""The conversion subcommands: `qcheck strategies` and `qcheck convert`."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import Any

from qcheck.cli import common
from qcheck.convert.choices import DEFAULT_SAMPLES, PREPROCESS, RANDOM
from qcheck.errors import UsageError
from qcheck.registry import Registry
from qcheck.reporting import conversion_exit_status


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
    p.add_argument("--format", default="console", choices=("console", "json", "html"),
                   help="output format (default: console; html: each output's review page and their sizes, on stdout or --report FILE)")
    p.add_argument("--keep-float", nargs="+", default=[], metavar="OP_OR_NAME",
                   help="leave these op types (e.g. MEAN) or ops (their output tensor's name, as qcheck compare names them) in float")
    p.add_argument("--data", metavar="DATA", help="with --all: compare each output with the float32 one on this data "
                   "(.npy / .npz, image folder, 'random'): output SQNR and top-1 agreement columns")
    p.add_argument("--data-samples", type=int, default=100, metavar="N", help="with --data: at most N samples (default 100)")
    p.add_argument("--report", metavar="FILE", help="with --format html: write the page to FILE (atomically) instead of stdout")
    p.set_defaults(func=run_convert)


def run_strategies(args: argparse.Namespace, registry: Registry) -> int:
    rows = [{"name": s.name, "expect": s.expect, "description": s.description} for s in registry.strategies.values()]
    if args.format == "json":
        print(common.dump_json(rows), end="")
        return 0
    width = max((len(r["name"]) for r in rows), default=4)
    exp = max((len(r["expect"]) for r in rows), default=6)
    print(f"{'name':{width}}  {'expect':{exp}}  description")
    for r in rows:
        print(f"{r['name']:{width}}  {r['expect']:{exp}}  {r['description']}")
    return 0


def run_convert(args: argparse.Namespace, registry: Registry) -> int:
    if args.data is not None and not args.all:
        raise UsageError("--data compares every strategy's output with the float32 one: use it with --all")
    # Imported here: `qcheck verify` starts without the conversion machinery.
    from qcheck.convert import ConversionError, convert_all, run
    from qcheck.convert.view import RichProgress, render, result_json, warn_loudly

    kw: dict[str, Any] = {"calibration": args.calibration, "samples": args.samples, "preprocess": args.preprocess,
                          "unsafe": args.unsafe, "force": args.force, "registry": registry, "warn": warn_loudly,
                          "keep_float": args.keep_float}
    try:
        with RichProgress() as progress:
            if args.all:
                results = convert_all(args.source, args.output, progress=progress, **kw)
            else:
                results = run(args.source, [(args.strategy, Path(args.output))], progress=progress, **kw)
        if args.data is not None:
            from qcheck.convert.accuracy import measure
            from qcheck.parallel import default_jobs

            if args.data == RANDOM:
                from qcheck.compare.data import RANDOM_WARNING

                warn_loudly(RANDOM_WARNING)
            measure(results, args.data, samples=args.data_samples, jobs=default_jobs(), preprocess=args.preprocess)
    except ConversionError as e:
        if args.debug:
            sys.stderr.write(getattr(e, "log", ""))
            traceback.print_exception(e)
        raise
    if args.debug:
        for r in results:
            sys.stderr.write(f"--- converter output, {r.strategy} ---\n{r.log}")
    status = conversion_exit_status(r.verdict for r in results)
    if args.format == "json":
        from qcheck import __version__
        from qcheck.reporting import JSON_SCHEMA_VERSION

        rows = [result_json(r, results, registry) for r in results]
        print(common.dump_json({"schema_version": JSON_SCHEMA_VERSION, "qcheck": __version__, "exit_status": status,
                                "source": args.source, "results": rows}), end="")
    elif args.format == "html":
        from qcheck.reporting import Report, Run

        reports = tuple(r.report if r.report is not None else Report(str(r.output or r.strategy), error=r.error or "no output")
                        for r in results)
        accuracy = {"accuracy": {str(r.output): r.accuracy for r in results if r.accuracy}}
        common.emit(argparse.Namespace(output=args.report), lambda out: registry.reporters["html"].render(Run(reports, settings=accuracy), out))
    else:
        render(results, registry, sys.stdout, table=args.all, reports=not args.all)
    return status


