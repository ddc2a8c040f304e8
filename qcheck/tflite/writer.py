"""Serialise a ModelBuilder's contents as a .tflite FlatBuffer, with field slots from the schema table."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import flatbuffers
import numpy as np

from qcheck.tflite.options import _FIELDS as OPTION_FIELDS
from qcheck.tflite.schema import ACTIVATION_FUNCTIONS, BUILTIN_OPTIONS, FILE_IDENTIFIER, QUANTIZATION_DETAILS, TENSOR_TYPES, field_slots

if TYPE_CHECKING:
    from qcheck.tflite.builder import ModelBuilder, SubgraphEntry, TensorEntry

PLACEHOLDER_BASE = 0x7E5A_0000_0000_0000  # marks external-buffer offsets until they are patched

# Field slots of the tables written here (from the schema table).
_MODEL, _CODE, _BUFFER, _METADATA = field_slots("Model"), field_slots("OperatorCode"), field_slots("Buffer"), field_slots("Metadata")
_TENSOR, _QUANT, _SUBGRAPH, _OP = field_slots("Tensor"), field_slots("QuantizationParameters"), field_slots("SubGraph"), field_slots("Operator")
_SPARSE, _DIM = field_slots("SparsityParameters"), field_slots("DimensionMetadata")
_SIGNATURE, _TENSOR_MAP = field_slots("SignatureDef"), field_slots("TensorMap")


def _count(slots: Mapping[str, int]) -> int:
    """The number of slots a table's vtable has room for (deprecated fields leave gaps)."""
    return max(slots.values()) + 1


def flatbuffer(model: ModelBuilder, external: bool) -> bytes:
    """The FlatBuffer of `model`; with `external`, buffer data is left out and located by placeholder offsets."""
    b = flatbuffers.Builder(1024)
    buffers = [_buffer(b, i, d, external) for i, d in enumerate(model.buffers)]
    opcodes = [_opcode(b, *e) for e in model.opcodes]
    subgraphs = [_subgraph(b, sg) for sg in model.subgraphs]
    metadata = []
    for name, index in model.metadata_entries:
        n = b.CreateString(name)
        b.StartObject(_count(_METADATA))
        b.PrependUOffsetTRelativeSlot(_METADATA["name"], n, 0)
        b.PrependUint32Slot(_METADATA["buffer"], index, 0)
        metadata.append(b.EndObject())
    signatures = [_signature(b, *s) for s in model.signatures]
    desc = b.CreateString(model.description) if model.description is not None else None
    vecs = [_table_vector(b, v) for v in (opcodes, subgraphs, buffers, metadata, signatures)]
    b.StartObject(_count(_MODEL))
    b.PrependUint32Slot(_MODEL["version"], model.version, 0)
    b.PrependUOffsetTRelativeSlot(_MODEL["operator_codes"], vecs[0], 0)
    b.PrependUOffsetTRelativeSlot(_MODEL["subgraphs"], vecs[1], 0)
    if desc is not None:
        b.PrependUOffsetTRelativeSlot(_MODEL["description"], desc, 0)
    b.PrependUOffsetTRelativeSlot(_MODEL["buffers"], vecs[2], 0)
    if metadata:
        b.PrependUOffsetTRelativeSlot(_MODEL["metadata"], vecs[3], 0)
    if signatures:
        b.PrependUOffsetTRelativeSlot(_MODEL["signature_defs"], vecs[4], 0)
    b.Finish(b.EndObject(), file_identifier=FILE_IDENTIFIER)
    return bytes(b.Output())


def nbytes(data: bytes | np.ndarray) -> int:
    return data.nbytes if isinstance(data, np.ndarray) else len(data)


def _buffer(b: flatbuffers.Builder, index: int, data: bytes | np.ndarray | None, external: bool) -> int:
    vec = None
    if data is not None and not external:
        raw = data.tobytes() if isinstance(data, np.ndarray) else bytes(data)
        b.StartVector(1, len(raw), 16)  # force_align: 16, as the schema asks
        b.head = b.head - len(raw)
        b.Bytes[b.head : b.head + len(raw)] = raw
        vec = b.EndVector()
    b.StartObject(_count(_BUFFER))
    if vec is not None:
        b.PrependUOffsetTRelativeSlot(_BUFFER["data"], vec, 0)
    if external and index and data is not None and nbytes(data):
        b.PrependUint64Slot(_BUFFER["offset"], PLACEHOLDER_BASE + index, 0)
        b.PrependUint64Slot(_BUFFER["size"], nbytes(data), 0)
    return b.EndObject()


