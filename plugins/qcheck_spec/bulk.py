"""Vectorised views over all weighted ops at once, so per-op numpy overhead does not scale with op count.

A model with 50,000 tensors has ~17,000 convolutions: one numpy call per op and rule would cost
seconds. Here the scales and zero points of every layer are concatenated once (memoized) and the
rules compare them in a handful of whole-array operations; small constant buffers are scanned in
one batched pass (min, max, zero count per buffer), large ones through the core's chunked scan.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, NamedTuple

import numpy as np

from qcheck import Model, Tensor
from qcheck.tflite.schema import NUMPY_DTYPES
from qcheck_spec.graph import Layer, checks_weights, integer_values, layers, weight_layers

SMALL_BUFFER: Final = 64 << 10  # bytes; larger buffers go through the core's chunked, memory-bounded scan
_ITEMSIZE: Final = {k: np.dtype(v).itemsize for k, v in NUMPY_DTYPES.items()}
BATCH: Final = 512  # small buffers concatenated per batch (at most 32 MB of copies)


class Segments(NamedTuple):
    """Variable-length per-layer arrays stored flat: values[start[i] : start[i] + count[i]]."""

    start: np.ndarray
    count: np.ndarray  # type: ignore[assignment]  # (shadows tuple.count, on purpose)
    owner: np.ndarray  # layer index of every flat element

    @staticmethod
    def of(counts: Sequence[int]) -> Segments:
        count = np.asarray(counts, dtype=np.int64)
        start = np.concatenate(([0], np.cumsum(count)[:-1])) if count.size else count
        return Segments(start, count, np.repeat(np.arange(count.size), count))

    def local(self) -> np.ndarray:
        """The index of every flat element inside its own segment."""
        return np.arange(self.owner.size) - np.repeat(self.start, self.count)

    def any(self, flags: np.ndarray) -> np.ndarray:
        return np.bincount(self.owner, weights=flags.astype(np.float64), minlength=self.count.size) > 0


class LayerTable(NamedTuple):
    """Scales and zero points of every layer's input, output, weights and bias, flat."""

    layers: tuple[Layer, ...]
    weighted: np.ndarray  # the weight rules apply (graph.checks_weights)
    sx: np.ndarray  # first scale of the activation input (nan: not quantized)
    sy: np.ndarray
    w: Segments
    wscale: np.ndarray
    wzp: np.ndarray
    b: Segments
    bscale: np.ndarray
    bzp: np.ndarray


_EMPTY_F, _EMPTY_I = np.zeros(0, np.float32), np.zeros(0, np.int64)


def _params(t: Tensor | None) -> tuple[np.ndarray, np.ndarray]:
    """(scales, zero points) of an affine-quantized tensor, empty arrays otherwise (hot: no helpers)."""
    q = t.quantization if t is not None else None
    if q is None or q.details_type or not len(q.scale):
        return _EMPTY_F, _EMPTY_I
    return q.scale, q.zero_point if len(q.zero_point) == len(q.scale) else np.zeros(len(q.scale), np.int64)


def layer_table(model: Model) -> LayerTable:
    def compute() -> LayerTable:
        lays = layers(model)
        nan = float("nan")
        sx, sy, ws, wz, bs, bz = [], [], [], [], [], []
        for lay in lays:
            s = _params(lay.x)[0]
            sx.append(float(s[0]) if len(s) else nan)
            s = _params(lay.y)[0]
            sy.append(float(s[0]) if len(s) else nan)
            w_s, w_z = _params(lay.w)
            ws.append(w_s)
            wz.append(w_z)
            b_s, b_z = _params(lay.b) if lay.b is not None and lay.b.dtype in ("INT32", "INT64") else (_EMPTY_F, _EMPTY_I)
            bs.append(b_s)
            bz.append(b_z)
        cat = (lambda parts, dt: np.concatenate(parts).astype(dt) if parts else np.zeros(0, dt))
        weighted = np.array([checks_weights(lay) for lay in lays], dtype=bool)
        return LayerTable(lays, weighted, np.asarray(sx, np.float64), np.asarray(sy, np.float64),
                          Segments.of([len(a) for a in ws]), cat(ws, np.float64), cat(wz, np.int64),
                          Segments.of([len(a) for a in bs]), cat(bs, np.float64), cat(bz, np.int64))

    return model.memo(("qcheck_spec", "layer_table"), compute)


class Stats(NamedTuple):
    """min, max and number of zeros of a constant buffer's values."""

    min: int | float
    max: int | float
    zeros: int | None  # None: not counted (large buffers)


