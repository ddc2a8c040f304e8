"""The `ethos-u55`, `ethos-u65` and `ethos-u85` targets: which ops Vela 5.2 (default Regor core) puts on the NPU.

Each check quotes the constraint of Vela's supported-operators report it mirrors (tables, sources and shape arithmetic:
ethosu_ops). An op failing one stays a builtin op for the CPU (TFLite Micro); the others go into `ethos-u` custom ops
(../shared/reference/targets.md §5.2). Agreement with Vela: tests/helpers/vela_verdicts.py.

No MAC-count option: the accelerator configuration does not change placement. Vela's `vela.py` drops the MAC
count from `--accelerator-config` before asking Regor for the constraints (`tflite_operator_constraints("EthosU55")`,
the same table for the U65); the count only reaches scheduling. Measured: the 162 quantized models compiled for
ethos-u55-32/64/128/256, ethos-u65-256/512 and ethos-u85-128/256/512/1024/2048 leave the same ops on the CPU with
the same reasons within each core, and the U55's equal the U65's (1,782 compiles, 2026-11-29).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from itertools import chain
from typing import NamedTuple

from qcheck.findings import Finding
from qcheck.targets import Placed, Reason
from qcheck.tflite.model import Model, Operator, Subgraph, Tensor
from qcheck_targets import ethosu_ops as E
from qcheck_targets.common import Decision, compiled_for, place_all, quant_ranges
from qcheck_targets.ethosu_graph import dead_ops, op_keys_ethosu, weight_sum

Why = Iterator[tuple[str, str]]  # (rule id, message)
Conns = list[tuple[str, Tensor]]  # (role, tensor): I feature map in, O out, W weights, B bias, P parameters
_8BIT, _32BIT, _64BIT = ("INT8", "UINT8"), ("INT32", "UINT32"), ("INT64", "UINT64")


class Core(NamedTuple):
    rule: str  # rule-id prefix, "ethos-u55"
    ops: frozenset[str]
    types: frozenset[str]
    no_quant: frozenset[str]
    weight_sum: tuple[int, int]  # for 8-bit and 16-bit IFMs
    max_bias: int
    u55: bool  # the U55/U65 checks (32/64-bit, strides, zero points >= 0) rather than the U85 ones
    ops_name: str  # whose operator list, "Ethos-U55/U65"


U55 = Core("ethos-u55", E.U55_OPS, E.U55_TYPES, E.U55_NO_QUANT, E.U55_WEIGHT_SUM, E.U55_MAX_BIAS, True, "Ethos-U55/U65")
U65 = U55._replace(rule="ethos-u65")
U85 = Core("ethos-u85", E.U85_OPS, E.U85_TYPES, E.U85_NO_QUANT, E.U85_WEIGHT_SUM, E.U85_MAX_BIAS, False, "Ethos-U85")


def _conns(sub: Subgraph, op: Operator) -> Conns:  # ethosu_ops.ROLES
    n = len(op.inputs)
    roles = "I" * n if op.opcode in E.VARIADIC else (E.ROLES.get(op.opcode, "I") + "P" * n)[:n]
    ins = [(r, t) for r, i in zip(roles, op.inputs, strict=True) if (t := sub.tensor(i)) is not None]
    return ins + [("O", t) for i in op.outputs if (t := sub.tensor(i)) is not None]


def _get(conns: Conns, role: str, k: int = 0) -> Tensor | None:
    found = [t for r, t in conns if r == role]
    return found[k] if k < len(found) else None


def _q(t: Tensor | None) -> tuple[list[float], list[int]]:
    q = t.quantization if t is not None else None
    return ([], []) if q is None else ([float(s) for s in q.scale], [int(z) for z in q.zero_point])


def _ints(model: Model, t: Tensor | None) -> list[int] | None:
    a = model.array(t) if t is not None else None
    return None if a is None else [int(v) for v in a]


def _generic(model: Model, op: Operator, core: Core, conns: Conns, big_scale: bool) -> Why:
    """TfLiteSupportedOperators' generic constraints (REPORT "Generic Constraints", per-op quantization lines)."""
    code = op.opcode
    if code not in E.VARIABLE_OPS:
        if bad := [t.dtype for r, t in conns if r in "IO" and t.dtype not in core.types]:
            yield "data-type", f"{code} of {bad[0]}: feature-map dataTypes must be one of {', '.join(sorted(core.types))}"
        if not any(r == "I" for r, _ in conns) or not op.outputs:
            yield "io", f"{code} of {len(op.inputs)} inputs, {len(op.outputs)} outputs: operations must have an IFM and an OFM"
        if any(not t.shape and not model.is_constant(t) for _, t in conns):  # RUN: an unknown-rank TILE output, scalar shape arithmetic
            yield "shape", f"{code} with a tensor of unknown shape: tensors must have constant shape"
        if dyn := [list(t.shape_signature) for _, t in conns if t.shape_signature and min(t.shape_signature[1:], default=0) < 0]:
            yield "dynamic-shape", f"{code} tensor of shape {dyn[0]}: only the first dimension of tensors can be dynamic"
    if code not in core.no_quant and big_scale:
        yield "scale", f"{code} with a scale of 2^31 or more: quantization scale of any tensor must be positive (its shift >= 0)"
    if code not in E.PER_AXIS_OK and any(q is not None and (len(q.scale) > 1 or len(q.zero_point) > 1) for q in (t.quantization for _, t in conns)):
        yield "per-axis", f"{code} with a per-axis quantized tensor: per-axis quantization is supported on convolutions and FC only"
    if code in E.WEIGHTED:
        yield from _weights(model, op, core, conns)


