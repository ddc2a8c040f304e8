"""The `xnnpack` target: which ops XNNPACK takes; each check names the xnnpack_delegate.cc function it mirrors (tables: xnnpack_ops)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from qcheck.findings import Finding
from qcheck.targets import OpPlacement, Placed, Reason
from qcheck.tflite.model import BlockwiseQuantization, Model, Operator, Subgraph, Tensor
from qcheck_targets import litert
from qcheck_targets import xnnpack_ops as X
from qcheck_targets.common import custom_name, op_keys, version

SOURCE = "LiteRT tflite/delegates/xnnpack/xnnpack_delegate.cc"
Reasons = Iterator[Reason]


def _r(rule: str, message: str) -> Reason:
    return Reason(f"xnnpack:{rule}", message)


def _q1(t: Tensor) -> bool:  # per-tensor affine quantization on axis 0, as every 8-bit Check*Type demands
    q = t.quantization
    return q is not None and q.is_affine and len(q.scale) == 1 and q.quantized_dimension == 0


def _qp(t: Tensor | None) -> tuple[float, int]:  # TfLiteTensor.params: the first scale and zero point, (0, 0) without
    q = t.quantization if t is not None else None
    return (float(q.scale[0]) if len(q.scale) else 0.0, int(q.zero_point[0]) if len(q.zero_point) else 0) if q else (0.0, 0)


def _what(t: Tensor | None) -> str:  # "INT8", "quantized INT8", "per-axis (axis 3) quantized INT8"
    q = t.quantization if t is not None else None
    how = "" if q is None or not q.is_affine else f"per-axis (axis {q.quantized_dimension}) " * (len(q.scale) > 1) + "quantized "
    return "absent" if t is None else how + t.dtype


def _at(sub: Subgraph, op: Operator, k: int) -> Tensor | None:  # input k, or output -k-1 for k < 0
    ids, i = (op.outputs, -k - 1) if k < 0 else (op.inputs, k)
    return sub.tensor(ids[i]) if i < len(ids) else None


def _ints(model: Model, t: Tensor | None) -> list[int] | None:
    a = model.array(t) if t is not None and model.is_constant(t) and t.num_elements <= 64 else None
    return None if a is None else [int(v) for v in a]


def _io(sub: Subgraph, op: Operator, code: str) -> Reasons:  # CheckNumInputsAndOutputs, Check*Type on data, CheckTensorShape
    lo, hi, n_out = X.COUNTS.get(code, (0, 99, len(op.outputs)))
    if not lo <= len(op.inputs) <= hi or len(op.outputs) != n_out:
        yield _r("arity", f"{code} of {len(op.inputs)} inputs, {len(op.outputs)} outputs: CheckNumInputsAndOutputs: {lo}-{hi}, {n_out}")
        return
    kinds, outs = X.IO.get(code, ((), ()))
    kinds, outs = kinds * len(op.inputs) if code == "CONCATENATION" else kinds, outs * len(op.outputs) if len(outs) == 1 else outs
    for role, i, kind in [(f"input {k}", i, kind) for k, (i, kind) in enumerate(zip(op.inputs, kinds, strict=False)) if kind] + \
            [(f"output {k}", i, kind) for k, (i, kind) in enumerate(zip(op.outputs, outs, strict=False)) if kind]:
        t, (func, ok) = sub.tensor(i), X.KINDS[kind]
        if t is None or t.dtype not in ok or (t.dtype in ("INT8", "UINT8") and not _q1(t)):
            q8 = " (8-bit: per-tensor quantized)" if {"INT8", "UINT8"} & ok else ""
            yield _r("type", f"{code} {role} is {_what(t)}: {func} takes {', '.join(sorted(ok))}{q8}")
            return
    for k, a, b in X.SHAPES.get(code, ()):
        t = _at(sub, op, k)
        if t is not None and (not a <= len(t.shape) <= b or min(t.shape, default=1) <= 0):
            role = f"output {-k - 1}" if k < 0 else f"input {k}"
            yield _r("shape", f"{code} {role} of shape {list(t.shape)}: CheckTensorShape wants rank {a}..{b}, dims > 0")


def _params(model: Model, sub: Subgraph, op: Operator, code: str) -> Reasons:  # constant parameter inputs, and their values
    for k, dtypes in X.PARAMS.get(code, {}).items():
        t = _at(sub, op, k)
        if code == "RESHAPE" and op.inputs[1:2] in ((), (-1,)):  # VisitReshapeNode: one input, the shape is in the options
            continue
        if t is None or not model.is_constant(t) or (dtypes and t.dtype not in dtypes):
            what = "absent" if t is None else f"{t.dtype}{', computed at run time' * (not model.is_constant(t))}"
            yield _r("static", f"{code} input {k} is {what}: CheckTensorStaticAllocation, CheckTensorType: constant {'/'.join(dtypes)}")
            return
    (x, p1, p2), o = (_at(sub, op, i) for i in range(3)), op.options
    rank = len(x.shape) if x else 0
    if code == "STRIDED_SLICE":  # VisitStridedSliceNode: begin_mask, end_mask and offset are fine
        masks = [f"{k}={o.get(k)}" for k in ("ellipsis_mask", "new_axis_mask", "shrink_axis_mask") if o.get(k)]
        strides = _ints(model, _at(sub, op, 3))
        if masks or (strides is not None and any(s != 1 for s in strides)):
            yield _r("strided-slice", f"STRIDED_SLICE {', '.join(masks) or f'strides {strides}'}: VisitStridedSliceNode takes stride 1, no "
                                      "ellipsis, new-axis, shrink-axis mask")
        elif any(t is not None and t.shape != (rank,) for t in (p1, p2, _at(sub, op, 3))):
            yield _r("strided-slice", f"STRIDED_SLICE begin/end/strides are not 1-D of the input rank {rank} (CheckParamTensorShape)")
    elif code == "SLICE" and p1 is not None and p2 is not None:  # VisitSliceNode
        size = _ints(model, p2)
        if len(p1.shape) != 1 or p1.shape != p2.shape or (size is not None and min(size, default=1) <= 0):
            yield _r("slice", f"SLICE begin {list(p1.shape)}, size {size}: VisitSliceNode wants matching 1-D tensors, sizes > 0 (no -1)")
    elif code == "PAD" and p1 is not None:  # VisitPadNode, CheckPaddingsTensorShape
        pads = _ints(model, p1)
        if p1.shape != (rank, 2) or (pads is not None and min(pads, default=0) < 0):
            yield _r("pad", f"PAD paddings {pads} of shape {list(p1.shape)}: VisitPadNode wants [{rank}, 2], all >= 0")
    elif code in ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN") and p1 is not None and (len(p1.shape) > 1 or p1.num_elements <= 0):
        yield _r("reduce", f"{code} axes of shape {list(p1.shape)}: VisitReduceNode wants a non-empty 1-D axes tensor")
    elif code == "RESIZE_BILINEAR" and p1 is not None and (len(p1.shape) != 1 or (_ints(model, p1) or [1])[0] <= 0):
        yield _r("resize", f"RESIZE_BILINEAR size {_ints(model, p1)}: VisitResizeBilinearNode wants a 1-D tensor of values > 0")
    elif code == "RESHAPE" and p1 is not None and any(d != 1 for d in p1.shape[:-1]):
        yield _r("reshape", f"RESHAPE shape tensor of shape {list(p1.shape)}: CheckShapeTensorShape wants 1-D")
    elif code == "TRANSPOSE_CONV" and p1 is not None and p2 is not None:  # VisitTransposeConvNode, CalculateTransposeConvPaddings
        shape, pad, four = _ints(model, x) or [], X.PADDING.get(o.get("padding")), len(p1.shape) == len(p2.shape) == 4
        (sh, sw), (kh, kw) = (n if isinstance(n := o.get(k), int) and n > 0 else 1 for k in ("stride_h", "stride_w")), p1.shape[1:3]
        if len(shape) != 4 or not four or p1.shape[0] != shape[3] or p1.shape[3] != p2.shape[3] or (
                pad == "VALID" and (kh > shape[1] or kw > shape[2])) or (pad == "SAME" and (
                    ((shape[1] + sh - 1) // sh, (shape[2] + sw - 1) // sw) != p2.shape[1:3] or kh < sh or kw < sw)):
            yield _r("transpose-conv", f"TRANSPOSE_CONV {pad}: input {list(p2.shape)}, filter {list(p1.shape)}, stride {sh}x{sw}, "
                                       f"output {shape} do not fit")


def _weights(model: Model, sub: Subgraph, op: Operator, quasi: set[int], code: str) -> Reasons:  # filter, bias, slope: constness, types
    for k in X.WEIGHTS.get(code, ()):
        t = _at(sub, op, k)
        if t is not None and op.inputs[k] not in quasi and not model.is_constant(t):
            yield _r("static", f"{code} input {k} is computed at run time: CheckTensorStaticAllocation wants a constant")
    k, func, axis = X.FILTERS.get(code, (1, "", 0))
    w, x, out = _at(sub, op, k), _at(sub, op, 2 if code == "TRANSPOSE_CONV" else 0), _at(sub, op, -1)
    if func and w is not None and x is not None and out is not None:
        axis = len(w.shape) - (2 if op.options.get("adj_y") else 1) if axis == "adj" else axis
        q = w.quantization
        blocks = q.details.block_size if q is not None and isinstance(q.details, BlockwiseQuantization) else 0
        if blocks and (w.dtype != "INT4" or func != "CheckTensorFilterType" or blocks % 32):
            yield _r("filter", f"{code} filter is blockwise {w.dtype}, blocks of {blocks}: {func} takes int4 in blocks of 32k")
        elif not blocks and (w.dtype not in X.FILTER_TYPES[func] or (w.dtype in X.LOW_BIT and (q is None or not q.is_affine))
                             or (w.dtype == "UINT8" and not _q1(w))):
            yield _r("filter", f"{code} filter is {_what(w)}: {func} rejects it")
        elif q is not None and len(q.scale) > 1 and q.quantized_dimension != axis:
            yield _r("filter", f"{code} filter is quantized on axis {q.quantized_dimension}: {func} wants axis {axis}")
        # "unsupported mixed types" (BATCH_MATMUL compares GetXNNPackDatatype: per-tensor and per-channel int8 differ)
        ok = (x.dtype, w.dtype) in X.MIXED_OK.get(code, ()) or (x.dtype == w.dtype and (code != "BATCH_MATMUL" or _q1(w) == _q1(x)))
        if not ok or (code != "TRANSPOSE_CONV" and out.dtype != x.dtype):
            yield _r("mixed-types", f"{code} with {x.dtype} input, {_what(w)} filter, {out.dtype} output: Visit*Node rejects mixed types")
        if code == "FULLY_CONNECTED" and w.dtype in ("INT4", "INT2") and len(w.shape) == 2 and w.shape[1] % (2 if w.dtype == "INT4" else 4):
            yield _r("filter", f"FULLY_CONNECTED {w.dtype} filter, {w.shape[1]} input channels: VisitFullyConnectedNode wants 2k/4k")
    b_at = X.BIAS.get(code, -9)
    bias = _at(sub, op, b_at) if b_at >= 0 else None
    if code in ("CONV_2D", "DEPTHWISE_CONV_2D") and bias is None:
        yield _r("bias", f"{code} without bias: VisitConv2DNode and VisitDepthwiseConv2DNode require one")
    if bias is not None and w is not None:
        bq = bias.quantization
        if bias.dtype not in ("FLOAT32", "FLOAT16", "INT32") or (bias.dtype == "INT32" and (bq is None or not bq.is_affine)):
            yield _r("bias", f"{code} bias is {_what(bias)}: CheckTensorFloat32OrFloat16OrQCInt32Type rejects it")
        if code == "FULLY_CONNECTED" and w.shape and bias.num_elements != w.shape[0]:
            yield _r("bias", f"FULLY_CONNECTED bias of {bias.num_elements} elements, {w.shape[0]} output channels: VisitFullyConnectedNode")


def _options(model: Model, sub: Subgraph, op: Operator) -> Reasons:  # the options and scales the visitors check
    o, code = op.options, op.opcode
    x, y, out = _at(sub, op, 0), _at(sub, op, 1), _at(sub, op, -1)
    num = {k: v for k, v in o.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    if code in X.ACTIVATION_OPS and (act := o.get("fused_activation_function")) not in (None, *X.ACTIVATIONS):
        yield _r("activation", f"{code} with fused {act}: ConvertActivationToOutputRange takes RELU, RELU6, RELU_N1_TO_1 only")
    if code in ("ADD", "SUB", "MUL") and len({t.dtype for t in (x, y, out) if t is not None}) > 1:
        yield _r("mixed-types", f"{code} of {_what(x)} and {_what(y)} into {_what(out)}: VisitBinaryNode rejects mixed types")
    if code in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):  # CheckPoolingParams
        fw, fh, sw, sh = (num.get(k, 0) for k in ("filter_width", "filter_height", "stride_w", "stride_h"))
        if min(fw, fh, sw, sh) <= 0 or sw > fw or sh > fh or (fw == fh == 1 and max(sw, sh) > 1):
            yield _r("pooling", f"{code} filter {fh}x{fw}, stride {sh}x{sw}: CheckPoolingParams: 0 < stride <= filter, no 1x1 stride > 1")
    elif code in ("CONV_2D", "DEPTHWISE_CONV_2D"):  # CheckConvolutionParams, CheckDepthwiseConvolutionParams, groups
        vals = [num.get(k, 1) for k in ("stride_w", "stride_h", "dilation_w_factor", "dilation_h_factor", "depth_multiplier")]
        w = y if y is not None and len(y.shape) == 4 else None
        if min(vals) <= 0 or (w is not None and code == "DEPTHWISE_CONV_2D" and w.shape[3] % vals[4]):
            yield _r("conv-params", f"{code} strides, dilations, depth multiplier {vals}: Check*ConvolutionParams rejects them")
        elif code == "CONV_2D" and w is not None and x is not None and len(x.shape) == 4 and 0 < x.shape[3] < w.shape[3]:
            yield _r("conv-params", f"CONV_2D input of {x.shape[3]} channels, filter of {w.shape[3]}: VisitConv2DNode needs groups > 0")
    elif code == "FULLY_CONNECTED" and (version(model, op) == 8 or o.get("weights_format", 0) not in (0, "DEFAULT")):
        yield _r("fc-format", f"FULLY_CONNECTED v{version(model, op)}, weights format {o.get('weights_format')}: VisitNode refuses v8 "
                              "(sparse), CheckFullyConnectedParams non-default formats")
    elif code == "SOFTMAX" and o.get("beta", 1.0) != 1.0:
        yield _r("softmax-beta", f"SOFTMAX beta {o.get('beta')}: VisitSoftmaxNode takes 1.0 only")
    elif code in ("DEPTH_TO_SPACE", "SPACE_TO_DEPTH"):
        b = int(num.get("block_size", 0))
        if b <= 1 or (code == "SPACE_TO_DEPTH" and x is not None and len(x.shape) > 2 and (x.shape[1] % b or x.shape[2] % b)):
            yield _r("block-size", f"{code} block size {b}, input {list(x.shape) if x else '-'}: Visit*Node wants > 1, dividing H and W")
    elif code == "SPLIT" and (num.get("num_splits", len(op.outputs)) != len(op.outputs) or not 2 <= len(op.outputs) <= 4):
        yield _r("split", f"SPLIT into {len(op.outputs)} outputs (num_splits {o.get('num_splits')}): VisitSplitNode takes 2 to 4")
    elif out is not None and code in ("RESHAPE", "CONCATENATION") and out.dtype in ("UINT8", "INT8" if code == "RESHAPE" else "-"):
        bad = [t for t in map(sub.tensor, op.inputs[: 1 if code == "RESHAPE" else None]) if t is not None and _qp(t) != _qp(out)]
        if bad:
            (s1, z1), (s2, z2) = _qp(bad[0]), _qp(out)
            yield _r("requantize", f"quantized {code} scale/zero point {s1:.6g}/{z1} -> {s2:.6g}/{z2}: Visit{code.title()}Node wants equal")
    elif code == "LEAKY_RELU" and not 1.1754944e-38 <= abs(num.get("alpha", 0.0)) < float("inf"):
        yield _r("leaky-relu", f"LEAKY_RELU alpha {o.get('alpha')}: VisitUnaryNode wants a normal, non-zero alpha")
    elif code == "BATCH_MATMUL" and any(t is not None and len(t.shape) < 2 for t in (x, y)):
        yield _r("rank", f"BATCH_MATMUL of {_what(x)}, {_what(y)} below rank 2: VisitBatchMatMulNode wants at least 2")
    if x is None or out is None or x.dtype not in ("INT8", "UINT8"):
        return
    s_in, s_out, s_y = _qp(x)[0], _qp(out)[0] or 1e-45, _qp(y)[0]  # (as in C++, a NaN ratio passes)
    if code in ("ADD", "SUB") and out.dtype == x.dtype:  # CheckTensorsInputOutputScale
        for ratio in (s_in / s_out, s_y / s_out):
            if ratio < X.ADD_RATIO[0] or ratio >= X.ADD_RATIO[1]:
                yield _r("scale-ratio", f"{code} input/output scale ratio {ratio:.3g}: CheckTensorsInputOutputScale wants [1/1024, 256)")
    elif code == "MUL" and ((ratio := s_in * s_y / s_out) < X.MUL_RATIO[0] or ratio >= X.MUL_RATIO[1]):
        yield _r("scale-ratio", f"MUL (s1*s2)/s_out {ratio:.3g}: CheckTensorsInputProductOutputScale wants [1/65536, 256)")
    elif code == "QUANTIZE" and (x.dtype != out.dtype or (ratio := s_in / s_out) < 1 / 256 or ratio > 128):
        yield _r("quantize", f"QUANTIZE {_what(x)} -> {_what(out)}, scales {s_in:.3g}->{s_out:.3g}: VisitUnaryNode: one type, 2^-8..2^7")
    elif code == "LEAKY_RELU" and s_in > 0 and s_out > 0:
        pos, neg = s_in / s_out, s_in / s_out * float(num.get("alpha", 0.0))
        if pos < 1 / 256 or pos > 128 or neg < -127.99609375 or neg > 128 or abs(neg) < 1 / 256:
            yield _r("scale-ratio", f"LEAKY_RELU scale ratio {pos:.3g}, times alpha {neg:.3g}: VisitUnaryNode wants [1/256, 128]")


def _visit(model: Model, sub: Subgraph, op: Operator, quasi: set[int]) -> list[Reason]:  # Subgraph::VisitNode(subgraph=nullptr): why not
    code = op.opcode
    if op.is_custom or code == "STABLEHLO_COMPOSITE":  # the kTfLiteBuiltinCustom and kTfLiteBuiltinStablehloComposite cases
        name = custom_name(model, op) if op.is_custom else str(op.options.get("name", ""))
        if name not in X.CUSTOM_OPS or (not op.is_custom and name != X.ODML_SDPA):
            kind, takes = ("custom op", sorted(X.CUSTOM_OPS)) if op.is_custom else ("stablehlo.composite", [X.ODML_SDPA])
            return [_r("custom", f"{kind} '{name}': VisitNode takes {', '.join(takes)} only")]
        code = "moe-quantized" if name == "moe" and len(op.inputs) == 10 else name
    elif code == "EXPAND_DIMS":
        return [_r("never", "EXPAND_DIMS is never delegated: VisitExpandDimsNode starts with `return kTfLiteError`")]
    elif code not in X.OP_SET:
        return [_r("op-set", f"{code} is not in VisitNode's switch")]
    why = list(_io(sub, op, code)) or [*_params(model, sub, op, code), *_weights(model, sub, op, quasi, code), *_options(model, sub, op)]
    if code == X.ODML_SDPA and not why:  # VisitDotAttentionNode: one head dim; the mask's last dim = key and value length
        q, k, v, m = (_at(sub, op, i) or Tensor(-1, "-", "-", (), -1) for i in range(4))
        if len({q.shape[-1:], k.shape[-1:], v.shape[-1:]}) > 1 or (m.index >= 0 and {*k.shape[1:2], *v.shape[1:2]} != {*m.shape[-1:]}):
            why.append(_r("sdpa", f"{code} of {[list(t.shape) for t in (q, k, v, m)]}: VisitDotAttentionNode rejects the shapes"))
    return why


def _resource(sub: Subgraph, op: Operator, res: dict[int, list[int]]) -> list[Reason]:  # Visit{Read,Assign}VariableNode, AddProxyValue
    if op.opcode == "VAR_HANDLE":  # VisitVarHandleNode: ResourceInfo::SetVarHandle
        res.setdefault(op.outputs[0] if op.outputs else -1, [-1, -1])[0] = op.index
        return []
    value, info = _at(sub, op, -1 if op.opcode == "READ_VARIABLE" else 1), res.setdefault(op.inputs[0] if op.inputs else -1, [-1, -1])
    proxy = sub.tensor(info[1])
    if value is None or (op.opcode == "READ_VARIABLE" and not value.shape):
        return [_r("variable", f"{op.opcode} of a scalar or unranked value: VisitReadVariableNode refuses it")]
    if value.dtype not in X.KINDS["fq"][1] or (value.dtype in ("INT8", "UINT8") and not _q1(value)):
        return [_r("type", f"{op.opcode} value is {_what(value)}: CheckTensorFloatOrQUInt8Type rejects it")]
    if info[0] < 0:
        return [_r("variable", f"{op.opcode} of a resource no earlier VAR_HANDLE of this subgraph sets (ResourceInfo::AddProxyValue)")]
    if proxy is not None and (proxy.dtype, proxy.shape) != (value.dtype, value.shape):
        return [_r("variable", f"{op.opcode} of {value.dtype}{list(value.shape)}, var {proxy.dtype}{list(proxy.shape)}: AddProxyValue")]
    info[1] = value.index if proxy is None else info[1]
    return []


def _walk(model: Model, sub: Subgraph) -> dict[int, list[Reason]]:
    """Delegate::PrepareOpsToDelegate for one subgraph: VisitNode on each node in order, and the nodes that unpack constants."""
    quasi: set[int] = set()  # quasi_static_tensors: outputs of the DEQUANTIZE/DENSIFY nodes that unpack constants
    made: dict[int, int] = {}  # quasi-static tensor -> the DEQUANTIZE/DENSIFY node unpacking it (static_unpack_nodes_)
    res: dict[int, list[int]] = {}  # resource tensor -> [its VAR_HANDLE node, the tensor giving its type and shape]
    out: dict[int, list[Reason]] = {}
    keys, seen = op_keys(model)[sub.index], {}
    for op in sub.operators:
        x, y = (_at(sub, op, 0), _at(sub, op, -1)) if len(op.inputs) == len(op.outputs) == 1 else (None, None)
        if x is not None and y is not None and (
                (op.opcode == "DEQUANTIZE" and x.sparsity is None and (model.is_constant(x) or op.inputs[0] in quasi)
                 and y.dtype == "FLOAT32" and x.dtype in X.UNPACK_DEQUANTIZE and (x.dtype == "FLOAT16" or x.quantized))
                or (op.opcode == "DENSIFY" and model.is_constant(x) and x.sparsity is not None and x.dtype in X.UNPACK_DENSIFY
                    and y.dtype == x.dtype)):
            quasi.add(y.index)
            made[y.index], out[op.index] = op.index, []
            continue
        if op.opcode in X.VARIABLE_OPS:
            why = out[op.index] = _resource(sub, op, res)
        elif op.opcode == "STABLEHLO_COMPOSITE":  # (its name, which decides, is not in the op key)
            why = out[op.index] = _visit(model, sub, op, quasi)
        else:  # identical ops (same code, options, operand kinds and unpacked constants) are visited once
            key = (keys[op.index], tuple(i in quasi for i in op.inputs))
            if key not in seen:
                seen[key] = _visit(model, sub, op, quasi)
            why = out[op.index] = list(seen[key])
        for i in op.inputs if why else ():  # a refused node keeps the unpacking of its inputs out of the delegate
            if i in made and not out[made[i]]:
                out[made[i]] = [_r("unpack", f"it unpacks a constant for {op.opcode} #{op.index}, left on CPU (PrepareOpsToDelegate)")]
    for op in sub.operators:  # "Record which resource variables can be delegated": the VAR_HANDLE of a variable with a proxy value
        handle, proxy = res.get(op.outputs[0] if op.outputs else -1, [-1, -1])
        if op.opcode == "VAR_HANDLE" and (handle != op.index or proxy < 0):
            out[op.index] = [_r("variable", "no READ_VARIABLE or ASSIGN_VARIABLE of this variable is delegated (PrepareOpsToDelegate)")]
    return out


def place(model: Model, facts: Mapping[str, object], findings: Sequence[Finding]) -> Placed:
    """Every op: accelerated when XNNPACK takes it; else on LiteRT's builtin kernels, or unsupported there too."""
    base = litert.place(model, facts, findings)
    walks = [_walk(model, sub) for sub in model.subgraphs]
    ops: list[OpPlacement] = []
    for cpu in base.ops:
        why = walks[cpu.subgraph].get(cpu.operator)
        # LiteRT resolves an unknown custom op to a kernel that fails only when prepared: a node the delegate claims never is.
        if cpu.placement == "unsupported" and (why or not model.subgraphs[cpu.subgraph].operators[cpu.operator].is_custom):
            ops.append(cpu._replace(reasons=(*cpu.reasons, *(why or ()))))
            continue
        ops.append(cpu._replace(placement="cpu" if why else "accelerated", reasons=tuple(why or ())))
    return Placed(tuple(ops), base.problems)
