"""Fast decoding of a subgraph's tensor vector: the hot loop of the reader, with the same checks.

Models can hold 50,000 tensors, so this path avoids per-field method calls and builds the numpy
scale/zero-point views by slicing one whole-file view instead of calling np.frombuffer each time.
Rare parts (min/max, quantization details, sparsity) go through the generic `flatbuf.Table`.
"""

from __future__ import annotations

import struct
from typing import Final

import numpy as np

from qcheck.errors import ModelError
from qcheck.tflite.flatbuf import Buffer, Table, _offsets
from qcheck.tflite.model import (
    BlockwiseQuantization,
    BufferInfo,
    CustomQuantization,
    Details,
    MultiAxisQuantization,
    Quantization,
    Sparsity,
    Tensor,
)
from qcheck.tflite.schema import QUANTIZATION_DETAILS, field_slots, field_widths, tensor_type_name
from qcheck.tflite.vecread import FileViews, gather_i32, scalars, strings, table_fields, table_positions, table_targets, vectors

_i32 = struct.Struct("<i").unpack_from
_u32 = struct.Struct("<I").unpack_from
_hh = struct.Struct("<HH").unpack_from
_u8 = struct.Struct("<B").unpack_from
_b8 = struct.Struct("<b").unpack_from
_EMPTY_F32: Final = np.zeros(0, dtype=np.float32)
_EMPTY_I64: Final = np.zeros(0, dtype=np.int64)
_ZEROS: Final = (0,) * 16
VECTORISE_FROM: Final = 48
_TYPES: Final = tuple(tensor_type_name(i) for i in range(-128, 128))  # indexed by code + 128
# Field slots of the tables read here (from the schema table).
_T: Final = field_slots("Tensor")
_Q: Final = field_slots("QuantizationParameters")
_SHAPE, _TYPE, _BUFFER, _NAME, _QUANT = _T["shape"], _T["type"], _T["buffer"], _T["name"], _T["quantization"]
_VARIABLE, _SPARSITY, _SIGNATURE, _HAS_RANK, _EXTERNAL = _T["is_variable"], _T["sparsity"], _T["shape_signature"], _T["has_rank"], _T["external_buffer"]
_MIN, _MAX, _SCALE, _ZERO_POINT, _DETAILS_TYPE, _DETAILS, _QDIM = (
    _Q["min"], _Q["max"], _Q["scale"], _Q["zero_point"], _Q["details_type"], _Q["details"], _Q["quantized_dimension"])
_BLOCKWISE: Final = field_slots("BlockwiseQuantization")
_MULTI_AXIS: Final = field_slots("MultiAxisQuantization")
_SPARSE: Final = field_slots("SparsityParameters")
_SUBGRAPH_TENSORS: Final = field_slots("SubGraph")["tensors"]
_MODEL_BUFFERS: Final = field_slots("Model")["buffers"]
_BUF: Final = field_slots("Buffer")
_DIM: Final = field_slots("DimensionMetadata")


class Views(FileViews):
    """Whole-buffer numpy views, sliced for aligned vectors (slicing is cheaper than frombuffer)."""

    def floats(self, start: int, n: int) -> np.ndarray:
        if start & 3:
            return np.frombuffer(self.buf, dtype="<f4", count=n, offset=start)
        return self.f32[start >> 2 : (start >> 2) + n]

    def longs(self, start: int, n: int) -> np.ndarray:
        if start & 7:
            return np.frombuffer(self.buf, dtype="<i8", count=n, offset=start)
        return self.i64[start >> 3 : (start >> 3) + n]


def _header(buf: Buffer, pos: int, end: int, what: str) -> tuple[int, ...]:
    """Field offsets of the table at `pos` (padded with zeros to at least 16 entries)."""
    if pos < 0 or pos + 4 > end:
        raise ModelError(f"{what}: table offset {pos} lies outside the file ({end} bytes)")
    vt = pos - _i32(buf, pos)[0]
    if vt < 0 or vt + 4 > end:
        raise ModelError(f"{what}: vtable at byte {vt} lies outside the file")
    vlen, tlen = _hh(buf, vt)
    if vlen < 4 or vlen & 1 or vt + vlen > end or pos + tlen > end:
        raise ModelError(f"{what}: malformed vtable at byte {vt}")
    n = (vlen - 4) >> 1
    fields = _offsets(n).unpack_from(buf, vt + 4) if n else ()
    if fields and max(fields) >= tlen:
        raise ModelError(f"{what}: vtable at byte {vt} puts a field at offset {max(fields)}, outside its {tlen}-byte table at byte {pos}")
    return fields + _ZEROS


