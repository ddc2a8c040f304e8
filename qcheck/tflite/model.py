"""The read-only model view that rules see: frozen values decoded once from the FlatBuffer."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple, TypeVar

import numpy as np

from qcheck.tflite import scan
from qcheck.tflite.flatbuf import Buffer as RawBuffer
from qcheck.tflite.records import (
    BlockwiseQuantization,
    BufferInfo,
    ConversionMetadata,
    CustomQuantization,
    Details,
    MultiAxisQuantization,
    OperatorCode,
    Quantization,
    SignatureDef,
    Sparsity,
)
from qcheck.tflite.schema import ELEMENT_BITS, NUMPY_DTYPES

# The record types live in records.py; they are part of this module's interface too.
__all__ = [
    "BlockwiseQuantization", "BufferInfo", "ConversionMetadata", "CustomQuantization", "Details", "Model",
    "MultiAxisQuantization", "Operator", "OperatorCode", "Quantization", "SignatureDef", "Sparsity", "Subgraph", "Tensor",
]

T = TypeVar("T")
_HUGE = 1 << 63


class Tensor(NamedTuple):
    """One tensor of a subgraph."""

    index: int  # type: ignore[assignment]  # (shadows tuple.index, on purpose)
    name: str
    dtype: str  # TensorType name, "UNKNOWN(n)" for values newer than qcheck
    shape: tuple[int, ...]
    buffer: int
    quantization: Quantization | None = None
    is_variable: bool = False
    shape_signature: tuple[int, ...] | None = None
    sparsity: Sparsity | None = None
    has_rank: bool = False
    external_buffer: int = 0

    @property
    def num_elements(self) -> int:
        """The product of the dimensions; past 2**63 in magnitude only "huge" (more than any file holds).

        Stopping there keeps a hostile shape of 20,000 large dimensions from costing seconds of
        big-integer multiplication in every rule that asks.
        """
        n = 1
        for d in self.shape:
            n *= d
            if not -_HUGE < n < _HUGE:
                return 0 if 0 in self.shape else n
        return n

    @property
    def quantized(self) -> bool:
        """True when the tensor carries affine quantization parameters."""
        q = self.quantization  # (Quantization.is_affine, inlined: every rule asks, for every tensor)
        return q is not None and q.details_type == 0 and len(q.scale) > 0


class Operator(NamedTuple):
    """One operator of a subgraph; `inputs` keeps -1 for absent optional inputs."""

    index: int  # type: ignore[assignment]  # (shadows tuple.index, on purpose)
    opcode_index: int
    opcode: str  # effective builtin name ("CUSTOM" for custom ops: the name is OperatorCode.custom_code)
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    intermediates: tuple[int, ...] = ()
    options_type: str | None = None  # name of the BuiltinOptions table, e.g. "Conv2DOptions"
    options: Mapping[str, object] = MappingProxyType({})
    is_custom: bool = False


class Subgraph(NamedTuple):
    """One subgraph: tensors, operators in execution order, graph inputs and outputs."""

    index: int  # type: ignore[assignment]  # (shadows tuple.index, on purpose)
    name: str
    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    producers: Mapping[int, int]  # tensor index -> index of the operator writing it
    consumers: Mapping[int, Sequence[int]]  # tensor index -> operators reading it

    def tensor(self, index: int) -> Tensor | None:
        """The tensor at `index`, or None for -1 and for out-of-range indices."""
        return self.tensors[index] if 0 <= index < len(self.tensors) else None

    def inputs_of(self, op: Operator) -> tuple[Tensor | None, ...]:
        return tuple(self.tensor(i) for i in op.inputs)

    def producer(self, tensor: int) -> Operator | None:
        i = self.producers.get(tensor)
        return None if i is None else self.operators[i]

    def consumers_of(self, tensor: int) -> tuple[Operator, ...]:
        return tuple(self.operators[i] for i in self.consumers.get(tensor, ()))


@dataclass(frozen=True, slots=True, eq=False)
class Model:
    """A parsed .tflite model. Tensor data are zero-copy views of the (memory-mapped) file."""

    path: Path | None
    file_size: int
    version: int
    description: str | None
    operator_codes: tuple[OperatorCode, ...]
    subgraphs: tuple[Subgraph, ...]
    buffers: tuple[BufferInfo, ...]
    metadata: Mapping[str, int]  # metadata name -> buffer index
    signature_defs: tuple[SignatureDef, ...]
    conversion_metadata: ConversionMetadata | None
    min_runtime_version: str | None
    raw: RawBuffer = field(repr=False)
    _memo: dict[object, object] = field(default_factory=dict, repr=False)

    @property
    def main(self) -> Subgraph:
        return self.subgraphs[0]

    def buffer_of(self, tensor: Tensor) -> BufferInfo | None:
        """The buffer entry a tensor points at, or None when the index is out of range."""
        return self.buffers[tensor.buffer] if 0 <= tensor.buffer < len(self.buffers) else None

    def is_constant(self, tensor: Tensor) -> bool:
        """True when the tensor has data stored in the file."""
        i = tensor.buffer
        return 0 <= i < len(self.buffers) and self.buffers[i].size > 0

    def raw_data(self, tensor: Tensor) -> np.ndarray | None:
        """The tensor's bytes as a zero-copy uint8 view, or None when it has none."""
        buf = self.buffer_of(tensor)
        if buf is None or buf.size == 0:
            return None
        return np.frombuffer(self.raw, dtype=np.uint8, count=buf.size, offset=buf.offset)

    def array(self, tensor: Tensor) -> np.ndarray | None:
        """The tensor's values as a zero-copy numpy view (flat), or None.

        None also when the dtype has no numpy equivalent (packed INT4/INT2, FLOAT8, STRING) or
        when the byte length does not match the dtype (a container rule reports that).
        """
        buf = self.buffer_of(tensor)
        np_dtype = NUMPY_DTYPES.get(tensor.dtype)
        if buf is None or buf.size == 0 or np_dtype is None:
            return None
        item = ELEMENT_BITS[tensor.dtype] // 8
        if buf.size % item:
            return None
        return np.frombuffer(self.raw, dtype=np_dtype, count=buf.size // item, offset=buf.offset)

    def memo(self, key: object, compute: Callable[[], T]) -> T:
        """Compute a derived fact once per model (e.g. one scan per weight buffer, shared by rules)."""
        try:
            return self._memo[key]  # type: ignore[return-value]
        except KeyError:
            value = self._memo[key] = compute()
            return value

    def channel_range(self, tensor: Tensor, axis: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Per-index (min, max) of the stored values along `axis`: one chunked pass per buffer.

        None when the tensor has no data, a dtype numpy cannot hold, or a shape that does not
        match its data (a container rule reports that).
        """
        values = self.array(tensor)
        shape = tensor.shape
        # min(shape) < 0: an even number of -1 dimensions can multiply out to the data's size.
        if values is None or not shape or not 0 <= axis < len(shape) or min(shape) < 0 or values.size != tensor.num_elements or values.size == 0:
            return None
        key = ("range", tensor.buffer, values.dtype.str, shape, axis)
        return self.memo(key, lambda: scan.channel_range(self.raw, values.reshape(shape), axis))

    def value_range(self, tensor: Tensor) -> tuple[float, float] | None:
        """(min, max) of a constant tensor's stored values, derived from its per-channel scan."""
        q = tensor.quantization
        axis = q.quantized_dimension if q is not None and q.per_axis and 0 <= q.quantized_dimension < len(tensor.shape) else 0
        ranges = self.channel_range(tensor, axis)
        if ranges is None:
            values = self.array(tensor)  # rank 0, or a shape that disagrees with the data
            if values is None or values.size == 0 or values.size > 1 << 20:
                return None
            return values.min().item(), values.max().item()
        return ranges[0].min().item(), ranges[1].max().item()

    def channel_absmax(self, tensor: Tensor, axis: int) -> np.ndarray | None:
        """max |value| per index of `axis` (e.g. per output channel), from the same scan."""
        ranges = self.channel_range(tensor, axis)
        if ranges is None:
            return None
        wide = np.int64 if ranges[0].dtype.kind in "iu" else np.float64  # |-128| does not fit in int8
        return np.maximum(ranges[1].astype(wide), -ranges[0].astype(wide))

    def iter_operators(self) -> Iterator[tuple[Subgraph, Operator]]:
        for sg in self.subgraphs:
            for op in sg.operators:
                yield sg, op

    def iter_tensors(self) -> Iterator[tuple[Subgraph, Tensor]]:
        for sg in self.subgraphs:
            for t in sg.tensors:
                yield sg, t
