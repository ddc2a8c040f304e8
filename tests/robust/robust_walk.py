"""Map a valid .tflite file's FlatBuffer layout: where each table, vtable, offset, length and index sits."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Final

from qcheck.tflite.options import _FIELDS as OPTION_FIELDS
from qcheck.tflite.schema import BUILTIN_OPTIONS

# Slot -> (kind, argument, role) for the tables qcheck reads (schema.fbs field order).
# kinds: table, tables (vector of tables), union (argument = slot of its type byte), vec (argument =
# element width), str, scalar (argument = width). Roles name what a value means, for targeted mutations.
Layout = dict[int, tuple[str, object, str]]
SCHEMA: Final[dict[str, Layout]] = {
    "Model": {0: ("scalar", 4, "version"), 1: ("tables", "OperatorCode", ""), 2: ("tables", "SubGraph", ""),
              3: ("str", 1, ""), 4: ("tables", "Buffer", ""), 5: ("vec", 4, "buffer_index"),
              6: ("tables", "Metadata", ""), 7: ("tables", "SignatureDef", "")},
    "OperatorCode": {0: ("scalar", 1, "opcode"), 1: ("str", 1, ""), 2: ("scalar", 4, "version"), 3: ("scalar", 4, "opcode")},
    "SubGraph": {0: ("tables", "Tensor", ""), 1: ("vec", 4, "tensor_index"), 2: ("vec", 4, "tensor_index"),
                 3: ("tables", "Operator", ""), 4: ("str", 1, "")},
    "Tensor": {0: ("vec", 4, "shape"), 1: ("scalar", 1, "dtype"), 2: ("scalar", 4, "buffer_index"), 3: ("str", 1, ""),
               4: ("table", "Quantization", ""), 5: ("scalar", 1, "bool"), 6: ("table", "Sparsity", ""),
               7: ("vec", 4, "shape"), 8: ("scalar", 1, "bool"), 10: ("scalar", 4, "buffer_index")},
    "Quantization": {0: ("vec", 4, "scale"), 1: ("vec", 4, "scale"), 2: ("vec", 4, "scale"), 3: ("vec", 8, "zero_point"),
                     4: ("scalar", 1, "union_type"), 5: ("union", 4, "QuantizationDetails"), 6: ("scalar", 4, "axis")},
    "Sparsity": {0: ("vec", 4, "axis"), 1: ("vec", 4, "axis"), 2: ("tables", "DimensionMetadata", "")},
    "DimensionMetadata": {0: ("scalar", 1, "union_type"), 1: ("scalar", 4, "shape"), 2: ("scalar", 1, "union_type"),
                          3: ("union", 2, "Int32Vector"), 4: ("scalar", 1, "union_type"), 5: ("union", 4, "Int32Vector")},
    "Int32Vector": {0: ("vec", 4, "tensor_index")},
    "QuantizationDetails": {0: ("scalar", 4, "tensor_index"), 1: ("scalar", 4, "tensor_index"), 2: ("scalar", 4, "shape"),
                            3: ("vec", 4, "axis")},
    "Operator": {0: ("scalar", 4, "opcode_index"), 1: ("vec", 4, "tensor_index"), 2: ("vec", 4, "tensor_index"),
                 3: ("scalar", 1, "union_type"), 4: ("union", 3, "BuiltinOptions"), 5: ("vec", 1, ""),
                 7: ("vec", 1, "bool"), 8: ("vec", 4, "tensor_index")},
    "Buffer": {0: ("vec", 1, "data"), 1: ("scalar", 8, "offset"), 2: ("scalar", 8, "size")},
    "Metadata": {0: ("str", 1, ""), 1: ("scalar", 4, "buffer_index")},
    "SignatureDef": {0: ("tables", "TensorMap", ""), 1: ("tables", "TensorMap", ""), 2: ("str", 1, ""),
                     4: ("scalar", 4, "subgraph_index")},
    "TensorMap": {0: ("str", 1, ""), 1: ("scalar", 4, "tensor_index")},
}


def _options_layout(name: str) -> Layout:
    """Builtin options tables: the fields qcheck decodes, subgraph indices marked as such."""
    out: Layout = {}
    for key, slot, kind, _ in OPTION_FIELDS.get(name, ()):
        width = 4 if kind in ("i32", "u32", "f32") else 1
        out[slot] = ("scalar", width, "subgraph_index" if "subgraph" in key else kind)
    return out


@dataclass(frozen=True, slots=True)
class Point:
    """One structural location: `kind` is table, vtable, uoffset, veclen, elem or scalar; `role` its meaning."""

    kind: str
    pos: int
    width: int
    role: str = ""
    what: str = ""


@dataclass
class FileMap:
    """Every structural point found in a file, and the bytes of each vector (start, end)."""

    size: int
    points: list[Point] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)
    _cache: dict[object, list[Point]] = field(default_factory=dict)

    def of(self, *kinds: str, role: str | None = None) -> list[Point]:
        """The points of these kinds (and role); cached, since mutators ask the same questions."""
        key = (kinds, role)
        if key not in self._cache:
            self._cache[key] = [p for p in self.points if p.kind in kinds and (role is None or p.role == role)]
        return self._cache[key]

    def with_roles(self, roles: tuple[str, ...], width: int | None = None) -> list[Point]:
        key = ("roles", roles, width)
        if key not in self._cache:
            self._cache[key] = [p for p in self.points if p.role in roles and (width is None or p.width == width)]
        return self._cache[key]


def _u32(b: bytes, p: int) -> int:
    return int(struct.unpack_from("<I", b, p)[0])


def walk(data: bytes) -> FileMap:
    """Walk a well-formed model from its root; raises on a malformed one (use only on seeds)."""
    fm = FileMap(len(data))
    root = _u32(data, 0)
    fm.points.append(Point("uoffset", 0, 4, "root", "Model"))
    _table(data, root, "Model", SCHEMA["Model"], fm)
    return fm


def _table(b: bytes, pos: int, what: str, layout: Layout, fm: FileMap) -> None:
    if pos in fm.seen:
        return
    fm.seen.add(pos)
    vt = pos - struct.unpack_from("<i", b, pos)[0]
    vlen, _tlen = struct.unpack_from("<HH", b, vt)
    fm.points += [Point("table", pos, 4, "", what), Point("vtable", vt, 4, "", what)]
    offsets = struct.unpack_from(f"<{(vlen - 4) // 2}H", b, vt + 4)
    fm.points += [Point("vfield", vt + 4 + 2 * i, 2, "", what) for i, o in enumerate(offsets) if o]
    fields = {slot: pos + off for slot, off in enumerate(offsets) if off}
    for slot, at in fields.items():
        kind, arg, role = layout.get(slot, ("scalar", 1, ""))
        if kind == "scalar":
            fm.points.append(Point("scalar", at, int(arg), role, f"{what}.{slot}"))  # type: ignore[call-overload]
            continue
        fm.points.append(Point("uoffset", at, 4, kind, f"{what}.{slot}"))
        target = at + _u32(b, at)
        if kind == "table":
            _table(b, target, str(arg), SCHEMA[str(arg)], fm)
        elif kind == "union":
            type_at = fields.get(int(arg))  # type: ignore[call-overload]
            kind_id = b[type_at] if type_at else 0
            if role == "BuiltinOptions":
                name = BUILTIN_OPTIONS[kind_id - 1] if 0 < kind_id <= len(BUILTIN_OPTIONS) else ""
                _table(b, target, name or "options", _options_layout(name), fm)
            else:
                _table(b, target, role, SCHEMA.get(role, {}), fm)
        else:
            n = _u32(b, target)
            fm.points.append(Point("veclen", target, 4, role, f"{what}.{slot}"))
            if kind == "tables":
                for i in range(n):
                    el = target + 4 + 4 * i
                    fm.points.append(Point("uoffset", el, 4, "element", f"{arg}[{i}]"))
                    _table(b, el + _u32(b, el), str(arg), SCHEMA[str(arg)], fm)
            elif kind == "vec" and role and role not in ("data", "bool"):
                width = int(arg)  # type: ignore[call-overload]
                fm.points += [Point("elem", target + 4 + width * i, width, role, f"{what}.{slot}[{i}]") for i in range(min(n, 64))]
