"""A comparison as one self-contained HTML page: outputs, worst layers, advice, findings, and SQNR along the graph."""

from __future__ import annotations

import io
from html import escape
from typing import TextIO

from qcheck.compare.result import Comparison, format_db
from qcheck.compare.view import WORST_SHOWN, keep_float_advice
from qcheck.errors import UsageError
from qcheck.reporting import Report

_STYLE = """body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.error{color:#b00}.warning{color:#a60}code{background:#f6f6f6;padding:1px 3px}figure{margin:0}"""


def sqnr_plot(c: Comparison) -> str:
    """SVG: accumulated SQNR of every matched activation and each op's own SQNR, in graph order."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("--format html draws its plot with matplotlib: pip install 'qcheck[html]'") from None
    cap = 120.0  # exact matches (infinite SQNR) are drawn at the top
    fig, ax = plt.subplots(figsize=(10, 3.6))
    steps = sorted(c.tensors, key=lambda t: (t.op, t.quant_tensor))
    ax.plot(range(len(steps)), [min(t.sqnr_db, cap) for t in steps], "-o", ms=3, label="accumulated (vs float model)")
    position = {t.op: i for i, t in enumerate(steps)}
    own = [(position[x.op], min(x.sqnr_db, cap), x) for x in c.layers if x.op in position]
    ax.scatter([p for p, _, _ in own], [v for _, v, _ in own], marker="s", s=18, color="#d62728", label="introduced by the op itself", zorder=3)
    for p, v, x in (o for o in own if c.worst and o[2].op == c.worst[0].op):
        ax.annotate(f"worst: {x.opcode} (op {x.op})", (p, v), textcoords="offset points", xytext=(4, -12), fontsize=8)
    ax.set_xticks(range(len(steps)), [f"{t.op}" for t in steps], fontsize=6)
    ax.set_xlabel("quantized op writing the activation, in graph order")
    ax.set_ylabel("SQNR (dB)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})  # the same page for the same comparison
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


def html_page(c: Comparison, report: Report, out: TextIO) -> None:
    w = out.write
    w(f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>qcheck compare: {escape(c.quant_path)}</title>"
      f"<style>{_STYLE}</style></head><body>")
    w(f"<h1>{escape(c.quant_path)} against {escape(c.float_path)}</h1><p>{c.samples} samples: {escape(c.data)}</p>")
    if c.random_data:
        w("<p class=warning>Random data: these errors say little about accuracy on real inputs.</p>")
    w("".join(f"<p>Note: {escape(n)}</p>" for n in c.notes))
    w("<h2>Model outputs</h2><table><tr><th>output<th>SQNR<th>MSE<th>max |error|<th>cosine<th>KL<th>top-1<th>top-5</tr>")
    for t in c.outputs:
        cells = [format_db(t.sqnr_db), f"{t.mse:.4g}", f"{t.max_abs:.4g}", *(f"{v:.4g}" if v is not None else "" for v in (t.cosine, t.kl, t.top1, t.top5))]
        w(f"<tr><td>{escape(t.name)}" + "".join(f"<td class=n>{x}" for x in cells) + "</tr>")
    w("</table><h2>SQNR along the graph</h2><figure>" + sqnr_plot(c) + "</figure>")
    w("<h2>Layers ranked by the error each adds by itself</h2><table><tr><th>rank<th>share<th>own SQNR<th>rmse/scale"
      "<th>op<th>tensor<th>scale<th>worst channel</tr>")
    for i, x in enumerate(c.worst[:WORST_SHOWN]):
        ratio = f"{x.rmse_over_scale:.2f}" if x.rmse_over_scale is not None else ""
        chan = f"{x.channel.channel} ({x.channel.share:.0%})" if x.channel else ""
        w(f"<tr><td class=n>{i + 1}<td class=n>{x.share:.1%}<td class=n>{format_db(x.sqnr_db)}<td class=n>{ratio}<td>{x.op} {escape(x.opcode)}"
          f"<td>{escape(x.name)}<td class=n>{'' if x.scale is None else f'{x.scale:.6g}'}<td>{chan}</tr>")
    w("</table>")
    advice = keep_float_advice(c)
    if advice:
        w(f"<h2>Keep in float</h2><p>These ops introduce {advice['recovers']:.0%} of the error; keeping them in float is expected to remove most of it:</p>"
          f"<p><code>{escape(advice['qcheck'])}</code></p><p><code>{escape(advice['tensorflow'])}</code></p>")
    w(f"<h2>Findings ({len(report.findings)})</h2><ul>")
    for f in report.findings:
        w(f"<li class={escape(str(f.severity))}>{escape(f.code)} {escape(str(f.severity))}: {escape(f.message)}</li>")
    w("</ul></body></html>\n")
