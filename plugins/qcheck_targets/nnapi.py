"""The `nnapi` target: which ops LiteRT's NNAPI delegate takes, per NNAPI feature level (tables: nnapi_ops).

`V` = LiteRT tflite/delegates/nnapi/nnapi_delegate.cc NNAPIDelegateKernel::Validate (targets.md §3.2, whose rows are
quoted as "rule N"). Validate collects every failure of an op, so an op may carry several reasons. Assumed delegate
options: no named accelerator (`is_accelerator_specified` false: MUL <= 2, the pooling window limit applies) and
allow_dynamic_dimensions false. Only the 3 largest partitions are delegated (Target.partitioning "largest:3"): the core
applies that. Not modelled: the driver's own refusals at compile time (invisible offline, targets.md §3.3); CONV_2D and
DEPTHWISE_CONV_2D from NNAPI 1.2 have no type gate in V, so int16 (16x8) convolutions pass it (what the driver then does
is UNCONFIRMED); LSTM/RNN/SVDF operand details. A DEQUANTIZE of a constant FLOAT16 tensor (version 3) fails V here, as
V reads; the delegate also defines IsDequantizeConstFloat16, whose use (folding such nodes) is UNCONFIRMED.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence

from qcheck.findings import Finding
from qcheck.targets import OpPlacement, Placed, Reason
from qcheck.tflite.model import Model, Operator, Subgraph, Tensor
from qcheck_targets import litert
from qcheck_targets import nnapi_ops as N
from qcheck_targets.common import Decision, op_keys, place_all, version

Reasons = Iterator[Reason]
Place = Callable[[Model, Mapping[str, object], Sequence[Finding]], Placed]


def _r(rule: str, message: str) -> Reason:
    return Reason(f"nnapi:{rule}", message)


def _scale(t: Tensor | None) -> tuple[float, int] | None:
    q = t.quantization if t is not None else None
    if q is None or not len(q.scale):
        return None
    return float(q.scale[0]), int(q.zero_point[0]) if len(q.zero_point) else 0


def _types(spec: N.Spec, level: int) -> frozenset[str]:
    return frozenset().union(*(ts for lv, ts in spec.types if lv <= level))


def _int(o: Mapping[str, object], key: str) -> int:  # a missing option reads 0, as the zero-initialised TfLite*Params
    v = o.get(key)
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0


def _act(o: Mapping[str, object]) -> str:
    return str(o.get("fused_activation_function", "NONE"))


def _gate(code: str, spec: N.Spec, t: Tensor | None, level: int, name: str) -> Reasons:
    """V's input-type gate (ExpectIsFloatOrQuant8Operator, EXPECT_INPUT_TYPE_IN, ...) at this level. Rule 3 for int16."""
    if not spec.types or t is None:
        return
    allowed = _types(spec, level)
    if t.dtype in allowed:
        return
    if t.dtype == "INT16":
        yield _r("int16", f"{code} input {spec.at} is INT16 (16x8 quantization): V's IsQuantized counts only uint8 and "
                          f"int8 (\"kTfLiteInt16 isn't supported as quantized type yet\"); {name} takes {sorted(allowed)}")
    else:
        yield _r("input-type", f"{code} input {spec.at} is {t.dtype}: on {name} V takes {sorted(allowed)}")


