"""Vectorised FlatBuffer reads: decode the same field of thousands of tables in one numpy pass.

Every function returns None when anything is unusual (misaligned, out of range, malformed), and
the caller then takes the per-table path of `flatbuf`, which raises the precise ModelError.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qcheck.errors import ModelError
from qcheck.tflite.flatbuf import Buffer

# A file whose tables and vectors do not overlap yields at most one decoded element (tensor,
# operator, vector entry, string byte) per byte; the factor covers a fast path that gives up
# half-way and shared strings. Only aliased offsets exceed it: without this cap, a 160 kB file
# whose 20,000 tensors share one 20,000-entry shape vector would decode 400 million integers.
BUDGET_PER_BYTE = 4
BUDGET_SLACK = 1 << 16


class FileViews:
    """Aligned whole-file views: u8, u16, u32, i32, f32, i64 (zero-copy), and the decoding budget."""

    def __init__(self, buf: Buffer, end: int) -> None:
        self.buf = buf
        self.end = end
        self.budget = BUDGET_PER_BYTE * end + BUDGET_SLACK
        self.u8 = np.frombuffer(buf, dtype=np.uint8, count=end)
        self.u16 = np.frombuffer(buf, dtype="<u2", count=end // 2)
        self.u32 = np.frombuffer(buf, dtype="<u4", count=end // 4)
        self.i32 = np.frombuffer(buf, dtype="<i4", count=end // 4)
        self.f32 = np.frombuffer(buf, dtype="<f4", count=end // 4)
        self.i64 = np.frombuffer(buf, dtype="<i8", count=end // 8)

    def spend(self, n: int, what: str) -> None:
        """Account for `n` decoded elements before they are built; ModelError once over budget."""
        self.budget -= n
        if self.budget < 0:
            raise ModelError(
                f"{what}: tables or vectors overlap (shared or self-referencing offsets): decoding would yield more"
                f" elements than a {self.end}-byte file can hold"
            )


def table_fields(v: FileViews, pos: np.ndarray, widths: Sequence[int]) -> np.ndarray | None:
    """Absolute positions (0 = absent) of fields 0..len(widths)-1 of the tables at `pos`.

    Checks each table's vtable and that each present field of width `widths[k]` lies inside
    its table; returns an (n, k) int64 array or None.
    """
    end, k = v.end, len(widths)
    if pos.size == 0:
        return np.zeros((0, k), dtype=np.int64)
    if (((pos & 3) != 0) | (pos < 0) | (pos + 4 > end)).any():
        return None
    vt = pos - v.i32[pos >> 2].astype(np.int64)
    # Writers share one vtable among all tables of the same layout: decode each distinct one once.
    ordered = np.sort(vt)
    distinct = ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]
    if distinct.size > 64:
        return _fields_per_table(v, pos, vt, widths)
    layouts = _layouts(v, distinct.tolist(), widths)
    if layouts is None:
        return None
    off, tlen = layouts
    which = np.searchsorted(distinct, vt)
    if (pos + tlen[which] > end).any():
        return None
    off = off[which]
    return np.where(off != 0, pos[:, None] + off, 0)


def _layouts(v: FileViews, vtables: list[int], widths: Sequence[int]) -> tuple[np.ndarray, np.ndarray] | None:
    """(field offsets (n, k), table lengths) of each vtable, checked against `widths`."""
    end, k = v.end, len(widths)
    off = np.zeros((len(vtables), k), dtype=np.int64)
    tlen = np.zeros(len(vtables), dtype=np.int64)
    for row, at in enumerate(vtables):
        if at & 1 or at < 0 or at + 4 > end:
            return None
        vlen, size = int(v.u16[at >> 1]), int(v.u16[(at >> 1) + 1])
        if vlen & 1 or vlen < 4 or at + vlen > end:
            return None
        n = min(k, (vlen - 4) >> 1)
        fields = v.u16[(at >> 1) + 2 : (at >> 1) + 2 + n].tolist()
        if any(o and o + w > size for o, w in zip(fields, widths, strict=False)):
            return None
        off[row, :n] = fields
        tlen[row] = size
    return off, tlen


def _fields_per_table(v: FileViews, pos: np.ndarray, vt: np.ndarray, widths: Sequence[int]) -> np.ndarray | None:
    """table_fields for files whose tables do not share vtables, all in numpy."""
    end, k = v.end, len(widths)
    if (((vt & 1) != 0) | (vt < 0) | (vt + 4 > end)).any():
        return None
    vlen = v.u16[vt >> 1].astype(np.int64)
    tlen = v.u16[(vt >> 1) + 1].astype(np.int64)
    if (((vlen & 1) != 0) | (vlen < 4) | (vt + vlen > end) | (pos + tlen > end)).any():
        return None
    slots = np.arange(k, dtype=np.int64)
    index = np.minimum((vt >> 1)[:, None] + 2 + slots, v.u16.size - 1)
    off = np.where(vlen[:, None] > 4 + 2 * slots, v.u16[index], 0).astype(np.int64)
    present = off != 0
    if (present & (off + np.asarray(widths, dtype=np.int64) > tlen[:, None])).any():
        return None
    return np.where(present, pos[:, None] + off, 0)


def scalars(v: FileViews, at: np.ndarray, kind: str, default: int = 0) -> np.ndarray | None:
    """The scalar of type `kind` (u8, i8, u32, i32) at each position (0 = absent -> default)."""
    present = at != 0
    if kind in ("u8", "i8"):
        vals = v.u8[at].astype(np.int64)
        if kind == "i8":
            vals = np.where(vals > 127, vals - 256, vals)
        return np.where(present, vals, default)
    if ((at[present] & 3) != 0).any():
        return None
    arr = v.u32 if kind == "u32" else v.i32
    return np.where(present, arr[at >> 2].astype(np.int64), default)


def vectors(v: FileViews, at: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(start, count) of the vector each uoffset field at `at` points to; count -1 when absent."""
    present = at != 0
    if ((at[present] & 3) != 0).any():
        return None
    target = np.where(present, at + v.u32[at >> 2].astype(np.int64), 0)
    if ((target[present] & 3) != 0).any() or (target[present] + 4 > v.end).any():
        return None
    count = np.where(present, v.u32[target >> 2].astype(np.int64), -1)
    if (count * width > v.end - target - 4).any():
        return None
    return target + 4, count


