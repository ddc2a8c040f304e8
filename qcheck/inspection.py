"""`qcheck inspect`: every tensor's quantization, the operators and a summary of one model."""

from __future__ import annotations

import os
from collections import Counter
from typing import TextIO

import numpy as np

from qcheck.textsafe import shown
from qcheck.tflite.model import Model, Operator, Quantization, Tensor


def _short(values: np.ndarray, full: bool, fmt: str) -> str:
    """A per-axis list, shortened to first/last entries with a count unless `full`."""
    items = [format(v, fmt) for v in (values.tolist() if full or len(values) <= 4 else [*values[:2].tolist(), *values[-1:].tolist()])]
    if not full and len(values) > 4:
        return f"[{items[0]}, {items[1]}, … {items[2]}] ({len(values)})"
    return items[0] if len(items) == 1 else "[" + ", ".join(items) + "]"


def _custom_code(model: Model, op: Operator) -> str | None:
    return model.operator_codes[op.opcode_index].custom_code if op.is_custom and op.opcode_index < len(model.operator_codes) else None


def op_label(model: Model, op: Operator) -> str:
    """The opcode, with the custom code of a CUSTOM op: `CUSTOM(AcmeClamp)`."""
    return f"{op.opcode}({_custom_code(model, op) or '?'})" if op.is_custom else op.opcode


def _quant_json(q: Quantization | None) -> dict[str, object] | None:
    if q is None:
        return None
    out: dict[str, object] = {"scale": q.scale.tolist(), "zero_point": q.zero_point.tolist(), "quantized_dimension": q.quantized_dimension}
    if q.details is not None or q.details_type:
        out["details"] = {"type": type(q.details).__name__ if q.details else f"UNKNOWN({q.details_type})", **(q.details._asdict() if q.details else {})}
    return out


def describe(model: Model, path: str) -> dict[str, object]:
    """The model as JSON-ready data."""
    subgraphs = []
    for sg in model.subgraphs:
        tensors = [
            {"index": t.index, "name": t.name, "dtype": t.dtype, "shape": list(t.shape), "buffer": t.buffer,
             "constant": model.is_constant(t), "quantization": _quant_json(t.quantization),
             "producer": sg.producers.get(t.index)}
            for t in sg.tensors
        ]
        ops = [{"index": o.index, "opcode": o.opcode, "custom_code": _custom_code(model, o), "version": model.operator_codes[o.opcode_index].version if o.opcode_index < len(model.operator_codes) else None,
                "inputs": list(o.inputs), "outputs": list(o.outputs), "options": dict(o.options)} for o in sg.operators]
        subgraphs.append({"index": sg.index, "name": sg.name, "inputs": list(sg.inputs), "outputs": list(sg.outputs), "tensors": tensors, "operators": ops})
    return {"path": path, "summary": summary(model), "subgraphs": subgraphs}


def summary(model: Model) -> dict[str, object]:
    ops = Counter(op_label(model, op) for _, op in model.iter_operators())
    dtypes = Counter(t.dtype for _, t in model.iter_tensors())
    cm = model.conversion_metadata
    return {
        "bytes": model.file_size,
        "schema_version": model.version,
        "subgraphs": len(model.subgraphs),
        "tensors": sum(dtypes.values()),
        "operators": sum(ops.values()),
        "op_histogram": dict(ops.most_common()),
        "dtype_histogram": dict(dtypes.most_common()),
        "min_runtime_version": model.min_runtime_version,
        "optimization_modes": list(cm.optimization_modes) if cm else None,
        "converter": cm.tensorflow_version if cm else None,
        "signatures": [s.key for s in model.signature_defs],
    }


def _quant_cells(t: Tensor, full: bool) -> tuple[str, str, str]:
    q = t.quantization
    if q is None or not q.is_affine:
        return ("", "", "" if q is None or not q.details_type else f"details {q.details_type}")
    axis = str(q.quantized_dimension) if q.per_axis else ""
    return _short(q.scale, full, ".4g"), _short(q.zero_point, full, "d"), axis


def render(model: Model, path: str, out: TextIO, *, full: bool = False) -> None:
    from rich.console import Console
    from rich.table import Table

    tty = out.isatty()
    console = Console(file=out, force_terminal=tty, no_color=not tty or "NO_COLOR" in os.environ, width=None if tty else 160)
    s = summary(model)
    console.print(f"[bold]{shown(path)}[/bold]: {s['bytes']:,} bytes, schema v{s['schema_version']}, {s['subgraphs']} subgraph(s), {s['tensors']} tensors, {s['operators']} operators")
    made = [f"converter: TF {s['converter']}" if s["converter"] else "",
            f"modes: {', '.join(s['optimization_modes'])}" if s["optimization_modes"] else "",  # type: ignore[arg-type]
            f"min runtime: {s['min_runtime_version']}" if s["min_runtime_version"] else ""]
    if any(made):
        console.print(shown("  ".join(m for m in made if m)))
    console.print(shown("ops: " + ", ".join(f"{k}×{v}" for k, v in s["op_histogram"].items())))  # type: ignore[attr-defined]  # noqa: RUF001
    console.print("dtypes: " + ", ".join(f"{k}×{v}" for k, v in s["dtype_histogram"].items()))  # type: ignore[attr-defined]  # noqa: RUF001
    for sg in model.subgraphs:
        tt = Table(title=f"subgraph {sg.index} {shown(repr(sg.name))}: tensors", show_lines=False, expand=False)
        for col in ("#", "name", "dtype", "shape", "scale", "zero point", "axis", "producer"):
            tt.add_column(col, overflow="fold")
        for t in sg.tensors:
            prod = sg.producer(t.index)
            producer = f"{prod.index} {op_label(model, prod)}" if prod else ("const" if model.is_constant(t) else ("input" if t.index in sg.inputs else ""))
            tt.add_row(str(t.index), shown(t.name), t.dtype, str(list(t.shape)), *_quant_cells(t, full), shown(producer))
        console.print(tt)
        ot = Table(title=f"subgraph {sg.index}: operators")
        for col in ("#", "opcode", "inputs", "outputs", "options"):
            ot.add_column(col, overflow="fold")
        for op in sg.operators:
            opts = ", ".join(f"{k}={v}" for k, v in op.options.items() if v not in (None, False, "NONE", 0))
            ot.add_row(str(op.index), shown(op_label(model, op)), str(list(op.inputs)), str(list(op.outputs)), shown(opts))
        console.print(ot)
