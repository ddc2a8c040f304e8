"""The `tflm` target: TFLite Micro's Python interpreter, its op resolver and its kernels' Prepare checks."""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence

from qcheck.findings import Finding
from qcheck.targets import Placed, Reason
from qcheck.tflite.model import Model, Operator, Subgraph
from qcheck_targets import tflm_kernels as K
from qcheck_targets.common import Decision, custom_name, fatal_by_op, place_all, squeeze_problem
from qcheck_targets.tflm_ops import BUILTIN_OPS, CUSTOM_OPS

WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV")


def _r(rule: str, message: str) -> Reason:
    return Reason(f"tflm:{rule}", message)


def resolve(model: Model, op: Operator) -> Reason | None:
    """Why TFLite Micro's resolver has no kernel for `op` (op versions are ignored: micro_op_resolver.cc)."""
    if op.is_custom:
        name = custom_name(model, op)
        if name in CUSTOM_OPS:
            return None
        return _r("custom-op", f"custom op {name or '(unnamed)'} is not in TFLite Micro's op resolver: "
                               "the application must register it")
    if op.opcode not in BUILTIN_OPS:
        return _r("missing-op", f"TFLite Micro's op resolver has no {op.opcode}")
    return None


def kernel(model: Model, sub: Subgraph, op: Operator) -> Iterator[Reason]:
    """The kernel checks TFLite Micro makes in Prepare or Eval, from tflm_kernels.py's tables."""
    ins = sub.inputs_of(op)
    outs = [sub.tensor(i) for i in op.outputs]
    if any(t is not None and t.dtype == "STRING" for t in (*ins, *outs)):
        yield _r("string", f"{op.opcode} has a STRING operand: TFLite Micro has no string tensors")
        return
    x = ins[0] if ins else None
    y = outs[0] if outs else None
    code = op.opcode
    data = ins[2] if code == "TRANSPOSE_CONV" and len(ins) > 2 else x  # (TRANSPOSE_CONV: output shape, filter, data)
    if code in WEIGHTED and len(ins) > 1 and ins[1] is not None and data is not None:
        pair = (data.dtype, ins[1].dtype)
        allowed = K.FILTER_PAIRS.get(code)
        if allowed is not None and pair not in allowed:
            hybrid = data.dtype == "FLOAT32" and ins[1].dtype in ("INT8", "INT4")
            what = "Hybrid models are not supported on TFLite Micro" if hybrid else "TFLite Micro has no kernel for it"
            yield _r("hybrid" if hybrid else "types", f"{code} with {data.dtype} input and {ins[1].dtype} filter: {what}")
            return
    elif code == "QUANTIZE" and x is not None and y is not None:
        if (x.dtype, y.dtype) not in K.QUANTIZE_PAIRS:
            yield _r("types", f"QUANTIZE {x.dtype} -> {y.dtype}: TFLite Micro does not convert between these")
            return
        if y.quantization is not None and len(y.quantization.scale) > 1:
            yield _r("per-axis", "QUANTIZE with a per-axis output: TFLite Micro quantizes per tensor only")
            return
    elif x is not None and code in K.INPUT_TYPES and x.dtype not in K.INPUT_TYPES[code]:
        accepted = ", ".join(sorted(K.INPUT_TYPES[code]))
        yield _r("types", f"{code} with {x.dtype} input: TFLite Micro's kernel takes {accepted}")
        return
    if y is not None and code in K.OUTPUT_TYPES and y.dtype not in K.OUTPUT_TYPES[code]:
        yield _r("types", f"{code} with {y.dtype} output: TFLite Micro's kernel writes {', '.join(sorted(K.OUTPUT_TYPES[code]))}")
    if code == "BATCH_MATMUL" and len(ins) > 1 and ins[1] is not None and x is not None and x.dtype != ins[1].dtype:
        yield _r("types", f"BATCH_MATMUL of {x.dtype} and {ins[1].dtype}: TFLite Micro needs both operands of one type")
    if code == "BROADCAST_TO" and y is not None and len(y.shape) > 5:
        yield _r("rank", f"BROADCAST_TO to rank {len(y.shape)}: TFLite Micro takes 1-5 dimensions")
    if code == "SQUEEZE" and (problem := squeeze_problem(sub, op)):
        yield _r("squeeze", f"{problem} (squeeze.cc Prepare)")
    if code == "ADD" and y is not None and y.dtype in ("INT8", "INT16") and not y.quantized:
        yield _r("quantization", f"ADD with an unquantized {y.dtype} output: TFLite Micro needs its scale (add_common.cc:41)")
    if code == "TRANSPOSE" and len(ins) > 1 and ins[1] is not None and len(ins[1].shape) != 1:
        yield _r("transpose-perm", f"TRANSPOSE perm of shape {list(ins[1].shape)}: TFLite Micro needs a 1-D perm (transpose_common.cc)")
    if code in LSTM_LAYER_NORM and any(0 <= k < len(op.inputs) and op.inputs[k] >= 0 for k in LSTM_LAYER_NORM[code]):
        yield _r("lstm-layer-norm", f"{code} with layer-normalisation weights: TFLite Micro's LSTM has none (lstm_eval.cc)")
    if code in ELEMENTWISE and y is not None and all(t is not None for t in ins[:2]) and len(ins) >= 2:
        want = _broadcast([t.shape for t in ins[:2] if t is not None])
        if want is not None and tuple(y.shape) != want and int(_prod(y.shape)) != int(_prod(want)):
            yield _r("static-shapes", f"{code} output shape {list(y.shape)} is not the broadcast input shape {list(want)}: "
                                      "TFLite Micro never resizes tensors (micro_interpreter_graph.cc)")


