"""The `edgetpu` profile (Coral Edge TPU compiler): each rule of targets.md §4.1-4.2 triggered by a small model and a near
miss, the compiler's prefix cut (Target.partitioning "prefix"), and the corpus evidence: models beside their compiled build."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from qcheck_targets import edgetpu
from qcheck_targets.common import custom_name
from testpaths import CORPUS_MODELS, SHARED_MODELS

import qcheck
from qcheck.targets import OpPlacement, judge
from qcheck.tflite.builder import ModelBuilder
from qcheck.tflite.model import Model

U = "UINT8"
Q: dict[str, Any] = {"scale": 0.1, "zero_point": 128}
TARGET = qcheck.Target("edgetpu", "Coral Edge TPU compiler", edgetpu.place, delegate=True, partitioning="prefix",
                       judges="litert")


def const(b: ModelBuilder, name: str, dtype: str, values: Any, **q: Any) -> int:
    a = np.asarray(values, dtype={"INT32": np.int32, U: np.uint8, "FLOAT32": np.float32}[dtype])
    return b.tensor(name, dtype, list(a.shape), data=a.reshape(-1), **q)


def builder() -> ModelBuilder:
    return ModelBuilder()


def op(b: ModelBuilder, code: str, ins: Sequence[int], outs: Sequence[int],
       options: Mapping[str, Any] | None = None, options_type: str | None = None, **kw: Any) -> None:
    i = b.op(code, ins, outs, options=options, **kw)
    if options_type:  # (the builder knows the options tables of a few ops only)
        b.subgraphs[kw.get("subgraph", 0)].operators[i].options_type = options_type


def placed(b: ModelBuilder, ins: Sequence[int], outs: Sequence[int]) -> tuple[OpPlacement, ...]:
    b.io(ins, outs)
    return edgetpu.place(qcheck.load(b.build()), {}, []).ops


def cpu_because(p: OpPlacement, rule: str, unconfirmed: bool = False) -> None:
    assert p.placement == "cpu", p
    assert [r.rule for r in p.reasons] == [f"edgetpu:{rule}"], p.reasons
    assert ("(unconfirmed)" in p.reasons[0].message) == unconfirmed, p.reasons


def accelerated(p: OpPlacement) -> None:
    assert p.placement == "accelerated" and not p.reasons, p


def unary(code: str, shape: Sequence[int] = (1, 4, 4, 2), dtype: str = U, options: Mapping[str, Any] | None = None,
          options_type: str | None = None, **tensor: Any) -> OpPlacement:
    b = builder()
    q = Q if dtype in (U, "INT8", "INT16") else {}
    x, y = b.tensor("x", dtype, shape, **q, **tensor), b.tensor("y", dtype, shape, **q, **tensor)
    op(b, code, [x], [y], options, options_type)
    return placed(b, [x], [y])[0]


def test_op_set() -> None:
    p = unary("DEQUANTIZE")  # refused by name (edgetpu#659)
    cpu_because(p, "op-set")
    assert "#659" in p.reasons[0].message
    cpu_because(unary("FLOOR"), "op-set")  # not in the table
    accelerated(unary("RELU"))


def test_8bit_tensors() -> None:
    cpu_because(unary("RELU", dtype="FLOAT32"), "8-bit")  # "Model not quantized"
    cpu_because(unary("RELU", dtype="INT16"), "8-bit")
    accelerated(unary("RELU", dtype="INT8"))


def test_constant_sizes() -> None:
    cpu_because(unary("RELU", shape_signature=[-1, 4, 4, 2]), "dynamic-shape")
    accelerated(unary("RELU", shape_signature=[1, 4, 4, 2]))


def test_rank_three_innermost() -> None:
    cpu_because(unary("RELU", shape=(2, 4, 4, 2)), "rank")  # a batch of 2: 4 dimensions > 1
    accelerated(unary("RELU", shape=(1, 1, 4, 4, 2)))  # rank 5, but only the 3 innermost > 1


def reshape(shape_const: bool) -> OpPlacement:
    b = builder()
    x, y = b.tensor("x", U, [1, 8], **Q), b.tensor("y", U, [2, 4], **Q)
    s = const(b, "s", "INT32", [2, 4]) if shape_const else b.tensor("s", "INT32", [2])
    op(b, "RESHAPE", [x, s], [y])
    return placed(b, [x] if shape_const else [x, s], [y])[0]


def test_constant_parameters() -> None:
    cpu_because(reshape(shape_const=False), "constant-params")
    accelerated(reshape(shape_const=True))


def test_pool_without_fused_activation() -> None:
    opts = {"padding": 0, "stride_w": 1, "stride_h": 1, "filter_width": 1, "filter_height": 1}
    cpu_because(unary("MAX_POOL_2D", options={**opts, "fused_activation_function": "RELU"}), "activation")
    accelerated(unary("MAX_POOL_2D", options={**opts, "fused_activation_function": "NONE"}))


def conv(dilation: tuple[int, int]) -> OpPlacement:
    b = builder()
    x, y = b.tensor("x", U, [1, 8, 8, 2], **Q), b.tensor("y", U, [1, 8, 8, 3], **Q)
    w, bias = const(b, "w", U, np.ones((3, 3, 3, 2)), **Q), const(b, "b", "INT32", np.zeros(3))
    op(b, "CONV_2D", [x, w, bias], [y], {"padding": 0, "stride_w": 1, "stride_h": 1, "fused_activation_function": "RELU6",
                                         "dilation_h_factor": dilation[0], "dilation_w_factor": dilation[1]})
    return placed(b, [x], [y])[0]


def test_conv_same_dilation() -> None:
    cpu_because(conv((2, 1)), "dilation")
    accelerated(conv((2, 2)))


def concat(pad_value: int, inputs: int = 2) -> OpPlacement:
    b = builder()
    x, y = b.tensor("x", U, [1, 4, 4, 2], **Q), b.tensor("y", U, [1, 4, 4, 2 + 2 * (inputs - 1)], **Q)
    pads = [const(b, f"p{i}", U, np.full((1, 4, 4, 2), pad_value), **Q) for i in range(inputs - 1)]
    op(b, "CONCATENATION", [x, *pads], [y], {"axis": 3, "fused_activation_function": "NONE"})
    return placed(b, [x], [y])[0]


def test_concatenation_constant_is_a_zero_pad() -> None:
    cpu_because(concat(pad_value=5), "concatenation")  # real value (5 - 128) * 0.1, not zero
    cpu_because(concat(pad_value=128, inputs=3), "concatenation")  # zeros, but 3 inputs
    accelerated(concat(pad_value=128))  # the zero point: real zeros


def fc(batch: int) -> OpPlacement:
    b = builder()
    x, y = b.tensor("x", U, [batch, 8], **Q), b.tensor("y", U, [batch, 4], **Q)
    w, bias = const(b, "w", U, np.ones((4, 8)), **Q), const(b, "b", "INT32", np.zeros(4))
    op(b, "FULLY_CONNECTED", [x, w, bias], [y], {"fused_activation_function": "NONE"})
    return placed(b, [x], [y])[0]


def test_fully_connected_output_one_dimensional() -> None:
    cpu_because(fc(batch=2), "fully-connected")
    accelerated(fc(batch=1))


def reduce(code: str, axes: Sequence[int], channels: int = 8) -> OpPlacement:
    b = builder()
    x, y = b.tensor("x", U, [1, 4, 4, channels], **Q), b.tensor("y", U, [1, 1, 1, channels], **Q)
    op(b, code, [x, const(b, "a", "INT32", list(axes))], [y], {"keep_dims": True}, "ReducerOptions")
    return placed(b, [x], [y])[0]


def test_mean_z_reduction_multiple_of_4() -> None:
    cpu_because(reduce("MEAN", [3], channels=6), "mean")
    accelerated(reduce("MEAN", [3], channels=8))
    accelerated(reduce("MEAN", [1, 2], channels=6))


def test_not_along_batch() -> None:
    cpu_because(reduce("REDUCE_MAX", [0, 1]), "batch-axis")
    accelerated(reduce("REDUCE_MAX", [1, 2]))
    cpu_because(reduce("SUM", [-4]), "batch-axis", unconfirmed=True)  # Sum's row is UNCONFIRMED
    for axis, rule in ((0, "batch-axis"), (1, None)):  # (PACK's axis is an option qcheck does not decode yet)
        b = builder()
        x = b.tensor("x", U, [2, 4], **Q)
        ys = [b.tensor(f"y{i}", U, [1, 4] if axis == 0 else [2, 2], **Q) for i in range(2)]
        op(b, "SPLIT", [const(b, "axis", "INT32", [axis]), x], ys, {"num_splits": 2}, "SplitOptions")
        p = placed(b, [x], ys)[0]
        cpu_because(p, rule, unconfirmed=True) if rule else assert_unconfirmed_accelerated(p)
    for pads, rule in (([[1, 0], [0, 0], [0, 0], [0, 0]], "batch-axis"), ([[0, 0], [1, 1], [1, 1], [0, 0]], None)):
        b = builder()
        x, y = b.tensor("x", U, [1, 4, 4, 2], **Q), b.tensor("y", U, [1, 6, 6, 2], **Q)
        op(b, "PAD", [x, const(b, "p", "INT32", pads)], [y])
        p = placed(b, [x], [y])[0]
        cpu_because(p, rule) if rule else accelerated(p)


def prelu(alpha: Sequence[int]) -> OpPlacement:
    b = builder()
    x, y = b.tensor("x", U, [1, 4, 4, 2], **Q), b.tensor("y", U, [1, 4, 4, 2], **Q)
    op(b, "PRELU", [x, const(b, "alpha", U, np.ones(alpha), **Q)], [y])
    return placed(b, [x], [y])[0]


def test_prelu_alpha_one_dimensional() -> None:
    cpu_because(prelu((1, 4, 1, 2)), "prelu")  # Keras PReLU without shared_axes
    accelerated(prelu((1, 1, 1, 2)))


def test_unconfirmed_rows_say_so() -> None:
    p = unary("TANH")
    assert p.placement == "accelerated" and [r.rule for r in p.reasons] == ["edgetpu:unconfirmed"], p
    assert "(unconfirmed)" in p.reasons[0].message
    cpu_because(unary("SOFTMAX", shape=(1, 4, 4, 2), options={"beta": 1.0}), "softmax", unconfirmed=True)  # not 1-D
    assert unary("SOFTMAX", shape=(1, 10), options={"beta": 1.0}).placement == "accelerated"
    for strides, rule in (([1, 2], "strided-slice"), ([1, 1], None)):
        b = builder()
        x, y = b.tensor("x", U, [1, 8], **Q), b.tensor("y", U, [1, 4], **Q)
        params = [const(b, k, "INT32", v) for k, v in (("b", [0, 0]), ("e", [1, 4]), ("s", strides))]
        op(b, "STRIDED_SLICE", [x, *params], [y], {}, "StridedSliceOptions")
        p = placed(b, [x], [y])[0]
        cpu_because(p, rule, unconfirmed=True) if rule else assert_unconfirmed_accelerated(p)


def assert_unconfirmed_accelerated(p: OpPlacement) -> None:
    assert p.placement == "accelerated" and [r.rule for r in p.reasons] == ["edgetpu:unconfirmed"], p


def test_other_subgraphs_stay_on_the_cpu() -> None:
    b = builder()
    x, y = b.tensor("x", U, [1, 4], **Q), b.tensor("y", U, [1, 4], **Q)
    op(b, "RELU", [x], [y])
    b.subgraph("body")
    u, v = b.tensor("u", U, [1, 4], subgraph=1, **Q), b.tensor("v", U, [1, 4], subgraph=1, **Q)
    b.op("RELU", [u], [v], subgraph=1)
    b.io([u], [v], subgraph=1)
    ops = placed(b, [x], [y])
    accelerated(ops[0])
    cpu_because(ops[1], "subgraph", unconfirmed=True)


def chain(codes: Sequence[str]) -> Model:
    b = builder()
    ts = [b.tensor(f"t{i}", U, [1, 4, 4, 2], **Q) for i in range(len(codes) + 1)]
    for i, code in enumerate(codes):
        op(b, code, [ts[i]], [ts[i + 1]])
    b.io([ts[0]], [ts[-1]])
    return qcheck.load(b.build())


def test_prefix_cut_sends_everything_after_the_first_unmappable_op_to_the_cpu() -> None:
    r = judge(TARGET, chain(["RELU", "FLOOR", "RELU", "RELU6"]), {})
    assert [o.placement for o in r.ops] == ["accelerated", "cpu", "cpu", "cpu"]
    assert [o.reasons[0].rule for o in r.ops[1:]] == ["edgetpu:op-set", "edgetpu:partition", "edgetpu:partition"]
    assert r.partitions == ((0,),) and r.verdict == "runs-partly"
    near = judge(TARGET, chain(["RELU", "RELU", "RELU6"]), {})
    assert near.verdict == "runs" and near.partitions == ((0, 1, 2),)


def test_compiled_model_maps_only_its_custom_op() -> None:
    b = builder()
    x, t, y = (b.tensor(n, U, [1, 4, 4, 2], **Q) for n in "xty")
    op(b, "CUSTOM", [x], [t], custom_code="edgetpu-custom-op")
    op(b, "RELU", [t], [y])  # mappable, but the compiler left it: not judged
    b.io([x], [y])
    r = judge(TARGET, qcheck.load(b.build()), {})
    assert [(o.placement, [x.rule for x in o.reasons]) for o in r.ops] == [("accelerated", []), ("cpu", ["edgetpu:compiled"])]
    assert r.ops[1].reasons[0].message == ("the model is already compiled for the Edge TPU: this op was left for the CPU by "
                                          "the compiler")


def pairs() -> list[tuple[Path, Path]]:
    """Every corpus model beside its Edge TPU build (`<name>_edgetpu.tflite` next to `<name>.tflite`): the 3 PoseNet
    pairs of ../shared/corpus, or without it the one in tests/corpus."""
    return [(p.with_name(p.name.replace("_edgetpu.tflite", ".tflite")), p) for p in CORPUS_MODELS
            if p.name.endswith("_edgetpu.tflite") and p.with_name(p.name.replace("_edgetpu.tflite", ".tflite")).is_file()]


def outside(compiled: Model) -> set[tuple[str, tuple[str, ...]]]:
    """The compiled file's ops left outside edgetpu-custom-op, by (opcode label, output tensor names)."""
    sub = compiled.subgraphs[0]
    return {(o.opcode if not o.is_custom else f"CUSTOM({custom_name(compiled, o)})",
             tuple(t.name for t in map(sub.tensor, o.outputs) if t is not None))
            for o in sub.operators if not (o.is_custom and custom_name(compiled, o) == "edgetpu-custom-op")}


def test_evidence_compiled_pairs_agree() -> None:
    found = pairs()
    assert len(found) >= (3 if SHARED_MODELS else 1), "no <name>.tflite beside <name>_edgetpu.tflite in the corpus"
    compared = agreeing = 0
    for original, built in found:
        model, truth = qcheck.load(original), outside(qcheck.load(built))
        sub = model.subgraphs[0]
        result = judge(TARGET, model, {})
        print(f"{original.parent.name}/{original.name}: {len(sub.operators)} ops, {len(truth)} left to the CPU by the compiler")
        for p in (o for o in result.ops if o.subgraph == 0):
            op_ = sub.operators[p.operator]
            key = (p.opcode, tuple(t.name for t in map(sub.tensor, op_.outputs) if t is not None))
            cpu, want = p.placement != "accelerated", key in truth
            compared, agreeing = compared + 1, agreeing + (cpu == want)
            if cpu or want:
                rule = ", ".join(r.rule for r in p.reasons) or "-"
                print(f"  op {p.operator} {p.opcode}: qcheck {p.placement} ({rule}), compiler {'cpu' if want else 'edgetpu'}")
    print(f"agreement: {agreeing}/{compared} operators")
    assert agreeing >= 0.95 * compared, f"{agreeing}/{compared}"
