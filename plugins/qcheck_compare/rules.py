"""Comparison rules (QC7xx): what `qcheck compare` measured, judged against its thresholds."""

from __future__ import annotations

import math
from collections.abc import Iterator

from qcheck.compare.result import Comparison, LayerError, format_db
from qcheck.compare.thresholds import Thresholds
from qcheck.findings import MODEL, Location, Severity, Violation
from qcheck.rules import Context, rule
from qcheck.tflite.model import Model


def _judged(ctx: Context) -> tuple[Comparison, Thresholds] | None:
    c = ctx.comparison
    return c if isinstance(c, tuple) and len(c) == 2 and isinstance(c[0], Comparison) else None


def _at(model: Model, op: int, tensor: int) -> Location:
    sub = model.subgraphs[0]
    t = sub.tensor(tensor)
    opcode = sub.operators[op].opcode if 0 <= op < len(sub.operators) else None
    return Location(0, op if op >= 0 else None, opcode, tensor, t.name if t else None)


def _scale(layer: LayerError) -> str:
    return f"scale {layer.scale:.6g}, zero point {layer.zero_point}" if layer.scale is not None else f"{layer.dtype}, no scale"


@rule("QC701", "output-sqnr-low", needs_comparison=True)
def output_sqnr_low(model: Model, ctx: Context) -> Iterator[Violation]:
    """A model output of the quantized model is far from the float model's on the comparison data.

    ## What it checks
    The signal-to-quantization-noise ratio of each model output, `10 log10(sum f^2 / sum (q - f)^2)`
    over all samples, with `q` the quantized model's output read back to real numbers through its scale
    and `f` the float model's. Below `--min-output-sqnr` (default 10 dB: the error's power is then a
    tenth of the signal's, an rms error of 32% of the rms output) is an ERROR.

    ## Why it matters
    The quantized model computes something else than the model it was made from: whatever accuracy
    the float model had does not carry over. The layers ranked worst in the same report say where.

    ## How to fix
    Calibrate with data like the real inputs (`qcheck convert --calibration`), keep the ranked layers in
    float (`qcheck convert --keep-float ...`), or use 16x8 quantization for activations.

    ## References
    - TensorFlow Lite quantization debugger guide (tensorflow/lite/g3doc/performance/quantization_debugger.ipynb)
    - Nagel et al., "A White Paper on Neural Network Quantization" (2021), section 3: SQNR as the error measure
    """
    judged = _judged(ctx)
    if judged is None:
        return
    comparison, bounds = judged
    for out in comparison.outputs:
        if out.sqnr_db < bounds.min_output_sqnr:
            yield Violation(_at(model, out.op, out.quant_tensor),
                            f"output {out.name!r} has an SQNR of {format_db(out.sqnr_db)} against the float model over "
                            f"{comparison.samples} samples (bound {bounds.min_output_sqnr:g} dB): MSE {out.mse:.4g}, "
                            f"largest error {out.max_abs:.4g}" + (f", cosine {out.cosine:.4f}" if out.cosine is not None else ""))


@rule("QC702", "layer-error-dominant", severity=Severity.WARNING, needs_comparison=True)
def layer_error_dominant(model: Model, ctx: Context) -> Iterator[Violation]:
    """One op adds most of the quantization error of the whole model, well beyond rounding.

    ## What it checks
    Each op's own error: its quantized output against the float op run on the quantized model's own
    (dequantized) inputs, so that error inherited from upstream does not count (the layer-wise mode of
    TensorFlow's QuantizationDebugger). A WARNING when one op holds more than `--max-layer-share`
    (default 0.5) of all error introduced in the model and that error is beyond rounding: an RMSE of
    more than 0.7 output scale steps for 8-bit outputs (rounding alone gives 1/sqrt(12) = 0.29), an
    own SQNR under 30 dB for 16-bit and float outputs (16-bit rounding alone stays above 60 dB).

    ## Why it matters
    Rounding spreads error thinly over every layer. One op holding most of it usually means a range
    calibrated too narrow (values clip), a scale set wrong, or an op that quantizes badly.

    ## How to fix
    Look at the op's output range in the calibration data; keep it in float
    (`qcheck convert --keep-float NAME`, as the report suggests) or calibrate with representative data.

    ## References
    - tensorflow/lite/tools/optimize/debugging/python/debugger.py (QuantizationDebugger, NumericVerify ops)
    - TensorFlow quantization debugger tutorial: layers with rmse/scale above 0.7 are suspects
    """
    judged = _judged(ctx)
    if judged is None:
        return
    comparison, bounds = judged
    for layer in comparison.layers:
        if layer.share > bounds.max_layer_share and bounds.beyond_rounding_error(layer):
            steps = f", {layer.rmse_over_scale:.2f} scale steps rms" if layer.rmse_over_scale is not None else ""
            yield Violation(_at(model, layer.op, layer.tensor),
                            f"{layer.opcode} writing {layer.name!r} ({_scale(layer)}) adds {layer.share:.0%} of the model's "
                            f"quantization error by itself: its own SQNR is {format_db(layer.sqnr_db)}{steps}")


