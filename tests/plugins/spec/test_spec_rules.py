"""Every QC1xx-QC5xx rule: a model that triggers exactly that rule, and its clean twin that triggers none."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pytest
from specmodels import (
    Net,
    chain,
    conv1,
    conversion_metadata,
    custom_decoder,
    fc_net,
    float_conv,
    float_island,
    int8_net,
    requantize,
    svdf,
    uint8_inside,
)
from test_spec_operands import conv

import qcheck
from qcheck.findings import Severity

SPEC_FAMILIES = ("QC1", "QC2", "QC3", "QC4", "QC5")


class Case(NamedTuple):
    bad: Callable[[], bytes]
    good: Callable[[], bytes]
    expect: str | None = None  # --expect for the bad model
    good_expect: str | None = None
    also: frozenset[str] = frozenset()  # rules that necessarily fire with this one (documented below)


def _w(**at: int) -> np.ndarray:
    """Conformant CONV_2D weights [4, 3, 3, 3] with single values overwritten: at={'c2': -128}."""
    w = np.random.default_rng(7).integers(-127, 128, (4, 3, 3, 3))
    for key, value in at.items():
        w[int(key[1:]), 0, 0, 0] = value
    return w


def _dead() -> np.ndarray:
    w = _w()
    w[2] = 0
    return w


def _ws(factor: float = 1.0) -> list[float]:
    return [0.004, 0.005, 0.006 * factor, 0.007]


def _bias_scale(factor: float) -> list[float]:
    return (np.float32(0.02) * np.asarray([0.004, 0.005, 0.006, 0.007], np.float32) * np.float32([1, 1, factor, 1])).tolist()


def _int16_add(const_dtype: str) -> Callable[[], bytes]:
    return lambda: chain("INT16", [("ADD", 0.001, 0)], in_q=(0.001, 0), const=(const_dtype, 0.001, 0))


def _hybrid_dw() -> bytes:
    n = Net()
    x = n.input("INT8", (1, 4, 4, 4))
    return n.build([n.conv(x, opcode="DEPTHWISE_CONV_2D", bias_dtype="INT32", out=(0.05, 0))])


def _int16_dw(bias_dtype: str) -> Callable[[], bytes]:
    def build() -> bytes:
        n = Net()
        x = n.input("INT16", (1, 4, 4, 4), 0.001, 0)
        return n.build([n.conv(x, opcode="DEPTHWISE_CONV_2D", bias_dtype=bias_dtype, out=(0.002, 0))])

    return build


CASES: dict[str, Case] = {
    "QC101": Case(float_conv, float_conv, expect="int8", good_expect="float32"),
    "QC102": Case(lambda: _with_meta("PTQ_FLOAT16"), lambda: _with_meta("PTQ_FULL_INTEGER")),
    "QC201": Case(lambda: int8_net(wzp=[0, 0, 3, 0]), int8_net),
    "QC202": Case(lambda: int8_net(w=_w(c2=-128)), lambda: int8_net(w=_w(c2=-127))),
    "QC203": Case(lambda: int8_net(axis=3, ws=[0.004, 0.005, 0.006]), lambda: int8_net(ws=[0.004, 0.005, 0.006, 0.007])),
    # a dead channel whose scale is 0 (QC023, structural, also reports the scale itself)
    "QC204": Case(lambda: int8_net(w=_dead(), ws=[0.004, 0.005, 0.0, 0.007]), int8_net),
    "QC212": Case(lambda: int8_net(w=_dead()), int8_net),
    "QC205": Case(lambda: int8_net(wdtype="INT16"), int8_net),
    "QC206": Case(_int16_dw("INT32"), _int16_dw("INT64")),
    "QC207": Case(lambda: int8_net(bias_zp=[0, 0, 5, 0]), int8_net),
    "QC208": Case(lambda: int8_net(ws=_ws(), bias_scale=_bias_scale(1.01)), lambda: int8_net(ws=_ws(), bias_scale=_bias_scale(1.0000001))),
    "QC209": Case(lambda: int8_net(ws=_ws(), bias_scale=_bias_scale(1.3), bias=np.zeros(4)), lambda: int8_net(ws=_ws(), bias=np.zeros(4))),
    "QC210": Case(lambda: int8_net(ws=_ws(), bias=np.ones(3), bias_scale=_bias_scale(1)[:3]), lambda: int8_net(ws=_ws(), bias=np.ones(4))),
    "QC211": Case(lambda: int8_net(bias=np.array([2**31 - 1, 0, 0, 0])), lambda: int8_net(bias=np.array([2**31 - 2, 0, 0, 0]))),
    "QC301": Case(lambda: _per_axis_activation(), lambda: chain("INT8", [("RESHAPE", 0.05, 0)])),
    "QC302": Case(lambda: requantize("FLOAT32", None, ("INT16", 0.001, 3), in_q=(None, 0)),  # type: ignore[arg-type]
                  lambda: requantize("FLOAT32", None, ("INT16", 0.001, 0), in_q=(None, 0))),  # type: ignore[arg-type]
    "QC303": Case(lambda: requantize("UINT8", None, ("INT8", 0.1, -20)), lambda: requantize("UINT8", None, ("INT8", 0.1, -28))),
    "QC304": Case(uint8_inside, lambda: uint8_inside("INT8")),
    "QC305": Case(lambda: chain("INT8", [("RESHAPE", 1e-39, 0)], in_q=(1e-39, 0)), lambda: chain("INT8", [("RESHAPE", 1e-30, 0)], in_q=(1e-30, 0))),
    "QC401": Case(lambda: chain("INT8", [("SOFTMAX", 1 / 255, -128)]), lambda: chain("INT8", [("SOFTMAX", 1 / 256, -128)])),
    "QC402": Case(lambda: chain("INT8", [("RESHAPE", 0.06, 0)]), lambda: chain("INT8", [("RESHAPE", 0.05, 0)])),
    "QC403": Case(lambda: chain("INT16", [("HARD_SWISH", 0.001, 0)], in_q=(0.001, 0)), lambda: chain("INT16", [("RELU", 0.001, 0)], in_q=(0.001, 0))),
    "QC404": Case(_int16_add("INT8"), _int16_add("INT16")),
    "QC405": Case(lambda: conv1(out=(1e6, 0), act="NONE"), lambda: conv1(out=(1.0, 0), act="NONE")),
    "QC406": Case(lambda: conv1(out=(1e-9, -128), act="RELU6"), lambda: conv1(out=(1e-9, -128), act="NONE")),
    "QC407": Case(lambda: fc_net(70000), lambda: fc_net(60000)),
    "QC409": Case(lambda: svdf(state_len=9), svdf),
    "QC410": Case(lambda: conv("CONV_2D", "absent"), lambda: conv("CONV_2D", "given")),
    "QC408": Case(lambda: _fc_without_weights(-1), lambda: _fc_without_weights(None)),
    "QC501": Case(float_island, lambda: float_island(None)),
    "QC507": Case(custom_decoder, lambda: custom_decoder(float_out=False)),
    "QC502": Case(lambda: float_conv("FLOAT16"), lambda: float_conv("FLOAT16", dequantize=True)),
    "QC503": Case(lambda: float_conv("FLOAT16", dequantize=True, value=65504.0), lambda: float_conv("FLOAT16", dequantize=True, value=60000.0)),
    # asymmetric_quantize_inputs exists only on hybrid ops, so QC505 (hybrid-op, info) fires with QC504.
    "QC504": Case(lambda: fc_net(hybrid=True, asymmetric=True), lambda: fc_net(hybrid=False, asymmetric=True), also=frozenset({"QC505"})),
    "QC505": Case(lambda: fc_net(hybrid=True), fc_net),
    "QC506": Case(lambda: int8_net(version=1), int8_net),
}


def _with_meta(mode: str) -> bytes:
    return conv1(metadata={"CONVERSION_METADATA": conversion_metadata(mode)})


def _per_axis_activation() -> bytes:
    n = Net()
    x = n.input("INT8", (1, 8), 0.05, 0)
    shp = n.t("shape", "INT32", (2,), data=[1, 8])
    y = n.t("y", "INT8", (1, 8), [0.05] * 8, [0] * 8, axis=1)
    n.op("RESHAPE", [x, shp], [y])
    return n.build([y])


def _fc_without_weights(weights: int | None) -> bytes:
    """An int8 FULLY_CONNECTED whose weights input is `weights` (-1: absent) or a real constant."""
    n = Net()
    x = n.input("INT8", (1, 4), 0.05, 0)
    w = n.t("w", "INT8", (2, 4), 0.01, 0, data=np.ones((2, 4), np.int8)) if weights is None else weights
    y = n.t("y", "INT8", (1, 2), 0.1, 0)
    n.op("FULLY_CONNECTED", [x, w], [y])
    return n.build([y])


def spec_codes(data: bytes, registry: object, expect: str | None = None) -> dict[str, list[qcheck.Finding]]:
    report = qcheck.verify(data, registry=registry, select=SPEC_FAMILIES, expect=expect)
    out: dict[str, list[qcheck.Finding]] = {}
    for f in report.findings:
        out.setdefault(f.code, []).append(f)
    return out


def test_every_spec_rule_has_a_case(registry) -> None:  # type: ignore[no-untyped-def]
    mine = {c for c, r in registry.rules.items() if registry.owner[f"rule:{c}"] == "qcheck_spec"}
    assert mine == set(CASES)
    assert len(registry.rules) >= 25


@pytest.mark.parametrize("code", sorted(CASES))
def test_bad_model_triggers_exactly_this_rule(code: str, registry) -> None:  # type: ignore[no-untyped-def]
    case = CASES[code]
    found = spec_codes(case.bad(), registry, case.expect)
    assert set(found) == {code} | case.also, {c: [f.message for f in fs] for c, fs in found.items()}
    rule = registry.rules[code]
    assert all(f.severity == rule.severity for f in found[code])
    assert all(f.message and f.location is not None for f in found[code])


@pytest.mark.parametrize("code", sorted(CASES))
def test_good_model_triggers_no_spec_rule(code: str, registry) -> None:  # type: ignore[no-untyped-def]
    case = CASES[code]
    found = spec_codes(case.good(), registry, case.good_expect)
    assert not found, {c: [f.message for f in fs] for c, fs in found.items()}


def test_good_models_are_structurally_clean_too(registry) -> None:  # type: ignore[no-untyped-def]
    for code, case in CASES.items():
        report = qcheck.verify(case.good(), registry=registry, select=("QC0",))
        assert not [f for f in report.findings if f.severity >= Severity.WARNING], (code, [f.message for f in report.findings])


def test_messages_name_the_values(registry) -> None:  # type: ignore[no-untyped-def]
    msg = spec_codes(CASES["QC208"].bad(), registry)["QC208"][0].message
    assert "bias scale[2]" in msg and "relative error 0.01" in msg
    msg = spec_codes(CASES["QC202"].bad(), registry)["QC202"][0].message
    assert "-128" in msg and "channel(s) 2 of 4" in msg
    msg = spec_codes(CASES["QC401"].bad(), registry)["QC401"][0].message
    assert "0.0039215689" in msg and "0.00390625" in msg and "rejects the model at load time" in msg
    msg = spec_codes(CASES["QC402"].bad(), registry)["QC402"][0].message
    assert "silently" in msg
