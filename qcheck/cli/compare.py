"""`qcheck compare FLOAT QUANT --data DATA`: how much accuracy quantization cost, in which layer, what to keep in float."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from qcheck.cli import common, configure
from qcheck.cli.progress import progress_bar
from qcheck.convert.choices import PREPROCESS
from qcheck.registry import Registry

DEFAULT_SAMPLES = 100

EPILOG = """\
--fail-if conditions: SCOPE.METRIC OP NUMBER, e.g. 'output.sqnr < 20', 'output.top1 < 0.99', 'layer.share > 0.6'.
  output metrics (every model output, error accumulated through the model): sqnr, mse, max_abs, cosine, kl, top1, top5
  layer metrics (every op, the error it adds by itself): sqnr, mse, max_abs, share, rmse_over_scale
exit status: 0 nothing at or above --fail-on, 1 findings, 2 bad input or a runtime failure.
"""


def _metrics(text: str) -> tuple[str, ...]:
    from qcheck.compare.view import METRICS

    names = tuple(m.strip() for m in text.split(",") if m.strip())
    if not names or (bad := [m for m in names if m not in METRICS]):
        raise argparse.ArgumentTypeError(f"unknown metric {(bad or [text])[0]!r} (choose from: {', '.join(METRICS)})")
    return names


def add_commands(sub: Any) -> None:
    p = sub.add_parser("compare", help="run a float model and a quantized version of it side by side: error per layer and output",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("float_model", metavar="FLOAT", help="the float .tflite")
    p.add_argument("quant_model", metavar="QUANT", help="a quantized .tflite made from it")
    p.add_argument("--data", required=True, metavar="DATA", help="a .npy / .npz file, an image folder, or 'random' (smoke tests only)")
    p.add_argument("--samples", type=int, default=None, metavar="N", help=f"use at most N samples (default: all; {DEFAULT_SAMPLES} random ones)")
    p.add_argument("--preprocess", default="unit", choices=tuple(PREPROCESS), help="how image pixels become inputs (as for convert)")
    p.add_argument("-j", "--jobs", type=int, default=None, metavar="N", help="worker processes (default: one per CPU)")
    p.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="run the sample shards as Ray tasks: a local Ray instance, or the cluster at ADDRESS (pip install 'qcheck[ray]')")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S", help="seconds a sample may take before its worker is stopped (default 60)")
    p.add_argument("--min-output-sqnr", type=float, default=10.0, metavar="DB", help="QC701: an output below this SQNR is an error (default 10)")
    p.add_argument("--max-layer-share", type=float, default=0.5, metavar="F",
                   help="QC702: warn when one op adds more than this share of all error (default 0.5)")
    p.add_argument("--fail-if", action="append", default=[], metavar="COND", help="a condition that fails the run (repeatable; see below)")
    p.add_argument("--fail-on", type=common.severity, metavar="SEVERITY", help="exit 1 on findings at or above (default error)")
    p.add_argument("--select", type=common.codes, metavar="CODES", help="QC7xx rules to run (as for verify)")
    p.add_argument("--ignore", type=common.codes, metavar="CODES", help="QC7xx rules to skip")
    p.add_argument("--config", metavar="FILE", help="read this configuration file instead of searching for one")
    p.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    p.add_argument("--metric", type=_metrics, default=None, metavar="NAMES",
                   help="the tensor metrics to report, comma-separated (default all: sqnr, mse, max_abs, mean_error, cosine, kl, top1, top5)")
    p.add_argument("--format", default="console", choices=("console", "json", "html"), help="output format (default: console)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (atomically) instead of stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="console: findings and the summary only")
    p.set_defaults(func=run_compare)


def run_compare(args: argparse.Namespace, registry: Registry) -> int:
    from qcheck.compare import compare
    from qcheck.compare.data import RANDOM_WARNING
    from qcheck.compare.thresholds import Condition, Thresholds
    from qcheck.compare.view import METRICS, comparison_data, console
    from qcheck.convert.choices import RANDOM
    from qcheck.engine import compare_report
    from qcheck.errors import UsageError
    from qcheck.parallel import default_jobs
    from qcheck.reporting import Tally
    from qcheck.tflite.reader import load

    metrics = args.metric or tuple(METRICS)
    thresholds = Thresholds(args.min_output_sqnr, args.max_layer_share, fail_if=tuple(Condition.parse(t) for t in args.fail_if))
    jobs = args.jobs if args.jobs is not None else default_jobs()
    if jobs < 1:
        raise UsageError(f"-j must be at least 1, got {jobs}")
    if not args.timeout > 0:
        raise UsageError(f"--timeout must be more than 0 seconds, got {args.timeout}")
    samples = args.samples if args.samples is not None or args.data != RANDOM else DEFAULT_SAMPLES
    if args.data == RANDOM:
        print(RANDOM_WARNING, file=sys.stderr)
    # The configuration file's selection, severities, ignores and fail-on apply to the QC7xx findings too;
    # resolved first, so that a bad file or code fails before the models run.
    resolved = configure.resolve(argparse.Namespace(
        select=args.select, extend_select=None, ignore=args.ignore, fail_on=args.fail_on, expect=None, target=None, format=None,
        jobs=None, baseline=None, config=args.config, isolated=args.isolated), registry)
    started = time.perf_counter()
    with progress_bar(samples, label="comparing") as advance:
        result = compare(args.float_model, args.quant_model, args.data, samples=samples, jobs=jobs, ray=args.ray is not None,
                         ray_address=args.ray or None, preprocess=args.preprocess, timeout=args.timeout, progress=advance)
    report = compare_report(load(args.quant_model), registry, (result, thresholds), args.quant_model, resolved.settings)
    status = Tally.of([report]).exit_status(resolved.fail_on)
    if args.format == "json":
        settings = {"jobs": jobs, "runner": "ray" if args.ray is not None else "local", "ray_address": args.ray or None,
                    "min_output_sqnr": thresholds.min_output_sqnr, "max_layer_share": thresholds.max_layer_share,
                    "fail_if": [c.text for c in thresholds.fail_if], "fail_on": str(resolved.fail_on),
                    "selection": configure.selection(resolved.settings), "config": resolved.config_path,
                    "seconds": round(time.perf_counter() - started, 3)}
        common.emit(args, common.dump_json(comparison_data(result, report, status, settings, metrics)))
    elif args.format == "html":
        from qcheck.compare.page import html_page

        common.emit(args, lambda out: html_page(result, report, out))
    else:
        common.emit(args, lambda out: console(result, report, out, quiet=args.quiet, metrics=metrics))
    return status
