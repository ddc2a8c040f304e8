"""XNNPACK delegate facts as data: its op set, the tensor types each visitor takes, the inputs that must be constant.

Source: google-ai-edge/LiteRT tflite/delegates/xnnpack/xnnpack_delegate.cc (the newest stored snapshot, 9320c268, with
fp16 in CheckTensorFloatOrQUInt8Type and 8-bit BATCH_MATMUL; older line numbers in ../shared/reference/targets.md §1.1),
as built into the ai-edge-litert 2.3.0 wheel: QS8 and QU8 on, dynamic fully-connected off (delegates/xnnpack/BUILD).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

# The visitor each builtin reaches in Subgraph::VisitNode's switch; an op missing here is never delegated. LOG is in the
# switch of the snapshot targets.md §1.1 read (f674577, line 3171) and of the wheel, not of the older stored ones.
UNARY: Final = frozenset({  # VisitUnaryNode
    "ABS", "CEIL", "COS", "DEQUANTIZE", "ELU", "EXP", "FLOOR", "GELU", "HARD_SWISH", "LEAKY_RELU", "LOG", "LOGISTIC", "NEG",
    "QUANTIZE", "RELU", "RELU6", "RELU_N1_TO_1", "ROUND", "RSQRT", "SIN", "SQRT", "SQUARE", "TANH",
})
BINARY: Final = frozenset({"ADD", "DIV", "MAXIMUM", "MINIMUM", "MUL", "PRELU", "SQUARED_DIFFERENCE", "SUB"})  # VisitBinaryNode
OTHER: Final = frozenset({
    "AVERAGE_POOL_2D", "BATCH_MATMUL", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "FULLY_CONNECTED",
    "MAX_POOL_2D", "MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "PAD", "RESHAPE", "RESIZE_BILINEAR", "SLICE", "SOFTMAX",
    "SPACE_TO_DEPTH", "SPLIT", "STRIDED_SLICE", "TRANSPOSE", "TRANSPOSE_CONV", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE",
    "STABLEHLO_COMPOSITE",
})
OP_SET: Final = UNARY | BINARY | OTHER
ODML_SDPA: Final = "odml.scaled_dot_product_attention"  # kOdmlSDPA: the one stablehlo.composite VisitNode takes
# The kTfLiteBuiltinCustom case: MediaPipe's three ops and the custom-op form of the SDPA composite; "moe" is the
# custom op of moe_delegate_kernel.cc (MoeExpertsDelegateKernel), which the wheel's delegate also claims.
CUSTOM_OPS: Final = frozenset({"Convolution2DTransposeBias", "MaxPoolingWithArgmax2D", "MaxUnpooling2D", ODML_SDPA, "moe"})

# Type checks: kind -> (the Check* function, the dtypes it takes). "INT8"/"UINT8" mean per-tensor quantized
# (affine, one scale, quantized_dimension 0): CheckTensorQInt8OrQUInt8Type and friends.
KINDS: Final = MappingProxyType({
    "f32": ("CheckTensorFloat32Type", frozenset({"FLOAT32"})),
    "f": ("CheckTensorFloatType", frozenset({"FLOAT32", "FLOAT16"})),
    "f32q": ("CheckTensorFloat32OrQUInt8Type", frozenset({"FLOAT32", "INT8", "UINT8"})),
    "fq": ("CheckTensorFloatOrQUInt8Type", frozenset({"FLOAT32", "FLOAT16", "INT8", "UINT8"})),
    "fqs": ("CheckTensorFloatOrQInt8Type", frozenset({"FLOAT32", "FLOAT16", "INT8"})),
    "q": ("CheckTensorQInt8OrQUInt8Type", frozenset({"INT8", "UINT8"})),
    "i32": ("CheckTensorType", frozenset({"INT32"})),
})
VARIABLE_OPS: Final = frozenset({"VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE"})
_F32, _W = ("FLOAT32",), ("INT8", "INT4")
_F_UNARY = ("ABS", "CEIL", "COS", "EXP", "FLOOR", "GELU", "HARD_SWISH", "LOG", "NEG", "RELU", "RELU6", "RELU_N1_TO_1", "ROUND",
            "RSQRT", "SIN", "SQRT", "SQUARE")
# op -> (kinds of its inputs by position, None = not type-checked; kinds of its outputs). A one-kind tuple applies to
# every output, and to every input of CONCATENATION. Weights, bias and parameters are checked separately. Custom ops by
# name: VisitMediaPipe*Node, VisitDotAttentionNode, and MoeExpertsDelegateKernel::IsSupported (moe_delegate_kernel.cc).
IO: Final = MappingProxyType({
    **{op: (("f",), ("f",)) for op in _F_UNARY},
    "DEQUANTIZE": (("q",), ("f",)), "ELU": (("fqs",), ("fqs",)),
    "LOGISTIC": (("fq",), ("fq",)), "TANH": (("fq",), ("fq",)), "LEAKY_RELU": (("fq",), ("fq",)), "QUANTIZE": (("fq",), ("fq",)),
    **{op: (("fq", "fq"), ("fq",)) for op in ("ADD", "MUL", "SUB")},
    **{op: (("f", "f"), ("f",)) for op in ("DIV", "MAXIMUM", "MINIMUM", "PRELU", "SQUARED_DIFFERENCE")},
    "AVERAGE_POOL_2D": (("f32",), ("f32",)), "MAX_POOL_2D": (("f32q",), ("f32q",)), "SOFTMAX": (("f32",), ("f32",)),
    "BATCH_MATMUL": (("f32q",), ("f32q",)), "CONCATENATION": (("fq",), ("fq",)),
    "CONV_2D": (("f32q",), ("f32q",)), "DEPTHWISE_CONV_2D": (("f32q",), ("f32q",)), "FULLY_CONNECTED": (("f32q",), ("f32q",)),
    "TRANSPOSE_CONV": ((None, None, "f32q"), ("f32q",)),
    "DEPTH_TO_SPACE": (("f32q",), ("f32q",)), "SPACE_TO_DEPTH": (("f32q",), ("f32q",)), "RESIZE_BILINEAR": (("f32q",), ("f32q",)),
    **{op: (("fq",), ("f32q",)) for op in ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN")},
    "PAD": (("f32q",), ("fq",)), "RESHAPE": (("fq",), ("fq",)), "SLICE": (("fq",), ("fq",)), "STRIDED_SLICE": (("fq",), ("fq",)),
    "TRANSPOSE": (("fq",), ("fq",)), "SPLIT": ((None, "fq"), ("fq",)),
    "Convolution2DTransposeBias": (("f32", "f32", "f32"), ("f32",)), "MaxPoolingWithArgmax2D": (("f32",), ("f32", None)),
    "MaxUnpooling2D": (("f32", None), ("f32",)), ODML_SDPA: (("f32",) * 4, ("f32",)),
    "moe": (("f32", "f32", "i32"), ("f32",)), "moe-quantized": (("f32", "f32", "i32"), ("f32",)),
})
# Exact input and output counts the visitors check (CheckNumInputsAndOutputs): op -> (min in, max in, out).
COUNTS: Final = MappingProxyType({
    **{op: (1, 1, 1) for op in UNARY}, **{op: (2, 2, 1) for op in BINARY},
    "AVERAGE_POOL_2D": (1, 1, 1), "MAX_POOL_2D": (1, 1, 1), "SOFTMAX": (1, 1, 1), "DEPTH_TO_SPACE": (1, 1, 1),
    "SPACE_TO_DEPTH": (1, 1, 1), "CONCATENATION": (2, 5, 1), "CONV_2D": (3, 3, 1), "DEPTHWISE_CONV_2D": (3, 3, 1),
    "FULLY_CONNECTED": (2, 3, 1), "TRANSPOSE_CONV": (3, 4, 1), "RESHAPE": (1, 2, 1), "RESIZE_BILINEAR": (2, 2, 1),
    "PAD": (2, 2, 1), "TRANSPOSE": (2, 2, 1), **{op: (2, 2, 1) for op in ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN")},
    "Convolution2DTransposeBias": (3, 3, 1), "MaxPoolingWithArgmax2D": (1, 1, 2), "MaxUnpooling2D": (2, 2, 1),
    "moe": (7, 7, 1), "moe-quantized": (10, 10, 1),
})
# Rank checks (CheckTensorShape: also every dimension > 0): op -> ((input k, or -k-1 for output k; min rank, max rank), ...).
MAX_RANK: Final = 6  # XNN_MAX_TENSOR_DIMS
SHAPES: Final = MappingProxyType({
    **{op: ((0, 0, MAX_RANK),) for op in UNARY}, **{op: ((0, 0, MAX_RANK), (1, 0, MAX_RANK)) for op in BINARY},
    "CONV_2D": ((0, 4, 4), (1, 4, 4), (2, 1, 1), (-1, 4, 4)), "DEPTHWISE_CONV_2D": ((0, 4, 4), (1, 4, 4), (2, 1, 1), (-1, 4, 4)),
    "FULLY_CONNECTED": ((1, 2, 2),), "TRANSPOSE_CONV": ((1, 4, 4), (2, 4, 4), (3, 1, 1), (-1, 4, 4)),
    "PAD": ((0, 1, MAX_RANK), (-1, 1, MAX_RANK)), "RESHAPE": ((0, 0, MAX_RANK), (-1, 0, MAX_RANK)),
    "RESIZE_BILINEAR": ((0, 4, 4), (-1, 4, 4)), "TRANSPOSE": ((0, 1, MAX_RANK),),
    "Convolution2DTransposeBias": ((0, 4, 4), (1, 4, 4), (2, 1, 1), (-1, 4, 4)),
    "MaxPoolingWithArgmax2D": ((0, 4, 4), (-1, 4, 4), (-2, 4, 4)), "MaxUnpooling2D": ((0, 4, 4), (1, 4, 4), (-1, 4, 4)),
})
# Parameter inputs that must be constant (CheckTensorStaticAllocation: a quasi-static DEQUANTIZE output does not
# count) and their element type: op -> {position: dtypes}.
PARAMS: Final[Mapping[str, Mapping[int, tuple[str, ...]]]] = MappingProxyType({
    "RESHAPE": {1: ("INT32",)}, "RESIZE_BILINEAR": {1: ("INT32",)}, "PAD": {1: ("INT32",)}, "TRANSPOSE": {1: ()},
    **{op: {1: ("INT32",)} for op in ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN")},
    "SLICE": {1: ("INT32", "INT64"), 2: ("INT32", "INT64")}, "STRIDED_SLICE": {1: ("INT32",), 2: ("INT32",), 3: ("INT32",)},
    "SPLIT": {0: ("INT32",)}, "TRANSPOSE_CONV": {0: ("INT32",)},
    "moe": {3: _F32, 4: _F32, 5: _F32, 6: _F32},  # IsSupported: gate, ff1, linear weights, per-expert scale
    "moe-quantized": {3: _W, 4: _F32, 5: _W, 6: _F32, 7: _W, 8: _F32, 9: _F32},  # with their row scales
})
# Weights, bias and slope: constant, or quasi-static (the output of a DEQUANTIZE/DENSIFY that unpacks a constant).
WEIGHTS: Final = MappingProxyType({
    "CONV_2D": (1, 2), "DEPTHWISE_CONV_2D": (1, 2), "FULLY_CONNECTED": (1, 2), "TRANSPOSE_CONV": (1, 3), "PRELU": (1,),
    "Convolution2DTransposeBias": (1, 2),
})
# Filters: op -> (input position, check function, expected quantized dimension ("adj" = BATCH_MATMUL's rule)).
FILTERS: Final = MappingProxyType({
    "CONV_2D": (1, "CheckTensorFloat32OrQCInt8Type", 0), "DEPTHWISE_CONV_2D": (1, "CheckTensorFloat32OrQCInt8Type", 3),
    "TRANSPOSE_CONV": (1, "CheckTensorFloat32OrQCInt8Type", 0), "BATCH_MATMUL": (1, "CheckTensorFloat32OrQCInt8Type", "adj"),
    "FULLY_CONNECTED": (1, "CheckTensorFilterType", 0),
})
# (input, filter) type pairs the "unsupported mixed types" checks let through besides equal types: dynamically quantized
# CONV_2D, BATCH_MATMUL and FULLY_CONNECTED (float input), SRQ FULLY_CONNECTED (int8 input); TRANSPOSE_CONV checks none.
_ANY8 = ("FLOAT32", "INT8", "UINT8")
LOW_BIT: Final = ("INT8", "INT4", "INT2")  # the weight types of dynamically quantized and SRQ kernels
MIXED_OK: Final = MappingProxyType({
    "CONV_2D": frozenset({("FLOAT32", "INT8")}), "BATCH_MATMUL": frozenset({("FLOAT32", "INT8")}),
    "FULLY_CONNECTED": frozenset((x, w) for x in ("FLOAT32", "INT8") for w in LOW_BIT),
    "TRANSPOSE_CONV": frozenset((x, w) for x in _ANY8 for w in _ANY8),
})
BIAS: Final = MappingProxyType({"CONV_2D": 2, "DEPTHWISE_CONV_2D": 2, "FULLY_CONNECTED": 2, "TRANSPOSE_CONV": 3})
FILTER_TYPES: Final = MappingProxyType({  # beyond per-tensor 8-bit (CheckTensorFilterType takes packed int4/int2 too)
    "CheckTensorFloat32OrQCInt8Type": frozenset({"FLOAT32", "INT8", "UINT8"}),
    "CheckTensorFilterType": frozenset({"FLOAT32", "FLOAT16", "INT8", "INT4", "INT2", "UINT8"}),
})
# Ops whose visitor calls ConvertActivationToOutputRange: NONE, RELU, RELU_N1_TO_1 and RELU6 only.
ACTIVATION_OPS: Final = frozenset({
    "ADD", "SUB", "MUL", "DIV", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D",
    "TRANSPOSE_CONV",
})
ACTIVATIONS: Final = frozenset({"NONE", "RELU", "RELU_N1_TO_1", "RELU6"})
# Scale ratios of the 8-bit kernels: VisitBinaryNode (CheckTensorsInputOutputScale, ...InputProductOutputScale).
ADD_RATIO: Final = (1 / 1024, 256.0)
MUL_RATIO: Final = (1 / 65536, 256.0)
# PrepareOpsToDelegate: the DEQUANTIZE (fp16 or int8) and DENSIFY (sparse fp32/fp16/int8) nodes that unpack constants.
UNPACK_DEQUANTIZE: Final = frozenset({"FLOAT16", "INT8"})
UNPACK_DENSIFY: Final = frozenset({"FLOAT32", "FLOAT16", "INT8"})
PADDING: Final[Mapping[object, str]] = MappingProxyType({0: "SAME", 1: "VALID"})  # the schema's Padding enum, as qcheck decodes it
# Not modelled: the newest stored snapshot's CheckFilterAndBiasTypes (a float filter and its bias of one type, an fp16
# DEQUANTIZE that feeds only GEMMs counting as fp16). The wheel has no such check: it delegates an FC whose fp16 filter
# is dequantized and whose bias is fp32 (verified), as the older snapshot reads.
