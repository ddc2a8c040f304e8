"""Hand-built hostile FlatBuffers that mutation rarely finds: shared (aliased) tables and vectors."""

from __future__ import annotations

import flatbuffers
import numpy as np


def _vector(b: flatbuffers.Builder, offsets: list[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return b.EndVector()


def _tensor(b: flatbuffers.Builder, shape: int, name: int, buffer: int = 0) -> int:
    b.StartObject(11)
    b.PrependUOffsetTRelativeSlot(0, shape, 0)
    b.PrependInt8Slot(1, 9, 0)  # INT8
    b.PrependUint32Slot(2, buffer, 0)
    b.PrependUOffsetTRelativeSlot(3, name, 0)
    return b.EndObject()


def _model(b: flatbuffers.Builder, subgraphs: list[int], extra_codes: int = 0) -> bytes:
    b.StartObject(3)
    empty_buffer = b.EndObject()
    buffers = _vector(b, [empty_buffer])
    sgs = _vector(b, subgraphs)
    codes = []
    for _ in range(extra_codes):
        b.StartObject(4)
        b.PrependInt32Slot(3, 0, 0)
        codes.append(b.EndObject())
    opcodes = _vector(b, codes)
    b.StartObject(8)
    b.PrependUint32Slot(0, 3, 0)
    b.PrependUOffsetTRelativeSlot(1, opcodes, 0)
    b.PrependUOffsetTRelativeSlot(2, sgs, 0)
    b.PrependUOffsetTRelativeSlot(4, buffers, 0)
    b.Finish(b.EndObject(), file_identifier=b"TFL3")
    return bytes(b.Output())


def _subgraph(b: flatbuffers.Builder, tensors: list[int], ops: list[int] | None = None) -> int:
    tv = _vector(b, tensors)
    ov = _vector(b, ops or [])
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, tv, 0)
    b.PrependUOffsetTRelativeSlot(3, ov, 0)
    return b.EndObject()


def shared_shape(tensors: int, rank: int) -> bytes:
    """`tensors` tensor tables that all point at one shape vector of `rank` dimensions."""
    b = flatbuffers.Builder(1024)
    shape = b.CreateNumpyVector(np.ones(rank, dtype="<i4"))
    name = b.CreateString("t")
    t = _tensor(b, shape, name)
    return _model(b, [_subgraph(b, [t] * tensors)])


def shared_name(tensors: int, length: int) -> bytes:
    """`tensors` tensors sharing one name string of `length` bytes."""
    b = flatbuffers.Builder(1024)
    shape = b.CreateNumpyVector(np.ones(1, dtype="<i4"))
    name = b.CreateString("n" * length)
    t = _tensor(b, shape, name)
    return _model(b, [_subgraph(b, [t] * tensors)])


def shared_subgraph(copies: int, tensors: int) -> bytes:
    """A subgraphs vector of `copies` entries that all point at one subgraph of `tensors` tensors."""
    b = flatbuffers.Builder(1024)
    shape = b.CreateNumpyVector(np.ones(4, dtype="<i4"))
    name = b.CreateString("t")
    ts = [_tensor(b, shape, name) for _ in range(tensors)]
    sg = _subgraph(b, ts)
    return _model(b, [sg] * copies)


def shared_operator_io(ops: int, width: int) -> bytes:
    """`ops` operators sharing one inputs vector of `width` tensor indices."""
    b = flatbuffers.Builder(1024)
    shape = b.CreateNumpyVector(np.ones(1, dtype="<i4"))
    name = b.CreateString("t")
    t = _tensor(b, shape, name)
    io = b.CreateNumpyVector(np.zeros(width, dtype="<i4"))
    b.StartObject(9)
    b.PrependUint32Slot(0, 0, 0)
    b.PrependUOffsetTRelativeSlot(1, io, 0)
    b.PrependUOffsetTRelativeSlot(2, io, 0)
    op = b.EndObject()
    return _model(b, [_subgraph(b, [t], [op] * ops)], extra_codes=1)


def empty_root() -> bytes:
    """A Model table with no fields at all."""
    b = flatbuffers.Builder(64)
    b.StartObject(8)
    b.Finish(b.EndObject(), file_identifier=b"TFL3")
    return bytes(b.Output())


def nested_aliases(n: int) -> bytes:
    """n subgraph entries -> one subgraph whose n tensor entries -> one tensor whose shape has n
    dimensions and whose name has n bytes, plus n operators sharing one n-entry inputs vector:
    about 16n bytes that naively decode to n**3 integers."""
    b = flatbuffers.Builder(1024)
    shape = b.CreateNumpyVector(np.ones(n, dtype="<i4"))
    name = b.CreateString("n" * n)
    t = _tensor(b, shape, name)
    io = b.CreateNumpyVector(np.zeros(n, dtype="<i4"))
    b.StartObject(9)
    b.PrependUOffsetTRelativeSlot(1, io, 0)
    b.PrependUOffsetTRelativeSlot(2, io, 0)
    op = b.EndObject()
    sg = _subgraph(b, [t] * n, [op] * n)
    return _model(b, [sg] * n, extra_codes=1)


def long_shape(rank: int, dim: int = 2**31 - 1) -> bytes:
    """One constant INT8 tensor whose shape has `rank` dimensions of `dim` (and one byte of data)."""
    from qcheck.tflite.builder import ModelBuilder

    b = ModelBuilder()
    t = b.tensor("huge", "INT8", [dim] * rank, data=b"\x01", scale=0.5, zero_point=0)
    b.io([t], [t])
    return b.build()


def external_buffer_groups(paths: list[str]) -> bytes:
    """A model whose constant tensor lives in an external buffer group named by a file path
    (Model.external_buffer_groups / external_buffers, schema 3d): readers must not open them."""
    b = flatbuffers.Builder(1024)
    groups = []
    for p in paths:
        name = b.CreateString(p)
        b.StartObject(1)
        b.PrependUOffsetTRelativeSlot(0, name, 0)
        groups.append(b.EndObject())
    b.StartObject(5)  # ExternalBuffer: id, group, offset, length, packing
    b.PrependUint32Slot(0, 1, 0)
    b.PrependUint32Slot(1, 0, 0)
    b.PrependUint64Slot(2, 0, 0)
    b.PrependUint64Slot(3, 16, 0)
    ext = b.EndObject()
    shape = b.CreateNumpyVector(np.array([16], dtype="<i4"))
    name = b.CreateString("weights")
    b.StartObject(11)
    b.PrependUOffsetTRelativeSlot(0, shape, 0)
    b.PrependInt8Slot(1, 9, 0)  # INT8
    b.PrependUOffsetTRelativeSlot(3, name, 0)
    b.PrependUint32Slot(10, 1, 0)  # external_buffer id 1
    t = b.EndObject()
    sg = _subgraph(b, [t])
    b.StartObject(3)
    empty = b.EndObject()
    buffers, sgs = _vector(b, [empty]), _vector(b, [sg])
    gvec, evec = _vector(b, groups), _vector(b, [ext])
    b.StartObject(10)
    b.PrependUint32Slot(0, 3, 0)
    b.PrependUOffsetTRelativeSlot(2, sgs, 0)
    b.PrependUOffsetTRelativeSlot(4, buffers, 0)
    b.PrependUOffsetTRelativeSlot(8, gvec, 0)
    b.PrependUOffsetTRelativeSlot(9, evec, 0)
    b.Finish(b.EndObject(), file_identifier=b"TFL3")
    return bytes(b.Output())
