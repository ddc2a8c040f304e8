"""ModelBuilder: write small (or huge) .tflite files in code, for tests, fixtures and benchmarks."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import flatbuffers
import numpy as np

from qcheck.tflite.options import _FIELDS as OPTION_FIELDS
from qcheck.tflite.schema import (
    ACTIVATION_FUNCTIONS,
    BUILTIN_OPERATORS,
    BUILTIN_OPTIONS,
    NUMPY_DTYPES,
    PLACEHOLDER_FOR_GREATER_OP_CODES,
    TENSOR_TYPES,
)

# The options table each builtin op carries (only the ones whose fields qcheck decodes).
OPTIONS_OF: dict[str, str] = {
    "CONV_2D": "Conv2DOptions", "DEPTHWISE_CONV_2D": "DepthwiseConv2DOptions", "CONV_3D": "Conv3DOptions",
    "AVERAGE_POOL_2D": "Pool2DOptions", "MAX_POOL_2D": "Pool2DOptions", "L2_POOL_2D": "Pool2DOptions",
    "SVDF": "SVDFOptions", "RNN": "RNNOptions", "UNIDIRECTIONAL_SEQUENCE_RNN": "SequenceRNNOptions",
    "BIDIRECTIONAL_SEQUENCE_RNN": "BidirectionalSequenceRNNOptions", "FULLY_CONNECTED": "FullyConnectedOptions",
    "SOFTMAX": "SoftmaxOptions", "CONCATENATION": "ConcatenationOptions", "ADD": "AddOptions", "SUB": "SubOptions",
    "MUL": "MulOptions", "DIV": "DivOptions", "L2_NORMALIZATION": "L2NormOptions", "LSTM": "LSTMOptions",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "UnidirectionalSequenceLSTMOptions",
    "BIDIRECTIONAL_SEQUENCE_LSTM": "BidirectionalSequenceLSTMOptions", "TRANSPOSE_CONV": "TransposeConvOptions",
    "BATCH_MATMUL": "BatchMatMulOptions", "GATHER": "GatherOptions", "IF": "IfOptions", "WHILE": "WhileOptions",
    "CALL_ONCE": "CallOnceOptions", "CALL": "CallOptions", "LEAKY_RELU": "LeakyReluOptions",
}

_PLACEHOLDER_BASE = 0x7E5A_0000_0000_0000  # marks external-buffer offsets until they are patched


@dataclass
class _Tensor:
    name: str
    dtype: str
    shape: tuple[int, ...]
    buffer: int
    scale: Sequence[float] | None = None
    zero_point: Sequence[int] | None = None
    quantized_dimension: int = 0
    is_variable: bool = False
    shape_signature: Sequence[int] | None = None
    details: tuple[int, Sequence[int]] | None = None  # (union type, int fields...)
    sparsity: tuple[Sequence[int], Sequence[int], Sequence[int]] | None = None


@dataclass
class _Operator:
    opcode_index: int
    inputs: Sequence[int]
    outputs: Sequence[int]
    options_type: str | None
    options: Mapping[str, Any]
    intermediates: Sequence[int] = ()


@dataclass
class _Subgraph:
    name: str
    tensors: list[_Tensor] = field(default_factory=list)
    operators: list[_Operator] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)


def _as_bytes(data: bytes | np.ndarray, dtype: str) -> bytes | np.ndarray:
    if isinstance(data, np.ndarray) and dtype in NUMPY_DTYPES:
        # asarray, not ascontiguousarray: a broadcast view of a multi-GB constant must stay a view
        # (the writers copy it out in chunks).
        return np.asarray(data, dtype=NUMPY_DTYPES[dtype])
    return data


class ModelBuilder:
    """Collects subgraphs, tensors and operators, then serialises them as a .tflite FlatBuffer.

    Nothing is validated: tests use it to write defective models on purpose.
    """

    def __init__(self, *, version: int = 3, description: str | None = "qcheck ModelBuilder") -> None:
        self.version = version
        self.description = description
        self.buffers: list[bytes | np.ndarray | None] = [None]  # buffers[0]: the empty sentinel
        self.opcodes: list[tuple[int, int, str | None, int]] = []  # (deprecated, builtin, custom, version)
        self.subgraphs: list[_Subgraph] = [_Subgraph("main")]
        self.metadata_entries: list[tuple[str, int]] = []
        self.signatures: list[tuple[str, Mapping[str, int], Mapping[str, int], int]] = []

    # -- contents -------------------------------------------------------------------------------
    def buffer(self, data: bytes | np.ndarray | None) -> int:
        self.buffers.append(data)
        return len(self.buffers) - 1

    def subgraph(self, name: str = "") -> int:
        self.subgraphs.append(_Subgraph(name))
        return len(self.subgraphs) - 1

    def tensor(self, name: str, dtype: str, shape: Sequence[int], *, data: bytes | np.ndarray | None = None,
               scale: Sequence[float] | float | None = None, zero_point: Sequence[int] | int | None = None,
               quantized_dimension: int = 0, buffer: int | None = None, subgraph: int = 0, **extra: Any) -> int:
        """Add a tensor; `data` makes it a constant. Scalars for scale/zero_point mean per-tensor."""
        if buffer is None:
            buffer = self.buffer(_as_bytes(data, dtype)) if data is not None else 0
        if scale is not None and np.ndim(scale) == 0:
            scale = [float(scale)]  # type: ignore[arg-type]
        if zero_point is not None and np.ndim(zero_point) == 0:
            zero_point = [int(zero_point)]  # type: ignore[arg-type]
        if scale is not None and zero_point is None:
            zero_point = [0] * len(scale)  # type: ignore[arg-type]
        sg = self.subgraphs[subgraph]
        sg.tensors.append(_Tensor(name, dtype, tuple(shape), buffer, scale, zero_point, quantized_dimension, **extra))  # type: ignore[arg-type]
        return len(sg.tensors) - 1

    def opcode(self, opcode: str, *, version: int = 1, custom_code: str | None = None, raw_codes: tuple[int, int] | None = None) -> int:
        """Index of an OperatorCode (shared by ops with the same code, version and custom name)."""
        code = BUILTIN_OPERATORS.index(opcode)
        deprecated, builtin = raw_codes or (min(code, PLACEHOLDER_FOR_GREATER_OP_CODES), code)
        entry = (deprecated, builtin, custom_code, version)
        if entry not in self.opcodes:
            self.opcodes.append(entry)
        return self.opcodes.index(entry)

    def op(self, opcode: str, inputs: Sequence[int], outputs: Sequence[int], *, options: Mapping[str, Any] | None = None,
           version: int = 1, custom_code: str | None = None, subgraph: int = 0, intermediates: Sequence[int] = (),
           opcode_index: int | None = None) -> int:
        index = self.opcode(opcode, version=version, custom_code=custom_code) if opcode_index is None else opcode_index
        sg = self.subgraphs[subgraph]
        sg.operators.append(_Operator(index, list(inputs), list(outputs), OPTIONS_OF.get(opcode), dict(options or {}), intermediates))
        return len(sg.operators) - 1

    def io(self, inputs: Iterable[int], outputs: Iterable[int], subgraph: int = 0) -> None:
        self.subgraphs[subgraph].inputs = list(inputs)
        self.subgraphs[subgraph].outputs = list(outputs)

    def metadata(self, name: str, data: bytes) -> None:
        self.metadata_entries.append((name, self.buffer(data)))

    def signature(self, key: str, inputs: Mapping[str, int], outputs: Mapping[str, int], subgraph: int = 0) -> None:
        self.signatures.append((key, inputs, outputs, subgraph))

    # -- serialisation --------------------------------------------------------------------------
    def build(self, *, external: bool = False) -> bytes:
        """The model as bytes; `external` stores buffer data after the FlatBuffer (the >2 GB layout)."""
        import io

        out = io.BytesIO()
        self.write(out, external=external)
        return out.getvalue()

    def save(self, path: str | os.PathLike[str], *, external: bool = False) -> None:
        with open(path, "wb") as f:
            self.write(f, external=external)

    def write(self, f: BinaryIO, *, external: bool = False) -> None:
        fb = self._flatbuffer(external)
        if not external:
            f.write(fb)
            return
        # Patch the placeholder offsets, then stream each buffer 16-byte aligned after the FlatBuffer.
        pos = (len(fb) + 15) // 16 * 16
        layout: dict[int, int] = {}
        for i, data in enumerate(self.buffers):
            if i and data is not None and _nbytes(data):
                layout[i] = pos
                pos = (pos + _nbytes(data) + 15) // 16 * 16
        patched = bytearray(fb)
        for i, offset in layout.items():
            marker = struct.pack("<Q", _PLACEHOLDER_BASE + i)
            at = patched.find(marker)
            patched[at : at + 8] = struct.pack("<Q", offset)
        f.write(patched)
        written = len(patched)
        for i, offset in layout.items():
            f.write(b"\0" * (offset - written))
            written = offset + _write_data(f, self.buffers[i])  # type: ignore[arg-type]
        f.write(b"\0" * 16)  # the exporter's trailing padding ("for XNNPack")

    def _flatbuffer(self, external: bool) -> bytes:
        b = flatbuffers.Builder(1024)
        buffers = [self._buffer(b, i, d, external) for i, d in enumerate(self.buffers)]
        opcodes = [self._opcode(b, *e) for e in self.opcodes]
        subgraphs = [self._subgraph(b, sg) for sg in self.subgraphs]
        metadata = []
        for name, index in self.metadata_entries:
            n = b.CreateString(name)
            b.StartObject(2)
            b.PrependUOffsetTRelativeSlot(0, n, 0)
            b.PrependUint32Slot(1, index, 0)
            metadata.append(b.EndObject())
        signatures = [self._signature(b, *s) for s in self.signatures]
        desc = b.CreateString(self.description) if self.description is not None else None
        vecs = [_table_vector(b, v) for v in (opcodes, subgraphs, buffers, metadata, signatures)]
        b.StartObject(8)
        b.PrependUint32Slot(0, self.version, 0)
        b.PrependUOffsetTRelativeSlot(1, vecs[0], 0)
        b.PrependUOffsetTRelativeSlot(2, vecs[1], 0)
        if desc is not None:
            b.PrependUOffsetTRelativeSlot(3, desc, 0)
        b.PrependUOffsetTRelativeSlot(4, vecs[2], 0)
        if metadata:
            b.PrependUOffsetTRelativeSlot(6, vecs[3], 0)
        if signatures:
            b.PrependUOffsetTRelativeSlot(7, vecs[4], 0)
        b.Finish(b.EndObject(), file_identifier=b"TFL3")
        return bytes(b.Output())

    def _buffer(self, b: flatbuffers.Builder, index: int, data: bytes | np.ndarray | None, external: bool) -> int:
        vec = None
        if data is not None and not external:
            raw = data.tobytes() if isinstance(data, np.ndarray) else bytes(data)
            b.StartVector(1, len(raw), 16)  # force_align: 16, as the schema asks
            b.head = b.head - len(raw)
            b.Bytes[b.head : b.head + len(raw)] = raw
            vec = b.EndVector()
        b.StartObject(3)
        if vec is not None:
            b.PrependUOffsetTRelativeSlot(0, vec, 0)
        if external and index and data is not None and _nbytes(data):
            b.PrependUint64Slot(1, _PLACEHOLDER_BASE + index, 0)
            b.PrependUint64Slot(2, _nbytes(data), 0)
        return b.EndObject()

    @staticmethod
    def _opcode(b: flatbuffers.Builder, deprecated: int, builtin: int, custom: str | None, version: int) -> int:
        c = b.CreateString(custom) if custom is not None else None
        b.StartObject(4)
        b.PrependInt8Slot(0, deprecated, 0)
        if c is not None:
            b.PrependUOffsetTRelativeSlot(1, c, 0)
        b.PrependInt32Slot(2, version, 1)
        b.PrependInt32Slot(3, builtin, 0)
        return b.EndObject()

    def _tensor(self, b: flatbuffers.Builder, t: _Tensor) -> int:
        name = b.CreateString(t.name)
        shape = _int_vector(b, t.shape)
        sig = _int_vector(b, t.shape_signature) if t.shape_signature is not None else None
        quant = None
        if t.scale is not None or t.zero_point is not None or t.details is not None:
            details = None
            if t.details is not None:
                kind, values = t.details
                dims = _int_vector(b, values[3]) if kind == 3 else None  # type: ignore[arg-type]
                b.StartObject(4)
                for slot, v in enumerate(values[:3]):
                    b.PrependInt32Slot(slot, int(v), 0)
                if dims is not None:
                    b.PrependUOffsetTRelativeSlot(3, dims, 0)
                details = b.EndObject()
            scale = _numeric_vector(b, np.asarray(t.scale, "<f4")) if t.scale is not None else None
            zp = _numeric_vector(b, np.asarray(t.zero_point, "<i8")) if t.zero_point is not None else None
            b.StartObject(7)
            if scale is not None:
                b.PrependUOffsetTRelativeSlot(2, scale, 0)
            if zp is not None:
                b.PrependUOffsetTRelativeSlot(3, zp, 0)
            if details is not None:
                b.PrependUint8Slot(4, t.details[0], 0)  # type: ignore[index]
                b.PrependUOffsetTRelativeSlot(5, details, 0)
            b.PrependInt32Slot(6, t.quantized_dimension, 0)
            quant = b.EndObject()
        sparsity = self._sparsity(b, t.sparsity) if t.sparsity is not None else None
        b.StartObject(11)
        b.PrependUOffsetTRelativeSlot(0, shape, 0)
        b.PrependInt8Slot(1, TENSOR_TYPES.index(t.dtype), 0)
        b.PrependUint32Slot(2, t.buffer, 0)
        b.PrependUOffsetTRelativeSlot(3, name, 0)
        if quant is not None:
            b.PrependUOffsetTRelativeSlot(4, quant, 0)
        b.PrependBoolSlot(5, t.is_variable, False)
        if sparsity is not None:
            b.PrependUOffsetTRelativeSlot(6, sparsity, 0)
        if sig is not None:
            b.PrependUOffsetTRelativeSlot(7, sig, 0)
        return b.EndObject()

    @staticmethod
    def _sparsity(b: flatbuffers.Builder, sp: tuple[Sequence[int], Sequence[int], Sequence[int]]) -> int:
        order, block_map, formats = sp
        dims = []
        for fmt in formats:
            b.StartObject(6)
            b.PrependInt8Slot(0, fmt, 0)
            dims.append(b.EndObject())
        o, m, d = _int_vector(b, order), _int_vector(b, block_map), _table_vector(b, dims)
        b.StartObject(3)
        b.PrependUOffsetTRelativeSlot(0, o, 0)
        b.PrependUOffsetTRelativeSlot(1, m, 0)
        b.PrependUOffsetTRelativeSlot(2, d, 0)
        return b.EndObject()

    @staticmethod
    def _options(b: flatbuffers.Builder, kind: str, values: Mapping[str, Any]) -> int:
        fields = {key: (slot, k) for key, slot, k, _ in OPTION_FIELDS[kind]}
        unknown = set(values) - set(fields)
        if unknown:
            raise ValueError(f"{kind} has no field(s) {sorted(unknown)} known to qcheck")
        b.StartObject(max(slot for slot, _ in fields.values()) + 1)
        for key, value in values.items():
            slot, k = fields[key]
            if k == "act":
                b.PrependInt8Slot(slot, ACTIVATION_FUNCTIONS.index(value), -1)
            elif k == "type":
                b.PrependInt8Slot(slot, TENSOR_TYPES.index(value) if value else 0, -1)
            elif k == "bool":
                b.PrependBoolSlot(slot, bool(value), not value)  # always written
            elif k == "i8":
                b.PrependInt8Slot(slot, int(value), -1)
            elif k == "u32":
                b.PrependUint32Slot(slot, int(value), 2**32 - 1)
            elif k == "f32":
                b.PrependFloat32Slot(slot, float(value), float("nan"))
            else:
                b.PrependInt32Slot(slot, int(value), -(2**31))
        return b.EndObject()

    def _subgraph(self, b: flatbuffers.Builder, sg: _Subgraph) -> int:
        tensors = _table_vector(b, [self._tensor(b, t) for t in sg.tensors])
        ops = []
        for op in sg.operators:
            opts = self._options(b, op.options_type, op.options) if op.options_type and op.options else None
            ins, outs = _int_vector(b, op.inputs), _int_vector(b, op.outputs)
            inter = _int_vector(b, op.intermediates) if op.intermediates else None
            b.StartObject(9)
            b.PrependUint32Slot(0, op.opcode_index, 0)
            b.PrependUOffsetTRelativeSlot(1, ins, 0)
            b.PrependUOffsetTRelativeSlot(2, outs, 0)
            if opts is not None:
                b.PrependUint8Slot(3, BUILTIN_OPTIONS.index(op.options_type) + 1, 0)  # type: ignore[arg-type]
                b.PrependUOffsetTRelativeSlot(4, opts, 0)
            if inter is not None:
                b.PrependUOffsetTRelativeSlot(8, inter, 0)
            ops.append(b.EndObject())
        ops_vec = _table_vector(b, ops)
        ins, outs = _int_vector(b, sg.inputs), _int_vector(b, sg.outputs)
        name = b.CreateString(sg.name)
        b.StartObject(5)
        b.PrependUOffsetTRelativeSlot(0, tensors, 0)
        b.PrependUOffsetTRelativeSlot(1, ins, 0)
        b.PrependUOffsetTRelativeSlot(2, outs, 0)
        b.PrependUOffsetTRelativeSlot(3, ops_vec, 0)
        b.PrependUOffsetTRelativeSlot(4, name, 0)
        return b.EndObject()

    @staticmethod
    def _signature(b: flatbuffers.Builder, key: str, inputs: Mapping[str, int], outputs: Mapping[str, int], subgraph: int) -> int:
        def maps(m: Mapping[str, int]) -> int:
            entries = []
            for name, index in m.items():
                n = b.CreateString(name)
                b.StartObject(2)
                b.PrependUOffsetTRelativeSlot(0, n, 0)
                b.PrependUint32Slot(1, index, 0)
                entries.append(b.EndObject())
            return _table_vector(b, entries)

        i, o, k = maps(inputs), maps(outputs), b.CreateString(key)
        b.StartObject(5)
        b.PrependUOffsetTRelativeSlot(0, i, 0)
        b.PrependUOffsetTRelativeSlot(1, o, 0)
        b.PrependUOffsetTRelativeSlot(2, k, 0)
        b.PrependUint32Slot(4, subgraph, 0)
        return b.EndObject()


def _nbytes(data: bytes | np.ndarray) -> int:
    return data.nbytes if isinstance(data, np.ndarray) else len(data)


def _write_data(f: BinaryIO, data: bytes | np.ndarray, chunk: int = 1 << 24) -> int:
    """Write a buffer in chunks, so a multi-GB (even broadcast) array is never copied whole."""
    if not isinstance(data, np.ndarray):
        f.write(data)
        return len(data)
    flat = data.reshape(-1) if data.flags.c_contiguous else data.ravel(order="C") if data.size * data.itemsize < chunk else None
    if flat is None:  # a large non-contiguous view (e.g. np.broadcast_to): write row blocks
        rows = data.reshape(data.shape[0], -1)
        step = max(1, chunk // max(1, rows.shape[1] * data.itemsize))
        f.writelines(np.ascontiguousarray(rows[r : r + step]).tobytes() for r in range(0, rows.shape[0], step))
        return data.nbytes
    raw = flat.view(np.uint8)
    f.writelines(raw[s : s + chunk].tobytes() for s in range(0, raw.size, chunk))
    return data.nbytes


def _int_vector(b: flatbuffers.Builder, values: Sequence[int]) -> int:
    return _numeric_vector(b, np.asarray(list(values), dtype="<i4"))


def _numeric_vector(b: flatbuffers.Builder, arr: np.ndarray) -> int:
    return b.CreateNumpyVector(np.ascontiguousarray(arr))


def _table_vector(b: flatbuffers.Builder, offsets: Sequence[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return b.EndVector()
