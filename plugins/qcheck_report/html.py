"""`--format html`: one self-contained page (inline CSS, JavaScript and SVG; nothing from the network) for review.

Per model: its facts and findings per severity, each target's verdict, the findings (filtered by severity
and rule, sorted by any column, for all models at once), the plots of html_plots, and every tensor's
quantization (searchable). The model is read again (memory-mapped) for the tensors and the plots.
"""

from __future__ import annotations

import html
from collections import Counter
from typing import TextIO

from qcheck import Report, __version__
from qcheck.errors import ModelError
from qcheck.findings import Severity
from qcheck.reporting import Run, render_all
from qcheck_report import html_plots, targets_view

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0 24px 40px;color:#222}h1{font-size:22px}h2{font-size:18px;margin-top:32px;
border-bottom:1px solid #ddd}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 6px;
text-align:left;vertical-align:top}th{background:#f5f5f5;cursor:pointer;user-select:none}.error{color:#c62828}
.warning{color:#ef6c00}.info{color:#1565c0}.plots svg{max-width:100%;height:auto}.controls{position:sticky;top:0;
background:#fff;padding:8px 0;border-bottom:1px solid #eee}code{font-size:12px}.hist{display:inline-block}
"""
SCRIPT = """
const sev=document.getElementById('sev'),rule=document.getElementById('rule');
const rows=[...document.querySelectorAll('table.findings tbody tr')];
[...new Set(rows.map(r=>r.dataset.rule))].sort().forEach(c=>{const o=document.createElement('option');o.textContent=c;rule.append(o)});
function filter(){rows.forEach(r=>{r.hidden=(sev.value&&r.dataset.severity!==sev.value)||(rule.value&&r.dataset.rule!==rule.value)});
document.getElementById('shown').textContent=rows.filter(r=>!r.hidden).length+' of '+rows.length+' findings shown'}
sev.onchange=rule.onchange=filter;filter();
document.querySelectorAll('th').forEach(th=>th.onclick=()=>{const t=th.closest('table'),b=t.tBodies[0],i=th.cellIndex,
d=th.dataset.dir=th.dataset.dir==='a'?'d':'a';[...b.rows].sort((x,y)=>{const p=x.cells[i].dataset.v??x.cells[i].textContent,
q=y.cells[i].dataset.v??y.cells[i].textContent,n=parseFloat(p)-parseFloat(q);return (isNaN(n)?p.localeCompare(q):n)*(d==='a'?1:-1)})
.forEach(r=>b.append(r))});
document.querySelectorAll('input.search').forEach(inp=>inp.oninput=()=>{const s=inp.value.toLowerCase();
inp.nextElementSibling.querySelectorAll('tbody tr').forEach(r=>r.hidden=!r.textContent.toLowerCase().includes(s))});
"""
RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _short(values: list[float] | list[int]) -> str:
    """The first four values, and how many there are when there are more."""
    shown = ", ".join(f"{x:.6g}" if isinstance(x, float) else str(x) for x in values[:4])
    return shown + (f" … ({len(values)})" if len(values) > 4 else "")


class HtmlStream:
    def __init__(self, run: Run, out: TextIO) -> None:
        self.out, self.count = out, 0
        self.sizes: list[tuple[str, int, str]] = []  # (path, bytes, headline) of each model, compared at the end
        out.write(f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>qcheck report</title><style>{STYLE}</style></head>"
                  f"<body><h1>qcheck report</h1><div class=controls>Severity <select id=sev><option value=''>all</option>"
                  + "".join(f"<option>{s}</option>" for s in ("error", "warning", "info"))
                  + "</select> Rule <select id=rule><option value=''>all</option></select> <span id=shown></span></div>")

    def add(self, r: Report) -> None:
        w = self.out.write
        self.count += 1
        w(f"<section class=model><h2>{e(r.path)}</h2>")
        if r.error is not None:
            w(f"<p class=error>unreadable: {e(r.error)}</p></section>")
            return
        by = Counter(f.severity for f in r.findings)
        self.sizes.append((r.path, int(r.stats.get("bytes", 0)), r.headline or ""))
        w(f"<p>{e(' · '.join(r.highlights))}</p><p><span class=error>{by[Severity.ERROR]} error(s)</span>, <span class=warning>"
          f"{by[Severity.WARNING]} warning(s)</span>, <span class=info>{by[Severity.INFO]} info</span>"
          + (f", {len(r.suppressed)} suppressed" if r.suppressed else "") + "</p>")
        if r.targets:
            w("<table class=targets><thead><tr><th>target</th><th>verdict</th><th>summary</th></tr></thead><tbody>"
              + "".join(f"<tr><td>{e(t.target)}</td><td>{e(t.verdict)}</td><td>{e(targets_view.summary(t))}</td></tr>"
                        for t in r.targets.values()) + "</tbody></table>")
        w("<table class=findings><thead><tr><th>code</th><th>severity</th><th>location</th><th>message</th><th>rule</th></tr></thead><tbody>")
        w("".join(f"<tr data-severity={f.severity} data-rule={e(f.code)}><td>{e(f.code)}</td><td class={f.severity} data-v={RANK[f.severity]}>"
                  f"{f.severity}</td><td>{e(f.location)}</td><td>{e(f.message)}</td><td>{e(f.rule)}</td></tr>" for f in r.findings))
        w("</tbody></table>")
        self._model_parts(r)
        w("</section>")

    def _model_parts(self, r: Report) -> None:
        """The plots and the tensor table, from the model itself (read again: reports carry no tensors)."""
        from qcheck.tflite.reader import load

        try:
            model = load(r.path)
        except (ModelError, OSError):
            return
        if not model.subgraphs:
            return
        sub, w = model.main, self.out.write
        plots = [html_plots.activation_scales(model, sub), html_plots.weight_scale_spread(model, sub),
                 html_plots.placement_strip(list(r.targets.values()), len(sub.operators))]
        w("<div class=plots>" + "".join(f"<figure>{svg}</figure>" for svg in plots if svg))
        flagged = sorted({f.location.tensor for f in r.findings if f.location.tensor is not None and f.location.subgraph == 0})
        w("".join(f"<figure class=hist title='{e(name)}'>{svg}</figure>" for name, svg in html_plots.weight_histograms(model, sub, flagged)))
        w("</div><details><summary>Tensors and their quantization</summary><input class=search placeholder='search tensors'>"
          "<table class=tensors><thead><tr><th>#</th><th>name</th><th>dtype</th><th>shape</th><th>scale(s)</th><th>zero point(s)</th>"
          "<th>axis</th></tr></thead><tbody>")
        for t in sub.tensors:
            q = t.quantization
            scales = q.scale.tolist() if q is not None else []
            zps = q.zero_point.tolist() if q is not None else []
            w(f"<tr><td>{t.index}</td><td><code>{e(t.name)}</code></td><td>{t.dtype}</td><td>{e(list(t.shape))}</td>"
              f"<td>{e(_short(scales))}</td><td>{e(_short(zps))}</td><td>{q.quantized_dimension if q is not None and len(scales) > 1 else ''}</td></tr>")
        w("</tbody></table></details>")

    def close(self, run: Run) -> None:
        from qcheck_report.console import summary_line

        if len(self.sizes) > 1:  # several models (e.g. `convert --all`'s strategies): their sizes side by side
            self.out.write(f"<section class=sizes><h2>Models compared</h2><div class=plots><figure>{html_plots.sizes(self.sizes)}</figure></div></section>")
        accuracy = run.settings.get("accuracy")  # `convert --all --data`: each output against the float32 one
        if isinstance(accuracy, dict) and accuracy:
            self.out.write("<section class=accuracy><h2>Accuracy against the float32 output</h2><table><thead><tr><th>model</th>"
                           "<th>output SQNR</th><th>top-1 agreement</th><th>data</th></tr></thead><tbody>")
            for path, a in accuracy.items():
                sqnr = "exact" if a.get("exact") else ("" if a.get("output_sqnr_db") is None else f"{a['output_sqnr_db']:.1f} dB")
                top1 = "" if a.get("top1_agreement") is None else f"{a['top1_agreement']:.1%}"
                self.out.write(f"<tr><td>{e(path)}</td><td>{sqnr}</td><td>{top1}</td><td>{e(a.get('data', ''))}</td></tr>")
            self.out.write("</tbody></table></section>")
        self.out.write(f"<p><b>{e(summary_line(run))}; exit status {run.exit_status}</b> (qcheck {e(__version__)})</p>"
                       f"<script>{SCRIPT}</script></body></html>\n")


render = render_all(HtmlStream)