def _conv(model: Model, code: str, o: Mapping[str, object], ins: list[Tensor | None], out: Tensor | None,
          level: int, name: str) -> Reasons:
    """Rules 4-6: V cases kTfLiteBuiltinConv2d, DepthwiseConv2d, FullyConnected."""
    x, w = ins[0] if ins else None, ins[1] if len(ins) > 1 else None
    old = level < N.NNAPI_1_2
    if code == "FULLY_CONNECTED" and out is not None and out.dtype == "INT16":
        yield _r("int16", "FULLY_CONNECTED output is INT16 (16x8 quantization): V \"Unsupported output of type kTfLiteInt16\"")
    if old and code in N.HYBRID_OPS and x is not None and w is not None and x.dtype == "FLOAT32" and w.dtype in N.QUANT8:
        yield _r("hybrid", f"{code} of FLOAT32 input and {w.dtype} weights (hybrid): V \"Hybrid operators not supported "
                           f"before NNAPI 1.2\" ({name})")
    elif old and x is not None and x.dtype not in N.FU8:
        rule = "int16" if x.dtype == "INT16" else "input-type"
        yield _r(rule, f"{code} input is {x.dtype}: below NNAPI 1.2 V takes FLOAT32 or UINT8 only "
                       f"(ExpectIsFloatOrUint8Operator, {name})")
    if old and code == "CONV_2D" and w is not None and w.quantization is not None and len(w.quantization.scale) > 1:
        yield _r("per-channel", f"CONV_2D weights with {len(w.quantization.scale)} scales: V \"Per-channel quantized "
                                f"convolution not supported before NNAPI 1.2.\" ({name})")
    sx, sw, so = _scale(x), _scale(w), _scale(out)
    if old and x is not None and x.dtype == "UINT8" and sx and sw and so and not sx[0] * sw[0] < so[0]:
        yield _r("restricted-scale", f"{code} uint8 scales input {sx[0]:g} x weights {sw[0]:g} = {sx[0] * sw[0]:g}, "
                                     f"output {so[0]:g}: V wants input_scale * filter_scale < output_scale below NNAPI 1.2")
    if code == "CONV_2D" and len(ins) != 3:
        yield _r("conv-bias", f"CONV_2D with {len(ins)} inputs: V \"Conv2D with omitted bias not supported\" (3 inputs)")
    dil = (o.get("dilation_w_factor", 1), o.get("dilation_h_factor", 1))
    if old and code != "FULLY_CONNECTED" and dil != (1, 1):
        yield _r("dilation", f"{code} dilation {list(dil)}: V takes dilated convolutions from NNAPI 1.2 ({name})")
    if code == "FULLY_CONNECTED" and o.get("keep_num_dims") and level < N.NNAPI_1_3:
        yield _r("keep-num-dims", f"FULLY_CONNECTED keep_num_dims: V wants NNAPI 1.3 (SDK 30), the target is {name}")


def _specific(model: Model, sub: Subgraph, op: Operator, level: int, name: str) -> Reasons:
    code, o = op.opcode, op.options
    ins = list(sub.inputs_of(op))
    x = ins[0] if ins else None
    out = sub.tensor(op.outputs[0]) if op.outputs else None
    if code in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        yield from _conv(model, code, o, ins, out, level, name)
    if code in N.INT32_NO_ACTIVATION and x is not None and x.dtype == "INT32" and _act(o) != "NONE":
        yield _r("activation", f"{code} of INT32 with fused {_act(o)}: V \"No activation function supported\"")
    if code == "CONCATENATION" and _act(o) != "NONE":
        yield _r("activation", f"CONCATENATION with fused {_act(o)}: V \"No activation function supported\"")
    if code in N.RANK4_BOTH and any(t is not None and len(t.shape) > 4 for t in ins[:2]):
        yield _r("rank", f"{code} of ranks {[len(t.shape) for t in ins[:2] if t]}: V \"Input rank must be <= 4\"")
    if code in ("SOFTMAX", "CONCATENATION") and x is not None and len(x.shape) > 4:
        yield _r("rank", f"{code} input rank {len(x.shape)}: V wants <= 4")
    if code == "SOFTMAX":
        if out is not None and out.dtype not in N.FQ8:
            yield _r("softmax", f"SOFTMAX output {out.dtype}: V \"Output type should be one of kTfLiteFloat32, "
                                "kTfLiteUInt8, kTfLiteInt8.\"")
        if level < N.NNAPI_1_2 and x is not None and len(x.shape) not in (2, 4):
            yield _r("softmax", f"SOFTMAX input rank {len(x.shape)}: V \"Before API level 29 only 2D and 4D input "
                                f"tensors were supported.\" ({name})")
    if code == "AVERAGE_POOL_2D" and x is not None and x.dtype in N.QUANT8:
        window = _int(o, "filter_width") * _int(o, "filter_height")
        if window > N.POOL_WINDOW_MAX:
            yield _r("pool-window", f"quantized AVERAGE_POOL_2D window {window}: V \"Large filter window would overflow "
                                    f"on the reference CPU path\" (<= {N.POOL_WINDOW_MAX} without a named accelerator)")
    k = N.CONSTANT_INPUT.get(code)
    if k is not None:
        t = ins[k] if k < len(ins) else None
        if t is None and code != "RESHAPE":
            yield _r("constant-operand", f"{code} without input {k}: V wants it present and constant")
        elif t is not None and not model.is_constant(t):
            yield _r("constant-operand", f"{code} input {k} is computed at run time: V wants a constant (kTfLiteMmapRo)")
    if code == "TRANSPOSE_CONV" and any(t is None or not model.is_constant(t) for t in ins[:2]):
        yield _r("constant-operand", "TRANSPOSE_CONV output shape or weights computed at run time: V \"Dynamically-sized "
                                     "tensors not supported.\"")
    if code in ("RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"):
        yield from _resize(code, o, x, out, level, name)
    if code in N.SCALAR_OUTPUT and out is not None and not out.shape:
        yield _r("scalar-output", f"{code} with a scalar output: V \"NNAPI does not support generating a scalar as output\"")
    if code == "CONCATENATION" and level < N.NNAPI_1_2 and x is not None and x.dtype == "UINT8":
        qs = {_scale(t) for t in ins}
        if len(qs) > 1:
            yield _r("concat-quant", f"CONCATENATION of uint8 inputs with (scale, zero point) {sorted(map(str, qs))}: V "
                                     f"\"NNAPI 1.0-1 only supported concatenating quantized tensor of the same scale and "
                                     f"offset.\" ({name})")
    if code in ("PAD", "PADV2"):
        if len(ins) == 3 and level < N.NNAPI_1_2:
            yield _r("pad", f"{code} with a padding value: V \"Specification of the padding value is supported from NNAPI "
                            f"1.2.\" ({name})")
        elif len(ins) == 2 and level < N.NNAPI_1_2 and x is not None and x.dtype != "FLOAT32":
            yield _r("pad", f"{code} of {x.dtype}: V \"Only Float32 inputs are supported before NNAPI 1.2\" ({name})")
    if code == "QUANTIZE":
        yield from _quantize(x, out, level, name)
    if code == "MAXIMUM" or code == "MINIMUM":
        for i, t in enumerate(ins[:2]):
            if t is not None and not t.shape and not model.is_constant(t):
                yield _r("constant-operand", f"{code} input {i} is a run-time scalar: V \"Scalar operand should be constant\"")


