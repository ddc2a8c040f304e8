"""Unusual but valid models verify correctly: a report, no structural ERROR, no rule crash.

"Valid" is not taken on trust: the builder-made models are also loaded and run by ai-edge-litert
(in a child process, through qcheck.runtime).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import robust_valid as valid
from robust_check import SEED_FILES

import qcheck
from qcheck.findings import Severity
from qcheck.runtime import run_interpreters
from qcheck.tflite.builder import ModelBuilder

# name -> builder; every one of them must also run in LiteRT.
RUNNABLE = {
    "while": valid.while_model, "if": valid.if_model, "signature-only-subgraph": valid.signature_only_subgraphs,
    "resource-variables": valid.resource_variables, "string-tensors": valid.string_tensors,
    "dynamic-shapes": valid.dynamic_shapes, "empty-subgraph": valid.empty_subgraphs,
    "shared-tensors-and-buffers": valid.shared_tensors_and_buffers, "optional-inputs": valid.optional_inputs,
    "with-signature": lambda: valid.with_and_without_signatures()[0], "without-signature": lambda: valid.with_and_without_signatures()[1],
}
CORPUS = {p.stem: p for p in SEED_FILES if "/corpus/" in str(p)}


def _verify(data: bytes | Path, registry: object) -> qcheck.Report:
    report = qcheck.verify(data, registry=registry)  # type: ignore[arg-type]
    crashed = [f.message for f in report.findings if f.code == "QC900"]
    assert not crashed, crashed
    return report


def _errors(report: qcheck.Report) -> list[str]:
    return [f"{f.code} {f.location}: {f.message}" for f in report.findings if f.severity >= Severity.ERROR]


@pytest.fixture(scope="module")
def litert(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """LiteRT's verdict on each builder-made model, from one child process."""
    folder = tmp_path_factory.mktemp("valid")
    paths = []
    for name, make in RUNNABLE.items():
        p = folder / f"{name}.tflite"
        make().save(p)
        paths.append(p)
    return {name: f"{r.status} {r.message}" for name, r in zip(RUNNABLE, run_interpreters(paths, timeout=30), strict=True)}


@pytest.mark.parametrize("name", sorted(RUNNABLE))
def test_builder_model_is_valid_and_clean(name: str, litert: dict[str, str], registry: object) -> None:
    assert litert[name].startswith("ok"), f"LiteRT refused the model, so the test is wrong: {litert[name]}"
    report = _verify(RUNNABLE[name]().build(), registry)
    assert not _errors(report), _errors(report)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_model_is_clean(name: str, registry: object) -> None:
    """Real models with resource variables (microwakeword), DENSIFY of sparse FLOAT16 constants
    (MediaPipe full range), custom ops (selfie segmentation): no ERROR from any rule."""
    assert not _errors(_verify(CORPUS[name], registry))


def test_corpus_really_has_the_unusual_features() -> None:
    """Guards the test above: the corpus still contains what it is meant to exercise."""
    ops = {op.opcode for p in CORPUS.values() for _, op in qcheck.load(p).iter_operators()}
    assert {"VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE", "DENSIFY"} <= ops
    sparse = qcheck.load(CORPUS["mediapipe_face_detection_full_range_sparse"])
    assert sum(t.sparsity is not None for _, t in sparse.iter_tensors()) > 10


def test_control_flow_subgraphs_are_read(registry: object) -> None:
    model = qcheck.load(valid.while_model().build())
    assert [sg.name for sg in model.subgraphs] == ["main", "while_cond", "while_body"]
    loop = model.main.operators[0]
    assert loop.opcode == "WHILE" and loop.options == {"cond_subgraph_index": 1, "body_subgraph_index": 2}
    report = qcheck.verify(valid.if_model().build(), registry=registry)  # type: ignore[arg-type]
    assert report.stats["subgraphs"] == 3


def test_signatures_present_and_absent() -> None:
    signed, unsigned = (qcheck.load(m.build()) for m in valid.with_and_without_signatures())
    assert [s.key for s in signed.signature_defs] == ["serving_default"] and unsigned.signature_defs == ()
    two = qcheck.load(valid.signature_only_subgraphs().build())
    assert {s.key: s.subgraph for s in two.signature_defs} == {"encode": 0, "decode": 1}


def test_custom_and_newer_ops_are_reported_as_info_not_fatal(registry: object) -> None:
    report = _verify(valid.custom_and_future_ops().build(), registry)
    unknown = [f for f in report.findings if f.code == "QC010"]
    assert {f.severity for f in unknown} == {Severity.INFO} and len(unknown) == 2
    assert any("AcmePostProcess" in f.message for f in unknown) and any("4000" in f.message for f in unknown)
    assert not _errors(report)
    model = qcheck.load(valid.custom_and_future_ops().build())
    assert [op.opcode for op in model.main.operators] == ["CUSTOM", "UNKNOWN(4000)"]


def test_string_tensor_has_no_numeric_view() -> None:
    model = qcheck.load(valid.string_tensors().build())
    vocab = model.main.tensors[0]
    assert vocab.dtype == "STRING" and model.is_constant(vocab) and model.array(vocab) is None


def test_dynamic_shape_signature() -> None:
    x = qcheck.load(valid.dynamic_shapes().build()).main.tensors[0]
    assert x.shape == (1, 8) and x.shape_signature == (-1, 8)


def test_shared_tensors_and_buffers_are_tracked() -> None:
    model = qcheck.load(valid.shared_tensors_and_buffers().build())
    sg = model.main
    assert len(sg.consumers_of(0)) == 3  # x feeds three FULLY_CONNECTED ops
    w1, w2 = sg.tensors[1], sg.tensors[2]
    assert w1.buffer == w2.buffer and (model.array(w1) == model.array(w2)).all()


def test_optional_input_is_absent_not_out_of_range() -> None:
    sg = qcheck.load(valid.optional_inputs().build()).main
    op = sg.operators[0]
    assert op.inputs[2] == -1 and sg.inputs_of(op)[2] is None and -1 not in sg.consumers


def test_empty_subgraph() -> None:
    model = qcheck.load(valid.empty_subgraphs().build())
    assert model.subgraphs[1].tensors == () and model.subgraphs[1].operators == ()


def test_builder_sparse_tensor_is_read(registry: object) -> None:
    """ModelBuilder cannot write complete sparsity metadata (LiteRT refuses it), so only the reading is checked."""
    t = qcheck.load(valid.sparse_densify().build()).main.tensors[0]
    assert t.sparsity is not None and t.sparsity.traversal_order == (0, 1) and t.sparsity.dim_formats == (0, 1)
    assert "QC005" not in {f.code for f in _verify(valid.sparse_densify().build(), registry).findings}


def test_many_subgraphs() -> None:
    """Fifty subgraphs called by one another (CALL_ONCE chain): read in order, no cross-talk."""
    b = ModelBuilder()
    for i in range(1, 50):
        b.subgraph(f"sg{i}")
    for i in range(50):
        t = b.tensor(f"t{i}", "INT8", [1, 1 + i], scale=0.5, subgraph=i)
        if i < 49:
            b.op("CALL_ONCE", [], [], options={"init_subgraph_index": i + 1}, subgraph=i)
        b.io([t], [t], subgraph=i)
    model = qcheck.load(b.build())
    assert [sg.tensors[0].shape for sg in model.subgraphs] == [(1, 1 + i) for i in range(50)]
    assert "QC009" not in {f.code for f in qcheck.verify(b.build()).findings}
