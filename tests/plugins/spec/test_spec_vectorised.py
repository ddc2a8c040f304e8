"""The spec rule pack stays vectorised: each constant buffer is scanned once, and the number of numpy
calls does not grow with the number of ops (its speed is measured in bench/, not asserted here)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from qcheck_spec import bulk
from specmodels import deep_int8

import qcheck
from qcheck.tflite import scan

SPEC = ("QC1", "QC2", "QC3", "QC4", "QC5")


@pytest.fixture(scope="module")
def deep() -> bytes:
    return deep_int8(1500)  # 4,501 tensors: 1,500 convolutions with per-channel weights and biases


def test_each_buffer_is_scanned_once_and_in_batches(deep: bytes, registry, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    batched: list[int] = []
    per_buffer: Counter[int] = Counter()
    real_reduce, real_range = bulk._reduce, scan.channel_range

    def count_reduce(file: np.ndarray, dtype: np.dtype, spans: list[tuple[int, int, int]], out: dict) -> None:  # type: ignore[type-arg]
        batched.extend(b for b, _, _ in spans)
        real_reduce(file, dtype, spans, out)

    def count_range(raw: object, arr: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
        per_buffer[arr.__array_interface__["data"][0]] += 1
        return real_range(raw, arr, axis)

    monkeypatch.setattr(bulk, "_reduce", count_reduce)
    monkeypatch.setattr(scan, "channel_range", count_range)
    report = qcheck.verify(deep, registry=registry)  # every rule, structural ones included
    assert not [f for f in report.findings if f.severity >= qcheck.Severity.WARNING]
    assert len(batched) == len(set(batched)) == 3000  # 1,500 weights + 1,500 biases, each once
    assert all(n == 1 for n in per_buffer.values())  # the core's chunked scan: once per buffer at most


def test_layer_checks_are_whole_array_operations(deep: bytes, registry, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    calls = Counter[str]()
    for name in ("flatnonzero", "broadcast_arrays"):
        real = getattr(np, name)
        monkeypatch.setattr(np, name, lambda *a, _real=real, _name=name, **k: (calls.update([_name]), _real(*a, **k))[1])
    qcheck.verify(deep, registry=registry, select=SPEC)
    assert sum(calls.values()) < 50, calls  # a per-op loop would make thousands of calls
