"""Derived facts that several spec rules share, computed once per model through `Model.memo`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, NamedTuple

import numpy as np

from qcheck import Model, Operator, Subgraph, Tensor
from qcheck_spec.optable import OPS, OpSpec

# Value ranges of symmetric ("narrow") weights per storage dtype: -2^(b-1) is outside the spec.
NARROW: Final = {"INT8": 127, "INT4": 7, "INT2": 1}
# Relative tolerance for scales that must equal a value (bias scale = input x weight scale, fixed
# outputs, uint8 I/O twins). Converters store float32 products, at most 6e-8 (half an ulp) off the
# float64 value (measured on TF 2.21 output); the fixed values (1/256, 1/128, 16/256, 1/32768) are
# exact. 1e-6 leaves 16 ulps for other rounding orders and still catches any real mismatch.
SCALE_RTOL: Final = 1e-6
_PACKED_BITS: Final = {"INT4": 4, "INT2": 2}


def entry_io(model: Model) -> dict[int, tuple[frozenset[int], frozenset[int]]]:
    """Per entry subgraph (0 and every signature's), the tensors that are the model's own I/O."""

    def compute() -> dict[int, tuple[frozenset[int], frozenset[int]]]:
        entries = {0} | {s.subgraph for s in model.signature_defs}
        return {i: (frozenset(model.subgraphs[i].inputs), frozenset(model.subgraphs[i].outputs))
                for i in sorted(entries) if i < len(model.subgraphs)}

    return model.memo(("qcheck_spec", "entry_io"), compute)


def scale_zp(t: Tensor | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(scale, zero_point) of an affine-quantized tensor (zero points padded with 0), else None."""
    if t is None or not t.quantized:
        return None
    q = t.quantization
    assert q is not None
    zp = q.zero_point if len(q.zero_point) == len(q.scale) else np.zeros(len(q.scale), np.int64)
    return q.scale, zp


def is_float_activation(model: Model, t: Tensor | None) -> bool:
    return t is not None and t.dtype == "FLOAT32" and not model.is_constant(t)


class Layer(NamedTuple):
    """A weighted op (LiteRT `operator_property.cc`, `tfl_ops.td`) with its activation input, weights, bias and output.

    (A NamedTuple: built once per weighted op, 17,000 times on a 50,000-tensor model.)
    """

    sg: Subgraph
    op: Operator
    spec: OpSpec
    x: Tensor | None
    w: Tensor | None
    b: Tensor | None
    y: Tensor | None

    @property
    def hybrid(self) -> bool:
        """Float activations with quantized weights (dynamic range)."""
        return self.x is not None and self.x.dtype == "FLOAT32" and self.w is not None and self.w.quantized

    @property
    def channels(self) -> int | None:
        """Number of output channels, from the weights' shape."""
        ws = self.spec.weights
        if self.w is None or ws is None or not -len(self.w.shape) <= ws.out_axis < len(self.w.shape):
            return None
        return self.w.shape[ws.out_axis]


def _operand(sg: Subgraph, op: Operator, i: int | None) -> Tensor | None:
    return sg.tensor(op.inputs[i]) if i is not None and i < len(op.inputs) else None


def layers(model: Model) -> tuple[Layer, ...]:
    """Every weighted op of every subgraph, in order."""

    def compute() -> tuple[Layer, ...]:
        out = []
        weighted = {name: s for name, s in OPS.items() if s.weights is not None}
        for sg, op in model.iter_operators():
            s = weighted.get(op.opcode)
            if s is None or s.weights is None:
                continue
            y = sg.tensor(op.outputs[0]) if op.outputs else None
            out.append(Layer(sg, op, s, _operand(sg, op, s.act), _operand(sg, op, s.weights.input),
                             _operand(sg, op, s.bias.input if s.bias else None), y))
        return tuple(out)

    return model.memo(("qcheck_spec", "layers"), compute)


def checks_weights(lay: Layer) -> bool:
    """True when the weight rules apply: integer weights, symmetric by spec (hybrid-only ops when hybrid)."""
    w, ws = lay.w, lay.spec.weights
    if w is None or ws is None or w.dtype not in NARROW or not w.quantized:
        return False
    return not ws.hybrid_only or (lay.y is not None and lay.y.dtype in ("FLOAT32", "FLOAT16"))


def weight_layers(model: Model) -> Iterator[Layer]:
    """Layers whose weight operand the weight rules apply to."""
    return (lay for lay in layers(model) if checks_weights(lay))


def integer_values(model: Model, t: Tensor) -> np.ndarray | None:
    """A constant integer tensor's values, unpacking INT4/INT2 (zero-copy for whole-byte dtypes)."""
    bits = _PACKED_BITS.get(t.dtype)
    if bits is None:
        return model.array(t)
    raw = model.raw_data(t)
    if raw is None:
        return None
    per_byte = 8 // bits
    out = np.empty(raw.size * per_byte, np.int8)
    signed = raw.view(np.int8)
    for k in range(per_byte):  # sign-extend each field: shift it to the top, then arithmetic-shift down
        out[k::per_byte] = (signed << (8 - bits * (k + 1))) >> (8 - bits)
    return out[: t.num_elements]


def channel_range(model: Model, t: Tensor, axis: int | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Per-channel (min, max) of a constant tensor along `axis` (None: whole tensor), scanned once.

    Whole-byte dtypes use the core's chunked, memoized `Model.channel_range` (the same scan that
    serves `value_range`); packed INT4/INT2 are unpacked here and memoized under this plugin's key.
    """
    if axis is not None and not 0 <= axis < len(t.shape):
        return None
    if t.dtype not in _PACKED_BITS:
        rng = model.channel_range(t, 0 if axis is None else axis)
        if rng is None or axis is not None:
            return rng
        return rng[0].min(keepdims=True), rng[1].max(keepdims=True)

    def unpacked() -> tuple[np.ndarray, np.ndarray] | None:
        values = integer_values(model, t)
        if values is None or values.size == 0 or values.size != t.num_elements:
            return None
        if axis is None:
            return np.array([values.min()]), np.array([values.max()])
        v = values.reshape(int(np.prod(t.shape[:axis], dtype=np.int64)), t.shape[axis], -1)
        return v.min(axis=(0, 2)), v.max(axis=(0, 2))

    return model.memo(("qcheck_spec", "packed_range", t.buffer, t.dtype, t.shape, axis), unpacked)
