"""QC501-QC507: float islands, float16 constants, hybrid ops, op-version hints, float post-processing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from qcheck import Context, Location, Model, Severity, Tensor, Violation, rule
from qcheck.findings import at_op, at_tensor
from qcheck_spec.graph import scale_zp
from qcheck_spec.islands import Island, islands
from qcheck_spec.optable import HYBRID_NOTE, spec
from qcheck_spec.scheme import analyse

FP16_MAX: Final = 65504.0
_FP16_READERS: Final = frozenset({"DEQUANTIZE", "DENSIFY", "CAST"})


@rule("QC501", "float-fallback-op", severity=Severity.WARNING)
def float_fallback_op(model: Model, ctx: Context) -> Iterator[Violation]:
    """Operators compute in float inside an integer model (a float-fallback island).

    ## What it checks
    In a model whose activations are integer (int8, 16x8, uint8), the operators that read or
    write a non-constant FLOAT32 tensor, except the QUANTIZE/DEQUANTIZE at the model's own
    inputs and outputs (the `float_ops` of the JSON report), grouped into islands: ops joined by
    the float tensors they share make one finding, which lists them. Islands that end the graph in
    a custom op are post-processing (QC507), not fallback.

    ## Why it matters
    The converter leaves ops without an integer kernel in float when `TFLITE_BUILTINS` is allowed,
    with DEQUANTIZE/QUANTIZE around them. The model is legal, but integer-only accelerators
    (Edge TPU, NPUs, microcontrollers) cannot run it, and each island costs two conversions.
    `--expect int8` or `int8-only` turns this into an error.

    ## How to fix
    Replace the op by one with an integer kernel, or accept the fallback (`--expect int8-fallback`).

    ## References
    - LiteRT `tflite/tools/optimize/quantize_model.cc`, `tflite/python/lite.py` (is_allow_float),
      `tflite/g3doc/performance/post_training_quantization.md`; https://coral.ai/docs/edgetpu/models-intro;
      google-coral/edgetpu#168
    """
    scheme = analyse(model).scheme
    for isl in islands(model):
        if not isl.postprocessing:
            sg = model.subgraphs[isl.subgraph]
            yield Violation(at_op(sg, sg.operators[isl.ops[0][0]]),
                            f"{_count(isl)} in float in this {scheme} model: {isl.listing()}", details={"ops": [i for i, _ in isl.ops]})


@rule("QC507", "float-postprocessing-op", severity=Severity.INFO)
def float_postprocessing_op(model: Model, ctx: Context) -> Iterator[Violation]:
    """A custom op at the end of an integer model computes in float: post-processing, float by design.

    ## What it checks
    Float islands (see QC501) that contain a custom op whose outputs are the graph's own outputs
    and that do not lead back into integer ops, such as `TFLite_Detection_PostProcess` after an
    int8 SSD, or a pose decoder. Reported once per island, listing its ops.

    ## Why it matters
    Nothing is wrong: detection and pose post-processing run in float on the CPU by design. The
    deployment runtime must provide the custom op, and an integer-only accelerator hands these
    last ops back to the CPU.

    ## How to fix
    Nothing to fix; `--expect int8-only` still reports them, since they are float.

    ## References
    - LiteRT `tflite/kernels/detection_postprocess.cc` (float32 boxes and scores out);
      https://coral.ai/docs/edgetpu/models-intro (post-processing stays on the CPU)
    """
    scheme = analyse(model).scheme
    for isl in islands(model):
        if isl.postprocessing:
            sg = model.subgraphs[isl.subgraph]
            yield Violation(at_op(sg, sg.operators[isl.ops[0][0]]),
                            f"{_count(isl)} in float at the end of this {scheme} model (post-processing): {isl.listing()}",
                            details={"ops": [i for i, _ in isl.ops]})


def _count(isl: Island) -> str:
    return "1 op computes" if len(isl.ops) == 1 else f"{len(isl.ops)} connected ops compute"


def _fp16_constant(model: Model, t: Tensor | None, producer_opcode: str | None) -> bool:
    return t is not None and t.dtype == "FLOAT16" and (model.is_constant(t) or producer_opcode == "DENSIFY")


@rule("QC502", "float16-constant-not-dequantized")
def float16_constant_not_dequantized(model: Model, ctx: Context) -> Iterator[Violation]:
    """A FLOAT16 constant feeds an op other than DEQUANTIZE.

    ## What it checks
    Every consumer of a FLOAT16 constant (or of a DENSIFY that expands a sparse FLOAT16
    constant) is a DEQUANTIZE, a DENSIFY or a CAST.

    ## Why it matters
    float16 quantization stores weights as FLOAT16 and dequantizes them to float32 once. LiteRT's
    CPU kernels do not check: a CONV_2D with FLOAT16 weights loads and reads the 2-byte values as
    float32, giving NaN or 1e22 outputs (measured with ai-edge-litert 2.3.0, with and without
    XNNPACK). Only the GPU delegate consumes fp16 weights directly.

    ## How to fix
    Insert a DEQUANTIZE (the converter does with `supported_types=[tf.float16]`).

    ## References
    - LiteRT `quantize_weights.cc` (QuantizeWeightsFloat16), `dequantize.cc`,
      `post_training_quantization.md` (GPU delegate)
    """
    for sg, op in model.iter_operators():
        if op.opcode in _FP16_READERS:
            continue
        for i in op.inputs:
            t = sg.tensor(i)
            prod = sg.producer(i) if t is not None else None
            if t is not None and _fp16_constant(model, t, prod.opcode if prod else None):
                yield Violation(at_tensor(sg, t, op), f"FLOAT16 constant '{t.name}' feeds {op.opcode} directly, not through a DEQUANTIZE")


@rule("QC503", "saturated-float16-constant", severity=Severity.WARNING)
def saturated_float16_constant(model: Model, ctx: Context) -> Iterator[Violation]:
    """A FLOAT16 constant holds +-65504 (the clamp limit), infinity or NaN.

    ## What it checks
    The data of every FLOAT16 constant, scanned once per buffer.

    ## Why it matters
    The float16 quantizer clamps weights to +-65504; a value there was larger in float32 and is
    now wrong, and inf/NaN propagate through the whole network.

    ## How to fix
    Keep such tensors in float32 (exclude the op from float16 quantization) or rescale the layer.

    ## References
    - LiteRT `tflite/tools/optimize/quantization_utils.cc` (kMaxFloat16Value),
      `tflite/converter/quantization/lite/toco_legacy/quantize_weights.cc` (QuantizeWeightsFloat16)
    """
    for sg, t in model.iter_tensors():
        if t.dtype != "FLOAT16" or not model.is_constant(t):
            continue
        rng = model.value_range(t)
        if rng is None:
            continue
        lo, hi = float(rng[0]), float(rng[1])
        if not (-FP16_MAX < lo and hi < FP16_MAX):  # also true for NaN
            yield Violation(at_tensor(sg, t), f"FLOAT16 values span [{lo:g}, {hi:g}], reaching the float16 limit +-65504 (or inf/NaN)")


@rule("QC504", "hybrid-asymmetric-inputs", severity=Severity.INFO)
def hybrid_asymmetric_inputs(model: Model, ctx: Context) -> Iterator[Violation]:
    """A hybrid op quantizes its float inputs asymmetrically at run time.

    ## What it checks
    Hybrid ops (float activations, int8 weights) whose options set
    `asymmetric_quantize_inputs` (FULLY_CONNECTED, BATCH_MATMUL, LSTM/RNN variants, SVDF).

    ## Why it matters
    Information: the kernel quantizes each input row with its own zero point, which is more
    accurate but needs FULLY_CONNECTED version 9+ (BATCH_MATMUL 4+) kernels; older runtimes
    and some delegates quantize symmetrically or refuse the op. The MLIR converter always sets it.

    ## How to fix
    Nothing to fix; convert with the legacy quantizer if a runtime needs symmetric inputs.

    ## References
    - LiteRT `schema.fbs` (asymmetric_quantize_inputs), `quantization.td`,
      `tflite/converter/quantization/lite/toco_legacy/quantize_weights.cc` (use_updated_hybrid_scheme,
      UpdateInt8OperatorVersions)
    """
    hybrid = analyse(model).hybrid_ops
    for s, o, opcode in hybrid:
        sg = model.subgraphs[s]
        op = sg.operators[o]
        if op.options.get("asymmetric_quantize_inputs"):
            yield Violation(at_op(sg, op), f"hybrid {opcode} quantizes its float input asymmetrically at run time (asymmetric_quantize_inputs)")


@rule("QC505", "hybrid-op", severity=Severity.INFO)
def hybrid_op(model: Model, ctx: Context) -> Iterator[Violation]:
    """An op runs hybrid: float activations with int8 weights (dynamic-range quantization).

    ## What it checks
    Every op that reads a float activation and a quantized integer constant on one of its
    weight inputs (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, BATCH_MATMUL, SVDF, LSTM/RNN
    variants).

    ## Why it matters
    Information about where the model can run: LiteRT's CPU kernels run hybrid ops, but TFLite
    Micro rejects hybrid models ("Hybrid models are not supported on TFLite Micro") and
    integer-only accelerators leave them on the CPU or refuse the model ("Model not quantized").

    ## How to fix
    For integer-only targets convert with full-integer quantization (a representative dataset).

    ## References
    - LiteRT `post_training_quantization.md`, `quantize_weights.cc` (IsHybridEvaluationOp);
      tensorflow/tflite-micro#757, #1556; tensorflow/tensorflow#43386, #55928, #56626, #64223, #46806,
      #41521; google-coral/edgetpu#168, #213, #238, #313
    """
    for s, o, opcode in analyse(model).hybrid_ops:
        sg = model.subgraphs[s]
        yield Violation(at_op(sg, sg.operators[o]), f"{opcode} runs hybrid (float activations, int8 weights); {HYBRID_NOTE}")


@rule("QC506", "op-version-hint", severity=Severity.INFO)
def op_version_hint(model: Model, ctx: Context) -> Iterator[Violation]:
    """An OperatorCode's version is lower than its int8 or hybrid use usually declares (a hint).

    ## What it checks
    Per OperatorCode (versions are shared by every op using the code): the highest lower bound
    over its ops, for int8 activations or a hybrid use only, from the op table (e.g. CONV_2D
    int8 3, hybrid 2; FULLY_CONNECTED int8 4, hybrid 3; DEPTHWISE_CONV_2D int8 3, hybrid 4;
    SOFTMAX/LOGISTIC/TANH/ADD/MUL/pooling int8 2). 16x8 and float16 are not checked: real 16x8
    files carry lower versions than `op_version.cc` gives, and old float16 models use DEQUANTIZE v2.

    ## Why it matters
    Only a hint: LiteRT picks kernels by tensor types, but older runtimes and tools use the
    version to decide whether they support the op, so a too-low version can hide a need.

    ## How to fix
    Nothing is required; re-exporting with a current converter sets the versions.

    ## References
    - LiteRT `tflite/converter/tools/versioning/op_version.cc`,
      `operator_property.cc` (versions set by the legacy 16x8 quantizer); measured with the TF 2.21
      converter (16x8 files carry CONV_2D v3, DEPTHWISE_CONV_2D v3, FULLY_CONNECTED v4)
    """
    hybrid = {(s, o) for s, o, _ in analyse(model).hybrid_ops}
    # Only codes below their op's highest hint can get one: skip every op of the others at once.
    low = {c.index for c in model.operator_codes if c.version < max(spec(c.name).versions.values(), default=0)}
    need: dict[int, tuple[int, str]] = {}
    for sg, op in model.iter_operators():
        if op.opcode_index not in low or op.is_custom:
            continue
        versions = spec(op.opcode).versions
        x = sg.tensor(op.inputs[spec(op.opcode).act]) if len(op.inputs) > spec(op.opcode).act else None
        kind = "HYBRID" if (sg.index, op.index) in hybrid else "INT8" if x is not None and x.dtype == "INT8" and scale_zp(x) else None
        v = versions.get(kind) if kind else None
        if v is not None and v > need.get(op.opcode_index, (0, ""))[0]:
            need[op.opcode_index] = (v, kind.lower())  # type: ignore[union-attr]
    for idx, (v, kind) in sorted(need.items()):
        code = model.operator_codes[idx] if idx < len(model.operator_codes) else None
        if code is not None and code.version < v:
            yield Violation(Location(opcode=code.name), f"OperatorCode {idx} ({code.name}) declares version {code.version}; its {kind} use is usually version {v} or higher")
