"""Scheme detection from the file alone, and the `--expect` names with what each demands."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Final, NamedTuple

from qcheck import Model, Subgraph, Tensor
from qcheck_spec.graph import entry_io, is_float_activation
from qcheck_spec.optable import spec

SCHEMES: Final = ("float32", "float16", "dynamic-range", "int8", "int16x8", "uint8", "integer", "mixed")
_INT_SCHEME: Final = {"INT8": "int8", "INT16": "int16x8", "UINT8": "uint8"}
_QUANT_WEIGHT: Final = frozenset({"INT8", "UINT8", "INT4", "INT2", "UINT4"})
# Integer dtypes of raw (unquantized) tensors, as in TFLite Micro's audio front ends.
_RAW_INT: Final = frozenset({"INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"})


class Expect(NamedTuple):
    """What `--expect NAME` demands of a model."""

    name: str
    scheme: str
    io: frozenset[str] | None  # allowed dtypes of quantizable model I/O; None: not checked
    float_ops: bool  # float-fallback operators allowed
    summary: str


_F, _I8, _I16 = "FLOAT32", "INT8", "INT16"
EXPECTATIONS: Final[Mapping[str, Expect]] = {e.name: e for e in (
    Expect("float32", "float32", None, True, "no quantization: float32 weights and activations"),
    Expect("float16", "float16", None, True, "float16 weights (FLOAT16 constants feeding DEQUANTIZE), float32 compute"),
    Expect("dynamic-range", "dynamic-range", None, True, "int8 weights, float activations (hybrid ops, weight-only DEQUANTIZE)"),
    Expect("int8", "int8", frozenset({_F, _I8, "UINT8"}), False, "int8 activations and weights, float I/O allowed, no float-fallback op"),
    Expect("int8-fallback", "int8", frozenset({_F, _I8, "UINT8"}), True, "int8 activations and weights, float ops allowed"),
    Expect("int8-only", "int8", frozenset({_I8, "UINT8"}), False, "int8 everywhere, int8 or uint8 I/O, no float op at all"),
    Expect("int16x8", "int16x8", frozenset({_F, _I16}), False, "int16 activations, int8 weights, float I/O allowed, no float-fallback op"),
    Expect("int16x8-fallback", "int16x8", frozenset({_F, _I16}), True, "int16 activations, int8 weights, float ops allowed"),
    Expect("int16x8-only", "int16x8", frozenset({_I16}), False, "int16 activations, int8 weights, int16 I/O, no float op at all"),
    Expect("uint8", "uint8", frozenset({_F, "UINT8"}), False, "legacy asymmetric uint8 (weights and activations)"),
    Expect("integer", "integer", None, True, "integer tensors without quantization and no float tensor (signal processing)"),
)}


class Analysis(NamedTuple):
    """Scheme detection's evidence, kept for the rules that explain a mismatch."""

    scheme: str
    inputs: tuple[str, ...]  # dtypes of subgraph 0's inputs
    outputs: tuple[str, ...]
    float_ops: tuple[tuple[int, int, str], ...]  # (subgraph, operator, opcode) computing in float in an integer model
    activations: Mapping[str, int]  # dtype -> count of activation tensors (boundary I/O excluded)
    uint8_internal: tuple[tuple[int, int], ...]  # (subgraph, tensor) uint8 activations not at a boundary
    fp16_dequantize: int  # DEQUANTIZE ops reading FLOAT16 (constants, possibly through DENSIFY)
    hybrid_ops: tuple[tuple[int, int, str], ...]
    weight_only: int  # DEQUANTIZE ops reading a quantized integer constant

    def facts(self) -> dict[str, object]:
        return {
            "scheme": self.scheme,
            "io": {"inputs": list(self.inputs), "outputs": list(self.outputs)},
            "float_ops": [{"subgraph": s, "operator": o, "opcode": c} for s, o, c in self.float_ops],
        }


def _is_hybrid(model: Model, sg_tensors: tuple, op_inputs: tuple[int, ...], hybrid: tuple[int, ...], act: int) -> bool:  # type: ignore[type-arg]
    if not hybrid or act >= len(op_inputs) or not 0 <= op_inputs[act] < len(sg_tensors):
        return False
    if not is_float_activation(model, sg_tensors[op_inputs[act]]):
        return False
    for i in hybrid:
        if i < len(op_inputs) and 0 <= op_inputs[i] < len(sg_tensors):
            t = sg_tensors[op_inputs[i]]
            if t.dtype in _QUANT_WEIGHT and t.quantized and model.is_constant(t):
                return True
    return False


def _converts(sg: Subgraph, i: int, other_side: tuple[int, ...]) -> bool:
    """True when the boundary op between tensor i and `other_side[0]` changes the dtype (e.g. FLOAT32 -> INT8)."""
    a, b = sg.tensor(i), sg.tensor(other_side[0]) if other_side else None
    return a is not None and b is not None and a.dtype != b.dtype


