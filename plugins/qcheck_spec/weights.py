"""QC201-QC205, QC212: weight operands (those of the LiteRT quantization spec, `operator_property.cc` and `tfl_ops.td`
only; other constants may be asymmetric)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from qcheck import Context, Model, Severity, Tensor, Violation, rule
from qcheck.findings import at_tensor
from qcheck_spec.bulk import Stats, buffer_stats, layer_table
from qcheck_spec.graph import NARROW, Layer, channel_range, layers, weight_layers


def _axis_of(w: Tensor) -> int | None:
    """The axis the weight's scales run along (None for per-tensor weights)."""
    q = w.quantization
    if q is None or len(q.scale) <= 1 or not 0 <= q.quantized_dimension < len(w.shape):
        return None
    return q.quantized_dimension if len(q.scale) == w.shape[q.quantized_dimension] else None


def _axis(lay: Layer) -> int | None:
    return _axis_of(lay.w) if lay.w is not None else None


def _scanned(model: Model, suspect: Callable[[Tensor, Stats], bool]) -> Iterator[tuple[Layer, Tensor, int | None, tuple[np.ndarray, np.ndarray]]]:
    """Constant weights whose batched buffer stats look `suspect`, with their per-channel (min, max)."""
    stats = buffer_stats(model)
    for lay in weight_layers(model):
        w = lay.w
        st = stats.get(w.buffer) if w is not None else None
        if w is None or st is None or not suspect(w, st):
            continue
        axis = _axis(lay)
        rng = channel_range(model, w, axis)
        if rng is not None:
            yield lay, w, axis, rng


def _per_channel(w: Tensor, axis: int | None) -> int:
    return w.num_elements // max(1, w.shape[axis]) if axis is not None else w.num_elements


def _channels(idx: np.ndarray, limit: int = 8) -> str:
    shown = ", ".join(str(i) for i in idx[:limit].tolist())
    return shown + (", ..." if idx.size > limit else "")


@rule("QC201", "asymmetric-weights")
def asymmetric_weights(model: Model, ctx: Context) -> Iterator[Violation]:
    """A weight operand has a non-zero zero point.

    ## What it checks
    The weight operand of CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and TRANSPOSE_CONV (input
    1), and of EMBEDDING_LOOKUP when it runs hybrid, stored as INT8/INT4/INT2: every zero point
    must be 0. Other constants (ADD/MUL/CONCATENATION operands, ...) may legitimately be
    asymmetric and are not checked.

    ## Why it matters
    The int8 spec makes weights symmetric so kernels can drop the zero-point cross term. LiteRT
    rejects int8/int16 convolutions with a non-zero filter zero point at load time; per-tensor
    FULLY_CONNECTED still runs "for backward compatibility", TFLite Micro asserts, and
    accelerators (CMSIS-NN, NPUs) compute wrong results.

    ## How to fix
    Quantize weights symmetrically (the TFLite converter's default; in QAT, `narrow_range=True`
    and symmetric weight quantizers).

    ## References
    - LiteRT quantization spec ("Symmetric vs asymmetric"); `tflite/kernels/conv.cc`;
      tensorflow/tflite-micro#1784, #960, #2267; tensorflow/tensorflow#59846, #35318
    """
    t = layer_table(model)
    for i in np.flatnonzero(t.weighted & t.w.any(t.wzp != 0)):
        lay = t.layers[i]
        zp = t.wzp[t.w.start[i] : t.w.start[i] + t.w.count[i]]
        bad = np.flatnonzero(zp)
        yield Violation(at_tensor(lay.sg, lay.w, lay.op),  # type: ignore[arg-type]
                        f"weight zero point is {int(zp[bad[0]])} on channel {int(bad[0])} ({bad.size} of {zp.size} non-zero); the spec requires 0",
                        fix="quantize the weights symmetrically", details={"channels": bad[:64].tolist()})


