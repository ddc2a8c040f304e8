"""`qcheck diff`: what changed between two versions of a model, operator by operator and tensor by tensor.

Matching, per subgraph (subgraphs by index): operators by name first (an op's name is its output tensors'
names, the only names a .tflite gives ops), then the rest by graph position (the longest common runs of
op types in execution order, difflib); tensors by name first, then through matched operators (the same
input or output slot). Each match records how it was made. Weights are compared in chunks (bounded
memory, as the scans do); nothing here needs TensorFlow or data.
"""

from __future__ import annotations

from collections.abc import Iterator
from difflib import SequenceMatcher
from typing import NamedTuple

import numpy as np

from qcheck.tflite.model import Model, Operator, Subgraph, Tensor

CHUNK = 1 << 22  # elements per weight comparison step
CATEGORIES = ("size", "scheme", "io", "ops", "dtype", "quantization", "weights", "findings", "new-errors", "placement")


class Change(NamedTuple):
    """One difference: its category (CATEGORIES), where (old and new names or indices), what, and a size for ordering;
    `old` and `new` hold the two sides where there are two ("what" then reads "LABEL OLD -> NEW")."""

    category: str
    where: str
    what: str
    magnitude: float = 0.0
    old: str | None = None
    new: str | None = None


def changed(category: str, where: str, label: str, old: object, new: object, magnitude: float = 0.0, note: str = "") -> Change:
    """A Change with both sides: what = "LABEL OLD -> NEW NOTE"."""
    what = f"{label} {old} -> {new}".strip() + (f" {note}" if note else "")
    return Change(category, where, what, magnitude, str(old), str(new) + (f" {note}" if note else ""))


class Matching(NamedTuple):
    ops: dict[int, tuple[int, str]]  # old op index -> (new op index, "name" | "position")
    tensors: dict[int, tuple[int, str]]  # old tensor index -> (new tensor index, "name" | "position")


def _op_name(sub: Subgraph, op: Operator) -> tuple[str, ...] | None:
    names = tuple(t.name if (t := sub.tensor(i)) is not None else "" for i in op.outputs)
    return names if names and all(names) else None


def _unique(items: Iterator[tuple[object, int]]) -> dict[object, int]:
    seen: dict[object, int] = {}
    twice = set()
    for key, i in items:
        if key is None:
            continue
        if key in seen:
            twice.add(key)
        seen[key] = i
    return {k: v for k, v in seen.items() if k not in twice}


def match(old: Subgraph, new: Subgraph) -> Matching:
    """Operators and tensors of `old` paired with those of `new` (see the module docstring)."""
    by_name_old = _unique((_op_name(old, op), op.index) for op in old.operators)
    by_name_new = _unique((_op_name(new, op), op.index) for op in new.operators)
    ops = {i: (by_name_new[k], "name") for k, i in by_name_old.items() if k in by_name_new and new.operators[by_name_new[k]].opcode == old.operators[i].opcode}
    rest_old = [op.index for op in old.operators if op.index not in ops]
    taken = {j for j, _ in ops.values()}
    rest_new = [op.index for op in new.operators if op.index not in taken]
    blocks = SequenceMatcher(None, [old.operators[i].opcode for i in rest_old], [new.operators[j].opcode for j in rest_new], autojunk=False)
    for a, b, size in blocks.get_matching_blocks():
        for k in range(size):
            ops[rest_old[a + k]] = (rest_new[b + k], "position")
    tnames_old = _unique((t.name or None, t.index) for t in old.tensors)
    tnames_new = _unique((t.name or None, t.index) for t in new.tensors)
    tensors = {i: (tnames_new[k], "name") for k, i in tnames_old.items() if k in tnames_new}
    used = {j for j, _ in tensors.values()}
    for i, (j, _) in sorted(ops.items()):
        op_a, op_b = old.operators[i], new.operators[j]
        for x, y in (*zip(op_a.inputs, op_b.inputs, strict=False), *zip(op_a.outputs, op_b.outputs, strict=False)):
            if x >= 0 and y >= 0 and x not in tensors and y not in used and x < len(old.tensors) and y < len(new.tensors):
                tensors[x] = (y, "position")
                used.add(y)
    return Matching(ops, tensors)


def _label(sub: Subgraph, op: Operator) -> str:
    name = _op_name(sub, op)
    return f"sg{sub.index} op {op.index} {op.opcode}" + (f" '{name[0]}'" if name else "")


def op_changes(old_model: Model, new_model: Model, old: Subgraph, new: Subgraph, m: Matching) -> Iterator[Change]:
    matched_new = {j for j, _ in m.ops.values()}
    for op in old.operators:
        if op.index not in m.ops:
            yield Change("ops", _label(old, op), "removed")
    for op in new.operators:
        if op.index not in matched_new:
            yield Change("ops", _label(new, op), "added")
    for i, (j, _) in sorted(m.ops.items()):
        a, b = old.operators[i], new.operators[j]
        va = old_model.operator_codes[a.opcode_index].version if 0 <= a.opcode_index < len(old_model.operator_codes) else None
        vb = new_model.operator_codes[b.opcode_index].version if 0 <= b.opcode_index < len(new_model.operator_codes) else None
        where = f"{_label(old, a)} -> op {j}"
        if a.opcode != b.opcode:
            yield changed("ops", where, "type", a.opcode, b.opcode)
        if va != vb:
            yield changed("ops", where, "version", va, vb)
        for k in sorted(set(a.options) | set(b.options)):
            if a.options.get(k) != b.options.get(k) and repr(a.options.get(k)) != repr(b.options.get(k)):  # (NaN equals NaN here)
                yield changed("ops", where, k, repr(a.options.get(k)), repr(b.options.get(k)))


