"""Cross-check: qcheck's reader and the PyPI `tflite` package (TF 2.18 schema) agree field by field."""

from __future__ import annotations

import importlib
from pathlib import Path

import flatbuffers
import numpy as np
import pytest
import tflite
from test_tflite_reader import kitchen_sink
from testpaths import CORPUS_MODELS, FIXTURES

import qcheck
from qcheck.tflite.options import _FIELDS as OPTION_FIELDS
from qcheck.tflite.schema import ACTIVATION_FUNCTIONS, BUILTIN_OPTIONS, BUILTIN_OPTIONS_2, tensor_type_name

MODELS = sorted(FIXTURES.glob("*.tflite")) + CORPUS_MODELS
BUILT = {"builder-kitchen-sink": kitchen_sink()[0].build(), "builder-kitchen-sink-external": kitchen_sink()[0].build(external=True)}


def _str(b: bytes | None) -> str | None:
    return None if b is None else b.decode("utf-8", "replace")


def _ints(fn: object) -> tuple[int, ...]:
    """A `*AsNumpy()` result as a tuple: the package returns the int 0 for an absent vector."""
    arr = fn()  # type: ignore[operator]
    return () if isinstance(arr, int) else tuple(int(x) for x in arr)


def _raw_builtin_code(r: tflite.OperatorCode) -> int:
    """OperatorCode.builtin_code as stored (field 3 at vtable offset 10), 0 when absent."""
    o = r._tab.Offset(10)
    return r._tab.Get(flatbuffers.number_types.Int32Flags, o + r._tab.Pos) if o else 0


def _camel(key: str) -> str:
    return "".join(part.capitalize() for part in key.split("_"))


def _options(union_table: flatbuffers.table.Table, kind: str) -> dict[str, object]:
    """The options qcheck decodes, read through the package's generated class of the same table."""
    cls = getattr(importlib.import_module(f"tflite.{kind}"), kind)
    table = cls()
    table.Init(union_table.Bytes, union_table.Pos)
    out: dict[str, object] = {}
    for key, _, k, _ in OPTION_FIELDS[kind]:
        if key == "squeeze_dims":  # (a vector)
            out[key] = tuple(int(v) for v in table.SqueezeDimsAsNumpy()) if not table.SqueezeDimsIsNone() else ()
            continue
        value = getattr(table, _camel(key))()
        if k == "act":
            value = ACTIVATION_FUNCTIONS[value] if 0 <= value < len(ACTIVATION_FUNCTIONS) else f"UNKNOWN({value})"
        elif k == "type":
            value = tensor_type_name(value) if value else None
        elif k == "bool":
            value = bool(value)
        elif k == "f32":
            value = float(np.float32(value))
        elif k == "offset":  # a string (StableHLOCompositeOptions.name)
            value = value.decode() if value else ""
        out[key] = value
    return out


def compare(data: bytes) -> None:
    ours = qcheck.load(data)
    ref = tflite.Model.GetRootAsModel(data, 0)
    assert ours.version == ref.Version()
    assert ours.description == _str(ref.Description())

    assert len(ours.operator_codes) == ref.OperatorCodesLength()
    for i, oc in enumerate(ours.operator_codes):
        r = ref.OperatorCodes(i)
        assert (oc.deprecated_builtin_code, oc.version) == (r.DeprecatedBuiltinCode(), r.Version())
        # The effective code is the larger of the two fields (LiteRT schema_utils.cc, GetBuiltinCode).
        # (The package's BuiltinCode() returns 0 when a writer left the byte field 0 beside a set int32 field.)
        assert oc.builtin_code == _raw_builtin_code(r)
        assert oc.code == max(oc.builtin_code, r.DeprecatedBuiltinCode())
        assert oc.custom_code == _str(r.CustomCode())

    assert len(ours.buffers) == ref.BuffersLength()
    for i, b in enumerate(ours.buffers):
        r = ref.Buffers(i)
        if r.DataLength():
            assert not b.external and b.size == r.DataLength()
            assert bytes(ours.raw[b.offset : b.offset + b.size]) == r.DataAsNumpy().tobytes()
        elif r.Offset() > 1:
            assert b.external and (b.offset, b.size) == (r.Offset(), r.Size())
            assert bytes(ours.raw[b.offset : b.offset + b.size]) == data[r.Offset() : r.Offset() + r.Size()]
        else:
            assert b.size == 0

    assert len(ours.subgraphs) == ref.SubgraphsLength()
    for s, sg in enumerate(ours.subgraphs):
        compare_subgraph(sg, ref.Subgraphs(s))

    assert dict(ours.metadata) == {_str(ref.Metadata(i).Name()): ref.Metadata(i).Buffer() for i in range(ref.MetadataLength())}
    assert len(ours.signature_defs) == ref.SignatureDefsLength()
    for i, sig in enumerate(ours.signature_defs):
        r = ref.SignatureDefs(i)
        assert (sig.key, sig.subgraph) == (_str(r.SignatureKey()), r.SubgraphIndex())
        assert dict(sig.inputs) == {_str(r.Inputs(j).Name()): r.Inputs(j).TensorIndex() for j in range(r.InputsLength())}
        assert dict(sig.outputs) == {_str(r.Outputs(j).Name()): r.Outputs(j).TensorIndex() for j in range(r.OutputsLength())}


