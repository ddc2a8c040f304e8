"""Built-in plugin: the LiteRT quantization-spec rule pack (QC1xx-QC5xx) and scheme detection."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from qcheck import Expectation, Model, Rule, hookimpl
from qcheck.registry import Fact
from qcheck.rules import collect
from qcheck_spec import activations, bias, expect, floats, operands, operators, requant, weights
from qcheck_spec.scheme import EXPECTATIONS, analyse

RULE_MODULES = (expect, weights, bias, activations, operators, operands, requant, floats)


@hookimpl
def qcheck_register_rules(register: Callable[[Rule], None]) -> None:
    for module in RULE_MODULES:
        for r in collect(module):
            register(r)


@hookimpl
def qcheck_register_expectations(register: Callable[[Expectation], None]) -> None:
    for e in EXPECTATIONS.values():
        register(Expectation(e.name, e.summary, rule=expect.expectation_mismatch.code))


def _io_phrase(io: object) -> str | None:
    if not isinstance(io, Mapping):
        return None
    ins = ", ".join(str(x) for x in io.get("inputs", []))
    outs = ", ".join(str(x) for x in io.get("outputs", []))
    return f"I/O {ins} -> {outs}"


@hookimpl
def qcheck_register_facts(register: Callable[[Fact], None]) -> None:
    register(Fact("scheme", "scheme", lambda v: f"scheme {v}", headline=True))
    register(Fact("io", "I/O", _io_phrase))
    register(Fact("float_ops", "float ops", lambda v: f"{len(v)} float op(s)" if isinstance(v, list) and v else None))


@hookimpl
def qcheck_model_facts(model: Model) -> Mapping[str, object]:
    return analyse(model).facts()


@hookimpl
def qcheck_spec_tables() -> str:
    from qcheck_spec.spectable import markdown

    return markdown()
