"""The op table, its Markdown (`qcheck rules --spec`), the rule docs, --expect names and the facts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from qcheck_spec.optable import OPS, RUNTIME
from qcheck_spec.scheme import EXPECTATIONS, SCHEMES

from qcheck.cli import main

CORPUS = Path(__file__).resolve().parents[3] / "tests" / "corpus" / "pypi"
HEADINGS = ("## What it checks", "## Why it matters", "## How to fix", "## References")


def test_rules_spec_prints_the_op_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--spec"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("|")]
    assert len(rows) > 60
    for name in ("SOFTMAX", "DEPTHWISE_CONV_2D", "LOGISTIC", "RESHAPE", "CONCATENATION", "HARD_SWISH"):
        assert any(f"| {name} |" in r for r in rows), name
    assert "| SOFTMAX | INT8 | 1/256 (0.00390625) | -128 |" in out
    assert "| int8-only | int8 | INT8, UINT8 | none |" in out


def test_spec_rules_have_full_docs(registry) -> None:  # type: ignore[no-untyped-def]
    mine = [r for c, r in registry.rules.items() if registry.owner[f"rule:{c}"] == "qcheck_spec"]
    assert len(mine) >= 25 and all(r.code[2] in "12345" for r in mine)
    for r in mine:
        positions = [r.doc.find(h) for h in HEADINGS]
        assert all(p > 0 for p in positions) and positions == sorted(positions), r.code
        assert r.summary and not r.summary.startswith("#"), r.code


def test_expectation_names_are_the_agreed_ones(registry) -> None:  # type: ignore[no-untyped-def]
    agreed = {"float32", "float16", "dynamic-range", "int8", "int8-fallback", "int8-only", "int16x8", "int16x8-fallback", "int16x8-only", "uint8", "integer"}
    assert set(registry.expectations) >= agreed and agreed == set(EXPECTATIONS)
    assert all(e.scheme in SCHEMES for e in EXPECTATIONS.values())


def test_op_table_is_consistent() -> None:
    for name, s in OPS.items():
        for dtype, f in s.fixed.items():
            assert np.float32(f.scale) == f.scale, name  # exact in float32, so a tight tolerance is fair
            assert f.scale_runtime in RUNTIME and f.zp_runtime in RUNTIME
            assert dtype in ("INT8", "UINT8", "INT16")
        if s.same is not None:
            assert set(s.same.runtime.values()) | set(s.same.input_runtime.values()) <= set(RUNTIME), name
        if s.weights is not None:
            assert s.bias is None or s.bias.input != s.weights.input, name
    # uint8 fixed zero points are the int8 ones + 128 (MLIR GetFixedOutputRange)
    for name in ("LOGISTIC", "SOFTMAX", "TANH", "LOG_SOFTMAX", "L2_NORMALIZATION"):
        assert OPS[name].fixed["UINT8"].zero_point == OPS[name].fixed["INT8"].zero_point + 128


@pytest.mark.parametrize(("model", "scheme"), [("microwakeword_alexa", "int8"), ("mediapipe_selfie_segmentation", "float16")])
def test_json_report_carries_the_facts(model: str, scheme: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(CORPUS / f"{model}.tflite"), "--format", "json"]) == 0
    entry = json.loads(capsys.readouterr().out)["models"][0]
    assert entry["scheme"] == scheme and entry["float_ops"] == [] and set(entry["io"]) == {"inputs", "outputs"}


def test_console_summary_shows_scheme_and_io(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(CORPUS / "microwakeword_okay_nabu.tflite"), "--expect", "int8-only"]) == 0
    assert "scheme int8" in capsys.readouterr().out


@pytest.mark.parametrize(("model", "expect", "status"), [
    ("microwakeword_okay_nabu", "int8-only", 0), ("microwakeword_okay_nabu", "int8", 0), ("mediapipe_selfie_segmentation", "float16", 0),
    ("mediapipe_selfie_segmentation", "int8", 1), ("basicpitch_nmp", "int8-only", 1), ("microwakeword_alexa", "float16", 1),
    ("microwakeword_alexa", "int16x8", 1), ("mediapipe_hand_recrop", "dynamic-range", 1),
])
def test_expect_exit_status(model: str, expect: str, status: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(CORPUS / f"{model}.tflite"), "--expect", expect]) == status
    out = capsys.readouterr().out
    assert ("QC101" in out) == (status == 1)
