"""QC401-QC404: per-op constraints read from the op table (fixed outputs, same scale, int16, dtypes)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from qcheck import Context, Model, Operator, Subgraph, Tensor, Violation, rule
from qcheck.findings import at_op, at_tensor
from qcheck_spec.graph import SCALE_RTOL, scale_zp
from qcheck_spec.optable import OPS, RUNTIME, Fixed, spec

_QDTYPES: Final = frozenset({"INT8", "UINT8", "INT16", "INT4"})


def _per_tensor(t: Tensor | None) -> tuple[float, int] | None:
    p = scale_zp(t)
    if p is None or len(p[0]) != 1:
        return None
    return float(p[0][0]), int(p[1][0])


def _fixed_runtime(f: Fixed, rel: float, zp_bad: bool) -> str:
    if (zp_bad and f.zp_runtime == "load") or (rel > f.runtime_tol and f.scale_runtime == "load"):
        return RUNTIME["load"]
    if rel > f.runtime_tol and f.scale_runtime == "builtin":
        return RUNTIME["builtin"]
    return RUNTIME["silent"]


@rule("QC401", "fixed-output-quantization-mismatch")
def fixed_output_quantization_mismatch(model: Model, ctx: Context) -> Iterator[Violation]:
    """An op with a hard-coded output quantization has another scale or zero point.

    ## What it checks
    The output of LOGISTIC, SOFTMAX, TANH, LOG_SOFTMAX and L2_NORMALIZATION (same dtype in and
    out) against the spec's fixed values (`qcheck rules --spec` prints them): int8 LOGISTIC and
    SOFTMAX (1/256, -128), TANH and L2_NORMALIZATION (1/128, 0), LOG_SOFTMAX (16/256, 127);
    uint8 the same scales with zero point + 128; int16 LOGISTIC, SOFTMAX and TANH (1/32768, 0).
    Scales must match within 1e-6 relative (all the values are exact in float32).

    ## Why it matters
    The kernels produce values in exactly that quantization. LiteRT rejects some deviations at
    load time (int8 SOFTMAX beyond 0.1%, LOG_SOFTMAX, L2_NORMALIZATION, all int16 cases), the
    builtin LOGISTIC kernel rejects a wrong scale but XNNPACK accepts it, and nothing checks the
    int8/uint8 TANH, uint8 SOFTMAX or the LOGISTIC zero point: those models load and compute
    wrong results. The message says which case applies (measured with ai-edge-litert 2.3.0).
    int16 LOGISTIC is (1/32768, 0) as the kernel checks, not the (1/65536, -32768) of
    `tfl_ops.td`; int8 -> int16 SOFTMAX is not checked (LiteRT defines no value; TFLM wants
    (1/65536, -32768)).

    ## How to fix
    Set the output quantization to the fixed value (and requantize downstream with a QUANTIZE
    if another scale is needed).

    ## References
    - LiteRT quantization spec; `operator_property.cc` (restricted_value_int8/int16);
      `tflite/kernels/activations.cc`, `l2norm.cc`; PINTO0309/PINTO_model_zoo#352;
      `tfl_ops.td` (FixedOutputRangeInterface),
      `tflite/converter/quantization/common/quantization_lib/quantization_utils.cc` (GetFixedOutputRange:
      uint8 zero point + 128); TFLite Micro `tensorflow/lite/micro/kernels/softmax_common.cc`
    """
    for sg, op in model.iter_operators():
        fixed = spec(op.opcode).fixed
        if not fixed or not op.inputs or not op.outputs:
            continue
        x, y = sg.tensor(op.inputs[0]), sg.tensor(op.outputs[0])
        f = fixed.get(y.dtype) if y is not None else None
        got = _per_tensor(y)
        if f is None or got is None or x is None or x.dtype != y.dtype:  # type: ignore[union-attr]
            continue
        rel = abs(got[0] - f.scale) / f.scale
        zp_bad = got[1] != f.zero_point
        if rel > SCALE_RTOL or zp_bad:
            yield Violation(at_tensor(sg, y, op),  # type: ignore[arg-type]
                            f"{op.opcode} {y.dtype} output is (scale {got[0]:.8g}, zp {got[1]}); the spec fixes "  # type: ignore[union-attr]
                            f"(scale {f.scale:.8g}, zp {f.zero_point}); {_fixed_runtime(f, rel, zp_bad)}",
                            fix=f"set the output quantization to ({f.scale:.8g}, {f.zero_point})")


def _listed(ids: tuple[int, ...], wanted: tuple[int, ...] | None) -> list[tuple[int, int]]:
    return [(k, t) for k, t in enumerate(ids) if t >= 0 and (wanted is None or k in wanted)]


@rule("QC402", "same-scale-violation")
def same_scale_violation(model: Model, ctx: Context) -> Iterator[Violation]:
    """An op that must keep its input quantization changes the scale or zero point.

    ## What it checks
    For the ops of the spec's same-scale list (`qcheck rules --spec`): RESHAPE, SQUEEZE,
    EXPAND_DIMS, TRANSPOSE, (STRIDED_)SLICE, PAD, PADV2, MIRROR_PAD, pooling, RESIZE_*,
    BATCH_TO_SPACE_ND, SPACE_TO_BATCH_ND, SPACE_TO_DEPTH, DEPTH_TO_SPACE, GATHER(_ND), TILE,
    BROADCAST_TO, REVERSE_V2, REDUCE_MAX/MIN, MAXIMUM, MINIMUM, CONCATENATION (not uint8),
    PACK, UNPACK, SPLIT(_V), FILL, SELECT(_V2), SCATTER_ND, DYNAMIC_UPDATE_SLICE, TOPK_V2: the
    listed data inputs and outputs of a quantized dtype must have exactly the output's scale and
    zero point (per-tensor). SUM is not checked: its kernel rescales.

    ## Why it matters
    These ops move or compare raw integers without rescaling. The message says what LiteRT does
    (measured, ai-edge-litert 2.3.0): rejection at load time (CONCATENATION int8, EXPAND_DIMS,
    BATCH_TO_SPACE_ND, ...), rejection only by the default XNNPACK delegate (8-bit TRANSPOSE,
    STRIDED_SLICE, PAD, RESIZE_BILINEAR, MAX_POOL_2D, SPLIT, SPACE_TO_DEPTH, DEPTH_TO_SPACE), a
    debug-only DCHECK (AVERAGE_POOL_2D), or silently wrong values (RESHAPE, RESIZE_NEAREST_NEIGHBOR,
    GATHER, MAXIMUM, REDUCE_MAX, ...), which is what a validator is for.

    ## How to fix
    Give the output the input's quantization (the converter does), or insert a QUANTIZE where a
    change of scale is wanted.

    ## References
    - LiteRT quantization spec; `operator_property.cc` (restrict_same_input_output_scale);
      `tfl_ops.td` (SameOperandsAndResultsScale); alibaba/TinyNeuralNetwork#354; TF PR #54077;
      LiteRT `tflite/kernels/concatenation.cc`, `pooling.cc` (TFLITE_DCHECK), `pad.cc`, `mirror_pad.cc`,
      `batch_to_space_nd.cc`, `space_to_batch_nd.cc`, `expand_dims.cc`, `fill.cc`, `pack.cc`, `unpack.cc`;
      tensorflow/model-optimization#1053; tensorflow/tflite-micro PR #3014
    """
    for sg, op in model.iter_operators():
        same = spec(op.opcode).same
        if same is None or not op.outputs:
            continue
        outs = _listed(op.outputs, same.outputs)
        if not outs:
            continue
        ref = sg.tensor(outs[0][1])
        want = _per_tensor(ref)
        if want is None or ref is None or ref.dtype not in same.runtime:
            continue
        operands = [("input", k, t) for k, t in _listed(op.inputs, same.inputs)] + [("output", k, t) for k, t in outs[1:]]
        for side, k, i in operands:
            t = sg.tensor(i)
            got = _per_tensor(t)
            if t is None or got is None or t.dtype != ref.dtype or got == want:
                continue
            code = same.input_runtime.get(k, same.runtime[ref.dtype]) if side == "input" else same.runtime[ref.dtype]
            yield Violation(at_tensor(sg, t, op),
                            f"{op.opcode} {side} {k} has (scale {got[0]:.8g}, zp {got[1]}) but output '{ref.name}' has (scale {want[0]:.8g}, zp {want[1]}); "
                            f"the spec requires them equal and {RUNTIME[code]}", fix="give both sides the same quantization")


def _int16_operand(model: Model, sg: Subgraph, op: Operator) -> Tensor | None:
    state = {op.inputs[k] for k in spec(op.opcode).int16_state if k < len(op.inputs)}
    for i in (*op.inputs, *op.outputs):
        if i in state:
            continue  # e.g. the int8 SVDF's INT16 state: required by its integer kernel
        t = sg.tensor(i)
        if t is not None and t.dtype == "INT16" and t.quantized and not model.is_constant(t):
            return t
    return None


@rule("QC403", "missing-int16-kernel")
def missing_int16_kernel(model: Model, ctx: Context) -> Iterator[Violation]:
    """An op has int16 activations but no int16 kernel.

    ## What it checks
    Ops with a quantized INT16 activation for which LiteRT has no int16 kernel (measured with
    ai-edge-litert 2.3.0: HARD_SWISH, LOG_SOFTMAX, L2_NORMALIZATION, RELU_N1_TO_1, SPACE_TO_DEPTH,
    DEPTH_TO_SPACE, SQUARED_DIFFERENCE; SVDF per `operator_property.cc`). Ops the quantizer marks
    `quantizable_int16=false` but whose kernel does run int16 (PRELU, the comparisons) are not
    flagged, nor are operands that are INT16 by design: the int8 SVDF's state (input 4), which
    its integer kernel requires to be INT16 (LiteRT `svdf.cc`).

    ## Why it matters
    The interpreter rejects the model at load time ("Only float32, uint8 and int8 are
    supported"); the 16x8 converter keeps these ops in float (with `TFLITE_BUILTINS` fallback)
    for that reason.

    ## How to fix
    Convert 16x8 with float fallback (`supported_ops` including `TFLITE_BUILTINS`), or replace the op.

    ## References
    - LiteRT `operator_property.cc` (quantizable_int16); TF PR #44374; `tflite/tools/optimize/quantize_model.cc`
      ("Quantization to 16x8-bit not yet supported for op")
    """
    for sg, op in model.iter_operators():
        if spec(op.opcode).int16 is False:
            t = _int16_operand(model, sg, op)
            if t is not None:
                yield Violation(at_tensor(sg, t, op), f"{op.opcode} has INT16 activation '{t.name}' but no int16 kernel; {RUNTIME['load']}")


@rule("QC404", "operand-dtype-mismatch")
def operand_dtype_mismatch(model: Model, ctx: Context) -> Iterator[Violation]:
    """An op mixes quantized dtypes that its kernel requires to be equal.

    ## What it checks
    For ops without legitimately mixed operands (not QUANTIZE, DEQUANTIZE, CAST, the weighted
    ops, SOFTMAX int8 -> int16, LSTM/RNN/SVDF, GATHER, FILL, SELECT, comparisons, variables,
    control flow, custom ops): every quantized INT8/UINT8/INT16/INT4 input and output has the
    same dtype. For example an int16 ADD with an int8 constant, or an int8 CONCATENATION with a
    uint8 input.

    ## Why it matters
    Kernels dispatch on one dtype and reject the others at load time ("Type mismatch") or read
    the other operand's bytes wrongly.

    ## How to fix
    Quantize constants like the activations they meet (16x8: `quantize_input_as_activations`
    makes them INT16), or insert a QUANTIZE.

    ## References
    - LiteRT `operator_property.cc` (quantize_input_as_activations), `operator_property.h` (its comment:
      16x8 constants of those ops are quantized like activations)
    """
    for sg, op in model.iter_operators():
        if op.is_custom or (op.opcode in OPS and OPS[op.opcode].mixed_types):
            continue
        first: Tensor | None = None
        for i in (*op.inputs, *op.outputs):
            t = sg.tensor(i)
            if t is None or t.dtype not in _QDTYPES or not t.quantized:
                continue
            if first is None:
                first = t
            elif t.dtype != first.dtype:
                yield Violation(at_op(sg, op), f"{op.opcode} mixes {first.dtype} '{first.name}' with {t.dtype} '{t.name}'")
                break


def _required_inputs(opcode: str) -> tuple[int, ...]:
    """The operands an op cannot run without, read from the op table."""
    s = spec(opcode)
    if s.weights is not None:
        return tuple(sorted({s.act, s.weights.input}))
    return (s.act,) if s.fixed else ()


@rule("QC408", "missing-required-input")
def missing_required_input(model: Model, ctx: Context) -> Iterator[Violation]:
    """A weighted or fixed-output op lacks its activation or weight input (-1 or no slot at all).

    ## What it checks
    For the ops of the op table with a weight operand (CONV_2D, DEPTHWISE_CONV_2D,
    FULLY_CONNECTED, TRANSPOSE_CONV, EMBEDDING_LOOKUP) the activation and weight inputs, and for
    the fixed-output ops (LOGISTIC, SOFTMAX, TANH, LOG_SOFTMAX, L2_NORMALIZATION) the activation
    input, must be present: not -1 (the marker of an absent optional input) and not cut off.

    ## Why it matters
    These inputs are not optional. LiteRT dereferences them in the kernel's Prepare: measured
    with ai-edge-litert 2.3.0, a DEPTHWISE_CONV_2D whose weights input is -1 crashes the process
    (segmentation fault) instead of reporting an error.

    ## How to fix
    The file was edited or produced by a broken exporter; export the model again.

    ## References
    - LiteRT `tflite/kernels/conv.cc`, `depthwise_conv.cc`, `fully_connected.cc` (GetInput in Prepare)
    """
    for sg in model.subgraphs:
        for op in sg.operators:
            for i in _required_inputs(op.opcode):
                if i >= len(op.inputs) or op.inputs[i] == -1:
                    found = "absent (-1)" if i < len(op.inputs) else f"missing (the op has {len(op.inputs)} inputs)"
                    yield Violation(at_op(sg, op), f"required input {i} of {op.opcode} is {found}",
                                    details={"input": i})
