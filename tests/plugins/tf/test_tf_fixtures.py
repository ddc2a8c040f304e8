"""The committed converter-made fixtures keep their strategies' promises under the real rules (no TensorFlow)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qcheck import verify
from qcheck.findings import Severity

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "models"
# The scheme the spec plugin must detect in each strategy's output (int8 I/O types do not change it).
SCHEME = {
    "float32": "float32", "float16": "float16", "dynamic-range": "dynamic-range",
    "int8-fallback": "int8", "int8-only": "int8", "int8-only-uint8io": "int8",
    "int16x8": "int16x8", "int16x8-fallback": "int16x8", "int16x8-only": "int16x8",
}


def built_in_strategies(registry: Any) -> list[str]:
    return [n for n in registry.strategies if registry.owner[f"strategy:{n}"] == "qcheck_tf"]


def test_every_built_in_strategy_has_a_fixture(registry: Any) -> None:
    names = built_in_strategies(registry)
    assert set(names) == set(SCHEME)
    assert [n for n in names if not (FIXTURES / f"tf_{n}.tflite").is_file()] == []


@pytest.mark.parametrize("strategy", sorted(SCHEME))
def test_fixture_keeps_its_strategy_promise(registry: Any, strategy: str) -> None:
    expect = registry.strategies[strategy].expect
    report = verify(FIXTURES / f"tf_{strategy}.tflite", registry=registry, expect=expect)
    errors = [f"{f.code} {f.location}: {f.message}" for f in report.findings if f.severity >= Severity.ERROR]
    assert errors == []
    assert report.facts.get("scheme") == SCHEME[strategy]
