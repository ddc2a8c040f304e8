"""Zero false alarms: real third-party models and converter-made models get no ERROR and the right scheme."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from qcheck_spec.scheme import EXPECTATIONS

import qcheck
from qcheck.findings import Severity

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
FIXTURES = ROOT / "fixtures" / "models"
CORPUS = ROOT / "tests" / "corpus" / "pypi"  # the nine PyPI-wheel models (also the top level of ../shared/corpus)
CORPUS_MODELS = sorted(CORPUS.glob("*.tflite"))
SPEC_MODELS = json.loads((HERE / "models" / "models.json").read_text())
TF_FIXTURES = sorted(FIXTURES.glob("tf_*.tflite"))

# What each corpus model is (by reading it by hand: see CORPUS/MANIFEST.md and `qcheck inspect`).
CORPUS_SCHEMES = {
    "basicpitch_nmp": "float32", "mediapipe_hand_recrop": "float32",
    "mediapipe_face_detection_short_range": "float16", "mediapipe_face_detection_full_range_sparse": "float16",
    "mediapipe_selfie_segmentation": "float16",
    "microwakeword_alexa": "int8", "microwakeword_hey_jarvis": "int8", "microwakeword_hey_mycroft": "int8",
    "microwakeword_okay_nabu": "int8",
}


def _errors(report: qcheck.Report) -> list[str]:
    return [f"{f.code} {f.location}: {f.message}" for f in report.findings if f.severity >= Severity.ERROR]


def test_the_corpus_is_there() -> None:
    assert {p.stem for p in CORPUS_MODELS} == set(CORPUS_SCHEMES), f"corpus in {CORPUS} changed"


@pytest.mark.parametrize("path", CORPUS_MODELS, ids=lambda p: p.stem)
def test_corpus_model_scheme_and_no_error(path: Path, registry) -> None:  # type: ignore[no-untyped-def]
    report = qcheck.verify(path, registry=registry)
    assert report.facts["scheme"] == CORPUS_SCHEMES[path.stem]
    assert not _errors(report)
    assert set(report.facts) >= {"scheme", "io", "float_ops"} and report.facts["float_ops"] == []
    # the scheme it has is also what --expect accepts
    assert not _errors(qcheck.verify(path, registry=registry, expect=CORPUS_SCHEMES[path.stem]))


def test_microwakeword_io_is_int8_in_uint8_out(registry) -> None:  # type: ignore[no-untyped-def]
    facts = qcheck.verify(CORPUS / "microwakeword_okay_nabu.tflite", registry=registry).facts
    assert facts["io"] == {"inputs": ["INT8"], "outputs": ["UINT8"]}


def test_there_is_a_converter_fixture_per_strategy(registry) -> None:  # type: ignore[no-untyped-def]
    strategies = {n for n in registry.strategies if registry.owner[f"strategy:{n}"] == "qcheck_tf"}
    assert strategies and {p.stem.removeprefix("tf_") for p in TF_FIXTURES} >= strategies


@pytest.mark.parametrize("path", TF_FIXTURES, ids=lambda p: p.stem)
def test_converter_fixture_is_what_its_strategy_promises(path: Path, registry) -> None:  # type: ignore[no-untyped-def]
    strategy = registry.strategies[path.stem.removeprefix("tf_")]
    report = qcheck.verify(path, registry=registry, expect=strategy.expect)
    assert report.facts["scheme"] == EXPECTATIONS[strategy.expect].scheme
    assert not _errors(report)


@pytest.mark.parametrize("name", sorted(SPEC_MODELS))
def test_spec_model_is_what_its_conversion_asked_for(name: str, registry) -> None:  # type: ignore[no-untyped-def]
    entry = SPEC_MODELS[name]
    report = qcheck.verify(HERE / "models" / name, registry=registry, expect=entry["expect"])
    assert report.facts["scheme"] == EXPECTATIONS[entry["expect"]].scheme
    # Documented true violations of the converter stay findings (see make_spec_models.py).
    assert sorted({f.code for f in report.findings if f.severity >= Severity.ERROR}) == entry["known_errors"], _errors(report)


def test_int16_depthwise_with_int32_bias_is_the_documented_converter_defect(registry) -> None:  # type: ignore[no-untyped-def]
    report = qcheck.verify(HERE / "models" / "vision16_int16x8_b32.tflite", registry=registry)
    [finding] = [f for f in report.findings if f.code == "QC206"]
    assert finding.location.opcode == "DEPTHWISE_CONV_2D" and "INT32 bias" in finding.message


def test_int8_only_conversion_with_a_float_op_fails_int8_only(registry) -> None:  # type: ignore[no-untyped-def]
    # TF 2.21 keeps FLOOR in float although supported_ops was TFLITE_BUILTINS_INT8 only.
    report = qcheck.verify(HERE / "models" / "fallback_int8only.tflite", registry=registry, expect="int8-only")
    mismatch = [f for f in report.findings if f.code == "QC101"]
    # one finding for the island, naming its three ops (not one finding per op)
    (island,) = mismatch
    assert all(f"{name} (op" in island.message for name in ("DEQUANTIZE", "FLOOR", "QUANTIZE"))
    assert report.facts["float_ops"] and all(f.severity == Severity.ERROR for f in mismatch)


def test_zero_shared_bias_is_information_not_an_error(registry) -> None:  # type: ignore[no-untyped-def]
    report = qcheck.verify(HERE / "models" / "zeros16_int16x8.tflite", registry=registry)
    assert {f.code for f in report.findings if f.code.startswith("QC2")} == {"QC209"}
    assert all(f.severity == Severity.INFO for f in report.findings if f.code == "QC209")
