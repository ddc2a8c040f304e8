"""Reader round trip: ModelBuilder -> qcheck.load gives back every field, zero-copy, external buffers too."""

from __future__ import annotations

import mmap

import numpy as np
import pytest
from core_helpers import fixture_script

import qcheck
from qcheck.tflite.builder import ModelBuilder
from qcheck.tflite.model import BlockwiseQuantization, MultiAxisQuantization
from qcheck.tflite.schema import BUILTIN_OPERATORS, TENSOR_TYPES

conversion_metadata = fixture_script().conversion_metadata  # a CONVERSION_METADATA FlatBuffer built with `flatbuffers`

EXOTIC = {  # dtype -> (shape, raw bytes of the data)
    "INT4": ((5,), bytes([0x21, 0x43, 0x05])),  # packed: ceil(5 / 2) bytes
    "UINT4": ((4,), bytes([0xF0, 0x1E])),
    "INT2": ((7,), bytes([0b11100100, 0b00011011])),  # ceil(7 / 4) bytes
    "FLOAT8_E4M3FN": ((3,), bytes([0x38, 0x40, 0xB8])),
    "FLOAT8_E5M2": ((2,), bytes([0x3C, 0x40])),
    "BFLOAT16": ((2,), np.array([0x3F80, 0xC000], "<u2").tobytes()),
}


def kitchen_sink() -> tuple[ModelBuilder, dict[str, int]]:
    """One model with every feature the reader decodes; returns the builder and tensor indices by name."""
    b = ModelBuilder()
    ix: dict[str, int] = {}
    ix["x"] = b.tensor("x", "INT8", [1, 4, 4, 3], scale=0.5, zero_point=-7, shape_signature=[-1, 4, 4, 3])
    ix["w"] = b.tensor("w", "INT8", [2, 1, 1, 3], data=np.array([1, -2, 3, -4, 5, -6], np.int8),
                       scale=[0.25, 0.125], zero_point=[0, 0], quantized_dimension=0)
    ix["dw"] = b.tensor("dw", "INT8", [1, 1, 1, 6], data=np.arange(6, dtype=np.int8), scale=np.linspace(0.1, 0.6, 6),
                        zero_point=[0] * 6, quantized_dimension=3)
    ix["y"] = b.tensor("y", "INT8", [1, 4, 4, 2], scale=0.75, zero_point=4)
    ix["state"] = b.tensor("state", "INT16", [1, 2], scale=1 / 32768, is_variable=True)
    ix["i16"] = b.tensor("i16", "INT16", [1, 4, 4, 2], scale=2**-10)
    for dtype, (shape, raw) in EXOTIC.items():
        ix[dtype] = b.tensor(f"t_{dtype.lower()}", dtype, shape, data=raw)
    ix["scales"] = b.tensor("block/scales", "FLOAT16", [4, 2], data=np.ones(8, np.float16))
    ix["blockwise"] = b.tensor("block/w", "INT4", [4, 64], data=bytes(128), details=(2, [ix["scales"], -1, 32]))
    ix["multiaxis"] = b.tensor("multi/w", "INT8", [4, 64], data=bytes(256), details=(3, [ix["scales"], -1, 0, [0, 1]]))
    ix["gelu_out"] = b.tensor("gelu_out", "INT8", [1, 4, 4, 2], scale=0.75, zero_point=4)
    ix["custom_out"] = b.tensor("custom_out", "FLOAT32", [2])
    ix["lstm_inter"] = b.tensor("lstm/intermediate", "INT16", [1, 2], scale=1 / 4096)
    ix["sum"] = b.tensor("sum", "INT16", [1, 4, 4, 2], scale=2**-10)
    b.op("CONV_2D", [ix["x"], ix["w"], -1], [ix["y"]], version=8,
         options={"fused_activation_function": "RELU6", "stride_w": 2, "stride_h": 1, "quantized_bias_type": "INT64"})
    b.op("GELU", [ix["y"]], [ix["gelu_out"]], version=2)
    b.op("CUSTOM", [ix["x"]], [ix["custom_out"]], custom_code="MyOp")
    b.op("FULLY_CONNECTED", [ix["x"], ix["w"], -1], [ix["y"]], version=9, intermediates=[ix["lstm_inter"]],
         options={"fused_activation_function": "TANH", "asymmetric_quantize_inputs": True, "keep_num_dims": True})
    b.op("ADD", [ix["i16"], ix["i16"]], [ix["sum"]], version=3, options={"fused_activation_function": "NONE", "pot_scale_int16": False})
    b.io([ix["x"]], [ix["gelu_out"], ix["custom_out"]])
    b.signature("serving_default", {"image": ix["x"]}, {"probs": ix["gelu_out"], "extra": ix["custom_out"]})
    side = b.subgraph("side")
    t0 = b.tensor("side_in", "FLOAT32", [3], subgraph=side)
    t1 = b.tensor("side_out", "FLOAT32", [3], subgraph=side)
    b.op("RELU", [t0], [t1], subgraph=side)
    b.io([t0], [t1], subgraph=side)
    b.signature("side_fn", {"a": t0}, {"b": t1}, subgraph=side)
    b.metadata("min_runtime_version", b"2.17.0" + bytes(10))
    b.metadata("CONVERSION_METADATA", conversion_metadata([1003, 1004, 4242]))
    b.metadata("note", b"hello")
    return b, ix


