"""Text for `qcheck rules`, `qcheck rule CODE` and `qcheck plugins`, generated from the registry."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

from qcheck.findings import Severity, Violation
from qcheck.registry import Registry
from qcheck.rules import Rule


def listing(registry: Registry, fmt: str) -> str:
    rules = list(registry.rules.values())
    if fmt == "json":
        data = [
            {"code": r.code, "name": r.name, "severity": str(r.severity), "default": r.default,
             "summary": r.summary, "plugin": registry.owner.get(f"rule:{r.code}")}
            for r in rules
        ]
        return json.dumps(data, indent=2) + "\n"
    if fmt == "markdown":
        lines = ["| code | name | severity | summary |", "|---|---|---|---|"]
        lines += [f"| {r.code} | `{r.name}` | {r.severity} | {r.summary} |" for r in rules]
        return "\n".join(lines) + "\n"
    width = max((len(r.name) for r in rules), default=4)
    lines = [f"{r.code}  {r.name:<{width}}  {r.severity!s:<7}  {r.summary}" + ("" if r.default else "  (opt-in)") for r in rules]
    if registry.expectations:
        lines += ["", "--expect names:"]
        lines += [f"  {e.name:<14} {e.summary}" for e in registry.expectations.values()]
    return "\n".join(lines) + "\n"


_PLURAL = {"strategy": "strategies"}


def _crashed(model: object, ctx: object) -> Iterator[Violation]:
    """A rule raised an exception, so its checks did not finish on this model.

    ## What it checks
    Nothing by itself: the engine reports it when a rule's code raises, with the rule's code, name
    and the exception in the message. The other rules still run.

    ## Why it matters
    The crashed rule may have missed real problems in this model, and the crash is a bug in
    qcheck or in a plugin (often on an unusual but valid model, or a malformed one).

    ## How to fix
    Report the message and, if you can, the model to the plugin that owns the rule (see
    `qcheck plugins`); `--ignore QC900` hides these findings.

    ## References
    - `qcheck/engine.py` (run_rules)
    """
    return iter(())


def crash_rule(code: str, name: str) -> Rule:
    """The documentation entry of the engine's own crash finding (it is not a registered rule)."""
    return Rule(code, name, _crashed, Severity.ERROR)


def render_doc(rule: Rule, registry: Registry) -> str:
    owner = registry.owner.get(f"rule:{rule.code}", "qcheck core")
    header = f"# {rule.code} {rule.name}\n\nDefault severity: {rule.severity}. Plugin: {owner}.\n\n"
    text = header + rule.doc + "\n"
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
        return ""
    return text


def plugins_listing(registry: Registry) -> str:
    counts: dict[str, dict[str, int]] = {}
    for key, owner in registry.owner.items():
        kind = key.split(":", 1)[0]
        counts.setdefault(owner, {}).setdefault(kind, 0)
        counts[owner][kind] += 1
    lines = []
    for name, plugin in registry.pm.list_name_plugin():
        if plugin is None:
            lines.append(f"{name}  (blocked)")
            continue
        what = ", ".join(f"{n} {k if n == 1 else _PLURAL.get(k, k + 's')}" for k, n in sorted(counts.get(name, {}).items()))
        dist = next((str(d.project_name) for p, d in registry.pm.list_plugin_distinfo() if p is plugin), "built-in")
        lines.append(f"{name}  [{dist}]  {what or 'hooks only'}")
    return "\n".join(lines) + "\n"
