"""TFLite Micro's kernels as data: the input types each accepts (tflite-micro 0.dev20261023182759)."""

# How these were found: the wheel (built from tflite-micro 8f6596d) ran one-op models, each in a child process with zero inputs
# through Prepare and Invoke, for every TensorType of input 0 (the other tensors of the same type, or of a type the op accepts).
# A type is listed when some such model ran; a failure at Prepare or at Invoke, or a crash, counts as "not accepted". Files are
# tensorflow/lite/micro/kernels/*.cc; a ":line" is the line the wheel itself reports (TF_LITE_ENSURE), the rest reject
# through a MicroPrintf ("Type %s (%d) not supported." and the like) in the stage named. Newer tflite-micro adds *_common.cc
# files (ceil_common.cc, depth_to_space_common.cc...) that may take some of these checks over: lines will drift.
# Absent ops are not checked: SPLIT (input 0 is the axis, read without a type check), TRANSPOSE_CONV (input 0 is the output
# shape; see FILTER_PAIRS), the resource and control-flow ops (ASSIGN_VARIABLE, CALL_ONCE, IF, READ_VARIABLE, VAR_HANDLE,
# WHILE), and the ops in OUTPUT_TYPES whose kernels never look at input 0's type (ADD, SUB, MAXIMUM, MINIMUM, PACK,
# MIRROR_PAD, RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR, STRIDED_SLICE: e.g. an ADD of a UINT8 and a FLOAT32 into FLOAT32 runs).

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

# Kernels that only move bytes (or, LOGICAL_AND/OR, read them as bool) accept every type TFLM can hold; STRING, VARIANT,
# INT2 and UINT4 tensors fail in the allocator ("Failed to populate a temp TfLiteTensor"). BFLOAT16 runs as a constant,
# but the Python wrapper segfaults reading the details of a BFLOAT16 model input.
_ANY: Final = frozenset({
    "BFLOAT16", "BOOL", "COMPLEX128", "COMPLEX64", "FLOAT16", "FLOAT32", "FLOAT64", "FLOAT8_E4M3FN", "FLOAT8_E5M2", "INT16", "INT32",
    "INT4", "INT64", "INT8", "RESOURCE", "UINT16", "UINT32", "UINT64", "UINT8",
})

