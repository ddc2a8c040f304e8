"""Arm Ethos-U facts as data: Vela 5.2's op sets, the tensor roles its checks read, its limits, and its shape arithmetic.

Sources (tags used in the comments):
- REPORT: `vela --supported-ops-report` of ethos-u-vela 5.2.0 (SUPPORTED_OPS.md), which Vela generates from its
  default C++ core, `regor.tflite_operator_constraints("EthosU55" | "EthosU85")` (ethosu/vela/vela.py:575-581);
  U65 takes the U55 tables (../shared/reference/targets.md §5.1).
- REGOR: the regor sources nearest 5.2 (ethosu/regor/tflite/tflite_supported_operators{,_u55,_u85}.cpp and
  tflite_mapping.cpp, 2025-2026 snapshots); where they differ from REPORT, REPORT wins (5.2 is newer). Message
  strings were checked against the installed ethosu/regor.cpython-311-x86_64-linux-gnu.so.
- RUN: Vela 5.2 run over the corpus (tests/truth/vela_verdicts.json, tests/helpers/vela_verdicts.py) and over small
  synthetic int8/16x8 models (one per constraint below), to settle what REPORT does not say.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from qcheck.tflite.model import Model
    from qcheck_targets.common import QuantRange

# REPORT "Summary Table" of each core: every other builtin (and every custom op) is "Unsupported opType", CPU.
U55_OPS: Final = frozenset({
    "ABS", "ADD", "ARG_MAX", "AVERAGE_POOL_2D", "BATCH_MATMUL", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "ELU", "EXP",
    "EXPAND_DIMS", "FULLY_CONNECTED", "GELU", "HARD_SWISH", "LEAKY_RELU", "LOG", "LOGISTIC", "MAXIMUM", "MAX_POOL_2D", "MEAN",
    "MINIMUM", "MIRROR_PAD", "MUL", "NEG", "PACK", "PAD", "PADV2", "PRELU", "QUANTIZE", "REDUCE_MAX", "REDUCE_MIN", "RELU",
    "RELU6", "RELU_0_TO_1", "RELU_N1_TO_1", "RESHAPE", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "REVERSE_V2", "RSQRT",
    "SLICE", "SOFTMAX", "SPLIT", "SPLIT_V", "SQUARED_DIFFERENCE", "SQUEEZE", "STRIDED_SLICE", "SUB", "SUM", "TANH", "TILE",
    "TRANSPOSE", "TRANSPOSE_CONV", "UNIDIRECTIONAL_SEQUENCE_LSTM", "UNPACK",
})
U85_OPS: Final = U55_OPS | frozenset({
    "ASSIGN_VARIABLE", "CAST", "DIV", "EQUAL", "GATHER", "GREATER", "GREATER_EQUAL", "LESS", "LESS_EQUAL", "LOGICAL_AND",
    "LOGICAL_NOT", "LOGICAL_OR", "NOT_EQUAL", "READ_VARIABLE", "REDUCE_ALL", "REDUCE_ANY", "SCATTER_ND", "SELECT", "SELECT_V2",
})
# RUN: on U85 the reader turns VAR_HANDLE into the variable's resource tensor, no operator is left (microwakeword: only
# CALL_ONCE stays on the CPU, targets.md §5.1); the U55 reports it "Unsupported opType".
U85_ABSORBED: Final = frozenset({"VAR_HANDLE"})
# RUN: Vela's graph optimiser drops ops nothing live reads (a dead DEQUANTIZE; SHAPE -> STRIDED_SLICE -> PACK chains that
# only feed a RESHAPE's shape input, which Vela replaces by the static output shape). These it never drops:
SIDE_EFFECTS: Final = frozenset({"ASSIGN_VARIABLE", "READ_VARIABLE", "VAR_HANDLE", "CALL_ONCE", "IF", "WHILE"})

# REPORT generic constraint "Feature-map dataTypes must be one of {...}" (IFM and OFM roles only), REGOR SupportedDTypes.
U55_TYPES: Final = frozenset({"INT16", "INT32", "INT64", "INT8", "UINT8"})
U85_TYPES: Final = U55_TYPES | {"BOOL"}
# REPORT U85 generic exceptions: the variable ops skip the type, shape, IFM and OFM checks (their own check instead).
VARIABLE_OPS: Final = frozenset({"ASSIGN_VARIABLE", "READ_VARIABLE"})

# Tensor roles, REGOR tflite_mapping.cpp _inputTensorIndices: what each input of an op is to the checks. "I" feature map
# (IFM, type-checked), "W" weights, "B" bias (TensorUsage::Scales), "P" parameters. Unlisted ops: input 0 is the IFM,
# the others parameters. Variadic ops (CONCATENATION, PACK, MAXIMUM, MINIMUM): every input an IFM.
VARIADIC: Final = frozenset({"CONCATENATION", "PACK", "MAXIMUM", "MINIMUM", "ADD_N"})
ROLES: Final = MappingProxyType({
    **{op: "II" for op in ("ADD", "SUB", "MUL", "DIV", "SQUARED_DIFFERENCE", "BATCH_MATMUL", "EQUAL", "NOT_EQUAL", "GREATER",
                           "GREATER_EQUAL", "LESS", "LESS_EQUAL", "LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT", "GATHER",
                           "GATHER_ND", "POW", "FLOOR_DIV", "FLOOR_MOD")},
    "CONV_2D": "IWB", "DEPTHWISE_CONV_2D": "IWB", "FULLY_CONNECTED": "IWB", "TRANSPOSE_CONV": "PWIB",
    "SELECT": "PII", "SELECT_V2": "PII", "SPLIT": "PI", "SCATTER_ND": "IIP", "PRELU": "IP",
    # inputs 1-8 gate weights, 9-11 peephole weights, 12-15 gate biases, 16 projection weights, 17 projection bias
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "I" + "W" * 11 + "BBBB" + "WB",
})
WEIGHTED: Final = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"})

# REPORT "Quantization scale of any tensor must be positive" (REGOR QuantizationScaleShiftMustBePositive: a scale this
# large has a negative shift), U55 generic exceptions and the U85 ops without that line. Not modelled: "... must have
# quantization parameters": RUN shows Vela gives unquantized INT32 and BOOL tensors a unit quantization (int32 ADD, MUL,
# RESHAPE, CONCATENATION on the NPU; BOOL GREATER, CAST, LOGICAL_AND on the U85), and float ones fail the type check.
U55_NO_QUANT: Final = frozenset({"ARG_MAX", "EXPAND_DIMS", "MIRROR_PAD", "PAD", "PADV2", "QUANTIZE", "TRANSPOSE"})
U85_NO_QUANT: Final = U55_NO_QUANT | VARIABLE_OPS | {"GATHER", "REDUCE_ALL", "REDUCE_ANY", "SCATTER_ND", "SELECT", "SELECT_V2"}
MAX_SCALE: Final = 2.0 ** 31
PER_AXIS_OK: Final = WEIGHTED  # REPORT "Per-axis quantization is not supported", exceptions

# U55 only (REPORT U55 per-op lists): "32-bit feature-maps are not supported" on every op but these (REGOR s_supports32Bit),
# "64-bit feature-maps are not supported" on every op but ARG_MAX, and the zero-point rule's exceptions.
U55_32BIT_OK: Final = frozenset({"ADD", "ARG_MAX", "BATCH_MATMUL", "EXPAND_DIMS", "FULLY_CONNECTED", "MIRROR_PAD", "MUL",
                                 "NEG", "RESHAPE", "SQUEEZE", "SUB", "SUM", "TRANSPOSE"})
U55_64BIT_OK: Final = frozenset({"ARG_MAX"})
ZERO_POINT_FREE: Final = frozenset({"AVERAGE_POOL_2D", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "UNIDIRECTIONAL_SEQUENCE_LSTM"})
U85_ZERO_POINT_FREE: Final = ZERO_POINT_FREE | {"DIV"}
# REPORT U85 "IFM Zero-points must be in the range" and "OFM Zero-points ...": (role, type) -> (lo, hi, *also allowed);
# type "" is every other type ("Other: zp must be 0" for IFMs; signed OFMs -128..127).
U85_ZERO_POINTS: Final = MappingProxyType({
    ("I", "INT8"): (-128, 127), ("I", "UINT8"): (0, 255), ("I", "UINT16"): (0, 0, 32768), ("I", ""): (0, 0),
    ("O", "UINT8"): (0, 255, 32768), ("O", "UINT16"): (0, 255, 32768), ("O", ""): (-128, 127),
})

# REPORT weight and bias limits: "The sum of absolute weights cannot exceed" (8-bit IFM, 16-bit IFM) and
# "Int64 bias must be smaller than"; REGOR WeightSum skips the sum when 255 x elements per output channel is below it.
U55_WEIGHT_SUM: Final = (127 << 16, 127 << 16)
U85_WEIGHT_SUM: Final = (127 << 16, 127 << 24)
U55_MAX_BIAS: Final = (1 << 40) - 1
U85_MAX_BIAS: Final = (1 << 48) - 1
U55_MAX_STRIDE: Final = 3  # REPORT "Kernel stride must be in the range (1,3)", "Stride>3 is only supported IF ..."
U55_UNROLLED: Final = frozenset({"CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"})  # REGOR UnrolledKernelStride; DW: KernelStride

# REPORT op-specific limits, both cores unless marked.
CONST_PARAMS: Final = frozenset({"SLICE", "STRIDED_SLICE", "MEAN", "PAD", "PADV2", "MIRROR_PAD", "TRANSPOSE"})
PAD_OPS: Final = frozenset({"PAD", "PADV2", "MIRROR_PAD"})  # "Params tensor must be Int32 or Int64"
MATCHING_QUANT: Final = frozenset({"MAXIMUM", "MINIMUM"})
# "IFM and OFM datatypes must match, and must be ..." and "IFM and OFM shapes must match"
SAME_TYPE_LUT: Final = MappingProxyType({"ELU": ("INT8",), "GELU": ("INT8", "UINT8"), "LOG": ("INT8", "INT16")})
RSQRT_TYPES: Final = ("INT8", "INT16")
SOFTMAX_MAX_WH: Final = 1 << 16  # REGOR SoftmaxOverflow: W x H above 2^16 fails (RUN: 300x300 fails)
POOL_LIMITS: Final = (256, 256 * 256, 8)  # VALID: kernel height, kernel product; padded AVERAGE_POOL_2D: width and height
TRANSPOSE_MAX_RANK: Final = 8
MEAN_TYPES: Final = MappingProxyType({"INT8": 1 << 24, "UINT8": 1 << 23, "INT16": 1 << 16})  # reduced elements at most
MEAN_MAX_AXIS: Final = 64 * 64  # REGOR MAX_MEAN_KERNEL_SIZE: a reduced axis above it fails
MATMUL_MAX: Final = 1 << 16  # U55 "IF Matmul or (FC with dynamic weights)": OFM depth, reduced axis; and IFM int8
ARG_MAX_DEPTH: Final = 127  # U55
LSTM_ABSENT: Final = (*range(9, 12), 16, 17, *range(20, 24))  # peephole, projection, layer-norm inputs; 1-8 must be present

# Vela's TFLite semantic checks (REGOR tflite_model_semantics.cpp, strings in regor.so): a model failing one is not compiled
# at all ("Does not have valid TFLite Semantics"). RUN: every such corpus model is predicted (10 quantized, 3 float ones), and
# the U55's BOOL-I/O failures (11 models); not the one SIGFPE crash (FULLY_CONNECTED with INT4 weights). Modelled: constants without data,
# non-finite scales, an IFM/OFM scale ratio beyond float32, the signedness of ADD/SUB/MUL (SIGNED_OPS: where RUN met it),
# a float or non-3-D UNIDIRECTIONAL_SEQUENCE_LSTM.
SIGNED_OPS: Final = frozenset({"ADD", "SUB", "MUL"})
FLOAT32_MAX: Final = 3.4028234663852886e38  # "quantization scales that fit within float32 precision (IFM Scale / OFM Scale)"
RESIZE_OPS: Final = ("RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR")


def nhwc(shape: Sequence[int]) -> tuple[int, ...]:
    """Shape::PadAxes(shape, 4, 1): leading 1s up to rank 4."""
    return (1,) * (4 - len(shape)) + tuple(shape)


def mean_problem(dtype: str, shape: Sequence[int], axes: Sequence[int]) -> str | None:
    """REGOR UnitBatch, MeanDepth, MeanAxisSize, MeanDataType and MeanTotalElements, in that order."""
    full, rank = nhwc(shape), len(shape)
    reduced = {a % rank + 4 - rank for a in axes if -rank <= a < rank}
    if full[0] > 1:
        return "batch must be 1"
    if 3 in reduced and 1 not in full[1:]:
        return "reduction over depth is only supported if any of h,w,c == 1"
    if any(full[a] > MEAN_MAX_AXIS for a in reduced):
        return f"reduced axis must be less than {MEAN_MAX_AXIS}"
    if dtype not in MEAN_TYPES:
        return "IFM precision must be one of Int8, UInt8, Int16"
    n = math.prod(full[a] for a in reduced)
    return f"{n} reduced elements: at most {MEAN_TYPES[dtype]} for {dtype}" if n > MEAN_TYPES[dtype] else None


def slice_problem(dims: Sequence[int], begin: Sequence[int], end: Sequence[int], strides: Sequence[int], masks: Sequence[int]) -> str | None:
    """REGOR StridedSlice: decode the slice (masks: begin, ellipsis, end, shrink); strides other than 1 only on H and W, none
    negative, every size > 0 ("Slice must represent a volume. Stride must be non-negative (and over W or H).")."""
    n = min(len(begin), len(end), len(strides))
    size, step, i = list(dims), [1] * len(dims), 0
    for k in range(n):
        is_begin, ellipsis, is_end, shrink = (bool(m >> k & 1) for m in masks)
        if ellipsis:
            i = len(dims) - (n - k - 1)
            continue
        if i >= len(dims):
            break
        lo = 0
        if not is_begin or shrink:
            lo = min(max(begin[k] + dims[i] if begin[k] < 0 else begin[k], 0), dims[i] - 1)
            size[i] = 1 if shrink else dims[i] - lo
        if not is_end and not shrink:
            size[i] = min(max(end[k] + dims[i] if end[k] < 0 else end[k], 1), dims[i]) - lo
        step[i], i = strides[k], i + 1
    if math.prod(s for a, s in enumerate(step) if a not in (len(step) - 3, len(step) - 2)) != 1:
        return "a stride other than 1 only over W or H"
    return "stride must be non-negative, the slice a volume" if min(step, default=1) < 0 or min(size, default=1) <= 0 else None


# U55 TRANSPOSE (REPORT): the 4-D permutations by name (a lower rank is padded with leading axes); int32 IFMs: rank <= 4
# and these permutations with (N, H, W, C) limits, "NH" the product N*H; any other int32 permutation fails.
PERMUTATIONS: Final[Mapping[tuple[int, ...], str]] = MappingProxyType({(0, 1, 2, 3): "NHWC", (0, 2, 1, 3): "NWHC", (0, 1, 3, 2): "NHCW", (0, 3, 2, 1): "NCWH",
                                        (0, 2, 3, 1): "NWCH", (0, 3, 1, 2): "NCHW"})
AXIS_LIMIT: Final = 1 << 16
TRANSPOSE_32BIT: Final = MappingProxyType({"NHWC": {"C": 1 << 16}, "NWHC": {"N": 1, "H": 1 << 16, "W": 1 << 16, "C": 1 << 14},
                                           "NHCW": {"NH": 1 << 16, "W": 1 << 16, "C": 1 << 16}})


def transpose_problem(dtype: str, shape: Sequence[int], perm: Sequence[int] | None) -> str | None:
    """U55 TRANSPOSE limits by type and permutation (REPORT; RUN: rank 5 over 2^16 fails, NCHW 300x300 passes)."""
    full, rank = nhwc(shape), len(shape)
    name = None if perm is None or rank > 4 else PERMUTATIONS.get(tuple(range(4 - rank)) + tuple(a + 4 - rank for a in perm))
    if dtype == "INT32":
        if name is None or name not in TRANSPOSE_32BIT:
            return "int32 only up to rank 4, as NHWC, NWHC or NHCW"
        dims = dict(zip("NHWC", full, strict=True)) | {"NH": full[0] * full[1]}
        return None if all(dims[k] <= v for k, v in TRANSPOSE_32BIT[name].items()) else f"int32 {name} limits {dict(TRANSPOSE_32BIT[name])}"
    if name == "NHWC" or perm is None or list(perm) == sorted(perm):
        return None
    if name is not None:
        return None if max(full[1:]) <= AXIS_LIMIT else "H, W and C must each be <= 2^16"
    smallest = sorted(shape)[:2]
    return None if math.prod(shape) <= AXIS_LIMIT * max(math.prod(smallest), 1) else "the product of any N-2 axes must be <= 2^16"


def kernel(options: Mapping[str, object], weights: Sequence[int] | None = None) -> tuple[int, ...]:
    """(kw, kh, sw, sh, dw, dh) of a convolution (kernel size from the OHWI weights) or pooling op, as Vela's Kernel."""
    vals = [options.get(k) for k in ("filter_width", "filter_height", "stride_w", "stride_h", "dilation_w_factor", "dilation_h_factor")]
    kw, kh, sw, sh, dw, dh = (v if isinstance(v, int) and v > 0 else 1 for v in vals)
    return (weights[2], weights[1], sw, sh, dw, dh) if weights is not None and len(weights) == 4 else (kw, kh, sw, sh, dw, dh)