def buffer_stats(model: Model) -> dict[int, Stats]:
    """Stats per buffer index of every constant the rules scan (weights, integer biases, FLOAT16
    constants): small buffers in one batched pass per dtype, each buffer once per run."""
    return model.memo(("qcheck_spec", "buffer_stats"), lambda: _scan(model, _scanned_tensors(model)))


def _scanned_tensors(model: Model) -> list[Tensor]:
    out = [lay.w for lay in weight_layers(model) if lay.w is not None]
    out += [lay.b for lay in layers(model) if lay.b is not None and lay.b.dtype in ("INT32", "INT64")]
    out += [t for _, t in model.iter_tensors() if t.dtype == "FLOAT16"]
    return out


def _scan(model: Model, tensors: Sequence[Tensor]) -> dict[int, Stats]:
    out: dict[int, Stats] = {}
    groups: dict[str, list[tuple[int, int, int]]] = {}  # dtype -> (buffer, file offset, bytes)
    for t in tensors:
        buf = model.buffer_of(t)
        if buf is None or buf.size == 0 or t.buffer in out:
            continue
        item = _ITEMSIZE.get(t.dtype)
        if buf.size <= SMALL_BUFFER and item is not None and buf.size == math.prod(t.shape) * item:
            groups.setdefault(t.dtype, []).append((t.buffer, buf.offset, buf.size))
        else:
            stats = _single(model, t)
            if stats is not None:
                out[t.buffer] = stats
    if groups:
        file = np.frombuffer(model.raw, dtype=np.uint8)  # slicing one view is far cheaper than a view per buffer
        for dtype, spans in groups.items():
            spans = list({b: (b, o, n) for b, o, n in spans}.values())
            for k in range(0, len(spans), BATCH):
                _reduce(file, np.dtype(NUMPY_DTYPES[dtype]), spans[k : k + BATCH], out)
    return out


def _reduce(file: np.ndarray, dtype: np.dtype, spans: list[tuple[int, int, int]], out: dict[int, Stats]) -> None:
    flat = np.concatenate([file[o : o + n] for _, o, n in spans]).view(dtype)
    start = np.cumsum([0] + [n // dtype.itemsize for _, _, n in spans[:-1]])
    mins = np.minimum.reduceat(flat, start)
    maxs = np.maximum.reduceat(flat, start)
    zeros = np.add.reduceat(flat == 0, start, dtype=np.int64)
    for (b, _, _), lo, hi, z in zip(spans, mins.tolist(), maxs.tolist(), zeros.tolist(), strict=True):
        out[b] = Stats(lo, hi, z)


def _single(model: Model, t: Tensor) -> Stats | None:
    if t.dtype in NUMPY_DTYPES:
        rng = model.value_range(t)  # the core's chunked scan, shared with other rules
        return None if rng is None else Stats(rng[0], rng[1], None)
    values = integer_values(model, t)  # packed INT4/INT2
    if values is None or values.size == 0:
        return None
    return Stats(values.min().item(), values.max().item(), int(np.count_nonzero(values == 0)))


class Paired(NamedTuple):
    """Bias scales next to input scale x weight scale, one element per (layer, channel)."""

    seg: Segments
    got: np.ndarray
    expected: np.ndarray
    error: np.ndarray  # relative


def bias_pairs(model: Model) -> Paired:
    """Every layer's bias scales paired with s_in * s_w[c] (a single scale broadcasts)."""

    def compute() -> Paired:
        t = layer_table(model)
        nb, nw = t.b.count, t.w.count
        ok = (nb > 0) & (nw > 0) & ((nb == nw) | (nb == 1) | (nw == 1)) & np.isfinite(t.sx)
        seg = Segments.of(np.where(ok, np.maximum(nb, nw), 0).tolist())
        j, o = seg.local(), seg.owner
        got = t.bscale[t.b.start[o] + np.where(nb[o] == 1, 0, j)]
        expected = t.sx[o] * t.wscale[t.w.start[o] + np.where(nw[o] == 1, 0, j)]
        with np.errstate(divide="ignore", invalid="ignore"):
            error = np.where(expected > 0, np.abs(got - expected) / expected, 0.0)
        return Paired(seg, got, expected, error)

    return model.memo(("qcheck_spec", "bias_pairs"), compute)


def multipliers(model: Model) -> tuple[Segments, np.ndarray]:
    """Effective requantization multiplier s_in * s_w[c] / s_out per (layer, channel); nan where undefined."""

    def compute() -> tuple[Segments, np.ndarray]:
        t = layer_table(model)
        with np.errstate(divide="ignore", invalid="ignore"):
            m = t.sx[t.w.owner] * t.wscale / np.where(t.sy > 0, t.sy, np.nan)[t.w.owner]
        return t.w, m

    return model.memo(("qcheck_spec", "multipliers"), compute)
