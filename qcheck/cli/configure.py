"""The options `verify` and `config` share, and the settings they resolve to: command line over file over defaults."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any, NamedTuple

from qcheck import config
from qcheck.cli.common import codes, severity
from qcheck.engine import CRASH_CODE, Settings, check_settings, resolve_names
from qcheck.errors import UsageError
from qcheck.findings import Severity
from qcheck.policy import Policy
from qcheck.registry import Registry

DEFAULTS: Mapping[str, Any] = {"fail-on": Severity.ERROR, "format": "console", "ignore": (), "targets": (), "extend-select": ()}


class Resolved(NamedTuple):
    """Everything `verify` needs from its options and the configuration file."""

    settings: Settings
    fail_on: Severity
    format: str
    jobs: int | None
    baseline: str | None
    rule_docs_url: str | None
    config_path: str | None
    effective: dict[str, config.Value]

    def recorded(self, baseline_applied: bool = True) -> dict[str, object]:
        """The settings in effect, as the JSON and SARIF reports record them."""
        s = self.settings
        out: dict[str, object] = {"selection": selection(s), "expect": s.expect,
                                  "targets": s.targets, "fail_on": str(self.fail_on), "config": self.config_path,
                                  "baseline": self.baseline if baseline_applied else None}
        if self.rule_docs_url:
            out["rule_docs_url"] = self.rule_docs_url
        p = s.policy
        if p:
            out.update({"severity": {k: str(v) for k, v in p.severity}, "per_file_ignores": dict(p.per_file_ignores),
                        "ignore_operators": p.ignore_operators, "ignore_tensors": p.ignore_tensors})
        return out


def selection(s: Settings) -> str:
    """The rule selection in effect (from the command line and the file) as the options that give it: "--ignore QC5"."""
    parts = [f"{opt} {','.join(codes)}" for opt, codes in (("--select", s.select), ("--extend-select", s.extend_select),
                                                          ("--ignore", s.ignore)) if codes]
    return " ".join(parts) or "the default rules"


def add_options(p: argparse.ArgumentParser) -> None:
    """Every option a configuration file can also set (defaults None: the file or the default decides)."""
    p.add_argument("--select", type=codes, metavar="CODES", help="comma-separated rule code prefixes or names to run (e.g. QC2,QC301)")
    p.add_argument("--extend-select", type=codes, metavar="CODES", help="rules to run in addition to the selection")
    p.add_argument("--ignore", type=codes, metavar="CODES", help="comma-separated rule code prefixes or names to skip")
    p.add_argument("--fail-on", type=severity, metavar="SEVERITY",
                   help="lowest severity that makes the exit status 1: error, warning or info (default: error)")
    p.add_argument("--expect", metavar="SCHEME", help="the quantization the model must have, e.g. int8-only (see 'qcheck rules')")
    p.add_argument("--target", action="append", metavar="NAME",
                   help="say where each op runs on this target (repeatable; 'all'; or a profile file, see 'qcheck targets')")
    p.add_argument("--format", help="output format (see 'qcheck plugins'; default: console)")
    p.add_argument("-j", "--jobs", type=int, metavar="N", help="verify in N worker processes (default: the number of CPUs)")
    p.add_argument("--baseline", metavar="FILE", help="hide the findings recorded in FILE (see --write-baseline)")
    p.add_argument("--config", metavar="FILE", help="read this configuration file instead of searching for one")
    p.add_argument("--isolated", action="store_true", help="ignore every configuration file")


def resolve(args: argparse.Namespace, registry: Registry) -> Resolved:
    """The settings in effect; unknown names in the file or on the command line raise UsageError (exit 2)."""
    from qcheck.targetfile import is_profile_path, target_names

    if args.isolated and args.config:
        raise UsageError("--isolated and --config exclude each other")
    path = args.config or (None if args.isolated else config.find())
    conf = config.load(path, _checker(registry, is_profile_path)) if path else config.Config()
    cli = {"select": args.select, "extend-select": args.extend_select, "ignore": args.ignore, "fail-on": args.fail_on,
           "expect": args.expect, "targets": args.target, "format": args.format, "jobs": args.jobs, "baseline": args.baseline}
    eff = config.merge(conf, cli, DEFAULTS)
    value = {k: v.value for k, v in eff.items()}
    policy = Policy(config.severity_table(value["severity"] or {}),
                    tuple((pat, tuple(c)) for pat, c in (value["per-file-ignores"] or {}).items()),
                    tuple(value["ignore-operators"] or ()), tuple(value["ignore-tensors"] or ()))
    select = value["select"]
    settings = Settings(select=None if select is None else tuple(select), ignore=tuple(value["ignore"]), expect=value["expect"],
                        targets=target_names(registry, value["targets"]), policy=policy,
                        extend_select=tuple(value["extend-select"]))
    settings = resolve_names(registry, settings)
    check_settings(registry, settings)
    fail_on = value["fail-on"] if isinstance(value["fail-on"], Severity) else Severity.parse(value["fail-on"])
    return Resolved(settings, fail_on, value["format"], value["jobs"], value["baseline"], value["rule-docs-url"], conf.path, eff)


def _checker(registry: Registry, is_profile_path: Any) -> Any:
    """Why a configured value names nothing known (None: it is known)."""
    def known_code(c: str) -> bool:
        return any(r.name == c or r.code.startswith(c.upper()) for r in registry.rules.values()) or CRASH_CODE.startswith(c.upper())

    def check(key: str, item: Any) -> str | None:
        if key in ("select", "extend-select", "ignore", "per-file-ignores") and not known_code(item):
            return f"{item!r} matches no rule code or name (see 'qcheck rules')"
        if key == "severity":
            code, level = item
            if not known_code(code):
                return f"{code!r} matches no rule code or name (see 'qcheck rules')"
            if level.upper() not in Severity.__members__:
                return f"{code} = {level!r}: choose error, warning or info"
        if key == "rule-docs-url" and (not item.startswith(("https://", "http://")) or "{code}" not in item):
            return f"{item!r}: an http(s) URL with {{code}} (and optionally {{name}}) where each rule's page is"
        if key == "fail-on" and item.upper() not in Severity.__members__:
            return f"{item!r}: choose error, warning or info"
        if key == "expect" and item not in registry.expectations:
            return f"unknown expectation {item!r} (choose from: {', '.join(sorted(registry.expectations))})"
        if key == "format" and item not in registry.reporters:
            return f"unknown format {item!r} (choose from: {', '.join(sorted(registry.reporters))})"
        if key == "targets" and item != "all" and item.partition(":")[0] not in registry.targets and not is_profile_path(item):
            return f"unknown target {item!r} (choose from: all, {', '.join(sorted(registry.targets))}, or a profile file)"
        return None

    return check