def _opcode(b: flatbuffers.Builder, deprecated: int, builtin: int, custom: str | None, version: int) -> int:
    c = b.CreateString(custom) if custom is not None else None
    b.StartObject(_count(_CODE))
    b.PrependInt8Slot(_CODE["deprecated_builtin_code"], deprecated, 0)
    if c is not None:
        b.PrependUOffsetTRelativeSlot(_CODE["custom_code"], c, 0)
    b.PrependInt32Slot(_CODE["version"], version, 1)
    b.PrependInt32Slot(_CODE["builtin_code"], builtin, 0)
    return b.EndObject()


def _details(b: flatbuffers.Builder, kind: int, values: Sequence[Any]) -> int:
    """A BlockwiseQuantization or MultiAxisQuantization table: three int fields, then (multi-axis) the axes.

    A type the schema does not know (for tests of that case) is written with the blockwise layout.
    """
    name = QUANTIZATION_DETAILS[kind] if 0 < kind < len(QUANTIZATION_DETAILS) else "BlockwiseQuantization"
    table = field_slots(name)
    dims = _int_vector(b, values[3]) if name == "MultiAxisQuantization" else None
    b.StartObject(_count(table))
    for name, v in zip(("scales", "zero_points", "block_size"), values[:3], strict=False):
        b.PrependInt32Slot(table[name], int(v), 0)
    if dims is not None:
        b.PrependUOffsetTRelativeSlot(table["quantized_dimensions"], dims, 0)
    return b.EndObject()


def _quantization(b: flatbuffers.Builder, t: TensorEntry) -> int:
    details = _details(b, *t.details) if t.details is not None else None
    scale = _numeric_vector(b, np.asarray(t.scale, "<f4")) if t.scale is not None else None
    zp = _numeric_vector(b, np.asarray(t.zero_point, "<i8")) if t.zero_point is not None else None
    b.StartObject(_count(_QUANT))
    if scale is not None:
        b.PrependUOffsetTRelativeSlot(_QUANT["scale"], scale, 0)
    if zp is not None:
        b.PrependUOffsetTRelativeSlot(_QUANT["zero_point"], zp, 0)
    if details is not None:
        b.PrependUint8Slot(_QUANT["details_type"], t.details[0], 0)  # type: ignore[index]
        b.PrependUOffsetTRelativeSlot(_QUANT["details"], details, 0)
    b.PrependInt32Slot(_QUANT["quantized_dimension"], t.quantized_dimension, 0)
    return b.EndObject()


def _tensor(b: flatbuffers.Builder, t: TensorEntry) -> int:
    name = b.CreateString(t.name)
    shape = _int_vector(b, t.shape)
    sig = _int_vector(b, t.shape_signature) if t.shape_signature is not None else None
    has_quant = t.scale is not None or t.zero_point is not None or t.details is not None
    quant = _quantization(b, t) if has_quant else None
    sparsity = _sparsity(b, t.sparsity) if t.sparsity is not None else None
    b.StartObject(_count(_TENSOR))
    b.PrependUOffsetTRelativeSlot(_TENSOR["shape"], shape, 0)
    b.PrependInt8Slot(_TENSOR["type"], TENSOR_TYPES.index(t.dtype), 0)
    b.PrependUint32Slot(_TENSOR["buffer"], t.buffer, 0)
    b.PrependUOffsetTRelativeSlot(_TENSOR["name"], name, 0)
    if quant is not None:
        b.PrependUOffsetTRelativeSlot(_TENSOR["quantization"], quant, 0)
    b.PrependBoolSlot(_TENSOR["is_variable"], t.is_variable, False)
    if sparsity is not None:
        b.PrependUOffsetTRelativeSlot(_TENSOR["sparsity"], sparsity, 0)
    if sig is not None:
        b.PrependUOffsetTRelativeSlot(_TENSOR["shape_signature"], sig, 0)
    return b.EndObject()


def _sparsity(b: flatbuffers.Builder, sp: tuple[Sequence[int], Sequence[int], Sequence[int]]) -> int:
    order, block_map, formats = sp
    dims = []
    for fmt in formats:
        b.StartObject(_count(_DIM))
        b.PrependInt8Slot(_DIM["format"], fmt, 0)
        dims.append(b.EndObject())
    o, m, d = _int_vector(b, order), _int_vector(b, block_map), _table_vector(b, dims)
    b.StartObject(_count(_SPARSE))
    b.PrependUOffsetTRelativeSlot(_SPARSE["traversal_order"], o, 0)
    b.PrependUOffsetTRelativeSlot(_SPARSE["block_map"], m, 0)
    b.PrependUOffsetTRelativeSlot(_SPARSE["dim_metadata"], d, 0)
    return b.EndObject()


