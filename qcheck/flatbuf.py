"""Bounds-checked FlatBuffer primitives: read tables, vectors and strings without trusting the file."""

from __future__ import annotations

import struct
import mmap
from typing import Final

import numpy as np

from qcheck.errors import ModelError

_U8: Final = struct.Struct("<B")
_U16: Final = struct.Struct("<H")
_I32: Final = struct.Struct("<i")
_U32: Final = struct.Struct("<I")
_I64: Final = struct.Struct("<q")
_U64: Final = struct.Struct("<Q")
_F32: Final = struct.Struct("<f")

# Vector element formats by name, for `Table.vector`.
_ELEMENT: Final = {"i": 4, "I": 4, "f": 4, "q": 8, "B": 1, "b": 1, "H": 2, "?": 1}
_NP: Final = {"i": "<i4", "I": "<u4", "f": "<f4", "q": "<i8", "B": "u1", "b": "i1", "H": "<u2", "?": "u1"}

# What the reader accepts as a model's bytes: all of them give zero-copy numpy views.
Buffer = bytes | bytearray | memoryview | mmap.mmap


class Table:
    """One FlatBuffer table: field lookups check every offset against the buffer's size."""

    __slots__ = ("buf", "end", "fields", "pos", "size", "what")

    def __init__(self, buf: Buffer, pos: int, what: str, end: int | None = None) -> None:
        self.buf = buf
        self.end = len(memoryview(buf)) if end is None else end
        self.what = what
        if pos < 0 or pos + 4 > self.end:
            raise ModelError(f"{what}: table offset {pos} lies outside the file ({self.end} bytes)")
        vtable = pos - _I32.unpack_from(buf, pos)[0]
        if vtable < 0 or vtable + 4 > self.end:
            raise ModelError(f"{what}: vtable at byte {vtable} lies outside the file")
        vt_len, tab_len = struct.unpack_from("<HH", buf, vtable)
        if vt_len < 4 or vt_len % 2 or vtable + vt_len > self.end or pos + tab_len > self.end:
            raise ModelError(f"{what}: malformed vtable at byte {vtable}")
        self.pos = pos
        self.size = tab_len
        n = (vt_len - 4) // 2
        self.fields: tuple[int, ...] = struct.unpack_from(f"<{n}H", buf, vtable + 4) if n else ()

    def _field(self, slot: int, width: int) -> int:
        """Absolute position of field `slot`, or 0 when absent."""
        if slot >= len(self.fields):
            return 0
        off = self.fields[slot]
        if off == 0:
            return 0
        if off + width > self.size:
            raise ModelError(f"{self.what}: field {slot} runs past the end of its table at byte {self.pos}")
        return self.pos + off

    def has(self, slot: int) -> bool:
        return slot < len(self.fields) and self.fields[slot] != 0

    def u8(self, slot: int, default: int = 0) -> int:
        p = self._field(slot, 1)
        return _U8.unpack_from(self.buf, p)[0] if p else default

    def i8(self, slot: int, default: int = 0) -> int:
        p = self._field(slot, 1)
        return struct.unpack_from("<b", self.buf, p)[0] if p else default

    def bool(self, slot: int, default: bool = False) -> bool:
        return bool(self.u8(slot, int(default)))

    def i32(self, slot: int, default: int = 0) -> int:
        p = self._field(slot, 4)
        return _I32.unpack_from(self.buf, p)[0] if p else default

    def u32(self, slot: int, default: int = 0) -> int:
        p = self._field(slot, 4)
        return _U32.unpack_from(self.buf, p)[0] if p else default

    def u64(self, slot: int, default: int = 0) -> int:
        p = self._field(slot, 8)
        return _U64.unpack_from(self.buf, p)[0] if p else default

    def f32(self, slot: int, default: float = 0.0) -> float:
        p = self._field(slot, 4)
        return _F32.unpack_from(self.buf, p)[0] if p else default

    def _target(self, slot: int) -> int:
        """Follow the uoffset in field `slot`; 0 when absent."""
        p = self._field(slot, 4)
        if not p:
            return 0
        target = p + _U32.unpack_from(self.buf, p)[0]
        if target + 4 > self.end:
            raise ModelError(f"{self.what}: field {slot} points to byte {target}, past the end of the file")
        return target

    def table(self, slot: int, what: str) -> Table | None:
        t = self._target(slot)
        return Table(self.buf, t, what, self.end) if t else None

    def _vector_span(self, slot: int, width: int) -> tuple[int, int] | None:
        """(start, count) of a vector field after checking it fits in the file."""
        t = self._target(slot)
        if not t:
            return None
        n = _U32.unpack_from(self.buf, t)[0]
        start = t + 4
        if n * width > self.end - start:
            raise ModelError(f"{self.what}: vector in field {slot} claims {n} elements, more than the file holds")
        return start, n

    def vector(self, slot: int, fmt: str) -> tuple[int, ...] | tuple[float, ...]:
        """A vector of scalars as a tuple (fast for the short vectors of shapes and indices)."""
        span = self._vector_span(slot, _ELEMENT[fmt])
        if span is None or span[1] == 0:
            return ()
        return struct.unpack_from(f"<{span[1]}{fmt}", self.buf, span[0])

    def array(self, slot: int, fmt: str) -> np.ndarray | None:
        """A vector of scalars as a zero-copy numpy view, or None when absent."""
        span = self._vector_span(slot, _ELEMENT[fmt])
        if span is None:
            return None
        return np.frombuffer(self.buf, dtype=_NP[fmt], count=span[1], offset=span[0])

    def bytes_span(self, slot: int) -> tuple[int, int] | None:
        """(file offset, length) of a [ubyte] vector, without copying it."""
        return self._vector_span(slot, 1)

    def string(self, slot: int) -> str | None:
        span = self._vector_span(slot, 1)
        if span is None:
            return None
        raw = bytes(memoryview(self.buf)[span[0] : span[0] + span[1]])
        return raw.decode("utf-8", errors="replace")

    def tables(self, slot: int, what: str) -> list[Table]:
        """A vector of tables; each element is checked as it is opened."""
        span = self._vector_span(slot, 4)
        if span is None:
            return []
        start, n = span
        offsets = struct.unpack_from(f"<{n}I", self.buf, start)
        return [Table(self.buf, start + 4 * i + off, f"{what}[{i}]", self.end) for i, off in enumerate(offsets)]


def root(buf: Buffer, end: int) -> Table:
    """The root table of a FlatBuffer whose first four bytes hold its offset."""
    if end < 8:
        raise ModelError(f"file too short to be a FlatBuffer ({end} bytes)")
    return Table(buf, _U32.unpack_from(buf, 0)[0], "Model", end)
