"""Which tensor of the quantized model holds which activation of the float one, and which ops compute the same layer."""

from __future__ import annotations

from typing import NamedTuple

from qcheck.modeldiff import match
from qcheck.tflite.model import Model, Subgraph, Tensor

# Dtypes a quantized model's activation can be compared in: floats as they are, integers through their scale.
FLOAT_TYPES = frozenset({"FLOAT32", "FLOAT16", "FLOAT64"})
INT_TYPES = frozenset({"INT8", "UINT8", "INT16", "INT32"})


class Pair(NamedTuple):
    """A float-model activation and the quantized-model tensor that stands for it."""

    float_tensor: int
    quant_tensor: int
    how: str  # "name", "position", "through QUANTIZE" or "through DEQUANTIZE"


class Layer(NamedTuple):
    """An op of the quantized model and how to tell the error it adds by itself.

    `float_op` is the float model's op computing the same thing (the layer-wise pass feeds it the quantized
    model's own inputs, dequantized), or -1 for a QUANTIZE the converter inserted (its float input is its reference).
    `feeds` pairs each activation input slot of `float_op` with the quantized tensor in that slot.
    """

    quant_op: int
    float_op: int
    output: int  # the quantized op's output tensor measured (output 0)
    feeds: tuple[tuple[int, int], ...]  # (input slot, quantized tensor index)


class Matched(NamedTuple):
    pairs: tuple[Pair, ...]
    layers: tuple[Layer, ...]
    unmatched_float: tuple[int, ...]  # float activations nothing in the quantized model stands for
    unmatched_quant: tuple[int, ...]  # quantized activations with no float counterpart


def activation(model: Model, sub: Subgraph, t: Tensor | None) -> bool:
    """A tensor computed at run time (or fed), in a type the comparison can read as real numbers."""
    if t is None or t.is_variable or model.is_constant(t) or (t.index not in sub.producers and t.index not in sub.inputs):
        return False
    if not sub.consumers.get(t.index) and t.index not in sub.outputs and t.index not in sub.inputs:
        return False  # nothing reads it: LiteRT may never allocate it (a fake-quant graph's dead DEQUANTIZE)
    producer = sub.producer(t.index)
    if producer is not None and producer.opcode == "DEQUANTIZE" and producer.inputs:
        source = sub.tensor(producer.inputs[0])
        if source is not None and model.is_constant(source):
            return False  # float16 or int8 weights made float at load time: a constant in all but name
    return t.dtype in FLOAT_TYPES or (t.dtype in INT_TYPES and t.quantization is not None and t.quantization.scale.size > 0)


def pair_models(fm: Model, qm: Model) -> Matched:
    """Pair subgraph 0 of both models: tensors and ops by name, then by position (qcheck.modeldiff.match), then
    through the QUANTIZE and DEQUANTIZE ops the converter inserted, which hold the same activation in another type."""
    fs, qs = fm.subgraphs[0], qm.subgraphs[0]
    m = match(fs, qs)
    pairs: list[Pair] = []
    used: set[int] = set()
    for fi, (qi, how) in sorted(m.tensors.items()):
        ft, qt = fs.tensor(fi), qs.tensor(qi)
        if ft is not None and ft.dtype in FLOAT_TYPES and activation(fm, fs, ft) and activation(qm, qs, qt):
            pairs.append(Pair(fi, qi, how))
            used.add(qi)
    # Outputs of matched ops left unpaired (a name taken by something else, e.g. float16 weights made
    # float at load time, which the converter names after the op): paired through their op.
    paired = {p.float_tensor for p in pairs}
    for fo, (qo, _) in sorted(m.ops.items()):
        for a, b in zip(fs.operators[fo].outputs, qs.operators[qo].outputs, strict=False):
            ft = fs.tensor(a)
            if a not in paired and b not in used and ft is not None and ft.dtype in FLOAT_TYPES and activation(fm, fs, ft) \
                    and activation(qm, qs, qs.tensor(b)):
                pairs.append(Pair(a, b, "op position"))
                paired.add(a)
                used.add(b)
    # The converter's QUANTIZE and DEQUANTIZE ops: their other side is the same activation, in another type.
    by_quant = {p.quant_tensor: p.float_tensor for p in pairs}
    changed = True
    while changed:
        changed = False
        for op in qs.operators:
            if op.opcode not in ("QUANTIZE", "DEQUANTIZE") or not op.inputs or not op.outputs:
                continue
            src, dst = op.inputs[0], op.outputs[0]
            for a, b in ((src, dst), (dst, src)):
                if a in by_quant and b not in used and activation(qm, qs, qs.tensor(b)):
                    pairs.append(Pair(by_quant[a], b, f"through {op.opcode}"))
                    by_quant[b] = by_quant[a]
                    used.add(b)
                    changed = True
    paired_float = {p.float_tensor for p in pairs}
    layers = _layers(fm, qm, fs, qs, m.ops, by_quant)
    unmatched_float = tuple(t.index for t in fs.tensors if t.dtype in FLOAT_TYPES and activation(fm, fs, t) and t.index not in paired_float)
    unmatched_quant = tuple(t.index for t in qs.tensors if activation(qm, qs, t) and t.index not in used)
    return Matched(tuple(sorted(pairs, key=lambda p: (p.quant_tensor, p.float_tensor))), layers, unmatched_float, unmatched_quant)


def _layers(fm: Model, qm: Model, fs: Subgraph, qs: Subgraph, ops: dict[int, tuple[int, str]], by_quant: dict[int, int]) -> tuple[Layer, ...]:
    """The quantized ops whose own error the layer-wise pass can measure."""
    float_of = {qi: fi for fi, (qi, _) in ops.items()}
    out = []
    for op in qs.operators:
        if not op.outputs or not activation(qm, qs, qs.tensor(op.outputs[0])) or op.outputs[0] not in by_quant:
            continue
        if op.opcode == "QUANTIZE" and op.inputs and activation(qm, qs, qs.tensor(op.inputs[0])):
            out.append(Layer(op.index, -1, op.outputs[0], ((0, op.inputs[0]),)))
            continue
        fi = float_of.get(op.index)
        if fi is None or op.opcode == "DEQUANTIZE":
            continue
        fop = fs.operators[fi]
        if len(fop.inputs) != len(op.inputs):
            continue
        feeds = []
        for slot, (a, b) in enumerate(zip(fop.inputs, op.inputs, strict=True)):
            ft = fs.tensor(a)
            if a < 0 or ft is None or fm.is_constant(ft):
                continue
            qt = qs.tensor(b)
            if ft.dtype not in FLOAT_TYPES and qt is not None and qt.dtype == ft.dtype and \
                    (qt.quantization is None or qt.quantization.scale.size == 0):
                continue  # a shape or index computed at run time: the layer-wise model still computes it itself
            if ft.dtype not in FLOAT_TYPES or not activation(qm, qs, qt):
                break  # an input the float op takes at run time that the quantized model cannot give as real numbers
            feeds.append((slot, b))
        else:
            if feeds:
                out.append(Layer(op.index, fi, op.outputs[0], tuple(feeds)))
    return tuple(out)
