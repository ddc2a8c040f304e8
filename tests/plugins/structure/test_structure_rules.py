"""Every structural rule (QC0xx): a defective model triggers exactly it, near misses trigger nothing."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from core_helpers import int8_fc

import qcheck
from qcheck.registry import Registry
from qcheck.tflite.builder import ModelBuilder

Make = Callable[[], bytes]


def edit(fn: Callable[[ModelBuilder], object], *, external: bool = False) -> Make:
    """The clean int8 FC model with one edit applied to its builder."""
    def make() -> bytes:
        b = int8_fc()
        fn(b)
        return b.build(external=external)
    return make


def one_tensor(dtype: str, shape: list[int], **kw: object) -> Make:
    """The clean model plus one extra tensor (not used by any op)."""
    return edit(lambda b: b.tensor("extra", dtype, shape, **kw))


def set_attr(obj: object, **kw: object) -> None:
    for k, v in kw.items():
        setattr(obj, k, v)


def truncated_external() -> bytes:
    data = int8_fc().build(external=True)
    model = qcheck.load(data)
    return data[: max(b.offset + b.size for b in model.buffers if b.external) - 3]


def with_raw_opcode(raw: tuple[int, int] | None = None, custom: str | None = None) -> Make:
    def fn(b: ModelBuilder) -> None:
        t = b.tensor("extra", "FLOAT32", [1], data=bytes(4))
        y = b.tensor("extra_out", "FLOAT32", [1])
        if custom is not None or raw is None:
            b.op("CUSTOM", [t], [y], custom_code=custom)
        else:
            b.op("ADD", [t, t], [y], opcode_index=b.opcode("ADD", raw_codes=raw))
    return edit(fn)


def sentinel_with_data() -> bytes:
    b = ModelBuilder()
    t = b.tensor("t", "FLOAT32", [1])  # points at buffer 0, which now holds exactly 4 bytes
    b.buffers[0] = b"\0\0\0\0"
    b.op("RELU", [t], [t])
    b.io([t], [t])
    return b.build()


def no_subgraph() -> bytes:
    b = ModelBuilder()
    b.subgraphs = []
    return b.build()


def while_op(body: int) -> Make:
    def fn(b: ModelBuilder) -> None:
        sg = b.subgraph("body")
        t = b.tensor("t", "FLOAT32", [1], subgraph=sg)
        b.io([t], [t], subgraph=sg)
        b.op("WHILE", [0], [0], options={"cond_subgraph_index": 1, "body_subgraph_index": body})
    return edit(fn)


SCALES = {"scales": 0}  # tensor 0 (the input) stands in for a scales tensor

# (id, bad model, the one QC0 code it must trigger, words the message must hold)
BAD: list[tuple[str, Make, str, str]] = [
    ("version-2", edit(lambda b: set_attr(b, version=2)), "QC001", "schema version is 2"),
    ("no-subgraph", no_subgraph, "QC002", "no subgraph"),
    ("sentinel-with-data", sentinel_with_data, "QC003", "buffers[0] holds 4 bytes"),
    ("tensor-buffer-99", one_tensor("INT8", [2], buffer=99), "QC004", "buffer index 99"),
    ("metadata-buffer-99", edit(lambda b: b.metadata_entries.append(("x", 99))), "QC004", "points at buffer 99"),
    ("no-buffers-at-all", edit(lambda b: setattr(b, "buffers", [])), "QC004", "not even the empty buffers[0] sentinel"),
    ("shape-minus-1", one_tensor("FLOAT32", [-1, 4]), "QC014", "shape [-1, 4] has a negative dimension"),
    ("int8-short-data", one_tensor("INT8", [4, 8], data=bytes(31)), "QC005", "needs 32 bytes, its buffer 3 holds 31"),
    ("int4-packed-short", one_tensor("INT4", [5], data=bytes(2)), "QC005", "needs 3 bytes"),
    ("int2-packed-long", one_tensor("INT2", [5], data=bytes(3)), "QC005", "needs 2 bytes"),
    ("float32-long", one_tensor("FLOAT32", [2], data=bytes(12)), "QC005", "needs 8 bytes"),
    ("external-truncated", truncated_external, "QC006", "past the end of the file"),
    ("variable-with-data", one_tensor("INT16", [2], data=bytes(4), is_variable=True), "QC007", "variable tensor"),
    ("placeholder-small-code", with_raw_opcode((127, 3)), "QC008", "placeholder 127 but builtin_code is 3"),
    ("two-small-codes", with_raw_opcode((5, 3)), "QC008", "deprecated_builtin_code 5 differs from builtin_code 3"),
    ("big-code-no-placeholder", with_raw_opcode((100, 150)), "QC008", "needs deprecated_builtin_code 127"),
    ("byte-field-left-0", with_raw_opcode((0, 19)), "QC011", "deprecated_builtin_code is 0 (ADD) while builtin_code is 19"),
    ("byte-field-left-0-big-code", with_raw_opcode((0, 150)), "QC011", "LiteRT and TFLite Micro use the larger"),
    ("op-input-99", edit(lambda b: b.op("RELU", [99], [3])), "QC009", "input tensor index 99"),
    ("op-output-minus-1", edit(lambda b: b.op("RELU", [0], [-1])), "QC009", "output tensor index -1"),
    ("intermediate-42", edit(lambda b: b.op("RELU", [0], [3], intermediates=[42])), "QC009", "intermediate tensor index 42"),
    ("opcode-index-7", edit(lambda b: b.op("RELU", [0], [3], opcode_index=7)), "QC009", "opcode_index 7"),
    ("subgraph-output-9", edit(lambda b: b.io([0], [9])), "QC009", "subgraph output tensor index 9"),
    ("signature-tensor-50", edit(lambda b: b.signature("s", {"in": 50}, {"out": 3})), "QC009", "maps 'in' to tensor 50"),
    ("signature-subgraph-4", edit(lambda b: b.signature("s", {"in": 0}, {}, subgraph=4)), "QC009", "names subgraph 4"),
    ("while-body-5", while_op(5), "QC009", "body_subgraph_index 5"),
    ("custom-op", with_raw_opcode(custom="MyOp"), "QC010", "custom operator 'MyOp'"),
    ("opcode-5000", with_raw_opcode((127, 5000)), "QC010", "builtin code 5000"),
    ("2-scales-1-zp", one_tensor("INT8", [2, 3], scale=[0.1, 0.2], zero_point=[0], quantized_dimension=0), "QC020", "2 scale(s) but 1 zero point"),
    ("scale-without-zp", one_tensor("INT8", [2], scale=[0.1], zero_point=[]), "QC020", "1 scale(s) but 0 zero point"),
    ("axis-5-of-rank-2", one_tensor("INT8", [2, 3], scale=[0.1, 0.2], quantized_dimension=5), "QC021", "quantized_dimension is 5"),
    ("axis-1-per-tensor", one_tensor("INT8", [4], scale=0.1, quantized_dimension=1), "QC021", "outside [0, 1)"),
    ("3-scales-dim-4", one_tensor("INT8", [4, 2], scale=[0.1, 0.2, 0.3], quantized_dimension=0), "QC022", "3 scales for dimension 0 of size 4"),
    ("scale-zero", one_tensor("INT8", [2], scale=0.0), "QC023", "scale[0] is 0.0"),
    ("scale-negative", one_tensor("INT8", [2, 2], scale=[0.1, -0.5], quantized_dimension=0), "QC023", "scale[1] is -0.5"),
    ("scale-nan", one_tensor("INT8", [2], scale=float("nan")), "QC023", "nan"),
    ("never-written", edit(lambda b: b.op("RELU", [b.tensor("orphan", "FLOAT32", [1])], [b.tensor("o", "FLOAT32", [1])])), "QC013", "no operator writes"),
    ("scale-zero-on-a-nonzero-constant", one_tensor("INT8", [2], data=bytes([0, 5]), scale=0.0), "QC023", "scale[0] is 0.0"),
    ("scale-inf", one_tensor("INT8", [2], scale=float("inf")), "QC023", "inf"),
    ("int8-zp-200", one_tensor("INT8", [2], scale=0.1, zero_point=200), "QC024", "INT8 zero point 200"),
    ("uint8-zp-minus-1", one_tensor("UINT8", [2], scale=0.1, zero_point=-1), "QC024", "UINT8 zero point -1"),
    ("int4-zp-8", one_tensor("INT4", [2], scale=0.1, zero_point=8), "QC024", "outside [-8, 7]"),
    ("int16-zp-40000", one_tensor("INT16", [2], scale=0.1, zero_point=40000), "QC024", "outside [-32768, 32767]"),
    ("blockwise-scales-99", one_tensor("INT4", [4, 64], details=(2, [99, -1, 32])), "QC025", "scales tensor index 99"),
    ("blockwise-block-0", one_tensor("INT4", [4, 64], details=(2, [0, -1, 0])), "QC025", "block_size is 0"),
    ("blockwise-zp-77", one_tensor("INT4", [4, 64], details=(2, [0, 77, 32])), "QC025", "zero_points tensor index 77"),
    ("multiaxis-dim-5", one_tensor("INT8", [4, 64], details=(3, [0, -1, 0, [5]])), "QC025", "quantized_dimensions [5]"),
    ("multiaxis-no-dims", one_tensor("INT8", [4, 64], details=(3, [0, -1, 0, []])), "QC025", "quantized_dimensions []"),
    ("details-type-9", one_tensor("INT8", [4], scale=0.1, details=(9, [0, -1, 0])), "QC026", "details type 9 is newer than qcheck's schema"),
]

# Models right at the edge of each rule that must give no QC0 finding at all.
NEAR_MISS: list[tuple[str, Make]] = [
    ("clean-fc", lambda: int8_fc().build()),
    ("clean-fc-external", lambda: int8_fc().build(external=True)),
    ("int4-packed-exact", one_tensor("INT4", [5], data=bytes(3))),
    ("int2-packed-exact", one_tensor("INT2", [5], data=bytes(2))),
    # a zero scale on a constant of zeros (an LSTM's initial state: 0 at any scale), and on STRING
    ("scale-zero-on-zeros", one_tensor("INT8", [4], data=bytes(4), scale=0.0)),
    ("scale-zero-on-string", one_tensor("STRING", [1], scale=0.0)),
    ("uint4-zp-15", one_tensor("UINT4", [2], scale=0.1, zero_point=15)),
    ("int8-zp-bounds", one_tensor("INT8", [2, 1], scale=[0.1, 0.1], zero_point=[-128, 127], quantized_dimension=0)),
    ("uint8-zp-255", one_tensor("UINT8", [2], scale=0.1, zero_point=255)),
    ("tiny-scale", one_tensor("INT8", [2], scale=1e-30)),
    ("rank-0-axis-3", one_tensor("INT8", [], scale=0.1, quantized_dimension=3)),  # the loader skips rank 0
    ("optional-input-minus-1", edit(lambda b: b.op("FULLY_CONNECTED", [0, 1, -1], [3]))),
    ("variable-without-data", one_tensor("INT16", [2], is_variable=True)),
    ("gelu-placeholder-127", edit(lambda b: b.op("GELU", [3], [3]))),
    ("schema-v3-byte-only-code", with_raw_opcode((3, 0))),
    ("sparse-short-data", one_tensor("FLOAT32", [4, 4], data=bytes(8), sparsity=([0, 1], [], [0, 1]))),
    ("blockwise-ok", one_tensor("INT4", [4, 64], details=(2, [0, -1, 32]))),
    ("multiaxis-ok", one_tensor("INT8", [4, 64], details=(3, [0, 0, 0, [0, 1]]))),
    ("while-ok", while_op(1)),
    ("per-axis-dim-1", one_tensor("INT8", [2, 3], scale=np.full(3, 0.1), quantized_dimension=1)),
]


def structural_codes(data: bytes, registry: Registry) -> list[qcheck.Finding]:
    return list(qcheck.verify(data, registry=registry, select=("QC0",)).findings)


@pytest.mark.parametrize(("make", "code", "words"), [pytest.param(m, c, w, id=f"{c}-{i}") for i, m, c, w in BAD])
def test_bad_model_triggers_exactly_its_rule(make: Make, code: str, words: str, registry: Registry) -> None:
    findings = structural_codes(make(), registry)
    assert {f.code for f in findings} == {code}, [f"{f.code}: {f.message}" for f in findings]
    assert any(words in f.message for f in findings), [f.message for f in findings]
    rule = registry.rules[code]
    assert all(f.rule == rule.name and f.severity == rule.severity for f in findings)


@pytest.mark.parametrize("make", [pytest.param(m, id=i) for i, m in NEAR_MISS])
def test_near_miss_triggers_nothing(make: Make, registry: Registry) -> None:
    findings = structural_codes(make(), registry)
    assert findings == [], [f"{f.code}: {f.message}" for f in findings]


def test_every_structural_rule_has_a_bad_model(registry: Registry) -> None:
    structural = {c for c in registry.rules if c.startswith("QC0")}
    assert structural == {code for _, _, code, _ in BAD}


def test_tensor_findings_name_their_tensor(registry: Registry) -> None:
    f = structural_codes(one_tensor("INT8", [2], scale=0.1, zero_point=200)(), registry)[0]
    assert (f.location.subgraph, f.location.tensor, f.location.tensor_name) == (0, 4, "extra")