def _resize(code: str, o: Mapping[str, object], x: Tensor | None, out: Tensor | None, level: int, name: str) -> Reasons:
    """Rule 12: V cases kTfLiteBuiltinResizeBilinear / ResizeNearestNeighbor."""
    if code == "RESIZE_BILINEAR" and x is not None and len(x.shape) != 4:
        yield _r("resize", f"RESIZE_BILINEAR input rank {len(x.shape)}: V \"Input should have rank 4\"")
    flags = [f for f in ("align_corners", "half_pixel_centers") if o.get(f)]
    if flags and level <= N.NNAPI_1_2:
        yield _r("resize", f"{code} with {' and '.join(flags)}: V \"NNAPI does not support {flags[0]} == true.\" up to "
                           f"NNAPI 1.2 ({name})")
    if code == "RESIZE_BILINEAR" and level < N.NNAPI_1_2:
        if out is not None and len(out.shape) == 4 and out.shape[1] != out.shape[2]:
            yield _r("resize", f"RESIZE_BILINEAR output {list(out.shape)}: V \"Require width == height due to driver "
                               f"differences in NNAPI < 1.2\" ({name})")
        if x is not None and x.dtype != "FLOAT32":
            yield _r("resize", f"RESIZE_BILINEAR of {x.dtype}: V \"NNAPI 1.0 & 1.1 only supports float input.\" ({name})")


def _quantize(x: Tensor | None, out: Tensor | None, level: int, name: str) -> Reasons:
    """Rule 9: V case kTfLiteBuiltinQuantize (input types: the table)."""
    allowed = {"UINT8"} if level < N.NNAPI_1_3 else {"UINT8", "INT8"}
    if out is not None and out.dtype not in allowed:
        rule = "int16" if out.dtype == "INT16" else "quantize"
        yield _r(rule, f"QUANTIZE to {out.dtype}: V \"Output should be kTfLiteUInt8.\" ({name} takes {sorted(allowed)})")
    for what, t in (("input", x if x is not None and x.dtype in N.QUANT8 else None), ("output", out)):
        s = _scale(t)
        if t is not None and (s is None or s[0] <= 0):
            yield _r("quantize", f"QUANTIZE {what} scale {s[0] if s else 'absent'}: V \"Quantization scale should be > 0.\"")


def _dequantize(model: Model, x: Tensor | None, v: int, level: int, name: str) -> tuple[bool, list[Reason]]:
    """Rule 8: V case kTfLiteBuiltinDequantize. (True: accepted outright, as non-constant fp16 from NNAPI 1.3.)"""
    if x is not None and x.dtype == "FLOAT16" and level >= N.NNAPI_1_3 and not model.is_constant(x):
        return True, []
    out = []
    if v not in (1, 2):
        out.append(_r("op-version", f"DEQUANTIZE version {v}: V \"Supported op versions are 1 and 2 only\""))
    allowed = ["UINT8"] if level < N.NNAPI_1_2 else ["UINT8", "INT8"]
    if x is not None and x.dtype not in allowed:
        rule = "int16" if x.dtype == "INT16" else "dequantize"
        out.append(_r(rule, f"DEQUANTIZE of {x.dtype}: V takes {allowed} on {name}"))
    s = _scale(x)
    if level == N.NNAPI_1_2 and x is not None and x.dtype == "INT8" and s is not None and s[1] != 0:
        out.append(_r("dequantize", f"DEQUANTIZE of int8 with zero point {s[1]}: V \"NN API supports int8 type since "
                                    "version 1.2 but only for symmetric quantization.\" (exactly NNAPI 1.2)"))
    return False, out


