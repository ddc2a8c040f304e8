"""What the structural messages say the runtimes do, checked by running them (child processes, qcheck.runtime)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import qcheck
from qcheck.runtime import run_interpreters
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
    folder = tmp_path_factory.mktemp("structure-runtime")
    paths = []
    for i, (make, *_) in enumerate(CASES.values()):
        path = Path(folder) / f"m{i}.tflite"
        path.write_bytes(make())
        paths.append(path)
    out: dict[str, dict[str, str]] = {name: {} for name in CASES}
    for rt in ("litert-builtin", "tflm"):
        for name, r in zip(CASES, run_interpreters(paths, 60, runtime=rt), strict=True):
            out[name][rt] = r.status
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_message_states_what_the_runtimes_do(name: str, runs: dict[str, dict[str, str]], registry: object) -> None:
    make, code, words, litert, micro = CASES[name]
    findings = [f for f in qcheck.verify(make(), registry=registry).findings if f.code == code]  # type: ignore[arg-type]
    assert findings and all(words in f.message for f in findings), [f.message for f in findings]
    assert runs[name]["litert-builtin"] == litert
    if micro is not None:
        assert runs[name]["tflm"] == micro
