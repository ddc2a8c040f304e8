"""Exhaustive structural damage to small models: every boundary, offset, length, index and union."""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest
from robust_check import ROOT, Checker, memory_limit
from robust_mutate import NASTY_FLOATS, NASTY_U32
from robust_walk import FileMap, walk

import qcheck
from qcheck.tflite.builder import ModelBuilder


def _control_flow_model(external: bool = False) -> bytes:
    """Two subgraphs, a WHILE, a signature, metadata: every table kind qcheck reads, in 2 kB."""
    b = ModelBuilder()
    x = b.tensor("x", "INT8", [1, 4], scale=0.5, zero_point=-1)
    w = b.tensor("w", "INT8", [4, 4], data=bytes(range(16)), scale=[0.1, 0.2, 0.3, 0.4], zero_point=[0] * 4)
    y = b.tensor("y", "INT8", [1, 4], scale=0.25, zero_point=3, shape_signature=[-1, 4])
    b.op("FULLY_CONNECTED", [x, w, -1], [y], options={"fused_activation_function": "RELU"})
    body = b.subgraph("body")
    bi = b.tensor("bi", "INT8", [1, 4], scale=0.25, zero_point=3, subgraph=body)
    bo = b.tensor("bo", "INT8", [1, 4], scale=0.25, zero_point=3, subgraph=body)
    b.op("RELU", [bi], [bo], subgraph=body)
    b.io([bi], [bo], subgraph=body)
    z = b.tensor("z", "INT8", [1, 4], scale=0.25, zero_point=3)
    b.op("WHILE", [y], [z], options={"cond_subgraph_index": 1, "body_subgraph_index": 1})
    b.io([x], [z])
    b.signature("serving_default", {"x": x}, {"z": z})
    b.metadata("min_runtime_version", b"2.3.0\0\0\0\0\0\0\0\0\0\0\0")
    return b.build(external=external)


SEEDS = {"control_flow": _control_flow_model(), "external_buffers": _control_flow_model(external=True), "clean_conv": (ROOT / "fixtures" / "models" / "builder_int8_conv_clean.tflite").read_bytes()}


def _patched(data: bytes, pos: int, fmt: str, value: object) -> bytes:
    b = bytearray(data)
    struct.pack_into(fmt, b, pos, value)
    return bytes(b)


def damaged(data: bytes, fm: FileMap) -> Iterator[tuple[str, bytes]]:
    """Every targeted damage of every structural point of one file."""
    size = len(data)
    for cut in sorted({p.pos + d for p in fm.points for d in (0, 1, 2, 4) if 0 <= p.pos + d < size}):
        yield f"truncated at {cut}", data[:cut]
    for p in fm.of("uoffset"):
        for value in (0, size - p.pos, size - p.pos - 4, 0xFFFFFFFC, 0x80000000, 4, 8):
            yield f"{p.what} offset at {p.pos} = {value}", _patched(data, p.pos, "<I", value & 0xFFFFFFFF)
    for p in fm.of("veclen"):
        for value in (*NASTY_U32, size // 4, size):
            yield f"{p.what} length at {p.pos} = {value}", _patched(data, p.pos, "<I", value)
    for p in fm.of("table"):
        for value in (0, 4, -4, size, -size, 2**31 - 1, -(2**31)):
            yield f"{p.what} soffset at {p.pos} = {value}", _patched(data, p.pos, "<i", value)
    for p in fm.of("vtable"):
        for at, value in ((0, 0), (0, 3), (0, 0xFFFF), (2, 0), (2, 0xFFFF), (0, 2)):
            yield f"{p.what} vtable at {p.pos}+{at} = {value}", _patched(data, p.pos + at, "<H", value)
    for p in fm.of("vfield"):
        for value in (0xFFFF, 1, 3):
            yield f"{p.what} field offset at {p.pos} = {value}", _patched(data, p.pos, "<H", value)
    for p in fm.points:
        if p.role in ("tensor_index", "buffer_index", "opcode_index", "subgraph_index", "axis", "shape", "version") and p.width == 4:
            for value in (-1, -2, -(2**31), 2**31 - 1, 5, 64):
                yield f"{p.what} = {value}", _patched(data, p.pos, "<i", value)
        elif p.role == "union_type" or (p.role == "dtype" and p.width == 1):
            for value in (0, 1, 2, 3, 127, 200, 255):
                yield f"{p.what} = {value}", _patched(data, p.pos, "<B", value)
        elif p.role == "scale":
            for value in NASTY_FLOATS:
                yield f"{p.what} = {value}", _patched(data, p.pos, "<f", value)
        elif p.role in ("offset", "size") and p.width == 8:
            for value in (0, 1, size, size + 1, 2**63, 2**64 - 1):
                yield f"{p.what} = {value}", _patched(data, p.pos, "<Q", value)
        elif p.role == "zero_point":
            for value in (-(2**63), 2**63 - 1, 128, -129):
                yield f"{p.what} = {value}", _patched(data, p.pos, "<q", value)


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_structural_damage(name: str, checker: Checker) -> None:
    data = SEEDS[name]
    qcheck.load(data)  # the undamaged seed is valid
    cases = list(damaged(data, walk(data)))
    assert len(cases) > 1000
    failures = []
    with memory_limit():
        for what, mutated in cases:
            problem = checker.check(mutated)
            if problem:
                failures.append(f"{what}: {problem}")
    assert not failures, f"{len(failures)} of {len(cases)} damaged inputs broke the invariant:\n" + "\n".join(failures[:10])


def test_truncation_messages_name_a_place() -> None:
    """A cut file's error says what is wrong and where (a byte position or the size)."""
    data = SEEDS["clean_conv"]
    for cut in (8, 12, 64, len(data) // 2, len(data) - 200):
        with pytest.raises(qcheck.ModelError) as e:
            qcheck.load(data[:cut])
        message = str(e.value)
        assert "\n" not in message and any(ch.isdigit() for ch in message), message


def test_every_external_buffer_past_the_end_is_reported(checker: Checker) -> None:
    """Damage to Buffer.offset/size is never silently dropped: QC006 names the buffer."""
    data = SEEDS["external_buffers"]
    points = [p for p in walk(data).points if p.role in ("offset", "size") and p.width == 8]
    assert len(points) >= 4
    for p in points:
        for value in (len(data) + 1, 2**63, 2**64 - 1):
            report = qcheck.verify(_patched(data, p.pos, "<Q", value), registry=checker.registry)
            assert "QC006" in {f.code for f in report.findings}, (p.what, value)
