"""What the structural messages say the runtimes do, checked by running them (child processes, qcheck.runtime)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from core_helpers import runtime_statuses

import qcheck
from qcheck.tflite.builder import ModelBuilder


def _relu(edit: Callable[[ModelBuilder], None]) -> bytes:
    b = ModelBuilder()
    x, y = b.tensor("x", "FLOAT32", [1, 4]), b.tensor("y", "FLOAT32", [1, 4])
    b.op("RELU", [x], [y])
    b.io([x], [y])
    edit(b)
    return b.build()


def _add_const(buffer: int) -> bytes:
    b = ModelBuilder()
    x, c, y = b.tensor("x", "FLOAT32", [1, 4]), b.tensor("c", "FLOAT32", [1, 4], buffer=buffer), b.tensor("y", "FLOAT32", [1, 4])
    b.op("ADD", [x, c], [y], options={"fused_activation_function": "NONE"})
    b.io([x], [y])
    return b.build()


def _never_written() -> bytes:
    b = ModelBuilder()
    x, orphan, y = b.tensor("x", "FLOAT32", [1, 4]), b.tensor("orphan", "FLOAT32", [1, 4]), b.tensor("y", "FLOAT32", [1, 4])
    b.op("ADD", [x, orphan], [y], options={"fused_activation_function": "NONE"})
    b.io([x], [y])
    return b.build()


def _byte_code_left_0() -> bytes:
    b = ModelBuilder()
    x, y = b.tensor("x", "FLOAT32", [1, 4]), b.tensor("y", "FLOAT32", [1, 4])
    b.op("RELU", [x], [y], opcode_index=b.opcode("RELU", raw_codes=(0, 19)))
    b.io([x], [y])
    return b.build()


# name -> (model, rule, words of its message, LiteRT status, TFLite Micro status)
CASES = {
    "no buffers at all": (lambda: _relu(lambda b: setattr(b, "buffers", [])), "QC004", "LiteRT runs it, TFLite Micro reads out of bounds", "ok", "crash"),
    "buffer index past the list": (lambda: _add_const(7), "QC004", "LiteRT refuses the model, TFLite Micro crashes", "error", "crash"),
    "tensor nothing writes": (_never_written, "QC013", "LiteRT refuses", "error", None),
    "byte builtin code left 0": (_byte_code_left_0, "QC011", "LiteRT and TFLite Micro use the larger", "ok", "ok"),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    return runtime_statuses({name: case[0]() for name, case in CASES.items()}, tmp_path_factory.mktemp("runs"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_message_states_what_the_runtimes_do(name: str, runs: dict[str, dict[str, str]], registry: object) -> None:
    make, code, words, litert, micro = CASES[name]
    findings = [f for f in qcheck.verify(make(), registry=registry).findings if f.code == code]  # type: ignore[arg-type]
    assert findings and all(words in f.message for f in findings), [f.message for f in findings]
    assert runs[name]["litert-builtin"] == litert
    if micro is not None:
        assert runs[name]["tflm"] == micro
