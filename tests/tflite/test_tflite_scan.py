"""The chunked per-channel scan agrees with plain numpy, whatever the axis, dtype and chunking."""

from __future__ import annotations

import numpy as np
import pytest

from qcheck.tflite import scan


@pytest.mark.parametrize("chunk_bytes", [64, 1000, 8 << 20])  # many chunks, uneven chunks, one chunk
@pytest.mark.parametrize(("shape", "axis"), [((16, 3, 3, 8), 0), ((1, 3, 3, 32), 3), ((7, 5), 1), ((5,), 0), ((4, 1), 0), ((2, 6, 3), 1)])
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "float16", "float32"])
def test_channel_range_matches_numpy(monkeypatch: pytest.MonkeyPatch, chunk_bytes: int, shape: tuple[int, ...], axis: int, dtype: str) -> None:
    monkeypatch.setattr(scan, "CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(sum(shape) + axis)
    values = (rng.integers(-128, 128, size=shape) if dtype != "uint8" else rng.integers(0, 256, size=shape)).astype(dtype)
    lo, hi = scan.channel_range(None, values, axis)
    others = tuple(i for i in range(values.ndim) if i != axis)
    np.testing.assert_array_equal(lo, values.min(axis=others) if others else values)
    np.testing.assert_array_equal(hi, values.max(axis=others) if others else values)
    assert lo.dtype == values.dtype and hi.dtype == values.dtype


def test_channel_range_keeps_nan_like_numpy() -> None:
    values = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32)
    lo, hi = scan.channel_range(None, values, 0)
    np.testing.assert_array_equal(lo, [np.nan, 4.0])
    np.testing.assert_array_equal(hi, [np.nan, 6.0])
