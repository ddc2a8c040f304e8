"""The per-op quantization facts every QC2xx-QC5xx rule reads: one data table, with its sources.

Source tags: Doc = LiteRT `tflite/g3doc/performance/quantization_spec.md`; OP = LiteRT
`tflite/converter/tools/optimize/operator_property.cc`; TD = `tflite/converter/ir/tfl_ops.td`;
K = the kernel `tflite/kernels/<op>.cc`; M = measured with ai-edge-litert 2.3.0 (default
interpreter with XNNPACK and BUILTIN_WITHOUT_DEFAULT_DELEGATES) on models built by tests/spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, NamedTuple

# What LiteRT does with a model that breaks a constraint (the wording goes into messages).
RUNTIME: Final[Mapping[str, str]] = MappingProxyType({
    "load": "LiteRT rejects the model at load time (kernel Prepare)",
    "builtin": "LiteRT's builtin kernel rejects it at load time, but the XNNPACK delegate accepts it and computes wrong results",
    "xnnpack": "the default XNNPACK delegate rejects it at load time; without it the builtin kernel silently computes wrong results",
    "debug": "only a debug-build DCHECK catches it; release runtimes silently compute wrong results",
    "silent": "LiteRT accepts it and silently computes wrong results",
})


class Weights(NamedTuple):
    """The weight operand of a weighted op (Doc, OP per_axis_index, TD GetQuantizationDimIndex)."""

    input: int
    axis: int | None  # the per-axis dimension; None: per-tensor only
    out_axis: int  # dimension holding the output channels (bias length)
    depth_axes: tuple[int, ...]  # dimensions summed into one accumulator
    hybrid_only: bool = False  # the rules apply only when the op runs hybrid (float output)


class Bias(NamedTuple):
    """The bias operand; its scale must be s(activation input) x s(weights)[c]."""

    input: int
    int32_option: bool  # int16 activations may use an INT32 bias when quantized_bias_type == INT32


class Fixed(NamedTuple):
    """A hard-coded output quantization, and what the runtime checks of it."""

    scale: float
    zero_point: int
    scale_runtime: str  # key of RUNTIME
    zp_runtime: str
    runtime_tol: float = 0.0  # relative scale deviation the runtime still accepts


class SameScale(NamedTuple):
    """Operands that must carry the output's scale and zero point; runtime behaviour per dtype."""

    inputs: tuple[int, ...] | None  # None: every input
    outputs: tuple[int, ...] | None  # None: every output
    runtime: Mapping[str, str]  # dtype -> key of RUNTIME; a dtype missing here is exempt
    input_runtime: Mapping[int, str] = MappingProxyType({})  # per-input override


class OpSpec(NamedTuple):
    """Everything the spec and the runtime say about one builtin op."""

    act: int = 0  # index of the activation input
    weights: Weights | None = None
    bias: Bias | None = None
    fixed: Mapping[str, Fixed] = MappingProxyType({})  # output dtype -> fixed quantization
    same: SameScale | None = None
    int16: bool | None = None  # False: no int16 kernel (rejected at load); None: not stated
    hybrid: tuple[int, ...] = ()  # constant inputs that make the op hybrid when int8 with float activations
    mixed_types: bool = False  # quantized operands may legitimately differ in dtype
    int16_state: tuple[int, ...] = ()  # inputs that are INT16 by design in the integer kernel (recurrent state)
    versions: Mapping[str, int] = MappingProxyType({})  # "INT8"/"HYBRID" -> lowest version (hint)
    source: str = ""


def _same(runtime: str | Mapping[str, str], inputs: tuple[int, ...] | None = (0,), outputs: tuple[int, ...] | None = None,
          **input_runtime: str) -> SameScale:
    rt = {"INT8": runtime, "UINT8": runtime, "INT16": runtime} if isinstance(runtime, str) else runtime
    return SameScale(inputs, outputs, MappingProxyType(dict(rt)), {int(k[1:]): v for k, v in input_runtime.items()})


_X = {"INT8": "xnnpack", "UINT8": "xnnpack", "INT16": "silent"}  # XNNPACK checks 8-bit only (M)
_POOL = {"INT8": "debug", "UINT8": "debug", "INT16": "silent"}
_F8 = Fixed(1 / 256, -128, "builtin", "silent")
_HYBRID_CONV = {"INT8": 3, "HYBRID": 2}

