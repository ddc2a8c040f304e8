"""What every target profile needs: op labels, MAC counts, tensor kinds and placements from findings."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence

import numpy as np

from qcheck.findings import Finding
from qcheck.inspection import op_label
from qcheck.targets import FATAL_EFFECTS, OpPlacement, Placed, Reason
from qcheck.tflite.model import Model, Operator, Subgraph, Tensor

_WEIGHTED = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "BATCH_MATMUL", "TRANSPOSE_CONV"})  # the ops with MACs


def _size(shape: tuple[int, ...]) -> int:
    """Elements of a shape, unknown (-1) or zero dimensions counting as 1."""
    n = math.prod(shape)
    return n if n > 0 else math.prod(max(d, 1) for d in shape)


def macs(sub: Subgraph, op: Operator) -> int:
    """Multiply-accumulates of one invocation of a weighted op (unknown dimensions count as 1), else 0."""
    code, ins, tensors = op.opcode, op.inputs, sub.tensors
    if code not in _WEIGHTED or len(ins) < 2 or not op.outputs or not 0 <= ins[1] < len(tensors) or not 0 <= op.outputs[0] < len(tensors):
        return 0
    w, out = tensors[ins[1]].shape, _size(tensors[op.outputs[0]].shape)
    if code == "CONV_2D" and len(w) == 4:
        return out * _size(w[1:])
    if code == "DEPTHWISE_CONV_2D" and len(w) == 4:
        return out * max(w[1], 1) * max(w[2], 1)
    if code == "FULLY_CONNECTED" and w:
        return out * max(w[-1], 1)
    a = tensors[ins[0]].shape if 0 <= ins[0] < len(tensors) else ()
    if code == "BATCH_MATMUL" and len(a) >= 2:
        return out * max(a[-2] if op.options.get("adj_x") else a[-1], 1)
    x = tensors[ins[2]].shape if len(ins) > 2 and 0 <= ins[2] < len(tensors) else None
    if code == "TRANSPOSE_CONV" and x is not None and len(w) == 4:
        return _size(x) * _size(w[:3])
    return 0


def squeeze_problem(sub: Subgraph, op: Operator) -> str | None:
    """Why SQUEEZE's squeeze_dims do not fit its input: both runtimes check each is a dimension of size 1.

    LiteRT `tflite/kernels/squeeze.cc` Prepare and TFLite Micro `kernels/squeeze.cc` Prepare:
    `current >= 0 && current < input_num_dims && input_dims->data[current] == 1`.
    """
    x = sub.tensor(op.inputs[0]) if op.inputs else None
    dims = op.options.get("squeeze_dims") or ()
    if x is None or not isinstance(dims, tuple):
        return None
    rank = len(x.shape)
    for d in dims:
        c = d + rank if d < 0 else d
        if not 0 <= c < rank or x.shape[c] != 1:
            return f"SQUEEZE squeeze_dims {list(dims)} on input shape {list(x.shape)}: dimension {d} is not one of size 1"
    return None


def compiled_for(model: Model, base: Placed, custom_code: str, accelerator: str, rule: str) -> Placed | None:
    """An already-compiled model (it holds the compiler's custom op): that op is the accelerated part and every
    other op is what the compiler left for the CPU, not judged again. None when the model is not compiled."""
    if not any(oc.custom_code == custom_code for oc in model.operator_codes):
        return None
    why = Reason(f"{rule}:compiled", f"the model is already compiled for {accelerator}: this op was left for the CPU by the compiler")
    ops = [p._replace(placement="accelerated", reasons=())
           if (op := model.subgraphs[p.subgraph].operators[p.operator]).is_custom and custom_name(model, op) == custom_code
           else p._replace(placement="cpu", reasons=(why,)) for p in base.ops]
    return Placed(tuple(ops), base.problems)


def fatal_by_op(findings: Sequence[Finding], runtime: str) -> tuple[dict[tuple[int, int], list[Reason]], list[Reason]]:
    """The findings that say `runtime` refuses or crashes on the model: by (subgraph, operator), and model-wide.

    A rule says so in its finding's ``details["runtimes"]``, e.g. ``{"litert": "rejects", "tflm": "runs"}``.
    """
    by_op: dict[tuple[int, int], list[Reason]] = defaultdict(list)
    model_wide: list[Reason] = []
    for f in findings:
        effects = f.details.get("runtimes") if isinstance(f.details, Mapping) else None
        if not isinstance(effects, Mapping) or effects.get(runtime) not in FATAL_EFFECTS:
            continue
        reason = Reason(f.code, f.message)
        loc = f.location
        if loc.operator is not None:
            by_op[(loc.subgraph or 0, loc.operator)].append(reason)
        else:
            model_wide.append(reason)
    return by_op, model_wide


# A decision for one op: its placement and reasons. It may depend only on what op_key captures (the op
# code and version, options, and each operand's kind), so that identical ops are judged once.
Decision = tuple[str, tuple[Reason, ...]]


# Ops whose placement in some profile depends on the operands' scale and zero-point values, not only on
# their kinds: XNNPACK's ratio checks (ADD, SUB, MUL, LEAKY_RELU, QUANTIZE: CheckTensorsInputOutputScale and
# friends) and its equal-quantization checks (RESHAPE, CONCATENATION). Elsewhere the values stay out of
# the key, so that layers differing only in their scales share one decision.
SCALE_SENSITIVE = frozenset({"ADD", "SUB", "MUL", "LEAKY_RELU", "QUANTIZE", "RESHAPE", "CONCATENATION"})


def _tensor_key(model: Model, t: Tensor, values: bool) -> tuple[object, ...]:
    """What a profile may read of an operand: type, shape, quantization summary, constness, small parameter values.

    Kept lean (no numpy calls for most tensors): it is built for every tensor of every model.
    """
    q = t.quantization
    if q is None:
        quant: tuple[object, ...] | None = None
    else:
        quant = (q.details_type, q.details, len(q.scale), q.quantized_dimension)
        if values:
            quant += (float(q.scale[0]) if len(q.scale) else None, int(q.zero_point[0]) if len(q.zero_point) else None)
    buffers = model.buffers
    const = 0 <= t.buffer < len(buffers) and buffers[t.buffer].size > 0
    data = None
    if const and q is None and t.dtype in ("INT32", "INT64") and len(t.shape) <= 2 and 0 < t.num_elements <= 16:
        a = model.array(t)  # parameters (axes, perm, shape, begin/end): their values decide; biases are quantized
        data = None if a is None else tuple(a.tolist())
    return (t.dtype, t.shape, quant, const, data, t.sparsity is not None, t.is_variable)


def op_keys(model: Model) -> list[list[tuple[object, ...]]]:
    """Per subgraph, per operator: what a profile's decision may depend on (shared by every target).

    The op code (and so a custom op's name) and version, the options, each operand's kind, repeated
    and aliased operands. Not: names, positions, producers (a profile that follows the graph keeps
    that state itself and adds it to the key).
    """
    def compute() -> list[list[tuple[object, ...]]]:
        out: list[list[tuple[object, ...]]] = []
        for sub in model.subgraphs:
            kinds: tuple[dict[int, tuple[object, ...]], dict[int, tuple[object, ...]]] = ({}, {})
            tensors, n = sub.tensors, len(sub.tensors)
            rows: list[tuple[object, ...]] = []
            for op in sub.operators:
                values = op.opcode in SCALE_SENSITIVE
                seen = kinds[values]
                operands = []
                for i in (*op.inputs, *op.outputs):
                    k = seen.get(i)
                    if k is None:
                        k = seen[i] = _tensor_key(model, tensors[i], values) if 0 <= i < n else (i,)
                    operands.append(k)
                rows.append((op.opcode_index, op.options_type, tuple(op.options.values()), len(op.inputs), tuple(operands),
                             len(set(op.inputs)) != len(op.inputs), not set(op.inputs).isdisjoint(op.outputs), len(op.intermediates)))
            out.append(rows)
        return out

    return model.memo("qcheck_targets.op_keys", compute)


QuantRange = tuple[float, float, bool, int, int]  # an operand's first and largest scale, all scales finite, smallest and largest zero point


def quant_ranges(model: Model) -> list[list[QuantRange | None]]:
    """Per subgraph, per tensor: its QuantRange (None without scales); zero points absent count as 0.

    In a few numpy passes over all tensors (per-tensor reductions cost a second at 50,000 tensors).
    """
    def compute() -> list[list[QuantRange | None]]:
        out: list[list[QuantRange | None]] = []
        for sub in model.subgraphs:
            row: list[QuantRange | None] = [None] * len(sub.tensors)
            quant = [(t.index, t.quantization) for t in sub.tensors if t.quantization is not None and len(t.quantization.scale)]
            if quant:
                scales, starts = _joined([q.scale for _, q in quant], np.float64)
                finite = np.logical_and.reduceat(np.isfinite(scales), starts).tolist()
                first, top = scales[starts].tolist(), np.maximum.reduceat(scales, starts).tolist()
                lo, hi = [0] * len(quant), [0] * len(quant)
                has_zp = [i for i, (_, q) in enumerate(quant) if len(q.zero_point)]
                if has_zp:
                    zps, at = _joined([quant[i][1].zero_point for i in has_zp], np.int64)
                    for i, a, b in zip(has_zp, np.minimum.reduceat(zps, at).tolist(), np.maximum.reduceat(zps, at).tolist(), strict=True):
                        lo[i], hi[i] = a, b
                for (t, _), *r in zip(quant, first, top, finite, lo, hi, strict=True):
                    row[t] = tuple(r)  # type: ignore[assignment]
            out.append(row)
        return out

    return model.memo("qcheck_targets.quant_ranges", compute)


def _joined(arrays: list[np.ndarray], dtype: type) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    """Non-empty arrays end to end, and where each starts (for ufunc.reduceat)."""
    lengths = np.fromiter(map(len, arrays), np.int64, len(arrays))
    return np.concatenate(arrays).astype(dtype, copy=False), np.cumsum(lengths) - lengths


def _facts(model: Model) -> list[list[tuple[str, int]]]:
    """Per subgraph, per operator: its label and MACs (computed once per model, shared by every target)."""
    def compute() -> list[list[tuple[str, int]]]:
        return [[(op_label(model, op) if op.is_custom else op.opcode, macs(sub, op)) for op in sub.operators] for sub in model.subgraphs]

    return model.memo("qcheck_targets.op_facts", compute)


def place_all(model: Model, decide: Callable[[Model, Subgraph, Operator], Decision],
              extra: Mapping[tuple[int, int], Sequence[Reason]], fallback: str = "unsupported",
              key: Callable[[Model, Subgraph, Operator], Hashable] | None = None) -> tuple[OpPlacement, ...]:
    """Every operator placed by `decide`, once per distinct key; `extra` reasons (from findings) make an op `fallback`.

    `key` says what the decision depends on (None from it: decide this op on its own); by default
    everything `op_keys` captures. Identical layers, as most models are made of, are judged once.
    """
    facts = _facts(model)
    keys = op_keys(model) if key is None else None
    decided: dict[Hashable, Decision] = {}
    out = []
    for sub in model.subgraphs:
        sub_facts = facts[sub.index]
        for op in sub.operators:
            k = keys[sub.index][op.index] if keys is not None else key(model, sub, op)  # type: ignore[misc]
            d = decided.get(k) if k is not None else None
            if d is None:
                d = decide(model, sub, op)
                if k is not None:
                    decided[k] = d
            where, reasons = d
            more = extra.get((sub.index, op.index))
            if more:
                where, reasons = (where if where == "unsupported" else fallback), (*reasons, *more)
            label, count = sub_facts[op.index]
            out.append(OpPlacement(sub.index, op.index, label, where, reasons, count))
    return tuple(out)


def custom_name(model: Model, op: Operator) -> str:
    codes = model.operator_codes
    return (codes[op.opcode_index].custom_code or "") if 0 <= op.opcode_index < len(codes) else ""


def version(model: Model, op: Operator) -> int:
    codes = model.operator_codes
    return codes[op.opcode_index].version if 0 <= op.opcode_index < len(codes) else 1
