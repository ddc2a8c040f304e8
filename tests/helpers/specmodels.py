"""Small models written with ModelBuilder for the spec-rule tests: spec-conformant by default,
each knob introduces one defect. Versions follow op_version.cc so that the good models are clean."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flatbuffers
import numpy as np

from qcheck.tflite.builder import ModelBuilder

NP = {"INT8": np.int8, "UINT8": np.uint8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64,
      "FLOAT32": np.float32, "FLOAT16": np.float16}
VERSIONS = {"CONV_2D": 3, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 4, "SOFTMAX": 2, "LOGISTIC": 2, "TANH": 2,
            "ADD": 2, "MUL": 2, "CONCATENATION": 2, "DEQUANTIZE": 2, "TRANSPOSE_CONV": 2}
MODES = {"PTQ_FLOAT16": 1001, "PTQ_DYNAMIC_RANGE": 1002, "PTQ_FULL_INTEGER": 1003, "PTQ_INT16": 1004}


def conversion_metadata(*modes: str) -> bytes:
    """A CONVERSION_METADATA FlatBuffer (conversion_metadata.fbs) naming optimization modes."""
    b = flatbuffers.Builder(64)
    vec = b.CreateNumpyVector(np.array([MODES[m] for m in modes], dtype="<i4"))
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, vec, 0)
    opts = b.EndObject()
    b.StartObject(2)
    b.PrependUOffsetTRelativeSlot(1, opts, 0)
    b.Finish(b.EndObject())
    return bytes(b.Output())


class Net:
    """A ModelBuilder that remembers each tensor's quantization, to write conformant params."""

    def __init__(self) -> None:
        self.b = ModelBuilder()
        self.q: dict[int, tuple[float, int]] = {}
        self.shapes: dict[int, tuple[int, ...]] = {}
        self.inputs: list[int] = []

    def t(self, name: str, dtype: str, shape: Sequence[int], scale: float | Sequence[float] | None = None,
          zp: int | Sequence[int] | None = None, data: Any = None, axis: int = 0) -> int:
        if data is not None:
            data = np.asarray(data, NP[dtype]).reshape(shape)
        i = self.b.tensor(name, dtype, tuple(shape), data=data, scale=scale, zero_point=zp, quantized_dimension=axis)
        if scale is not None:
            self.q[i] = (float(np.ravel(scale)[0]), int(np.ravel(zp if zp is not None else 0)[0]))
        self.shapes[i] = tuple(shape)
        return i

    def input(self, dtype: str, shape: Sequence[int], scale: float | None = 0.02, zp: int = -3) -> int:
        i = self.t("input", dtype, shape, scale, zp if scale is not None else None)
        self.inputs.append(i)
        return i

    def op(self, opcode: str, ins: Sequence[int], outs: Sequence[int], version: int | None = None, **options: Any) -> None:
        self.b.op(opcode, ins, outs, options=options, version=version or VERSIONS.get(opcode, 1))

    def conv(self, x: int, out_ch: int = 4, *, opcode: str = "CONV_2D", wdtype: str = "INT8", w: np.ndarray | None = None,
             ws: Sequence[float] | None = None, wzp: Sequence[int] | None = None, axis: int | None = None,
             bias: np.ndarray | None = None, bias_dtype: str = "INT32", bias_scale: Sequence[float] | None = None,
             bias_zp: Sequence[int] | None = None, out: tuple[float, int] = (0.05, -10), act: str = "RELU",
             options: dict[str, Any] | None = None, version: int | None = None) -> int:
        n, h, wd, c = self.shapes[x]
        rng = np.random.default_rng(out_ch + c)
        depthwise = opcode == "DEPTHWISE_CONV_2D"
        wshape = (1, 3, 3, c) if depthwise else (out_ch, 3, 3, c)
        out_ch = c if depthwise else out_ch
        axis = (3 if depthwise else 0) if axis is None else axis
        ws = list(ws) if ws is not None else rng.uniform(0.002, 0.01, out_ch).astype(np.float32).tolist()
        w = w if w is not None else rng.integers(-127, 128, wshape)
        wt = self.t("w", wdtype, wshape, ws, list(wzp) if wzp is not None else [0] * len(ws), w, axis)
        s_in = self.q[x][0] if x in self.q else None
        bscale = list(bias_scale) if bias_scale is not None else (np.float32(s_in) * np.asarray(ws, np.float32)).tolist() if s_in else None
        bdata = bias if bias is not None else rng.integers(-500, 500, out_ch)
        bt = self.t("b", bias_dtype, (np.asarray(bdata).size,), bscale, list(bias_zp) if bias_zp is not None else ([0] * len(bscale) if bscale else None), bdata)
        y = self.t("y", self.b.subgraphs[0].tensors[x].dtype, (n, h, wd, out_ch), out[0], out[1])
        opts = {"padding": 0, "stride_w": 1, "stride_h": 1, "fused_activation_function": act, **(options or {})}
        if depthwise:
            opts["depth_multiplier"] = 1
        self.op(opcode, [x, wt, bt], [y], version, **opts)
        return y

    def unary(self, opcode: str, x: int, scale: float, zp: int, dtype: str | None = None, version: int | None = None, **options: Any) -> int:
        y = self.t(f"{opcode.lower()}_out", dtype or self.b.subgraphs[0].tensors[x].dtype, self.shapes[x], scale, zp)
        self.op(opcode, [x], [y], version, **options)
        return y

    def build(self, outputs: Sequence[int], metadata: dict[str, bytes] | None = None) -> bytes:
        self.b.io(self.inputs, outputs)
        for k, v in (metadata or {}).items():
            self.b.metadata(k, v)
        return self.b.build()