def _vector(buf: Buffer, field: int, end: int, width: int, what: str) -> tuple[int, int]:
    """(start, count) of the vector whose uoffset sits at `field`; checked to fit in the file."""
    t = field + _u32(buf, field)[0]
    if t + 4 > end:
        raise ModelError(f"{what}: vector at byte {t} lies past the end of the file ({end} bytes)")
    n = _u32(buf, t)[0]
    if n * width > end - t - 4:
        raise ModelError(f"{what}: vector at byte {t} claims {n} elements, more than the file holds")
    return t + 4, n


def _quantization(buf: Buffer, pos: int, end: int, views: Views) -> Quantization:
    f = _header(buf, pos, end, "quantization")
    scale = zero_point = None
    if f[_SCALE]:
        s, n = _vector(buf, pos + f[_SCALE], end, 4, "quantization.scale")
        scale = views.floats(s, n)
    if f[_ZERO_POINT]:
        s, n = _vector(buf, pos + f[_ZERO_POINT], end, 8, "quantization.zero_point")
        zero_point = views.longs(s, n)
    qdim = _i32(buf, pos + f[_QDIM])[0] if f[_QDIM] else 0
    details_type = _u8(buf, pos + f[_DETAILS_TYPE])[0] if f[_DETAILS_TYPE] else 0
    lo = hi = None
    details: Details | None = None
    if f[_MIN] or f[_MAX] or details_type:  # rare: take the generic path
        t = Table(buf, pos, "quantization", end)
        lo, hi = t.array(_MIN, "f"), t.array(_MAX, "f")
        d = t.table(_DETAILS, "QuantizationDetails") if details_type else None
        kind = QUANTIZATION_DETAILS[details_type] if details_type < len(QUANTIZATION_DETAILS) else None
        if d is not None and kind == "CustomQuantization":
            span = d.bytes_span(field_slots("CustomQuantization")["custom"])
            details = CustomQuantization(span[1] if span else 0)
        elif d is not None and kind == "BlockwiseQuantization":
            details = BlockwiseQuantization(d.i32(_BLOCKWISE["scales"]), d.i32(_BLOCKWISE["zero_points"]), d.i32(_BLOCKWISE["block_size"]))
        elif d is not None and kind == "MultiAxisQuantization":
            axes = d.vector(_MULTI_AXIS["quantized_dimensions"], "i")
            views.spend(len(axes), "quantization details")
            details = MultiAxisQuantization(d.i32(_MULTI_AXIS["scales"]), d.i32(_MULTI_AXIS["zero_points"]),
                                            d.i32(_MULTI_AXIS["block_size"]), tuple(axes))  # type: ignore[arg-type]
    return Quantization(
        _EMPTY_F32 if scale is None else scale,
        _EMPTY_I64 if zero_point is None else zero_point,
        qdim, lo, hi, details, details_type,
    )


def _sparsity(t: Table, views: Views) -> Sparsity:
    formats = tuple(d.i8(_DIM["format"]) for d in t.tables(_SPARSE["dim_metadata"], "dim_metadata"))
    order, block_map = t.vector(_SPARSE["traversal_order"], "i"), t.vector(_SPARSE["block_map"], "i")
    views.spend(len(formats) + len(order) + len(block_map), f"sparsity at byte {t.pos}")
    return Sparsity(order, block_map, formats)  # type: ignore[arg-type]


