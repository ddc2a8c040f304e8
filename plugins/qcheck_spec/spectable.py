"""`qcheck rules --spec`: the op table rendered as Markdown (the same data the rules read)."""

from __future__ import annotations

from qcheck_spec.graph import SCALE_RTOL
from qcheck_spec.optable import OPS, RUNTIME, OpSpec
from qcheck_spec.scheme import EXPECTATIONS


def _frac(x: float) -> str:
    for den in (128, 256, 32768, 65536):
        if abs(x * den - round(x * den)) < 1e-9:
            return f"{round(x * den)}/{den}"
    return f"{x:g}"


def _rows(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def _int16(s: OpSpec) -> str:
    return {True: "yes", False: "**no**", None: ""}[s.int16]


def markdown() -> str:
    out = ["# qcheck spec table (plugin qcheck_spec)", "",
           ("One table, `plugins/qcheck_spec/optable.py`, drives the QC2xx-QC5xx rules. Runtime behaviour was measured "
           "with ai-edge-litert 2.3.0; sources per op in the last column."), "", "## Weighted ops (weights, bias, accumulation)", ""]
    rows = []
    for name, s in OPS.items():
        if s.weights is None:
            continue
        w, b = s.weights, s.bias
        rows.append([name, f"input {w.input}", "per-tensor" if w.axis is None else f"per-axis dim {w.axis} or per-tensor",
                     "" if b is None else f"input {b.input}: INT32 (int8/uint8); INT64{' or INT32 with quantized_bias_type' if b.int32_option else ' only'} (int16)",
                     f"dims {list(w.depth_axes)}" if w.depth_axes else "-", ("hybrid only; " if w.hybrid_only else "") + s.source])
    out += _rows(["op", "weights", "weight axis", "bias", "accumulation depth", "sources"], rows)
    out += ["", (f"Weights: symmetric (zero point 0), int8 in [-127, 127] (int4 [-7, 7]). Bias: zero point 0, "
                f"scale = input scale x weight scale[c] within relative {SCALE_RTOL:g}."), "", "## Fixed output quantization", ""]
    rows = []
    for name, s in OPS.items():
        for dt, f in s.fixed.items():
            rows.append([name, dt, f"{_frac(f.scale)} ({f.scale:.8g})", str(f.zero_point), f.scale_runtime, f.zp_runtime, s.source])
    out += _rows(["op", "dtype", "scale", "zero point", "runtime: wrong scale", "runtime: wrong zp", "sources"], rows)
    out += ["", "## Same scale and zero point on inputs and outputs", ""]
    rows = []
    for name, s in OPS.items():
        if s.same is None:
            continue
        ins = "all" if s.same.inputs is None else ", ".join(map(str, s.same.inputs))
        outs = "all" if s.same.outputs is None else ", ".join(map(str, s.same.outputs))
        rt = "; ".join(f"{dt}: {code}" for dt, code in s.same.runtime.items())
        rt += "".join(f"; input {k}: {code}" for k, code in s.same.input_runtime.items())
        rows.append([name, ins, outs, rt, s.source])
    out += _rows(["op", "inputs", "outputs", "runtime on mismatch (exempt dtypes omitted)", "sources"], rows)
    out += ["", "## int16 (16x8) kernels, hybrid inputs and version hints", ""]
    rows = [[name, _int16(s), ", ".join(map(str, s.hybrid)), ", ".join(f"{k.lower()} >= {v}" for k, v in s.versions.items())]
            for name, s in OPS.items() if s.int16 is not None or s.hybrid or s.versions]
    out += _rows(["op", "int16 kernel", "hybrid weight inputs", "version hints"], rows)
    out += ["", "## Runtime behaviour codes", ""]
    out += _rows(["code", "meaning"], [[k, v] for k, v in RUNTIME.items()])
    out += ["", "## --expect names", ""]
    out += _rows(["name", "scheme", "allowed I/O dtypes", "float ops", "summary"],
                 [[e.name, e.scheme, ", ".join(sorted(e.io)) if e.io else "any", "allowed" if e.float_ops else "none", e.summary]
                  for e in EXPECTATIONS.values()])
    return "\n".join(out) + "\n"
