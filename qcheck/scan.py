"""Chunked scans of constant data: bounded memory on multi-GB weights, one pass per question.

A memory-mapped file's pages count as resident once touched, so a plain `array.min()` over 2 GB
of weights would hold 2 GB. Scans here walk a buffer in slices and tell the kernel to drop each
slice's pages once reduced (madvise MADV_DONTNEED on the read-only mapping; the data stay in the
page cache, only this process's resident set shrinks).
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator

import numpy as np

CHUNK_BYTES = 32 << 20


def _release(raw: object, array: np.ndarray) -> None:
    """Drop the pages under `array` from the resident set, if it is a view of an mmap."""
    if not isinstance(raw, mmap.mmap) or not hasattr(mmap, "MADV_DONTNEED"):
        return
    base = np.frombuffer(raw, dtype=np.uint8, count=1).__array_interface__["data"][0]
    start = array.__array_interface__["data"][0] - base
    page = mmap.PAGESIZE
    first = start // page * page
    length = start + array.nbytes - first
    try:
        raw.madvise(mmap.MADV_DONTNEED, first, length)
    except (OSError, ValueError):
        pass  # an optimisation only


def row_chunks(raw: object, arr: np.ndarray) -> Iterator[np.ndarray]:
    """Consecutive slices along axis 0 of about CHUNK_BYTES each, released after use."""
    row_bytes = max(1, arr.nbytes // max(1, arr.shape[0]))
    step = max(1, CHUNK_BYTES // row_bytes)
    for i in range(0, arr.shape[0], step):
        part = arr[i : i + step]
        yield part
        if arr.nbytes > CHUNK_BYTES:
            _release(raw, part)


def value_range(raw: object, flat: np.ndarray) -> tuple[float, float]:
    """(min, max) of a flat array, scanned in chunks."""
    lo, hi = None, None
    for part in row_chunks(raw, flat):
        a, b = part.min(), part.max()
        lo = a if lo is None else min(lo, a)
        hi = b if hi is None else max(hi, b)
    return lo.item(), hi.item()  # type: ignore[union-attr]


def channel_absmax(raw: object, arr: np.ndarray, axis: int) -> np.ndarray:
    """max |x| per index of `axis` (e.g. per output channel), scanned in chunks."""
    pre = int(np.prod(arr.shape[:axis], dtype=np.int64))
    channels = arr.shape[axis]
    view = arr.reshape(pre, channels, -1)
    wide = np.int64 if view.dtype.kind in "iu" else np.float64  # |-128| does not fit in int8
    out = np.zeros(channels, dtype=wide)
    if pre > 1:
        for part in row_chunks(raw, view):
            out = np.maximum(out, np.maximum(part.max(axis=(0, 2)).astype(wide), -part.min(axis=(0, 2)).astype(wide)))
    else:
        lo = 0
        for part in row_chunks(raw, view[0]):
            out[lo : lo + part.shape[0]] = np.maximum(part.max(axis=1).astype(wide), -part.min(axis=1).astype(wide))
            lo += part.shape[0]
    return out
