"""The comparison's parts without TensorFlow: conditions, sums, dequantization, lazy samples, worker failures."""

from __future__ import annotations

import math
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pytest

from qcheck.compare.data import open_samples
from qcheck.compare.execute import SHARD, RuntimeFailure, _answer, shards
from qcheck.compare.stats import SSE, Sums
from qcheck.compare.thresholds import Condition, Thresholds
from qcheck.compare.worker import dequantize, quantize
from qcheck.convert.calibration import InputSpec
from qcheck.errors import UsageError

IMAGE = (InputSpec("image", (1, 4, 4, 3), "float32"),)


def test_conditions_parse_and_refuse_in_one_line() -> None:
    c = Condition.parse(" output.sqnr <= 2.5e1 ")
    assert (c.scope, c.metric, c.op, c.bound, c.text) == ("output", "sqnr", "<=", 25.0, "output.sqnr <= 2.5e1")
    for bad, why in [("sqnr < 3", "expected SCOPE.METRIC"), ("output.sqnr < x", "expected"), ("output.share > 0.5", "unknown output metric"),
                     ("model.sqnr < 3", "expected")]:
        with pytest.raises(UsageError, match=why):
            Condition.parse(bad)
    with pytest.raises(UsageError, match="max-layer-share"):
        Thresholds(max_layer_share=0)
    with pytest.raises(UsageError, match="min-output-sqnr"):
        Thresholds(min_output_sqnr=math.nan)


def _random_sums(rng: np.random.Generator) -> Sums:
    s = Sums.zeros(3, 2, [4, 0])
    for _ in range(3):
        f = rng.normal(size=(2, 4))
        s.add_tensor(int(rng.integers(3)), f, f + rng.normal(scale=0.1, size=f.shape))
        s.add_layer(0, f, f * 1.01)
        s.add_classes(1, f, f + 0.01)
        s.add_probabilities(2, np.full((2, 4), 0.25), np.array([[0.1, 0.2, 0.3, 0.4]] * 2))
        s.samples += 1
    return s


def test_sums_merge_in_order_gives_the_same_bits_every_time() -> None:
    parts = [_random_sums(np.random.default_rng(k)) for k in range(5)]
    totals = []
    for _ in range(2):
        total = Sums.zeros(3, 2, [4, 0])
        for p in parts:
            total.merge(p)
        totals.append(total)
    a, b = totals
    assert a.samples == 15 and a.tensor.tobytes() == b.tensor.tobytes() and a.channel_sse[0].tobytes() == b.channel_sse[0].tobytes()
    assert a.tensor[:, SSE].sum() > 0 and a.topk[1, 0] == 30 and a.kl[2, 1] == 30
    one = Sums.zeros(3, 2, [4, 0])
    one.add_probabilities(0, np.array([[0.5, 0.5]]), np.array([[0.5, 0.5]]))
    assert one.kl[0, 0] == 0.0  # identical distributions


def test_dequantize_per_tensor_and_per_axis_and_quantize_clamps() -> None:
    q = np.array([[-128, 0, 127], [10, 20, 30]], np.int8)
    per_tensor = (np.array([0.5], np.float32), np.array([-1]), 0)
    assert dequantize(q, per_tensor).tolist() == [[-63.5, 0.5, 64.0], [5.5, 10.5, 15.5]]
    per_axis = (np.array([1.0, 2.0, 4.0], np.float32), np.array([0, 0, 0]), 1)
    assert dequantize(q, per_axis).tolist() == [[-128.0, 0.0, 508.0], [10.0, 40.0, 120.0]]
    assert dequantize(np.array([1.5], np.float16), None).tolist() == [1.5]
    x = np.array([-1000.0, 0.26, 1000.0], np.float32)
    assert quantize(x, (np.array([0.5], np.float32), np.array([3]), 0), np.dtype(np.int8)).tolist() == [-128, 4, 127]
    assert quantize(x, (np.array([0.5], np.float32), np.array([3]), 0), np.dtype(np.uint8)).tolist() == [0, 4, 255]


def test_samples_are_made_per_index_whatever_the_shard(tmp_path: Path) -> None:
    s = open_samples("random", IMAGE, samples=20)
    assert s.random and s.count == 20 and len(s.shard(16, 40)) == 4
    assert np.array_equal(s.shard(8, 16)[2][0], s.sample(10)[0]) and not np.array_equal(s.sample(10)[0], s.sample(11)[0])
    cut = shards(2 * SHARD + 1)
    assert cut == [(0, SHARD), (SHARD, 2 * SHARD), (2 * SHARD, 2 * SHARD + 1)]  # fixed size, whatever -j
    data = np.arange(5 * 48, dtype=np.float32).reshape(5, 4, 4, 3)
    np.save(tmp_path / "d.npy", data)
    arrays = open_samples(tmp_path / "d.npy", IMAGE)
    assert arrays.count == 5 and np.array_equal(arrays.sample(3)[0], data[3:4])
    assert isinstance(arrays.arrays and arrays.arrays["image"], np.memmap)  # read when a shard asks
    with pytest.raises(UsageError, match="does not fit"):
        open_samples(tmp_path / "d.npy", (InputSpec("x", (1, 8), "float32"),))
    with pytest.raises(UsageError, match="size is unknown"):
        open_samples("random", (InputSpec("x", (1, None), "float32"),))


