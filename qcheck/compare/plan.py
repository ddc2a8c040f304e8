"""From two parsed models and their matching to the Plan workers run: tensor indices, read parameters, feeds."""

from __future__ import annotations

import numpy as np

from qcheck.compare.matching import FLOAT_TYPES, Matched
from qcheck.compare.rewire import layerwise_model
from qcheck.compare.worker import LayerPlan, Plan, QParams
from qcheck.errors import UsageError
from qcheck.tflite.model import Model, Subgraph

# Ops whose weights are per output channel along the output's last axis (the spec: per-axis for these).
CHANNEL_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "CONV_3D"})


def qparams(sub: Subgraph, index: int) -> QParams:
    t = sub.tensors[index]
    if t.dtype in FLOAT_TYPES or t.quantization is None or t.quantization.scale.size == 0:
        return None
    q = t.quantization
    zero = q.zero_point if q.zero_point.size == q.scale.size else np.zeros(q.scale.size, np.int64)
    return (np.asarray(q.scale, np.float32), np.asarray(zero, np.int64), int(q.quantized_dimension))


def weight_channels(model: Model, sub: Subgraph, op_index: int) -> int:
    """Output channels of an op with per-axis weights (0 otherwise): its error is then also summed per channel."""
    op = sub.operators[op_index]
    if op.opcode not in CHANNEL_OPS or len(op.inputs) < 2:
        return 0
    w, out = sub.tensor(op.inputs[1]), sub.tensor(op.outputs[0])
    if w is None or out is None or w.quantization is None or w.quantization.scale.size < 2 or not out.shape:
        return 0
    return int(w.quantization.scale.size) if out.shape[-1] == w.quantization.scale.size else 0


def quant_inputs(fs: Subgraph, qs: Subgraph) -> tuple[QParams, ...]:
    """How each input of the quantized model takes the float model's sample (same order; names when they match)."""
    if len(fs.inputs) != len(qs.inputs):
        raise UsageError(f"the float model has {len(fs.inputs)} inputs and the quantized one {len(qs.inputs)}: "
                         "they are not two versions of one model")
    f_names = [fs.tensors[i].name for i in fs.inputs]
    q_names = [qs.tensors[i].name for i in qs.inputs]
    if sorted(f_names) == sorted(q_names) and f_names != q_names:
        raise UsageError("the two models take their inputs in different orders; qcheck compare needs the same order")
    for i, (fi, qi) in enumerate(zip(fs.inputs, qs.inputs, strict=True)):
        ft, qt = fs.tensors[fi], qs.tensors[qi]
        if ft.dtype in FLOAT_TYPES and qt.dtype not in FLOAT_TYPES and qparams(qs, qi) is None:
            raise UsageError(f"input {i} of the quantized model ({qt.name!r}) is {qt.dtype} without a scale: qcheck cannot tell how "
                             f"the float model's {ft.dtype} input {ft.name!r} maps to it")
    return tuple(qparams(qs, i) for i in qs.inputs)


def input_ranges(qs: Subgraph) -> tuple[tuple[float, float] | None, ...]:
    """The real range each input of the quantized model represents: the calibrated min/max the file keeps, else what
    its scale and zero point span; on the input itself or on the QUANTIZE that reads it.

    Random data drawn there exercises what calibration saw, instead of [0, 1) that a model fed 0..255 reads as black.
    """
    out: list[tuple[float, float] | None] = []
    for i in qs.inputs:
        index = i
        if qs.tensors[i].dtype in FLOAT_TYPES:
            reader = next((op for op in qs.consumers_of(i) if op.opcode == "QUANTIZE" and op.outputs), None)
            index = reader.outputs[0] if reader is not None else -1
        qp = qparams(qs, index) if 0 <= index < len(qs.tensors) else None
        dtype = qs.tensors[index].dtype if 0 <= index < len(qs.tensors) else ""
        q = qs.tensors[index].quantization if dtype else None
        if q is not None and q.min is not None and q.max is not None and q.min.size == q.max.size == 1 \
                and np.isfinite(q.min[0]) and np.isfinite(q.max[0]) and q.min[0] < q.max[0]:
            out.append((float(q.min[0]), float(q.max[0])))  # the calibrated range, which the converter keeps (16x8 does)
            continue
        if qp is None or qp[0].size != 1 or dtype not in _INT_RANGE or not np.isfinite(qp[0][0]) or qp[0][0] <= 0:
            out.append(None)
            continue
        lo, hi = _INT_RANGE[dtype]
        scale, zero = float(qp[0][0]), float(qp[1][0])
        out.append((scale * (lo - zero), scale * (hi - zero)))
    return tuple(out)


_INT_RANGE = {"INT8": (-128, 127), "UINT8": (0, 255), "INT16": (-32768, 32767)}


def build_plan(fm: Model, qm: Model, float_bytes: bytes, quant_bytes: bytes, matched: Matched, timeout: float) -> Plan:
    fs, qs = fm.subgraphs[0], qm.subgraphs[0]
    layers = [layer for layer in matched.layers if layer.float_op < 0 or fs.operators[layer.float_op].outputs]
    rewired, fresh = layerwise_model(float_bytes, layers) if any(layer.float_op >= 0 for layer in layers) else (None, {})
    plans = []
    for layer in layers:
        channels = weight_channels(qm, qs, layer.quant_op)
        if layer.float_op < 0:
            plans.append(LayerPlan(layer.output, layer.feeds[0][1], True, (), channels))
        else:
            feeds = tuple((fresh[(layer.float_op, slot)], qt) for slot, qt in layer.feeds)
            plans.append(LayerPlan(layer.output, fs.operators[layer.float_op].outputs[0], False, feeds, channels))
    pairs = tuple((p.float_tensor, p.quant_tensor) for p in matched.pairs)
    softmax = {op.outputs[0] for op in fs.operators if op.opcode == "SOFTMAX" and op.outputs}
    outputs = set(fs.outputs)
    probabilities = tuple(k for k, (ft, _) in enumerate(pairs) if ft in softmax)
    # Top-k agreement only where the output is a class distribution: a softmax over rows of classes
    # (a regression or box output has an argmax too, but it means nothing).
    classifiers = tuple(k for k, (ft, _) in enumerate(pairs)
                        if ft in outputs and ft in softmax and len(fs.tensors[ft].shape) == 2 and fs.tensors[ft].shape[-1] >= 2)
    needed = {qt for _, qt in pairs} | {p.quant_output for p in plans} | {qt for p in plans for _, qt in p.feeds}
    needed |= {p.reference for p in plans if p.in_quant_model}
    import uuid

    # Names this plan for the workers, which keep one plan's interpreters: one per comparison is enough.
    return Plan(uuid.uuid4().hex, float_bytes, quant_bytes, rewired, pairs, {t: qparams(qs, t) for t in sorted(needed)},
                tuple(plans), probabilities, classifiers, quant_inputs(fs, qs), timeout)