def int8_net(**conv: Any) -> bytes:
    """input int8 -> CONV_2D (per-channel) -> DEPTHWISE_CONV_2D -> SOFTMAX: clean by default."""
    n = Net()
    x = n.input("INT8", (1, 4, 4, 3))
    y = n.conv(x, **conv)
    y = n.conv(y, opcode="DEPTHWISE_CONV_2D", out=(0.04, 2))
    return n.build([n.unary("SOFTMAX", y, 1 / 256, -128, beta=1.0)])


def conv1(metadata: dict[str, bytes] | None = None, **conv: Any) -> bytes:
    """input int8 -> CONV_2D -> output."""
    n = Net()
    x = n.input("INT8", (1, 4, 4, 3))
    return n.build([n.conv(x, **conv)], metadata)


def fc_net(in_features: int = 16, *, hybrid: bool = False, asymmetric: bool = False, out: tuple[float, int] = (0.05, 0)) -> bytes:
    """FULLY_CONNECTED with per-channel int8 weights: integer, or hybrid (float activations)."""
    n = Net()
    x = n.input("FLOAT32" if hybrid else "INT8", (1, in_features), None if hybrid else 0.02)
    rng = np.random.default_rng(3)
    ws = rng.uniform(0.002, 0.01, 2).astype(np.float32)
    w = n.t("w", "INT8", (2, in_features), ws, [0, 0], rng.integers(-127, 128, (2, in_features)))
    if hybrid:
        b = n.t("b", "FLOAT32", (2,), data=[0.5, -0.5])
        y = n.t("y", "FLOAT32", (1, 2))
    else:
        b = n.t("b", "INT32", (2,), (np.float32(0.02) * ws).tolist(), [0, 0], [100, -100])
        y = n.t("y", "INT8", (1, 2), out[0], out[1])
    n.op("FULLY_CONNECTED", [x, w, b], [y], 12 if hybrid else 4, fused_activation_function="NONE", asymmetric_quantize_inputs=asymmetric)
    return n.build([y])


