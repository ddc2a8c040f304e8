"""QC409: the operands of SVDF, the recurrent op whose integer kernel needs INT16 state."""

from __future__ import annotations

from collections.abc import Iterator

from qcheck import Context, Model, Violation, rule
from qcheck.findings import at_tensor

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
                                                      "refuse the model at prepare")
        if x.dtype == "INT8":
            wrong = [t for t in (time, state) if t.dtype != "INT16"]
            for t in wrong:
                what = "weights_time" if t is time else "state"
                yield Violation(at_tensor(sg, t, op), f"int8 SVDF has {t.dtype} {what} '{t.name}'; its integer kernel needs INT16 weights_time and state: "
                                                      "LiteRT loads the model and reads these buffers as int16, past their end")
