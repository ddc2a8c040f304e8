"""QC206-QC211: bias operands of CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and TRANSPOSE_CONV."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import numpy as np

from qcheck import Context, Model, Severity, Violation, rule
from qcheck.findings import at_tensor
from qcheck_spec.bulk import bias_pairs, buffer_stats, layer_table
from qcheck_spec.graph import SCALE_RTOL, Layer, layers

_LIMITS: Final = {"INT32": 2**31 - 1, "INT64": 2**63 - 1}


def _biased(model: Model) -> Iterator[Layer]:
    for lay in layers(model):
        if lay.b is not None and lay.spec.bias is not None:
            yield lay


@rule("QC206", "wrong-bias-dtype")
def wrong_bias_dtype(model: Model, ctx: Context) -> Iterator[Violation]:
    """The bias dtype does not match the activation dtype (and `quantized_bias_type`).

    ## What it checks
    int8 and uint8 activations need an INT32 bias. int16 activations (16x8) need INT64, or INT32
    when the op's `quantized_bias_type` is INT32 (CONV_2D, FULLY_CONNECTED, TRANSPOSE_CONV);
    DEPTHWISE_CONV_2D has no such option and needs INT64. A set `quantized_bias_type` must equal
    the bias dtype. Float activations need a FLOAT32 bias.

    ## Why it matters
    LiteRT rejects DEPTHWISE_CONV_2D int16 with an INT32 bias and a `quantized_bias_type` that
    differs from the bias at load time. An INT32 bias without `quantized_bias_type` in a 16x8
    CONV_2D or TRANSPOSE_CONV is read as int64 and silently gives wrong results (measured:
    42,000 LSB off); TFLite Micro accumulates in int32 and overflows. Measured too: TF 2.21 with
    `_experimental_full_integer_quantization_bias_type=tf.int32` writes an INT32 bias for
    DEPTHWISE_CONV_2D, a model LiteRT refuses to load.

    ## How to fix
    Use INT64 biases for 16x8 (the converter default), or set `quantized_bias_type = INT32`
    on ops whose kernel supports it; keep depthwise biases INT64.

    ## References
    - LiteRT `tflite/kernels/conv.cc`, `depthwise_conv.cc`, `fully_connected.cc`,
      `transpose_conv.cc`, `tflite/python/lite.py` (`bias_type()`),
      `tflite/g3doc/performance/post_training_quantization.md` (16x8: int64 bias);
      tensorflow/tflite-micro PR #3597, #3598; measured with the TF 2.21 converter and interpreter
      (16x8 INT32 bias without `quantized_bias_type`: no error, wrong results); tensorflow/tensorflow#53763
    """
    for lay in _biased(model):
        x, b = lay.x, lay.b
        assert b is not None and lay.spec.bias is not None
        if x is None:
            continue
        qbt = lay.op.options.get("quantized_bias_type")
        if qbt is not None and b.dtype != qbt:
            yield Violation(at_tensor(lay.sg, b, lay.op), f"bias is {b.dtype} but quantized_bias_type is {qbt}; LiteRT rejects the mismatch at load time")
            continue
        want: tuple[str, ...]
        if x.dtype in ("INT8", "UINT8") and x.quantized:
            want = ("INT32",)
        elif x.dtype == "INT16" and x.quantized:
            want = ("INT64", "INT32") if lay.spec.bias.int32_option and qbt == "INT32" else ("INT64",)
        elif x.dtype == "FLOAT32":
            want = ("FLOAT32",)
        else:
            continue
        if b.dtype not in want:
            why = ""
            if b.dtype == "INT32" and x.dtype == "INT16":
                why = (" (no quantized_bias_type option exists for it)" if not lay.spec.bias.int32_option
                       else " without quantized_bias_type = INT32, so the kernel reads it as int64")
            yield Violation(at_tensor(lay.sg, b, lay.op), f"{x.dtype} activations with a {b.dtype} bias{why}; expected {' or '.join(want)}",
                            fix="write the bias with the dtype the kernel reads")


@rule("QC207", "nonzero-bias-zero-point")
def nonzero_bias_zero_point(model: Model, ctx: Context) -> Iterator[Violation]:
    """A quantized bias has a non-zero zero point.

    ## What it checks
    Every zero point of an INT32/INT64 bias of the weighted ops is 0.

    ## Why it matters
    The spec defines the bias as `(scale, 0)`: kernels add the raw integers to the accumulator
    and never subtract a bias zero point, so any other value shifts every output.

    ## How to fix
    Requantize the bias symmetrically with zero point 0.

    ## References
    - LiteRT quantization spec (bias: zero_point 0); `tflite/kernels/conv.cc`
    """
    t = layer_table(model)
    for i in np.flatnonzero(t.b.any(t.bzp != 0)):
        lay = t.layers[i]
        zp = t.bzp[t.b.start[i] : t.b.start[i] + t.b.count[i]]
        bad = np.flatnonzero(zp)
        yield Violation(at_tensor(lay.sg, lay.b, lay.op), f"bias zero point is {int(zp[bad[0]])} on channel {int(bad[0])} ({bad.size} of {zp.size} non-zero); the spec requires 0")  # type: ignore[arg-type]


def _mismatch(model: Model, all_zero: bool) -> Iterator[Violation]:
    p, t, stats = bias_pairs(model), layer_table(model), buffer_stats(model)
    off = p.error > SCALE_RTOL
    for i in np.flatnonzero(p.seg.any(off)):
        lay = t.layers[i]
        st = stats.get(lay.b.buffer) if lay.b is not None else None
        if (st is not None and st.min == 0 and st.max == 0) != all_zero:
            continue
        sl = slice(p.seg.start[i], p.seg.start[i] + p.seg.count[i])
        err, bad = p.error[sl], np.flatnonzero(off[sl])
        c = int(bad[np.argmax(err[bad])])
        what = (f"bias scale[{c}] is {p.got[sl][c]:.6g}, expected input scale x weight scale[{c}] = {p.expected[sl][c]:.6g} "
                f"(relative error {err[c]:.3g}; {bad.size} of {err.size} channel(s) off)")
        if all_zero:
            what += "; harmless while every bias value is 0"
        yield Violation(at_tensor(lay.sg, lay.b, lay.op), what,  # type: ignore[arg-type]
                        details={"channels": bad[:64].tolist(), "max_relative_error": float(err.max())})


@rule("QC208", "bias-scale-mismatch")
def bias_scale_mismatch(model: Model, ctx: Context) -> Iterator[Violation]:
    """A bias scale differs from input scale x weight scale (per channel).

    ## What it checks
    For an INT32/INT64 bias with non-zero data: `bias_scale[c] == input_scale * weight_scale[c]`
    within a relative tolerance of 1e-6 (float64 product). Converters store the float32 product,
    at most half an ulp (6e-8) away; 1e-6 allows other float32 rounding orders. A per-tensor bias
    next to per-channel weights must match every channel. All-zero biases are QC209's.

    ## Why it matters
    Kernels add the bias integers straight into the accumulator, whose unit is
    `s_in * s_w[c]`; a different bias scale shifts every output of the channel. LiteRT checks it
    only for uint8 convolutions and per-tensor FULLY_CONNECTED (within 2% of the output scale);
    int8 per-channel convolutions silently compute wrong results, so only a validator catches it.

    ## How to fix
    Requantize the bias with `scale = input_scale * weight_scale[c]` (and re-round its values).

    ## References
    - LiteRT quantization spec (bias scale); `tflite/kernels/kernel_util.cc`
      (GetQuantizedConvolutionMultipler), `conv.cc` (uint8), `fully_connected.cc` (per-tensor);
      VeriSilicon/TIM-VX#183
    """
    yield from _mismatch(model, all_zero=False)


@rule("QC209", "zero-bias-scale-mismatch", severity=Severity.INFO)
def zero_bias_scale_mismatch(model: Model, ctx: Context) -> Iterator[Violation]:
    """An all-zero bias carries a scale other than input scale x weight scale.

    ## What it checks
    QC208's comparison for a bias whose values are all 0.

    ## Why it matters
    Harmless at run time (0 is 0 at any scale), so it is information, not an error. The TF 2.21
    16x8 converter produces it for untrained (zero) biases: it deduplicates them into one tensor
    shared by ops with different scales (measured: up to 50% off). It becomes a real QC208 error
    as soon as someone edits the values.

    ## How to fix
    Nothing is needed; to be tidy, give each op its own bias tensor with its own scale.

    ## References
    - measured with the TF 2.21 converter (16x8, a Keras model whose biases are all zero: CONV_2D and
      DEPTHWISE_CONV_2D share one deduplicated INT64 bias); rebuilt as `zeros16_int16x8` by
      tests/spec/make_spec_models.py
    """
    yield from _mismatch(model, all_zero=True)


@rule("QC210", "bias-length-mismatch")
def bias_length_mismatch(model: Model, ctx: Context) -> Iterator[Violation]:
    """The bias does not have one value per output channel.

    ## What it checks
    The bias element count equals the weights' output-channel dimension (CONV_2D, FULLY_CONNECTED,
    TRANSPOSE_CONV dimension 0, DEPTHWISE_CONV_2D dimension 3).

    ## Why it matters
    The kernels index the bias by output channel. LiteRT's builtin CONV_2D kernel rejects a wrong
    count at load time, but the XNNPACK delegate that the default interpreter applies accepts the
    model (measured, ai-edge-litert 2.3.0) and reads the wrong bias values.

    ## How to fix
    Export one bias value per output channel.

    ## References
    - LiteRT `tflite/kernels/conv.cc` (bias size == filter dims[0]), `depthwise_conv.cc`,
      `transpose_conv.cc` (bias size == weights dims[0])
    """
    for lay in _biased(model):
        n = lay.channels
        if n is not None and lay.b is not None and lay.b.num_elements != n:
            yield Violation(at_tensor(lay.sg, lay.b, lay.op), f"bias has {lay.b.num_elements} values (shape {list(lay.b.shape)}) for {n} output channels")


@rule("QC211", "saturated-bias", severity=Severity.WARNING)
def saturated_bias(model: Model, ctx: Context) -> Iterator[Violation]:
    """Bias values sit at the limits of their dtype: the quantizer clamped them.

    ## What it checks
    INT32 biases reaching +-(2^31 - 1) (or -2^31), INT64 biases reaching +-(2^63 - 1). Each bias
    buffer is scanned once.

    ## Why it matters
    The quantizer computes `round(bias / (s_in * s_w[c]))` and clamps: a value at the limit
    means the real bias did not fit, usually because `s_in * s_w` is tiny (a near-dead channel or
    an input scale close to 0), and the channel's output is wrong.

    ## How to fix
    Calibrate with representative data; check channels with tiny weight scales.

    ## References
    - LiteRT `tflite/tools/optimize/quantization_utils.cc` (SymmetricBiasQuantize);
      tensorflow/tensorflow#33735; microsoft/onnxruntime#22020; Samsung/ONE#6970 (INT64 bias at INT64_MIN, 16x8)
    """
    stats = buffer_stats(model)
    for lay in _biased(model):
        b = lay.b
        st = stats.get(b.buffer) if b is not None and b.dtype in _LIMITS else None
        if b is None or st is None:
            continue
        lim = _LIMITS[b.dtype]
        if st.min <= -lim or st.max >= lim:
            yield Violation(at_tensor(lay.sg, b, lay.op), f"{b.dtype} bias values span [{st.min}, {st.max}], reaching the dtype limit +-{lim}")
