"""The generated schema table agrees with ai-edge-litert's generated schema module, checked two ways:
the checked-in file is what tools/generate_schema.py writes today, and every field's slot and default
are confirmed by writing and reading tables through the module's own builder and accessor functions."""

from __future__ import annotations

import inspect
from pathlib import Path

import flatbuffers
import pytest
from ai_edge_litert import schema_py_generated as litert
from core_helpers import script
from testpaths import ROOT

from qcheck.tflite.flatbuf import root
from qcheck.tflite.schema import BUILTIN_OPERATORS, BUILTIN_OPTIONS_2, field_slots, field_widths
from qcheck.tflite.schema_generated import ENUMS, TABLES


def _camel(field: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in field.split("_"))


def test_checked_in_table_is_up_to_date() -> None:
    text = script("tools/generate_schema.py").render()
    assert Path(ROOT / "qcheck" / "tflite" / "schema_generated.py").read_text() == text, "run tools/generate_schema.py"


def test_enums_match_the_module() -> None:
    classes = {n: c for n, c in vars(litert).items() if inspect.isclass(c) and n in ENUMS}
    assert set(classes) == set(ENUMS)
    for name, cls in classes.items():
        members = {v: k for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, int)}
        assert ENUMS[name] == tuple(members.get(i, "") for i in range(len(ENUMS[name]))), name
        assert max(members) == len(ENUMS[name]) - 1, name
    assert "STABLEHLO_COMPOSITE" in BUILTIN_OPERATORS and "StableHLOCompositeOptions" in BUILTIN_OPTIONS_2


def test_every_table_of_the_module_is_there() -> None:
    starts = {n.removesuffix("Start") for n in vars(litert) if n.endswith("Start") and callable(getattr(litert, n))}
    assert starts == set(TABLES)


def _other_than(default: object) -> object:
    """A value the builder must write (flatbuffers leaves a field out when it equals its default)."""
    if isinstance(default, bool):
        return not default
    return default + 0.5 if isinstance(default, float) else int(default) + 3  # type: ignore[call-overload]


@pytest.mark.parametrize("table", sorted(TABLES))
def test_slots_and_defaults_through_the_module(table: str) -> None:
    """Each field, written alone with the module's own Add function, lands in the slot the table says;
    the module's accessor returns the table's default when the field is absent."""
    for name, slot, kind, default in TABLES[table]:
        b = flatbuffers.Builder(64)
        value = b.CreateString("x") if kind == "offset" else _other_than(default)
        getattr(litert, f"{table}Start")(b)
        getattr(litert, f"{table}Add{_camel(name)}")(b, value)
        b.Finish(getattr(litert, f"{table}End")(b))
        data = bytes(b.Output())
        written = root(data, len(data))
        assert [s for s in range(64) if written.has(s)] == [slot], (table, name)
        if kind != "offset":
            empty = flatbuffers.Builder(16)
            getattr(litert, f"{table}Start")(empty)
            empty.Finish(getattr(litert, f"{table}End")(empty))
            accessor = getattr(getattr(litert, table).GetRootAs(bytes(empty.Output()), 0), _camel(name))
            assert accessor() == default, (table, name)


def test_widths_follow_the_kinds() -> None:
    assert field_widths("Tensor") == (4, 1, 4, 4, 4, 1, 4, 4, 1, 4, 4)
    assert field_widths("Buffer") == (4, 8, 8)
    assert field_slots("Operator")["builtin_options_2"] == 12 and field_widths("Operator", "builtin_options_2")[-1] == 4
    # a deprecated slot (SignatureDef's 3) leaves a gap that the widths still cover
    assert 3 not in field_slots("SignatureDef").values() and len(field_widths("SignatureDef")) == 5
