"""Built-in plugin: the numerical-comparison rules (QC7xx) that judge `qcheck compare` results."""

from __future__ import annotations

from collections.abc import Callable

from qcheck import Rule, hookimpl
from qcheck.rules import collect
from qcheck_compare import rules


@hookimpl
def qcheck_register_rules(register: Callable[[Rule], None]) -> None:
    for r in collect(rules):
        register(r)
