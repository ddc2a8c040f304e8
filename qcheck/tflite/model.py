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
from qcheck.tflite.schema import ELEMENT_BITS, NUMPY_DTYPES

T = TypeVar("T")
_HUGE = 1 << 63


class BlockwiseQuantization(NamedTuple):
    """QuantizationDetails.BlockwiseQuantization: scales and zero points live in other tensors."""

    scales: int
    zero_points: int
    block_size: int


class MultiAxisQuantization(NamedTuple):
    """QuantizationDetails.MultiAxisQuantization (newest schema)."""

    scales: int
    zero_points: int
    block_size: int
    quantized_dimensions: tuple[int, ...]


class CustomQuantization(NamedTuple):
    """QuantizationDetails.CustomQuantization: opaque bytes."""

    size: int


Details = BlockwiseQuantization | MultiAxisQuantization | CustomQuantization


class Quantization(NamedTuple):
    """QuantizationParameters of one tensor; `real = scale * (q - zero_point)`.

    (qcheck's value types are NamedTuples: immutable like frozen dataclasses, but five times
    cheaper to build, which matters at 50,000 tensors, and seven times cheaper to define: a
    frozen dataclass costs 0.9 ms at import, and two dozen of them were a tenth of a run.)
    """

    scale: np.ndarray  # float32, may be empty
    zero_point: np.ndarray  # int64, may be empty
    quantized_dimension: int = 0
    min: np.ndarray | None = None
    max: np.ndarray | None = None
    details: Details | None = None
    details_type: int = 0  # the union's raw type id, kept when it is newer than this reader

    @property
    def is_affine(self) -> bool:
        """True when scale/zero_point carry the quantization (no `details` override)."""
        return self.details_type == 0 and len(self.scale) > 0

    @property
    def per_axis(self) -> bool:
        """True for more than one scale: per-axis (per-channel) quantization."""
        return len(self.scale) > 1


class Sparsity(NamedTuple):
    """SparsityParameters, reduced to what a validator needs."""

    traversal_order: tuple[int, ...]
    block_map: tuple[int, ...]
    dim_formats: tuple[int, ...]  # 0 DENSE, 1 SPARSE_CSR per traversal dimension


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


class OperatorCode(NamedTuple):
    """An entry of Model.operator_codes."""

    index: int  # type: ignore[assignment]  # (shadows tuple.index, on purpose)
    name: str  # effective BuiltinOperator name (max of the two code fields), or CUSTOM
    builtin_code: int
    deprecated_builtin_code: int
    custom_code: str | None
    version: int

    @property
    def code(self) -> int:
        # The byte field cannot hold codes >= 127, and schema-v3 files lack the int32 field.
        return max(self.builtin_code, self.deprecated_builtin_code)


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


class BufferInfo(NamedTuple):
    """Where one Model.buffers entry keeps its bytes: inside the FlatBuffer or after it."""

    index: int  # type: ignore[assignment]  # (a field named like tuple.index, deliberately)
    offset: int  # file offset of the first byte; 0 for an empty buffer
    size: int
    external: bool = False  # located by Buffer.offset/size (models over 2 GB)
    problem: str | None = None  # why the declared bytes cannot be used (a container rule reports it)


class SignatureDef(NamedTuple):
    """A named entry point: input/output names mapped to tensor indices of a subgraph."""

    key: str | None
    subgraph: int
    inputs: Mapping[str, int]
    outputs: Mapping[str, int]


class ConversionMetadata(NamedTuple):
    """The converter's own record (the CONVERSION_METADATA metadata entry)."""

    tensorflow_version: str | None
    api_version: int
    model_type: int
    optimization_modes: tuple[str, ...]
    allow_custom_ops: bool
    enable_select_tf_ops: bool


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
