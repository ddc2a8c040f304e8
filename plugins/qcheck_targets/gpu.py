"""The `gpu` target: which ops LiteRT's GPU delegate (TfLiteGpuDelegateV2) takes; each check names its source (tables: gpu_ops).

`G` = LiteRT tflite/tools/versioning/gpu_compatibility.cc, `MB` = tflite/delegates/gpu/common/model_builder.cc; the
rule numbers are those of ../shared/reference/targets.md §2.1, whose line numbers (snapshot f674577) are quoted here.
Only the largest partition is delegated (Target.partitioning "largest:1", MB GetOpsToReplace): the core applies that.

Rule 18 (hybrid: float input, int8 constant weights) is not modelled on its own: whether the parsers dequantize such
constants is UNCONFIRMED, so these ops are left to rule 3's type gate, which does not check constants (not ArenaRw) and
so lets them through ("accelerated").
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence

from qcheck.findings import Finding
from qcheck.targets import OpPlacement, Placed, Reason
from qcheck.tflite.model import Model, Operator, Subgraph, Tensor
from qcheck_targets import gpu_ops as G
from qcheck_targets import litert
from qcheck_targets.common import custom_name, op_keys, place_all, version

Reasons = Iterator[Reason]


def _r(rule: str, message: str) -> Reason:
    return Reason(f"gpu:{rule}", message)


def _ins(sub: Subgraph, op: Operator) -> list[Tensor]:  # the present inputs (OpSignature skips kTfLiteNoType ones)
    return [t for t in map(sub.tensor, op.inputs) if t is not None]


def _fp16(model: Model) -> list[frozenset[int]]:
    """Per subgraph: outputs of DEQUANTIZE nodes of constant FLOAT16 tensors. The delegate's FP16GraphPartitionHelper
    (LiteRT tflite/delegates/utils.cc:236-262) hands their consumers the fp16 constant itself, so they count as constant."""
    def compute() -> list[frozenset[int]]:
        return [frozenset(op.outputs[0] for op in sub.operators if op.opcode == "DEQUANTIZE" and op.outputs and op.inputs
                          and (x := sub.tensor(op.inputs[0])) is not None and x.dtype == "FLOAT16" and model.is_constant(x))
                for sub in model.subgraphs]
    return model.memo("qcheck_targets.gpu.fp16", compute)


def _const(model: Model, t: Tensor, fp16: frozenset[int] = frozenset()) -> bool:  # OpSignatureTensorSpec.is_const
    return model.is_constant(t) or t.index in fp16


def _runtime(model: Model, ts: Sequence[Tensor], fp16: frozenset[int] = frozenset()) -> int:
    return sum(1 for t in ts if not _const(model, t, fp16))  # G GetNumberOfRuntimeInputs: not is_const, not optional


def _num(o: Mapping[str, object], key: str) -> int:  # a missing option reads 0, as the zero-initialised TfLite*Params
    v = o.get(key)
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> bool:  # G CheckAddMulBroadcastCompatibility
    if len(a) <= 1 or len(b) <= 1 or len(a) == len(b):
        return True
    long, short = (a, b) if len(a) >= len(b) else (b, a)
    if G.ENHANCED_BROADCAST:  # CheckIsBroadcastable
        return all(x == y or 1 in (x, y) for x, y in zip(reversed(long), reversed(short), strict=False))
    return len(long) == 4 and ((len(short) == 3 and long[0] == 1) or (len(short) == 2 and (
        (long[0] == 1 and short == (1, 1)) or (long[0] == short[0] and long[3] == short[1]))))


def _counts(model: Model, code: str, ins: list[Tensor], n_out: int, fp16: frozenset[int]) -> Reasons:  # G CheckInputsOutputs / ...ConstsOutputs
    spec = G.COUNTS.get(code)
    if spec is None:
        return
    runtime, const, outs = spec
    got_rt = _runtime(model, ins, fp16)
    got_const = len(ins) - got_rt
    if got_rt != runtime or n_out != outs or (const is not None and got_const != const):
        want = f"{runtime} runtime{f', {const} constant' if const is not None else ''} input(s), {outs} output(s)"
        yield _r("inputs", f"{code} with {got_rt} runtime, {got_const} constant input(s), {n_out} output(s): G "
                           f"CheckInputsOutputs wants {want}")


def _supported(model: Model, sub: Subgraph, op: Operator) -> Reasons:
    """MB NewOperationParser and the parser's IsSupported, which is G CheckGpuDelegateCompatibility (G:534-1275)."""
    code, o, ins, n_out = op.opcode, op.options, _ins(sub, op), len(op.outputs)
    fp16 = _fp16(model)[sub.index]
    x = ins[0] if ins else None
    out = sub.tensor(op.outputs[0]) if op.outputs else None
    if op.is_custom:  # rule 2: G CheckCustomOpsGpuDelegateCompatibility (G:421-463), MB NewOperationParser custom case
        name = custom_name(model, op)
        if name not in G.CUSTOM_OPS:
            yield _r("custom-op", f"custom op {name or '(unnamed)'}: \"Not supported custom op\" "
                                  "(CheckCustomOpsGpuDelegateCompatibility takes Convolution2DTransposeBias, "
                                  "MaxPoolingWithArgmax2D, MaxUnpooling2D, Resampler)")
            return
        want = G.CUSTOM_OPS[name]
        if want is not None and (_runtime(model, ins, fp16), n_out) != want:
            yield _r("custom-op", f"custom op {name} with {_runtime(model, ins, fp16)} runtime input(s), {n_out} output(s): "
                                  f"CheckCustomOpsGpuDelegateCompatibility wants {want[0]} and {want[1]}")
        elif name == "Convolution2DTransposeBias" and len(ins) < 2:
            yield _r("custom-op", "custom op Convolution2DTransposeBias without weights: CheckTensorIsAvailable(1)")
        return
    if code not in G.OP_SET:  # rule 1: MB NewOperationParser -> UnsupportedOperationParser
        yield _r("op-set", f"{code}: \"Operation is not supported.\" (MB NewOperationParser has no parser for it)")
        return
    if code in G.MAX_VERSION and version(model, op) > G.MAX_VERSION[code]:  # rule 1: MB TransposeOperationParser
        yield _r("op-set", f"{code} version {version(model, op)}: MB CheckMaxSupportedOpVersion takes up to "
                           f"{G.MAX_VERSION[code]}")
        return
    yield from _counts(model, code, ins, n_out, fp16)
    act = o.get("fused_activation_function")
    if code in G.ACTIVATION_OPS and act in G.BAD_ACTIVATIONS:  # rule 5: G IsActivationSupported (G:83-99)
        yield _r("activation", f"{code} with fused {act}: IsActivationSupported refuses kTfLiteActSignBit")
    if code in ("CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV"):
        yield from _conv(model, code, o, ins, out, n_out, fp16)
    elif code in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):  # G CheckPooling2DGpuDelegateCompatibility, CheckKernelsAndStrides
        vals = [_num(o, k) for k in ("filter_height", "filter_width", "stride_h", "stride_w")]
        if min(vals) <= 0:
            yield _r("pooling", f"{code} filter {vals[0]}x{vals[1]}, stride {vals[2]}x{vals[3]}: CheckKernelsAndStrides wants > 0")
    elif code == "FULLY_CONNECTED":  # rule 7: G case kTfLiteBuiltinFullyConnected (G:797-830)
        fmt = o.get("weights_format", 0)
        if fmt not in (0, "DEFAULT"):
            yield _r("fully-connected", f"FULLY_CONNECTED weights format {fmt}: \"Unsupported FullyConnected weights format\"")
        elif _runtime(model, ins, fp16) > 2:
            yield _r("fully-connected", f"FULLY_CONNECTED with {_runtime(model, ins, fp16)} runtime inputs: at most 2")
        elif x is not None and _const(model, x, fp16):
            yield _r("fully-connected", "FULLY_CONNECTED of a constant input 0: \"FullyConnected doesn't support constant input.\"")
        elif o.get("keep_num_dims") and x is not None and out is not None and len(x.shape) != len(out.shape):
            yield _r("fully-connected", f"FULLY_CONNECTED keep_num_dims with input rank {len(x.shape)}, output rank "
                                        f"{len(out.shape)}: the ranks must match")
    elif code in ("ADD", "MUL", "ADD_N"):  # rule 8: G cases kTfLiteBuiltinAdd/Mul/AddN (G:484-551, 917-933)
        if len(ins) != 2:
            yield _r("add-mul", f"{code} of {len(ins)} inputs: \"{code} requires two input tensors.\"")
        elif code != "ADD_N" and not _broadcast(ins[0].shape, ins[1].shape):
            yield _r("add-mul", f"{code} of shapes {list(ins[0].shape)} and {list(ins[1].shape)}: \"Doesn't support "
                                "broadcasting\" (CheckAddMulBroadcastCompatibility, kStandard flags)")
    elif code in G.BINARY:  # rule 9: G two-argument elementwise case (G:1167-1211)
        rt = _runtime(model, ins, fp16)
        if n_out != 1 or (rt, len(ins) - rt) not in ((2, 0), (1, 1)):
            yield _r("operands", f"{code} with {rt} runtime, {len(ins) - rt} constant input(s): \"Op can only handle 1 or "
                                 "2 operand(s).\" (2 runtime, or 1 runtime and 1 constant)")
    elif code in G.REDUCE:  # rule 10: G cases kTfLiteBuiltinMean / Reduce* / Sum, CheckAxesAreInt32Const (G:909-915, 1090-1101)
        axes = ins[1] if len(ins) > 1 else None
        rt = _runtime(model, ins, fp16)
        if rt != 1 or n_out != 1 or axes is None or not _const(model, axes, fp16) or axes.dtype != "INT32":
            what = "absent" if axes is None else f"{axes.dtype}{' constant' if _const(model, axes, fp16) else ', computed at run time'}"
            yield _r("reduce", f"{code} with {rt} runtime input(s), axes {what}: one runtime input and constant INT32 axes")
    elif code == "SOFTMAX" and o.get("beta", 0.0) != 1:  # rule 11: G case kTfLiteBuiltinSoftmax (G:977-985)
        yield _r("softmax", f"SOFTMAX beta {o.get('beta', 0.0)}: \"Softmax.beta != 1 is not supported.\"")
    elif code in ("SLICE", "STRIDED_SLICE"):  # rule 12: G cases kTfLiteBuiltinSlice / StridedSlice (G:962-976, 1009-1035)
        masks = [k for k in ("ellipsis_mask", "new_axis_mask", "shrink_axis_mask") if code == "STRIDED_SLICE" and _num(o, k)]
        need = 3 if code == "SLICE" else 4
        if masks:
            yield _r("slice", f"STRIDED_SLICE with {', '.join(f'{k} {_num(o, k)}' for k in masks)}: \"Slice does not support\" it")
        elif len(ins) < need or x is None or len(x.shape) not in (3, 4):
            yield _r("slice", f"{code} of {len(ins)} inputs, input rank {len(x.shape) if x else '-'}: {need} inputs, rank 3 or 4")
    elif code in G.PADS:  # rule 13: G case kTfLiteBuiltinPad / Padv2 / MirrorPad (G:1103-1134)
        mode, pads = o.get("mode", 0), ins[1] if len(ins) > 1 else None
        rt = _runtime(model, ins, fp16)
        if code == "MIRROR_PAD" and mode not in (0, "REFLECT"):
            yield _r("pad", f"MIRROR_PAD mode {mode}: \"Only Reflective padding is supported\"")
        elif rt != 1 or n_out != 1 or pads is None or len(pads.shape) != 2 or pads.shape[0] not in (3, 4) or pads.shape[1] != 2:
            yield _r("pad", f"{code} paddings of shape {list(pads.shape) if pads else '-'}, {rt} runtime input(s): "
                            "one runtime input, paddings 4x2 or 3x2")
    elif code == "RESIZE_BILINEAR" and o.get("align_corners") and o.get("half_pixel_centers"):  # rule 14 (G:1063-1075)
        yield _r("resize", "RESIZE_BILINEAR with align_corners and half_pixel_centers: \"If half_pixel_centers is True, "
                           "align_corners must be False.\"")
    elif code == "DEQUANTIZE":  # rule 15: G case kTfLiteBuiltinDequantize (G:701-712)
        if len(ins) != 1 or n_out != 1 or (x is not None and x.dtype == "INT16"):
            yield _r("dequantize", f"DEQUANTIZE of {x.dtype if x else '-'} ({len(ins)} in, {n_out} out): \"Unsupported "
                                   "dequantization type.\" (int16), or not 1 input and 1 output")
    elif code in ("DEPTH_TO_SPACE", "SPACE_TO_DEPTH") and _num(o, "block_size") <= 1:  # rule 16 (G:684-699, 986-1001)
        yield _r("block-size", f"{code} block_size {_num(o, 'block_size')}: G wants > 1 (1 is \"a no-op\")")