def padded(options: Mapping[str, object], ifm: Sequence[int], weights: Sequence[int] | None = None) -> bool:
    """Kernel::Padding() is not zero: SAME padding (the schema's Padding 0) that pads at least one row or column."""
    kw, kh, sw, sh, dw, dh = kernel(options, weights)
    _, h, w, _ = nhwc(ifm)
    return options.get("padding") == 0 and any((-(-n // s) - 1) * s + (k - 1) * d + 1 > n for n, k, s, d in ((h, kh, sh, dh), (w, kw, sw, dw)))


def resize_problem(u55: bool, code: str, options: Mapping[str, object], ifm: Sequence[int], ofm: Sequence[int]) -> str | None:
    """RESIZE_* scale factors. U55 (REGOR u55 Resize): equal H and W factors of 2, 4 or 8 (half-pixel bilinear: 2); U85
    (REPORT, REGOR ConstraintResize*): corners and half-pixel exclusive, factors up to 2048 (corners) or 1024, bilinear
    ones integer powers of two. align_corners counts (size - 1)."""
    (_, ih, iw, _), (_, oh, ow, _) = nhwc(ifm), nhwc(ofm)
    bilinear, corners, half = code == "RESIZE_BILINEAR", bool(options.get("align_corners")), bool(options.get("half_pixel_centers"))
    if not u55:
        pairs = [(o - (i > 1), i - (i > 1)) if corners else (o, i) for o, i in ((oh, ih), (ow, iw))]
        limit = 2048 if corners else 1024
        pow2 = not bilinear or ih == iw == 1 or all(d > 0 and n % d == 0 and (n // d) & (n // d - 1) == 0 for n, d in pairs)
        bad = (corners and half) or any(n <= 0 or d <= 0 or n // d > limit for n, d in pairs) or not pow2
        return f"scale factors must be {'powers of two ' * bilinear}up to {limit}, corners and half-pixel exclusive" if bad else None
    half = half and bilinear
    if ih == iw == 1 or (ih, iw) == (oh, ow):
        return "same size with half_pixel_centers" if half and (ih, iw) == (oh, ow) and ih * iw > 1 else None
    hs, ws = ((1.0 if o == 1 else (o - 1) / max(i - 1, 1)) if corners else o / max(i, 1) for o, i in ((oh, ih), (ow, iw)))
    if hs != ws and (half or not ((oh == 1 and hs == 1) or (ow == 1 and ws == 1))):
        return f"scale factors {hs:g} (H) and {ws:g} (W) differ"
    up = max(hs, ws)
    return None if up in (2, 4, 8)[: 1 if half else 3] else f"scale factor {up:g}: it must be 2x, 4x or 8x (half-pixel: 2x)"


def semantics(model: Model, ranges: list[list[QuantRange | None]]) -> list[tuple[str, str]]:
    """Vela's TFLite semantic checks (the same for every core); `ranges`: common.quant_ranges(model)."""
    out: list[tuple[str, str]] = []
    for sub, quant in zip(model.subgraphs, ranges, strict=True):
        used = {i for op in sub.operators for i in op.inputs}
        for t in sub.tensors:
            if t.index in used and t.buffer > 0 and not model.is_constant(t) and t.index not in sub.producers and \
                    t.index not in sub.inputs and not t.is_variable:
                out.append(("semantics", f"a {t.dtype}{list(t.shape)} constant without data: constant tensors must not have empty buffers"))
            if (r := quant[t.index]) is not None and not r[2]:
                out.append(("semantics", f"a scale of {t.quantization.scale.tolist()[:4]}: tensor quantization scales must be finite"))  # type: ignore[union-attr]
        for op in sub.operators:
            x, y = (sub.tensor(op.inputs[0]) if op.inputs else None), (sub.tensor(op.outputs[0]) if op.outputs else None)
            if x is None or y is None:
                continue
            if op.opcode in SIGNED_OPS and x.dtype.startswith(("INT", "UINT")) and y.dtype not in (
                    ("INT8", "INT16", "INT32", "INT64") if x.dtype.startswith("INT") else (x.dtype, "INT32")):
                out.append(("semantics", f"{op.opcode} of {x.dtype} into {y.dtype}: an integer IFM needs an integer OFM of its signedness"))
            if op.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM" and (x.dtype not in RSQRT_TYPES or (len(x.shape), len(y.shape)) != (3, 3)):
                out.append(("semantics", f"UNIDIRECTIONAL_SEQUENCE_LSTM {x.dtype} rank {len(x.shape)} -> {len(y.shape)}: an INT8/16 IFM, 3-D"))
            rx, ry = quant[x.index], quant[y.index]
            if rx and ry and not rx[0] < FLOAT32_MAX * abs(ry[0]):
                out.append(("semantics", f"{op.opcode} IFM scale {rx[0]:.3g}, OFM scale {ry[0]:.3g}: their ratio must fit in float32"))
    return out