def _weights(model: Model, op: Operator, core: Core, conns: Conns) -> Why:
    """Weight and bias constraints of CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and TRANSPOSE_CONV (REPORT, REGOR WeightSum)."""
    code, w, b, x = op.opcode, _get(conns, "W"), _get(conns, "B"), _get(conns, "I")
    if w is None or x is None:
        return
    if w.dtype not in _8BIT:
        yield "weights", f"{code} weights are {w.dtype}: weight tensors must be 8-bit precision"
    limit = core.weight_sum[x.dtype not in _8BIT]
    if (top := weight_sum(model, code, w, limit)) > limit:
        yield "weight-sum", f"{code} absolute weight sum {top} of one output channel: the sum cannot exceed {limit}"
    if code == "FULLY_CONNECTED" and (len(w.shape) < 2 or math.prod(w.shape) != w.shape[0] * w.shape[-1]):
        yield "fc-weights", f"FULLY_CONNECTED weights of shape {list(w.shape)}: FullyConnected weights must be on the form O,1,..,1,I"
    if b is None:
        return
    if b.shape and math.prod(b.shape) > b.shape[-1]:
        yield "bias", f"{code} bias of shape {list(b.shape)}: bias values must be stored in the channel axis"
    elif not model.is_constant(b):
        yield "bias", f"{code} bias computed at run time: bias tensors must be constant"
    elif b.dtype not in ("INT32", "INT64"):
        yield "bias", f"{code} bias of {b.dtype}: bias tensors precision must be Int32 or Int64"
    elif b.dtype == "INT64" and (top := max(_ints(model, b) or [0])) > core.max_bias:
        yield "bias", f"{code} int64 bias up to {top}: Int64 bias must be smaller than {core.max_bias}"