# op -> the TensorType names of input 0 its kernel accepts (Prepare or Eval; anything else fails)
INPUT_TYPES: Final[Mapping[str, frozenset[str]]] = MappingProxyType({
    "ABS": frozenset({"FLOAT32", "INT16", "INT8"}),  # elementwise.cc (Eval)
    "ADD_N": frozenset({"FLOAT32", "INT8"}),  # add_n.cc (Prepare)
    "ARG_MAX": frozenset({"FLOAT32", "INT8"}),  # arg_min_max.cc (Eval)
    "ARG_MIN": frozenset({"FLOAT32", "INT8"}),  # arg_min_max.cc (Eval)
    "AVERAGE_POOL_2D": frozenset({"FLOAT32", "INT16", "INT8"}),  # pooling_common.cc (Prepare)
    "BATCH_MATMUL": frozenset({"FLOAT32", "INT16", "INT8"}),  # batch_matmul.cc:190 (Prepare)
    "BATCH_TO_SPACE_ND": frozenset({"FLOAT32", "INT8"}),  # batch_to_space_nd.cc (Eval)
    "BROADCAST_ARGS": frozenset({"INT32", "INT64"}),  # broadcast_args.cc:43 (Prepare; input 0 is a shape)
    "BROADCAST_TO": _ANY,  # broadcast_to.cc: no type check
    "CAST": frozenset({"BOOL", "FLOAT32", "INT16", "INT32", "INT8", "UINT32"}),  # cast.cc (Eval)
    "CEIL": frozenset({"FLOAT32"}),  # ceil.cc:40 (Prepare)
    "CONCATENATION": frozenset({"BOOL", "FLOAT32", "INT16", "INT32", "INT64", "INT8"}),  # concatenation.cc:146 (Prepare)
    "CONV_2D": frozenset({"FLOAT32", "INT16", "INT8"}),  # conv_common.cc (Prepare: "Hybrid models are not supported")
    "COS": frozenset({"FLOAT32"}),  # elementwise.cc:202 (Eval)
    "CUMSUM": frozenset({"FLOAT32", "INT8"}),  # cumsum.cc:58 (Prepare)
    "DEPTHWISE_CONV_2D": frozenset({"FLOAT32", "INT16", "INT8"}),  # depthwise_conv_common.cc (Prepare), depthwise_conv.cc (Eval)
    "DEPTH_TO_SPACE": frozenset({"FLOAT32", "INT8"}),  # depth_to_space.cc:56 (Prepare)
    "DEQUANTIZE": frozenset({"INT16", "INT8", "UINT8"}),  # dequantize_common.cc:42 (Prepare)
    "DIV": frozenset({"FLOAT32", "INT32", "INT8"}),  # div.cc (Eval)
    "DYNAMIC_UPDATE_SLICE": frozenset({"FLOAT32", "INT16", "INT32", "INT8"}),  # dynamic_update_slice.cc (Eval)
    "ELU": frozenset({"FLOAT32", "INT8"}),  # elu.cc (Eval)
    "EMBEDDING_LOOKUP": frozenset({"INT32"}),  # embedding_lookup.cc:80 (Prepare; input 0 is the ids)
    "EQUAL": frozenset({"BOOL", "FLOAT32", "INT32", "INT64", "INT8"}),  # comparisons.cc (Eval)
    "EXP": frozenset({"FLOAT32"}),  # exp.cc:41 (Prepare)
    "EXPAND_DIMS": frozenset({"FLOAT32", "INT16", "INT8"}),  # expand_dims.cc (Eval)
    "FILL": frozenset({"INT16", "INT32", "INT64", "INT8"}),  # fill.cc (Prepare; input 0 is the constant dims)
    "FLOOR": frozenset({"FLOAT32"}),  # floor.cc:32 (Eval)
    "FLOOR_DIV": frozenset({"FLOAT32"}),  # floor_div.cc (Eval)
    "FLOOR_MOD": frozenset({"FLOAT32"}),  # floor_mod.cc (Eval)
    "FULLY_CONNECTED": frozenset({"FLOAT32", "INT16", "INT8"}),  # fully_connected.cc (Prepare: filter pairs, Eval: input type)
    "GATHER": frozenset({"FLOAT32", "INT8"}),  # gather.cc (Prepare)
    "GATHER_ND": frozenset({"FLOAT32", "INT8"}),  # gather_nd.cc (Prepare)
    "GREATER": frozenset({"FLOAT32", "INT16", "INT32", "INT64", "INT8"}),  # comparisons.cc (Eval)
    "GREATER_EQUAL": frozenset({"FLOAT32", "INT32", "INT64", "INT8"}),  # comparisons.cc (Eval)
    "HARD_SWISH": frozenset({"FLOAT32", "INT8"}),  # hard_swish.cc (Eval)
    "L2_NORMALIZATION": frozenset({"FLOAT32", "INT8"}),  # l2norm.cc:56 (Prepare)
    "L2_POOL_2D": frozenset({"FLOAT32"}),  # l2_pool_2d.cc:71 (Prepare)
    "LEAKY_RELU": frozenset({"FLOAT32", "INT16", "INT8"}),  # leaky_relu.cc (Eval)
    "LESS": frozenset({"FLOAT32", "INT32", "INT64", "INT8"}),  # comparisons.cc (Eval)
    "LESS_EQUAL": frozenset({"FLOAT32", "INT32", "INT64", "INT8"}),  # comparisons.cc (Eval)
    "LOG": frozenset({"FLOAT32"}),  # elementwise.cc:202 (Eval)
    "LOGICAL_AND": _ANY,  # logical.cc: no type check
    "LOGICAL_NOT": frozenset({"BOOL"}),  # elementwise.cc:202 (Eval)
    "LOGICAL_OR": _ANY,  # logical.cc: no type check
    "LOGISTIC": frozenset({"FLOAT32", "INT16", "INT8"}),  # logistic.cc (Eval)
    "LOG_SOFTMAX": frozenset({"FLOAT32", "INT8"}),  # log_softmax.cc (Eval)
    "MAX_POOL_2D": frozenset({"FLOAT32", "INT16", "INT8"}),  # pooling_common.cc (Prepare)
    "MEAN": frozenset({"FLOAT32", "INT16", "INT8"}),  # reduce_common.cc (Eval)
    "MUL": frozenset({"FLOAT32", "INT16", "INT32", "INT8"}),  # mul.cc (Eval)
    "NEG": frozenset({"FLOAT32"}),  # neg.cc (Eval)
    "NOT_EQUAL": frozenset({"BOOL", "FLOAT32", "INT32", "INT64", "INT8"}),  # comparisons.cc (Eval)
    "PAD": frozenset({"FLOAT32", "INT16", "INT32", "INT8"}),  # pad.cc (Eval)
    "PADV2": frozenset({"FLOAT32", "INT16", "INT32", "INT8"}),  # pad.cc (Eval)
    "PRELU": frozenset({"FLOAT32", "INT16", "INT8"}),  # prelu.cc (Eval; INT16 wants an INT8 alpha, prelu_common.cc:100)
    "QUANTIZE": frozenset({"FLOAT32", "INT16", "INT32", "INT8", "UINT8"}),  # quantize_common.cc:55 (Prepare)
    "REDUCE_ALL": frozenset({"BOOL"}),  # reduce_common.cc:267 (Prepare)
    "REDUCE_MAX": frozenset({"FLOAT32", "INT8"}),  # reduce_common.cc (Eval)
    "REDUCE_MIN": frozenset({"FLOAT32", "INT8"}),  # reduce_common.cc (Eval)
    "RELU": frozenset({"FLOAT32", "INT16", "INT8"}),  # activations.cc (Eval)
    "RELU6": frozenset({"FLOAT32", "INT16", "INT8"}),  # activations.cc (Eval)
    "RESHAPE": _ANY,  # reshape.cc: no type check
    "REVERSE_V2": frozenset({"BOOL", "FLOAT32", "INT16", "INT32", "INT64", "INT8", "UINT8"}),  # reverse.cc (Prepare)
    "ROUND": frozenset({"FLOAT32"}),  # round.cc:40 (Prepare)
    "RSQRT": frozenset({"FLOAT32", "INT16", "INT8"}),  # elementwise.cc (Eval)
    "SELECT_V2": frozenset({"BOOL"}),  # select.cc:94 (Prepare; input 0 is the condition)
    "SHAPE": _ANY,  # shape.cc: no type check
    "SIN": frozenset({"FLOAT32"}),  # elementwise.cc:202 (Eval)
    "SLICE": frozenset({"BOOL", "FLOAT32", "INT16", "INT32", "INT8"}),  # slice.cc (Eval)
    "SOFTMAX": frozenset({"FLOAT32", "INT16", "INT8"}),  # softmax_common.cc:133 (Prepare)
    "SPACE_TO_BATCH_ND": frozenset({"FLOAT32", "INT8"}),  # space_to_batch_nd.cc (Eval)
    "SPACE_TO_DEPTH": frozenset({"FLOAT32", "INT8"}),  # space_to_depth.cc:53 (Prepare)
    "SPLIT_V": frozenset({"FLOAT32", "INT16", "INT32", "INT8"}),  # split_v.cc (Eval)
    "SQRT": frozenset({"FLOAT32"}),  # elementwise.cc:202 (Eval)
    "SQUARE": frozenset({"FLOAT32"}),  # elementwise.cc:202 (Eval)
    "SQUARED_DIFFERENCE": frozenset({"FLOAT32", "INT16", "INT32", "INT8"}),  # squared_difference.cc (Eval)
    "SQUEEZE": _ANY,  # squeeze.cc: no type check
    "SUM": frozenset({"FLOAT32", "INT16", "INT8"}),  # reduce_common.cc (Eval)
    "SVDF": frozenset({"FLOAT32", "INT8"}),  # svdf_common.cc:399 (Prepare); an INT8 SVDF without bias segfaults
    "TANH": frozenset({"FLOAT32", "INT16", "INT8"}),  # tanh.cc (Eval)
    "TRANSPOSE": frozenset({"FLOAT32", "INT16", "INT8"}),  # transpose.cc (Eval)
    "UNPACK": frozenset({"FLOAT32", "INT16", "INT32", "INT8"}),  # unpack.cc (Eval)
    "UNIDIRECTIONAL_SEQUENCE_LSTM": frozenset({"FLOAT32", "INT16", "INT8"}),  # unidirectional_sequence_lstm.cc (Eval)
    "ZEROS_LIKE": frozenset({"FLOAT32", "INT32", "INT64", "INT8"}),  # zeros_like.cc (Eval)
})