def _conv(model: Model, code: str, o: Mapping[str, object], ins: list[Tensor], out: Tensor | None, n_out: int,
          fp16: frozenset[int]) -> Reasons:
    """Rule 6: G CheckConvoultionInputOutput, CheckStridesAndDilation, CheckDepthwiseConvGpuDelegateCompatibility."""
    rt = _runtime(model, ins, fp16)
    if rt > 2 or n_out != 1 or (rt == 1 and len(ins) < 2):
        yield _r("conv", f"{code} with {rt} runtime inputs, {n_out} outputs: CheckConvoultionInputOutput wants 1 or 2, and 1")
        return
    strides = (_num(o, "stride_h"), _num(o, "stride_w"))
    dil = (1, 1) if code == "TRANSPOSE_CONV" else (_num(o, "dilation_h_factor"), _num(o, "dilation_w_factor"))
    if min(strides) <= 0 or min(dil) <= 0:
        yield _r("conv", f"{code} strides {list(strides)}, dilations {list(dil)}: CheckStridesAndDilation wants > 0")
        return
    if code != "DEPTHWISE_CONV_2D":
        return
    x, w, bias, dm = ins[0], ins[1], ins[2] if len(ins) > 2 else None, _num(o, "depth_multiplier")
    if out is None or len(x.shape) != 4 or len(w.shape) != 4 or len(out.shape) != 4:
        yield _r("conv", "DEPTHWISE_CONV_2D input, filter and output must be 4-D (CheckDepthwiseConvGpuDelegateCompatibility)")
    elif x.shape[0] != out.shape[0] or w.shape[3] != out.shape[3] or out.shape[3] != x.shape[3] * dm or (
            bias is not None and bias.num_elements != out.shape[3]) or (dm != 1 and x.shape[3] != 1):
        yield _r("conv", f"DEPTHWISE_CONV_2D input {list(x.shape)}, filter {list(w.shape)}, output {list(out.shape)}, depth "
                         f"multiplier {dm}: CheckDepthwiseConvGpuDelegateCompatibility (batch, channels, depth_multiplier "
                         "!= 1 only for 1 input channel)")