@rule("QC202", "weight-outside-narrow-range", severity=Severity.WARNING)
def weight_outside_narrow_range(model: Model, ctx: Context) -> Iterator[Violation]:
    """A weight of an int8 x int8 layer holds the most negative value (-128), outside the narrow range.

    ## What it checks
    The data of the weight operands listed in QC201, in layers with INT8 (or UINT8) activations:
    int8 values must lie in [-127, 127], int4 in [-7, 7], int2 in [-1, 1]. Layers with INT16
    activations (16x8) are not checked: their kernels multiply int16 by int8 and accumulate in
    int64, so -128 is exact there. Each buffer is scanned once per run (shared with QC204).

    ## Why it matters
    The spec restricts int8 weights to [-127, 127] so that optimized kernels may add two int8
    products in an int16 register: ruy's ARM NEON kernels without dot-product instructions
    (`ruy/kernel_arm64.cc`, SMULL + SMLAL) do, and -128 * -128 + -128 * -128 = 32768 overflows
    int16 (`ruy/validate.h`). LiteRT's reference and x86 kernels and TFLite Micro compute it
    exactly, so most runtimes give the right result: a narrow but real risk, not an error. The
    finding says so (`details.runtimes`: LiteRT may compute it wrong on such ARM cores, TFLite Micro
    runs it right): with `--target tflm` alone it is INFO.

    ## How to fix
    Clamp weights to [-127, 127] when quantizing (QAT: `narrow_range=True`).

    ## References
    - LiteRT quantization spec (weights "restricted to [-127, 127]"); google/ruy `ruy/kernel_arm64.cc`,
      `ruy/validate.h`; alibaba/TinyNeuralNetwork#60; tensorflow/tensorflow#20739, #56587
    """
    for lay, w, axis, rng in _scanned(model, lambda w, st: st.min < -NARROW[w.dtype] or st.max > NARROW[w.dtype]):
        if lay.x is not None and lay.x.dtype == "INT16":
            continue  # 16x8: int64 accumulation, -128 is exact
        lo = NARROW[w.dtype]
        bad = np.flatnonzero((rng[0] < -lo) | (rng[1] > lo))
        if bad.size:
            where = f"channel(s) {_channels(bad)} of {rng[0].size}" if axis is not None else "the tensor"
            yield Violation(at_tensor(lay.sg, w, lay.op), f"{w.dtype} weight values reach {int(rng[0].min())} in {where}; the spec range is [-{lo}, {lo}]"
                            " (ARM NEON kernels without dot-product instructions can overflow an int16 sum of two products)",
                            fix="requantize with a narrow (symmetric) range",
                            details={"channels": bad[:64].tolist(), "runtimes": {"litert": "wrong", "tflm": "runs"}})


@rule("QC203", "wrong-weight-quantized-dimension")
def wrong_weight_quantized_dimension(model: Model, ctx: Context) -> Iterator[Violation]:
    """Per-channel weights are quantized along the wrong axis.

    ## What it checks
    A weight operand with more than one scale must have `quantized_dimension` equal to the op's
    output-channel axis: CONV_2D 0 (OHWI), DEPTHWISE_CONV_2D 3 (1HWO), FULLY_CONNECTED 0,
    TRANSPOSE_CONV 0, EMBEDDING_LOOKUP 0.

    ## Why it matters
    The kernels index the scales by output channel: FULLY_CONNECTED rejects another axis at load
    time ("quantized_dimension must be 0"), and convolutions that accept the count anyway apply
    each scale to the wrong channel.

    ## How to fix
    Re-quantize per output channel on the axis above.

    ## References
    - LiteRT `operator_property.cc` (per_axis_index), `tfl_ops.td` (GetQuantizationDimIndex),
      `fully_connected.cc`, `depthwise_conv.cc`, `embedding_lookup.cc`; the LiteRT quantization spec
      (https://ai.google.dev/edge/litert/models/quantization_spec); tensorflow/tensorflow#66081
    """
    for lay in layers(model):
        w, ws = lay.w, lay.spec.weights
        q = w.quantization if w is not None else None
        if w is None or ws is None or q is None or len(q.scale) <= 1:
            continue
        if ws.axis is None or q.quantized_dimension != ws.axis:
            want = "per-tensor only" if ws.axis is None else f"axis {ws.axis}"
            yield Violation(at_tensor(lay.sg, w, lay.op),
                            f"{len(q.scale)} weight scales along quantized_dimension {q.quantized_dimension} of shape {list(w.shape)}; {lay.op.opcode} needs {want}")


def _dead_channels(model: Model) -> Iterator[tuple[Layer, Tensor, int | None, np.ndarray, np.ndarray]]:
    """Weights with all-zero channels: (layer, weights, axis, dead channels, which of them are harmful)."""
    # a channel can be all zero only if the buffer holds at least one channel's worth of zeros
    for lay, w, axis, rng in _scanned(model, lambda w, st: st.zeros is None or st.zeros >= _per_channel(w, _axis_of(w))):
        dead = np.flatnonzero((rng[0] == 0) & (rng[1] == 0))
        if not dead.size:
            continue
        scale = w.quantization.scale if w.quantization is not None else np.zeros(0, np.float32)
        s = scale[dead] if scale.size > 1 else np.full(dead.size, scale[0] if scale.size else 0.0, np.float32)
        harmful = np.abs(s) < np.finfo(np.float32).tiny  # 0 or subnormal
        bias = model.array(lay.b) if lay.b is not None else None
        if bias is not None and bias.dtype.kind == "i" and bias.size == rng[0].size:
            limit = np.iinfo(bias.dtype).max
            harmful |= np.abs(bias[dead].astype(np.float64)) >= limit
        yield lay, w, axis, dead, harmful


