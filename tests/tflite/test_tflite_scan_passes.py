"""Structural properties that keep qcheck fast (not timings): no whole-file reads, one scan per buffer."""

from __future__ import annotations

import tracemalloc
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import qcheck
from qcheck.tflite import scan
from qcheck.tflite.builder import ModelBuilder


@pytest.fixture(scope="module")
def big_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 24 MB of int8 weights over 12 conv layers sharing some buffers."""
    rng = np.random.default_rng(0)
    b = ModelBuilder()
    x = first = b.tensor("in", "INT8", [1, 8, 8, 512], scale=0.02, zero_point=-1)
    shared = None
    for i in range(12):
        ws = rng.uniform(0.001, 0.01, 512)
        data = rng.integers(-127, 128, (512, 3, 3, 512), dtype=np.int8)
        if i % 4 == 3 and shared is not None:
            w = b.tensor(f"w{i}", "INT8", [512, 3, 3, 512], buffer=shared, scale=ws)  # buffer shared by 2 tensors
        else:
            w = b.tensor(f"w{i}", "INT8", [512, 3, 3, 512], data=data, scale=ws)
            shared = b.subgraphs[0].tensors[w].buffer
        bias = b.tensor(f"b{i}", "INT32", [512], data=np.zeros(512, np.int32), scale=ws * 0.02)
        y = b.tensor(f"y{i}", "INT8", [1, 8, 8, 512], scale=0.02, zero_point=-1)
        b.op("CONV_2D", [x, w, bias], [y], options={"stride_w": 1, "stride_h": 1}, version=3)
        x = y
    b.io([first], [x])
    path = tmp_path_factory.mktemp("perf") / "big.tflite"
    b.save(path)
    assert path.stat().st_size > 20_000_000
    return path


def test_load_and_verify_never_copy_the_file(big_model: Path) -> None:
    """mmap + zero-copy views: Python-side allocations stay far below the file size."""
    tracemalloc.start()
    try:
        model = qcheck.load(big_model)
        qcheck.verify(big_model)
        for _sg, t in model.iter_tensors():
            model.value_range(t)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = big_model.stat().st_size
    assert peak < size / 10, f"peak Python allocation {peak} bytes for a {size}-byte model"


def test_constant_data_are_views_of_the_mapping(big_model: Path) -> None:
    model = qcheck.load(big_model)
    weights = next(t for t in model.main.tensors if t.name == "w0")
    arr = model.array(weights)
    assert arr is not None and not arr.flags.owndata and not arr.flags.writeable


def test_each_buffer_is_scanned_once_per_question(big_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """However many rules (or repeated calls) ask, each buffer's data are reduced once."""
    calls: Counter[int] = Counter()
    real = scan.channel_range

    def counting(raw: object, arr: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
        calls[arr.__array_interface__["data"][0]] += 1
        return real(raw, arr, axis)

    monkeypatch.setattr(scan, "channel_range", counting)
    model = qcheck.load(big_model)
    registry = qcheck.registry.make_registry(external=False)
    from qcheck.engine import Settings, verify_model

    verify_model(model, registry, Settings())
    for _ in range(3):  # rules asking again, and the tensors sharing a buffer, reuse the first scan
        for _sg, t in model.iter_tensors():
            model.value_range(t)
            if t.quantization is not None and t.quantization.per_axis:
                model.channel_absmax(t, 0)
    assert calls, "no scan happened at all"
    assert max(calls.values()) == 1, {k: v for k, v in calls.items() if v > 1}