def _gate(model: Model, sub: Subgraph, op: Operator) -> Reasons:
    """Rules 3 and 4: MB GetOpsToReplace's type gate, IsAllAllowedTensors (MB:3055-3077, 3291-3348)."""
    code, fp16 = op.opcode, _fp16(model)[sub.index]
    for ids, allowed in ((op.inputs, G.BASE_TYPES | G.EXTRA_IN.get(code, frozenset())),
                         (op.outputs, G.BASE_TYPES | G.EXTRA_OUT.get(code, frozenset()))):
        for t in map(sub.tensor, ids):
            if t is None:
                continue
            if len(t.shape) > G.MAX_RANK:
                yield _r("rank", f"{code} has a tensor of rank {len(t.shape)} {list(t.shape)}: IsAllAllowedTensors refuses "
                                 "rank >= 5: \"OP is supported, but tensor type/shape isn't compatible.\"")
                return
            if t.dtype not in allowed and not _const(model, t, fp16) and not t.is_variable:
                yield _r("tensor-type", f"{code} has a {t.dtype} tensor computed at run time: IsAllAllowedTensors takes "
                                        f"{', '.join(sorted(allowed))}: \"OP is supported, but tensor type/shape isn't compatible.\"")
                return


def decide(model: Model, sub: Subgraph, op: Operator) -> tuple[str, tuple[Reason, ...]]:
    """The node_supported_fn of MB GetOpsToReplace: the parser's IsSupported first, then the type gate; its first reason."""
    for why in (*_supported(model, sub, op), *_gate(model, sub, op)):
        return "cpu", (why,)
    return "accelerated", ()