def gather_i32(v: FileViews, start: np.ndarray, count: np.ndarray, what: str) -> list[tuple[int, ...]] | None:
    """The int32 vectors (start, count) as tuples, () where absent, gathered in one pass per length.

    Vectors of one length (shapes are mostly rank 4, operators mostly have 1-3 inputs) come out
    of one (rows, length) gather whose `tolist` rows become tuples at C speed.
    """
    n = np.maximum(count, 0)
    if ((start[n > 0] & 3) != 0).any():
        return None
    total = int(n.sum())
    if total > v.budget:  # name the longest vector, the likely shared one
        v.spend(total, f"{what} (the longest, {int(n.max())} entries, at byte {int(start[np.argmax(n)]) - 4})")
    v.budget -= total
    lengths = set(n.tolist())
    if len(lengths) == 1:
        return _gather_rows(v, start, lengths.pop())
    out: list[tuple[int, ...]] = [()] * n.size
    for length in lengths:
        rows = np.flatnonzero(n == length)
        for i, vec in zip(rows.tolist(), _gather_rows(v, start[rows], length), strict=True):
            out[i] = vec
    return out


def _gather_rows(v: FileViews, start: np.ndarray, length: int) -> list[tuple[int, ...]]:
    if length == 0:
        return [()] * start.size
    idx = (start >> 2)[:, None] + np.arange(length)
    return list(map(tuple, v.i32[idx].tolist()))


def strings(v: FileViews, start: np.ndarray, count: np.ndarray) -> list[str]:
    """The byte vectors (start, count) decoded as UTF-8 (invalid bytes replaced), "" where absent.

    One decode for all: the strings are joined with NUL separators, decoded, and split again.
    A NUL inside a string, which would split it, sends that call to one decode per string.
    """
    n = np.maximum(count, 0)
    total = int(n.sum())
    if total == 0:
        return [""] * n.size
    ends = np.cumsum(n)
    begins = ends - n
    # Each string's bytes, then a NUL: string i starts at begins[i] + i in the joined buffer.
    joined = np.zeros(total + n.size, dtype=np.uint8)
    offset_in_string = np.arange(total) - np.repeat(begins, n)
    src = np.repeat(start, n) + offset_in_string
    joined[np.repeat(begins + np.arange(n.size), n) + offset_in_string] = v.u8[src]
    if np.count_nonzero(joined) != total:
        s, c = start.tolist(), n.tolist()
        return [str(v.buf[a : a + k], "utf-8", "replace") for a, k in zip(s, c, strict=True)]
    return joined.tobytes().decode("utf-8", "replace").split("\0")[:-1]


def table_targets(v: FileViews, at: np.ndarray) -> np.ndarray | None:
    """Positions of the tables referenced by the uoffset fields at `at` (0 where absent)."""
    present = at != 0
    if ((at[present] & 3) != 0).any():
        return None
    return np.where(present, at + v.u32[at >> 2].astype(np.int64), 0)


def table_positions(v: FileViews, field_at: int) -> np.ndarray | None:
    """Positions of the tables in the vector whose uoffset is the field at byte `field_at`."""
    if field_at & 3 or field_at + 4 > v.end:  # a field offset past the table (malformed vtable)
        return None
    start = field_at + int(v.u32[field_at >> 2]) + 4
    if start & 3 or start > v.end:
        return None
    count = int(v.u32[(start >> 2) - 1])
    if count == 0 or count * 4 > v.end - start:
        return None
    return start + 4 * np.arange(count, dtype=np.int64) + v.u32[start >> 2 : (start >> 2) + count].astype(np.int64)