def _specific(model: Model, op: Operator, conns: Conns) -> Why:
    """The op-specific constraints both cores share (REPORT "Specific Operator constraints", REGOR)."""
    code, x, y, out, p = op.opcode, _get(conns, "I"), _get(conns, "I", 1), _get(conns, "O"), _get(conns, "P")
    if code in E.CONST_PARAMS and any(r == "P" and not model.is_constant(t) for r, t in conns):
        yield "params", f"{code} with a parameter computed at run time: parameter tensors must be constant"
    elif code in E.PAD_OPS and p is not None and p.dtype not in ("INT32", "INT64"):
        yield "params", f"{code} paddings of {p.dtype}: params tensor must be Int32 or Int64"
    if x is None or out is None:
        return
    ins = (*op.inputs, *[-1] * 24)
    masks = [v if isinstance(v := op.options.get(k), int) else 0 for k in ("begin_mask", "ellipsis_mask", "end_mask", "shrink_axis_mask")]
    sl = [v for k in range(3) if (v := _ints(model, _get(conns, "P", k))) is not None] if code == "STRIDED_SLICE" else []
    if code in E.MATCHING_QUANT and (_q(x) != _q(out) or (y is not None and _q(y) != _q(out))):
        yield "matching-quantization", f"{code} inputs quantized {_q(x)}, {_q(y)}; output {_q(out)}: both must match the OFM's"
    elif code in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        kw, kh, *_ = E.kernel(op.options)
        if (code == "MAX_POOL_2D" or not E.padded(op.options, x.shape)) and (kh > E.POOL_LIMITS[0] or kw * kh > E.POOL_LIMITS[1]):
            yield "pool-kernel", f"{code} kernel {kh}x{kw}: kernel height must be <= 256 and the kernel product <= 256*256"
        elif code == "AVERAGE_POOL_2D" and E.padded(op.options, x.shape) and max(kw, kh) > E.POOL_LIMITS[2]:
            yield "pool-kernel", f"AVERAGE_POOL_2D kernel {kh}x{kw} with padding: kernel width and height must be <= 8"
    elif code == "TRANSPOSE_CONV" and (w := _get(conns, "W")) is not None and len(w.shape) == 4:
        kw, kh, sw, sh, _, _ = E.kernel(op.options, w.shape if w is not None else None)
        (_, ih, iw, _), (_, oh, ow, _) = E.nhwc(x.shape), E.nhwc(out.shape)
        want = (ih * sh, iw * sw) if op.options.get("padding") == 0 else (ih * sh + max(kh - sh, 0), iw * sw + max(kw - sw, 0))
        if (oh, ow) != want:
            yield "transpose-conv", f"TRANSPOSE_CONV {ih}x{iw} input, {kh}x{kw} kernel, stride {sh}x{sw}: OFM {oh}x{ow}, must be {want}"
    elif code == "RSQRT" and x.dtype not in E.RSQRT_TYPES:
        yield "data-type", f"RSQRT of {x.dtype}: IFM must be Int8 or Int16"
    elif code == "SOFTMAX" and (hw := math.prod(E.nhwc(x.shape)[1:3])) > E.SOFTMAX_MAX_WH:
        yield "softmax", f"SOFTMAX input {list(x.shape)}, W*H = {hw}: the product of IFM width and height must be less than 65536"
    elif code == "TRANSPOSE" and p is not None and p.shape and p.shape[-1] > E.TRANSPOSE_MAX_RANK:
        yield "transpose", f"TRANSPOSE of rank {p.shape[-1]}: tensor dimension must be <= 8"
    elif code in E.SAME_TYPE_LUT and (x.dtype != out.dtype or x.dtype not in E.SAME_TYPE_LUT[code] or x.shape != out.shape):
        yield "data-type", (f"{code} {x.dtype}{list(x.shape)} -> {out.dtype}{list(out.shape)}: IFM and OFM datatypes and shapes "
                            f"must match, datatype {' or '.join(E.SAME_TYPE_LUT[code])}")
    elif code == "MEAN" and (axes := _ints(model, p)) is not None and x.shape and (why := E.mean_problem(x.dtype, x.shape, axes)):
        yield "mean", f"MEAN of {x.dtype}{list(x.shape)} over axes {axes}: {why}"
    elif code == "STRIDED_SLICE" and len(sl) == 3 and (why := E.slice_problem(x.shape, sl[0], sl[1], sl[2], masks)):
        yield "strided-slice", f"STRIDED_SLICE of {list(x.shape)}, begin {sl[0]}, end {sl[1]}, strides {sl[2]}: {why}"
    elif code == "UNIDIRECTIONAL_SEQUENCE_LSTM" and (min(ins[1:9]) < 0 or max(ins[k] for k in E.LSTM_ABSENT) >= 0):
        yield "lstm", "UNIDIRECTIONAL_SEQUENCE_LSTM with CIFG, peephole, projection or layer norm: only the plain variant is supported"
    elif code in ("SPLIT", "SPLIT_V") and op.options and op.options.get("num_splits") != len(op.outputs):
        yield "split", f"{code} num_splits {op.options.get('num_splits')}, {len(op.outputs)} outputs: they must match"


