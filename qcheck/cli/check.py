"""The checking subcommands: verify and inspect."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from qcheck import config
from qcheck.cli import common, configure
from qcheck.cli.progress import progress_bar
from qcheck.errors import UsageError
from qcheck.parallel import verify_many
from qcheck.registry import Registry
from qcheck.reporting import Run


def add_commands(sub: Any) -> None:
    p = sub.add_parser("verify", help="check models against the rules and report the findings")
    p.add_argument("models", nargs="+", metavar="MODEL", help=".tflite files or folders (searched recursively)")
    configure.add_options(p)
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (atomically) instead of stdout")
    p.add_argument("--write-baseline", metavar="FILE", help="record today's findings in FILE; later runs with --baseline FILE hide them")
    p.add_argument("--statistics", action="store_true", help="one line per rule with its count instead of the findings (--format statistics)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary and errors")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (shown on a terminal for several models)")
    p.add_argument("--confirm", action="store_true",
                   help="also load each model in the installed runtime of each target and show its own verdict beside qcheck's")
    p.add_argument("-v", "--verbose", action="store_true", help="list every operator's placement on each target")
    p.set_defaults(func=run_verify)

    p = sub.add_parser("config", help="print the configuration in effect and where each value comes from")
    configure.add_options(p)
    p.set_defaults(func=run_config)

    p = sub.add_parser("inspect", help="show every tensor's quantization, the operators and a summary")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--all", action="store_true", help="print long per-axis lists in full")
    common.add_output_options(p)
    p.set_defaults(func=run_inspect)


def reporter(registry: Registry, name: str) -> Any:
    if name not in registry.reporters:
        raise UsageError(f"unknown format {name!r} (choose from: {', '.join(sorted(registry.reporters))})")
    return registry.reporters[name]


def run_verify(args: argparse.Namespace, registry: Registry) -> int:
    resolved = configure.resolve(args, registry)
    settings = resolved.settings
    if args.confirm and not settings.targets:
        raise UsageError("--confirm needs at least one --target")
    rep = reporter(registry, "statistics" if args.statistics else resolved.format)
    paths = common.expand_paths(args.models)
    if not paths:
        raise UsageError("no .tflite files found in the given folders")
    if resolved.baseline and not args.write_baseline:
        from qcheck import baseline

        baseline.load(resolved.baseline)  # (a broken baseline stops the run before any work)
    with progress_bar(len(paths), enabled=not args.no_progress) as advance:
        reports = verify_many(paths, registry, settings, resolved.jobs, advance)
    if args.confirm:
        from qcheck.confirm import confirm

        reports = confirm(reports, registry)
    used = None
    if args.write_baseline:
        from qcheck import baseline
        from qcheck.fsutil import atomic_write

        atomic_write(args.write_baseline, baseline.dumps(reports, args.write_baseline).encode())
    elif resolved.baseline:
        from qcheck import baseline

        reports, used = baseline.apply(reports, resolved.baseline)
    run = Run(tuple(reports), resolved.fail_on, resolved.recorded(), tuple(registry.rules.values()), used, args.quiet)
    render = rep.verbose_render if args.verbose and rep.verbose_render is not None else rep.render
    common.emit(args, lambda out: render(run, out))
    for r in reports:
        if r.error is not None:
            # The report carries the error too; stderr gets one line per unreadable model.
            print(f"qcheck: error: {r.error}", file=sys.stderr)
    return run.exit_status


def run_config(args: argparse.Namespace, registry: Registry) -> int:
    resolved = configure.resolve(args, registry)
    config.describe(resolved.effective, resolved.config_path, print)
    return 0


def run_inspect(args: argparse.Namespace, registry: Registry) -> int:
    from qcheck import inspection
    from qcheck.tflite.reader import load

    model = load(args.model)
    if args.format == "json":
        common.emit(args, common.dump_json(inspection.describe(model, args.model)))
    elif args.format == "console":
        common.emit(args, lambda out: inspection.render(model, args.model, out, full=args.all))
    else:
        raise UsageError(f"unknown format {args.format!r} for inspect (choose console or json)")
    return 0
