"""The registered values of every plugin kind, and the plugin manager that fills them."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

import pluggy

from qcheck import hookspecs
from qcheck.errors import UsageError
from qcheck.rules import Rule

if TYPE_CHECKING:
    from qcheck.reporting import Report

hookimpl = pluggy.HookimplMarker("qcheck")

# Built-in plugins, registered first and in this order (they own the QC codes).
DEFAULT_PLUGINS: tuple[str, ...] = ("qcheck_structure", "qcheck_spec", "qcheck_report", "qcheck_tf")


@dataclass(frozen=True, slots=True)
class Reporter:
    """An output format: renders finished reports to a text stream."""

    name: str
    render: Callable[[Sequence[Report], TextIO], None]
    summary: str = ""


@dataclass(frozen=True, slots=True)
class Strategy:
    """A quantization strategy for ``qcheck convert``; `expect` names the scheme it promises."""

    name: str
    expect: str
    description: str
    convert: Callable[..., bytes]
    # Calibrating strategies declare it, and may describe the source's inputs so that the data
    # is validated once, before any conversion starts (see qcheck.convert).
    needs_calibration: bool = False
    inputs: Callable[..., Sequence[Any]] | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """A deployment target profile (delegate or accelerator); its facts live in `data`."""

    name: str
    summary: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Expectation:
    """A scheme name that ``--expect`` accepts."""

    name: str
    summary: str


@dataclass
class Registry:
    """Everything the plugins registered, keyed by name (rules also by code)."""

    pm: pluggy.PluginManager
    rules: dict[str, Rule] = field(default_factory=dict)
    strategies: dict[str, Strategy] = field(default_factory=dict)
    reporters: dict[str, Reporter] = field(default_factory=dict)
    targets: dict[str, Target] = field(default_factory=dict)
    expectations: dict[str, Expectation] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)  # "kind:name" -> plugin name

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
        if external:
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
    reg = Registry(pm)
    calls = (
        ("qcheck_register_rules", "rule", reg.rules, lambda v: v.code),
        ("qcheck_register_strategies", "strategy", reg.strategies, lambda v: v.name),
        ("qcheck_register_reporters", "reporter", reg.reporters, lambda v: v.name),
        ("qcheck_register_targets", "target", reg.targets, lambda v: v.name),
        ("qcheck_register_expectations", "expectation", reg.expectations, lambda v: v.name),
    )
    for hook, kind, table, key in calls:
        # Call each plugin's implementation on its own, in registration order, so that a clash
        # names the plugin that caused it (built-ins first, so they keep their names).
        for impl in getattr(pm.hook, hook).get_hookimpls():
            impl.function(register=_registrar(reg, kind, table, impl.plugin_name, key))
    reg.rules = dict(sorted(reg.rules.items()))
    return reg