def _decide(model: Model, sub: Subgraph, op: Operator, level: int) -> Decision:
    name = N.NAMES.get(level, f"feature level {level}")
    code, v = op.opcode, version(model, op)
    spec = None if op.is_custom else N.OPS.get(code)
    if spec is None:  # rule 1: V's `default:`
        return "cpu", (_r("op-set", f"{code}: V \"Unsupported operation type.\" (no case in NNAPIDelegateKernel::Validate)"),)
    ins = list(sub.inputs_of(op))
    x = ins[spec.at] if spec.at < len(ins) else None
    if code == "DEQUANTIZE":
        ok, why = _dequantize(model, x, v, level, name)
        return ("accelerated", ()) if ok or not why else ("cpu", tuple(why))
    if code == "DENSIFY":  # V: only a constant (sparse weights) input, from NNAPI 1.3
        if level >= N.NNAPI_1_3 and x is not None and model.is_constant(x):
            return "accelerated", ()
        return "cpu", (_r("densify", f"DENSIFY: V takes only a constant input from NNAPI 1.3 ({name})"),)
    reasons: list[Reason] = []
    if spec.max_version is not None and v > spec.max_version:  # rule 2: ExpectMaxOpVersion / ExpectOpVersion
        reasons.append(_r("op-version", f"{code} version {v}: V \"OP Version higher than {spec.max_version}\""))
    if level < spec.min_level:  # ExpectMinAndroidSdkVersion
        reasons.append(_r("feature-level", f"{code} on {name}: V \"Android sdk version less than {spec.min_level}\" "
                                           f"({N.NAMES[spec.min_level]})"))
    else:
        reasons.extend(_gate(code, spec, x, level, name))
    reasons.extend(_specific(model, sub, op, level, name))
    if not reasons and code in ("CONV_2D", "DEPTHWISE_CONV_2D") and x is not None and x.dtype == "INT16":
        # From NNAPI 1.2 Validate() checks no input type here: the op goes to the driver as TENSOR_QUANT16_SYMM, and
        # whether a device's driver runs 16x8 convolutions cannot be known offline (targets.md §8: 16x8 refused).
        return "unknown", (_r("int16-driver", f"{code} with INT16 input passes Validate(); whether the driver takes it is "
                                              "device-specific"),)
    return ("cpu", tuple(reasons)) if reasons else ("accelerated", ())


def _key(model: Model, sub: Subgraph, op: Operator, level: int) -> Hashable:
    base = op_keys(model)[sub.index][op.index]
    if op.opcode not in N.VALUE_SENSITIVE or (level >= N.NNAPI_1_2 and op.opcode in N.VALUE_SENSITIVE_BEFORE_1_2):
        return base  # (the scale checks of convolutions and CONCATENATION apply below NNAPI 1.2 only)
    return base, tuple(_scale(t) for t in (*sub.inputs_of(op), *map(sub.tensor, op.outputs)))


def profile(feature_level: int) -> Place:
    """The `place` of the NNAPI delegate on a device of `feature_level` (nnapi_ops.LEVELS)."""
    def decide(model: Model, sub: Subgraph, op: Operator) -> Decision:
        return _decide(model, sub, op, feature_level)

    def place(model: Model, facts: Mapping[str, object], findings: Sequence[Finding]) -> Placed:
        """Every op: accelerated when NNAPI's Validate takes it; else on LiteRT's builtin kernels, or unsupported."""
        base = litert.place(model, facts, findings)
        nn = place_all(model, decide, {}, fallback="cpu", key=lambda m, s, o: _key(m, s, o, feature_level))
        ops: list[OpPlacement] = []
        for cpu, mine in zip(base.ops, nn, strict=True):
            if cpu.placement == "unsupported":
                ops.append(cpu._replace(reasons=(*cpu.reasons, *mine.reasons)))
            else:
                ops.append(cpu._replace(placement=mine.placement, reasons=mine.reasons))
        return Placed(tuple(ops), base.problems)

    place.__qualname__ = f"nnapi.profile({feature_level})"
    return place


DEFAULT_LEVEL = N.DEFAULT_LEVEL  # FL8 (Android 15): see nnapi_ops.DEFAULT_LEVEL
place = profile(DEFAULT_LEVEL)
