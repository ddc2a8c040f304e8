"""A comparison as JSON data and as console lines (the HTML page is qcheck.compare.page)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any, TextIO

from qcheck.compare.result import Comparison, LayerError, TensorMetrics, format_db
from qcheck.reporting import JSON_SCHEMA_VERSION, Report

WORST_SHOWN = 10
# --metric names -> TensorMetrics fields (the same names --fail-if takes for outputs)
METRICS = {"sqnr": "sqnr_db", "mse": "mse", "max_abs": "max_abs", "mean_error": "mean_error", "cosine": "cosine", "kl": "kl",
           "top1": "top1", "top5": "top5"}


def _num(x: Any) -> Any:
    """JSON has no infinity: an exact match (SQNR +inf) becomes null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _clean(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _clean(v) if isinstance(v, Mapping) else _num(v) for k, v in d.items()}


def tensor_data(t: TensorMetrics, metrics: tuple[str, ...] = tuple(METRICS)) -> dict[str, Any]:
    """A tensor's entry: what it is, and the metrics asked for (--metric; all by default)."""
    hidden = {METRICS[m] for m in METRICS if m not in metrics}
    return _clean({k: v for k, v in asdict(t).items() if k not in hidden})


def layer_data(layer: LayerError, rank: int | None = None) -> dict[str, Any]:
    d = _clean(asdict(layer))
    return {"rank": rank, **d} if rank is not None else d


def keep_float_advice(c: Comparison, source: str = "SOURCE") -> dict[str, Any] | None:
    """The ops to keep in float and the converter settings that do it (TensorFlow's denylisted_nodes)."""
    if not c.keep_float:
        return None
    names = [x.float_name for x in c.keep_float]
    quoted = " ".join(repr(n) for n in names)
    return {
        "ops": [{"op": x.op, "opcode": x.opcode, "name": x.float_name, "share": x.share} for x in c.keep_float],
        "recovers": sum(x.share for x in c.keep_float),
        "qcheck": f"qcheck convert {source} --strategy int8-fallback --calibration DATA --keep-float {quoted} -o OUT.tflite",
        "tensorflow": ("tf.lite.experimental.QuantizationDebugger(converter=converter, debug_dataset=dataset, "
                       f"debug_options=tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes={names!r}))"
                       ".get_nondebug_quantized_model()"),
    }


def comparison_data(c: Comparison, report: Report, exit_status: int, settings: Mapping[str, Any],
                    metrics: tuple[str, ...] = tuple(METRICS)) -> dict[str, Any]:
    """The JSON report. Only `settings` (and `seconds` there) may differ between a local and a Ray run."""
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "command": "compare",
        "float_model": c.float_path,
        "quantized_model": c.quant_path,
        "data": c.data,
        "random_data": c.random_data,
        "samples": c.samples,
        "outputs": [tensor_data(t, metrics) for t in c.outputs],
        "worst_layers": [layer_data(x, i + 1) for i, x in enumerate(c.worst[:WORST_SHOWN])],
        "keep_float": keep_float_advice(c),
        "layers": [layer_data(x) for x in c.layers],
        "tensors": [tensor_data(t, metrics) for t in c.tensors],
        "unmatched": {"float": list(c.unmatched_float), "quantized": list(c.unmatched_quant)},
        "notes": list(c.notes),
        "findings": [{"code": f.code, "name": f.rule, "severity": str(f.severity), "message": f.message,
                      "location": f.location._asdict()} for f in report.findings],
        "exit_status": exit_status,
        "settings": dict(settings),
    }


def console(c: Comparison, report: Report, out: TextIO, *, quiet: bool = False, metrics: tuple[str, ...] = tuple(METRICS)) -> None:
    """Plain lines: the outputs, the worst layers with their share, the suggestion, the findings."""
    w = out.write
    if not quiet:
        w(f"compared {c.quant_path} with {c.float_path} on {c.data}\n")
        if c.random_data:
            w("  (random data: these errors say little about accuracy on real inputs)\n")
        for note in c.notes:
            w(f"  note: {note}\n")
        labels = {"sqnr": "SQNR", "mse": "MSE", "max_abs": "max |error|", "mean_error": "mean error", "cosine": "cosine", "kl": "KL",
                  "top1": "top-1", "top5": "top-5"}
        for t in c.outputs:
            shown = []
            for m in metrics:
                value = getattr(t, METRICS[m])
                if value is not None:
                    shown.append(f"{labels[m]} {format_db(value) if m == 'sqnr' else f'{value:.4g}'}")
            w(f"output {t.name}: {', '.join(shown)}\n")
        w(f"layers ranked by the error each adds by itself ({len(c.layers)} measured):\n")
        w("  rank  share   own SQNR  rmse/scale  op                        tensor\n")
        for i, x in enumerate(c.worst[:WORST_SHOWN]):
            ratio = f"{x.rmse_over_scale:10.2f}" if x.rmse_over_scale is not None else "         -"
            chan = f" (channel {x.channel.channel}: {x.channel.share:.0%})" if x.channel and x.channel.share > 0.5 else ""
            w(f"  {i + 1:4d}  {x.share:5.0%}  {format_db(x.sqnr_db):>9}  {ratio}  {x.op:4d} {x.opcode:<20} {x.name}{chan}\n")
        advice = keep_float_advice(c)
        if advice:
            w(f"keep in float: {', '.join(x.float_name for x in c.keep_float)} (they introduce {advice['recovers']:.0%} of the error)\n")
            w(f"  {advice['qcheck']}\n")
        if c.unmatched_float or c.unmatched_quant:
            w(f"not matched: {len(c.unmatched_float)} float and {len(c.unmatched_quant)} quantized activations\n")
    for f in report.findings:
        where = f" {f.location}" if str(f.location) else ""
        w(f"{c.quant_path}:{where} {f.code} {f.severity} {f.message}\n")
    counts = report.summary
    w(f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} info\n")