def _kind(t: Tensor) -> str:
    q = t.quantization
    if q is None or not len(q.scale):
        return "not quantized"
    return f"per-axis (axis {q.quantized_dimension}, {len(q.scale)})" if len(q.scale) > 1 else "per-tensor"


def tensor_changes(old_model: Model, new_model: Model, old: Subgraph, new: Subgraph, m: Matching, rtol: float) -> Iterator[Change]:
    for i, (j, _) in sorted(m.tensors.items()):
        a, b = old.tensors[i], new.tensors[j]
        where = f"sg{old.index} tensor {i} '{a.name}'" + (f" -> {j}" if i != j else "")
        if a.dtype != b.dtype:
            yield changed("dtype", where, "dtype", a.dtype, b.dtype)
        if tuple(a.shape) != tuple(b.shape):
            yield changed("dtype", where, "shape", list(a.shape), list(b.shape))
        if _kind(a) != _kind(b):
            yield changed("quantization", where, "", _kind(a), _kind(b), 1.0)
        elif a.quantization is not None and b.quantization is not None and len(a.quantization.scale):
            yield from _quant_change(where, a, b, rtol)
        if old_model.is_constant(a) and new_model.is_constant(b) and a.dtype == b.dtype and a.num_elements == b.num_elements:
            yield from _weight_change(where, old_model, new_model, a, b)


def _quant_change(where: str, a: Tensor, b: Tensor, rtol: float) -> Iterator[Change]:
    qa, qb = a.quantization, b.quantization
    assert qa is not None and qb is not None
    sa, sb = np.asarray(qa.scale, np.float64), np.asarray(qb.scale, np.float64)
    if sa.shape == sb.shape:
        with np.errstate(all="ignore"):  # (infinite or NaN scales: their change is NaN or infinite, not a warning)
            rel = np.abs(sb - sa) / np.maximum(np.abs(sa), np.finfo(np.float64).tiny)
        worst = int(np.nanargmax(rel)) if rel.size and not np.isnan(rel).all() else 0
        if rel.size and rel[worst] > rtol:
            at = f"[{worst}]" if sa.size > 1 else ""
            note = f"({rel[worst]:+.2%} relative" + (f"; {int((rel > rtol).sum())} of {rel.size} channels" if rel.size > 1 else "") + ")"
            yield changed("quantization", where, f"scale{at}", f"{sa[worst]:.6g}", f"{sb[worst]:.6g}", float(rel[worst]), note)
    za, zb = np.asarray(qa.zero_point, np.int64), np.asarray(qb.zero_point, np.int64)
    if za.shape == zb.shape and za.size and (za != zb).any():
        k = int(np.argmax(za != zb))
        old_zp, new_zp = int(za[k]), int(zb[k])  # (Python ints: the difference of two int64 extremes overflows)
        yield changed("quantization", where, f"zero point{f'[{k}]' if za.size > 1 else ''}", old_zp, new_zp, float(abs(new_zp - old_zp)))


def _weight_change(where: str, old_model: Model, new_model: Model, a: Tensor, b: Tensor) -> Iterator[Change]:
    xa, xb = old_model.array(a), new_model.array(b)
    if xa is None or xb is None or xa.size != xb.size:  # (a buffer shorter than its shape says: no element-wise comparison)
        return
    fa, fb = xa.reshape(-1), xb.reshape(-1)
    wide = np.complex128 if "c" in (fa.dtype.kind, fb.dtype.kind) else np.float64
    count, top = 0, 0.0
    with np.errstate(all="ignore"):  # (infinities and NaN compare as what they are, without warnings)
        for start in range(0, fa.size, CHUNK):
            d = np.abs(fb[start:start + CHUNK].astype(wide) - fa[start:start + CHUNK].astype(wide))
            count += int((d > 0).sum())
            seen = d[~np.isnan(d)]
            top = max(top, float(seen.max())) if seen.size else top
    if count:
        yield Change("weights", where, f"{count} of {fa.size} values changed ({count / fa.size:.1%}), max abs difference {top:.6g}", top)


def model_changes(old: Model, new: Model, rtol: float = 1e-6) -> tuple[list[Change], dict[str, int]]:
    """Every difference between the two models (largest first within a category), and how the matching went."""
    changes: list[Change] = []
    how = {"ops by name": 0, "ops by position": 0, "tensors by name": 0, "tensors by position": 0}
    if old.file_size != new.file_size:
        changes.append(changed("size", "file", "bytes", f"{old.file_size:,}", f"{new.file_size:,}", abs(new.file_size - old.file_size),
                               f"({new.file_size - old.file_size:+,})"))
    if len(old.subgraphs) != len(new.subgraphs):
        changes.append(changed("ops", "model", "subgraphs", len(old.subgraphs), len(new.subgraphs)))
    for a, b in zip(old.subgraphs, new.subgraphs, strict=False):
        io = ([old_t.dtype for old_t in map(a.tensor, (*a.inputs, *a.outputs)) if old_t], [t.dtype for t in map(b.tensor, (*b.inputs, *b.outputs)) if t])
        if io[0] != io[1]:
            changes.append(changed("io", f"sg{a.index}", "inputs and outputs", io[0], io[1]))
        m = match(a, b)
        for _, kind in m.ops.values():
            how[f"ops by {kind}"] += 1
        for _, kind in m.tensors.values():
            how[f"tensors by {kind}"] += 1
        changes += op_changes(old, new, a, b, m)
        changes += tensor_changes(old, new, a, b, m, rtol)
    order = {c: n for n, c in enumerate(CATEGORIES)}
    changes.sort(key=lambda c: (order.get(c.category, 99), -c.magnitude))
    return changes, how
