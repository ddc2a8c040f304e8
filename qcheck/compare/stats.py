"""Streaming sums of a comparison: what every metric needs, added shard by shard, independent of the sample count."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Columns of Sums.tensor: count, sum f^2, sum q^2, sum f*q, sum (q-f)^2, sum (q-f)
N, SF2, SQ2, SFQ, SSE, SE = range(6)
# Columns of Sums.layer: count, sum ref^2, sum (q-ref)^2, sum (q-ref)
LN, LR2, LSSE, LSE = range(4)


@dataclass
class Sums:
    """Float64 sums over samples. Adding shards in the same order gives the same bits in any process.

    numpy's own loops only (pairwise sums, einsum's products): a BLAS dot product splits its work by
    thread count, which differs between a local pool and Ray's workers (OMP_NUM_THREADS=1), and would
    change the last bits.
    """

    samples: int
    tensor: np.ndarray  # (pairs, 6)
    tensor_max: np.ndarray  # (pairs,) largest |q - f|
    layer: np.ndarray  # (layers, 4)
    layer_max: np.ndarray  # (layers,) largest |q - ref|
    channel_sse: list[np.ndarray]  # per layer: sum (q-ref)^2 per output channel (empty when not per channel)
    channel_r2: list[np.ndarray]  # per layer: sum ref^2 per output channel
    kl: np.ndarray  # (pairs, 2): sum of per-row KL(float || quantized), rows (probability outputs only)
    topk: np.ndarray  # (pairs, 3): rows, top-1 agreements, float top-1 within quantized top-5 (classifier outputs)
    tensor_nonfinite: np.ndarray  # (pairs,) elements left out: NaN or infinite on either side
    layer_nonfinite: np.ndarray  # (layers,)
    layerwise_error: str = ""  # why the layer-wise model could not run (its sums are then not used)

    @classmethod
    def zeros(cls, pairs: int, layers: int, channels: list[int]) -> Sums:
        return cls(0, np.zeros((pairs, 6)), np.zeros(pairs), np.zeros((layers, 4)), np.zeros(layers),
                   [np.zeros(c) for c in channels], [np.zeros(c) for c in channels], np.zeros((pairs, 2)), np.zeros((pairs, 3)),
                   np.zeros(pairs), np.zeros(layers))

    def merge(self, other: Sums) -> None:
        """Add `other` (the next shard) into these sums."""
        self.samples += other.samples
        self.tensor += other.tensor
        np.maximum(self.tensor_max, other.tensor_max, out=self.tensor_max)
        self.layer += other.layer
        np.maximum(self.layer_max, other.layer_max, out=self.layer_max)
        for mine, theirs in zip(self.channel_sse, other.channel_sse, strict=True):
            mine += theirs
        for mine, theirs in zip(self.channel_r2, other.channel_r2, strict=True):
            mine += theirs
        self.kl += other.kl
        self.topk += other.topk
        self.tensor_nonfinite += other.tensor_nonfinite
        self.layer_nonfinite += other.layer_nonfinite
        self.layerwise_error = self.layerwise_error or other.layerwise_error

    def add_tensor(self, k: int, f: np.ndarray, q: np.ndarray) -> None:
        f, q, err, total, dropped = _difference(f, q)
        self.tensor_nonfinite[k] += dropped
        row = self.tensor[k]
        row[N] += f.size - dropped
        ff, qq, ee = _dot(f, f), _dot(q, q), _dot(err, err)
        row[SF2] += ff
        row[SQ2] += qq
        # f.q from the three squares: one pass less, and exact enough, since f.q is of the size of f.f and q.q.
        row[SFQ] += (ff + qq - ee) / 2
        row[SSE] += ee
        row[SE] += total
        if err.size:
            self.tensor_max[k] = max(self.tensor_max[k], float(err.max()), -float(err.min()))

    def add_layer(self, k: int, ref: np.ndarray, q: np.ndarray) -> None:
        ref, q, err, total, dropped = _difference(ref, q)
        self.layer_nonfinite[k] += dropped
        row = self.layer[k]
        row[LN] += ref.size - dropped
        row[LSE] += total
        if err.size:
            self.layer_max[k] = max(self.layer_max[k], float(err.max()), -float(err.min()))
        channels = self.channel_sse[k].size
        if channels and ref.ndim and ref.shape[-1] == channels:
            per_sse = np.square(err).reshape(-1, channels).sum(axis=0)
            per_r2 = np.square(ref).reshape(-1, channels).sum(axis=0)
            self.channel_sse[k] += per_sse
            self.channel_r2[k] += per_r2
            row[LSSE] += per_sse.sum()
            row[LR2] += per_r2.sum()
        else:
            row[LSSE] += _dot(err, err)
            row[LR2] += _dot(ref, ref)

    def add_probabilities(self, k: int, f: np.ndarray, q: np.ndarray) -> None:
        """KL(float || quantized) per row of a probability output (its last axis sums to 1)."""
        if not f.ndim or not (np.isfinite(f).all() and np.isfinite(q).all()):
            return
        p = np.clip(f.reshape(-1, f.shape[-1]), 1e-12, None)
        r = np.clip(q.reshape(-1, q.shape[-1]), 1e-12, None)
        p, r = p / p.sum(axis=1, keepdims=True), r / r.sum(axis=1, keepdims=True)
        self.kl[k, 0] += float((p * (np.log(p) - np.log(r))).sum())
        self.kl[k, 1] += p.shape[0]

    def add_classes(self, k: int, f: np.ndarray, q: np.ndarray) -> None:
        """Top-1 and top-5 agreement of a classifier output (rows of class scores)."""
        if not (np.isfinite(f).all() and np.isfinite(q).all()):
            return
        fr, qr = f.reshape(-1, f.shape[-1]), q.reshape(-1, q.shape[-1])
        best = fr.argmax(axis=1)
        top5 = np.argsort(-qr, axis=1, kind="stable")[:, :5]
        self.topk[k] += (fr.shape[0], float((qr.argmax(axis=1) == best).sum()), float((top5 == best[:, None]).any(axis=1).sum()))


def _finite(f: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Both sides with NaN and infinite elements zeroed on both (they then add nothing), and how many there were.

    A float op can give infinity where its quantized version saturates (RSQRT of 0): such an element has
    no finite error, and letting it in would make every sum NaN.
    """
    ok = np.isfinite(f) & np.isfinite(q)
    if ok.all():
        return f, q, 0
    return np.where(ok, f, 0.0), np.where(ok, q, 0.0), int(ok.size - np.count_nonzero(ok))


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """sum(a * b) in one pass, without a temporary; einsum without `optimize` never calls BLAS."""
    return float(np.einsum("i,i->", a.ravel(), b.ravel()))


def _difference(f: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, int]:
    """Both sides, q - f, its sum, and how many elements are NaN or infinite on either side (then zeroed in all three).

    Any such element shows in the difference, whose sum is then not finite: the common case costs no extra pass.
    """
    err = q - f
    total = float(err.sum())
    if np.isfinite(total):
        return f, q, err, total, 0
    f, q, dropped = _finite(f, q)
    err = q - f
    return f, q, err, float(err.sum()), dropped
