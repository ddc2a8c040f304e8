"""Decode the builtin options that rules need, by BuiltinOptions (or BuiltinOptions2) table name."""

from __future__ import annotations

from typing import Final

from qcheck.tflite.flatbuf import Table
from qcheck.tflite.schema import ACTIVATION_FUNCTIONS, BUILTIN_OPTIONS_2, tensor_type_name
from qcheck.tflite.schema_generated import TABLES

# The fields qcheck decodes, per options table (the rest stay unread): what rules, the container
# checks and `inspect` use. Slots, scalar types and defaults come from the schema table.
_DECODED: Final[dict[str, tuple[str, ...]]] = {
    "Conv2DOptions": ('padding', 'stride_w', 'stride_h', 'fused_activation_function', 'dilation_w_factor', 'dilation_h_factor', 'quantized_bias_type'),
    "DepthwiseConv2DOptions": ('padding', 'stride_w', 'stride_h', 'depth_multiplier', 'fused_activation_function', 'dilation_w_factor', 'dilation_h_factor'),
    "Conv3DOptions": ('fused_activation_function',),
    "Pool2DOptions": ('padding', 'stride_w', 'stride_h', 'filter_width', 'filter_height', 'fused_activation_function'),
    "SVDFOptions": ('rank', 'fused_activation_function', 'asymmetric_quantize_inputs'),
    "RNNOptions": ('fused_activation_function', 'asymmetric_quantize_inputs'),
    "SequenceRNNOptions": ('fused_activation_function', 'asymmetric_quantize_inputs'),
    "BidirectionalSequenceRNNOptions": ('fused_activation_function', 'asymmetric_quantize_inputs'),
    "FullyConnectedOptions": ('fused_activation_function', 'weights_format', 'keep_num_dims', 'asymmetric_quantize_inputs', 'quantized_bias_type'),
    "SoftmaxOptions": ('beta',),
    "ConcatenationOptions": ('axis', 'fused_activation_function'),
    "AddOptions": ('fused_activation_function', 'pot_scale_int16'),
    "SubOptions": ('fused_activation_function', 'pot_scale_int16'),
    "MulOptions": ('fused_activation_function',),
    "DivOptions": ('fused_activation_function',),
    "L2NormOptions": ('fused_activation_function',),
    "LSTMOptions": ('fused_activation_function', 'kernel_type', 'asymmetric_quantize_inputs'),
    "UnidirectionalSequenceLSTMOptions": ('fused_activation_function', 'asymmetric_quantize_inputs'),
    "BidirectionalSequenceLSTMOptions": ('fused_activation_function', 'asymmetric_quantize_inputs'),
    "TransposeConvOptions": ('padding', 'stride_w', 'stride_h', 'fused_activation_function', 'quantized_bias_type'),
    "BatchMatMulOptions": ('adj_x', 'adj_y', 'asymmetric_quantize_inputs'),
    "GatherOptions": ('axis', 'batch_dims'),
    "IfOptions": ('then_subgraph_index', 'else_subgraph_index'),
    "WhileOptions": ('cond_subgraph_index', 'body_subgraph_index'),
    "CallOnceOptions": ('init_subgraph_index',),
    "CallOptions": ('subgraph',),
    "LeakyReluOptions": ('alpha',),
    # what the target profiles check (e.g. XNNPACK takes no STRIDED_SLICE masks, TFLite Micro's RESIZE options)
    "StridedSliceOptions": ('begin_mask', 'end_mask', 'ellipsis_mask', 'new_axis_mask', 'shrink_axis_mask', 'offset'),
    "ReducerOptions": ('keep_dims',),
    "ResizeBilinearOptions": ('align_corners', 'half_pixel_centers'),
    "ResizeNearestNeighborOptions": ('align_corners', 'half_pixel_centers'),
    "SplitOptions": ('num_splits',),
    "DepthToSpaceOptions": ('block_size',),
    "SpaceToDepthOptions": ('block_size',),
    "SqueezeOptions": ('squeeze_dims',),
    "MirrorPadOptions": ('mode',),
    "PackOptions": ('values_count', 'axis'),  # (the Edge TPU compiler maps no PACK along the batch axis)  # (REFLECT 0, SYMMETRIC 1: the GPU delegate takes REFLECT only)  # (a vector: LiteRT and TFLite Micro refuse a dimension that is not 1)
}
# Byte fields that hold an enum: their values are decoded to names (ActivationFunctionType; TensorType,
# where unset, 0, means "not specified").
_ENUM_FIELDS: Final = {"fused_activation_function": "act", "quantized_bias_type": "type"}


def _layout(table: str, names: tuple[str, ...]) -> tuple[tuple[str, int, str, object], ...]:
    """(key, slot, kind, default) of the named fields; kinds: act, type, bool, i8, i32, u32, f32."""
    spec = {name: (slot, kind, default) for name, slot, kind, default in TABLES[table]}
    out = []
    for name in names:
        slot, kind, default = spec[name]
        kind = _ENUM_FIELDS.get(name, kind)
        out.append((name, slot, kind, "NONE" if kind == "act" else None if kind == "type" else default))
    return tuple(out)


# The BuiltinOptions2 tables (StableHLO ops) are decoded for their subgraph references, which the
# container checks follow, and the composite's version.
def _decoded_2(table: str, name: str, kind: str) -> bool:
    composite = table == "StableHLOCompositeOptions" and name in ("name", "version")  # (the name says what it computes)
    return composite or (kind != "offset" and name.endswith("subgraph_index"))


_DECODED_2: Final = {table: tuple(n for n, _, kind, _ in TABLES[table] if _decoded_2(table, n, kind)) for table in BUILTIN_OPTIONS_2}
_FIELDS: Final[dict[str, tuple[tuple[str, int, str, object], ...]]] = {
    t: _layout(t, names) for t, names in (*_DECODED.items(), *_DECODED_2.items()) if names
}


def decode_options(options_type: str | None, table: Table) -> dict[str, object]:
    """The known fields of one builtin options table, defaults filled in; {} for other tables."""
    out: dict[str, object] = {}
    for key, slot, kind, default in _FIELDS.get(options_type or "", ()):
        if kind == "offset" and key == "squeeze_dims":  # the one int vector decoded
            out[key] = tuple(int(v) for v in table.vector(slot, "i"))
        elif kind == "offset":  # a string field (StableHLOCompositeOptions.name)
            out[key] = table.string(slot) or ""
        elif kind == "act":
            code = table.i8(slot)
            out[key] = ACTIVATION_FUNCTIONS[code] if 0 <= code < len(ACTIVATION_FUNCTIONS) else f"UNKNOWN({code})"
        elif kind == "type":
            # Unset (0 = FLOAT32, the schema default) means "not specified": the runtime then picks.
            code = table.i8(slot)
            out[key] = tensor_type_name(code) if code else None
        elif kind == "bool":
            out[key] = table.bool(slot, bool(default))
        elif kind == "i8":
            out[key] = table.i8(slot, int(default))  # type: ignore[call-overload]
        elif kind == "u32":
            out[key] = table.u32(slot, int(default))  # type: ignore[call-overload]
        elif kind == "f32":
            out[key] = table.f32(slot, float(default))  # type: ignore[arg-type]
        else:
            out[key] = table.i32(slot, int(default))  # type: ignore[call-overload]
    return out