def _dead_where(dead: np.ndarray, total: int, axis: int | None) -> str:
    return f"channel(s) {_channels(dead)} ({dead.size} of {total})" if axis is not None else "every value"


@rule("QC204", "degenerate-weight-channel", severity=Severity.WARNING)
def degenerate_weight_channel(model: Model, ctx: Context) -> Iterator[Violation]:
    """An all-zero weight channel has a zero or subnormal scale, or a saturated bias.

    ## What it checks
    For the weight operands of QC201 (constant data), output channels (along the quantized
    dimension; the whole tensor for per-tensor weights) whose weights are all zero AND whose
    weight scale is 0 or subnormal, or whose bias sits at the int32/int64 limit. Dead channels
    without these are QC212 (information).

    ## Why it matters
    The quantizer's min == max == 0 case gives such channels a meaningless scale: the bias scale
    (input x weight scale) and the requantization multiplier of the channel become 0 or
    denormal, and a bias quantized with it saturates, so the channel outputs garbage instead
    of its bias.

    ## How to fix
    Remove the channel (prune the layer), or give dead channels a normal scale when quantizing.

    ## References
    - LiteRT `tflite/tools/optimize/quantization_utils.cc` (zero scales from min == max == 0),
      `tflite/kernels/kernel_util.cc` (GetQuantizedConvolutionMultipler); XiaoMi/mace#293
    """
    for lay, w, axis, dead, harmful in _dead_channels(model):
        if harmful.any():
            bad = dead[harmful]
            yield Violation(at_tensor(lay.sg, w, lay.op), f"weights are all zero in {_dead_where(bad, _count_channels(w, axis), axis)} and their "
                                                          "scale is 0 or subnormal, or their bias is saturated", details={"channels": bad[:64].tolist()})


@rule("QC212", "dead-weight-channel", severity=Severity.INFO)
def dead_weight_channel(model: Model, ctx: Context) -> Iterator[Violation]:
    """An output channel's weights are all zero (with a usable scale and bias): a dead channel.

    ## What it checks
    All-zero output channels of the weight operands of QC201 whose scale is normal and whose
    bias is representable: the channel outputs only its bias, exactly.

    ## Why it matters
    Nothing computes wrong; it usually means pruning, or a training problem worth knowing about.

    ## How to fix
    Remove the channel (prune the layer) or check the training; no change is needed if it is intended.

    ## References
    - LiteRT quantization spec (per-channel weights); XiaoMi/mace#293
    """
    for lay, w, axis, dead, harmful in _dead_channels(model):
        if not harmful.all():
            ok = dead[~harmful]
            yield Violation(at_tensor(lay.sg, w, lay.op), f"weights are all zero in {_dead_where(ok, _count_channels(w, axis), axis)}",
                            details={"channels": ok[:64].tolist()})


def _count_channels(w: Tensor, axis: int | None) -> int:
    return w.shape[axis] if axis is not None else 1


_EXPECTED_WEIGHTS = {"INT8": ("INT8", "INT4", "INT2"), "INT16": ("INT8", "INT4", "INT2"), "UINT8": ("UINT8",)}


@rule("QC205", "unexpected-weight-dtype", severity=Severity.WARNING)
def unexpected_weight_dtype(model: Model, ctx: Context) -> Iterator[Violation]:
    """A quantized op's weights have a dtype the spec does not pair with its activations.

    ## What it checks
    For the weight operands of QC201 with integer activations: int8 and 16x8 (int16 activation)
    models need INT8 weights (INT4/INT2 for the low-bit variants); legacy uint8 models need UINT8
    weights. INT16 weights (16x16) and mixed int8/uint8 pairs are flagged, as are INT16 constants
    on a weight operand in a 16x8 model (only non-weight operands of ADD, MUL, SUB, ... may be
    INT16 constants there).

    ## Why it matters
    16x8 and int8 kernels are written for int8 filters; other pairs run only on a few kernels
    (FULLY_CONNECTED's int16-weight path) or are rejected by the kernel's type check.

    ## How to fix
    Quantize the weights to int8 (`EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8`
    for 16x8).

    ## References
    - LiteRT quantization spec; `operator_property.cc` (quantize_input_as_activations);
      `tflite/g3doc/performance/post_training_quantization.md` and TF PR #35946 (16x8)
    """
    for lay in layers(model):
        x, w = lay.x, lay.w
        if x is None or w is None or not x.quantized or x.dtype not in _EXPECTED_WEIGHTS:
            continue
        if w.dtype not in _EXPECTED_WEIGHTS[x.dtype]:
            yield Violation(at_tensor(lay.sg, w, lay.op), f"{x.dtype} activations with {w.dtype} weights; the spec pairs them with {'/'.join(_EXPECTED_WEIGHTS[x.dtype])}")