# UNIDIRECTIONAL_SEQUENCE_LSTM / LSTM inputs 20-23: the layer-norm coefficients (lstm_shared.h).
LSTM_LAYER_NORM = {"UNIDIRECTIONAL_SEQUENCE_LSTM": (20, 21, 22, 23)}
ELEMENTWISE = frozenset({"ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE"})


def _prod(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _broadcast(shapes: Sequence[Sequence[int]]) -> tuple[int, ...] | None:
    rank = max(len(s) for s in shapes)
    out = []
    for k in range(rank):
        dims = {s[len(s) - rank + k] for s in shapes if len(s) - rank + k >= 0} - {1}
        if len(dims) > 1:
            return None
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def problems(model: Model) -> Iterator[Reason]:
    """Model-wide reasons TFLite Micro cannot run the model."""
    for sub in model.subgraphs[:1]:
        for i in (*sub.inputs, *sub.outputs):
            t = sub.tensor(i)
            if t is not None and t.dtype == "STRING":
                yield _r("string", f"STRING model input or output '{t.name}': TFLite Micro has no string tensors")
                return


def place(model: Model, facts: Mapping[str, object], findings: Sequence[Finding]) -> Placed:
    """Every op on TFLite Micro's kernels, or unsupported when the resolver lacks it or a kernel check refuses it."""
    fatal, model_wide = fatal_by_op(findings, "tflm")
    return Placed(place_all(model, decide, fatal, key=_key), (*problems(model), *model_wide))


# Ops whose checks read shapes, quantization or optional inputs, not only types: judged one by one.
_SHAPED = frozenset({"QUANTIZE", "BROADCAST_TO", "TRANSPOSE", "SQUEEZE", *ELEMENTWISE, "UNIDIRECTIONAL_SEQUENCE_LSTM"})


def _key(model: Model, sub: Subgraph, op: Operator) -> Hashable:
    """The resolver answers by op code; the kernel checks here read operand types only (except _SHAPED ops)."""
    if op.opcode in _SHAPED:
        return None
    tensors = sub.tensors
    return (op.opcode_index, tuple(tensors[i].dtype if 0 <= i < len(tensors) else None for i in op.inputs),
            tuple(tensors[i].dtype if 0 <= i < len(tensors) else None for i in op.outputs))


def decide(model: Model, sub: Subgraph, op: Operator) -> Decision:
    missing = resolve(model, op)
    reasons = (missing,) if missing else tuple(kernel(model, sub, op))
    return ("unsupported" if reasons else "cpu", reasons)