def _key(model: Model, sub: Subgraph, op: Operator) -> Hashable:  # op_keys, and which inputs are unpacked fp16 constants
    fp16 = _fp16(model)[sub.index]
    return op_keys(model)[sub.index][op.index], tuple(i in fp16 for i in op.inputs) if fp16 else ()


def dynamic(model: Model) -> Reason | None:
    """Rule 17: a dynamic-sized tensor refuses the whole delegate (subgraph.cc ModifyGraphWithDelegateImpl, delegate.cc:236).

    "Attempting to use a delegate that only supports static-sized tensors with a graph that has dynamic-sized tensors":
    the GPU delegate sets no kTfLiteDelegateFlagsAllowDynamicTensors, so LiteRT prepares the ops first and gives up.
    """
    for sub in model.subgraphs:
        why = _dynamic_in(model, sub)
        if why is not None:
            return why
    return None


def _dynamic_in(model: Model, sub: Subgraph) -> Reason | None:
    """The first op of `sub` whose output is dynamic-sized, following which values are known at Prepare."""
    known: set[int] = set()  # values known at Prepare (gpu_ops.FOLD): persistent outputs of folded ops

    def ready(i: int) -> bool:
        t = sub.tensor(i)
        return i < 0 or i in known or (t is not None and model.is_constant(t))

    for op in sub.operators:
        if op.opcode in G.FOLD_ALWAYS or (op.opcode in G.FOLD and all(map(ready, op.inputs))):
            known.update(op.outputs)
        at = G.DYNAMIC_SHAPE_INPUTS.get(op.opcode)
        if at is None:
            continue
        for k in at or (-1,):
            if k >= 0 and (k >= len(op.inputs) or ready(op.inputs[k])):
                continue
            what = "always" if k < 0 else f"from input {k}, computed at run time"
            return _r("dynamic-tensors", f"{op.opcode} (subgraph {sub.index}, op {op.index}) sizes its output {what}: a "
                                         "dynamic-sized tensor, and the GPU delegate only supports static-sized tensors "
                                         "(Subgraph::ModifyGraphWithDelegateImpl): the whole delegate is refused")
    return None


def place(model: Model, facts: Mapping[str, object], findings: Sequence[Finding]) -> Placed:
    """Every op: accelerated when the GPU delegate takes it; else on LiteRT's builtin kernels, or unsupported there too."""
    base = litert.place(model, facts, findings)
    dyn = dynamic(model)
    gpu = None if dyn else place_all(model, decide, {}, fallback="cpu", key=_key)
    ops: list[OpPlacement] = []
    for k, cpu in enumerate(base.ops):
        why = (dyn,) if dyn else gpu[k].reasons if gpu is not None else ()
        claimed = gpu is not None and gpu[k].placement == "accelerated"
        # LiteRT resolves an unknown custom op to a kernel that fails only when prepared: a node the delegate claims never is.
        if cpu.placement == "unsupported" and not (claimed and model.subgraphs[cpu.subgraph].operators[cpu.operator].is_custom):
            ops.append(cpu._replace(reasons=(*cpu.reasons, *why)))
            continue
        ops.append(cpu._replace(placement="accelerated" if claimed else "cpu", reasons=() if claimed else tuple(why)))
    return Placed(tuple(ops), base.problems)
