"""The HTML report's plots: matplotlib figures as inline SVG (no JavaScript, no network, a few kB each).

Why matplotlib SVG: the plots are small static line, box and strip charts; SVG keeps them sharp, searchable
and light (a ResNet50-sized report is well under a megabyte), renders at once, and needs no JavaScript
bundle inlined (plotly's is 3.5 MB per file, Vega's about 0.8 MB). Tooltips come from SVG <title>s.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from qcheck.targets import TargetResult
from qcheck.textsafe import printable
from qcheck.tflite.model import Model, Subgraph

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

COLOURS = {"accelerated": "#43a047", "cpu": "#fb8c00", "unsupported": "#e53935", "unknown": "#9e9e9e"}
WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV")


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]  # (without the XML prolog and DOCTYPE: inline in HTML)


def _plain(text: str) -> str:
    """Text from a model as matplotlib shows it literally: "$" would start mathtext (and a parse error), controls go."""
    return printable(text).replace("$", r"\$")


def _finite(values: np.ndarray) -> np.ndarray:
    """NaN for what is not finite: matplotlib leaves NaN out, and refuses axis limits at infinity."""
    return np.where(np.isfinite(values), values, np.nan)


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "qcheck", "font.size": 8})
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def activation_scales(model: Model, sub: Subgraph) -> str | None:
    """Each op's first output: its scale (log axis) and the real range its dtype can represent, along the graph."""
    rows = []
    for op in sub.operators:
        t = sub.tensor(op.outputs[0]) if op.outputs else None
        q = t.quantization if t is not None else None
        if t is None or q is None or len(q.scale) != 1 or t.dtype not in ("INT8", "UINT8", "INT16"):
            continue
        lo, hi = {"INT8": (-128, 127), "UINT8": (0, 255), "INT16": (-32768, 32767)}[t.dtype]
        s, zp = float(q.scale[0]), int(q.zero_point[0]) if len(q.zero_point) else 0
        rows.append((op.index, s, (lo - zp) * s, (hi - zp) * s))
    if len(rows) < 2:
        return None
    x, scale, low, high = (_finite(np.array(c, np.float64)) for c in zip(*rows, strict=True))
    fig, ax = _figure(9, 2.6)
    ax.fill_between(x, low, high, color="#90caf9", alpha=0.5, label="representable range", step="mid")
    ax.set_xlabel("operator (execution order)")
    ax.set_ylabel("real range")
    twin = ax.twinx()
    twin.semilogy(x, np.maximum(scale, 1e-30), "o-", color="#1e88e5", markersize=2, linewidth=0.8, label="scale")
    twin.set_ylabel("output scale (log)")
    ax.set_title("Activation scale and range along the graph")
    return _svg(fig)


def weight_scale_spread(model: Model, sub: Subgraph) -> str | None:
    """Per weighted layer, the spread of its per-channel weight scales; outlier channels (zero scale, or over 10x the
    median) as red dots, dead channels (every weight zero: the channel always outputs its bias) as black crosses."""
    layers = []
    for op in sub.operators:
        w = sub.tensor(op.inputs[1]) if op.opcode in WEIGHTED and len(op.inputs) > 1 else None
        q = w.quantization if w is not None else None
        if w is not None and q is not None and len(q.scale) > 1:
            layers.append((op.index, _finite(np.asarray(q.scale, np.float64)), _dead(model.array(w), q.quantized_dimension, len(q.scale))))
    if not layers:
        return None
    fig, ax = _figure(9, 2.8)
    for k, (_, scales, dead) in enumerate(layers):
        med = float(np.median(scales)) or 1e-30
        ax.vlines(k, max(float(scales.min()), 1e-30), float(scales.max()), color="#757575", linewidth=1)
        ax.plot([k], [med], "_", color="#1e88e5", markersize=6)
        odd = (scales <= 0) | (scales > 10 * med)
        if odd.any():
            ax.plot([k] * int(odd.sum()), np.maximum(scales[odd], 1e-30), "o", color="#e53935", markersize=3)
        if dead.any():
            ax.plot([k] * int(dead.sum()), np.maximum(scales[dead], 1e-30), "x", color="#000000", markersize=4)
    ax.set_yscale("log")
    ax.set_xticks(range(len(layers)), [str(i) for i, _, _ in layers], rotation=90, fontsize=6)
    ax.set_xlabel("weighted operator")
    ax.set_ylabel("weight scale (log)")
    ax.set_title("Per-channel weight scales per layer: min-max, median; red: zero or > 10x the median; x: a dead channel")
    return _svg(fig)


