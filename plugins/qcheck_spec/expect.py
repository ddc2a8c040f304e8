"""QC1xx: the detected scheme against what the user expects and what the converter recorded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from qcheck import Context, Location, Model, Severity, Violation, rule
from qcheck.findings import at_op, at_tensor
from qcheck_spec.islands import islands
from qcheck_spec.scheme import EXPECTATIONS, Analysis, analyse

_EVIDENCE: Final = {
    "float32": "no integer activation, no FLOAT16 constant feeding a DEQUANTIZE, no quantized weight",
    "float16": "float activations with FLOAT16 constants dequantized at run time",
    "dynamic-range": "float activations with int8 weights (hybrid ops or weight-only DEQUANTIZE)",
    "int8": "int8 activations", "int16x8": "int16 activations", "uint8": "uint8 activations",
    "mixed": "several quantization schemes at once",
}
# CONVERSION_METADATA optimization modes -> schemes that agree with them (LiteRT
# `tflite/converter/schema/conversion_metadata.fbs`, ModelOptimizationMode).
MODE_SCHEMES: Final = {
    "PTQ_FLOAT16": {"float16"}, "PTQ_DYNAMIC_RANGE": {"dynamic-range"}, "PTQ_FULL_INTEGER": {"int8", "uint8"},
    "PTQ_INT16": {"int16x8"}, "QUANTIZATION_AWARE_TRAINING": {"int8", "uint8", "int16x8", "dynamic-range"},
}
_ACT_DTYPE: Final = {"int8": "INT8", "int16x8": "INT16", "uint8": "UINT8"}


def _counts(a: Analysis) -> str:
    parts = [f"{n} {d}" for d, n in sorted(a.activations.items())]
    return ", ".join(parts) if parts else "none"


@rule("QC101", "expectation-mismatch")
def expectation_mismatch(model: Model, ctx: Context) -> Iterator[Violation]:
    """The model is not what `--expect NAME` demands.

    ## What it checks
    Only with `qcheck verify --expect NAME`. The detected scheme (see the README: `float32`,
    `float16`, `dynamic-range`, `int8`, `int16x8`, `uint8`, `mixed`) must be the one NAME names;
    for the integer expectations every model input and output of a float or quantized dtype must
    have an allowed dtype (`int8`: FLOAT32/INT8/UINT8, `int8-only`: INT8/UINT8, `int16x8`:
    FLOAT32/INT16, `int16x8-only`: INT16, `uint8`: FLOAT32/UINT8), and no operator may compute in
    float (`float_ops`) unless NAME ends in `-fallback`. In a `mixed` model the operators whose
    activations have another integer dtype are named one by one.

    ## Why it matters
    Integer-only accelerators (Edge TPU, NPUs, microcontrollers) refuse or offload a model that
    still has float operators or float I/O; a "quantized" model that is really float16 or dynamic
    range gives none of the integer speed-up. The converter does not always say so: TF 2.21
    writes an "int8-only" model with a float FLOOR in the middle without an error.

    ## How to fix
    Convert again with the right options (representative dataset, `supported_ops`,
    `inference_input_type`/`inference_output_type`), or replace the operators that have no
    integer kernel.

    ## References
    - LiteRT `tflite/g3doc/performance/post_training_quantization.md`,
      `tflite/tools/optimize/quantize_model.cc` (float fallback), `tflite/python/lite.py` (is_allow_float);
      https://coral.ai/docs/edgetpu/models-intro ("fully 8-bit quantized");
      google-coral/edgetpu#168, #238 ("Model not quantized")
    """
    want = EXPECTATIONS.get(ctx.expect or "")
    if want is None:
        return
    a = analyse(model)
    if a.scheme != want.scheme:
        yield Violation(Location(), f"--expect {want.name} needs scheme {want.scheme}, but the model is {a.scheme} "
                                    f"({_EVIDENCE[a.scheme]}; activations: {_counts(a)})",
                        fix="convert with the options that produce this scheme", details={"scheme": a.scheme})
        if a.scheme == "mixed" and want.scheme in _ACT_DTYPE:
            yield from _foreign_ops(model, _ACT_DTYPE[want.scheme], want.name)
    if want.io is not None and model.subgraphs:
        main = model.subgraphs[0]
        for kind, idx in (("input", main.inputs), ("output", main.outputs)):
            for i in idx:
                t = main.tensor(i)
                if t is not None and (t.quantized or t.dtype.startswith("FLOAT")) and t.dtype not in want.io:
                    yield Violation(at_tensor(main, t), f"model {kind} is {t.dtype}; --expect {want.name} allows {', '.join(sorted(want.io))}")
    if not want.float_ops:
        for isl in islands(model):
            sg = model.subgraphs[isl.subgraph]
            what = "an op computes" if len(isl.ops) == 1 else f"{len(isl.ops)} connected ops compute"
            yield Violation(at_op(sg, sg.operators[isl.ops[0][0]]), f"{what} in float ({isl.listing()}); --expect {want.name} allows no float operator",
                            details={"ops": [i for i, _ in isl.ops]})


def _foreign_ops(model: Model, dtype: str, name: str) -> Iterator[Violation]:
    for sg, op in model.iter_operators():
        for i in (*op.inputs, *op.outputs):
            t = sg.tensor(i)
            if t is not None and t.quantized and t.dtype in ("INT8", "UINT8", "INT16") and t.dtype != dtype and not model.is_constant(t):
                yield Violation(at_op(sg, op), f"{op.opcode} has {t.dtype} activation '{t.name}'; --expect {name} wants {dtype}")
                break


@rule("QC102", "conversion-metadata-mismatch", severity=Severity.WARNING)
def conversion_metadata_mismatch(model: Model, ctx: Context) -> Iterator[Violation]:
    """The converter's CONVERSION_METADATA names a quantization mode the file does not have.

    ## What it checks
    When the model carries `CONVERSION_METADATA` with a quantization mode, the detected scheme
    must agree: `PTQ_FLOAT16` -> float16, `PTQ_DYNAMIC_RANGE` -> dynamic-range,
    `PTQ_FULL_INTEGER` -> int8 (or uint8), `PTQ_INT16` -> int16x8,
    `QUANTIZATION_AWARE_TRAINING` -> any quantized scheme. Files without a quantization mode
    (float conversions, sparsity-only modes) are not checked: quantizers that run after the
    converter keep its metadata, so an empty mode list proves nothing.

    ## Why it matters
    A contradiction means the file was changed after conversion or the converter silently did
    less than asked, e.g. dynamic range on a model whose weights are all under the 1024-element
    threshold stays float32.

    ## How to fix
    Check the conversion options and the tools that touched the file afterwards; see what
    `qcheck inspect` shows.

    ## References
    - LiteRT `tflite/converter/schema/conversion_metadata.fbs`, `tflite/python/util.py`,
      `tflite/converter/quantization/common/quantization_lib/quantization_config.h`
      (minimum_elements_for_weights = 1024)
    """
    meta = model.conversion_metadata
    if meta is None:
        return
    modes = [m for m in meta.optimization_modes if m in MODE_SCHEMES]
    if not modes:
        return
    allowed = set().union(*(MODE_SCHEMES[m] for m in modes))
    scheme = analyse(model).scheme
    if scheme not in allowed:
        yield Violation(Location(), f"CONVERSION_METADATA says {', '.join(modes)} but the model is {scheme} ({_EVIDENCE[scheme]})",
                        details={"modes": modes, "scheme": scheme})
