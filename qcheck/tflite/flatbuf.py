"""Bounds-checked FlatBuffer primitives: read tables, vectors and strings without trusting the file."""

from __future__ import annotations

import mmap
import struct
from typing import Final

import numpy as np

from qcheck.errors import ModelError

_U8: Final = struct.Struct("<B")
_I8: Final = struct.Struct("<b")
_HH: Final = struct.Struct("<HH")
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
    """One FlatBuffer table. Offsets that lead outside the file raise ModelError.

    Scalar reads are not checked one by one: a field that runs past the end of the buffer makes
    struct raise struct.error, which `reader.parse` turns into a ModelError. Every position that
    is followed (tables, vectors, strings) and every vector length is checked here, before any
    allocation sized by it.
    """

    __slots__ = ("buf", "end", "fields", "pos", "what")

    def __init__(self, buf: Buffer, pos: int, what: str, end: int) -> None:
        if pos < 0 or pos + 4 > end:
            raise ModelError(f"{what}: table offset {pos} lies outside the file ({end} bytes)")
        vtable = pos - _I32.unpack_from(buf, pos)[0]
        if vtable < 0 or vtable + 4 > end:
            raise ModelError(f"{what}: vtable at byte {vtable} lies outside the file")
        vt_len, tab_len = _HH.unpack_from(buf, vtable)
        if vt_len < 4 or vt_len & 1 or vtable + vt_len > end or pos + tab_len > end:
            raise ModelError(f"{what}: malformed vtable at byte {vtable}")
        self.buf = buf
        self.end = end
        self.what = what
        self.pos = pos
        n = (vt_len - 4) >> 1
        self.fields: tuple[int, ...] = _offsets(n).unpack_from(buf, vtable + 4) if n else ()
        if n and max(self.fields) >= tab_len:
            raise ModelError(f"{what}: vtable at byte {vtable} puts a field at offset {max(self.fields)}, outside its {tab_len}-byte table at byte {pos}")

    def _at(self, slot: int) -> int:
        """Absolute position of field `slot`, or 0 when absent."""
        f = self.fields
        return self.pos + f[slot] if slot < len(f) and f[slot] else 0

    def has(self, slot: int) -> bool:
        return self._at(slot) != 0

    def u8(self, slot: int, default: int = 0) -> int:
        p = self._at(slot)
        return _U8.unpack_from(self.buf, p)[0] if p else default

    def i8(self, slot: int, default: int = 0) -> int:
        p = self._at(slot)
        return _I8.unpack_from(self.buf, p)[0] if p else default

    def bool(self, slot: int, default: bool = False) -> bool:
        p = self._at(slot)
        return _U8.unpack_from(self.buf, p)[0] != 0 if p else default

    def i32(self, slot: int, default: int = 0) -> int:
        p = self._at(slot)
        return _I32.unpack_from(self.buf, p)[0] if p else default

    def u32(self, slot: int, default: int = 0) -> int:
        p = self._at(slot)
        return _U32.unpack_from(self.buf, p)[0] if p else default

    def u64(self, slot: int, default: int = 0) -> int:
        p = self._at(slot)
        return _U64.unpack_from(self.buf, p)[0] if p else default

    def f32(self, slot: int, default: float = 0.0) -> float:
        p = self._at(slot)
        return _F32.unpack_from(self.buf, p)[0] if p else default

    def _target(self, slot: int) -> int:
        """Follow the uoffset in field `slot`; 0 when absent."""
        p = self._at(slot)
        if not p:
            return 0
        target = p + _U32.unpack_from(self.buf, p)[0]
        if target + 4 > self.end:
            raise ModelError(f"{self.what}: field {slot} points to byte {target}, past the end of the file ({self.end} bytes)")
        return target

    def table(self, slot: int, what: str) -> Table | None:
        t = self._target(slot)
        return Table(self.buf, t, what, self.end) if t else None

    def _span(self, slot: int, width: int) -> tuple[int, int]:
        """(start, count) of a vector field, checked to fit in the file; (0, -1) when absent."""
        t = self._target(slot)
        if not t:
            return 0, -1
        n = _U32.unpack_from(self.buf, t)[0]
        if n * width > self.end - t - 4:
            raise ModelError(f"{self.what}: vector in field {slot} at byte {t} claims {n} elements, more than the file holds")
        return t + 4, n

    def vector(self, slot: int, fmt: str) -> tuple[int, ...] | tuple[float, ...]:
        """A vector of scalars as a tuple (fast for the short vectors of shapes and indices)."""
        start, n = self._span(slot, _ELEMENT[fmt])
        return struct.unpack_from(f"<{n}{fmt}", self.buf, start) if n > 0 else ()

    def array(self, slot: int, fmt: str) -> np.ndarray | None:
        """A vector of scalars as a zero-copy numpy view, or None when absent."""
        start, n = self._span(slot, _ELEMENT[fmt])
        return None if n < 0 else np.frombuffer(self.buf, dtype=_NP[fmt], count=n, offset=start)

    def bytes_span(self, slot: int) -> tuple[int, int] | None:
        """(file offset, length) of a [ubyte] vector, without copying it."""
        start, n = self._span(slot, 1)
        return None if n < 0 else (start, n)

    def string(self, slot: int) -> str | None:
        start, n = self._span(slot, 1)
        if n < 0:
            return None
        return str(self.buf[start : start + n], "utf-8", "replace")

    def tables(self, slot: int, what: str) -> list[Table]:
        """A vector of tables; each element is checked as it is opened."""
        start, n = self._span(slot, 4)
        if n <= 0:
            return []
        offsets = struct.unpack_from(f"<{n}I", self.buf, start)
        buf, end = self.buf, self.end
        return [Table(buf, start + 4 * i + off, what, end) for i, off in enumerate(offsets)]


def _offsets(n: int) -> struct.Struct:
    s = _OFFSETS.get(n)
    if s is None:
        s = _OFFSETS[n] = struct.Struct(f"<{n}H")
    return s


_OFFSETS: dict[int, struct.Struct] = {}


def root(buf: Buffer, end: int) -> Table:
    """The root table of a FlatBuffer whose first four bytes hold its offset."""
    if end < 8:
        raise ModelError(f"file too short to be a FlatBuffer ({end} bytes)")
    return Table(buf, _U32.unpack_from(buf, 0)[0], "Model", end)
