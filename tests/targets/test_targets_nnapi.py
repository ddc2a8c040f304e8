"""The `nnapi` profile (LiteRT NNAPI delegate): each Validate rule of targets.md §3.2 triggered by a small model, a near
miss that is not, and the feature level moving placements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest
from qcheck_targets import nnapi
from qcheck_targets import nnapi_ops as N

import qcheck
from qcheck.targets import OpPlacement
from qcheck.tflite.builder import ModelBuilder

F, I8, U8, I16, I32 = "FLOAT32", "INT8", "UINT8", "INT16", "INT32"
NP = {I32: np.int32, F: np.float32, I8: np.int8, U8: np.uint8}


def const(b: ModelBuilder, name: str, dtype: str, values: Any, shape: Sequence[int] | None = None, **q: Any) -> int:
    a = np.asarray(values, dtype=NP[dtype])
    return b.tensor(name, dtype, list(a.shape) if shape is None else list(shape), data=a.reshape(-1), **q)


def quant(on: bool, **q: Any) -> dict[str, Any]:  # quantization keywords for ModelBuilder.tensor, or none
    return q if on else {}


def op(b: ModelBuilder, code: str, ins: Sequence[int], outs: Sequence[int], options: Mapping[str, Any] | None = None,
       options_type: str | None = None, **kw: Any) -> None:
    i = b.op(code, ins, outs, options=options, **kw)
    if options_type:
        b.subgraphs[0].operators[i].options_type = options_type


def placed(b: ModelBuilder, ins: Sequence[int], outs: Sequence[int], level: int = N.DEFAULT_LEVEL) -> OpPlacement:
    b.io(ins, outs)
    return nnapi.profile(level)(qcheck.load(b.build()), {}, []).ops[0]


def cpu_because(p: OpPlacement, rule: str) -> None:
    assert p.placement == "cpu", p
    assert [r.rule for r in p.reasons] == [f"nnapi:{rule}"], p.reasons


def accelerated(p: OpPlacement) -> None:
    assert p.placement == "accelerated", p


def unary(code: str, dtype: str = F, shape: Sequence[int] = (1, 4, 4, 2), level: int = N.DEFAULT_LEVEL, out: str | None = None,
          version: int = 1, **q: Any) -> OpPlacement:
    b = ModelBuilder()
    x, y = b.tensor("x", dtype, shape, **q), b.tensor("y", out or dtype, shape, **q)
    op(b, code, [x], [y], version=version)
    return placed(b, [x], [y], level)


def binary(code: str, dtype: str = F, act: str = "NONE", shape: Sequence[int] = (1, 4, 4, 2), version: int = 1,
           level: int = N.DEFAULT_LEVEL, **q: Any) -> OpPlacement:
    b = ModelBuilder()
    x, z, y = (b.tensor(n, dtype, shape, **q) for n in "xzy")
    op(b, code, [x, z], [y], {"fused_activation_function": act}, version=version)
    return placed(b, [x, z], [y], level)


def test_rule1_op_set() -> None:
    cpu_because(unary("CEIL"), "op-set")  # LiteRT has a kernel; NNAPI's Validate has no case
    accelerated(unary("FLOOR"))
    b = ModelBuilder()
    x, y = b.tensor("x", F, [4]), b.tensor("y", F, [4])
    op(b, "CUSTOM", [x], [y], custom_code="MyOp")
    p = placed(b, [x], [y])
    assert p.placement == "unsupported" and "nnapi:op-set" in [r.rule for r in p.reasons]  # LiteRT cannot run it either


def test_rule2_op_version() -> None:
    cpu_because(binary("ADD", version=3), "op-version")
    accelerated(binary("ADD", version=2))


def test_rule2_feature_level_changes_placement() -> None:
    cpu_because(unary("ABS", level=N.NNAPI_1_1), "feature-level")  # NNAPI 1.2 op
    accelerated(unary("ABS", level=N.NNAPI_1_2))
    cpu_because(binary("SUB", level=N.NNAPI_1_0), "feature-level")


def test_rule3_input_type() -> None:
    cpu_because(binary("DIV", I32), "input-type")
    accelerated(binary("DIV"))


def test_rule3_int16_refused() -> None:
    cpu_because(binary("ADD", I16, scale=0.1), "int16")  # 16x8: not Quant8 to the delegate
    accelerated(binary("ADD", I8, scale=0.1))
    cpu_because(fc(x_dtype=I16, w_dtype=I8, out=I16), "int16")  # FULLY_CONNECTED: its own output check
    accelerated(fc(x_dtype=I8, w_dtype=I8, out=I8))


def fc(x_dtype: str = F, w_dtype: str = F, out: str = F, keep: bool = False, level: int = N.DEFAULT_LEVEL) -> OpPlacement:
    b = ModelBuilder()
    x = b.tensor("x", x_dtype, [1, 8], **quant(x_dtype != F, scale=0.5))
    w = const(b, "w", w_dtype, np.ones((4, 8)), **quant(w_dtype != F, scale=0.5))
    y = b.tensor("y", out, [1, 1, 4] if keep else [1, 4], **quant(out != F, scale=1.0))
    op(b, "FULLY_CONNECTED", [x, w, -1], [y], {"fused_activation_function": "NONE", "keep_num_dims": keep})
    return placed(b, [x], [y], level)


def test_rule4_hybrid_below_nnapi_1_2() -> None:
    cpu_because(fc(w_dtype=I8, level=N.NNAPI_1_1), "hybrid")
    accelerated(fc(w_dtype=I8, level=N.NNAPI_1_2))
    accelerated(fc(level=N.NNAPI_1_1))


def conv(code: str = "CONV_2D", dtype: str = F, bias: bool = True, dilation: int = 1, level: int = N.DEFAULT_LEVEL,
         scales: tuple[float, Sequence[float], float] = (0.5, [0.5], 1.0)) -> OpPlacement:
    b = ModelBuilder()
    q = dtype != F
    sx, sw, so = scales
    x = b.tensor("x", dtype, [1, 4, 4, 2], **quant(q, scale=sx, zero_point=128))
    y = b.tensor("y", dtype, [1, 4, 4, 2], **quant(q, scale=so, zero_point=128))
    wshape = (1, 3, 3, 2) if code == "DEPTHWISE_CONV_2D" else (2, 3, 3, 2)
    w = const(b, "w", I8 if len(sw) > 1 and q else dtype, np.ones(wshape), **quant(
        q, scale=list(sw), zero_point=[0] * len(sw), quantized_dimension=3 if code == "DEPTHWISE_CONV_2D" else 0))
    bb = const(b, "b", I32 if q else F, np.zeros(2), **quant(q, scale=[sx * s for s in sw]))
    opts: dict[str, Any] = {"padding": 0, "stride_w": 1, "stride_h": 1, "fused_activation_function": "NONE",
                            "dilation_w_factor": dilation, "dilation_h_factor": dilation}
    if code == "DEPTHWISE_CONV_2D":
        opts["depth_multiplier"] = 1
    op(b, code, [x, w, bb] if bias else [x, w], [y], opts)
    return placed(b, [x], [y], level)


def test_rule4_per_channel_below_nnapi_1_2() -> None:
    cpu_because(conv(dtype=U8, scales=(0.5, [0.5, 0.25], 1.0), level=N.NNAPI_1_1), "per-channel")
    accelerated(conv(dtype=U8, scales=(0.5, [0.5], 1.0), level=N.NNAPI_1_1))


def test_rule4_restricted_scales_below_nnapi_1_2() -> None:
    cpu_because(conv(dtype=U8, scales=(1.0, [1.0], 0.5), level=N.NNAPI_1_1), "restricted-scale")
    accelerated(conv(dtype=U8, scales=(1.0, [1.0], 0.5), level=N.NNAPI_1_2))


def test_rule4_dilation_below_nnapi_1_2() -> None:
    cpu_because(conv("DEPTHWISE_CONV_2D", dilation=2, level=N.NNAPI_1_1), "dilation")
    accelerated(conv("DEPTHWISE_CONV_2D", dilation=2, level=N.NNAPI_1_2))


def test_rule5_conv_bias_mandatory() -> None:
    cpu_because(conv(bias=False), "conv-bias")
    accelerated(conv())


def test_rule6_keep_num_dims_needs_nnapi_1_3() -> None:
    cpu_because(fc(keep=True, level=N.NNAPI_1_2), "keep-num-dims")
    accelerated(fc(keep=True, level=N.NNAPI_1_3))


def test_rule7_int32_arithmetic() -> None:
    cpu_because(binary("ADD", I32, act="RELU"), "activation")
    accelerated(binary("ADD", I32))
    cpu_because(binary("ADD", I32, level=N.NNAPI_1_2), "input-type")  # int32 ADD only from NNAPI 1.3
    cpu_because(binary("SUB", shape=(1, 1, 2, 2, 2)), "rank")
    accelerated(binary("SUB", shape=(1, 2, 2, 2)))


def test_rule8_dequantize() -> None:
    cpu_because(unary("DEQUANTIZE", I8, out=F, level=N.NNAPI_1_2, scale=0.5, zero_point=5), "dequantize")
    accelerated(unary("DEQUANTIZE", I8, out=F, level=N.NNAPI_1_2, scale=0.5, zero_point=0))
    accelerated(unary("DEQUANTIZE", I8, out=F, level=N.NNAPI_1_3, scale=0.5, zero_point=5))
    cpu_because(unary("DEQUANTIZE", I8, out=F, level=N.NNAPI_1_1, scale=0.5), "dequantize")  # uint8 only below 1.2


def test_rule9_quantize() -> None:
    cpu_because(unary("QUANTIZE", F, out=I8, level=N.NNAPI_1_2, scale=0.5), "quantize")
    accelerated(unary("QUANTIZE", F, out=I8, level=N.NNAPI_1_3, scale=0.5))
    cpu_because(unary("QUANTIZE", F, out=I16, scale=0.5), "int16")


def test_rule10_softmax() -> None:
    cpu_because(unary("SOFTMAX", shape=(1, 4, 2), level=N.NNAPI_1_1), "softmax")
    accelerated(unary("SOFTMAX", shape=(1, 4, 2), level=N.NNAPI_1_2))
    accelerated(unary("SOFTMAX", shape=(4, 2), level=N.NNAPI_1_1))


def reshape(constant: bool) -> OpPlacement:
    b = ModelBuilder()
    x, y = b.tensor("x", F, [1, 8]), b.tensor("y", F, [2, 4])
    s = const(b, "s", I32, [2, 4]) if constant else b.tensor("s", I32, [2])
    op(b, "RESHAPE", [x, s], [y])
    return placed(b, [x] if constant else [x, s], [y])


def test_rule11_reshape_constant_shape() -> None:
    cpu_because(reshape(constant=False), "constant-operand")
    accelerated(reshape(constant=True))


def resize(level: int, align: bool = False) -> OpPlacement:
    b = ModelBuilder()
    x, y, s = b.tensor("x", F, [1, 4, 4, 2]), b.tensor("y", F, [1, 8, 8, 2]), const(b, "s", I32, [8, 8])
    op(b, "RESIZE_BILINEAR", [x, s], [y], {"align_corners": align, "half_pixel_centers": False}, "ResizeBilinearOptions")
    return placed(b, [x], [y], level)


def test_rule12_resize_align_corners_up_to_nnapi_1_2() -> None:
    cpu_because(resize(N.NNAPI_1_2, align=True), "resize")
    accelerated(resize(N.NNAPI_1_3, align=True))
    accelerated(resize(N.NNAPI_1_2))


def mean(out_shape: Sequence[int]) -> OpPlacement:
    b = ModelBuilder()
    x, y, a = b.tensor("x", F, [4]), b.tensor("y", F, out_shape), const(b, "a", I32, [0])
    op(b, "MEAN", [x, a], [y], {"keep_dims": bool(out_shape)}, "ReducerOptions")
    return placed(b, [x], [y])


def test_rule13_mean_scalar_output() -> None:
    cpu_because(mean([]), "scalar-output")
    accelerated(mean([1]))


def concat(scales: tuple[float, float], level: int) -> OpPlacement:
    b = ModelBuilder()
    x, z = (b.tensor(n, U8, [1, 2], scale=s, zero_point=128) for n, s in zip("xz", scales, strict=True))
    y = b.tensor("y", U8, [1, 4], scale=scales[0], zero_point=128)
    op(b, "CONCATENATION", [x, z], [y], {"axis": 1, "fused_activation_function": "NONE"})
    return placed(b, [x, z], [y], level)


def test_rule13_concat_equal_quantization_below_nnapi_1_2() -> None:
    cpu_because(concat((0.5, 0.25), N.NNAPI_1_1), "concat-quant")
    accelerated(concat((0.5, 0.5), N.NNAPI_1_1))
    accelerated(concat((0.5, 0.25), N.NNAPI_1_2))


def test_rule13_quantized_tanh_from_nnapi_1_2() -> None:
    cpu_because(unary("TANH", U8, level=N.NNAPI_1_1, scale=1 / 128, zero_point=128), "input-type")
    accelerated(unary("TANH", U8, level=N.NNAPI_1_2, scale=1 / 128, zero_point=128))


def pool(window: int) -> OpPlacement:
    b = ModelBuilder()
    x, y = b.tensor("x", I8, [1, 32, 32, 1], scale=0.5), b.tensor("y", I8, [1, 1, 1, 1], scale=0.5)
    op(b, "AVERAGE_POOL_2D", [x], [y], {"padding": 1, "stride_w": 1, "stride_h": 1, "filter_width": window,
                                        "filter_height": 16, "fused_activation_function": "NONE"})
    return placed(b, [x], [y])


def test_pool_window_limit() -> None:
    cpu_because(pool(17), "pool-window")  # 17 x 16 = 272 > 256
    accelerated(pool(16))


def padv2(level: int) -> OpPlacement:
    b = ModelBuilder()
    x, y = b.tensor("x", F, [1, 2, 2, 1]), b.tensor("y", F, [1, 4, 4, 1])
    p, v = const(b, "p", I32, [[0, 0], [1, 1], [1, 1], [0, 0]]), const(b, "v", F, [0.0], shape=[])
    op(b, "PADV2", [x, p, v], [y])
    return placed(b, [x], [y], level)


def test_padding_value_from_nnapi_1_2() -> None:
    cpu_because(padv2(N.NNAPI_1_1), "pad")
    accelerated(padv2(N.NNAPI_1_2))


@pytest.mark.parametrize("level", [N.NNAPI_1_3, N.FL5, N.FL6, N.FL7])
def test_default_level_matches_every_level_from_1_3(level: int) -> None:
    assert N.DEFAULT_LEVEL == N.FL8 and nnapi.place.__qualname__ == f"nnapi.profile({N.FL8})"
    for p in (fc(keep=True, level=level), binary("ADD", I32, level=level), resize(level, align=True)):
        accelerated(p)


def test_an_int16_convolution_is_left_unknown() -> None:
    # Validate() checks no input type for CONV_2D from NNAPI 1.2: whether the driver runs it is the device's business.
    p = conv(dtype=I16, scales=(0.5, [0.5, 0.25], 1.0))
    assert p.placement == "unknown" and p.reasons[0].rule == "nnapi:int16-driver"
