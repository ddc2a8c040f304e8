"""Map a valid .tflite file's FlatBuffer layout: where each table, vtable, offset, length and index sits."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Final

from qcheck.tflite.options import _FIELDS as OPTION_FIELDS
from qcheck.tflite.schema import BUILTIN_OPTIONS, BUILTIN_OPTIONS_2, field_slots

# Field -> (kind, argument, role) for the tables qcheck reads; slots come from the schema table.
# kinds: table, tables (vector of tables), union (argument = slot of its type byte), vec (argument =
# element width), str, scalar (argument = width). Roles name what a value means, for targeted mutations.
Layout = dict[int, tuple[str, object, str]]
_BY_NAME: Final[dict[str, dict[str, tuple[str, object, str]]]] = {
    "Model": {"version": ("scalar", 4, "version"), "operator_codes": ("tables", "OperatorCode", ""),
              "subgraphs": ("tables", "SubGraph", ""), "description": ("str", 1, ""), "buffers": ("tables", "Buffer", ""),
              "metadata_buffer": ("vec", 4, "buffer_index"), "metadata": ("tables", "Metadata", ""),
              "signature_defs": ("tables", "SignatureDef", "")},
    "OperatorCode": {"deprecated_builtin_code": ("scalar", 1, "opcode"), "custom_code": ("str", 1, ""),
                     "version": ("scalar", 4, "version"), "builtin_code": ("scalar", 4, "opcode")},
    "SubGraph": {"tensors": ("tables", "Tensor", ""), "inputs": ("vec", 4, "tensor_index"), "outputs": ("vec", 4, "tensor_index"),
                 "operators": ("tables", "Operator", ""), "name": ("str", 1, "")},
    "Tensor": {"shape": ("vec", 4, "shape"), "type": ("scalar", 1, "dtype"), "buffer": ("scalar", 4, "buffer_index"),
               "name": ("str", 1, ""), "quantization": ("table", "QuantizationParameters", ""), "is_variable": ("scalar", 1, "bool"),
               "sparsity": ("table", "SparsityParameters", ""), "shape_signature": ("vec", 4, "shape"),
               "has_rank": ("scalar", 1, "bool"), "external_buffer": ("scalar", 4, "buffer_index")},
    "QuantizationParameters": {"min": ("vec", 4, "scale"), "max": ("vec", 4, "scale"), "scale": ("vec", 4, "scale"),
                               "zero_point": ("vec", 8, "zero_point"), "details_type": ("scalar", 1, "union_type"),
                               "details": ("union", "details_type", "QuantizationDetails"), "quantized_dimension": ("scalar", 4, "axis")},
    "SparsityParameters": {"traversal_order": ("vec", 4, "axis"), "block_map": ("vec", 4, "axis"),
                           "dim_metadata": ("tables", "DimensionMetadata", "")},
    "DimensionMetadata": {"format": ("scalar", 1, "union_type"), "dense_size": ("scalar", 4, "shape"),
                          "array_segments_type": ("scalar", 1, "union_type"), "array_segments": ("union", "array_segments_type", "Int32Vector"),
                          "array_indices_type": ("scalar", 1, "union_type"), "array_indices": ("union", "array_indices_type", "Int32Vector")},
    "Int32Vector": {"values": ("vec", 4, "tensor_index")},
    # (both detail tables qcheck reads start with the same three ints; MultiAxisQuantization adds the axes)
    "QuantizationDetails": {"scales": ("scalar", 4, "tensor_index"), "zero_points": ("scalar", 4, "tensor_index"),
                            "block_size": ("scalar", 4, "shape"), "quantized_dimensions": ("vec", 4, "axis")},
    "Operator": {"opcode_index": ("scalar", 4, "opcode_index"), "inputs": ("vec", 4, "tensor_index"), "outputs": ("vec", 4, "tensor_index"),
                 "builtin_options_type": ("scalar", 1, "union_type"), "builtin_options": ("union", "builtin_options_type", "BuiltinOptions"),
                 "custom_options": ("vec", 1, ""), "mutating_variable_inputs": ("vec", 1, "bool"), "intermediates": ("vec", 4, "tensor_index"),
                 "builtin_options_2_type": ("scalar", 1, "union_type"),
                 "builtin_options_2": ("union", "builtin_options_2_type", "BuiltinOptions2")},
    "Buffer": {"data": ("vec", 1, "data"), "offset": ("scalar", 8, "offset"), "size": ("scalar", 8, "size")},
    "Metadata": {"name": ("str", 1, ""), "buffer": ("scalar", 4, "buffer_index")},
    "SignatureDef": {"inputs": ("tables", "TensorMap", ""), "outputs": ("tables", "TensorMap", ""), "signature_key": ("str", 1, ""),
                     "subgraph_index": ("scalar", 4, "subgraph_index")},
    "TensorMap": {"name": ("str", 1, ""), "tensor_index": ("scalar", 4, "tensor_index")},
}


def _slotted(table: str, fields: dict[str, tuple[str, object, str]]) -> Layout:
    slots = field_slots("MultiAxisQuantization" if table == "QuantizationDetails" else table)
    # A union's argument is the slot of its type byte.
    return {slots[name]: (kind, slots[str(arg)] if kind == "union" else arg, role) for name, (kind, arg, role) in fields.items()}


SCHEMA: Final[dict[str, Layout]] = {table: _slotted(table, fields) for table, fields in _BY_NAME.items()}


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
            union = {"BuiltinOptions": BUILTIN_OPTIONS, "BuiltinOptions2": BUILTIN_OPTIONS_2}.get(role)
            if union is not None:
                name = union[kind_id - 1] if 0 < kind_id <= len(union) else ""
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