# How each decoded option kind is written: always (the default given is one the value never has), so
# that tests see exactly the fields they set.
_PREPEND: dict[str, Callable[[flatbuffers.Builder, int, Any], None]] = {
    "act": lambda b, slot, v: b.PrependInt8Slot(slot, ACTIVATION_FUNCTIONS.index(v), -1),
    "type": lambda b, slot, v: b.PrependInt8Slot(slot, TENSOR_TYPES.index(v) if v else 0, -1),
    "bool": lambda b, slot, v: b.PrependBoolSlot(slot, bool(v), not v),
    "i8": lambda b, slot, v: b.PrependInt8Slot(slot, int(v), -1),
    "u32": lambda b, slot, v: b.PrependUint32Slot(slot, int(v), 2**32 - 1),
    "f32": lambda b, slot, v: b.PrependFloat32Slot(slot, float(v), float("nan")),
    "i32": lambda b, slot, v: b.PrependInt32Slot(slot, int(v), -(2**31)),
}


def _options(b: flatbuffers.Builder, kind: str, values: Mapping[str, Any]) -> int:
    fields = {key: (slot, k) for key, slot, k, _ in OPTION_FIELDS[kind]}
    unknown = set(values) - set(fields)
    if unknown:
        raise ValueError(f"{kind} has no field(s) {sorted(unknown)} known to qcheck")
    b.StartObject(max(slot for slot, _ in fields.values()) + 1)
    for key, value in values.items():
        slot, k = fields[key]
        _PREPEND[k](b, slot, value)
    return b.EndObject()


def _subgraph(b: flatbuffers.Builder, sg: SubgraphEntry) -> int:
    tensors = _table_vector(b, [_tensor(b, t) for t in sg.tensors])
    ops = []
    for op in sg.operators:
        opts = _options(b, op.options_type, op.options) if op.options_type and op.options else None
        ins, outs = _int_vector(b, op.inputs), _int_vector(b, op.outputs)
        inter = _int_vector(b, op.intermediates) if op.intermediates else None
        b.StartObject(_count(_OP))
        b.PrependUint32Slot(_OP["opcode_index"], op.opcode_index, 0)
        b.PrependUOffsetTRelativeSlot(_OP["inputs"], ins, 0)
        b.PrependUOffsetTRelativeSlot(_OP["outputs"], outs, 0)
        if opts is not None:
            b.PrependUint8Slot(_OP["builtin_options_type"], BUILTIN_OPTIONS.index(op.options_type) + 1, 0)  # type: ignore[arg-type]
            b.PrependUOffsetTRelativeSlot(_OP["builtin_options"], opts, 0)
        if inter is not None:
            b.PrependUOffsetTRelativeSlot(_OP["intermediates"], inter, 0)
        ops.append(b.EndObject())
    ops_vec = _table_vector(b, ops)
    ins, outs = _int_vector(b, sg.inputs), _int_vector(b, sg.outputs)
    name = b.CreateString(sg.name)
    b.StartObject(_count(_SUBGRAPH))
    b.PrependUOffsetTRelativeSlot(_SUBGRAPH["tensors"], tensors, 0)
    b.PrependUOffsetTRelativeSlot(_SUBGRAPH["inputs"], ins, 0)
    b.PrependUOffsetTRelativeSlot(_SUBGRAPH["outputs"], outs, 0)
    b.PrependUOffsetTRelativeSlot(_SUBGRAPH["operators"], ops_vec, 0)
    b.PrependUOffsetTRelativeSlot(_SUBGRAPH["name"], name, 0)
    return b.EndObject()


def _signature(b: flatbuffers.Builder, key: str, inputs: Mapping[str, int], outputs: Mapping[str, int], subgraph: int) -> int:
    def maps(m: Mapping[str, int]) -> int:
        entries = []
        for name, index in m.items():
            n = b.CreateString(name)
            b.StartObject(_count(_TENSOR_MAP))
            b.PrependUOffsetTRelativeSlot(_TENSOR_MAP["name"], n, 0)
            b.PrependUint32Slot(_TENSOR_MAP["tensor_index"], index, 0)
            entries.append(b.EndObject())
        return _table_vector(b, entries)

    i, o, k = maps(inputs), maps(outputs), b.CreateString(key)
    b.StartObject(_count(_SIGNATURE))
    b.PrependUOffsetTRelativeSlot(_SIGNATURE["inputs"], i, 0)
    b.PrependUOffsetTRelativeSlot(_SIGNATURE["outputs"], o, 0)
    b.PrependUOffsetTRelativeSlot(_SIGNATURE["signature_key"], k, 0)
    b.PrependUint32Slot(_SIGNATURE["subgraph_index"], subgraph, 0)
    return b.EndObject()


def _int_vector(b: flatbuffers.Builder, values: Sequence[int]) -> int:
    return _numeric_vector(b, np.asarray(list(values), dtype="<i4"))


def _numeric_vector(b: flatbuffers.Builder, arr: np.ndarray) -> int:
    return b.CreateNumpyVector(np.ascontiguousarray(arr))


def _table_vector(b: flatbuffers.Builder, offsets: Sequence[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return b.EndVector()