@pytest.fixture(scope="module", params=[False, True], ids=["embedded", "external"])
def sink(request: pytest.FixtureRequest) -> tuple[qcheck.Model, dict[str, int], ModelBuilder]:
    b, ix = kitchen_sink()
    return qcheck.load(b.build(external=request.param)), ix, b


def test_tensors_round_trip(sink: tuple[qcheck.Model, dict[str, int], ModelBuilder]) -> None:
    model, ix, b = sink
    sg = model.main
    assert len(sg.tensors) == len(b.subgraphs[0].tensors)
    for i, want in enumerate(b.subgraphs[0].tensors):
        t = sg.tensors[i]
        assert (t.index, t.name, t.dtype, t.shape, t.buffer, t.is_variable) == (i, want.name, want.dtype, want.shape, want.buffer, want.is_variable)
        assert t.shape_signature == (None if want.shape_signature is None else tuple(want.shape_signature))
        if want.scale is None and want.details is None:
            assert t.quantization is None
            continue
        q = t.quantization
        assert q is not None
        if want.scale is not None:
            assert q.scale.dtype == np.float32 and q.zero_point.dtype == np.int64
            np.testing.assert_array_equal(q.scale, np.asarray(want.scale, np.float32))
            np.testing.assert_array_equal(q.zero_point, np.asarray(want.zero_point, np.int64))
            assert q.quantized_dimension == want.quantized_dimension
    assert sg.tensors[ix["x"]].shape_signature == (-1, 4, 4, 3)
    assert sg.tensors[ix["dw"]].quantization.per_axis and sg.tensors[ix["dw"]].quantization.quantized_dimension == 3
    assert sg.tensors[ix["state"]].is_variable and not model.is_constant(sg.tensors[ix["state"]])


def test_every_tensor_type_name_round_trips() -> None:
    b = ModelBuilder()
    for dtype in TENSOR_TYPES:
        b.tensor(dtype.lower(), dtype, [1])
    assert [t.dtype for t in qcheck.load(b.build()).main.tensors] == list(TENSOR_TYPES)
    assert len(TENSOR_TYPES) == 23  # the current schema: FLOAT32=0 .. FLOAT8_E5M2=22


def test_exotic_dtypes_keep_their_packed_bytes(sink: tuple[qcheck.Model, dict[str, int], ModelBuilder]) -> None:
    model, ix, _ = sink
    for dtype, (shape, raw) in EXOTIC.items():
        t = model.main.tensors[ix[dtype]]
        assert (t.dtype, t.shape) == (dtype, shape)
        assert model.raw_data(t).tobytes() == raw
        assert model.array(t) is None  # no numpy dtype for packed / float8 / bfloat16 data


def test_quantization_details(sink: tuple[qcheck.Model, dict[str, int], ModelBuilder]) -> None:
    model, ix, _ = sink
    bw = model.main.tensors[ix["blockwise"]].quantization
    assert bw.details == BlockwiseQuantization(scales=ix["scales"], zero_points=-1, block_size=32)
    assert bw.details_type == 2 and not bw.is_affine
    ma = model.main.tensors[ix["multiaxis"]].quantization
    assert ma.details == MultiAxisQuantization(scales=ix["scales"], zero_points=-1, block_size=0, quantized_dimensions=(0, 1))
    assert ma.details_type == 3 and not model.main.tensors[ix["multiaxis"]].quantized