# (input type, output type) pairs QUANTIZE accepts: quantize_common.cc:55 (Prepare) and its Eval switch on both types.
QUANTIZE_PAIRS: Final[frozenset[tuple[str, str]]] = frozenset({
    ("FLOAT32", "INT8"), ("FLOAT32", "INT16"), ("INT32", "INT8"), ("INT32", "INT16"),
    ("INT16", "INT8"), ("INT16", "INT16"), ("INT16", "INT32"),
    ("INT8", "INT8"), ("INT8", "UINT8"), ("INT8", "INT16"), ("INT8", "INT32"), ("UINT8", "INT8"),
})

# (input, filter) pairs; any other pair fails in Prepare ("Hybrid models are not supported on TFLite Micro", or for
# FULLY_CONNECTED "Input type: X with filter type: Y not supported"). TRANSPOSE_CONV's input is its input 2.
_CONV_PAIRS: Final = frozenset({("FLOAT32", "FLOAT32"), ("INT16", "INT8"), ("INT8", "INT8"), ("INT8", "INT4")})
FILTER_PAIRS: Final[Mapping[str, frozenset[tuple[str, str]]]] = MappingProxyType({
    "CONV_2D": _CONV_PAIRS,  # conv_common.cc
    "DEPTHWISE_CONV_2D": _CONV_PAIRS,  # depthwise_conv_common.cc
    "FULLY_CONNECTED": _CONV_PAIRS,  # fully_connected.cc
    # transpose_conv.cc: no INT4 filter, and an INT16 filter runs with INT16 input
    "TRANSPOSE_CONV": frozenset({("FLOAT32", "FLOAT32"), ("INT16", "INT8"), ("INT16", "INT16"), ("INT8", "INT8")}),
})