def _u55(model: Model, op: Operator, conns: Conns) -> Why:
    """The U55/U65 core's own constraints (REPORT U55 lists, REGOR tflite_supported_operators_u55.cpp)."""
    code, x, out, w, p = op.opcode, _get(conns, "I"), _get(conns, "O"), _get(conns, "W"), _get(conns, "P")
    for r, t in conns if code not in E.ZERO_POINT_FREE else ():
        if r in "IO" and (bad := [z for z in _q(t)[1] if (z != 0 and t.dtype in _32BIT) or (z < 0 and t.dtype.startswith("U"))]):
            yield "zero-point", f"{code} {t.dtype} zero point {bad[0]}: zero-points must be 0 for Int32 and non-negative for unsigned"
    for bits, types, ok in ((32, _32BIT, E.U55_32BIT_OK), (64, _64BIT, E.U55_64BIT_OK)):
        if code not in ok and any(r in "IO" and t.dtype in types for r, t in conns):
            yield f"{bits}-bit", f"{code} of {bits}-bit feature maps: {bits}-bit feature-maps are not supported on {code}"
    if x is None or out is None:
        return
    kw, kh, sw, sh, dw, dh = E.kernel(op.options, w.shape if w is not None else None)
    if code in E.U55_UNROLLED and max(sw, sh) > E.U55_MAX_STRIDE and (E.padded(op.options, x.shape, w.shape if w is not None else None) or max(dw, dh) > 1):
        yield "stride", f"{code} stride {sh}x{sw} with padding or dilation: stride>3 only with dilation 1 and VALID padding"
    elif code == "DEPTHWISE_CONV_2D" and max(sw, sh) > E.U55_MAX_STRIDE:
        yield "stride", f"DEPTHWISE_CONV_2D stride {sh}x{sw}: kernel stride must be in the range (1,3)"
    elif code == "BATCH_MATMUL" or (code == "FULLY_CONNECTED" and w is not None and not model.is_constant(w)):
        depth = (x.shape[-2] if op.options.get("adj_x") and len(x.shape) > 1 else x.shape[-1]) if x.shape else 1
        if x.dtype != "INT8" or max(depth, out.shape[-1] if out.shape else 1) > E.MATMUL_MAX:
            yield "matmul", f"{code} (matmul) of {x.dtype}, reduced axis {depth}, OFM {list(out.shape)}: IFM int8, both <= 2^16"
    elif code == "ARG_MAX" and ((x.shape or (0,))[-1] > E.ARG_MAX_DEPTH or (_ints(model, p) or [-1])[0] not in (-1, len(x.shape) - 1)):
        yield "arg-max", f"ARG_MAX of {list(x.shape)} on axis {_ints(model, p)}: along the depth axis, of depth <= 127"
    elif code == "TRANSPOSE" and (why := E.transpose_problem(x.dtype, x.shape, _ints(model, p))):
        yield "transpose", f"TRANSPOSE of {x.dtype}{list(x.shape)}, permutation {_ints(model, p)}: {why}"
    elif code in E.RESIZE_OPS and (why := E.resize_problem(True, code, op.options, x.shape, out.shape)):
        yield "resize", f"{code} {list(x.shape)} -> {list(out.shape)}: {why}"
    elif code == "REVERSE_V2" and _ints(model, p) != []:
        yield "reverse", f"REVERSE_V2 over axes {_ints(model, p)}: the axis attribute is not supported"
    elif code == "TRANSPOSE_CONV" and ((sw, sh) not in ((1, 1), (2, 2), (2, 1), (1, 2)) or (
            (sw, sh) == (2, 1) and (E.nhwc(x.shape)[1], kh) != (1, 1)) or ((sw, sh) == (1, 2) and (E.nhwc(x.shape)[2], kw) != (1, 1))):
        yield "stride", f"TRANSPOSE_CONV stride {sw}x{sh} (WxH): 1x1, 2x2, 2x1 (IFM and kernel height 1), 1x2 (width 1)"


