"""The `edgetpu` target: which ops the Coral Edge TPU compiler (`edgetpu_compiler`) can map; tables and sources: edgetpu_ops.

`MI` = coral.ai models-intro (model requirements), `AXIS` = the Axis ARTPEC-7 mirror of the Coral op table; the rule
ids follow ../shared/reference/targets.md §4.1-4.2. The compiler is closed source and not installed: every verdict is
doc-derived, and one resting on a row the notes call UNCONFIRMED says "(unconfirmed)".

`place` says only which ops CAN map. The compiler's cut (one Edge TPU segment from the input up to the first op that
cannot map, everything after it on the CPU; targets.md §4.3, edgetpu#461) is the core's: Target.partitioning "prefix".
Not modelled: "certain reshapes might not be mapped for large tensor sizes" and resizes "refused for precision depending
on size" (AXIS gives no limit), the runtime-version column (`-m`), and per-channel weights (mapped, UNCONFIRMED).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence

from qcheck.findings import Finding
from qcheck.targets import OpPlacement, Placed, Reason
from qcheck.tflite.model import Model, Operator, Subgraph, Tensor
from qcheck_targets import edgetpu_ops as E
from qcheck_targets import litert
from qcheck_targets.common import Decision, compiled_for, custom_name, op_keys, place_all

Reasons = Iterator[Reason]
UNCONFIRMED = " (unconfirmed)"


def _r(rule: str, message: str) -> Reason:
    return Reason(f"edgetpu:{rule}", message)


def _label(model: Model, op: Operator) -> str:
    return f"CUSTOM({custom_name(model, op) or '?'})" if op.is_custom else op.opcode


def _num(o: Mapping[str, object], key: str, default: int = 0) -> int:
    v = o.get(key, default)
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else default


def _values(model: Model, t: Tensor | None) -> list[int] | None:
    """The integer values of a constant tensor (None: not constant, or unreadable)."""
    if t is None or not model.is_constant(t):
        return None
    a = model.array(t)
    return None if a is None else [int(v) for v in a.reshape(-1).tolist()]


def _axes(values: Sequence[int], rank: int) -> set[int]:
    return {v + rank if v < 0 else v for v in values}


def _spread(shape: tuple[int, ...]) -> int:  # how many dimensions are larger than 1
    return sum(1 for d in shape if d > 1)


def _tensors(model: Model, sub: Subgraph, op: Operator) -> Reasons:
    """MI requirements 1-3: 8-bit tensors, constant sizes and parameters, at most 3 innermost dimensions > 1."""
    code = _label(model, op)
    for role, ids in (("input", op.inputs), ("output", op.outputs)):
        for k, t in enumerate(map(sub.tensor, ids)):
            if t is None:
                continue
            const = model.is_constant(t)
            if const and t.dtype not in E.EIGHT_BIT | E.CONSTANT_EXTRA:
                yield _r("8-bit", f"{code} constant {role} {k} is {t.dtype}: MI requires 8-bit quantized tensors "
                                  "(int8/uint8; int32 only for biases and parameters): \"Model not quantized\" (#313, #391)")
                return
            if const or t.dtype in E.EIGHT_BIT:
                if t.shape_signature is not None and any(d < 0 for d in t.shape_signature):
                    yield _r("dynamic-shape", f"{code} {role} {k} has shape signature {list(t.shape_signature)}: MI requires "
                                              "constant tensor sizes (a dynamic dimension cannot be compiled)")
                    return
                if not const and len(t.shape) > E.INNER_DIMS and any(d > 1 for d in t.shape[:-E.INNER_DIMS]):
                    yield _r("rank", f"{code} {role} {k} of shape {list(t.shape)}: MI allows more than 3 dimensions only "
                                     "if just the 3 innermost are > 1 (\"Tensor has unsupported rank (up to 3 innermost "
                                     "dimensions mapped)\")")
                    return
                continue
            if t.dtype in E.INTEGER_PARAMS:
                yield _r("constant-params", f"{code} {role} {k} is a {t.dtype} value computed at run time: MI requires "
                                            "constant parameters (shapes, axes, paddings fixed at compile time)")
            else:
                said = '"Model not quantized" (#313, #391)' if t.dtype.startswith("FLOAT") else f"no {t.dtype} (#338)"
                yield _r("8-bit", f"{code} {role} {k} is {t.dtype}: MI requires 8-bit quantized tensors (int8/uint8): {said}")
            return


def _limits(model: Model, sub: Subgraph, op: Operator) -> Reasons:
    """The per-op limitations of the op table (AXIS; the Coral rows the notes call UNCONFIRMED say so)."""
    code, o = op.opcode, op.options
    ins = [sub.tensor(i) for i in op.inputs]
    x = ins[0] if ins else None
    out = sub.tensor(op.outputs[0]) if op.outputs else None
    act = o.get("fused_activation_function", "NONE")
    if code in E.NO_ACTIVATION and act not in ("NONE", 0, None):
        yield _r("activation", f"{code} with fused {act}: AXIS table, {code} takes no fused activation")
    if code in E.SAME_DILATION and _num(o, "dilation_h_factor", 1) != _num(o, "dilation_w_factor", 1):
        yield _r("dilation", f"{code} dilation {_num(o, 'dilation_h_factor', 1)}x{_num(o, 'dilation_w_factor', 1)}: AXIS "
                             "table, Conv2d and DepthwiseConv2d need the same dilation in x and y")
    if code == "CONCATENATION":
        consts = [t for t in ins if t is not None and model.is_constant(t)]
        zp = [t.quantization.zero_point[0] if t.quantization is not None and len(t.quantization.zero_point) else 0
              for t in consts]
        if consts and (len(ins) != 2 or any(_values(model, t) != [int(z)] * t.num_elements for t, z in zip(consts, zp, strict=True))):
            yield _r("concatenation", f"CONCATENATION of {len(ins)} inputs, {len(consts)} constant: AXIS table, with a "
                                      "constant input it takes exactly 2 inputs and the constant is all zeros (a zero-pad)")
    elif code == "FULLY_CONNECTED":
        fmt = o.get("weights_format", 0)
        if fmt not in (0, "DEFAULT"):
            yield _r("fully-connected", f"FULLY_CONNECTED weights format {fmt}: AXIS table, default weights format only")
        elif out is not None and _spread(out.shape) > 1:
            yield _r("fully-connected", f"FULLY_CONNECTED output of shape {list(out.shape)}: AXIS table, the output "
                                        "tensor must be one-dimensional (one dimension > 1)")
    elif code == "MEAN" and x is not None and (axes := _values(model, ins[1] if len(ins) > 1 else None)) is not None:
        rank = len(x.shape)
        if rank and rank - 1 in _axes(axes, rank) and x.shape[-1] % E.MEAN_Z_MULTIPLE:
            yield _r("mean", f"MEAN over axes {axes} of shape {list(x.shape)}: AXIS table, a z-reduction needs z a "
                             f"multiple of {E.MEAN_Z_MULTIPLE}")
    elif code == "PAD" and len(ins) > 1 and (pads := _values(model, ins[1])) is not None and any(pads[:2]):
        yield _r("batch-axis", f"PAD paddings {pads[:2]} on the batch axis: AXIS table, Pad not along batch")
    elif code == "PRELU" and len(ins) > 1 and ins[1] is not None and any(d > 1 for d in ins[1].shape[:-1]):
        yield _r("prelu", f"PRELU alpha of shape {list(ins[1].shape)}: AXIS table, alpha must be 1-D (only the innermost "
                          "dimension > 1; Keras PReLU on 4-D needs shared_axes=[1, 2])")
    elif code == "STRIDED_SLICE":
        masks = {k: _num(o, k) for k in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")}
        strides = _values(model, ins[3] if len(ins) > 3 else None)
        if any(masks.values()) or (strides is not None and any(s != 1 for s in strides)):
            set_masks = ", ".join(f"{k} {v}" for k, v in masks.items() if v) or "no masks"
            yield _r("strided-slice", f"STRIDED_SLICE strides {strides}, {set_masks}: Coral table, StridedSlice takes "
                                      f"strides 1 and zero masks{UNCONFIRMED}")
    elif code == "SOFTMAX" and x is not None and (_spread(x.shape) > 1 or x.num_elements > E.SOFTMAX_MAX_ELEMENTS):
        yield _r("softmax", f"SOFTMAX of shape {list(x.shape)}: Coral table, Softmax 1-D with at most "
                            f"{E.SOFTMAX_MAX_ELEMENTS:,} elements{UNCONFIRMED}")
    if code in E.NOT_BATCH:
        yield from _batch(model, sub, op)


def _batch(model: Model, sub: Subgraph, op: Operator) -> Reasons:
    """Ops that must not work along the batch axis (axis 0 of a tensor of rank >= 2): E.NOT_BATCH."""
    where, source, unconfirmed = E.NOT_BATCH[op.opcode]
    kind, at = where.split(":")
    if kind == "option":
        if at not in op.options:  # (an options table absent from the file: the axis is unknown)
            return
        out = sub.tensor(op.outputs[0]) if op.outputs else None
        rank, axes = (len(out.shape) if out is not None else 0), [_num(op.options, at)]
    else:
        k = int(at)
        data = sub.tensor(op.inputs[1 if k == 0 else 0]) if len(op.inputs) > 1 else None
        vals = _values(model, sub.tensor(op.inputs[k])) if len(op.inputs) > k else None
        rank, axes = (len(data.shape) if data is not None else 0), vals or []
    if rank >= 2 and 0 in _axes(axes, rank):
        yield _r("batch-axis", f"{op.opcode} along axis {axes} of a rank-{rank} tensor: {source}"
                               f"{UNCONFIRMED if unconfirmed else ''}")


def decide(model: Model, sub: Subgraph, op: Operator) -> Decision:
    """Accelerated when the compiler can map the op (the cut is the core's); else cpu, with every reason found."""
    code = op.opcode
    if op.is_custom or code not in E.OP_SET:
        name = _label(model, op)
        why = E.REFUSED.get(code)
        return "cpu", (_r("op-set", f"{name} is not in the Edge TPU op table (AXIS){f'; refused per {why}' if why else ''}"),)
    reasons = (*_tensors(model, sub, op), *_limits(model, sub, op))
    if reasons:
        return "cpu", reasons
    if code in E.UNCONFIRMED_OPS:
        return "accelerated", (_r("unconfirmed", f"{code} maps per a row of the Coral op table the notes could not check "
                                                 f"against a primary source{UNCONFIRMED}"),)
    return "accelerated", ()


def _key(model: Model, sub: Subgraph, op: Operator) -> Hashable:
    # CONCATENATION reads a constant's values (all zeros?), which op_keys does not capture: judged on its own.
    return None if op.opcode == "CONCATENATION" else op_keys(model)[sub.index][op.index]


def place(model: Model, facts: Mapping[str, object], findings: Sequence[Finding]) -> Placed:
    """Every op: accelerated when the compiler can map it; else on LiteRT's builtin kernels, or unsupported there too."""
    base = litert.place(model, facts, findings)
    done = compiled_for(model, base, E.COMPILED_OP, "the Edge TPU", "edgetpu")
    if done is not None:
        return done
    tpu = place_all(model, decide, {}, fallback="cpu", key=_key)
    main = _r("subgraph", "the Edge TPU compiler maps the main subgraph only: ops of other subgraphs run on the "
                          f"CPU{UNCONFIRMED}")
    ops: list[OpPlacement] = []
    for cpu, mine in zip(base.ops, tpu, strict=True):
        claimed = mine.placement == "accelerated" and cpu.subgraph == 0
        why = mine.reasons if cpu.subgraph == 0 else (main,)
        if cpu.placement == "unsupported":
            ops.append(cpu._replace(reasons=(*cpu.reasons, *why)))
        elif claimed:
            ops.append(cpu._replace(placement="accelerated", reasons=why))
        else:
            ops.append(cpu._replace(placement="cpu", reasons=why))
    return Placed(tuple(ops), base.problems)
