"""The verify pipeline: load, gather facts, run the selected rules, sort the findings."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, NamedTuple

from qcheck.errors import ModelError, UsageError
from qcheck.findings import Finding, Location, Severity
from qcheck.policy import Policy, apply
from qcheck.registry import Registry, make_registry
from qcheck.reporting import Report
from qcheck.rules import Context, Rule, matches, selected
from qcheck.targets import judge, judge_for_targets
from qcheck.tflite.model import Model
from qcheck.tflite.reader import Source, collector_paused, load

CRASH_CODE, CRASH_NAME = "QC900", "rule-crashed"


class Settings(NamedTuple):
    """What the user chose: rule selection, the --expect name, the --target names and the configured ignores."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    expect: str | None = None
    targets: tuple[str, ...] = ()
    policy: Policy = Policy()
    extend_select: tuple[str, ...] = ()  # rules run in addition to the selection (non-default ones included)


def active_rules(registry: Registry, settings: Settings) -> list[Rule]:
    """The rules that run: selected by code prefix; non-default rules only when selected.

    The rule that checks a given --expect always runs: an expectation is never silently dropped.
    """
    expectation = registry.expectations.get(settings.expect or "")
    forced = expectation.rule if expectation is not None else None
    out = []
    for r in registry.rules.values():
        if r.code == forced or matches(r.code, settings.extend_select) > matches(r.code, settings.ignore):
            out.append(r)
        elif settings.select is None and not r.default:
            continue
        elif selected(r.code, settings.select, settings.ignore):
            out.append(r)
    return out


