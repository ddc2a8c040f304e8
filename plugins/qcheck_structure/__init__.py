"""Built-in structural rules (QC0xx): the container and the quantization parameters' own integrity."""

from __future__ import annotations

from collections.abc import Callable

from qcheck import Rule, hookimpl
from qcheck.rules import collect
from qcheck_structure import container, opcodes, quantparams


@hookimpl
def qcheck_register_rules(register: Callable[[Rule], None]) -> None:
    for module in (container, opcodes, quantparams):
        for r in collect(module):
            register(r)
