"""A finished comparison: per-tensor and per-layer metrics from the sums, the culprits ranked, what to keep in float."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from qcheck.compare.matching import Matched
from qcheck.compare.plan import qparams
from qcheck.compare.stats import LN, LR2, LSSE, SE, SF2, SFQ, SQ2, SSE, N, Sums
from qcheck.compare.worker import Plan
from qcheck.tflite.model import Model


def _ratio(noise: float, signal: float) -> float:
    return noise / signal if signal > 0 else (0.0 if noise == 0 else math.inf)


def format_db(value: float) -> str:
    """An SQNR as reports show it: "37.2 dB", "exact" (no error at all), "-inf dB" (no signal left)."""
    return f"{value:.1f} dB" if math.isfinite(value) else ("exact" if value > 0 else "-inf dB")


def _db(signal: float, noise: float) -> float:
    """Signal-to-noise in dB; +inf for no noise at all."""
    if noise <= 0:
        return math.inf
    return 10 * math.log10(signal / noise) if signal > 0 else -math.inf


@dataclass(frozen=True)
class TensorMetrics:
    """How far a quantized activation is from the float one, everything upstream included (error accumulated)."""

    name: str  # the float model's tensor name
    quant_name: str
    quant_tensor: int
    float_tensor: int
    matched_by: str
    dtype: str
    op: int  # the quantized op writing it (-1: a model input)
    opcode: str
    elements: int
    mse: float
    max_abs: float
    mean_error: float
    cosine: float | None
    sqnr_db: float
    kl: float | None = None  # probability outputs only
    top1: float | None = None  # classifier outputs only
    top5: float | None = None
    nonfinite: int = 0  # elements left out of the metrics: NaN or infinite in either model
    nsr: float = 0.0  # noise-to-signal ratio, sum (q-f)^2 / sum f^2 (what the layers' inherited error compares)


@dataclass(frozen=True)
class ChannelError:
    channel: int
    share: float  # of the layer's own error
    sqnr_db: float
    weight_scale: float
    median_scale: float


@dataclass(frozen=True)
class LayerError:
    """The error one quantized op adds by itself: its output against the float op run on its own (dequantized) inputs."""

    op: int
    opcode: str
    tensor: int
    name: str
    float_name: str  # the float model's name for that output: the converter's node name (--keep-float, denylisted_nodes)
    dtype: str
    scale: float | None  # the output's (first) scale
    zero_point: int | None
    mse: float
    rmse_over_scale: float | None  # QuantizationDebugger's "rmse/scale": ~0.29 is rounding alone
    max_abs: float
    sqnr_db: float  # signal to the error introduced here
    introduced: float  # that error as a share of the signal (noise-to-signal ratio)
    inherited: float  # the largest noise-to-signal ratio among its inputs, accumulated upstream
    accumulated: float  # the noise-to-signal ratio at its output, everything included
    share: float = 0.0  # of all error introduced in the model
    channel: ChannelError | None = None  # ops with per-channel weights: the channel with most of the error
    nonfinite: int = 0  # elements left out: NaN or infinite (e.g. the float op's RSQRT of 0)


@dataclass(frozen=True)
class Comparison:
    float_path: str
    quant_path: str
    data: str
    random_data: bool
    samples: int
    runner: str  # "local (-j N)" or "ray"
    tensors: tuple[TensorMetrics, ...]
    layers: tuple[LayerError, ...]  # in graph order
    worst: tuple[LayerError, ...]  # ranked: most error introduced first
    outputs: tuple[TensorMetrics, ...]
    unmatched_float: tuple[str, ...]
    unmatched_quant: tuple[str, ...]
    keep_float: tuple[LayerError, ...]  # keeping these ops in float recovers most of the introduced error
    notes: tuple[str, ...] = ()  # what the numbers do not cover, and why


def tensor_metrics(fm: Model, qm: Model, matched: Matched, sums: Sums) -> tuple[TensorMetrics, ...]:
    fs, qs = fm.subgraphs[0], qm.subgraphs[0]
    out = []
    for k, pair in enumerate(matched.pairs):
        row = sums.tensor[k]
        n = row[N]
        if n == 0:
            continue
        ft, qt = fs.tensors[pair.float_tensor], qs.tensors[pair.quant_tensor]
        producer = qs.producers.get(qt.index, -1)
        denominator = math.sqrt(row[SF2] * row[SQ2])
        kl = sums.kl[k, 0] / sums.kl[k, 1] if sums.kl[k, 1] else None
        rows = sums.topk[k, 0]
        out.append(TensorMetrics(
            ft.name, qt.name, qt.index, ft.index, pair.how, qt.dtype, producer, qs.operators[producer].opcode if producer >= 0 else "input",
            int(n), row[SSE] / n, float(sums.tensor_max[k]), row[SE] / n, row[SFQ] / denominator if denominator else None,
            _db(row[SF2], row[SSE]), kl, sums.topk[k, 1] / rows if rows else None, sums.topk[k, 2] / rows if rows else None,
            int(sums.tensor_nonfinite[k]), _ratio(row[SSE], row[SF2])))
    return tuple(out)


def layer_errors(qm: Model, plan: Plan, sums: Sums, tensors: tuple[TensorMetrics, ...]) -> tuple[LayerError, ...]:
    qs = qm.subgraphs[0]
    accumulated = {t.quant_tensor: t.nsr for t in tensors}
    float_names = {t.quant_tensor: t.name for t in tensors}
    out = []
    for k, lp in enumerate(plan.layers):
        row = sums.layer[k]
        if row[LN] == 0 or (sums.layerwise_error and not lp.in_quant_model):
            continue
        op = qs.operators[qs.producers[lp.quant_output]]
        t = qs.tensors[lp.quant_output]
        qp = qparams(qs, lp.quant_output)
        scale = float(qp[0][0]) if qp else None
        mse = row[LSSE] / row[LN]
        introduced = _ratio(row[LSSE], row[LR2])
        inherited = max((accumulated.get(i, 0.0) for i in op.inputs if i >= 0), default=0.0)
        channel = _worst_channel(qm, op.inputs, sums.channel_sse[k], sums.channel_r2[k])
        out.append(LayerError(op.index, op.opcode, t.index, t.name, float_names.get(t.index, t.name), t.dtype, scale, int(qp[1][0]) if qp else None, mse,
                              math.sqrt(mse) / scale if scale else None, float(sums.layer_max[k]), _db(row[LR2], row[LSSE]),
                              introduced, inherited, accumulated.get(t.index, math.nan), channel=channel,
                              nonfinite=int(sums.layer_nonfinite[k])))
    return tuple(out)


def _worst_channel(qm: Model, inputs: tuple[int, ...], sse: np.ndarray, r2: np.ndarray) -> ChannelError | None:
    if not sse.size or sse.sum() <= 0:
        return None
    qs = qm.subgraphs[0]
    c = int(np.argmax(sse))
    w = qs.tensors[inputs[1]].quantization
    scales = np.asarray(w.scale if w is not None else (), np.float64)
    return ChannelError(c, float(sse[c] / sse.sum()), _db(float(r2[c]), float(sse[c])),
                        float(scales[c]) if c < scales.size else math.nan, float(np.median(scales)) if scales.size else math.nan)


def rank(layers: tuple[LayerError, ...]) -> tuple[tuple[LayerError, ...], tuple[LayerError, ...]]:
    """Layers with their share of the error introduced, worst first; and the few to keep in float.

    The suggestion takes the worst ops until they hold 80% of the introduced error (at most 5), leaving out
    QUANTIZE and DEQUANTIZE, which keeping in float would not remove, and ops with 16-bit or float outputs:
    the way to keep ops in float (TensorFlow's denylisted_nodes, `convert --keep-float`) is for int8 models.
    """
    infinite = [x for x in layers if not math.isfinite(x.introduced)]
    total = sum(x.introduced for x in layers if math.isfinite(x.introduced))

    def share(x: LayerError) -> float:
        # Error without a finite measure (all signal lost) outweighs any finite one: such layers share it all.
        if infinite:
            return 1 / len(infinite) if not math.isfinite(x.introduced) else 0.0
        return x.introduced / total if total else 0.0

    shared = [replace(x, share=share(x)) for x in layers]
    worst = tuple(sorted(shared, key=lambda x: (-x.introduced if math.isfinite(x.introduced) else -math.inf, x.op)))
    keep: list[LayerError] = []
    held = 0.0
    for x in worst:
        if held >= 0.8 or len(keep) == 5 or x.introduced <= 0:
            break
        if x.opcode not in ("QUANTIZE", "DEQUANTIZE") and x.dtype in ("INT8", "UINT8"):
            keep.append(x)
            held += x.share
    return worst, tuple(keep)