OPS: Final[Mapping[str, OpSpec]] = MappingProxyType({
    # -- weighted ops: weights (Doc, OP, TD), bias, hybrid ----------------------------------------
    "CONV_2D": OpSpec(weights=Weights(1, 0, 0, (1, 2, 3)), bias=Bias(2, True), int16=True, hybrid=(1,), mixed_types=True,
                      versions=_HYBRID_CONV, source="Doc; OP per_axis 0; K conv.cc (bias i32/i64, quantized_bias_type)"),
    "DEPTHWISE_CONV_2D": OpSpec(weights=Weights(1, 3, 3, (1, 2)), bias=Bias(2, False), int16=True, hybrid=(1,), mixed_types=True,
                                versions={"INT8": 3, "HYBRID": 4}, source="Doc; OP per_axis 3; K depthwise_conv.cc (int16 bias INT64 only, M)"),
    "FULLY_CONNECTED": OpSpec(weights=Weights(1, 0, 0, (1,)), bias=Bias(2, True), int16=True, hybrid=(1,), mixed_types=True,
                              versions={"INT8": 4, "HYBRID": 3}, source="Doc; OP per_axis 0; K fully_connected.cc (quantized_dimension 0)"),
    "TRANSPOSE_CONV": OpSpec(act=2, weights=Weights(1, 0, 0, (1, 2, 3)), bias=Bias(3, True), int16=True, mixed_types=True,
                             versions={"INT8": 2}, source="OP inputs {2, 1}, bias 3; TD AccumulatorUniformScale<3,1,2>; K transpose_conv.cc"),
    "EMBEDDING_LOOKUP": OpSpec(weights=Weights(1, 0, 0, (), hybrid_only=True), mixed_types=True,
                               source="TD dim 0; K embedding_lookup.cc (hybrid: zero point 0, per-axis on rows)"),
    "BATCH_MATMUL": OpSpec(int16=True, hybrid=(1,), mixed_types=True, source="OP quantize_input_as_activations; K batch_matmul.cc"),
    "SVDF": OpSpec(hybrid=(1, 2), mixed_types=True, int16=False, int16_state=(4,),
                   source="OP quantizable_int16=false; K svdf.cc (int8 SVDF: INT16 weights_time and state, input 4)"),
    "LSTM": OpSpec(hybrid=(*tuple(range(1, 12)), 16), mixed_types=True, source="OP LSTM case; int16 cell state"),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": OpSpec(hybrid=(*tuple(range(1, 12)), 16), mixed_types=True, source="OP LSTM case"),
    "BIDIRECTIONAL_SEQUENCE_LSTM": OpSpec(hybrid=tuple(range(1, 12)), mixed_types=True, source="IsHybridEvaluationOp"),
    "RNN": OpSpec(hybrid=(1, 2), mixed_types=True, source="IsHybridEvaluationOp"),
    "UNIDIRECTIONAL_SEQUENCE_RNN": OpSpec(hybrid=(1, 2), mixed_types=True, source="IsHybridEvaluationOp"),
    "BIDIRECTIONAL_SEQUENCE_RNN": OpSpec(hybrid=(1, 2), mixed_types=True, source="IsHybridEvaluationOp"),
    # -- fixed output quantization (Doc, OP, TD, K) -----------------------------------------------
    "LOGISTIC": OpSpec(fixed={"INT8": _F8, "UINT8": Fixed(1 / 256, 0, "builtin", "silent"),
                              "INT16": Fixed(1 / 32768, 0, "load", "load", 6.9e-4)}, int16=True, versions={"INT8": 2},
                       source="Doc; OP restricted_value; K activations.cc SigmoidPrepare (int8/uint8 scale exact, zp unchecked, M)"),
    "SOFTMAX": OpSpec(fixed={"INT8": Fixed(1 / 256, -128, "load", "load", 1e-3), "UINT8": Fixed(1 / 256, 0, "silent", "silent"),
                             "INT16": Fixed(1 / 32768, 0, "load", "load", 1e-3)}, int16=True, mixed_types=True, versions={"INT8": 2},
                      source="Doc; OP; K SoftmaxPrepare (scale within 0.1%; uint8 unchecked, M)"),
    "TANH": OpSpec(fixed={"INT8": Fixed(1 / 128, 0, "silent", "silent"), "UINT8": Fixed(1 / 128, 128, "silent", "silent"),
                          "INT16": Fixed(1 / 32768, 0, "load", "load", 6.9e-4)}, int16=True, versions={"INT8": 2},
                   source="Doc; OP; TD; K TanhPrepare (int8/uint8 LUT unchecked, M)"),
    "LOG_SOFTMAX": OpSpec(fixed={"INT8": Fixed(16 / 256, 127, "load", "load"), "UINT8": Fixed(16 / 256, 255, "load", "load")},
                          int16=False, source="Doc; OP quantizable_int16=false; K LogSoftmaxPrepare (exact, M)"),
    "L2_NORMALIZATION": OpSpec(fixed={"INT8": Fixed(1 / 128, 0, "load", "load"), "UINT8": Fixed(1 / 128, 128, "load", "load")},
                               int16=False, source="Doc; OP; K l2norm.cc (exact, M)"),
    # -- same scale and zero point on inputs and outputs (Doc, OP, TD, K) ------------------------
    "AVERAGE_POOL_2D": OpSpec(same=_same(_POOL), int16=True, versions={"INT8": 2}, source="Doc; OP; K pooling.cc (TFLITE_DCHECK)"),
    "MAX_POOL_2D": OpSpec(same=_same(_X), int16=True, versions={"INT8": 2}, source="Doc; OP; K pooling.cc (TFLITE_DCHECK); M (XNNPACK checks 8-bit)"),
    "CONCATENATION": OpSpec(same=_same({"INT8": "load", "INT16": "silent"}, None), int16=True, versions={"INT8": 2},
                            source="Doc; OP; TD (uint8 exempt: the legacy kernel rescales); K concatenation.cc (int8 exact, M)"),
    "RESHAPE": OpSpec(same=_same("silent"), int16=True, source="Doc; OP; K reshape.cc (no check, M)"),
    "SQUEEZE": OpSpec(same=_same("silent"), int16=True, source="Doc; OP; M"),
    "EXPAND_DIMS": OpSpec(same=_same("load"), int16=True, source="OP; K expand_dims.cc (M)"),
    "TRANSPOSE": OpSpec(same=_same(_X), int16=True, source="Doc; OP; M (XNNPACK checks 8-bit)"),
    "SLICE": OpSpec(same=_same(_X), int16=True, source="Doc; OP; M"),
    "STRIDED_SLICE": OpSpec(same=_same(_X), int16=True, versions={"INT8": 2}, source="OP; M"),
    "PAD": OpSpec(same=_same(_X), int16=True, versions={"INT8": 2}, source="Doc; OP; M"),
    "PADV2": OpSpec(same=_same(_X, (0, 2), i2="load"), int16=True, source="Doc; OP; K pad.cc (constant_values vs output, M)"),
    "MIRROR_PAD": OpSpec(same=_same("load"), int16=True, source="OP; K mirror_pad.cc"),
    "RESIZE_BILINEAR": OpSpec(same=_same(_X), int16=True, source="Doc; OP; M"),
    "RESIZE_NEAREST_NEIGHBOR": OpSpec(same=_same("silent"), int16=True, source="OP; M"),
    "BATCH_TO_SPACE_ND": OpSpec(same=_same("load"), int16=True, source="Doc; OP; K batch_to_space_nd.cc (M)"),
    "SPACE_TO_BATCH_ND": OpSpec(same=_same("load"), int16=True, source="Doc; OP; K space_to_batch_nd.cc (M)"),
    "SPACE_TO_DEPTH": OpSpec(same=_same(_X), int16=False, source="Doc; OP quantizable_int16=false; K (float/u8/i8/i32/i64); M"),
    "DEPTH_TO_SPACE": OpSpec(same=_same(_X), int16=False, source="OP; K (no int16); M"),
    "GATHER": OpSpec(same=_same("silent"), int16=True, mixed_types=True, source="Doc; OP (input 0); M"),
    "GATHER_ND": OpSpec(same=_same("silent"), int16=True, mixed_types=True, source="OP; TD"),
    "TILE": OpSpec(same=_same("silent"), int16=True, source="OP; M"),
    "BROADCAST_TO": OpSpec(same=_same("silent"), int16=True, source="OP; TD; M"),
    "REVERSE_V2": OpSpec(same=_same("silent"), int16=True, source="OP; M"),
    "REDUCE_MAX": OpSpec(same=_same({"INT8": "silent", "UINT8": "silent", "INT16": "load"}), int16=True, source="OP; K reduce.cc (int16 only, M)"),
    "REDUCE_MIN": OpSpec(same=_same({"INT8": "silent", "UINT8": "silent", "INT16": "load"}), int16=True, source="OP; K reduce.cc (M)"),
    "MAXIMUM": OpSpec(same=_same("silent", (0, 1)), int16=True, source="Doc; OP; TF PR #54077 (raw compare, M)"),
    "MINIMUM": OpSpec(same=_same("silent", (0, 1)), int16=True, source="Doc; OP; M"),
    "PACK": OpSpec(same=_same("load", None), int16=True, source="OP; K pack.cc"),
    "UNPACK": OpSpec(same=_same("load"), int16=True, source="OP; K unpack.cc"),
    "SPLIT": OpSpec(same=_same(_X, (1,)), int16=True, source="OP (data input 1); M"),
    "SPLIT_V": OpSpec(same=_same("silent"), int16=True, versions={"INT8": 2}, source="OP"),
    "FILL": OpSpec(same=_same("load", (1,)), int16=True, mixed_types=True, source="OP (value input 1); K fill.cc"),
    "SELECT": OpSpec(same=_same("silent", (1, 2)), int16=True, mixed_types=True, source="OP inputs 1 and 2; M"),
    "SELECT_V2": OpSpec(same=_same("silent", (1, 2)), int16=True, mixed_types=True, source="TD; M"),
    "SCATTER_ND": OpSpec(same=_same("silent", (1,)), int16=True, mixed_types=True, source="OP (updates, input 1)"),
    "DYNAMIC_UPDATE_SLICE": OpSpec(same=_same("silent", (0, 1)), mixed_types=True, source="TD"),
    "TOPK_V2": OpSpec(same=_same("silent", (0,), (0,)), mixed_types=True, source="TD"),
    # -- other int8 ops, with what the runtime says about int16 -----------------------------------
    "ADD": OpSpec(int16=True, versions={"INT8": 2}, source="Doc; OP quantize_input_as_activations; K add.cc"),
    "MUL": OpSpec(int16=True, versions={"INT8": 2}, source="Doc; OP quantize_input_as_activations"),
    "SUB": OpSpec(int16=True, source="Doc; OP"),
    "MEAN": OpSpec(int16=True, source="Doc; OP"),
    "SUM": OpSpec(int16=True, source="Doc; OP (same scale only for non-8-bit; the kernel rescales, so not enforced)"),
    "HARD_SWISH": OpSpec(int16=False, source="OP quantizable_int16=false; M"),
    "RELU_N1_TO_1": OpSpec(int16=False, source="OP quantizable_int16=false; M"),
    "SQUARED_DIFFERENCE": OpSpec(int16=False, source="M (int16 rejected, although OP lists it)"),
    "QUANTIZE": OpSpec(mixed_types=True, source="K quantize.cc"),
    "DEQUANTIZE": OpSpec(mixed_types=True, versions={"INT8": 2}, source="K dequantize.cc"),
    "CAST": OpSpec(mixed_types=True), "ARG_MAX": OpSpec(mixed_types=True), "ARG_MIN": OpSpec(mixed_types=True),
    "EQUAL": OpSpec(mixed_types=True), "NOT_EQUAL": OpSpec(mixed_types=True), "LESS": OpSpec(mixed_types=True),
    "LESS_EQUAL": OpSpec(mixed_types=True), "GREATER": OpSpec(mixed_types=True), "GREATER_EQUAL": OpSpec(mixed_types=True),
    "SHAPE": OpSpec(mixed_types=True), "DENSIFY": OpSpec(mixed_types=True),
    "ASSIGN_VARIABLE": OpSpec(mixed_types=True), "READ_VARIABLE": OpSpec(mixed_types=True), "VAR_HANDLE": OpSpec(mixed_types=True),
    "CALL_ONCE": OpSpec(mixed_types=True), "WHILE": OpSpec(mixed_types=True), "IF": OpSpec(mixed_types=True),
    "CALL": OpSpec(mixed_types=True), "CUSTOM": OpSpec(mixed_types=True),
})

NO_SPEC: Final = OpSpec()

# Hybrid ops run only on runtimes with hybrid kernels (LiteRT `quantize_weights.cc` IsHybridEvaluationOp;
# tensorflow/tflite-micro#757, #1556; tensorflow/tensorflow#43386, #55928, #56626, #64223, #46806, #41521;
# google-coral/edgetpu#168, #213, #238, #313).
HYBRID_NOTE: Final = ("LiteRT's CPU kernels run it hybrid; TFLite Micro rejects hybrid models and integer-only "
                      "accelerators (Edge TPU, NPU delegates) leave it on the CPU or refuse the model")


def spec(opcode: str) -> OpSpec:
    return OPS.get(opcode, NO_SPEC)
