"""Names, field slots and sizes from the LiteRT FlatBuffer schema (schema.fbs): no quantization rules."""

from __future__ import annotations

from functools import cache
from typing import Final

from qcheck.tflite.schema_generated import ENUMS, TABLES

# The enums and table layouts come from the generated table (tools/generate_schema.py reads
# ai-edge-litert's flatc output of LiteRT's tflite/converter/schema/schema.fbs).
TENSOR_TYPES: Final[tuple[str, ...]] = ENUMS["TensorType"]
BUILTIN_OPERATORS: Final[tuple[str, ...]] = ENUMS["BuiltinOperator"]
# The BuiltinOptions and BuiltinOptions2 unions, in order; union type id = position + 1 (0 is NONE).
BUILTIN_OPTIONS: Final[tuple[str, ...]] = ENUMS["BuiltinOptions"][1:]
BUILTIN_OPTIONS_2: Final[tuple[str, ...]] = ENUMS["BuiltinOptions2"][1:]
ACTIVATION_FUNCTIONS: Final[tuple[str, ...]] = ENUMS["ActivationFunctionType"]
# QuantizationDetails union: type id -> table name.
QUANTIZATION_DETAILS: Final[tuple[str, ...]] = ENUMS["QuantizationDetails"]

# Bits per element of each fixed-size type (packed INT4/UINT4/INT2 included); STRING, RESOURCE
# and VARIANT have no fixed size. Source: LiteRT tflite/core/tools/verifier.cc.
ELEMENT_BITS: Final[dict[str, int]] = {
    "FLOAT32": 32, "FLOAT16": 16, "INT32": 32, "UINT8": 8, "INT64": 64, "BOOL": 8, "INT16": 16,
    "COMPLEX64": 64, "INT8": 8, "FLOAT64": 64, "COMPLEX128": 128, "UINT64": 64, "UINT32": 32,
    "UINT16": 16, "INT4": 4, "BFLOAT16": 16, "INT2": 2, "UINT4": 4, "FLOAT8_E4M3FN": 8,
    "FLOAT8_E5M2": 8,
}

# numpy dtypes for the types numpy can hold directly (packed and exotic types stay raw bytes).
NUMPY_DTYPES: Final[dict[str, str]] = {
    "FLOAT32": "<f4", "FLOAT16": "<f2", "INT32": "<i4", "UINT8": "u1", "INT64": "<i8",
    "BOOL": "?", "INT16": "<i2", "COMPLEX64": "<c8", "INT8": "i1", "FLOAT64": "<f8",
    "COMPLEX128": "<c16", "UINT64": "<u8", "UINT32": "<u4", "UINT16": "<u2",
}

# ModelOptimizationMode of conversion_metadata.fbs (LiteRT tflite/converter/schema/conversion_metadata.fbs).
OPTIMIZATION_MODES: Final[dict[int, str]] = {
    1001: "PTQ_FLOAT16", 1002: "PTQ_DYNAMIC_RANGE", 1003: "PTQ_FULL_INTEGER", 1004: "PTQ_INT16",
    2000: "QUANTIZATION_AWARE_TRAINING", 3001: "RANDOM_SPARSITY", 3002: "BLOCK_SPARSITY",
    3003: "STRUCTURED_SPARSITY",
}

CUSTOM: Final = BUILTIN_OPERATORS.index("CUSTOM")
PLACEHOLDER_FOR_GREATER_OP_CODES: Final = BUILTIN_OPERATORS.index("PLACEHOLDER_FOR_GREATER_OP_CODES")
SCHEMA_VERSION: Final = 3
FILE_IDENTIFIER: Final = b"TFL3"


def tensor_type_name(code: int) -> str:
    """The TensorType name, or UNKNOWN(n) for a value newer than this table."""
    return TENSOR_TYPES[code] if 0 <= code < len(TENSOR_TYPES) else f"UNKNOWN({code})"


def operator_name(code: int) -> str:
    """The BuiltinOperator name, or UNKNOWN(n) for an opcode newer than this table."""
    return BUILTIN_OPERATORS[code] if 0 <= code < len(BUILTIN_OPERATORS) else f"UNKNOWN({code})"


# Bytes a field of each kind takes inside its table (offset: a uoffset to a table, vector or string).
_KIND_BYTES: Final = {"bool": 1, "i8": 1, "u8": 1, "i16": 2, "u16": 2, "i32": 4, "u32": 4, "i64": 8, "u64": 8, "f32": 4, "f64": 8, "offset": 4}


@cache
def field_slots(table: str) -> dict[str, int]:
    """Field name -> vtable slot of a schema table, e.g. field_slots("Tensor")["quantization"] == 4."""
    return {name: slot for name, slot, _, _ in TABLES[table]}


@cache
def field_widths(table: str, last: str | None = None) -> tuple[int, ...]:
    """Byte width of each slot of `table` from 0 up to field `last` (default: all), for the vectorised reads."""
    fields = TABLES[table]
    end = field_slots(table)[last] + 1 if last is not None else max((slot for _, slot, _, _ in fields), default=-1) + 1
    widths = [1] * end
    for _, slot, kind, _ in fields:
        if slot < end:
            widths[slot] = _KIND_BYTES[kind]
    return tuple(widths)
