"""QC405-QC407: requantization sanity of weighted ops and fused activations."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Final

import numpy as np

from qcheck import Context, Model, Severity, Violation, rule
from qcheck.findings import at_tensor
from qcheck_spec.bulk import layer_table, multipliers
from qcheck_spec.graph import channel_range, layers

MIN_MULTIPLIER: Final = 2.0**-31  # QuantizeMultiplier flushes anything smaller to 0
MAX_DEPTH: Final = 2**16  # int8 products fit |w*(x-zp)| <= 32512: 2^16 of them fit in int32
_INT32: Final = (-(2**31), 2**31 - 1)
_ACT_POINTS: Final = {"RELU": (0.0,), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}


@rule("QC405", "multiplier-underflow", severity=Severity.WARNING)
def multiplier_underflow(model: Model, ctx: Context) -> Iterator[Violation]:
    """A channel's requantization multiplier is below 2^-31 and becomes 0 in the kernel.

    ## What it checks
    For CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and TRANSPOSE_CONV with integer activations:
    the effective multiplier `input_scale * weight_scale[c] / output_scale` of every channel whose
    weights are not all zero (QC204 reports those) must be at least 2^-31. Multipliers above 1
    are fine for LiteRT (QuantizeMultiplier shifts left), so they are not flagged.

    ## Why it matters
    LiteRT turns the multiplier into a 31-bit fixed-point value and a shift; below 2^-31 it
    flushes it to 0, so the channel outputs the zero point whatever the input, silently.
    Accelerators have narrower bounds (Arm Ethos-N: [2.33e-10, 1]).

    ## How to fix
    Recalibrate: the output range is far larger than the product of input and weight scales
    would produce, usually a broken calibration or a near-dead channel.

    ## References
    - LiteRT `tflite/kernels/internal/quantization_util.cc` (QuantizeMultiplier);
      tensorflow/tensorflow#53497, #20451; tensorflow/tflite-micro#3039
    """
    seg, m = multipliers(model)
    low = (m < MIN_MULTIPLIER) & (m > 0)
    t = layer_table(model)
    for i in np.flatnonzero(seg.any(low)):
        lay = t.layers[i]
        sl = slice(seg.start[i], seg.start[i] + seg.count[i])
        mi, li = m[sl], low[sl].copy()
        q = lay.w.quantization if lay.w is not None else None
        axis = q.quantized_dimension if q is not None and len(q.scale) > 1 else None
        rng = channel_range(model, lay.w, axis) if lay.w is not None and model.is_constant(lay.w) else None
        if rng is not None and rng[0].size == mi.size:
            li &= (rng[0] != 0) | (rng[1] != 0)  # dead channels are QC204's
        bad = np.flatnonzero(li)
        if bad.size:
            c = int(bad[np.argmin(mi[bad])])
            yield Violation(at_tensor(lay.sg, lay.y, lay.op),  # type: ignore[arg-type]
                            f"effective multiplier of channel {c} is {mi[c]:.3g} < 2^-31 ({bad.size} of {mi.size} channel(s)); "
                            "the kernel flushes it to 0 and the channel outputs a constant", details={"channels": bad[:64].tolist()})


@rule("QC406", "fused-activation-overflow")
def fused_activation_overflow(model: Model, ctx: Context) -> Iterator[Violation]:
    """A fused activation's bounds do not fit in int32 once quantized with the output scale.

    ## What it checks
    For ops with a fused RELU, RELU6 or RELU_N1_TO_1 and a quantized per-tensor output:
    `zero_point + round(v / scale)` for the activation's bounds (0; 0 and 6; -1 and 1) must
    lie in the int32 range. Tiny output scales break it (below about 2.8e-9 with RELU6).

    ## Why it matters
    LiteRT computes these bounds in `CalculateActivationRangeQuantized` and rejects the model at
    load time ("no_integer_overflow_from_quantization was not true").

    ## How to fix
    Recalibrate the output (its scale is absurdly small) or remove the fused activation.

    ## References
    - LiteRT `tflite/kernels/kernel_util.cc` (CalculateActivationRangeQuantized); google-coral/edgetpu#453
    """
    for sg, op in model.iter_operators():
        act = op.options.get("fused_activation_function") if op.options else None
        points = _ACT_POINTS.get(act) if isinstance(act, str) else None
        if points is None or not op.outputs:
            continue
        y = sg.tensor(op.outputs[0])
        q = y.quantization if y is not None else None
        if y is None or q is None or y.dtype not in ("INT8", "UINT8", "INT16") or len(q.scale) != 1 or not q.scale[0] > 0:
            continue
        s, zp = float(q.scale[0]), int(q.zero_point[0]) if len(q.zero_point) else 0
        for v in points:
            qv = zp + round(v / s)
            if not _INT32[0] <= qv <= _INT32[1]:
                yield Violation(at_tensor(sg, y, op), f"fused {act} bound {v:g} quantizes to {qv:.4g} with output scale "
                                                      f"{s:.3g}, outside int32; LiteRT rejects the model at load time")
                break


@rule("QC407", "accumulation-depth-overflow", severity=Severity.WARNING)
def accumulation_depth_overflow(model: Model, ctx: Context) -> Iterator[Violation]:
    """An int8 convolution sums more than 2^16 products into one int32 accumulator.

    ## What it checks
    For int8/uint8 CONV_2D, TRANSPOSE_CONV (filter height x width x input channels),
    DEPTHWISE_CONV_2D (height x width) and FULLY_CONNECTED (input depth): the accumulation
    depth must be at most 65536.

    ## Why it matters
    With weights in [-127, 127] each product is within [-32512, 32512]; only 2^16 of them are
    guaranteed to fit in int32. Deeper sums can overflow and wrap silently (the reference kernel
    comments that this is not checked).

    ## How to fix
    Split the layer (e.g. a grouped or two-stage FULLY_CONNECTED), or use 16x8 (int64 accumulators).

    ## References
    - LiteRT `tflite/kernels/internal/reference/integer_ops/conv.h` (comment)
    """
    for lay in layers(model):
        x, w, ws = lay.x, lay.w, lay.spec.weights
        if x is None or w is None or ws is None or x.dtype not in ("INT8", "UINT8") or not x.quantized:
            continue
        if not all(-len(w.shape) <= d < len(w.shape) for d in ws.depth_axes) or not ws.depth_axes:
            continue
        depth = math.prod(w.shape[d] for d in ws.depth_axes)
        if depth > MAX_DEPTH:
            yield Violation(at_tensor(lay.sg, w, lay.op), f"accumulation depth is {depth} (weights {list(w.shape)}), above 2^16 = {MAX_DEPTH}")