def _u85(model: Model, op: Operator, conns: Conns) -> Why:
    """The U85 core's own constraints (REPORT U85 lists, REGOR tflite_supported_operators_u85.cpp)."""
    code, x, out, p = op.opcode, _get(conns, "I"), _get(conns, "O"), _get(conns, "P")
    for r, t in conns if code not in E.U85_ZERO_POINT_FREE else ():
        ok = E.U85_ZERO_POINTS.get((r, t.dtype), E.U85_ZERO_POINTS.get((r, "")))
        if r in "IO" and ok is not None and (bad := [z for z in _q(t)[1] if not (ok[0] <= z <= ok[1] or z in ok[2:])]):
            yield "zero-point", f"{code} {t.dtype} {'IFM' if r == 'I' else 'OFM'} zero point {bad[0]}: outside {ok}"
    if code in E.VARIABLE_OPS and ((data := [t.dtype for _, t in conns if t.dtype != "RESOURCE"]) or ["-"])[0] not in E.U85_TYPES:
        yield "variable", f"{code} of {data[0] if data else '-'}: variable handles must be Resource, variable data of a feature-map type"
    elif code in E.RESIZE_OPS and x and out and (why := E.resize_problem(False, code, op.options, x.shape, out.shape)):
        yield "resize", f"{code} {list(x.shape)} -> {list(out.shape)}: {why}"
    elif code == "GATHER" and x is not None and isinstance(a := op.options.get("axis") or 0, int) and (
            a + len(x.shape) if a < 0 else a) != (b := op.options.get("batch_dims") or 0):
        yield "gather", f"GATHER axis {a}, batch_dims {b}: axis must be equal to batch_dims"
    elif code == "SCATTER_ND" and x is not None and (
            (x.shape or (0,))[-1] != 1 or (idx := _ints(model, x)) is None or len(set(idx)) != len(idx) or not (p and model.is_constant(p))):
        yield "scatter", f"SCATTER_ND indices {list(x.shape)}: constant, unique, channel 1, and a constant shape"


def _decide(model: Model, sub: Subgraph, op: Operator, core: Core) -> Decision:
    if op.index in dead_ops(model)[sub.index]:
        return "accelerated", (Reason(f"{core.rule}:dropped", f"{op.opcode} computes nothing the model uses: Vela drops it"),)
    if not core.u55 and op.opcode in E.U85_ABSORBED:
        data = _variable_data(sub, op)
        if data is None or data in E.U85_TYPES:
            return "accelerated", ()
        # RUN: the VAR_HANDLE of a float variable stays on the CPU, "Unsupported opType" (2 float corpus models)
        return "cpu", (Reason(f"{core.rule}:op-type", f"{op.opcode} of a {data} variable: Unsupported opType (only variables the NPU "
                                                      "reads and writes are absorbed)"),)
    first: tuple[str, str] | None = ("op-type", f"{op.opcode}: Unsupported opType (not in Vela's {core.ops_name} operator list)")
    if op.opcode in core.ops and not op.is_custom:
        conns = _conns(sub, op)
        ranges = quant_ranges(model)[sub.index]
        big_scale = any((r := ranges[t.index]) is not None and r[1] >= E.MAX_SCALE for _, t in conns)
        first = next(chain(_generic(model, op, core, conns, big_scale), _specific(model, op, conns), (_u55 if core.u55 else _u85)(model, op, conns)), None)
    return ("cpu", (Reason(f"{core.rule}:{first[0]}", first[1]),)) if first else ("accelerated", ())


