"""The checking subcommands: verify and inspect."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from qcheck.cli import common
from qcheck.engine import Settings, check_settings, resolve_names
from qcheck.errors import UsageError
from qcheck.parallel import verify_many
from qcheck.registry import Registry
from qcheck.reporting import exit_status


def add_commands(sub: Any) -> None:
    p = sub.add_parser("verify", help="check models against the rules and report the findings")
    p.add_argument("models", nargs="+", metavar="MODEL", help=".tflite files or folders (searched recursively)")
    common.add_selection_options(p)
    common.add_output_options(p)
    p.add_argument("-j", "--jobs", type=int, metavar="N", help="verify in N worker processes (default: the number of CPUs)")
    p.add_argument("--statistics", action="store_true", help="one line per rule with its count instead of the findings (--format statistics)")
    p.add_argument("--target", action="append", default=[], metavar="NAME",
                   help="say where each op runs on this target (repeatable; 'all'; or a profile file, see 'qcheck targets')")
    p.add_argument("--confirm", action="store_true",
                   help="also load each model in the installed runtime of each target and show its own verdict beside qcheck's")
    p.add_argument("-v", "--verbose", action="store_true", help="list every operator's placement on each target")
    p.set_defaults(func=run_verify)

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
    from qcheck.targetfile import target_names

    targets = target_names(registry, args.target)
    if args.confirm and not targets:
        raise UsageError("--confirm needs at least one --target")
    settings = resolve_names(registry, Settings(select=args.select, ignore=args.ignore, expect=args.expect, targets=targets))
    check_settings(registry, settings)
    rep = reporter(registry, "statistics" if args.statistics else args.format)
    paths = common.expand_paths(args.models)
    if not paths:
        raise UsageError("no .tflite files found in the given folders")
    reports = verify_many(paths, registry, settings, args.jobs)
    if args.confirm:
        from qcheck.confirm import confirm

        reports = confirm(reports, registry)
    render = rep.verbose_render if args.verbose and rep.verbose_render is not None else rep.render
    common.emit(args, lambda out: render(reports, out))
    for r in reports:
        if r.error is not None:
            # The report carries the error too; stderr gets one line per unreadable model.
            print(f"qcheck: error: {r.error}", file=sys.stderr)
    return exit_status(reports, args.fail_on)


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
