"""QC301-QC305: activation (and other non-weight) quantization parameters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import numpy as np

from qcheck import Context, Model, Severity, Subgraph, Tensor, Violation, rule
from qcheck.findings import at_tensor
from qcheck_spec.graph import SCALE_RTOL, entry_io, layers, scale_zp
from qcheck_spec.scheme import analyse

_TINY: Final = float(np.finfo(np.float32).tiny)  # smallest normal float32


@rule("QC301", "per-axis-activation")
def per_axis_activation(model: Model, ctx: Context) -> Iterator[Violation]:
    """A tensor computed at run time has per-axis (several) scales.

    ## What it checks
    Non-constant, non-weight tensors with quantization parameters must be per-tensor (one scale,
    one zero point).

    ## Why it matters
    The spec quantizes activations per tensor, and kernels read only the legacy per-tensor
    params, which LiteRT sets to (0, 0) for a multi-scale tensor: the op then divides by a zero
    scale or computes garbage.

    ## How to fix
    Quantize activations per tensor.

    ## References
    - LiteRT quantization spec ("Activations ... per-tensor"); `tflite/core/subgraph.cc`
      (GetLegacyQuantization)
    """
    weights = {(lay.sg.index, lay.w.index) for lay in layers(model) if lay.w is not None}
    for sg, t in model.iter_tensors():
        q = t.quantization
        if q is None or len(q.scale) <= 1 or (sg.index, t.index) in weights or model.is_constant(t):
            continue
        yield Violation(at_tensor(sg, t), f"activation has {len(q.scale)} scales along dimension {q.quantized_dimension}; activations must be per-tensor")


@rule("QC302", "int16-nonzero-zero-point")
def int16_nonzero_zero_point(model: Model, ctx: Context) -> Iterator[Violation]:
    """An INT16 tensor has a non-zero zero point.

    ## What it checks
    Every quantized INT16 tensor (16x8 activations and the INT16 constants of ADD/MUL/...)
    has zero point 0. The one exception is the INT16 output of a SOFTMAX with INT8 input (an
    int8 model with int16 probabilities), which must be (1/65536, -32768) as TFLite Micro's
    `softmax_common.cc` (CalculateSoftmaxParams) requires; LiteRT runs it too.

    ## Why it matters
    16x8 quantization is symmetric. Most int16 kernels reject a non-zero zero point at load time
    (conv, FC, add, softmax, logistic, tanh, concatenation, quantize, ...), but MUL, pooling, PAD
    and RESHAPE do not check and silently compute with a wrong offset.

    ## How to fix
    Quantize int16 tensors symmetrically (`scale = max|x| / 32767`, zero point 0).

    ## References
    - LiteRT `tflite/tools/optimize/quantization_utils.cc`; TF PR #43148; LiteRT `operator_property.cc`
      (tensor_property_default: int16 symmetric), `tflite/kernels/*.cc` (int16 zero-point checks; none in `mul.cc`,
      `pooling.cc`, `pad.cc`, `reshape.cc`); tensorflow/tflite-micro#1364
    """
    for sg, t in model.iter_tensors():
        if t.dtype != "INT16":
            continue
        p = scale_zp(t)
        if p is not None and _int8_softmax_output(sg, t):
            scale, zp = float(p[0][0]), int(p[1][0])
            if abs(scale - _SOFTMAX16[0]) > SCALE_RTOL * _SOFTMAX16[0] or zp != _SOFTMAX16[1]:
                yield Violation(at_tensor(sg, t), f"the INT16 output of an int8 SOFTMAX has (scale {scale:.6g}, zp {zp}); "
                                                  f"TFLite Micro requires (1/65536, -32768)")
        elif p is not None and p[1].any():
            bad = np.flatnonzero(p[1])
            yield Violation(at_tensor(sg, t), f"INT16 zero point is {int(p[1][bad[0]])}; 16x8 quantization requires 0")


# int8 SOFTMAX with an INT16 output: probabilities in [0, 1) over the whole int16 range.
_SOFTMAX16 = (1 / 65536, -32768)


def _int8_softmax_output(sg: Subgraph, t: Tensor) -> bool:
    producer = sg.producer(t.index)
    x = sg.tensor(producer.inputs[0]) if producer is not None and producer.opcode == "SOFTMAX" and producer.inputs else None
    return x is not None and x.dtype == "INT8"


@rule("QC303", "uint8-io-requantization-mismatch")
def uint8_io_requantization_mismatch(model: Model, ctx: Context) -> Iterator[Violation]:
    """A uint8 model input or output does not mirror its int8 neighbour (same scale, zero point + 128).

    ## What it checks
    For a UINT8 model input consumed by a QUANTIZE into INT8, and a UINT8 model output produced by
    a QUANTIZE from INT8: both scales are equal (relative 1e-6) and `zp_uint8 == zp_int8 + 128`.

    ## Why it matters
    That is how the converter's uint8 interface works (`inference_input_type=tf.uint8`): the
    QUANTIZE is a pure 128 shift. Anything else requantizes at the edge, loses precision, and means
    the documented input/output quantization differs from the model's inside.

    ## How to fix
    Regenerate the interface with the converter (or `modify_model_interface`).

    ## References
    - LiteRT `tflite/tools/optimize/modify_model_interface.cc`, `quantize_model.cc`
      (SetInputType/SetOutputType); tensorflow/tensorflow#53293, #35072
    """
    for s, (ins, outs) in entry_io(model).items():
        sg = model.subgraphs[s]
        for op in sg.operators:
            if op.opcode != "QUANTIZE" or not op.inputs or not op.outputs:
                continue
            a, b = sg.tensor(op.inputs[0]), sg.tensor(op.outputs[0])
            if a is None or b is None:
                continue
            if a.index in ins and a.dtype == "UINT8" and b.dtype == "INT8":
                u8, i8 = a, b
            elif b.index in outs and b.dtype == "UINT8" and a.dtype == "INT8":
                u8, i8 = b, a
            else:
                continue
            pu, pi = scale_zp(u8), scale_zp(i8)
            if pu is None or pi is None:
                continue
            su, si, zu, zi = float(pu[0][0]), float(pi[0][0]), int(pu[1][0]), int(pi[1][0])
            if abs(su - si) > SCALE_RTOL * max(su, si) or zu != zi + 128:
                yield Violation(at_tensor(sg, u8, op), f"UINT8 model I/O has (scale {su:.6g}, zp {zu}) but its INT8 neighbour '{i8.name}' has "
                                                       f"(scale {si:.6g}, zp {zi}); expected (scale {si:.6g}, zp {zi + 128})")


@rule("QC304", "uint8-activation-in-integer-model")
def uint8_activation_in_integer_model(model: Model, ctx: Context) -> Iterator[Violation]:
    """A uint8 activation sits inside an int8 or 16x8 model, away from the model's I/O.

    ## What it checks
    In a model that also has int8 or int16 activations, UINT8 activations are allowed only as
    model inputs/outputs next to their QUANTIZE (QC303). Legacy all-uint8 models are not flagged.

    ## Why it matters
    uint8 is the legacy asymmetric scheme: the int8 spec, TFLite Micro and most accelerators do
    not mix the two inside a graph, and each crossing costs a requantization.

    ## How to fix
    Convert the whole model to int8, keeping uint8 only at the interface if needed.

    ## References
    - LiteRT quantization spec ("In the past ... uint8"); tensorflow/tensorflow#44912 (TFLite Micro avoids uint8)
    """
    for s, t in analyse(model).uint8_internal:
        sg = model.subgraphs[s]
        yield Violation(at_tensor(sg, sg.tensors[t]), "UINT8 activation inside a model whose other activations are int8/int16")


@rule("QC305", "subnormal-scale", severity=Severity.WARNING)
def subnormal_scale(model: Model, ctx: Context) -> Iterator[Violation]:
    """A scale is positive but below the smallest normal float32 (subnormal).

    ## What it checks
    Every scale of every quantized tensor: `0 < scale < 1.18e-38` is flagged. (Zero, negative and
    non-finite scales are QC023's.)

    ## Why it matters
    Subnormal scales lose precision, are flushed to zero on hardware and builds with
    flush-to-zero (turning into a division by zero), and make every product with another scale
    underflow, so requantization multipliers and bias scales become meaningless.

    ## How to fix
    Calibrate with data that exercises the tensor, or drop the dead tensor/channel.

    ## References
    - LiteRT `tflite/kernels/internal/quantization_util.cc` (QuantizeMultiplier); google-coral/edgetpu#453;
      tensorflow/tflite-micro#3039; XiaoMi/mace#293
    """
    found = [(sg, t) for sg, t in model.iter_tensors() if t.quantization is not None and len(t.quantization.scale)]
    if not found:
        return
    scales = np.concatenate([t.quantization.scale for _, t in found])  # type: ignore[union-attr]
    if not ((scales > 0) & (scales < _TINY)).any():  # one vectorised test; the loop below runs only on a hit
        return
    for sg, t in found:
        s = t.quantization.scale  # type: ignore[union-attr]
        bad = np.flatnonzero((s > 0) & (s < _TINY))
        if bad.size:
            yield Violation(at_tensor(sg, t), f"scale[{int(bad[0])}] is {float(s[bad[0]]):.3g}, subnormal ({bad.size} of {s.size} scales)")