def test_a_dead_worker_or_a_refusal_is_one_line() -> None:
    def broken() -> Sums:
        raise BrokenProcessPool("gone")

    def refused() -> Sums:
        raise ValueError("Didn't find op for builtin opcode 'CONV_2D' version '99'.\n  An older version of this builtin might be supported.")

    with pytest.raises(RuntimeFailure, match=r"died while running samples 8-15 .* no answer within 60 s per sample"):
        _answer(broken, 8, 16, 60.0)
    with pytest.raises(RuntimeFailure, match=r"^LiteRT could not run the models on samples 0-7: Didn't find op for builtin opcode 'CONV_2D' version '99'\.$"):
        _answer(refused, 0, 8, 60.0)


def test_non_finite_elements_are_counted_and_left_out() -> None:
    s = Sums.zeros(1, 1, [2])
    ref = np.array([[np.inf, 1.0], [2.0, np.nan]])
    s.add_layer(0, ref, np.array([[127.0, 1.5], [2.0, 3.0]]))
    s.add_tensor(0, ref, np.array([[1.0, 1.0], [2.0, 2.0]]))
    assert s.layer_nonfinite[0] == 2 and s.layer[0, 0] == 2 and s.layer[0, 2] == pytest.approx(0.25)
    assert s.tensor_nonfinite[0] == 2 and s.tensor[0, 0] == 2 and s.tensor[0, SSE] == 0
    assert np.isfinite(s.layer).all() and np.isfinite(s.tensor).all() and np.isfinite(s.channel_sse[0]).all()


def test_quantize_rounds_halves_away_from_zero_as_litert() -> None:
    """LiteRT's QUANTIZE rounds with std::round; numpy's round would send 4.5 steps to 4 and -4.5 to -4."""
    qp = (np.array([1.0], np.float32), np.array([0]), 0)
    x = np.array([4.5, -4.5, 2.5, -2.5, 0.5, 1.49], np.float32)
    assert quantize(x, qp, np.dtype(np.int8)).tolist() == [5, -5, 3, -3, 1, 1]


def test_dequantize_along_any_axis_of_a_4d_tensor() -> None:
    q = np.arange(2 * 3 * 1 * 4, dtype=np.int8).reshape(2, 3, 1, 4)
    last = (np.array([1.0, 2.0, 4.0, 8.0], np.float32), np.array([0, 1, 0, 1]), 3)
    first = (np.array([0.5, 0.25], np.float32), np.array([0, 0]), 0)
    got = dequantize(q, last)
    assert got[1, 2, 0, 3] == (int(q[1, 2, 0, 3]) - 1) * 8.0 and got[0, 0, 0, 1] == 0.0
    assert dequantize(q, first)[1, 0, 0, 0] == int(q[1, 0, 0, 0]) * 0.25 and dequantize(q, first)[0, 2, 0, 3] == int(q[0, 2, 0, 3]) * 0.5


def test_kl_and_top_k_on_hand_worked_rows() -> None:
    s = Sums.zeros(1, 0, [])
    p, r = np.array([[0.5, 0.5]]), np.array([[0.9, 0.1]])
    s.add_probabilities(0, p, r)
    assert s.kl[0, 0] == pytest.approx(0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)) and s.kl[0, 1] == 1
    f = np.array([[0.1, 0.7, 0.2, 0, 0, 0, 0], [0.6, 0.3, 0.1, 0, 0, 0, 0]])
    q = np.array([[0.1, 0.6, 0.3, 0, 0, 0, 0], [0.05, 0.1, 0.0, 0.3, 0.4, 0.5, 0.6]])  # row 2: float's best is 6th of 7
    s.add_classes(0, f, q)
    assert s.topk[0].tolist() == [2.0, 1.0, 1.0]


def test_scalar_inputs_are_samples_too() -> None:
    s = open_samples("random", (InputSpec("a", (), "float32"), InputSpec("b", (), "int32")), samples=3)
    a, b = s.sample(2)
    assert a.shape == () and b.shape == () and b.dtype == np.int32 and s.count == 3