@rule("QC703", "fail-if", needs_comparison=True)
def fail_if(model: Model, ctx: Context) -> Iterator[Violation]:
    """A condition given with `--fail-if` holds.

    ## What it checks
    Each `--fail-if 'SCOPE.METRIC OP NUMBER'`: `output.` metrics (sqnr, mse, max_abs, cosine, kl,
    top1, top5) for every model output, `layer.` metrics (sqnr, mse, max_abs, share,
    rmse_over_scale: the error each op introduces) for every layer. One finding per output or layer
    for which it holds.

    ## Why it matters
    It is the project's own accuracy bar, made a failing exit status in CI.

    ## How to fix
    Improve the quantized model until the condition no longer holds, or change the bar.

    ## References
    - qcheck compare --help
    """
    judged = _judged(ctx)
    if judged is None:
        return
    comparison, bounds = judged
    for condition in bounds.fail_if:
        for item, value in condition.holds(comparison):
            op = item.op
            tensor = item.quant_tensor if condition.scope == "output" else item.tensor  # type: ignore[union-attr]
            yield Violation(_at(model, op, tensor), f"--fail-if {condition.text!r} holds for {condition.scope} {item.name!r}: "
                                                   f"{condition.metric} is {value:.6g}")


@rule("QC704", "channel-scale-error", severity=Severity.WARNING, needs_comparison=True)
def channel_scale_error(model: Model, ctx: Context) -> Iterator[Violation]:
    """One output channel of a per-channel op carries most of its error, and its weight scale stands out.

    ## What it checks
    For ops with per-channel weights (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, TRANSPOSE_CONV, CONV_3D),
    the op's own error summed per output channel. A WARNING when one channel holds more than half of
    it, the op's error is beyond rounding (as QC702 tells it), and that channel's weight
    scale is more than 2x away from the median channel's.

    ## Why it matters
    A weight scale out of line with its channel's values makes that channel's products wrong by the
    same factor: every value it outputs is off, however good the activations' ranges are.

    ## How to fix
    Requantize the weights from the float model (per channel: max(|w|) / 127 for each channel).

    ## References
    - LiteRT quantization spec: per-axis int8 weights, symmetric, one scale per output channel
    """
    judged = _judged(ctx)
    if judged is None:
        return
    comparison, bounds = judged
    for layer in comparison.layers:
        ch = layer.channel
        if ch is None or not bounds.beyond_rounding_error(layer) or ch.share <= 0.5:
            continue
        ratio = ch.weight_scale / ch.median_scale if ch.median_scale > 0 else math.inf
        if not 0.5 <= ratio <= 2:
            yield Violation(_at(model, layer.op, layer.tensor),
                            f"channel {ch.channel} of {layer.opcode} writing {layer.name!r} carries {ch.share:.0%} of its error "
                            f"(channel SQNR {format_db(ch.sqnr_db)}); its weight scale {ch.weight_scale:.6g} is {ratio:.3g}x the "
                            f"median channel's {ch.median_scale:.6g}")


@rule("QC705", "unmatched-activations", severity=Severity.INFO, needs_comparison=True)
def unmatched_activations(model: Model, ctx: Context) -> Iterator[Violation]:
    """Activations of one model that the comparison could not pair with the other's.

    ## What it checks
    Tensors computed at run time that neither a shared name, the position of their op in the graph,
    nor a QUANTIZE/DEQUANTIZE the converter inserted tie to a tensor of the other model.

    ## Why it matters
    Their error is not measured; the layers around them are. Renamed or restructured graphs cause it.

    ## How to fix
    Nothing to fix in the model; compare versions converted from the same source to match everything.

    ## References
    - qcheck/compare/matching.py
    """
    judged = _judged(ctx)
    if judged is None:
        return
    comparison, _ = judged
    for side, names in (("float", comparison.unmatched_float), ("quantized", comparison.unmatched_quant)):
        if names:
            shown = ", ".join(repr(n) for n in names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            yield Violation(MODEL, f"{len(names)} activation(s) of the {side} model have no counterpart: {shown}")
