"""Agreement with the runtime: whatever ai-edge-litert refuses, qcheck reports as an ERROR, and the
defects LiteRT silently accepts are caught as well. LiteRT runs in a subprocess (it can crash)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mutations import BASELINES, MODELS, MUTATIONS, patched, probe, scale
from qcheck_spec.optable import RUNTIME, spec
from specmodels import chain

import qcheck
from qcheck.findings import Severity

REJECTS = (RUNTIME["load"], RUNTIME["xnnpack"])  # claims that mean: the default interpreter refuses the model


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    blobs = [m.data() for m in MUTATIONS] + [build() for _, build in BASELINES]
    names = [m.name for m in MUTATIONS] + [f"baseline {name}" for name, _ in BASELINES]
    return dict(zip(names, probe(blobs, tmp_path_factory.mktemp("litert")), strict=True))


def test_litert_loads_every_unmutated_source(verdicts: dict[str, str]) -> None:
    bad = {k: v for k, v in verdicts.items() if k.startswith("baseline") and v != "OK"}
    assert not bad


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_qcheck_reports_the_defect_as_an_error(mutation, verdicts: dict[str, str], registry) -> None:  # type: ignore[no-untyped-def]
    report = qcheck.verify(mutation.data(), registry=registry)
    severity = Severity.WARNING if mutation.warning else Severity.ERROR
    found = {f.code for f in report.findings if f.severity == severity}
    assert mutation.code in found, (verdicts[mutation.name], [f"{f.code} {f.message}" for f in report.findings])
    if mutation.warning:  # a warning is for what the runtimes accept
        assert verdicts[mutation.name] == "OK", verdicts[mutation.name]


def test_runtime_rejections_are_errors_and_silent_ones_are_known(verdicts: dict[str, str], registry) -> None:  # type: ignore[no-untyped-def]
    rejected = [m for m in MUTATIONS if verdicts[m.name] != "OK"]
    accepted = [m for m in MUTATIONS if verdicts[m.name] == "OK"]
    assert len(rejected) >= 8 and len(accepted) >= 5, verdicts  # both kinds are exercised
    for m in rejected:
        assert any(f.severity >= Severity.ERROR for f in qcheck.verify(m.data(), registry=registry).findings), m.name
    # The defects only a validator catches: LiteRT loads and runs these models.
    assert {m.name for m in MUTATIONS if m.silent} <= {m.name for m in accepted}, {m.name: verdicts[m.name] for m in MUTATIONS if m.silent}


def _claims(data: bytes, registry) -> list[str]:  # type: ignore[no-untyped-def]
    report = qcheck.verify(data, registry=registry, select=("QC401", "QC402"))
    return [f.message for f in report.findings]


# single-op models whose only defect is the one the message describes: its runtime claim is checked
CLAIMS = {
    "SOFTMAX int8 scale (load)": (lambda: chain("INT8", [("SOFTMAX", 1 / 200, -128)]), RUNTIME["load"]),
    "SOFTMAX uint8 scale (silent)": (lambda: chain("UINT8", [("SOFTMAX", 1 / 200, 0)], in_q=(0.05, 128)), RUNTIME["silent"]),
    "TANH int8 zero point (silent)": (lambda: chain("INT8", [("TANH", 1 / 128, 5)]), RUNTIME["silent"]),
    "LOGISTIC int8 zero point (silent)": (lambda: chain("INT8", [("LOGISTIC", 1 / 256, 0)]), RUNTIME["silent"]),
    "TANH int16 scale (load)": (lambda: chain("INT16", [("TANH", 1 / 16384, 0)], in_q=(0.001, 0)), RUNTIME["load"]),
    "RESHAPE int8 (silent)": (lambda: chain("INT8", [("RESHAPE", 0.07, 0)]), RUNTIME["silent"]),
    "LOGISTIC int8 scale (builtin only)": (lambda: chain("INT8", [("LOGISTIC", 1 / 200, -128)]), RUNTIME["builtin"]),
    "TANH int8 scale (silent)": (lambda: chain("INT8", [("TANH", 1 / 100, 0)]), RUNTIME["silent"]),
    "L2_NORMALIZATION int8 zero point (load)": (lambda: chain("INT8", [("L2_NORMALIZATION", 1 / 128, 3)]), RUNTIME["load"]),
    "LOG_SOFTMAX uint8 scale (load)": (lambda: chain("UINT8", [("LOG_SOFTMAX", 1 / 15, 255)], in_q=(0.05, 128)), RUNTIME["load"]),
}


def test_runtime_claims_in_messages_match_litert(tmp_path: Path, registry) -> None:  # type: ignore[no-untyped-def]
    blobs = [build() for build, _ in CLAIMS.values()]
    for (name, (_, claim)), data, verdict in zip(CLAIMS.items(), blobs, probe(blobs, tmp_path), strict=True):
        [message] = _claims(data, registry)
        assert claim in message, (name, message)
        assert (verdict != "OK") == (claim in REJECTS), (name, verdict)


SHAPES = "shapes_int8.tflite"  # a converter-made chain of same-scale ops, each followed by a 1x1 CONV_2D


def _same_scale_ops() -> list[str]:
    model = qcheck.load(MODELS / SHAPES)
    return sorted({op.opcode for _, op in model.iter_operators() if spec(op.opcode).same is not None})


def test_same_scale_claims_match_litert(tmp_path: Path, registry) -> None:  # type: ignore[no-untyped-def]
    ops = _same_scale_ops()
    assert len(ops) >= 10
    blobs = [patched(SHAPES, scale(opcode, 1.5))() for opcode in ops]
    for opcode, data, verdict in zip(ops, blobs, probe(blobs, tmp_path), strict=True):
        findings = qcheck.verify(data, registry=registry).findings
        claims = {f.message.rsplit("equal and ", 1)[1] for f in findings if f.code == "QC402" and f.location.opcode == opcode}
        assert len(claims) == 1, (opcode, claims)
        # the only other errors are on the consumer's bias scale, which LiteRT never checks
        assert {f.code for f in findings if f.severity >= Severity.ERROR} <= {"QC402", "QC208"}
        assert (verdict != "OK") == (claims.pop() in REJECTS), (opcode, verdict)
