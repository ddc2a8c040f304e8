"""LiteRT GPU delegate (TfLiteGpuDelegateV2) facts as data: its op set, operand counts, tensor types, dynamic-shape ops.

Sources (google-ai-edge/LiteRT, the stored snapshots; targets.md §2.1 gives line numbers of snapshot f674577):
- `G`  = tflite/tools/versioning/gpu_compatibility.cc (d6d8577b): CheckGpuDelegateCompatibility and its helpers.
- `MB` = tflite/delegates/gpu/common/model_builder.cc (e3b6183f): NewOperationParser (which ops have a parser at all),
  the parsers' IsSupported, GetOpsToReplace (the type gate) and IsAllAllowedTensors (types, rank).
Defaults assumed: ENABLE_QUANT on (delegate_options.cc:29), so QUANTIZE/DEQUANTIZE parse and int8/uint8 pass the gate.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

# MB NewOperationParser's switch: every other builtin gets UnsupportedOperationParser ("Operation is not supported.").
# (G's switch also names ATAN2, BITCAST, CEIL, DYNAMIC_UPDATE_SLICE, EMBEDDING_LOOKUP, LOGICAL_NOT, LOGICAL_OR, REDUCE_ALL,
# REDUCE_ANY, REVERSE_V2, RIGHT_SHIFT, TOPK_V2 and STABLEHLO_* ops; they have no parser in MB, so the delegate refuses them.)
OP_SET: Final = frozenset({
    "ABS", "ADD", "ADD_N", "AVERAGE_POOL_2D", "BATCH_MATMUL", "CAST", "CONCATENATION", "CONV_2D", "COS", "CUMSUM", "DENSIFY",
    "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE", "DIV", "EQUAL", "ELU", "EXP", "FLOOR", "FLOOR_DIV", "FLOOR_MOD",
    "FULLY_CONNECTED", "GATHER", "GELU", "GREATER", "GREATER_EQUAL", "HARD_SWISH", "LESS", "LESS_EQUAL", "LOGISTIC", "LOG",
    "LOGICAL_AND", "LSTM", "MAXIMUM", "MAX_POOL_2D", "MEAN", "MINIMUM", "MIRROR_PAD", "MUL", "NEG", "NOT_EQUAL", "ONE_HOT",
    "PACK", "PAD", "PADV2", "POW", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD", "QUANTIZE", "RELU", "RELU6", "RELU_N1_TO_1",
    "LEAKY_RELU", "PRELU", "RESHAPE", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "RSQRT", "SELECT", "SELECT_V2", "SIGN",
    "SIN", "SLICE", "SOFTMAX", "SPACE_TO_DEPTH", "SPLIT", "SPLIT_V", "SQRT", "SQUARE", "SQUARED_DIFFERENCE", "STRIDED_SLICE",
    "SUB", "SUM", "TANH", "TILE", "TRANSPOSE", "TRANSPOSE_CONV", "UNPACK",
})
# MB TransposeOperationParser::IsSupported: CheckMaxSupportedOpVersion(registration, 4) ("we do not support boolean inputs").
MAX_VERSION: Final = MappingProxyType({"TRANSPOSE": 4})
# MB NewOperationParser's kTfLiteBuiltinCustom case (G CheckCustomOpsGpuDelegateCompatibility): name -> (runtime inputs,
# outputs) as CheckInputsOutputs / CheckPooling2DGpuDelegateCompatibility want them (None: not counted).
CUSTOM_OPS: Final[Mapping[str, tuple[int, int] | None]] = MappingProxyType({
    "Convolution2DTransposeBias": None, "MaxPoolingWithArgmax2D": (1, 2), "MaxUnpooling2D": (2, 1), "Resampler": (2, 1),
})

# G's one-argument elementwise case: CheckInputsConstsOutputs(1 runtime, 0 const, 1 output).
UNARY: Final = frozenset({
    "ABS", "CEIL", "COS", "ELU", "EXP", "FLOOR", "GELU", "LOG", "LOGICAL_NOT", "LOGISTIC", "NEG", "ROUND", "RSQRT", "SIGN",
    "SIN", "SQRT", "SQUARE", "TANH",
})
# G's two-argument elementwise case: (2 runtime, 0 const) or (1 runtime, 1 const), 1 output ("Op can only handle 1 or 2
# operand(s).").
BINARY: Final = frozenset({
    "ATAN2", "DIV", "EQUAL", "FLOOR_DIV", "FLOOR_MOD", "GREATER", "GREATER_EQUAL", "LOGICAL_AND", "LOGICAL_OR", "LESS",
    "LESS_EQUAL", "MAXIMUM", "MINIMUM", "NOT_EQUAL", "POW", "RIGHT_SHIFT", "SQUARED_DIFFERENCE", "SUB",
})
# Other CheckInputsOutputs / CheckInputsConstsOutputs calls of G: op -> (runtime inputs, const inputs or None, outputs).
COUNTS: Final[Mapping[str, tuple[int, int | None, int]]] = MappingProxyType({
    "CAST": (1, None, 1), "DENSIFY": (0, None, 1), "DEPTH_TO_SPACE": (1, None, 1), "SPACE_TO_DEPTH": (1, None, 1),
    "HARD_SWISH": (1, None, 1), "QUANTIZE": (1, None, 1), "RESHAPE": (1, None, 1), "TILE": (1, None, 1),
    "TRANSPOSE": (1, None, 1), "RESIZE_BILINEAR": (1, None, 1), "RESIZE_NEAREST_NEIGHBOR": (1, None, 1),
    "AVERAGE_POOL_2D": (1, None, 1), "MAX_POOL_2D": (1, None, 1),
    **{op: (1, 0, 1) for op in UNARY},
})
# Ops whose G check calls IsActivationSupported: every activation but SIGN_BIT (TANH and SIGMOID pass). ADD and
# FULLY_CONNECTED do not check theirs.
ACTIVATION_OPS: Final = frozenset({"AVERAGE_POOL_2D", "MAX_POOL_2D", "CONV_2D", "DEPTHWISE_CONV_2D", "MUL", "DIV", "SUB"})
BAD_ACTIVATIONS: Final = frozenset({"SIGN_BIT"})
REDUCE: Final = frozenset({"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD"})
PADS: Final = frozenset({"PAD", "PADV2", "MIRROR_PAD"})
# MB GetOpsToReplace: the types a non-constant (kTfLiteArenaRw) input or output may have. Constant (kTfLiteMmapRo) and
# variable (kTfLiteArenaRwPersistent) tensors are not type-checked.
BASE_TYPES: Final = frozenset({"FLOAT32", "FLOAT16", "INT8", "UINT8"})  # INT8/UINT8: allow_quant_ops (ENABLE_QUANT)
LOGICAL: Final = frozenset({"GREATER", "GREATER_EQUAL", "LESS", "LESS_EQUAL", "EQUAL", "NOT_EQUAL"})  # IsLogicalCode
EXTRA_IN: Final = MappingProxyType({
    "CAST": frozenset({"BOOL", "INT32"}), "ONE_HOT": frozenset({"INT32"}), "SELECT": frozenset({"BOOL"}),
    "SELECT_V2": frozenset({"BOOL"}), "LOGICAL_AND": frozenset({"BOOL"}), "GATHER": frozenset({"INT32"}),
})
EXTRA_OUT: Final = MappingProxyType({
    **{op: frozenset({"BOOL"}) for op in LOGICAL}, "CAST": frozenset({"INT32", "BOOL"}), "LOGICAL_AND": frozenset({"BOOL"}),
})
MAX_RANK: Final = 4  # IsAllAllowedTensors: `t->dims->size >= 5` refuses, constants included
# The offline CheckGpuDelegateCompatibility(OperatorCode*, ...) passes kEnhancedBroadcast, but the delegate's parsers call
# the TfLiteContext overload, whose default is GpuCompatibilityFlags::kStandard (gpu_compatibility.h): the standard rules.
ENHANCED_BROADCAST: Final = False

FOLD_ALWAYS: Final = frozenset({"SHAPE", "RANK"})
FOLD: Final = frozenset({
    "STRIDED_SLICE", "REDUCE_PROD", "BROADCAST_ARGS", "GATHER", "RESHAPE", "RANGE", "CONCATENATION", "PACK", "ADD", "SUB",
    "MUL",
})
# Ops whose kernel cannot size its output at Prepare when an input (by position) holds run-time values: the output is
# dynamic (kTfLiteDynamic; RESHAPE returns kTfLiteOutputShapeNotKnown, reshape.cc Prepare). UNIQUE's is always dynamic.
# A value is known at Prepare when it is constant, or written by an op of FOLD_ALWAYS, or by an op of FOLD whose inputs
# are all known: those kernels SetTensorToPersistentRo and evaluate in Prepare (shape.cc, rank.cc; strided_slice.cc,
# reduce.cc, broadcast_args.cc, gather.cc, reshape.cc, range.cc, concatenation/pack, binary arithmetic, seen in the
# stored kernels; which of PACK and CONCATENATION folds, and whether SUB/MUL do as ADD, is UNCONFIRMED).
DYNAMIC_SHAPE_INPUTS: Final[Mapping[str, tuple[int, ...]]] = MappingProxyType({
    "RESHAPE": (1,), "PAD": (1,), "PADV2": (1,), "MIRROR_PAD": (1,), "SLICE": (1, 2), "STRIDED_SLICE": (1, 2, 3),
    "TILE": (1,), "BROADCAST_TO": (1,), "FILL": (0,), "RANGE": (0, 1, 2), "RESIZE_BILINEAR": (1,),
    "RESIZE_NEAREST_NEIGHBOR": (1,), "TRANSPOSE_CONV": (0,), "TRANSPOSE": (1,), "WHERE": (0,), "UNIQUE": (),
    **{op: (1,) for op in ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD")},
})