def float_conv(weights: str = "FLOAT32", dequantize: bool = False, value: float = 0.5) -> bytes:
    """A float CONV_2D whose weights are FLOAT32, or FLOAT16 (with or without a DEQUANTIZE)."""
    n = Net()
    x = n.input("FLOAT32", (1, 4, 4, 2), None)
    w = n.t("w", weights, (2, 3, 3, 2), data=np.full((2, 3, 3, 2), value))
    if dequantize:
        wf = n.t("w_dequantize", "FLOAT32", (2, 3, 3, 2))
        n.op("DEQUANTIZE", [w], [wf], 3)
        w = wf
    b = n.t("b", "FLOAT32", (2,), data=[0.1, 0.2])
    y = n.t("y", "FLOAT32", (1, 4, 4, 2))
    n.op("CONV_2D", [x, w, b], [y], 1, padding=0, stride_w=1, stride_h=1, fused_activation_function="NONE")
    return n.build([y])


def chain(dtype: str, ops: Sequence[tuple[str, float, int]], shape: tuple[int, ...] = (1, 8), in_q: tuple[float, int] = (0.05, 0),
          const: tuple[str, float, int] | None = None) -> bytes:
    """input -> op -> op ... with the given (opcode, output scale, output zp); `const` adds a constant operand to the first op."""
    n = Net()
    x = n.input(dtype, shape, *in_q)
    for k, (opcode, s, z) in enumerate(ops):
        if opcode == "RESHAPE":
            shp = n.t("shape", "INT32", (2,), data=list(shape))
            y = n.t("reshaped", dtype, shape, s, z)
            n.op("RESHAPE", [x, shp], [y])
        elif k == 0 and const is not None:
            cdtype, cs, cz = const
            c = n.t("const", cdtype, shape[-1:], cs, cz, np.ones(shape[-1:]))
            y = n.t(f"{opcode.lower()}_out", dtype, shape, s, z)
            n.op(opcode, [x, c], [y], fused_activation_function="NONE")
        else:
            y = n.unary(opcode, x, s, z, beta=1.0) if opcode == "SOFTMAX" else n.unary(opcode, x, s, z)
        x = y
    return n.build([x])


def requantize(in_dtype: str, mid: tuple[str, float, int] | None, out: tuple[str, float, int], in_q: tuple[float, int] = (0.1, 100)) -> bytes:
    """input -> QUANTIZE [-> QUANTIZE] : uint8/int8 interface conversions."""
    n = Net()
    x = n.input(in_dtype, (1, 8), *in_q)
    for dtype, s, z in ([mid] if mid else []) + [out]:
        x = n.unary("QUANTIZE", x, s, z, dtype=dtype)
    return n.build([x])


def reshape(n: Net, x: int, dtype: str, q: tuple[float, int]) -> int:
    shp = n.t("shape", "INT32", (2,), data=list(n.shapes[x]))
    y = n.t("reshaped", dtype, n.shapes[x], *q)
    n.op("RESHAPE", [x, shp], [y])
    return y


def float_island(middle: str | None = "FLOOR") -> bytes:
    """int8 -> RESHAPE -> DEQUANTIZE -> FLOOR (float) -> QUANTIZE -> RESHAPE -> int8 (or int8 all along)."""
    n = Net()
    x = reshape(n, n.input("INT8", (1, 8), 0.05, 0), "INT8", (0.05, 0))
    if middle is not None:
        f = n.t("f", "FLOAT32", (1, 8))
        n.op("DEQUANTIZE", [x], [f])
        g = n.t("g", "FLOAT32", (1, 8))
        n.op(middle, [f], [g])
        x = n.unary("QUANTIZE", g, 0.05, 0, dtype="INT8")
    return n.build([reshape(n, x, "INT8", (0.05, 0))])


