"""The registered values of every plugin kind, and the plugin manager that fills them."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

import pluggy

from qcheck import hookspecs
from qcheck.errors import UsageError
from qcheck.rules import Rule

if TYPE_CHECKING:
    from qcheck.reporting import Report, ReportStream, Run
    from qcheck.targets import Placed

hookimpl = pluggy.HookimplMarker("qcheck")

# Built-in plugins, registered first and in this order (they own the QC codes).
DEFAULT_PLUGINS: tuple[str, ...] = ("qcheck_structure", "qcheck_spec", "qcheck_targets", "qcheck_compare", "qcheck_report", "qcheck_tf")


class Reporter(NamedTuple):
    """An output format: renders finished reports to a text stream."""

    name: str
    render: Callable[[Sequence[Report], TextIO], None]
    summary: str = ""
    verbose_render: Callable[[Sequence[Report], TextIO], None] | None = None  # for --verbose, when it shows more
    # Writes each report as it arrives (a ReportStream), so that a zoo's run keeps memory flat; `verify` uses it
    # when given, else `render` gets every report at the end. Run.verbose says whether -v was given.
    stream: Callable[[Run, TextIO], ReportStream] | None = None


class Strategy(NamedTuple):
    """A quantization strategy for ``qcheck convert``; `expect` names the scheme it promises."""

    name: str
    expect: str
    description: str
    convert: Callable[..., bytes]
    # Calibrating strategies declare it, and may describe the source's inputs so that the data
    # is validated once, before any conversion starts (see qcheck.convert).
    needs_calibration: bool = False
    inputs: Callable[..., Sequence[Any]] | None = None
    baseline: bool = False  # the unquantized output that `convert --all` compares the others' sizes with
    # Can leave named ops or op types in float (`convert --keep-float`): ConvertRequest.keep_float.
    keeps_float: bool = False


class Target(NamedTuple):
    """A deployment target profile (runtime, delegate or accelerator): where each operator of a model runs.

    `place(model, facts, findings)` returns a :class:`qcheck.targets.OpPlacement` for every operator
    of every subgraph (the findings are those of the other rules: a finding whose ``details["runtimes"]``
    says a runtime refuses it is the profile's to use); the core partitions a delegate's accelerated
    ops and gives the verdict.
    """

    name: str
    summary: str
    place: Callable[..., Placed]
    runtime: str = ""  # the distribution whose behaviour the profile describes, e.g. "ai-edge-litert"
    sources: tuple[str, ...] = ()  # the upstream files the profile's rules come from
    delegate: bool = False  # accelerated ops are grouped into partitions as LiteRT groups a delegate's
    # Which of those partitions the delegate or compiler keeps (qcheck.targets.PARTITIONING): "all",
    # "largest:N" (only the N largest, as the GPU and NNAPI delegates do) or "prefix" (one segment
    # from the input up to the first op it cannot map, as the Edge TPU compiler does).
    partitioning: str = "all"
    confirm: str = ""  # the qcheck.runtime mode that runs this target's real runtime, for --confirm ("" = none)
    # The runtime this target stands for in findings' details["runtimes"] (e.g. "litert"): with --target,
    # such findings are judged by what they say of the targets' runtimes (see engine.judge_for_targets).
    judges: str = ""
    # `--target NAME:KEY=VALUE[,KEY=VALUE]`: builds the profile configured so (e.g. a feature level); raises
    # ValueError naming a bad option. `options` says what it takes, for `qcheck targets`.
    configure: Callable[[Mapping[str, str]], Target] | None = None
    options: str = ""
    data: Mapping[str, Any] = MappingProxyType({})  # the profile's tables, for `qcheck targets --format json`


class Fact(NamedTuple):
    """A per-model fact that `qcheck_model_facts` returns, declared so that reports can show it without knowing it."""

    key: str  # the key in the facts mapping (and in the JSON report's model entry)
    title: str  # a heading for tables, e.g. "scheme"
    phrase: Callable[[Any], str | None]  # the value as a short phrase for one-line summaries; None leaves it out
    headline: bool = False  # the fact that sums a model up in a word: tables (e.g. `convert --all`) show it


class Expectation(NamedTuple):
    """A scheme name that ``--expect`` accepts; `rule` is the code of the rule that checks it."""

    name: str
    summary: str
    rule: str | None = None  # runs whenever the expectation is given, whatever --select/--ignore say


class Registry:
    """Everything the plugins registered, keyed by name (rules also by code)."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self.rules: dict[str, Rule] = {}
        self.strategies: dict[str, Strategy] = {}
        self.reporters: dict[str, Reporter] = {}
        self.targets: dict[str, Target] = {}
        self.expectations: dict[str, Expectation] = {}
        self.facts: dict[str, Fact] = {}
        self.owner: dict[str, str] = {}  # "kind:name" -> plugin name

    def rule(self, code_or_name: str) -> Rule:
        key = code_or_name.upper()
        if key in self.rules:
            return self.rules[key]
        for r in self.rules.values():
            if r.name == code_or_name:
                return r
        raise UsageError(f"unknown rule {code_or_name!r} (see 'qcheck rules')")


def _registrar(reg: Registry, kind: str, table: dict[str, Any], plugin: str, key: Callable[[Any], str]) -> Callable[[Any], None]:
    def register(value: Any) -> None:
        k = key(value)
        if k in table:
            raise UsageError(f"plugin {plugin!r} registers {kind} {k!r}, already registered by {reg.owner[f'{kind}:{k}']!r}")
        table[k] = value
        reg.owner[f"{kind}:{k}"] = plugin
        if kind == "rule":
            names = {r.name: c for c, r in table.items() if c != k}
            if value.name in names:
                raise UsageError(f"plugin {plugin!r} registers rule name {value.name!r}, already used by {names[value.name]}")

    return register


def _broken_entry_point(blocked: Iterable[str]) -> str:
    """Name and target of the first `qcheck` entry point that fails to import."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="qcheck"):
        if ep.name in blocked:
            continue
        try:
            ep.load()
        except Exception:  # noqa: BLE001 - any import failure is what we are looking for
            return f"{ep.name} ({ep.value})"
    return "(unknown)"


def declares_entry_points(group: str) -> bool:
    """False only when no installed distribution can declare `group` entry points.

    A cheap look at the entry_points.txt files on sys.path: importlib.metadata, which pluggy uses,
    costs ~25 ms of imports (email, zipfile, csv) on every start, a tenth of `qcheck verify`'s time.
    Anything this scan does not understand (a zip or .egg on sys.path, a finder with its own
    distributions) answers True, so that the full importlib.metadata scan decides.
    """
    from importlib.machinery import PathFinder

    if any(hasattr(f, "find_distributions") and f is not PathFinder for f in sys.meta_path):
        return True
    for entry in sys.path:
        if not isinstance(entry, str) or entry.lower().endswith(".egg"):
            return True
        try:
            names = os.listdir(entry or ".")
        except NotADirectoryError:  # a zip file: distributions may live inside
            return True
        except OSError:  # missing or unreadable: importlib.metadata skips it too
            continue
        for name in names:
            if not name.lower().endswith((".dist-info", ".egg-info")):
                continue
            try:
                with open(os.path.join(entry or ".", name, "entry_points.txt"), encoding="utf-8", errors="replace") as f:
                    # The section syntax importlib.metadata accepts (its Sectioned parser).
                    if any(v[:1] == "[" and v[-1:] == "]" and v.strip("[]") == group for v in map(str.strip, f)):
                        return True
            except OSError:
                continue
    return False


def _check_blocked(blocked: Sequence[str]) -> None:
    """--disable-plugin names must name a plugin: a built-in or an installed `qcheck` entry point."""
    unknown = [n for n in blocked if n not in DEFAULT_PLUGINS]
    if unknown:
        from importlib.metadata import entry_points

        names = {ep.name for ep in entry_points(group="qcheck")}
        unknown = [n for n in unknown if n not in names]
    if unknown:
        known = ", ".join((*DEFAULT_PLUGINS, *sorted(names)))
        raise UsageError(f"--disable-plugin {unknown[0]!r}: no such plugin (plugins: {known})")


def make_registry(*, external: bool = True, blocked: Iterable[str] = (), extra: Iterable[object] = ()) -> Registry:
    """Build a plugin manager (built-ins, then entry points, then `extra`) and collect its values."""
    blocked = tuple(blocked)  # iterated twice
    pm = pluggy.PluginManager("qcheck")
    pm.add_hookspecs(hookspecs)
    for name in blocked:
        pm.set_blocked(name)
    for modname in DEFAULT_PLUGINS:
        if not pm.is_blocked(modname):
            pm.register(importlib.import_module(modname), name=modname)
    try:
        if external and declares_entry_points("qcheck"):
            pm.load_setuptools_entrypoints("qcheck")
        for plugin in extra:
            pm.register(plugin)
        pm.check_pending()
    except pluggy.PluginValidationError as e:
        name = str(pm.get_name(e.plugin) or getattr(e.plugin, "__name__", type(e.plugin).__name__))
        raise UsageError(f"plugin {name!r} is invalid: {' '.join(str(e).split())} (block it with --disable-plugin {name})") from None
    except Exception as e:  # noqa: BLE001 - an installed plugin that fails to import must not look like a qcheck crash
        name = _broken_entry_point(blocked)
        raise UsageError(f"third-party plugin {name} failed to load: {type(e).__name__}: {e}"
                         f" (block it with --disable-plugin {name.split()[0]})") from None
    _check_blocked(blocked)
    reg = Registry(pm)
    calls = (
        ("qcheck_register_rules", "rule", reg.rules, lambda v: v.code),
        ("qcheck_register_strategies", "strategy", reg.strategies, lambda v: v.name),
        ("qcheck_register_reporters", "reporter", reg.reporters, lambda v: v.name),
        ("qcheck_register_targets", "target", reg.targets, lambda v: v.name),
        ("qcheck_register_expectations", "expectation", reg.expectations, lambda v: v.name),
        ("qcheck_register_facts", "fact", reg.facts, lambda v: v.key),
    )
    for hook, kind, table, key in calls:
        # Call each plugin's implementation on its own, in registration order, so that a clash
        # names the plugin that caused it (built-ins first, so they keep their names).
        for impl in getattr(pm.hook, hook).get_hookimpls():
            impl.function(register=_registrar(reg, kind, table, impl.plugin_name, key))
    reg.rules = dict(sorted(reg.rules.items()))
    return reg
