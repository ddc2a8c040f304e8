"""QC409-QC410: operands that kernels require: SVDF's state, the convolutions' bias."""

from __future__ import annotations

from collections.abc import Iterator

from qcheck import Context, Model, Violation, rule
from qcheck.findings import at_op, at_tensor

# SVDF inputs (LiteRT `tflite/kernels/svdf.cc`): input, weights_feature, weights_time, bias, state.
_INPUT, _FEATURE, _TIME, _STATE = 0, 1, 2, 4


@rule("QC409", "svdf-operand-mismatch")
def svdf_operand_mismatch(model: Model, ctx: Context) -> Iterator[Violation]:
    """An SVDF's state does not have the shape or dtype its kernel requires.

    ## What it checks
    For each SVDF: the state (input 4) is 2-D, `[batch, memory_size x num_filters]`, where
    `batch` is the input's first dimension, `num_filters` the first dimension of weights_feature
    and `memory_size` the second of weights_time; and in an int8 SVDF (INT8 input) weights_time
    and the state are INT16.

    ## Why it matters
    Both runtimes check the shape in Prepare and refuse the model: LiteRT `svdf.cc`
    ("SizeOfDimension(state, 1) != memory_size * num_filters"), TFLite Micro `svdf_common.cc`.
    The integer kernels are written for INT16 weights_time and state (`svdf.cc`,
    `svdf_common.cc`, `operator_property.cc`). With INT8 ones, ai-edge-litert 2.3.0 loads and
    runs the model without a word, and its `EvalIntegerSVDF` reads both buffers as int16, past
    their end (invalid reads under valgrind; measured on a one-SVDF model); TFLite Micro runs it
    too.

    ## How to fix
    Re-export the model: the converter sizes and types the state from the weights.

    ## References
    - LiteRT `tflite/kernels/svdf.cc` (Prepare), `tflite/tools/optimize/operator_property.cc` (SVDF);
      TFLite Micro `tensorflow/lite/micro/kernels/svdf_common.cc` (PrepareSvdf)
    """
    for sg, op in model.iter_operators():
        if op.opcode != "SVDF" or len(op.inputs) <= _STATE:
            continue
        x, feature, time, state = (sg.tensor(op.inputs[k]) for k in (_INPUT, _FEATURE, _TIME, _STATE))
        if x is None or feature is None or time is None or state is None or not x.shape or not feature.shape or len(time.shape) < 2:
            continue
        want = (x.shape[0], time.shape[1] * feature.shape[0])
        if tuple(state.shape) != want:
            yield Violation(at_tensor(sg, state, op), f"SVDF state has shape {list(state.shape)}; it must be [batch {want[0]}, memory_size "
                                                      f"{time.shape[1]} x num_filters {feature.shape[0]} = {want[1]}]: LiteRT and TFLite Micro "
                                                      "refuse the model at prepare", details={"runtimes": {"litert": "rejects", "tflm": "rejects"}})
        if x.dtype == "INT8":
            wrong = [t for t in (time, state) if t.dtype != "INT16"]
            for t in wrong:
                what = "weights_time" if t is time else "state"
                yield Violation(at_tensor(sg, t, op), f"int8 SVDF has {t.dtype} {what} '{t.name}'; its integer kernel needs INT16 weights_time and state: "
                                                      "LiteRT loads the model and reads these buffers as int16, past their end",
                                details={"runtimes": {"litert": "crashes", "tflm": "runs"}})


# Measured with ai-edge-litert 2.3.0 (builtin kernels, and with its default XNNPACK delegate: Prepare
# runs first) and tflite-micro 0.dev20261023; tests/plugins/spec/test_spec_operands.py runs them again.
_NO_BIAS: dict[tuple[str, str], str] = {
    ("CONV_2D", "absent"): "LiteRT refuses a CONV_2D without bias at prepare (TFLite Micro accepts it)",
    ("CONV_2D", "-1"): "LiteRT refuses a CONV_2D whose bias is marked absent at prepare (TFLite Micro accepts it)",
    ("DEPTHWISE_CONV_2D", "absent"): "a two-input DEPTHWISE_CONV_2D crashes LiteRT (SIGSEGV; TFLite Micro accepts it)",
    ("DEPTHWISE_CONV_2D", "-1"): "LiteRT refuses a DEPTHWISE_CONV_2D whose bias is marked absent, and TFLite Micro crashes on it (SIGSEGV)",
}


_NO_BIAS_EFFECTS: dict[tuple[str, str], dict[str, str]] = {
    ("CONV_2D", "absent"): {"litert": "rejects", "tflm": "runs"},
    ("CONV_2D", "-1"): {"litert": "rejects", "tflm": "runs"},
    ("DEPTHWISE_CONV_2D", "absent"): {"litert": "crashes", "tflm": "runs"},
    ("DEPTHWISE_CONV_2D", "-1"): {"litert": "rejects", "tflm": "crashes"},
}


@rule("QC410", "convolution-without-bias")
def convolution_without_bias(model: Model, ctx: Context) -> Iterator[Violation]:
    """A CONV_2D or DEPTHWISE_CONV_2D has no bias input.

    ## What it checks
    CONV_2D and DEPTHWISE_CONV_2D with only two inputs, or with the bias input marked absent
    (-1). FULLY_CONNECTED and TRANSPOSE_CONV may leave their bias out: both runtimes run them.

    ## Why it matters
    LiteRT's convolution kernels need a bias (`conv.cc` Prepare ensures `has_bias`;
    `depthwise_conv.cc` reads input 2). Measured with ai-edge-litert 2.3.0 and tflite-micro:
    CONV_2D without bias is refused at prepare by LiteRT and runs on TFLite Micro; a two-input
    DEPTHWISE_CONV_2D crashes LiteRT (SIGSEGV), and one with the bias marked absent is refused
    by LiteRT and crashes TFLite Micro.

    ## How to fix
    Give the op a zero bias (INT32 zeros with scale input scale x weight scale for int8), as the
    converters do.

    ## References
    - LiteRT `tflite/kernels/conv.cc`, `tflite/kernels/depthwise_conv.cc` (Prepare);
      TFLite Micro `tensorflow/lite/micro/kernels/depthwise_conv_common.cc`
    """
    for sg, op in model.iter_operators():
        if op.opcode not in ("CONV_2D", "DEPTHWISE_CONV_2D") or len(op.inputs) < 2:
            continue
        form = "absent" if len(op.inputs) == 2 else "-1" if op.inputs[2] == -1 else None
        if form is not None:
            what = "has no bias input" if form == "absent" else "marks its bias input absent (-1)"
            yield Violation(at_op(sg, op), f"{op.opcode} {what}: {_NO_BIAS[(op.opcode, form)]}",
                            details={"runtimes": _NO_BIAS_EFFECTS[(op.opcode, form)]})