def test_operators_round_trip(sink: tuple[qcheck.Model, dict[str, int], ModelBuilder]) -> None:
    model, ix, _ = sink
    conv, gelu, custom, fc, add = model.main.operators
    assert (conv.opcode, conv.inputs, conv.outputs, conv.options_type) == ("CONV_2D", (ix["x"], ix["w"], -1), (ix["y"],), "Conv2DOptions")
    assert conv.options["fused_activation_function"] == "RELU6"
    assert (conv.options["stride_w"], conv.options["stride_h"], conv.options["quantized_bias_type"]) == (2, 1, "INT64")
    assert model.main.inputs_of(conv)[2] is None  # -1: absent optional input
    assert gelu.opcode == "GELU" and not gelu.is_custom
    assert custom.is_custom and custom.opcode == "CUSTOM"
    assert fc.intermediates == (ix["lstm_inter"],)
    assert fc.options["fused_activation_function"] == "TANH"
    assert fc.options["asymmetric_quantize_inputs"] is True and fc.options["keep_num_dims"] is True
    assert fc.options["quantized_bias_type"] is None  # unset
    assert add.options == {"fused_activation_function": "NONE", "pot_scale_int16": False}
    assert model.main.producer(ix["y"]).index == conv.index
    assert [o.index for o in model.main.consumers_of(ix["x"])] == [0, 2, 3]


def test_operator_codes(sink: tuple[qcheck.Model, dict[str, int], ModelBuilder]) -> None:
    model, _, _ = sink
    codes = {c.name: c for c in model.operator_codes}
    gelu = codes["GELU"]
    assert (gelu.builtin_code, gelu.deprecated_builtin_code, gelu.code, gelu.version) == (150, 127, 150, 2)
    assert codes["CONV_2D"].version == 8 and codes["CONV_2D"].code == 3
    assert codes["CUSTOM"].custom_code == "MyOp" and codes["CUSTOM"].code == 32
    assert codes["RELU"].custom_code is None


@pytest.mark.parametrize(("raw", "name"), [
    ((3, 0), "CONV_2D"),  # a schema-v3 file without the int32 field: the byte wins
    ((127, 150), "GELU"),  # codes >= 127: the int32 field wins
    ((127, 209), "STABLEHLO_CASE"),
    ((127, 5000), "UNKNOWN(5000)"),  # newer than qcheck's table
    ((0, 0), "ADD"),
])
def test_effective_opcode_is_max_of_both_fields(raw: tuple[int, int], name: str) -> None:
    b = ModelBuilder()
    t = b.tensor("t", "FLOAT32", [1])
    b.op("ADD", [t], [t], opcode_index=b.opcode("ADD", raw_codes=raw))
    model = qcheck.load(b.build())
    assert model.operator_codes[0].name == name
    assert model.main.operators[0].opcode == name
    assert model.operator_codes[0].code == max(raw)


def test_all_builtin_names_round_trip() -> None:
    b = ModelBuilder()
    t = b.tensor("t", "FLOAT32", [1])
    for name in BUILTIN_OPERATORS:
        b.op(name, [t], [t])
    assert [op.opcode for op in qcheck.load(b.build()).main.operators] == list(BUILTIN_OPERATORS)


def test_subgraphs_signatures_metadata(sink: tuple[qcheck.Model, dict[str, int], ModelBuilder]) -> None:
    model, ix, _ = sink
    assert [s.name for s in model.subgraphs] == ["main", "side"]
    assert model.main.inputs == (ix["x"],) and model.main.outputs == (ix["gelu_out"], ix["custom_out"])
    assert model.subgraphs[1].operators[0].opcode == "RELU"
    sigs = {s.key: s for s in model.signature_defs}
    assert dict(sigs["serving_default"].inputs) == {"image": ix["x"]}
    assert dict(sigs["serving_default"].outputs) == {"probs": ix["gelu_out"], "extra": ix["custom_out"]}
    assert (sigs["serving_default"].subgraph, sigs["side_fn"].subgraph) == (0, 1)
    assert set(model.metadata) == {"min_runtime_version", "CONVERSION_METADATA", "note"}
    assert model.min_runtime_version == "2.17.0"
    note = model.buffers[model.metadata["note"]]
    assert bytes(model.raw[note.offset : note.offset + note.size]) == b"hello"
    assert model.version == 3 and model.description == "qcheck ModelBuilder"


