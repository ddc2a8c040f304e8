"""Hook specifications: the whole plugin API of qcheck.

A plugin is a module (or object) with functions named like the hooks below and marked with
``@qcheck.hookimpl``. Built-in plugins live in ``plugins/`` and are registered first, in a fixed
order; third-party plugins are found through the ``qcheck`` entry-point group, e.g.::

    [project.entry-points.qcheck]
    acme = "qcheck_acme"

Every registration hook receives a ``register`` callback; call it once per frozen value. Names
and rule codes must be unique across all plugins (the later plugin is blamed for a clash).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from qcheck.registry import Expectation, Fact, Reporter, Strategy, Target
    from qcheck.rules import Rule
    from qcheck.tflite.model import Model

hookspec = pluggy.HookspecMarker("qcheck")


@hookspec
def qcheck_register_rules(register: Callable[[Rule], None]) -> None:
    """Register validation rules.

    Call ``register(rule)`` for each :class:`qcheck.rules.Rule` (made with ``@qcheck.rule``;
    ``qcheck.rules.collect(module)`` lists a module's rules). Built-in codes start with ``QC``;
    a third-party plugin uses its own 1-4 letter prefix, e.g. ``ACME001``.
    """


@hookspec
def qcheck_register_strategies(register: Callable[[Strategy], None]) -> None:
    """Register quantization strategies for ``qcheck convert``.

    A :class:`qcheck.registry.Strategy` turns a float model into ``.tflite`` bytes and names the
    scheme (an ``--expect`` name) its output must satisfy. Import heavy frameworks such as
    TensorFlow inside ``Strategy.convert``, never at module import time.
    """


@hookspec
def qcheck_register_reporters(register: Callable[[Reporter], None]) -> None:
    """Register output formats, chosen with ``--format NAME``.

    A :class:`qcheck.registry.Reporter` only formats finished reports; it never filters findings
    or decides the exit status.
    """


@hookspec
def qcheck_register_targets(register: Callable[[Target], None]) -> None:
    """Register target profiles (runtimes, delegates, accelerators), chosen with ``--target NAME``.

    A :class:`qcheck.registry.Target` places every operator of a model (``place(model, facts,
    findings)`` returns a :class:`qcheck.targets.Placed`); the core partitions a delegate's
    accelerated ops as LiteRT does and gives the verdict; the QC6xx rules turn it into findings.
    Keep the per-op facts in data tables with sources, and import them inside ``place``.
    """


@hookspec
def qcheck_register_expectations(register: Callable[[Expectation], None]) -> None:
    """Register the names ``qcheck verify --expect NAME`` accepts (e.g. ``int8-only``).

    The registering plugin's rules read ``Context.expect`` and report the deviations.
    """


@hookspec
def qcheck_register_facts(register: Callable[[Fact], None]) -> None:
    """Declare the facts that the plugin's ``qcheck_model_facts`` returns.

    A :class:`qcheck.registry.Fact` gives the key, a title and how to say the value in a short
    phrase, so that reporters show every plugin's facts without knowing their keys. Undeclared
    facts still reach rules and the JSON report.
    """


@hookspec
def qcheck_model_facts(model: Model) -> Mapping[str, object] | None:
    """Return facts about a model that reports show and rules read from ``Context.facts``.

    Called once per model before any rule runs, e.g. ``{"scheme": "int8", "io": {...}}``.
    Values must be JSON-serialisable. When two plugins give the same key, the plugin
    registered first wins.
    """


@hookspec
def qcheck_spec_tables() -> str | None:
    """Return Markdown tables of the per-op facts the plugin's rules enforce (``qcheck rules --spec``)."""
