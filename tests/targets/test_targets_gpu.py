"""The `gpu` profile (LiteRT GPU delegate): each rule of targets.md §2.1 triggered by a small model, and a near miss that is not."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest
from qcheck_targets import gpu

import qcheck
from qcheck.targets import OpPlacement
from qcheck.tflite.builder import ModelBuilder

F = "FLOAT32"


def const(b: ModelBuilder, name: str, dtype: str, values: Sequence[Any] | np.ndarray, shape: Sequence[int] | None = None) -> int:
    a = np.asarray(values, dtype={"INT32": np.int32, "INT64": np.int64, F: np.float32}[dtype])
    return b.tensor(name, dtype, list(a.shape) if shape is None else list(shape), data=a.reshape(-1))


def op(b: ModelBuilder, code: str, ins: Sequence[int], outs: Sequence[int], options: Mapping[str, Any] | None = None,
       options_type: str | None = None, **kw: Any) -> int:
    i = b.op(code, ins, outs, options=options, **kw)
    if options_type:  # (the builder knows the options tables of a few ops only)
        b.subgraphs[0].operators[i].options_type = options_type
    return i


def placed(b: ModelBuilder, ins: Sequence[int], outs: Sequence[int]) -> tuple[OpPlacement, ...]:
    b.io(ins, outs)
    return gpu.place(qcheck.load(b.build()), {}, []).ops


def cpu_because(p: OpPlacement, rule: str) -> None:
    assert p.placement == "cpu", p
    assert [r.rule for r in p.reasons] == [f"gpu:{rule}"], p.reasons


def accelerated(p: OpPlacement) -> None:
    assert p.placement == "accelerated", p


def unary(code: str, shape: Sequence[int] = (1, 4, 4, 2), dtype: str = F, **scale: Any) -> tuple[OpPlacement, ...]:
    b = ModelBuilder()
    x, y = b.tensor("x", dtype, shape, **scale), b.tensor("y", dtype, shape, **scale)
    op(b, code, [x], [y])
    return placed(b, [x], [y])


def test_rule1_op_set() -> None:
    cpu_because(unary("CEIL")[0], "op-set")  # in G's switch, but MB NewOperationParser has no parser
    accelerated(unary("FLOOR")[0])


def custom(name: str, runtime_inputs: int) -> tuple[OpPlacement, ...]:
    b = ModelBuilder()
    xs = [b.tensor(f"x{i}", F, [1, 4, 4, 2]) for i in range(runtime_inputs)]
    y = b.tensor("y", F, [1, 8, 8, 2])
    op(b, "CUSTOM", xs, [y], custom_code=name)
    return placed(b, xs, [y])


def test_rule2_custom_ops() -> None:
    p = custom("MyOp", 2)[0]
    assert p.placement == "unsupported" and "gpu:custom-op" in [r.rule for r in p.reasons]  # LiteRT cannot run it either
    accelerated(custom("MaxUnpooling2D", 2)[0])  # the delegate claims it, though LiteRT has no kernel
    assert "gpu:custom-op" in [r.rule for r in custom("MaxUnpooling2D", 1)[0].reasons]


def test_rule3_tensor_types() -> None:
    cpu_because(unary("RELU", dtype="INT16", scale=0.1, zero_point=0)[0], "tensor-type")
    accelerated(unary("RELU", dtype="INT8", scale=0.1, zero_point=0)[0])


def test_rule4_rank() -> None:
    cpu_because(unary("RELU", shape=(1, 2, 2, 2, 2))[0], "rank")
    accelerated(unary("RELU", shape=(2, 2, 2, 2))[0])

def conv(code: str = "CONV_2D", act: str = "NONE", stride: int = 1, dm: int = 1, cin: int = 2) -> OpPlacement:
    b = ModelBuilder()
    cout = cin * dm if code == "DEPTHWISE_CONV_2D" else 3
    x, y = b.tensor("x", F, [1, 4, 4, cin]), b.tensor("y", F, [1, 4, 4, cout])
    wshape = [1, 3, 3, cout] if code == "DEPTHWISE_CONV_2D" else [cout, 3, 3, cin]
    w, bias = const(b, "w", F, np.ones(wshape)), const(b, "b", F, np.zeros(cout))
    opts: dict[str, Any] = {"padding": 0, "stride_w": stride, "stride_h": stride, "fused_activation_function": act}
    if code == "DEPTHWISE_CONV_2D":
        opts["depth_multiplier"] = dm
    op(b, code, [x, w, bias], [y], opts)
    return placed(b, [x], [y])[0]



def test_rule5_fused_activation() -> None:
    cpu_because(conv(act="SIGN_BIT"), "activation")
    accelerated(conv(act="TANH"))  # TANH and SIGMOID are fine on the GPU


def test_rule6_convolution_params() -> None:
    cpu_because(conv(stride=0), "conv")
    accelerated(conv(stride=2))
    cpu_because(conv("DEPTHWISE_CONV_2D", dm=2, cin=2), "conv")  # depth_multiplier != 1 needs 1 input channel
    accelerated(conv("DEPTHWISE_CONV_2D", dm=2, cin=1))


def fc(constant_input: bool, keep: bool = False) -> OpPlacement:
    b = ModelBuilder()
    x = const(b, "x", F, np.ones((1, 8))) if constant_input else b.tensor("x", F, [1, 8])
    w, y = const(b, "w", F, np.ones((4, 8))), b.tensor("y", F, [1, 1, 4] if keep else [1, 4])
    op(b, "FULLY_CONNECTED", [x, w, -1], [y], {"fused_activation_function": "NONE", "keep_num_dims": keep})
    return placed(b, [] if constant_input else [x], [y])[0]


def test_rule7_fully_connected() -> None:
    cpu_because(fc(constant_input=True), "fully-connected")
    cpu_because(fc(constant_input=False, keep=True), "fully-connected")  # keep_num_dims, ranks 2 and 3
    accelerated(fc(constant_input=False))


def binary(code: str, a: Sequence[int], c: Sequence[int], const_b: bool = False, const_a: bool = False,
           options: Mapping[str, Any] | None = None) -> OpPlacement:
    b = ModelBuilder()
    x = const(b, "a", F, np.ones(a)) if const_a else b.tensor("a", F, a)
    z = const(b, "c", F, np.ones(c)) if const_b else b.tensor("c", F, c)
    y = b.tensor("y", F, np.broadcast_shapes(tuple(a), tuple(c)) if len(a) == len(c) else max(a, c, key=len))
    op(b, code, [x, z], [y], options or {"fused_activation_function": "NONE"})
    return placed(b, [t for t, k in ((x, const_a), (z, const_b)) if not k], [y])[0]


def test_rule8_add_mul_broadcast() -> None:
    cpu_because(binary("ADD", [1, 2, 3, 4], [5, 4]), "add-mul")  # 2-D [b, c] needs the 4-D batch b
    accelerated(binary("ADD", [1, 2, 3, 4], [2, 3, 4]))  # 3-D to 4-D with batch 1
    cpu_because(binary("MUL", [2, 2, 3, 4], [3, 4]), "add-mul")
    accelerated(binary("MUL", [2, 2, 3, 4], [2, 4]))


def test_rule9_two_operand_ops() -> None:
    cpu_because(binary("SUB", [1, 4], [1, 4], const_a=True, const_b=True), "operands")  # no runtime input
    accelerated(binary("SUB", [1, 4], [1, 4], const_b=True))
    accelerated(binary("MAXIMUM", [1, 4], [1, 4], options={}))


def reduce(axes_dtype: str) -> OpPlacement:
    b = ModelBuilder()
    x, y = b.tensor("x", F, [1, 4, 4, 2]), b.tensor("y", F, [1, 1, 1, 2])
    op(b, "MEAN", [x, const(b, "axes", axes_dtype, [1, 2])], [y])
    return placed(b, [x], [y])[0]


def test_rule10_reduce_axes() -> None:
    cpu_because(reduce("INT64"), "reduce")
    accelerated(reduce("INT32"))


def single(code: str, shapes: tuple[Sequence[int], Sequence[int]], options: Mapping[str, Any], options_type: str,
           dtype: str = F, params: Sequence[int] = ()) -> OpPlacement:
    """One op of a runtime input (and `params`: a constant INT32 second input), its options table set."""
    b = ModelBuilder()
    x, y = b.tensor("x", dtype, shapes[0], scale=None if dtype == F else 0.1), b.tensor("y", F, shapes[1])
    op(b, code, [x, *([const(b, "p", "INT32", params)] if params else [])], [y], options, options_type)
    return placed(b, [x], [y])[0]


def test_rule11_softmax_beta() -> None:
    cpu_because(single("SOFTMAX", ([1, 8], [1, 8]), {"beta": 0.5}, "SoftmaxOptions"), "softmax")
    accelerated(single("SOFTMAX", ([1, 8], [1, 8]), {"beta": 1.0}, "SoftmaxOptions"))


def slice_(shape: Sequence[int], strided: Mapping[str, int] | None = None) -> OpPlacement:
    b = ModelBuilder()
    x, y = b.tensor("x", F, shape), b.tensor("y", F, [1] * len(shape))
    begin = const(b, "begin", "INT32", [0] * len(shape))
    if strided is None:
        op(b, "SLICE", [x, begin, const(b, "size", "INT32", [1] * len(shape))], [y])
    else:
        ends, strides = const(b, "end", "INT32", [1] * len(shape)), const(b, "strides", "INT32", [1] * len(shape))
        op(b, "STRIDED_SLICE", [x, begin, ends, strides], [y], dict(strided), "StridedSliceOptions")
    return placed(b, [x], [y])[0]


def test_rule12_slices() -> None:
    cpu_because(slice_([4, 4]), "slice")
    accelerated(slice_([1, 4, 4]))
    cpu_because(slice_([1, 4, 4, 2], {"shrink_axis_mask": 1}), "slice")
    accelerated(slice_([1, 4, 4, 2], {"begin_mask": 1}))


def pad(code: str, rows: int) -> OpPlacement:
    b = ModelBuilder()
    x, y = b.tensor("x", F, [1, 4, 4, 2][-rows:] if rows < 4 else [1, 4, 4, 2]), b.tensor("y", F, [1, 6, 6, 2])
    op(b, code, [x, const(b, "pads", "INT32", np.ones((rows, 2)))], [y])
    return placed(b, [x], [y])[0]


def test_rule13_pads() -> None:
    cpu_because(pad("PAD", 2), "pad")  # paddings 2x2
    accelerated(pad("PAD", 4))
    accelerated(pad("MIRROR_PAD", 3))
    # qcheck neither writes nor decodes MirrorPadOptions: the mode is set on the decoded operator.
    b = ModelBuilder()
    x, y = b.tensor("x", F, [1, 4, 4, 2]), b.tensor("y", F, [1, 6, 6, 2])
    op(b, "MIRROR_PAD", [x, const(b, "pads", "INT32", np.ones((4, 2)))], [y])
    b.io([x], [y])
    m = qcheck.load(b.build())
    for mode, want in ((1, ("cpu", ["gpu:pad"])), ("SYMMETRIC", ("cpu", ["gpu:pad"])), (0, ("accelerated", [])),
                       ("REFLECT", ("accelerated", []))):
        where, why = gpu.decide(m, m.main, m.main.operators[0]._replace(options={"mode": mode}))
        assert (where, [r.rule for r in why]) == want, mode


def test_rule14_resize_bilinear() -> None:
    def resize(align: bool, half: bool) -> OpPlacement:
        return single("RESIZE_BILINEAR", ([1, 4, 4, 2], [1, 8, 8, 2]), {"align_corners": align, "half_pixel_centers": half},
                      "ResizeBilinearOptions", params=[8, 8])

    cpu_because(resize(True, True), "resize")
    accelerated(resize(True, False))


def test_rule15_dequantize() -> None:
    cpu_because(single("DEQUANTIZE", ([1, 8], [1, 8]), {}, "", dtype="INT16"), "dequantize")
    accelerated(single("DEQUANTIZE", ([1, 8], [1, 8]), {}, "", dtype="INT8"))


@pytest.mark.parametrize("code", ["DEPTH_TO_SPACE", "SPACE_TO_DEPTH"])
def test_rule16_block_size(code: str) -> None:
    name = "DepthToSpaceOptions" if code == "DEPTH_TO_SPACE" else "SpaceToDepthOptions"
    cpu_because(single(code, ([1, 4, 4, 8], [1, 8, 8, 2]), {"block_size": 1}, name), "block-size")
    accelerated(single(code, ([1, 4, 4, 8], [1, 8, 8, 2]), {"block_size": 2}, name))


def reshaped(shape_from: str) -> tuple[OpPlacement, ...]:
    """FLOOR, then RESHAPE whose shape is a model input ("input"), a SHAPE output ("shape") or a constant ("const")."""
    b = ModelBuilder()
    x, f, y = b.tensor("x", F, [1, 8]), b.tensor("f", F, [1, 8]), b.tensor("y", F, [2, 4])
    op(b, "FLOOR", [x], [f])
    s = const(b, "s", "INT32", [2, 4]) if shape_from == "const" else b.tensor("s", "INT32", [2])
    if shape_from == "shape":
        op(b, "SHAPE", [f], [s])
    op(b, "RESHAPE", [f, s], [y])
    return placed(b, [x, s] if shape_from == "input" else [x], [y])


def test_rule17_dynamic_tensors_refuse_the_whole_delegate() -> None:
    ops = reshaped("input")
    assert all(p.placement == "cpu" and [r.rule for r in p.reasons] == ["gpu:dynamic-tensors"] for p in ops), ops
    assert "RESHAPE (subgraph 0, op 1)" in ops[0].reasons[0].message
    near = reshaped("shape")  # a SHAPE output is known at Prepare: not dynamic (the RESHAPE itself has 2 runtime inputs)
    assert not any(r.rule == "gpu:dynamic-tensors" for p in near for r in p.reasons)
    accelerated(near[0])
    assert all(p.placement == "accelerated" for p in reshaped("const"))


def test_every_op_of_every_subgraph_is_placed() -> None:
    b = ModelBuilder()
    x, y = b.tensor("x", F, [1, 4]), b.tensor("y", F, [1, 4])
    op(b, "FLOOR", [x], [y])
    b.subgraph("body")
    u, v = b.tensor("u", F, [1, 4], subgraph=1), b.tensor("v", F, [1, 4], subgraph=1)
    b.op("CEIL", [u], [v], subgraph=1)
    b.io([u], [v], subgraph=1)
    ops = placed(b, [x], [y])
    assert [(p.subgraph, p.operator, p.placement) for p in ops] == [(0, 0, "accelerated"), (1, 0, "cpu")]


def test_rule17_values_folded_at_prepare_are_not_dynamic() -> None:
    # SHAPE -> STRIDED_SLICE (constant begin/end/strides) -> RESHAPE: strided_slice.cc folds a persistent input at Prepare.
    b = ModelBuilder()
    x, y = b.tensor("x", F, [1, 8]), b.tensor("y", F, [8])
    s, n = b.tensor("s", "INT32", [2]), b.tensor("n", "INT32", [1])
    op(b, "SHAPE", [x], [s])
    op(b, "STRIDED_SLICE", [s, *(const(b, k, "INT32", [v]) for k, v in (("b", 1), ("e", 2), ("st", 1)))], [n], {},
       "StridedSliceOptions")
    op(b, "RESHAPE", [x, n], [y])
    ops = placed(b, [x], [y])
    assert not any(r.rule == "gpu:dynamic-tensors" for p in ops for r in p.reasons), ops


def test_fp16_weights_unpacked_by_dequantize_count_as_constant() -> None:
    def model(fp16: bool) -> tuple[OpPlacement, ...]:
        b = ModelBuilder()
        x, y, w = b.tensor("x", F, [1, 4, 4, 2]), b.tensor("y", F, [1, 4, 4, 3]), b.tensor("w", F, [3, 3, 3, 2])
        ins = [x]
        if fp16:
            op(b, "DEQUANTIZE", [b.tensor("w16", "FLOAT16", [3, 3, 3, 2], data=np.ones((3, 3, 3, 2), np.float16))], [w])
        else:
            ins.append(w)
        bias = b.tensor("bias", F, [3])
        ins.append(bias)  # (a runtime bias: with runtime weights, 3 runtime inputs)
        op(b, "CONV_2D", [x, w, bias], [y], {"padding": 0, "stride_w": 1, "stride_h": 1, "fused_activation_function": "NONE"})
        return placed(b, ins, [y])

    assert [p.placement for p in model(True)] == ["accelerated", "accelerated"]  # FP16GraphPartitionHelper
    cpu_because(model(False)[0], "conv")