def compare_subgraph(sg: qcheck.Subgraph, r: tflite.SubGraph) -> None:
    assert sg.name == (_str(r.Name()) or "")
    assert sg.inputs == _ints(r.InputsAsNumpy) and sg.outputs == _ints(r.OutputsAsNumpy)
    assert len(sg.tensors) == r.TensorsLength()
    for i, t in enumerate(sg.tensors):
        rt = r.Tensors(i)
        assert t.name == (_str(rt.Name()) or ""), i  # an absent name reads as ""
        assert t.dtype == tensor_type_name(rt.Type()), t.name
        assert t.shape == _ints(rt.ShapeAsNumpy), t.name
        assert t.shape_signature == (None if rt.ShapeSignatureIsNone() else _ints(rt.ShapeSignatureAsNumpy)), t.name
        assert (t.buffer, t.is_variable, t.has_rank) == (rt.Buffer(), rt.IsVariable(), rt.HasRank()), t.name
        assert (t.sparsity is None) == (rt.Sparsity() is None), t.name
        rq, q = rt.Quantization(), t.quantization
        assert (q is None) == (rq is None), t.name
        if q is not None:
            np.testing.assert_array_equal(q.scale, np.asarray(rq.ScaleAsNumpy() if rq.ScaleLength() else [], np.float32))
            np.testing.assert_array_equal(q.zero_point, np.asarray(rq.ZeroPointAsNumpy() if rq.ZeroPointLength() else [], np.int64))
            assert q.quantized_dimension == rq.QuantizedDimension(), t.name
            assert q.details_type == rq.DetailsType(), t.name
            for mine, theirs in ((q.min, rq.MinAsNumpy), (q.max, rq.MaxAsNumpy)):
                want = theirs()
                assert (mine is None) == isinstance(want, int) or mine.size == 0, t.name
                if mine is not None and mine.size:
                    np.testing.assert_array_equal(mine, want)
    assert len(sg.operators) == r.OperatorsLength()
    for i, op in enumerate(sg.operators):
        ro = r.Operators(i)
        assert op.opcode_index == ro.OpcodeIndex()
        assert op.inputs == _ints(ro.InputsAsNumpy) and op.outputs == _ints(ro.OutputsAsNumpy)
        assert op.intermediates == _ints(ro.IntermediatesAsNumpy)
        kind, kind_2 = ro.BuiltinOptionsType(), ro.BuiltinOptions2Type()
        # StableHLO ops keep their options in the second union (builtin_options_2).
        expected = BUILTIN_OPTIONS[kind - 1] if kind else BUILTIN_OPTIONS_2[kind_2 - 1] if kind_2 else None
        assert op.options_type == expected, (i, op.opcode)
        table = ro.BuiltinOptions() if kind else ro.BuiltinOptions2()
        if op.options_type in OPTION_FIELDS and table is not None:
            assert dict(op.options) == _options(table, op.options_type), (i, op.opcode)


@pytest.mark.parametrize("path", MODELS, ids=lambda p: Path(p).name)
def test_files_agree_with_the_tflite_package(path: Path) -> None:
    compare(path.read_bytes())


@pytest.mark.parametrize("name", sorted(BUILT))
def test_builder_models_agree_with_the_tflite_package(name: str) -> None:
    compare(BUILT[name])


def test_the_corpus_is_there() -> None:
    # Without ../shared the corpus half of the cross-check would pass vacuously.
    assert len(CORPUS_MODELS) >= 5, f"no corpus models found next to the repository ({CORPUS_MODELS})"