def uint8_inside(middle: str = "UINT8") -> bytes:
    """int8 -> QUANTIZE -> `middle` RESHAPE -> QUANTIZE -> int8 RESHAPE: uint8 inside an int8 model."""
    n = Net()
    zp = 128 if middle == "UINT8" else 0
    x = n.unary("QUANTIZE", n.input("INT8", (1, 8), 0.1, 0), 0.1, zp, dtype=middle)
    x = reshape(n, x, middle, (0.1, zp))
    x = n.unary("QUANTIZE", x, 0.1, 0, dtype="INT8")
    return n.build([reshape(n, x, "INT8", (0.1, 0))])


def deep_int8(layers: int, seed: int = 0) -> bytes:
    """A chain of spec-conformant int8 3x3 convolutions: 3 tensors per layer (weights, bias, output)."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    s_in = 0.02
    x = first = b.tensor("input", "INT8", (1, 8, 8, 4), scale=s_in, zero_point=-3)
    for i in range(layers):
        ws = rng.uniform(0.001, 0.01, 4).astype(np.float32)
        w = b.tensor(f"l{i}/w", "INT8", (4, 3, 3, 4), data=rng.integers(-127, 128, (4, 3, 3, 4), dtype=np.int8), scale=ws, zero_point=[0] * 4)
        bias = b.tensor(f"l{i}/b", "INT32", (4,), data=rng.integers(-1000, 1000, 4, dtype=np.int32),
                        scale=(np.float32(s_in) * ws).astype(np.float32), zero_point=[0] * 4)
        s_out = float(rng.uniform(0.01, 0.05))
        y = b.tensor(f"l{i}/y", "INT8", (1, 8, 8, 4), scale=s_out, zero_point=-128)
        b.op("CONV_2D", [x, w, bias], [y], options={"padding": 0, "stride_w": 1, "stride_h": 1, "fused_activation_function": "RELU"}, version=3)
        x, s_in = y, s_out
    b.io([first], [x])
    return b.build()


def custom_decoder(float_out: bool = True) -> bytes:
    """int8 graph whose uint8 output feeds a custom decoder (like PosenetDecoderOp); float or uint8 out."""
    n = Net()
    x = n.unary("RELU", n.input("INT8", (1, 8), 0.05, -128), 0.05, -128)
    u = n.unary("QUANTIZE", x, 0.05, 0, dtype="UINT8")
    y = n.t("decoded", "FLOAT32", (1, 8)) if float_out else n.t("decoded", "UINT8", (1, 8), 0.05, 0)
    n.b.op("CUSTOM", [u], [y], custom_code="PosenetDecoderOp")
    return n.build([y])


def svdf(state_dtype: str = "INT16", time_dtype: str = "INT16", state_len: int = 42) -> bytes:
    """int8 SVDF (rank 1, 6 filters, memory 7) as both runtimes accept it; arguments break one operand."""
    b = ModelBuilder()
    rng = np.random.default_rng(0)
    x = b.tensor("input", "INT8", [1, 4], scale=0.05, zero_point=0)
    wf = b.tensor("weights_feature", "INT8", [6, 4], data=rng.integers(-127, 128, (6, 4)).astype(np.int8), scale=0.01, zero_point=0)
    wt = b.tensor("weights_time", time_dtype, [6, 7], data=rng.integers(-100, 100, (6, 7)).astype(NP[time_dtype]), scale=0.001, zero_point=0)
    # TFLite Micro checks bias scale == state scale x weights_time scale
    bias = b.tensor("bias", "INT32", [6], data=np.zeros(6, np.int32), scale=0.002 * 0.001, zero_point=0)
    state = b.tensor("state", state_dtype, [1, state_len], scale=0.002, zero_point=0, is_variable=True)
    y = b.tensor("output", "INT8", [1, 6], scale=0.05, zero_point=0)
    b.op("SVDF", [x, wf, wt, bias, state], [y], options={"rank": 1, "fused_activation_function": "RELU"})
    b.io([x], [y])
    return b.build()