def _interface_or_fixed_output(sg: Subgraph, t: Tensor) -> bool:
    """Quantized tensors that do not make a scheme of their own in an integer graph.

    - UINT8 tensors that no builtin op reads (they feed custom ops, such as PosenetDecoderOp, which
      accepts only uint8 or float32, or are graph outputs): the interface of a custom decoder.
    - The INT16 output of a SOFTMAX with INT8 input: TFLite Micro's int8 softmax may write int16
      (`tensorflow/lite/micro/kernels/softmax_common.cc`, CalculateSoftmaxParams).
    """
    if t.dtype == "UINT8":
        return all(c.is_custom for c in sg.consumers_of(t.index))  # (a graph output read by nothing: True)
    if t.dtype == "INT16":
        producer = sg.producer(t.index)
        if producer is not None and producer.opcode == "SOFTMAX" and producer.inputs:
            x = sg.tensor(producer.inputs[0])
            return x is not None and x.dtype == "INT8"
    return False


def analyse(model: Model) -> Analysis:
    """Classify the model once (memoized): every rule and the report read the same answer."""
    return model.memo(("qcheck_spec", "analysis"), lambda: _analyse(model))


def _analyse(model: Model) -> Analysis:
    io = entry_io(model)
    counts: Counter[str] = Counter()
    uint8_internal: list[tuple[int, int]] = []
    candidates: list[tuple[int, int, str]] = []
    hybrid: list[tuple[int, int, str]] = []
    fp16 = weight_only = raw_ints = 0
    aside: Counter[str] = Counter()  # interface and fixed-output tensors, counted only if nothing else is integer
    for sg in model.subgraphs:
        ins, outs = io.get(sg.index, (frozenset(), frozenset()))
        tensors = sg.tensors
        n = len(tensors)
        boundary_ops: set[int] = set()
        skip: set[int] = set()  # variable state, LSTM intermediates and the float/uint8 side of boundary ops
        for op in sg.operators:
            skip.update(op.intermediates)
            first_in = op.inputs[0] if op.inputs else -1
            first_out = op.outputs[0] if op.outputs else -1
            if op.opcode in ("QUANTIZE", "DEQUANTIZE") and (first_in in ins or first_out in outs):
                boundary_ops.add(op.index)
            if op.opcode == "DEQUANTIZE" and 0 <= first_in < n:
                src = tensors[first_in]
                if src.dtype == "FLOAT16":
                    fp16 += 1
                elif src.quantized and src.dtype in _QUANT_WEIGHT and model.is_constant(src):
                    weight_only += 1
            s = spec(op.opcode)
            if _is_hybrid(model, tensors, op.inputs, s.hybrid, s.act):
                hybrid.append((sg.index, op.index, op.opcode))
        # The model's own I/O on the far side of a QUANTIZE/DEQUANTIZE that changes its dtype (a float
        # or uint8 interface around an integer graph) is not an activation of the scheme.
        for i in ins:
            consumers = sg.consumers_of(i) if 0 <= i < n else ()
            if consumers and all(c.index in boundary_ops and _converts(sg, i, c.outputs) for c in consumers):
                skip.add(i)
        for i in outs:
            producer = sg.producer(i)
            if producer is not None and producer.index in boundary_ops and _converts(sg, i, producer.inputs):
                skip.add(i)
        for t in tensors:
            if t.index in skip or t.is_variable or model.is_constant(t):
                continue
            if t.dtype in _INT_SCHEME and t.quantized:
                if _interface_or_fixed_output(sg, t):
                    aside[t.dtype] += 1
                    continue
                counts[t.dtype] += 1
                if t.dtype == "UINT8":
                    uint8_internal.append((sg.index, t.index))
            elif t.dtype in ("FLOAT32", "FLOAT16"):
                counts[t.dtype] += 1
            elif t.dtype in _RAW_INT:
                raw_ints += 1
        for op in sg.operators:
            if op.index in boundary_ops:
                continue
            for i in (*op.inputs, *op.outputs):
                if 0 <= i < n and tensors[i].dtype == "FLOAT32" and not model.is_constant(tensors[i]):
                    candidates.append((sg.index, op.index, op.opcode))
                    break
    if not any(counts[d] for d in _INT_SCHEME):
        counts.update(aside)  # e.g. an Edge TPU model: uint8 around its custom ops is the whole scheme
    ints = [d for d in _INT_SCHEME if counts[d]]
    if not ints:
        has_fp16, drq = fp16 > 0, bool(hybrid) or weight_only > 0
        scheme = "mixed" if has_fp16 and drq else "float16" if has_fp16 else "dynamic-range" if drq else "float32"
        if scheme == "float32" and raw_ints and not counts["FLOAT32"] and not counts["FLOAT16"]:
            scheme = "integer"  # integer tensors without quantization parameters and not one float tensor
    else:
        scheme = _INT_SCHEME[ints[0]] if len(ints) == 1 else "mixed"
    main = model.subgraphs[0] if model.subgraphs else None

    def dtypes(idx: tuple[int, ...]) -> tuple[str, ...]:
        assert main is not None
        return tuple(t.dtype if (t := main.tensor(i)) is not None else "MISSING" for i in idx)

    return Analysis(
        scheme=scheme,
        inputs=dtypes(main.inputs) if main else (),
        outputs=dtypes(main.outputs) if main else (),
        float_ops=tuple(candidates) if ints else (),
        activations=dict(counts),
        uint8_internal=tuple(uint8_internal) if len(ints) > 1 else (),
        fp16_dequantize=fp16,
        hybrid_ops=tuple(hybrid),
        weight_only=weight_only,
    )
