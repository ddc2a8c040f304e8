"""QC409 and QC410 say what LiteRT and TFLite Micro do with the operands they flag: checked by running both."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from core_helpers import runtime_statuses
from specmodels import svdf

import qcheck
from qcheck.tflite.builder import ModelBuilder


def conv(opcode: str, bias: str) -> bytes:
    """A float CONV_2D or DEPTHWISE_CONV_2D with a bias ("given"), none ("absent") or one marked absent ("-1")."""
    b = ModelBuilder()
    dw = opcode == "DEPTHWISE_CONV_2D"
    x = b.tensor("x", "FLOAT32", [1, 6, 6, 3])
    w = b.tensor("w", "FLOAT32", [1 if dw else 5, 3, 3, 3], data=np.ones((1 if dw else 5, 3, 3, 3), np.float32))
    y = b.tensor("y", "FLOAT32", [1, 6, 6, 3 if dw else 5])
    ins = [x, w] + ([b.tensor("b", "FLOAT32", [3 if dw else 5], data=np.zeros(3 if dw else 5, np.float32))] if bias == "given" else
                    [-1] if bias == "-1" else [])
    opts = {"padding": 0, "stride_w": 1, "stride_h": 1, "fused_activation_function": "NONE", **({"depth_multiplier": 1} if dw else {})}
    b.op(opcode, ins, [y], options=opts)
    b.io([x], [y])
    return b.build()


# name -> (model, rule or None, LiteRT status, TFLite Micro status): the statuses the messages state
CASES: dict[str, tuple[Callable[[], bytes], str | None, str, str]] = {
    "CONV_2D with bias": (lambda: conv("CONV_2D", "given"), None, "ok", "ok"),
    "CONV_2D without bias": (lambda: conv("CONV_2D", "absent"), "QC410", "error", "ok"),
    "CONV_2D bias -1": (lambda: conv("CONV_2D", "-1"), "QC410", "error", "ok"),
    "DEPTHWISE_CONV_2D with bias": (lambda: conv("DEPTHWISE_CONV_2D", "given"), None, "ok", "ok"),
    "DEPTHWISE_CONV_2D without bias": (lambda: conv("DEPTHWISE_CONV_2D", "absent"), "QC410", "crash", "ok"),
    "DEPTHWISE_CONV_2D bias -1": (lambda: conv("DEPTHWISE_CONV_2D", "-1"), "QC410", "error", "crash"),
    "int8 SVDF": (svdf, None, "ok", "ok"),
    "SVDF state too short": (lambda: svdf(state_len=9), "QC409", "error", "error"),
    "int8 SVDF with INT8 state": (lambda: svdf(state_dtype="INT8", time_dtype="INT8"), "QC409", "ok", "ok"),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    return runtime_statuses({name: case[0]() for name, case in CASES.items()}, tmp_path_factory.mktemp("runs"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_rule_and_runtimes_agree(name: str, runs: dict[str, dict[str, str]], registry: object) -> None:
    make, code, litert, micro = CASES[name]
    errors = {f.code for f in qcheck.verify(make(), registry=registry).findings if f.severity == qcheck.Severity.ERROR}  # type: ignore[arg-type]
    assert errors == ({code} if code else set())
    assert (runs[name]["litert-builtin"], runs[name]["tflm"]) == (litert, micro)