# op -> the output types its kernel accepts, where the kernel checks the output type on its own (for the ops marked
# "input 0 unchecked" the output type is the only check: their Eval switches on it).
OUTPUT_TYPES: Final[Mapping[str, frozenset[str]]] = MappingProxyType({
    "ADD": frozenset({"FLOAT32", "INT16", "INT32", "INT8"}),  # add.cc (Eval; input 0 unchecked)
    "ARG_MAX": frozenset({"INT32"}),  # arg_min_max.cc (Eval: "Only int32_t are supported currently")
    "ARG_MIN": frozenset({"INT32"}),  # arg_min_max.cc (Eval)
    "CAST": frozenset({"BOOL", "FLOAT32", "INT16", "INT32", "INT8", "UINT32"}),  # cast.cc (Eval: "Output type %s (%d) not supported.")
    "DEQUANTIZE": frozenset({"FLOAT32"}),  # dequantize_common.cc:45 (Prepare)
    "MAXIMUM": frozenset({"FLOAT32", "INT16", "INT32", "INT64", "INT8"}),  # maximum_minimum.cc (Eval; input 0 unchecked)
    "MINIMUM": frozenset({"FLOAT32", "INT16", "INT32", "INT64", "INT8"}),  # maximum_minimum.cc (Eval; input 0 unchecked)
    "MIRROR_PAD": frozenset({"FLOAT32", "INT8"}),  # mirror_pad.cc (Eval, with no message; input 0 unchecked)
    "PACK": frozenset({"FLOAT32", "INT16", "INT32", "INT64", "INT8"}),  # pack.cc (Eval; input 0 unchecked)
    "RESIZE_BILINEAR": frozenset({"FLOAT32", "INT8"}),  # resize_bilinear.cc (Eval; input 0 unchecked)
    "RESIZE_NEAREST_NEIGHBOR": frozenset({"FLOAT32", "INT16", "INT8"}),  # resize_nearest_neighbor.cc (Eval; input 0 unchecked)
    "SHAPE": frozenset({"INT32"}),  # shape.cc (Eval: an INT64 out_type fails)
    "STRIDED_SLICE": frozenset({"BOOL", "FLOAT32", "INT16", "INT32", "INT8"}),  # strided_slice.cc (Eval; input 0 unchecked)
    "SUB": frozenset({"FLOAT32", "INT16", "INT32", "INT8"}),  # sub.cc (Eval; input 0 unchecked)
})
