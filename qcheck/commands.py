"""The core subcommands: verify, inspect, rules, rule, plugins."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from qcheck import cli
from qcheck.engine import CRASH_CODE, CRASH_NAME, Settings, check_settings
from qcheck.errors import UsageError
from qcheck.parallel import verify_many
from qcheck.registry import Registry
from qcheck.reporting import exit_status


def add_commands(sub: Any) -> None:
    p = sub.add_parser("verify", help="check models against the rules and report the findings")
    p.add_argument("models", nargs="+", metavar="MODEL", help=".tflite files or folders (searched recursively)")
    cli.add_selection_options(p)
    cli.add_output_options(p)
    p.add_argument("-j", "--jobs", type=int, metavar="N", help="verify in N worker processes (default: the number of CPUs)")
    p.set_defaults(func=run_verify)

    p = sub.add_parser("inspect", help="show every tensor's quantization, the operators and a summary")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--all", action="store_true", help="print long per-axis lists in full")
    cli.add_output_options(p)
    p.set_defaults(func=run_inspect)

    p = sub.add_parser("rules", help="list the registered rules")
    p.add_argument("--format", default="table", choices=("table", "json", "markdown"))
    p.add_argument("--spec", action="store_true", help="print the per-op spec table the rules enforce, as Markdown")
    p.set_defaults(func=run_rules)

    p = sub.add_parser("rule", help="show one rule's documentation")
    p.add_argument("code", metavar="CODE", help="rule code or name, e.g. QC201")
    p.set_defaults(func=run_rule)

    p = sub.add_parser("plugins", help="list the loaded plugins and what each registers")
    p.set_defaults(func=run_plugins)


def reporter(registry: Registry, name: str) -> Any:
    if name not in registry.reporters:
        raise UsageError(f"unknown format {name!r} (choose from: {', '.join(sorted(registry.reporters))})")
    return registry.reporters[name]


def run_verify(args: argparse.Namespace, registry: Registry) -> int:
    settings = Settings(select=args.select, ignore=args.ignore, expect=args.expect)
    check_settings(registry, settings)
    rep = reporter(registry, args.format)
    paths = cli.expand_paths(args.models)
    if not paths:
        raise UsageError("no .tflite files found in the given folders")
    reports = verify_many(paths, registry, settings, args.jobs)
    cli.emit(args, lambda out: rep.render(reports, out))
    for r in reports:
        if r.error is not None:
            # The report carries the error too; stderr gets one line per unreadable model.
            print(f"qcheck: error: {r.error}", file=sys.stderr)
    return exit_status(reports, args.fail_on)


def run_inspect(args: argparse.Namespace, registry: Registry) -> int:
    from qcheck import inspection
    from qcheck.reader import load

    model = load(args.model)
    if args.format == "json":
        cli.emit(args, cli.dump_json(inspection.describe(model, args.model)))
    elif args.format == "console":
        cli.emit(args, lambda out: inspection.render(model, args.model, out, full=args.all))
    else:
        raise UsageError(f"unknown format {args.format!r} for inspect (choose console or json)")
    return 0


def run_rules(args: argparse.Namespace, registry: Registry) -> int:
    from qcheck import ruledocs

    if args.spec:
        tables = [t for t in registry.pm.hook.qcheck_spec_tables() if t]
        if not tables:
            raise UsageError("no loaded plugin provides a spec table")
        cli.emit(args, "\n\n".join(reversed(tables)) + "\n")
        return 0
    cli.emit(args, ruledocs.listing(registry, args.format))
    return 0


def run_rule(args: argparse.Namespace, registry: Registry) -> int:
    from qcheck import ruledocs

    crash = args.code.upper() == CRASH_CODE or args.code == CRASH_NAME
    rule = ruledocs.crash_rule(CRASH_CODE, CRASH_NAME) if crash else registry.rule(args.code)
    print(ruledocs.render_doc(rule, registry), end="")
    return 0


def run_plugins(args: argparse.Namespace, registry: Registry) -> int:
    from qcheck import ruledocs

    print(ruledocs.plugins_listing(registry), end="")
    return 0
