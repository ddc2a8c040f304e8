"""The documentation subcommands: rules, rule and plugins."""

from __future__ import annotations

import argparse
from typing import Any

from qcheck.cli import common
from qcheck.engine import CRASH_CODE, CRASH_NAME
from qcheck.errors import UsageError
from qcheck.registry import Registry


def add_commands(sub: Any) -> None:
    p = sub.add_parser("rules", help="list the registered rules")
    p.add_argument("--format", default="table", choices=("table", "json", "markdown"))
    p.add_argument("--spec", action="store_true", help="print the per-op spec table the rules enforce, as Markdown")
    p.set_defaults(func=run_rules)

    p = sub.add_parser("rule", help="show one rule's documentation")
    p.add_argument("code", metavar="CODE", help="rule code or name, e.g. QC201")
    p.set_defaults(func=run_rule)

    p = sub.add_parser("targets", help="list the target profiles --target accepts, with their runtime and sources")
    p.add_argument("--format", default="table", choices=("table", "json"))
    p.add_argument("--target", action="append", default=[], metavar="FILE", help="also load this profile file")
    p.set_defaults(func=run_targets)

    p = sub.add_parser("plugins", help="list the loaded plugins and what each registers")
    p.set_defaults(func=run_plugins)


def run_rules(args: argparse.Namespace, registry: Registry) -> int:
    from qcheck import ruledocs

    if args.spec:
        tables = [t for t in registry.pm.hook.qcheck_spec_tables() if t]
        if not tables:
            raise UsageError("no loaded plugin provides a spec table")
        common.emit(args, "\n\n".join(reversed(tables)) + "\n")
        return 0
    common.emit(args, ruledocs.listing(registry, args.format))
    return 0


def run_rule(args: argparse.Namespace, registry: Registry) -> int:
    from qcheck import ruledocs

    crash = args.code.upper() == CRASH_CODE or args.code == CRASH_NAME
    rule = ruledocs.crash_rule(CRASH_CODE, CRASH_NAME) if crash else registry.rule(args.code)
    print(ruledocs.render_doc(rule, registry), end="")
    return 0


def run_targets(args: argparse.Namespace, registry: Registry) -> int:
    from qcheck.targetfile import target_names
    from qcheck.targets import runtime_version

    target_names(registry, args.target)
    rows: list[dict[str, Any]] = [{"name": t.name, "summary": t.summary, "runtime": runtime_version(t.runtime), "delegate": t.delegate,
             "confirm": bool(t.confirm), "options": t.options, "plugin": registry.owner.get(f"target:{t.name}", ""),
             "sources": list(t.sources)}
            for t in registry.targets.values()]
    if args.format == "json":
        common.emit(args, common.dump_json({"targets": rows}))
        return 0
    lines = []
    for row in rows:
        kind = "delegate" if row["delegate"] else "runtime"
        lines.append(f"{row['name']:<10} {kind:<8} {row['runtime'] or '-'}  {row['summary']}")
        if row["options"]:
            lines.append(f"{'':<20}options: --target {row['name']}:{row['options']}")
        lines += [f"{'':<20}source: {src}" for src in row["sources"]]
    common.emit(args, "\n".join(lines) + "\n")
    return 0


def run_plugins(args: argparse.Namespace, registry: Registry) -> int:
    from qcheck import ruledocs

    print(ruledocs.plugins_listing(registry), end="")
    return 0
