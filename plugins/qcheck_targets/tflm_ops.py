"""TFLite Micro's Python op resolver: the builtin and custom ops it registers (tflite-micro 0.dev20261023182759)."""
# Source: tensorflow/tflite-micro python/tflite_micro/python_ops_resolver.cc (commit 85e19ddd45817acff19122c4957b6a27b82c4d78)
# and micro_mutable_op_resolver.h for each Add* -> op (AddDetectionPostprocess -> custom "TFLite_Detection_PostProcess",
# AddCircularBuffer -> custom "CIRCULAR_BUFFER", the signal Add* (AddDelay, AddRfft, AddPCAN...) -> custom "Signal<Name>").
# Checked against the wheel, built from commit 8f6596d (a one-op model per builtin code 0..209 and per custom name, loaded by
# runtime.Interpreter): the wheel is newer than that snapshot and also registers DYNAMIC_UPDATE_SLICE, REDUCE_ALL, REDUCE_MIN,
# REVERSE_V2 and the custom ops "BasicClassifier" and "TFLM_DECODE"; AddEthosU registers nothing in this build (its
# Register_ETHOSU() is the null stub), so "ethos-u" is absent. The sets below are the wheel's: 100 builtins, 18 custom ops.
from typing import Final

BUILTIN_OPS: Final[frozenset[str]] = frozenset({
    "ABS", "ADD", "ADD_N", "ARG_MAX", "ARG_MIN", "ASSIGN_VARIABLE", "AVERAGE_POOL_2D", "BATCH_MATMUL", "BATCH_TO_SPACE_ND",
    "BROADCAST_ARGS", "BROADCAST_TO", "CALL_ONCE", "CAST", "CEIL", "CONCATENATION", "CONV_2D", "COS", "CUMSUM", "DEPTH_TO_SPACE",
    "DEPTHWISE_CONV_2D", "DEQUANTIZE", "DIV", "DYNAMIC_UPDATE_SLICE", "ELU", "EMBEDDING_LOOKUP", "EQUAL", "EXP", "EXPAND_DIMS", "FILL",
    "FLOOR", "FLOOR_DIV", "FLOOR_MOD", "FULLY_CONNECTED", "GATHER", "GATHER_ND", "GREATER", "GREATER_EQUAL", "HARD_SWISH", "IF",
    "L2_NORMALIZATION", "L2_POOL_2D", "LEAKY_RELU", "LESS", "LESS_EQUAL", "LOG", "LOG_SOFTMAX", "LOGICAL_AND", "LOGICAL_NOT",
    "LOGICAL_OR", "LOGISTIC", "MAX_POOL_2D", "MAXIMUM", "MEAN", "MINIMUM", "MIRROR_PAD", "MUL", "NEG", "NOT_EQUAL", "PACK", "PAD",
    "PADV2", "PRELU", "QUANTIZE", "READ_VARIABLE", "REDUCE_ALL", "REDUCE_MAX", "REDUCE_MIN", "RELU", "RELU6", "RESHAPE",
    "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "REVERSE_V2", "ROUND", "RSQRT", "SELECT_V2", "SHAPE", "SIN", "SLICE", "SOFTMAX",
    "SPACE_TO_BATCH_ND", "SPACE_TO_DEPTH", "SPLIT", "SPLIT_V", "SQRT", "SQUARE", "SQUARED_DIFFERENCE", "SQUEEZE", "STRIDED_SLICE",
    "SUB", "SUM", "SVDF", "TANH", "TRANSPOSE", "TRANSPOSE_CONV", "UNIDIRECTIONAL_SEQUENCE_LSTM", "UNPACK", "VAR_HANDLE", "WHILE",
    "ZEROS_LIKE",
})

CUSTOM_OPS: Final[frozenset[str]] = frozenset({
    "BasicClassifier", "CIRCULAR_BUFFER", "TFLite_Detection_PostProcess", "TFLM_DECODE",
    "SignalDelay", "SignalEnergy", "SignalFftAutoScale", "SignalFilterBank", "SignalFilterBankLog",
    "SignalFilterBankSpectralSubtraction", "SignalFilterBankSquareRoot", "SignalFramer", "SignalIrfft", "SignalOverlapAdd",
    "SignalPCAN", "SignalRfft", "SignalStacker", "SignalWindow",
})
