"""Valid quantized models broken one defect class at a time, and LiteRT's verdict on each (qcheck.runtime)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
from specmodels import Net, chain, conv1, fc_net, float_conv
from testpaths import SPEC_MODELS

import qcheck
from qcheck import Model, Tensor
from qcheck.runtime import run_interpreters

MODELS = SPEC_MODELS


class Mutation(NamedTuple):
    name: str
    data: Callable[[], bytes]
    code: str  # the qcheck rule that must report it (as an ERROR unless `warning`)
    silent: bool = False  # LiteRT is known to accept it (the defects only a validator catches)
    warning: bool = False  # a risk on some kernels, not wrong on the runtimes here: a WARNING


def tensor_of(m: Model, opcode: str, side: str = "out", k: int = 0, nth: int = 0) -> Tensor:
    ops = [(sg, op) for sg, op in m.iter_operators() if op.opcode == opcode]
    sg, op = ops[nth]
    return sg.tensors[(op.outputs if side == "out" else op.inputs)[k]]


def patched(model: str, edit: Callable[[Model], None]) -> Callable[[], bytes]:
    """Edit a converter-made model in place: scales, zero points and data are views of the bytes."""

    def build() -> bytes:
        buf = bytearray((MODELS / model).read_bytes())
        before = bytes(buf)
        edit(qcheck.load(buf))
        assert bytes(buf) != before, f"{model}: the edit changed nothing (are arrays still views of the file?)"
        return bytes(buf)

    return build


def scale(opcode: str, factor: float, side: str = "out", k: int = 0, channel: int = 0) -> Callable[[Model], None]:
    def edit(m: Model) -> None:
        tensor_of(m, opcode, side, k).quantization.scale[channel] *= factor  # type: ignore[union-attr]

    return edit


def zp(opcode: str, value: int, side: str = "out", k: int = 0) -> Callable[[Model], None]:
    def edit(m: Model) -> None:
        tensor_of(m, opcode, side, k).quantization.zero_point[0] = value  # type: ignore[union-attr]

    return edit


def _set_value(m: Model) -> None:
    w = tensor_of(m, "CONV_2D", "in", 1)
    m.array(w)[0] = -128  # type: ignore[index]


def _relu6_tiny(m: Model) -> None:
    tensor_of(m, "CONV_2D").quantization.scale[0] = 1e-10  # type: ignore[union-attr]


def _dw_int16(bias: str) -> bytes:
    n = Net()
    x = n.input("INT16", (1, 4, 4, 4), 0.001, 0)
    return n.build([n.conv(x, opcode="DEPTHWISE_CONV_2D", bias_dtype=bias, out=(0.002, 0))])


def _conv_int16_int32_bias() -> bytes:
    n = Net()
    x = n.input("INT16", (1, 4, 4, 3), 0.001, 0)
    return n.build([n.conv(x, bias_dtype="INT32", out=(0.002, 0), act="NONE")])


def _fc_axis1() -> bytes:
    n = Net()
    x = n.input("INT8", (1, 4))
    w = n.t("w", "INT8", (2, 4), [0.01] * 4, [0] * 4, np.ones((2, 4)), axis=1)
    b = n.t("b", "INT32", (2,), [0.0002, 0.0002], [0, 0], [1, 1])
    y = n.t("y", "INT8", (1, 2), 0.05, 0)
    n.op("FULLY_CONNECTED", [x, w, b], [y], fused_activation_function="NONE")
    return n.build([y])


MUTATIONS: tuple[Mutation, ...] = (
    # converter-made models, one parameter changed in place
    Mutation("int8 SOFTMAX output scale 1/255", patched("vision_int8.tflite", scale("SOFTMAX", 256 / 255)), "QC401"),
    Mutation("int8 TANH output scale x2", patched("vision_int8.tflite", scale("TANH", 2.0)), "QC401", silent=True),
    Mutation("int8 LOGISTIC output zero point -127", patched("vision_int8.tflite", zp("LOGISTIC", -127)), "QC401", silent=True),
    Mutation("int8 RESHAPE output scale x1.5", patched("vision_int8.tflite", scale("RESHAPE", 1.5)), "QC402", silent=True),
    Mutation("int8 CONCATENATION input scale x1.5", patched("vision_int8.tflite", scale("CONCATENATION", 1.5, "in", 1, 0)), "QC402"),
    Mutation("int8 MAX_POOL_2D output scale x1.5", patched("vision_int8.tflite", scale("MAX_POOL_2D", 1.5)), "QC402"),
    Mutation("int8 per-channel bias scale x1.5", patched("vision_int8.tflite", scale("CONV_2D", 1.5, "in", 2, 1)), "QC208", silent=True),
    Mutation("int8 depthwise bias scale x0.5", patched("vision_int8.tflite", scale("DEPTHWISE_CONV_2D", 0.5, "in", 2, 3)), "QC208", silent=True),
    Mutation("int8 weight zero point 1", patched("vision_int8.tflite", zp("CONV_2D", 1, "in", 1)), "QC201"),
    Mutation("int8 FULLY_CONNECTED weight zero point 1", patched("vision_int8.tflite", zp("FULLY_CONNECTED", 1, "in", 1)), "QC201"),
    # -128 overflows only ARM NEON kernels without dot-product instructions (ruy): LiteRT on x86 computes it exactly.
    Mutation("int8 weight value -128", patched("vision_int8.tflite", _set_value), "QC202", silent=True, warning=True),
    Mutation("int8 bias zero point 3", patched("vision_int8.tflite", zp("CONV_2D", 3, "in", 2)), "QC207"),
    Mutation("RELU6 output scale 1e-10", patched("vision_int8.tflite", _relu6_tiny), "QC406"),
    Mutation("uint8 input zero point +1", patched("vision_int8only_u8.tflite", zp("QUANTIZE", 125, "in")), "QC303", silent=True),
    Mutation("int8 LOG_SOFTMAX output scale x1.5", patched("fallback_int8only.tflite", scale("LOG_SOFTMAX", 1.5)), "QC401"),
    Mutation("int16 activation zero point 1", patched("vision16_int16x8.tflite", zp("CONV_2D", 1, "in")), "QC302"),
    Mutation("int16 SOFTMAX output scale x1.01", patched("vision16_int16x8.tflite", scale("SOFTMAX", 1.01)), "QC401"),
    Mutation("int16 LOGISTIC output scale x1.01", patched("vision16_int16x8.tflite", scale("LOGISTIC", 1.01)), "QC401"),
    Mutation("int16 TANH output zero point 1", patched("vision16_int16x8.tflite", zp("TANH", 1)), "QC302"),
    # built in code: defects that change structure or dtypes
    Mutation("per-axis scale count 3 for 4 channels", lambda: conv1(ws=[0.004, 0.005, 0.006]), "QC022"),
    Mutation("FULLY_CONNECTED weights per-axis on dimension 1", _fc_axis1, "QC203"),
    Mutation("int16 DEPTHWISE_CONV_2D with INT32 bias", lambda: _dw_int16("INT32"), "QC206"),
    Mutation("int16 CONV_2D with INT32 bias, no quantized_bias_type", _conv_int16_int32_bias, "QC206", silent=True),
    Mutation("int8 CONV_2D with INT64 bias", lambda: conv1(bias_dtype="INT64"), "QC206"),
    # the builtin kernel rejects it, but the default interpreter's XNNPACK delegate accepts it
    Mutation("bias length 3 for 4 channels", lambda: conv1(ws=[0.004] * 4, bias=np.ones(3), bias_scale=[8e-5] * 3), "QC210", silent=True),
    Mutation("int16 HARD_SWISH", lambda: chain("INT16", [("HARD_SWISH", 0.001, 0)], in_q=(0.001, 0)), "QC403"),
    Mutation("int16 ADD with an int8 constant", lambda: chain("INT16", [("ADD", 0.001, 0)], in_q=(0.001, 0), const=("INT8", 0.001, 0)), "QC404"),
    # loads, then reads the 2-byte weights as float32: NaN or 1e22 outputs
    Mutation("FLOAT16 weights without DEQUANTIZE", lambda: float_conv("FLOAT16"), "QC502", silent=True),
)

# The unmutated sources: LiteRT must load every one (otherwise the harness proves nothing).
BASELINES: tuple[tuple[str, Callable[[], bytes]], ...] = (
    *((name, (lambda n=name: (MODELS / n).read_bytes())) for name in
      ("vision_int8.tflite", "vision_int8only_u8.tflite", "fallback_int8only.tflite", "vision16_int16x8.tflite")),
    ("conv1", conv1), ("int16 depthwise INT64 bias", lambda: _dw_int16("INT64")),
    ("int16 RELU", lambda: chain("INT16", [("RELU", 0.001, 0)], in_q=(0.001, 0))),
    ("int16 ADD int16 constant", lambda: chain("INT16", [("ADD", 0.001, 0)], in_q=(0.001, 0), const=("INT16", 0.001, 0))),
    ("float16 weights with DEQUANTIZE", lambda: float_conv("FLOAT16", dequantize=True)), ("fc", fc_net),
)


def probe(blobs: list[bytes], folder: Path, timeout: float = 120.0) -> list[str]:
    """LiteRT's verdict per model: "OK", "ERR <message>" or "CRASH ..."; loaded and run on zeros in a child process."""
    paths = []
    for i, data in enumerate(blobs):
        p = folder / f"m{i}.tflite"
        p.write_bytes(data)
        paths.append(p)
    verdicts = []
    for r in run_interpreters(paths, timeout):
        assert r.status != "unavailable", r.message  # ai-edge-litert is a test dependency
        verdicts.append("OK" if r.ok else f"ERR {r.message}" if r.status == "error" else f"CRASH ({r.status}: {r.message})")
    return verdicts
