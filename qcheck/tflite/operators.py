"""Decoding of a subgraph's operators: a vectorised common path and a per-operator fallback."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Final

import numpy as np

from qcheck.tflite.flatbuf import Table
from qcheck.tflite.model import Operator, OperatorCode
from qcheck.tflite.options import _FIELDS, decode_options
from qcheck.tflite.schema import ACTIVATION_FUNCTIONS, BUILTIN_OPTIONS, BUILTIN_OPTIONS_2, field_slots, field_widths, tensor_type_name
from qcheck.tflite.tensors import VECTORISE_FROM
from qcheck.tflite.vecread import FileViews, gather_i32, scalars, table_fields, table_positions, table_targets, vectors

_OP: Final = field_slots("Operator")
_OP_WIDTHS: Final = field_widths("Operator", "builtin_options_2")
_SUBGRAPH_OPERATORS: Final = field_slots("SubGraph")["operators"]
_EMPTY: Final[MappingProxyType[str, object]] = MappingProxyType({})
_WIDTH: Final = {"act": 1, "type": 1, "bool": 1, "i8": 1, "u32": 4, "i32": 4, "f32": 4}


def _opcode_names(codes: Sequence[OperatorCode]) -> tuple[str, ...]:
    return tuple(c.name for c in codes)


def decode_one(index: int, t: Table, codes: Sequence[OperatorCode]) -> Operator:
    """One operator through the generic, fully checked table reader."""
    opcode_index = t.u32(_OP["opcode_index"])
    code = codes[opcode_index] if opcode_index < len(codes) else None
    options_id = t.u8(_OP["builtin_options_type"])
    options_type = BUILTIN_OPTIONS[options_id - 1] if 0 < options_id <= len(BUILTIN_OPTIONS) else None
    options_table = t.table(_OP["builtin_options"], "builtin_options") if options_type else None
    if not options_id:  # StableHLO ops keep their options in the second union
        options_id = t.u8(_OP["builtin_options_2_type"])
        options_type = BUILTIN_OPTIONS_2[options_id - 1] if 0 < options_id <= len(BUILTIN_OPTIONS_2) else None
        options_table = t.table(_OP["builtin_options_2"], "builtin_options_2") if options_type else None
    return Operator(
        index, opcode_index,
        "UNKNOWN(opcode index out of range)" if code is None else code.name,
        t.vector(_OP["inputs"], "i"), t.vector(_OP["outputs"], "i"), t.vector(_OP["intermediates"], "i"),  # type: ignore[arg-type]
        options_type,
        MappingProxyType(decode_options(options_type, options_table)) if options_table else _EMPTY,
        code is not None and code.name == "CUSTOM",
    )


def decode_operators(table: Table, codes: Sequence[OperatorCode], v: FileViews) -> tuple[Operator, ...]:
    """All operators of the SubGraph `table` (its field 3)."""
    fast = _vectorised(table, codes, v)
    if fast is not None:
        return fast
    out = []
    for i, t in enumerate(table.tables(_SUBGRAPH_OPERATORS, "operators")):
        op = decode_one(i, t, codes)
        # Each vector fits in the file; their sum over operators may not if operators share them.
        v.spend(1 + len(op.inputs) + len(op.outputs) + len(op.intermediates), f"operator {i} at byte {t.pos}")
        out.append(op)
    return tuple(out)


def _vectorised(table: Table, codes: Sequence[OperatorCode], v: FileViews) -> tuple[Operator, ...] | None:
    if not table.has(_SUBGRAPH_OPERATORS):
        return ()
    pos = table_positions(v, table.pos + table.fields[_SUBGRAPH_OPERATORS])
    if pos is None or pos.size < VECTORISE_FROM:
        return None
    v.spend(pos.size, f"operators of the subgraph at byte {table.pos}")
    f = table_fields(v, pos, _OP_WIDTHS)
    if f is None:
        return None
    opcode_index = scalars(v, f[:, _OP["opcode_index"]], "u32")
    options_id = scalars(v, f[:, _OP["builtin_options_type"]], "u8")
    options_id_2 = scalars(v, f[:, _OP["builtin_options_2_type"]], "u8")
    io = [_vectors(v, f[:, _OP[k]]) for k in ("inputs", "outputs", "intermediates")]
    if opcode_index is None or options_id is None or options_id_2 is None or any(x is None for x in io):
        return None
    options = _options(v, f[:, _OP["builtin_options"]], options_id, BUILTIN_OPTIONS)
    if options is None:
        return None
    # Lookup tables whose last entry stands for every index out of range.
    names = (*_opcode_names(codes), "UNKNOWN(opcode index out of range)")
    types = (None, *BUILTIN_OPTIONS, None)
    name_at = np.minimum(opcode_index, len(codes)).tolist()
    type_at = np.minimum(options_id, len(BUILTIN_OPTIONS) + 1).tolist()
    second = np.flatnonzero((options_id == 0) & (options_id_2 != 0))
    if second.size:  # StableHLO ops keep their options in the second union
        options_2 = _options(v, f[second, _OP["builtin_options_2"]], options_id_2[second], BUILTIN_OPTIONS_2)
        if options_2 is None:
            return None
        types = (*types, *BUILTIN_OPTIONS_2, None)
        for j, row in enumerate(second.tolist()):
            options[row] = options_2[j]
            type_at[row] = len(BUILTIN_OPTIONS) + 1 + min(int(options_id_2[row]), len(BUILTIN_OPTIONS_2) + 1)
    ins, outs, inter = io
    new = tuple.__new__  # (NamedTuple's generated __new__ is a Python function: twice as slow)
    return tuple([
        new(Operator, (i, oi, names[n], a, b, c, types[t], opts, names[n] == "CUSTOM"))
        for i, oi, n, t, a, b, c, opts in zip(range(pos.size), opcode_index.tolist(), name_at, type_at, ins, outs, inter, options, strict=True)  # type: ignore[arg-type]
    ])


def _vectors(v: FileViews, at: np.ndarray) -> list[tuple[int, ...]] | None:
    span = vectors(v, at, 4)
    return None if span is None else gather_i32(v, *span, "operator inputs/outputs")


def _options(v: FileViews, at: np.ndarray, options_id: np.ndarray, union: tuple[str, ...]) -> list[MappingProxyType[str, object]] | None:
    """The decoded options of every operator (union: the table names by type id - 1), one numpy pass per table type."""
    targets = table_targets(v, at)
    if targets is None:
        return None
    result: list[MappingProxyType[str, object]] = [_EMPTY] * at.size
    for oid in sorted(set(options_id[targets != 0].tolist())):  # (np.unique would import numpy.ma)
        kind = union[oid - 1] if 0 < oid <= len(union) else None
        spec = _FIELDS.get(kind or "")
        if not spec:
            continue
        rows = np.flatnonzero((options_id == oid) & (targets != 0))
        width = max(slot for _, slot, _, _ in spec) + 1
        widths = [1] * width
        for _, slot, k, _ in spec:
            widths[slot] = _WIDTH[k]
        f = table_fields(v, targets[rows], widths)
        if f is None:
            return None
        columns = []
        for key, slot, k, default in spec:
            col = _column(v, f[:, slot], k, default)
            if col is None:
                return None
            columns.append((key, col))
        keys = [key for key, _ in columns]
        # Operators of one kind mostly share their options (same stride, padding, activation):
        # one read-only mapping per distinct set of values.
        # (Floats are keyed by repr: -0.0 == 0.0, but an option's sign is kept as written.)
        floats = any(k == "f32" for _, _, k, _ in spec)
        shared: dict[tuple[object, ...], MappingProxyType[str, object]] = {}
        for j, values in zip(rows.tolist(), zip(*(c for _, c in columns), strict=True), strict=True):
            values_key = tuple(map(repr, values)) if floats else values
            mapping = shared.get(values_key)
            if mapping is None:
                mapping = shared[values_key] = MappingProxyType(dict(zip(keys, values, strict=True)))
            result[j] = mapping
    return result


def _column(v: FileViews, at: np.ndarray, kind: str, default: object) -> list[object] | None:
    if kind == "f32":
        present = at != 0
        if ((at[present] & 3) != 0).any():
            return None
        return np.where(present, v.f32[at >> 2], float(default)).tolist()  # type: ignore[arg-type]
    raw_kind = {"act": "i8", "type": "i8", "bool": "u8", "i8": "i8", "u32": "u32", "i32": "i32"}[kind]
    dflt = 0 if kind in ("act", "type") else int(default)  # type: ignore[call-overload]
    vals = scalars(v, at, raw_kind, dflt)
    if vals is None:
        return None
    ints = vals.tolist()
    if kind == "act":
        return [ACTIVATION_FUNCTIONS[c] if 0 <= c < len(ACTIVATION_FUNCTIONS) else f"UNKNOWN({c})" for c in ints]
    if kind == "type":
        return [tensor_type_name(c) if c else None for c in ints]
    if kind == "bool":
        return [c != 0 for c in ints]
    return ints
