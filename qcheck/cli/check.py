"""The checking subcommands: verify and inspect."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import Any, TextIO

from qcheck import config
from qcheck.cli import common, configure
from qcheck.cli.progress import progress_bar
from qcheck.errors import UsageError
from qcheck.parallel import verify_iter
from qcheck.registry import Registry, Reporter
from qcheck.reporting import Report, Run, Tally


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
    from qcheck import baseline

    resolved = configure.resolve(args, registry)
    settings = resolved.settings
    if args.confirm and not settings.targets:
        raise UsageError("--confirm needs at least one --target")
    rep = reporter(registry, "statistics" if args.statistics else resolved.format)
    paths = common.expand_paths(args.models)
    if not paths:
        raise UsageError("no .tflite files found in the given folders")
    applier = baseline.Applier(resolved.baseline) if resolved.baseline and not args.write_baseline else None  # (read first)
    recorder = baseline.Recorder(args.write_baseline) if args.write_baseline else None
    head = Run(fail_on=resolved.fail_on, settings=resolved.recorded(applier is not None), rules=tuple(registry.rules.values()),
               quiet=args.quiet, verbose=args.verbose)
    # Streamed: each report is written as it comes and then dropped, so a zoo's run keeps memory flat.
    # (--confirm runs the runtimes over all models at the end; a reporter without `stream` renders at the end.)
    tally, unreadable = Tally(), []
    with common.output(args) as out, progress_bar(len(paths), enabled=not args.no_progress and (args.output or not sys.stdout.isatty())) as advance:
        writer = rep.stream(head, out) if rep.stream is not None and not args.confirm else AtEnd(rep, out, registry if args.confirm else None)
        for report in verify_iter(paths, registry, settings, resolved.jobs, advance):
            report = applier.apply(report) if applier is not None else report
            if recorder is not None:
                recorder.add(report)
            tally.add(report)
            unreadable += [report.error] if report.error is not None else []
            writer.add(report)
        run = replace(head, tally=tally, baseline=applier.use() if applier is not None else None)
        writer.close(run)
    if recorder is not None:
        from qcheck.fsutil import atomic_write

        atomic_write(args.write_baseline, recorder.dumps().encode())
        print(f"qcheck: {recorder.summary(args.write_baseline)}", file=sys.stderr)
    for error in unreadable:  # the report carries each error too; stderr gets one line per unreadable model
        print(f"qcheck: error: {error}", file=sys.stderr)
    return run.exit_status


class AtEnd:
    """A ReportStream that keeps every report and renders them all at the end (a reporter without `stream`;
    --confirm, which runs each target's runtime over all the models first)."""

    def __init__(self, rep: Reporter, out: TextIO, confirm_with: Registry | None) -> None:
        self.rep, self.out, self.confirm_with = rep, out, confirm_with
        self.kept: list[Report] = []

    def add(self, report: Report) -> None:
        self.kept.append(report)

    def close(self, run: Run) -> None:
        reports = self.kept
        if self.confirm_with is not None:
            from qcheck.confirm import confirm

            reports = confirm(reports, self.confirm_with)
        render = self.rep.verbose_render if run.verbose and self.rep.verbose_render is not None else self.rep.render
        render(replace(run, reports=tuple(reports)), self.out)


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
