""".tflite bytes -> Model: a bounds-checked decoder of the current LiteRT schema, no TensorFlow."""

from __future__ import annotations

import mmap
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import numpy as np

from qcheck import flatbuf
from qcheck.errors import ModelError
from qcheck.flatbuf import Table
from qcheck.model import (
    BlockwiseQuantization,
    BufferInfo,
    ConversionMetadata,
    CustomQuantization,
    Details,
    Model,
    MultiAxisQuantization,
    Operator,
    OperatorCode,
    Quantization,
    SignatureDef,
    Sparsity,
    Subgraph,
    Tensor,
)
from qcheck.options import decode_options
from qcheck.schema import (
    BUILTIN_OPTIONS,
    CUSTOM,
    FILE_IDENTIFIER,
    OPTIMIZATION_MODES,
    operator_name,
    tensor_type_name,
)

_EMPTY_F32: Final = np.zeros(0, dtype=np.float32)
_EMPTY_I64: Final = np.zeros(0, dtype=np.int64)

Source = str | os.PathLike[str] | bytes | bytearray | memoryview


def load(source: Source) -> Model:
    """Read a .tflite model from a path or from bytes; raise ModelError if it cannot be read."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return parse(source if not isinstance(source, memoryview) else source.toreadonly(), None)
    path = Path(source)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                raise ModelError(f"{path}: empty file, not a .tflite model")
            # mmap: the file is paged in only where rules look, so parse time does not grow with size.
            raw = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except FileNotFoundError:
        raise ModelError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ModelError(f"{path}: is a directory, not a .tflite file") from None
    except PermissionError:
        raise ModelError(f"{path}: permission denied") from None
    except OSError as e:
        raise ModelError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        return parse(raw, path)
    except ModelError as e:
        raise ModelError(f"{path}: {e}") from None


def parse(raw: flatbuf.Buffer, path: Path | None) -> Model:
    """Decode a whole model. Every structural problem becomes one ModelError."""
    size = len(memoryview(raw)) if not isinstance(raw, mmap.mmap) else raw.size()
    if size < 8:
        raise ModelError(f"too short to be a .tflite model ({size} bytes)")
    ident = bytes(raw[4:8])
    if ident != FILE_IDENTIFIER:
        raise ModelError(f"not a .tflite model: file identifier is {ident!r}, expected b'TFL3' at bytes 4-7")
    try:
        return _parse_model(raw, size, path)
    except (ValueError, OverflowError, MemoryError) as e:  # numpy or struct on a corrupt span
        raise ModelError(f"corrupt FlatBuffer: {e}") from None


def _parse_model(raw: flatbuf.Buffer, size: int, path: Path | None) -> Model:
    root = flatbuf.root(raw, size)
    codes = tuple(_operator_code(i, t) for i, t in enumerate(root.tables(1, "operator_codes")))
    buffers = tuple(_buffer(i, t, size) for i, t in enumerate(root.tables(4, "buffers")))
    subgraphs = tuple(_subgraph(i, t, codes) for i, t in enumerate(root.tables(2, "subgraphs")))
    metadata: dict[str, int] = {}
    for t in root.tables(6, "metadata"):
        metadata[t.string(0) or ""] = t.u32(1)
    signatures = tuple(_signature(t) for t in root.tables(7, "signature_defs"))
    return Model(
        path=path,
        file_size=size,
        version=root.u32(0),
        description=root.string(3),
        operator_codes=codes,
        subgraphs=subgraphs,
        buffers=buffers,
        metadata=metadata,
        signature_defs=signatures,
        conversion_metadata=_conversion_metadata(raw, metadata, buffers),
        min_runtime_version=_min_runtime_version(raw, metadata, buffers),
        raw=raw,
    )


def _operator_code(index: int, t: Table) -> OperatorCode:
    deprecated, builtin = t.i8(0), t.i32(3)
    code = max(builtin, deprecated)
    custom = t.string(1)
    return OperatorCode(
        index=index,
        name="CUSTOM" if code == CUSTOM else operator_name(code),
        builtin_code=builtin,
        deprecated_builtin_code=deprecated,
        custom_code=custom,
        version=t.i32(2, 1),
    )


def _buffer(index: int, t: Table, file_size: int) -> BufferInfo:
    span = t.bytes_span(0)
    if span is not None and span[1] > 0:
        return BufferInfo(index, span[0], span[1])
    offset, length = t.u64(1), t.u64(2)
    # Buffer.offset is "only valid if > 1": 1 is the exporter's unpatched placeholder.
    if offset > 1:
        if offset + length > file_size:
            return BufferInfo(index, 0, 0, external=True, problem=f"bytes {offset}..{offset + length} lie past the end of the file ({file_size} bytes)")
        return BufferInfo(index, offset, length, external=True)
    return BufferInfo(index, 0, 0)


def _quantization(t: Table) -> Quantization:
    scale = t.array(2, "f")
    zero_point = t.array(3, "q")
    details_type = t.u8(4)
    details: Details | None = None
    d = t.table(5, "QuantizationDetails") if details_type else None
    if d is not None and details_type == 1:
        span = d.bytes_span(0)
        details = CustomQuantization(span[1] if span else 0)
    elif d is not None and details_type == 2:
        details = BlockwiseQuantization(d.i32(0), d.i32(1, 0), d.i32(2))
    elif d is not None and details_type == 3:
        details = MultiAxisQuantization(d.i32(0), d.i32(1, 0), d.i32(2), tuple(d.vector(3, "i")))  # type: ignore[arg-type]
    return Quantization(
        scale=_EMPTY_F32 if scale is None else scale,
        zero_point=_EMPTY_I64 if zero_point is None else zero_point,
        quantized_dimension=t.i32(6),
        min=t.array(0, "f"),
        max=t.array(1, "f"),
        details=details,
        details_type=details_type,
    )


def _sparsity(t: Table) -> Sparsity:
    formats = tuple(d.i8(0) for d in t.tables(2, "dim_metadata"))
    return Sparsity(tuple(t.vector(0, "i")), tuple(t.vector(1, "i")), formats)  # type: ignore[arg-type]


def _tensor(index: int, t: Table) -> Tensor:
    q = t.table(4, "quantization")
    sp = t.table(6, "sparsity")
    sig = t.vector(7, "i") if t.has(7) else None
    return Tensor(
        index=index,
        name=t.string(3) or "",
        dtype=tensor_type_name(t.i8(1)),
        shape=t.vector(0, "i"),  # type: ignore[arg-type]
        buffer=t.u32(2),
        quantization=None if q is None else _quantization(q),
        is_variable=t.bool(5),
        shape_signature=sig,  # type: ignore[arg-type]
        sparsity=None if sp is None else _sparsity(sp),
        has_rank=t.bool(8),
        external_buffer=t.u32(10),
    )


def _operator(index: int, t: Table, codes: tuple[OperatorCode, ...]) -> Operator:
    opcode_index = t.u32(0)
    code = codes[opcode_index] if opcode_index < len(codes) else None
    opcode = "UNKNOWN(opcode index out of range)" if code is None else code.name
    options_id = t.u8(3)
    options_type = BUILTIN_OPTIONS[options_id - 1] if 0 < options_id <= len(BUILTIN_OPTIONS) else None
    options_table = t.table(4, "builtin_options") if options_type else None
    return Operator(
        index=index,
        opcode_index=opcode_index,
        opcode=opcode,
        inputs=t.vector(1, "i"),  # type: ignore[arg-type]
        outputs=t.vector(2, "i"),  # type: ignore[arg-type]
        intermediates=t.vector(8, "i"),  # type: ignore[arg-type]
        options_type=options_type,
        options=decode_options(options_type, options_table) if options_table else {},
        is_custom=code is not None and code.name == "CUSTOM",
    )


def _subgraph(index: int, t: Table, codes: tuple[OperatorCode, ...]) -> Subgraph:
    tensors = tuple(_tensor(i, tt) for i, tt in enumerate(t.tables(0, "tensors")))
    operators = tuple(_operator(i, ot, codes) for i, ot in enumerate(t.tables(3, "operators")))
    producers: dict[int, int] = {}
    consumers: dict[int, list[int]] = {}
    for op in operators:
        for i in op.outputs:
            producers.setdefault(i, op.index)
        for i in op.inputs:
            if i >= 0:
                consumers.setdefault(i, []).append(op.index)
    return Subgraph(
        index=index,
        name=t.string(4) or "",
        tensors=tensors,
        operators=operators,
        inputs=t.vector(1, "i"),  # type: ignore[arg-type]
        outputs=t.vector(2, "i"),  # type: ignore[arg-type]
        producers=producers,
        consumers={k: tuple(v) for k, v in consumers.items()},
    )


def _signature(t: Table) -> SignatureDef:
    def tensor_map(slot: int) -> dict[str, int]:
        return {m.string(0) or "": m.u32(1) for m in t.tables(slot, "TensorMap")}

    return SignatureDef(t.string(2), t.u32(4), tensor_map(0), tensor_map(1))


def _metadata_bytes(raw: flatbuf.Buffer, metadata: Mapping[str, int], buffers: tuple[BufferInfo, ...], name: str) -> tuple[int, int] | None:
    index = metadata.get(name)
    if index is None or not 0 <= index < len(buffers) or buffers[index].size == 0:
        return None
    return buffers[index].offset, buffers[index].size


def _min_runtime_version(raw: flatbuf.Buffer, metadata: Mapping[str, int], buffers: tuple[BufferInfo, ...]) -> str | None:
    span = _metadata_bytes(raw, metadata, buffers, "min_runtime_version")
    if span is None:
        return None
    # Written as a 16-byte NUL-padded placeholder, then filled in (flatbuffer_export.cc).
    text = bytes(raw[span[0] : span[0] + min(span[1], 64)]).split(b"\0", 1)[0]
    return text.decode("ascii", errors="replace")


def _conversion_metadata(raw: flatbuf.Buffer, metadata: Mapping[str, int], buffers: tuple[BufferInfo, ...]) -> ConversionMetadata | None:
    span = _metadata_bytes(raw, metadata, buffers, "CONVERSION_METADATA")
    if span is None or span[1] < 8:
        return None
    start, length = span
    try:
        # A nested FlatBuffer (conversion_metadata.fbs); uoffsets are relative, so absolute positions work.
        root = Table(raw, start + int.from_bytes(raw[start : start + 4], "little"), "CONVERSION_METADATA", start + length)
        env = root.table(0, "Environment")
        opts = root.table(1, "ConversionOptions")
        modes = tuple(opts.vector(0, "i")) if opts else ()
        return ConversionMetadata(
            tensorflow_version=env.string(0) if env else None,
            api_version=env.u32(1) if env else 0,
            model_type=env.i32(2) if env else 0,
            optimization_modes=tuple(OPTIMIZATION_MODES.get(int(m), f"UNKNOWN({m})") for m in modes),
            allow_custom_ops=opts.bool(1) if opts else False,
            enable_select_tf_ops=opts.bool(2) if opts else False,
        )
    except ModelError:
        return None  # the runtime ignores this entry too; rules see "no metadata"
