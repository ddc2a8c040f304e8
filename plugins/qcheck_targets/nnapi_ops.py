"""LiteRT NNAPI delegate facts as data: feature levels, per-op maximum versions, minimum levels and input types.

Source: google-ai-edge/LiteRT `tflite/delegates/nnapi/nnapi_delegate.cc`, `NNAPIDelegateKernel::Validate` (targets.md §3.2
quotes lines 2358-3655 of snapshot f674577; the stored copy read here has the same switch), and
`tflite/delegates/nnapi/nnapi_delegate_kernel.h:41-48` for the levels (targets.md §3.1). `V` below = that Validate.
Type names: `IsFloat` is FLOAT32 only; `IsQuantized` is UINT8 or INT8 only ("kTfLiteInt16 isn't supported as quantized
type yet"), so int16 (16x8) activations fail every gate built on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, NamedTuple

# kMinSdkVersionForNNAPI*, and the feature levels the delegate passes as `android_sdk_version` from Android 12 on.
NNAPI_1_0: Final = 27
NNAPI_1_1: Final = 28
NNAPI_1_2: Final = 29
NNAPI_1_3: Final = 30
FL5: Final = 31
FL6: Final = 1000006
FL7: Final = 1000007
FL8: Final = 1000008
LEVELS: Final = (NNAPI_1_0, NNAPI_1_1, NNAPI_1_2, NNAPI_1_3, FL5, FL6, FL7, FL8)
NAMES: Final = MappingProxyType({NNAPI_1_0: "NNAPI 1.0 (SDK 27)", NNAPI_1_1: "NNAPI 1.1 (SDK 28)", NNAPI_1_2: "NNAPI 1.2 (SDK 29)",
                                 NNAPI_1_3: "NNAPI 1.3 (SDK 30)", FL5: "feature level 5 (SDK 31)", FL6: "feature level 6",
                                 FL7: "feature level 7", FL8: "feature level 8"})
# The default: FL8, the highest level nnapi_delegate_kernel.h names, is what Android 15 (the release that deprecates
# NNAPI, targets.md §3) reports; every comparison in V stops at NNAPI 1.3 (30), so all levels >= 30 predict alike.
DEFAULT_LEVEL: Final = FL8

F32, F16, I32, U8, I8, BOOL = "FLOAT32", "FLOAT16", "INT32", "UINT8", "INT8", "BOOL"
QUANT8: Final = frozenset({U8, I8})  # IsQuantized
FQ8: Final = frozenset({F32, U8, I8})  # IsFloatOrQuantized ("Input should be Float or Quant8")
FU8: Final = frozenset({F32, U8})  # IsFloatOrUInt8 (CONV/DW/FC below NNAPI 1.2)

Tiers = tuple[tuple[int, frozenset[str]], ...]  # (from level, types added): the input types grow with the level


class Spec(NamedTuple):
    max_version: int | None  # ExpectMaxOpVersion / ExpectOpVersion (both test `version <= n`); None: not checked
    min_level: int = NNAPI_1_0  # ExpectMinAndroidSdkVersion
    types: Tiers = ()  # the gate on input `at`'s type (EXPECT_INPUT_TYPE_IN, ExpectIsFloat*Operator); () = none
    at: int = 0


def _t(*types: str) -> Tiers:
    return ((NNAPI_1_0, frozenset(types)),)


_FQ8: Final = ((NNAPI_1_0, FQ8),)
_FLOAT: Final = _t(F32)
_ARITH: Final = ((NNAPI_1_0, FQ8), (NNAPI_1_3, frozenset({I32})))  # ADD/MUL: ExpectIsFloatQuant8OrInt32Operator from 1.3

# V's switch (every other builtin, and every custom op, falls to `default`: "Unsupported operation type.").
OPS: Final[Mapping[str, Spec]] = MappingProxyType({
    "ADD": Spec(2, types=_ARITH), "MUL": Spec(2, types=_ARITH),  # MUL <= 3 only with a named accelerator
    "SUB": Spec(3, NNAPI_1_1, ((NNAPI_1_1, frozenset({F32})), (NNAPI_1_2, QUANT8), (NNAPI_1_3, frozenset({I32})))),
    "DIV": Spec(1, NNAPI_1_1, _FLOAT),
    "ARG_MAX": Spec(2, NNAPI_1_2, _t(F16, F32, I32, U8, I8)), "ARG_MIN": Spec(2, NNAPI_1_2, _t(F16, F32, I32, U8, I8)),
    "AVERAGE_POOL_2D": Spec(2, types=_FQ8), "MAX_POOL_2D": Spec(2, types=_FQ8), "L2_POOL_2D": Spec(1, types=_FLOAT),
    "CONV_2D": Spec(5), "DEPTHWISE_CONV_2D": Spec(3), "FULLY_CONNECTED": Spec(5),  # types: below 1.2 only (nnapi.py)
    "HARD_SWISH": Spec(None, types=_FQ8), "SOFTMAX": Spec(2, types=_FQ8), "RESHAPE": Spec(1, types=_FQ8),
    "RESIZE_BILINEAR": Spec(3, types=_FQ8), "RESIZE_NEAREST_NEIGHBOR": Spec(3, NNAPI_1_2, _FQ8),
    "SQUEEZE": Spec(1, NNAPI_1_1), "UNIDIRECTIONAL_SEQUENCE_LSTM": Spec(2, NNAPI_1_2), "L2_NORMALIZATION": Spec(2),
    "LOCAL_RESPONSE_NORMALIZATION": Spec(1), "LSH_PROJECTION": Spec(1),
    "CONCATENATION": Spec(2, types=_t(F16, F32, U8, I8)), "DEQUANTIZE": Spec(2), "FLOOR": Spec(1),
    **{op: Spec(2, types=_FQ8) for op in ("RELU", "RELU_N1_TO_1", "RELU6", "LOGISTIC")},
    "TANH": Spec(2, types=((NNAPI_1_0, frozenset({F32})), (NNAPI_1_2, QUANT8))),
    "PAD": Spec(2, NNAPI_1_1, _FQ8), "PADV2": Spec(2, NNAPI_1_1, _FQ8),
    "UNIDIRECTIONAL_SEQUENCE_RNN": Spec(1, NNAPI_1_2), "SPACE_TO_BATCH_ND": Spec(2, NNAPI_1_1),
    "BATCH_TO_SPACE_ND": Spec(2, NNAPI_1_1), "STRIDED_SLICE": Spec(2, NNAPI_1_1), "TRANSPOSE": Spec(2, NNAPI_1_1),
    **{op: Spec(1, NNAPI_1_2, _FLOAT) for op in ("ABS", "EXP", "LOG", "RSQRT", "POW", "SIN", "SQRT", "LOG_SOFTMAX")},
    "SLICE": Spec(2, NNAPI_1_2, _t(F32, I32, U8, I8)), "TRANSPOSE_CONV": Spec(3, NNAPI_1_2), "RNN": Spec(1),
    "SPACE_TO_DEPTH": Spec(2, types=_t(F32, U8, I8)), "DEPTH_TO_SPACE": Spec(None, types=_t(F32, U8, I8)),
    "SVDF": Spec(1, NNAPI_1_1), "LSTM": Spec(3, NNAPI_1_1),
    "MEAN": Spec(2, NNAPI_1_1, ((NNAPI_1_1, frozenset({F32})), (NNAPI_1_2, QUANT8))),
    "EMBEDDING_LOOKUP": Spec(1), "HASHTABLE_LOOKUP": Spec(1),
    "MAXIMUM": Spec(3, NNAPI_1_2, _t(F32, U8, I8, I32)), "MINIMUM": Spec(3, NNAPI_1_2, _t(F32, U8, I8, I32)),
    "CAST": Spec(1, NNAPI_1_2, ((NNAPI_1_2, frozenset({F32, I32, U8})), (NNAPI_1_3, frozenset({I8})))),
    "LEAKY_RELU": Spec(1, NNAPI_1_2, _t(F32, U8, I8)), "PRELU": Spec(1, NNAPI_1_2, _t(F32, U8, I8)),
    "TILE": Spec(1, NNAPI_1_2, _t(F32, I8, U8, I32)),
    **{op: Spec(1, NNAPI_1_2, _t(BOOL)) for op in ("LOGICAL_OR", "LOGICAL_AND", "LOGICAL_NOT")},
    **{op: Spec(2, NNAPI_1_2, _t(F32, U8, I8, BOOL, I32))
       for op in ("LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "EQUAL", "NOT_EQUAL")},
    "NEG": Spec(2, NNAPI_1_2, _t(F32, I32)), "TOPK_V2": Spec(2, NNAPI_1_2, _t(F32, I32, U8, I8)),
    "SELECT": Spec(2, NNAPI_1_2, _t(F32, I32, U8, I8), at=1), "GATHER": Spec(2, NNAPI_1_2, _t(F32, F16, I32, U8, I8)),
    "BIDIRECTIONAL_SEQUENCE_LSTM": Spec(1, NNAPI_1_2), "EXPAND_DIMS": Spec(1, NNAPI_1_2, _t(F32, F16, I32, U8, I8)),
    "SPLIT": Spec(3, NNAPI_1_2, ((NNAPI_1_2, frozenset({F32, U8, I32})), (NNAPI_1_3, frozenset({I8}))), at=1),
    "SPLIT_V": Spec(2, NNAPI_1_3, _t(F32, U8, I8, I32)),
    "QUANTIZE": Spec(2, NNAPI_1_2, _t(F32, U8, I8)), "REDUCE_ANY": Spec(2, NNAPI_1_2),
    "REDUCE_MIN": Spec(2, NNAPI_1_2, _t(F32, U8, I8)), "REDUCE_MAX": Spec(2, NNAPI_1_2, _t(F32, U8, I8)),
    "REDUCE_PROD": Spec(1, NNAPI_1_2, _FLOAT), "SUM": Spec(1, NNAPI_1_2, _FLOAT), "ELU": Spec(1, NNAPI_1_3, _FLOAT),
    "FILL": Spec(1, NNAPI_1_3), "PACK": Spec(2, NNAPI_1_3, _t(I32, F32, I8)),
    "SQUARED_DIFFERENCE": Spec(2, NNAPI_1_1, ((NNAPI_1_1, frozenset({F32})), (NNAPI_1_2, frozenset({U8})),
                                              (NNAPI_1_3, frozenset({I8, I32})))),
})
HYBRID_OPS: Final = frozenset({"CONV_2D", "FULLY_CONNECTED"})  # IsHybridOperator: float input, int8/uint8 weights
RESTRICTED_SCALE_OPS: Final = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"})  # ExpectIsRestrictedScalesCompliant
INT32_NO_ACTIVATION: Final = frozenset({"ADD", "MUL", "SUB"})  # "No activation function supported" for int32 inputs
RANK4_BOTH: Final = frozenset({"SUB", "SQUARED_DIFFERENCE"})  # input0_rank <= 4 && input1_rank <= 4
SCALAR_OUTPUT: Final = frozenset({"MEAN", "REDUCE_ANY", "SUM", "REDUCE_PROD"})  # "does not support generating a scalar"
CONSTANT_INPUT: Final = MappingProxyType({  # input -> what V calls it (kTfLiteMmapRo wanted)
    "RESHAPE": 1, "RESIZE_BILINEAR": 1, "RESIZE_NEAREST_NEIGHBOR": 1, "TRANSPOSE": 1, "EXPAND_DIMS": 1, "SPLIT": 0,
    "TOPK_V2": 1,
})
POOL_WINDOW_MAX: Final = 256  # quantized AVERAGE_POOL_2D filter_width*filter_height, unless an accelerator is named
# Ops whose decision reads operands' scale/zero point values (restricted scales, concat equality, DEQUANTIZE zp, QUANTIZE).
VALUE_SENSITIVE: Final = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "CONCATENATION", "DEQUANTIZE",
                                    "QUANTIZE"})
# Of those, the ones that read the values only below NNAPI 1.2 (restricted scales, concat equality): keyed by kinds above.
VALUE_SENSITIVE_BEFORE_1_2: Final = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "CONCATENATION"})
