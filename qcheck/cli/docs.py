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


def run_plugins(args: argparse.Namespace, registry: Registry) -> int:
    from qcheck import ruledocs

    print(ruledocs.plugins_listing(registry), end="")
    return 0