def _dead(weights: np.ndarray | None, axis: int, channels: int) -> np.ndarray:
    """Which channels along `axis` hold only zeros (all False when the weights cannot be read as such)."""
    if weights is None or not 0 <= axis < weights.ndim or weights.shape[axis] != channels:
        return np.zeros(channels, bool)
    return np.logical_not(np.moveaxis(weights, axis, 0).reshape(channels, -1).any(axis=1))


def weight_histograms(model: Model, sub: Subgraph, tensors: Sequence[int], limit: int = 6) -> list[tuple[str, str]]:
    """Histograms of the stored values of constant tensors that have findings (at most `limit`)."""
    out = []
    for i in tensors:
        t = sub.tensor(i)
        a = model.array(t) if t is not None and model.is_constant(t) else None
        if t is None or a is None or a.size == 0 or a.dtype.kind not in "iuf":
            continue
        values = a.reshape(-1).astype(np.float64)
        values = values[np.isfinite(values)]
        if values.size == 0:
            continue
        lo, hi = float(values.min()), float(values.max())
        fig, ax = _figure(3.2, 2.0)
        if np.isfinite(hi - lo) and hi - lo > 64 * np.spacing(max(abs(lo), abs(hi))):
            ax.hist(values, bins=64, color="#5e35b1")
        else:  # one value, or a range float64 cannot split into bins at its magnitude: one bar
            ax.bar([0], [values.size], color="#5e35b1")
            ax.set_xticks([0], [f"{lo:.6g}" if lo == hi else f"{lo:.6g} .. {hi:.6g}"])
        ax.set_title(_plain(f"{t.name[-40:]} ({t.dtype})"), fontsize=7)
        out.append((t.name, _svg(fig)))
        if len(out) >= limit:
            break
    return out


def placement_strip(results: Sequence[TargetResult], ops: int) -> str | None:
    """For each target, a strip of subgraph 0's operators coloured by where they run."""
    if not results or not ops:
        return None
    fig, ax = _figure(9, 0.35 * len(results) + 0.8)
    for row, result in enumerate(results):
        for p in result.ops:
            if p.subgraph == 0:
                ax.barh(row, 1, left=p.operator, color=COLOURS[p.placement], height=0.8, linewidth=0)
    ax.set_yticks(range(len(results)), [_plain(r.target) for r in results])
    ax.set_xlim(0, ops)
    ax.set_xlabel("operator (execution order): green accelerated, orange CPU, red unsupported, grey unknown")
    ax.set_title("Where each operator runs")
    return _svg(fig)


def sizes(models: Sequence[tuple[str, int, str]]) -> str:
    """File size per model (with its scheme): for `convert --all`, what each strategy costs in bytes."""
    from pathlib import PurePath

    fig, ax = _figure(9, 0.3 * len(models) + 1)
    names = [f"{PurePath(path).name[-48:]} ({headline})" if headline else PurePath(path).name[-48:] for path, _, headline in models]
    ax.barh(range(len(models)), [size / 1e6 for _, size, _ in models], color="#5e35b1")
    ax.set_yticks(range(len(models)), [_plain(n) for n in names])
    ax.invert_yaxis()
    ax.set_xlabel("file size (MB)")
    ax.set_title("Size per model")
    return _svg(fig)