def _variable_data(sub: Subgraph, handle: Operator) -> str | None:
    """The data type a VAR_HANDLE's variable holds: what its READ_VARIABLE gives or ASSIGN_VARIABLE writes."""
    resource = handle.outputs[0] if handle.outputs else -1
    for op in sub.operators:
        if op.opcode in E.VARIABLE_OPS and op.inputs and op.inputs[0] == resource:
            data = sub.tensor(op.outputs[0] if op.opcode == "READ_VARIABLE" and op.outputs else op.inputs[-1])
            if data is not None:
                return data.dtype
    return None


def _key(model: Model, sub: Subgraph, op: Operator) -> Hashable:
    return op_keys_ethosu(model)[sub.index][op.index]


def _problems(model: Model, core: Core) -> tuple[Reason, ...]:
    """Why Vela compiles nothing: its TFLite semantic checks (ethosu_ops.SIGNED_OPS), and on the U55 a BOOL model input or
    output (RUN: "Non-passthrough operation (NotEqual) could not run on NPU", 3 of 3 such models)."""
    out: list[tuple[str, str]] = list(model.memo("qcheck_targets.ethosu.semantics", lambda: E.semantics(model, quant_ranges(model))))
    io = [t.dtype for t in map(model.subgraphs[0].tensor, (*model.subgraphs[0].inputs, *model.subgraphs[0].outputs)) if t] if model.subgraphs else []
    if core.u55 and "BOOL" in io:
        out.append(("bool-io", "a BOOL model input or output: Vela converts it with ops the U55 cannot run (NotEqual, And)"))
    return tuple(Reason(f"{core.rule}:{rule}", msg) for rule, msg in dict.fromkeys(out))


def _profile(core: Core) -> Callable[[Model, Mapping[str, object], Sequence[Finding]], Placed]:
    def place(model: Model, facts: Mapping[str, object], findings: Sequence[Finding]) -> Placed:
        """Each op on the NPU (accelerated: in an ethos-u partition, or dropped) or left to the CPU with Vela's reason."""
        same = core._replace(rule=U55.rule) if core.u55 else core  # (the U65 has the U55's constraints: placed once)
        placed = model.memo(f"qcheck_targets.ethosu.{same.rule}", lambda: _place(model, same))
        return placed if same == core else _renamed(placed, same.rule, core.rule)

    place.__name__ = place.__qualname__ = f"place_{core.rule[-3:]}"
    return place


def _place(model: Model, core: Core) -> Placed:
    ops = place_all(model, lambda m, s, o: _decide(m, s, o, core), {}, key=_key)
    return compiled_for(model, Placed(ops), "ethos-u", "the Arm Ethos-U (by Vela)", core.rule) or Placed(ops, _problems(model, core))


def _renamed(placed: Placed, old: str, new: str) -> Placed:
    """`placed` with the rule ids of profile `old` as those of `new`."""
    def rename(reasons: tuple[Reason, ...]) -> tuple[Reason, ...]:
        return tuple(r._replace(rule=new + r.rule[len(old):]) if r.rule.startswith(old + ":") else r for r in reasons)

    return Placed(tuple(p._replace(reasons=rename(p.reasons)) if p.reasons else p for p in placed.ops), rename(placed.problems))


# Vela 5.2 for the Ethos-U55, U65 (the U55's constraints: REPORT "Ethos-U55 and Ethos-U65") and U85.
place_u55, place_u65, place_u85 = _profile(U55), _profile(U65), _profile(U85)
