"""Scheme detection on small models built in code, one scheme (or corner case) each."""

from __future__ import annotations

import numpy as np
import pytest
from specmodels import Net, chain, conv1, custom_decoder, fc_net, float_conv, float_island, requantize, reshape

import qcheck


def _legacy_uint8() -> bytes:
    n = Net()
    x = n.input("UINT8", (1, 4, 4, 3), 0.02, 128)
    return n.build([n.conv(x, wdtype="UINT8", w=np.random.default_rng(1).integers(0, 256, (4, 3, 3, 3)), wzp=[128] * 4, out=(0.05, 0))])


def _weight_only() -> bytes:
    n = Net()
    x = n.input("FLOAT32", (1, 8), None)
    c = n.t("c", "INT8", (8,), 0.01, 0, np.arange(8))
    cf = n.t("c_dequantize", "FLOAT32", (8,))
    n.op("DEQUANTIZE", [c], [cf])
    y = n.t("y", "FLOAT32", (1, 8))
    n.op("ADD", [x, cf], [y], 1, fused_activation_function="NONE")
    return n.build([y])


def _int8_and_int16() -> bytes:
    n = Net()
    x = reshape(n, n.input("INT8", (1, 8), 0.05, 0), "INT8", (0.05, 0))
    y = n.unary("QUANTIZE", x, 0.001, 0, dtype="INT16")
    z = n.unary("RELU", y, 0.001, 0)
    return n.build([reshape(n, n.unary("QUANTIZE", z, 0.05, 0, dtype="INT8"), "INT8", (0.05, 0))])


CASES = {
    "float32": (float_conv, "float32", []),
    "float16": (lambda: float_conv("FLOAT16", dequantize=True), "float16", []),
    "dynamic-range (hybrid op)": (lambda: fc_net(hybrid=True), "dynamic-range", []),
    "dynamic-range (weight-only DEQUANTIZE)": (_weight_only, "dynamic-range", []),
    "int8": (conv1, "int8", []),
    "int8 with a float island": (float_island, "int8", ["DEQUANTIZE", "FLOOR", "QUANTIZE"]),
    "int8, single op, int8 I/O": (lambda: chain("INT8", [("SOFTMAX", 1 / 256, -128)]), "int8", []),
    "int16x8": (lambda: chain("INT16", [("RELU", 0.001, 0)], in_q=(0.001, 0)), "int16x8", []),
    "uint8 (legacy)": (_legacy_uint8, "uint8", []),
    "int8 inside, uint8 interface": (lambda: requantize("UINT8", ("INT8", 0.1, -28), ("UINT8", 0.1, 100)), "int8", []),
    "mixed int8 and int16": (_int8_and_int16, "mixed", []),
    # all computation in float between a DEQUANTIZE at the input and a QUANTIZE at the output
    "float between int8 I/O": (lambda: _float_between_int8_io(), "float32", []),
    "int8, one QUANTIZE between int8 tensors": (lambda: requantize("INT8", None, ("INT8", 0.2, 5), in_q=(0.1, 3)), "int8", []),
    "integer (no quantization, no float tensor)": (lambda: _raw_integer(), "integer", []),
    "int8 with an int16 softmax output": (lambda: _int16_softmax_output(), "int8", []),
    "int8 with uint8 into a custom decoder": (lambda: custom_decoder(), "int8", ["CUSTOM"]),
    "uint8 around custom ops only (compiled)": (lambda: _uint8_custom_only(), "uint8", []),
}


def _raw_integer() -> bytes:
    """An audio-front-end-like graph: raw INT16/INT32 tensors, no quantization parameters, no float."""
    n = Net()
    x = n.input("INT16", (1, 8), None)
    y = n.t("y", "INT32", (1, 8))
    n.op("CAST", [x], [y])
    z = n.t("z", "INT32", (1, 8))
    n.op("ABS", [y], [z])
    return n.build([z])


def _int16_softmax_output() -> bytes:
    """int8 in, int16 softmax probabilities out: what TFLite Micro's int8 softmax allows."""
    n = Net()
    x = n.unary("RELU", n.input("INT8", (1, 8), 0.05, -128), 0.05, -128)
    return n.build([n.unary("SOFTMAX", x, 1 / 65536, -32768, dtype="INT16", beta=1.0)])


def _uint8_custom_only() -> bytes:
    """A compiled model: uint8 tensors around an accelerator's custom op are the whole scheme."""
    n = Net()
    x = n.input("UINT8", (1, 8), 0.05, 128)
    y = n.t("y", "UINT8", (1, 8), 0.05, 128)
    n.b.op("CUSTOM", [x], [y], custom_code="edgetpu-custom-op")
    return n.build([y])


def _float_between_int8_io() -> bytes:
    n = Net()
    x = n.input("INT8", (1, 8), 0.05, 0)
    f = n.t("f", "FLOAT32", (1, 8))
    n.op("DEQUANTIZE", [x], [f])
    g = n.t("g", "FLOAT32", (1, 8))
    n.op("FLOOR", [f], [g])
    return n.build([n.unary("QUANTIZE", g, 0.05, 0, dtype="INT8")])


@pytest.mark.parametrize("name", sorted(CASES))
def test_scheme(name: str, registry) -> None:  # type: ignore[no-untyped-def]
    build, scheme, float_ops = CASES[name]
    report = qcheck.verify(build(), registry=registry)
    assert report.facts["scheme"] == scheme
    assert [f["opcode"] for f in report.facts["float_ops"]] == float_ops  # type: ignore[union-attr, index]


def test_legacy_uint8_is_not_held_to_the_int8_weight_rules(registry) -> None:  # type: ignore[no-untyped-def]
    report = qcheck.verify(_legacy_uint8(), registry=registry, expect="uint8")
    assert not [f for f in report.findings if f.severity >= qcheck.Severity.WARNING]


def test_mixed_model_names_the_foreign_ops(registry) -> None:  # type: ignore[no-untyped-def]
    report = qcheck.verify(_int8_and_int16(), registry=registry, expect="int8")
    ops = {f.location.opcode for f in report.findings if f.code == "QC101" and f.location.operator is not None}
    assert ops == {"QUANTIZE", "RELU"}  # the ops with int16 activations, each named


def test_no_uint8_finding_on_a_custom_decoder_interface(registry) -> None:  # type: ignore[no-untyped-def]
    report = qcheck.verify(custom_decoder(), registry=registry)
    assert not [f for f in report.findings if f.code == "QC304"]


@pytest.mark.parametrize(("build", "status"), [(_raw_integer, True), (float_conv, False), (conv1, False)])
def test_expect_integer(build, status: bool, registry) -> None:  # type: ignore[no-untyped-def]
    report = qcheck.verify(build(), registry=registry, expect="integer")
    assert (not [f for f in report.findings if f.code == "QC101"]) == status


def test_io_facts(registry) -> None:  # type: ignore[no-untyped-def]
    facts = qcheck.verify(requantize("UINT8", ("INT8", 0.1, -28), ("UINT8", 0.1, 100)), registry=registry).facts
    assert facts["io"] == {"inputs": ["UINT8"], "outputs": ["UINT8"]}