def decode_tensors(buf: Buffer, table: Table, views: Views) -> tuple[Tensor, ...]:
    """All tensors of the subgraph `table` (field 0 of SubGraph)."""
    if not table.has(_SUBGRAPH_TENSORS):
        return ()
    end = table.end
    start, count = _vector(buf, table.pos + table.fields[_SUBGRAPH_TENSORS], end, 4, "tensors")
    positions = table_positions(views, table.pos + table.fields[_SUBGRAPH_TENSORS])
    # Below a few dozen tensors the fixed cost of the numpy passes outweighs their speed.
    fast = None if positions is None or positions.size < VECTORISE_FROM else _decode_vectorised(buf, positions, views)
    if fast is not None:
        return fast
    out = []
    for i, off in enumerate(struct.unpack_from(f"<{count}I", buf, start)):
        pos = start + 4 * i + off
        f = _header(buf, pos, end, f"tensor {i}")
        if f[_SHAPE]:
            s, n = _vector(buf, pos + f[_SHAPE], end, 4, f"tensor {i} shape")
            shape = struct.unpack_from(f"<{n}i", buf, s) if n else ()
        else:
            shape = ()
        if f[_NAME]:
            s, n = _vector(buf, pos + f[_NAME], end, 1, f"tensor {i} name")
            name = str(buf[s : s + n], "utf-8", "replace")
        else:
            name = ""
        sig = None
        if f[_SIGNATURE]:
            s, n = _vector(buf, pos + f[_SIGNATURE], end, 4, f"tensor {i} shape_signature")
            sig = struct.unpack_from(f"<{n}i", buf, s) if n else ()
        # Each vector fits in the file; their sum over tensors may not if tensors share them.
        views.spend(1 + len(shape) + len(name) + (len(sig) if sig else 0), f"tensor {i} at byte {pos}")
        quant = _quantization(buf, pos + f[_QUANT] + _u32(buf, pos + f[_QUANT])[0], end, views) if f[_QUANT] else None
        sparsity = _sparsity(Table(buf, pos, "tensor", end).table(_SPARSITY, "sparsity"), views) if f[_SPARSITY] else None  # type: ignore[arg-type]
        out.append(Tensor(
            i, name,
            _TYPES[_b8(buf, pos + f[_TYPE])[0] + 128] if f[_TYPE] else "FLOAT32",
            shape,
            _u32(buf, pos + f[_BUFFER])[0] if f[_BUFFER] else 0,
            quant,
            _u8(buf, pos + f[_VARIABLE])[0] != 0 if f[_VARIABLE] else False,
            sig,
            sparsity,
            _u8(buf, pos + f[_HAS_RANK])[0] != 0 if f[_HAS_RANK] else False,
            _u32(buf, pos + f[_EXTERNAL])[0] if f[_EXTERNAL] else 0,
        ))
    return tuple(out)


_TENSOR_WIDTHS: Final = field_widths("Tensor")
_QUANT_WIDTHS: Final = field_widths("QuantizationParameters")


def _decode_vectorised(buf: Buffer, pos: np.ndarray, v: Views) -> tuple[Tensor, ...] | None:
    """The common case in a few numpy passes; None sends the caller to the per-tensor path."""
    f = table_fields(v, pos, _TENSOR_WIDTHS)
    if f is None:
        return None
    shape_v, name_v, sig_v = vectors(v, f[:, _SHAPE], 4), vectors(v, f[:, _NAME], 1), vectors(v, f[:, _SIGNATURE], 4)
    types, buffers = scalars(v, f[:, _TYPE], "i8"), scalars(v, f[:, _BUFFER], "u32")
    variable, has_rank, external = scalars(v, f[:, _VARIABLE], "u8"), scalars(v, f[:, _HAS_RANK], "u8"), scalars(v, f[:, _EXTERNAL], "u32")
    if shape_v is None or name_v is None or sig_v is None or types is None or buffers is None or external is None or variable is None or has_rank is None:
        return None
    v.spend(pos.size + int(np.maximum(name_v[1], 0).sum()), f"tensors and their names at byte {int(pos[0])}")
    shapes, sigs = gather_i32(v, *shape_v, "tensor shapes"), gather_i32(v, *sig_v, "tensor shape signatures")
    quants = _quantizations(buf, v, f[:, _QUANT])
    if shapes is None or sigs is None or quants is None:
        return None
    names = strings(v, *name_v)
    type_names = [_TYPES[t + 128] for t in types.tolist()]
    has_sig = sig_v[1] >= 0
    signatures = [s if h else None for s, h in zip(sigs, has_sig.tolist(), strict=True)] if has_sig.any() else [None] * pos.size
    new = tuple.__new__  # NamedTuple's own __new__ is a Python function: 2x slower at 50,000 tensors
    out = [
        new(Tensor, (i, name, dtype, shape, b, q, var, sig, None, rank, ext))
        for i, name, dtype, shape, b, q, var, sig, rank, ext in zip(
            range(pos.size), names, type_names, shapes, buffers.tolist(), quants, (variable != 0).tolist(), signatures,
            (has_rank != 0).tolist(), external.tolist(), strict=True)
    ]
    for i in np.flatnonzero(f[:, _SPARSITY]).tolist():  # sparse tensors are rare: the generic reader
        sparsity = _sparsity(Table(buf, int(pos[i]), "tensor", v.end).table(_SPARSITY, "sparsity"), v)  # type: ignore[arg-type]
        out[i] = out[i]._replace(sparsity=sparsity)
    return tuple(out)


