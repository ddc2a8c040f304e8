"""Coral Edge TPU compiler (`edgetpu_compiler`) facts as data: its model requirements and supported-op table.

The compiler is closed source; every row comes from documentation (../shared/reference/targets.md §4.1-4.2):
- `MI`   = coral.ai "TensorFlow models on the Edge TPU" (models-intro), model requirements, quoted in google-coral/edgetpu#594.
- `AXIS` = the Axis ARTPEC-7 mirror of the Coral op table (developer.axis.com/computer-vision/on-device/system-on-chip/
  artpec-7/supported-ops/, the same compiler) and the older coral.withgoogle.com excerpt.
- `#N`   = a google-coral/edgetpu issue thread (#313/#391 "Model not quantized", #338 no int16, #284 int32 bias,
  #659 DEQUANTIZE and FLOOR_MOD refused, #193 Transpose missing from older tables).
Rows the notes call UNCONFIRMED (from memory; the stored coral.ai table was unreadable past its intro) are kept apart
in UNCONFIRMED_OPS, and every verdict resting on one says "(unconfirmed)".
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

COMPILED_OP: Final = "edgetpu-custom-op"  # the custom op edgetpu_compiler puts in place of the mapped segment

# MI requirement 1: "Tensor parameters are quantized (8-bit fixed-point numbers; int8 or uint8)"; float gives "Model not
# quantized" (#313, #391), int16 is refused (#338). Applies to every tensor computed at run time.
EIGHT_BIT: Final = frozenset({"INT8", "UINT8"})
# MI requirement 2: constant tensors may also be int32 (biases, #284) or integer parameters (shapes, axes, paddings).
CONSTANT_EXTRA: Final = frozenset({"INT32", "INT64"})
INTEGER_PARAMS: Final = frozenset({"INT32", "INT64"})  # a run-time one is a parameter that is not constant (MI 2)
# MI requirement 3: "Tensors are either 1-, 2-, or 3-dimensional. If a tensor has more than 3 dimensions, then only the 3
# innermost dimensions may have a size greater than 1" ("Tensor has unsupported rank (up to 3 innermost dimensions
# mapped)"). Applied to tensors computed at run time: conv filters are 4-D [O, H, W, I] and do map.
INNER_DIMS: Final = 3

# AXIS table rows (confirmed), by TFLite builtin name. LSTM: the table's "LSTM | unidirectional only".
CONFIRMED_OPS: Final = frozenset({
    "ADD", "LOGISTIC", "L2_NORMALIZATION", "MAXIMUM", "MINIMUM", "MUL", "QUANTIZE", "RELU", "RELU6", "RELU_N1_TO_1",
    "EXPAND_DIMS", "AVERAGE_POOL_2D", "MAX_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED",
    "LSTM", "UNIDIRECTIONAL_SEQUENCE_LSTM", "MEAN", "PACK", "PAD", "PRELU", "REDUCE_MAX", "REDUCE_MIN", "RESHAPE",
    "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR",
})
# targets.md §4.2 UNCONFIRMED rows: Rsqrt, Slice, SpaceToDepth, Split (not batch), Squeeze, StridedSlice (strides 1,
# zero masks), Sub, Sum (not batch), Tanh, Transpose, TransposeConv, Softmax (1-D, <= 16,000 elements).
UNCONFIRMED_OPS: Final = frozenset({
    "RSQRT", "SLICE", "SPACE_TO_DEPTH", "SPLIT", "SQUEEZE", "STRIDED_SLICE", "SUB", "SUM", "TANH", "TRANSPOSE",
    "TRANSPOSE_CONV", "SOFTMAX",
})
OP_SET: Final = CONFIRMED_OPS | UNCONFIRMED_OPS
# Named as refused in the sources, with the source to quote (everything else outside OP_SET: "not in the op table").
REFUSED: Final[Mapping[str, str]] = MappingProxyType({
    "DEQUANTIZE": "google-coral/edgetpu#659", "FLOOR_MOD": "google-coral/edgetpu#659",
    "BIDIRECTIONAL_SEQUENCE_LSTM": "AXIS table: LSTM unidirectional only",
})

# AXIS: AveragePool2d, MaxPool2d and Concatenation take no fused activation.
NO_ACTIVATION: Final = frozenset({"AVERAGE_POOL_2D", "MAX_POOL_2D", "CONCATENATION"})
# AXIS: Conv2d and DepthwiseConv2d need the same dilation in x and y.
SAME_DILATION: Final = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D"})
# Ops that must not work along the batch axis (axis 0 of a tensor of rank >= 2), and where the axis is read from:
# "option:<name>" an option, "input:<k>" a constant input. Source per op; the bool says the row is UNCONFIRMED.
NOT_BATCH: Final[Mapping[str, tuple[str, str, bool]]] = MappingProxyType({
    "MEAN": ("input:1", "AXIS table: Mean, no reduction over batch", False),
    "REDUCE_MAX": ("input:1", "AXIS table: ReduceMax, not over batch", False),
    "REDUCE_MIN": ("input:1", "AXIS table: ReduceMin, not over batch", False),
    "PACK": ("option:axis", "AXIS table: Pack, not along batch", False),
    "SUM": ("input:1", "Coral table: Sum, not over batch", True),
    "SPLIT": ("input:0", "Coral table: Split, not along batch", True),
})
MEAN_Z_MULTIPLE: Final = 4  # AXIS: Mean, "a z-reduction needs z a multiple of 4"
SOFTMAX_MAX_ELEMENTS: Final = 16_000  # Coral table (UNCONFIRMED): Softmax 1-D, at most 16,000 elements
