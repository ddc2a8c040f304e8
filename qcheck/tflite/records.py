"""The small value types of the model view: quantization parameters and details, sparsity, operator codes, buffers, signatures, conversion metadata."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np


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