def _quantizations(buf: Buffer, v: Views, at: np.ndarray) -> list[Quantization | None] | None:
    """The QuantizationParameters of each tensor (None where a tensor has none)."""
    qpos = table_targets(v, at)
    if qpos is None:
        return None
    present = np.flatnonzero(qpos)
    out: list[Quantization | None] = [None] * at.size
    if present.size == 0:
        return out
    f = table_fields(v, qpos[present], _QUANT_WIDTHS)
    if f is None:
        return None
    scale_v, zp_v = vectors(v, f[:, _SCALE], 4), vectors(v, f[:, _ZERO_POINT], 8)
    qdim = scalars(v, f[:, _QDIM], "i32")
    if scale_v is None or zp_v is None or qdim is None:
        return None
    rare = np.flatnonzero((f[:, _MIN] != 0) | (f[:, _MAX] != 0) | (f[:, _DETAILS_TYPE] != 0))
    # Vectors of a well-formed FlatBuffer are aligned to their element size: slice the whole-file views.
    if (((scale_v[0] & 3) != 0) & (scale_v[1] >= 0)).any() or (((zp_v[0] & 7) != 0) & (zp_v[1] >= 0)).any():
        return None
    s_from = np.where(scale_v[1] >= 0, scale_v[0] >> 2, 0)
    z_from = np.where(zp_v[1] >= 0, zp_v[0] >> 3, 0)
    f32, i64, new = v.f32, v.i64, tuple.__new__
    # (An absent vector becomes an empty slice, as good as an empty array.)
    scales = [f32[a:b] for a, b in zip(s_from.tolist(), (s_from + np.maximum(scale_v[1], 0)).tolist(), strict=True)]
    zero_points = [i64[a:b] for a, b in zip(z_from.tolist(), (z_from + np.maximum(zp_v[1], 0)).tolist(), strict=True)]
    quants = [new(Quantization, (s, z, d, None, None, None, 0)) for s, z, d in zip(scales, zero_points, qdim.tolist(), strict=True)]
    if present.size == at.size:
        out = quants  # type: ignore[assignment]
    else:
        for i, q in zip(present.tolist(), quants, strict=True):
            out[i] = q
    for j in rare.tolist():  # min/max or details: the generic path
        out[int(present[j])] = _quantization(buf, int(qpos[present[j]]), v.end, v)
    return out


def decode_buffers(root: Table, v: Views) -> tuple[BufferInfo, ...] | None:
    """Model.buffers in one numpy pass (data span, or offset/size for data stored after the FlatBuffer)."""
    if not root.has(_MODEL_BUFFERS):
        return ()
    pos = table_positions(v, root.pos + root.fields[_MODEL_BUFFERS])
    if pos is None:
        return None
    f = table_fields(v, pos, field_widths("Buffer"))
    if f is None:
        return None
    at_data, at_offset, at_size = f[:, _BUF["data"]], f[:, _BUF["offset"]], f[:, _BUF["size"]]
    data = vectors(v, at_data, 1)
    if data is None or (((at_offset | at_size) & 7) != 0).any():
        return None
    offset = np.where(at_offset != 0, v.i64[at_offset >> 3], 0)
    outside = offset[data[1] <= 0]
    if ((outside > 1) | (outside < 0)).any():  # (< 0: a u64 offset of 2**63 or more, read as int64)
        return None  # data stored outside the FlatBuffer: the per-buffer path checks its range
    has = data[1] > 0
    starts, sizes = np.where(has, data[0], 0).tolist(), np.where(has, data[1], 0).tolist()
    new = tuple.__new__  # (NamedTuple's generated __new__ is a Python function: twice as slow)
    return tuple([new(BufferInfo, (i, s, n, False, None)) for i, s, n in zip(range(len(sizes)), starts, sizes, strict=True)])