def test_conversion_metadata(sink: tuple[qcheck.Model, dict[str, int], ModelBuilder]) -> None:
    cm = sink[0].conversion_metadata
    assert cm is not None
    assert cm.optimization_modes == ("PTQ_FULL_INTEGER", "PTQ_INT16", "UNKNOWN(4242)")
    assert (cm.tensorflow_version, cm.api_version, cm.model_type) == ("2.99.0", 2, 1)
    assert cm.allow_custom_ops is True and cm.enable_select_tf_ops is False


def test_broken_conversion_metadata_reads_as_absent() -> None:
    b = ModelBuilder()
    b.tensor("t", "FLOAT32", [1])
    b.metadata("CONVERSION_METADATA", b"\xff" * 24)
    model = qcheck.load(b.build())
    assert model.conversion_metadata is None and "CONVERSION_METADATA" in model.metadata


def test_external_buffers_match_embedded() -> None:
    b, _ix = kitchen_sink()
    inside, outside = qcheck.load(b.build()), qcheck.load(b.build(external=True))
    assert outside.file_size > inside.file_size
    for t_in, t_out in zip(inside.main.tensors, outside.main.tensors, strict=True):
        a, c = inside.raw_data(t_in), outside.raw_data(t_out)
        assert (a is None) == (c is None)
        if a is not None:
            assert a.tobytes() == c.tobytes(), t_in.name
            assert outside.buffer_of(t_out).external and not inside.buffer_of(t_in).external
            assert outside.buffer_of(t_out).offset % 16 == 0


def test_array_values_and_zero_copy_over_bytes() -> None:
    data = bytearray(kitchen_sink()[0].build())
    model = qcheck.load(bytes(data))
    w = model.main.tensors[1]
    arr = model.array(w)
    np.testing.assert_array_equal(arr, [1, -2, 3, -4, 5, -6])
    assert arr.dtype == np.int8 and not arr.flags.owndata and not arr.flags.writeable
    assert np.shares_memory(arr, np.frombuffer(model.raw, np.uint8))


def test_array_is_a_view_of_the_mmap(tmp_path: object) -> None:
    path = tmp_path / "m.tflite"  # type: ignore[operator]
    kitchen_sink()[0].save(path, external=True)
    model = qcheck.load(path)
    assert isinstance(model.raw, mmap.mmap)
    dw = model.main.tensors[2]
    arr = model.array(dw)
    np.testing.assert_array_equal(arr, np.arange(6))
    assert not arr.flags.owndata and not arr.flags.writeable
    base = arr
    while isinstance(base, np.ndarray):
        base = base.base
    assert isinstance(base, (mmap.mmap, memoryview))  # the chain ends at the mapping, not a copy
    assert np.shares_memory(arr, np.frombuffer(model.raw, np.uint8))


def test_load_accepts_bytes_bytearray_memoryview_and_paths(tmp_path: object) -> None:
    raw = kitchen_sink()[0].build()
    path = tmp_path / "m.tflite"  # type: ignore[operator]
    path.write_bytes(raw)
    names = {qcheck.load(src).main.tensors[0].name for src in (raw, bytearray(raw), memoryview(raw), path, str(path))}
    assert names == {"x"}


def test_sparsity_round_trip() -> None:
    b = ModelBuilder()
    b.tensor("dense", "FLOAT32", [4, 4])
    b.tensor("sparse", "FLOAT16", [4, 4], data=np.ones(5, np.float16), sparsity=([0, 1, 2], [1], [0, 1, 0]))
    dense, sparse = qcheck.load(b.build()).main.tensors
    assert dense.sparsity is None
    assert (sparse.sparsity.traversal_order, sparse.sparsity.block_map, sparse.sparsity.dim_formats) == ((0, 1, 2), (1,), (0, 1, 0))
