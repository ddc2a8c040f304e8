"""ModelBuilder: write small (or huge) .tflite files in code, for tests, fixtures and benchmarks."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np

from qcheck.tflite.schema import BUILTIN_OPERATORS, NUMPY_DTYPES, PLACEHOLDER_FOR_GREATER_OP_CODES
from qcheck.tflite.writer import PLACEHOLDER_BASE, flatbuffer, nbytes

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


@dataclass
class TensorEntry:
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
class OperatorEntry:
    opcode_index: int
    inputs: Sequence[int]
    outputs: Sequence[int]
    options_type: str | None
    options: Mapping[str, Any]
    intermediates: Sequence[int] = ()


@dataclass
class SubgraphEntry:
    name: str
    tensors: list[TensorEntry] = field(default_factory=list)
    operators: list[OperatorEntry] = field(default_factory=list)
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
        self.subgraphs: list[SubgraphEntry] = [SubgraphEntry("main")]
        self.metadata_entries: list[tuple[str, int]] = []
        self.signatures: list[tuple[str, Mapping[str, int], Mapping[str, int], int]] = []

    # -- contents -------------------------------------------------------------------------------
    def buffer(self, data: bytes | np.ndarray | None) -> int:
        self.buffers.append(data)
        return len(self.buffers) - 1

    def subgraph(self, name: str = "") -> int:
        self.subgraphs.append(SubgraphEntry(name))
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
        sg.tensors.append(TensorEntry(name, dtype, tuple(shape), buffer, scale, zero_point, quantized_dimension, **extra))  # type: ignore[arg-type]
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
        sg.operators.append(OperatorEntry(index, list(inputs), list(outputs), OPTIONS_OF.get(opcode), dict(options or {}), intermediates))
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
        fb = flatbuffer(self, external)
        if not external:
            f.write(fb)
            return
        # Patch the placeholder offsets, then stream each buffer 16-byte aligned after the FlatBuffer.
        pos = (len(fb) + 15) // 16 * 16
        layout: dict[int, int] = {}
        for i, data in enumerate(self.buffers):
            if i and data is not None and nbytes(data):
                layout[i] = pos
                pos = (pos + nbytes(data) + 15) // 16 * 16
        patched = bytearray(fb)
        for i, offset in layout.items():
            marker = struct.pack("<Q", PLACEHOLDER_BASE + i)
            at = patched.find(marker)
            patched[at : at + 8] = struct.pack("<Q", offset)
        f.write(patched)
        written = len(patched)
        for i, offset in layout.items():
            f.write(b"\0" * (offset - written))
            written = offset + _write_data(f, self.buffers[i])  # type: ignore[arg-type]
        f.write(b"\0" * 16)  # the exporter's trailing padding ("for XNNPack")


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
