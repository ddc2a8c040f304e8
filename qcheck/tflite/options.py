"""Decode the builtin options that quantization rules need, by BuiltinOptions table name."""

from __future__ import annotations

from typing import Final

from qcheck.tflite.flatbuf import Table
from qcheck.tflite.schema import ACTIVATION_FUNCTIONS, tensor_type_name

# (key, field slot, kind, default) per options table; slots follow schema.fbs field order.
# kinds: act = ActivationFunctionType, type = TensorType (None when unset), bool, i32, u32, f32.
_FIELDS: Final[dict[str, tuple[tuple[str, int, str, object], ...]]] = {
    "Conv2DOptions": (("padding", 0, "i8", 0), ("stride_w", 1, "i32", 0), ("stride_h", 2, "i32", 0),
                      ("fused_activation_function", 3, "act", "NONE"), ("dilation_w_factor", 4, "i32", 1),
                      ("dilation_h_factor", 5, "i32", 1), ("quantized_bias_type", 6, "type", None)),
    "DepthwiseConv2DOptions": (("padding", 0, "i8", 0), ("stride_w", 1, "i32", 0), ("stride_h", 2, "i32", 0),
                               ("depth_multiplier", 3, "i32", 0), ("fused_activation_function", 4, "act", "NONE"),
                               ("dilation_w_factor", 5, "i32", 1), ("dilation_h_factor", 6, "i32", 1)),
    "Conv3DOptions": (("fused_activation_function", 4, "act", "NONE"),),
    "Pool2DOptions": (("filter_width", 3, "i32", 0), ("filter_height", 4, "i32", 0),
                      ("fused_activation_function", 5, "act", "NONE")),
    "SVDFOptions": (("rank", 0, "i32", 0), ("fused_activation_function", 1, "act", "NONE"),
                    ("asymmetric_quantize_inputs", 2, "bool", False)),
    "RNNOptions": (("fused_activation_function", 0, "act", "NONE"), ("asymmetric_quantize_inputs", 1, "bool", False)),
    "SequenceRNNOptions": (("fused_activation_function", 1, "act", "NONE"), ("asymmetric_quantize_inputs", 2, "bool", False)),
    "BidirectionalSequenceRNNOptions": (("fused_activation_function", 1, "act", "NONE"),
                                        ("asymmetric_quantize_inputs", 3, "bool", False)),
    "FullyConnectedOptions": (("fused_activation_function", 0, "act", "NONE"), ("weights_format", 1, "i8", 0),
                              ("keep_num_dims", 2, "bool", False), ("asymmetric_quantize_inputs", 3, "bool", False),
                              ("quantized_bias_type", 4, "type", None)),
    "SoftmaxOptions": (("beta", 0, "f32", 0.0),),
    "ConcatenationOptions": (("axis", 0, "i32", 0), ("fused_activation_function", 1, "act", "NONE")),
    "AddOptions": (("fused_activation_function", 0, "act", "NONE"), ("pot_scale_int16", 1, "bool", True)),
    "SubOptions": (("fused_activation_function", 0, "act", "NONE"), ("pot_scale_int16", 1, "bool", True)),
    "MulOptions": (("fused_activation_function", 0, "act", "NONE"),),
    "DivOptions": (("fused_activation_function", 0, "act", "NONE"),),
    "L2NormOptions": (("fused_activation_function", 0, "act", "NONE"),),
    "LSTMOptions": (("fused_activation_function", 0, "act", "NONE"), ("kernel_type", 3, "i8", 0),
                    ("asymmetric_quantize_inputs", 4, "bool", False)),
    "UnidirectionalSequenceLSTMOptions": (("fused_activation_function", 0, "act", "NONE"),
                                          ("asymmetric_quantize_inputs", 4, "bool", False)),
    "BidirectionalSequenceLSTMOptions": (("fused_activation_function", 0, "act", "NONE"),
                                         ("asymmetric_quantize_inputs", 5, "bool", False)),
    "TransposeConvOptions": (("padding", 0, "i8", 0), ("stride_w", 1, "i32", 0), ("stride_h", 2, "i32", 0),
                             ("fused_activation_function", 3, "act", "NONE"), ("quantized_bias_type", 4, "type", None)),
    "BatchMatMulOptions": (("adj_x", 0, "bool", False), ("adj_y", 1, "bool", False),
                           ("asymmetric_quantize_inputs", 2, "bool", False)),
    "GatherOptions": (("axis", 0, "i32", 0), ("batch_dims", 1, "i32", 0)),
    "IfOptions": (("then_subgraph_index", 0, "i32", 0), ("else_subgraph_index", 1, "i32", 0)),
    "WhileOptions": (("cond_subgraph_index", 0, "i32", 0), ("body_subgraph_index", 1, "i32", 0)),
    "CallOnceOptions": (("init_subgraph_index", 0, "i32", 0),),
    "CallOptions": (("subgraph", 0, "u32", 0),),
    "LeakyReluOptions": (("alpha", 0, "f32", 0.0),),
}


def decode_options(options_type: str | None, table: Table) -> dict[str, object]:
    """The known fields of one builtin options table, defaults filled in; {} for other tables."""
    out: dict[str, object] = {}
    for key, slot, kind, default in _FIELDS.get(options_type or "", ()):
        if kind == "act":
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
