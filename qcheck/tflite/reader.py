""".tflite bytes -> Model: a bounds-checked decoder of the current LiteRT schema, no TensorFlow."""

from __future__ import annotations

import gc
import mmap
import os
import stat
import struct
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from qcheck.errors import ModelError
from qcheck.tflite import flatbuf, sigbus
from qcheck.tflite.flatbuf import Table
from qcheck.tflite.model import (
    BufferInfo,
    ConversionMetadata,
    Model,
    OperatorCode,
    SignatureDef,
    Subgraph,
)
from qcheck.tflite.operators import decode_operators
from qcheck.tflite.schema import CUSTOM, FILE_IDENTIFIER, OPTIMIZATION_MODES, field_slots, operator_name
from qcheck.tflite.tensors import Views, decode_buffers, decode_tensors

Source = str | os.PathLike[str] | bytes | bytearray | memoryview

# Field slots of the tables read here (from the schema table).
_MODEL, _CODE, _BUFFER = field_slots("Model"), field_slots("OperatorCode"), field_slots("Buffer")
_SUBGRAPH, _METADATA = field_slots("SubGraph"), field_slots("Metadata")
_SIGNATURE, _TENSOR_MAP = field_slots("SignatureDef"), field_slots("TensorMap")


def load(source: Source) -> Model:
    """Read a .tflite model from a path or from bytes; raise ModelError if it cannot be read."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return parse(source if not isinstance(source, memoryview) else source.toreadonly(), None)
    path = Path(source)
    try:
        # O_NONBLOCK: opening a named pipe would otherwise wait forever for a writer.
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
            info = os.fstat(f.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError
            if not stat.S_ISREG(info.st_mode):
                raise ModelError(f"{path}: not a regular file (a pipe, socket or device), not a .tflite model")
            if info.st_size == 0:
                raise ModelError(f"{path}: empty file, not a .tflite model")
            # mmap: the file is paged in only where rules look, so parse time does not grow with size.
            sigbus.guard(str(path))  # a file cut short under us ends with one line, not SIGBUS
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
    with collector_paused():
        try:
            return _parse_model(raw, size, path)
        except (struct.error, ValueError, OverflowError) as e:  # a field read past the end of the buffer
            raise ModelError(f"corrupt FlatBuffer: {e}{_TRUNCATED}") from None
        except ModelError as e:
            # Offsets past the end are what a cut-off download or copy leaves: say so.
            if any(words in str(e) for words in ("past the end of the file", "lies outside the file", "more than the file holds")):
                raise ModelError(f"{e}{_TRUNCATED}") from None
            raise


_TRUNCATED = " (the file looks truncated)"


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a model is built or checked.

    A model is tens of thousands of small tuples and holds no reference cycle; while it is alive,
    every full collection walks all of them again and can free nothing: at 50,000 tensors that is
    a third of the parse and a quarter of the rules' time. Cycles made meanwhile are collected
    once the collector is back on (its previous state is restored).
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _parse_model(raw: flatbuf.Buffer, size: int, path: Path | None) -> Model:
    root = flatbuf.root(raw, size)
    views = Views(raw, size)
    codes = tuple(_operator_code(i, t, views) for i, t in enumerate(root.tables(_MODEL["operator_codes"], "operator_codes")))
    buffers = decode_buffers(root, views) or tuple(_buffer(i, t, size) for i, t in enumerate(root.tables(_MODEL["buffers"], "buffers")))
    subgraphs = tuple(_subgraph(i, t, codes, views) for i, t in enumerate(root.tables(_MODEL["subgraphs"], "subgraphs")))
    metadata: dict[str, int] = {}
    for t in root.tables(_MODEL["metadata"], "metadata"):
        name = t.string(_METADATA["name"]) or ""
        views.spend(1 + len(name), f"metadata entry at byte {t.pos}")
        metadata[name] = t.u32(_METADATA["buffer"])
    signatures = tuple(_signature(t, views) for t in root.tables(_MODEL["signature_defs"], "signature_defs"))
    return Model(
        path=path,
        file_size=size,
        version=root.u32(_MODEL["version"]),
        description=root.string(_MODEL["description"]),
        operator_codes=codes,
        subgraphs=subgraphs,
        buffers=buffers,
        metadata=metadata,
        signature_defs=signatures,
        conversion_metadata=_conversion_metadata(raw, metadata, buffers),
        min_runtime_version=_min_runtime_version(raw, metadata, buffers),
        raw=raw,
    )


def _operator_code(index: int, t: Table, views: Views) -> OperatorCode:
    deprecated, builtin = t.i8(_CODE["deprecated_builtin_code"]), t.i32(_CODE["builtin_code"])
    code = max(builtin, deprecated)
    custom = t.string(_CODE["custom_code"])
    views.spend(1 + len(custom or ""), f"operator code {index} at byte {t.pos}")
    return OperatorCode(
        index=index,
        name="CUSTOM" if code == CUSTOM else operator_name(code),
        builtin_code=builtin,
        deprecated_builtin_code=deprecated,
        custom_code=custom,
        version=t.i32(_CODE["version"], 1),
    )


def _buffer(index: int, t: Table, file_size: int) -> BufferInfo:
    span = t.bytes_span(_BUFFER["data"])
    if span is not None and span[1] > 0:
        return BufferInfo(index, span[0], span[1])
    offset, length = t.u64(_BUFFER["offset"]), t.u64(_BUFFER["size"])
    # Buffer.offset is "only valid if > 1": 1 is the exporter's unpatched placeholder.
    if offset > 1:
        if offset + length > file_size:
            return BufferInfo(index, 0, 0, external=True, problem=f"bytes {offset}..{offset + length} lie past the end of the file ({file_size} bytes)")
        return BufferInfo(index, offset, length, external=True)
    return BufferInfo(index, 0, 0)


def _subgraph(index: int, t: Table, codes: tuple[OperatorCode, ...], views: Views) -> Subgraph:
    tensors = decode_tensors(t.buf, t, views)
    operators = decode_operators(t, codes, views)
    # The first writer of a tensor is its producer (a second writer is a graph error elsewhere).
    producers = {out: op.index for op in reversed(operators) for out in op.outputs}
    consumers: defaultdict[int, list[int]] = defaultdict(list)
    for op in operators:
        for tensor in op.inputs:
            consumers[tensor].append(op.index)
    consumers.pop(-1, None)  # absent optional inputs
    name, inputs, outputs = t.string(_SUBGRAPH["name"]) or "", t.vector(_SUBGRAPH["inputs"], "i"), t.vector(_SUBGRAPH["outputs"], "i")
    views.spend(1 + len(name) + len(inputs) + len(outputs), f"subgraph {index} at byte {t.pos}")
    return Subgraph(
        index=index,
        name=name,
        tensors=tensors,
        operators=operators,
        inputs=inputs,  # type: ignore[arg-type]
        outputs=outputs,  # type: ignore[arg-type]
        producers=producers,
        consumers=dict(consumers),
    )


def _signature(t: Table, views: Views) -> SignatureDef:
    def tensor_map(slot: int) -> dict[str, int]:
        out = {}
        for m in t.tables(slot, "TensorMap"):
            name = m.string(_TENSOR_MAP["name"]) or ""
            views.spend(1 + len(name), f"signature tensor map at byte {m.pos}")
            out[name] = m.u32(_TENSOR_MAP["tensor_index"])
        return out

    return SignatureDef(t.string(_SIGNATURE["signature_key"]), t.u32(_SIGNATURE["subgraph_index"]),
                        tensor_map(_SIGNATURE["inputs"]), tensor_map(_SIGNATURE["outputs"]))


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
    except (ModelError, struct.error):
        return None  # the runtime ignores this entry too; rules see "no metadata"