def resolve_names(registry: Registry, settings: Settings) -> Settings:
    """Selectors may name rules (`--select weight-outside-narrow-range`): replace names by their codes."""
    def codes(selectors: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(registry.rule(s).code if "-" in s else s for s in selectors)

    return settings._replace(select=None if settings.select is None else codes(settings.select), ignore=codes(settings.ignore),
                             extend_select=codes(settings.extend_select))


def check_settings(registry: Registry, settings: Settings) -> None:
    """Reject selectors that match no rule and unknown --expect names (exit 2, like ruff)."""
    for prefix in (*(settings.select or ()), *settings.ignore, *settings.extend_select):
        if not any(c.startswith(prefix) for c in registry.rules) and not CRASH_CODE.startswith(prefix):
            raise UsageError(f"rule selector {prefix!r} matches no rule (see 'qcheck rules')")
    if settings.expect is not None and settings.expect not in registry.expectations:
        names = ", ".join(sorted(registry.expectations)) or "none registered"
        raise UsageError(f"unknown --expect {settings.expect!r} (choose from: {names})")
    for name in settings.targets:
        if name not in registry.targets:
            names = ", ".join(sorted(registry.targets)) or "none registered"
            raise UsageError(f"unknown --target {name!r} (choose from: all, {names}, or a profile file path)")


def model_facts(registry: Registry, model: Model) -> dict[str, object]:
    facts: dict[str, object] = {}
    # pluggy returns results last-registered first; updating in that order lets the first win.
    for result in registry.pm.hook.qcheck_model_facts(model=model):
        if result:
            facts.update(result)
    return facts


def describe_facts(registry: Registry, facts: Mapping[str, object]) -> tuple[tuple[str, ...], str | None]:
    """The declared facts as phrases (registration order) and the headline fact's value."""
    phrases, headline = [], None
    for fact in registry.facts.values():
        if fact.key not in facts:
            continue
        value = facts[fact.key]
        try:
            phrase = fact.phrase(value)
        except Exception:  # noqa: BLE001 - a plugin's broken phrase must not stop the report
            phrase = f"{fact.title} {value!r}"
        if phrase:
            phrases.append(phrase)
        if fact.headline and headline is None and value is not None:
            headline = str(value)
    return tuple(phrases), headline


def run_rules(model: Model, rules: Iterable[Rule], ctx: Context) -> list[Finding]:
    return number_findings(collect_findings(model, rules, ctx))


def collect_findings(model: Model, rules: Iterable[Rule], ctx: Context) -> list[Finding]:
    findings = []
    for r in rules:
        try:
            for v in r.check(model, ctx):
                findings.append(Finding(r.code, r.name, r.severity, v.message, v.where, v.fix or r.fix, v.details))
        except Exception as e:  # noqa: BLE001 - a broken rule must not stop the others
            findings.append(
                Finding(CRASH_CODE, CRASH_NAME, Severity.ERROR, f"rule {r.code} ({r.name}) crashed: {type(e).__name__}: {e}", Location())
            )
    return findings


def number_findings(findings: list[Finding]) -> list[Finding]:
    """Sort findings along the graph and make every fingerprint unique within the model."""
    findings.sort(key=lambda f: (f.location.sort_key(), f.code))
    # Findings of one rule at one location key (e.g. an op type per op, unnamed tensors) are told
    # apart by their order in the graph, so that every fingerprint is unique within the model.
    seen: dict[tuple[str, str], int] = {}
    for i, f in enumerate(findings):
        k = (f.code, f.location.key)
        n = seen[k] = seen.get(k, -1) + 1
        if n:
            findings[i] = f._replace(occurrence=n)
    return findings


def verify_model(model: Model, registry: Registry, settings: Settings, path: str = "<bytes>") -> Report:
    with collector_paused():
        facts = model_facts(registry, model)
        ctx = Context(facts=facts, expect=settings.expect, targets=dict.fromkeys(settings.targets))
        rules = active_rules(registry, settings)
        findings = collect_findings(model, [r for r in rules if not r.needs_targets and not r.needs_comparison], ctx)
        # Profiles read the findings (a rule's details may say which runtimes refuse what it found).
        placed = {name: judge(registry.targets[name], model, facts, findings) for name in settings.targets}
        judges = {name: registry.targets[name].judges for name in settings.targets}
        if judges and all(judges.values()):
            findings = judge_for_targets(findings, judges)
        if placed:
            findings += collect_findings(model, [r for r in rules if r.needs_targets], ctx._replace(targets=placed))
        findings = number_findings(findings)
    # A crash is reported whatever is selected, unless the user ignores QC900 itself.
    if matches(CRASH_CODE, settings.ignore) > matches(CRASH_CODE, settings.select or ()):
        findings = [f for f in findings if f.code != CRASH_CODE]
    findings, suppressed = apply(findings, model, path, settings.policy)
    stats = {
        "bytes": model.file_size,
        "subgraphs": len(model.subgraphs),
        "tensors": sum(len(s.tensors) for s in model.subgraphs),
        "operators": sum(len(s.operators) for s in model.subgraphs),
    }
    highlights, headline = describe_facts(registry, facts)
    return Report(path=path, findings=tuple(findings), facts=facts, stats=stats, highlights=highlights, headline=headline,
                  targets=placed, suppressed=tuple(suppressed), subgraph_names=tuple(s.name for s in model.subgraphs))


@cache
def default_registry() -> Registry:
    """The registry `verify` uses when given none: plugins are loaded once per process, not per call."""
    return make_registry()


def verify(source: Source, *, registry: Registry | None = None, settings: Settings | None = None, **kw: Any) -> Report:
    """Verify one model (a path or bytes). Raises ModelError when it cannot be read."""
    registry = registry or default_registry()
    settings = resolve_names(registry, settings or Settings(**kw))
    check_settings(registry, settings)
    path = "<bytes>" if isinstance(source, (bytes, bytearray, memoryview)) else os.fspath(source)
    return verify_model(load(source), registry, settings, path)


def verify_file(path: str, registry: Registry, settings: Settings) -> Report:
    """Verify one file; an unreadable one gets a report with `error` instead of raising."""
    try:
        return verify_model(load(path), registry, settings, path)
    except ModelError as e:
        return Report(path=path, error=str(e))


def compare_report(model: Model, registry: Registry, comparison: Any, path: str, settings: Settings | None = None) -> Report:
    """The QC7xx findings of `qcheck compare` over the quantized model: rules made with `needs_comparison`.

    `comparison` is what those rules read as Context.comparison: (qcheck.compare.Comparison, Thresholds).
    """
    settings = resolve_names(registry, settings or Settings())
    rules = [r for r in active_rules(registry, settings) if r.needs_comparison]
    with collector_paused():
        findings = number_findings(collect_findings(model, rules, Context(comparison=comparison)))
    findings, suppressed = apply(findings, model, path, settings.policy)
    return Report(path=path, findings=tuple(findings), suppressed=tuple(suppressed),
                  subgraph_names=tuple(s.name for s in model.subgraphs))
