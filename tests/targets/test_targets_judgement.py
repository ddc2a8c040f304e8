"""With --target, findings that say what runtimes do are judged for the targets given, and the runtimes agree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from core_helpers import int8_fc, runtime_statuses

import qcheck
from qcheck.engine import Settings
from qcheck.registry import Registry


def bias_axis_model() -> bytes:
    """A clean int8 FULLY_CONNECTED whose per-channel bias says quantized_dimension 5 (rank 1)."""
    b = int8_fc()
    next(t for t in b.subgraphs[0].tensors if t.name == "bias").quantized_dimension = 5
    return b.build()


def wide_weight_model() -> bytes:
    """A clean int8 FULLY_CONNECTED whose weights hold -128 (outside the narrow range [-127, 127])."""
    b = int8_fc()
    data = np.full((4, 8), 3, np.int8)
    data[2, 5] = -128
    next(t for t in b.subgraphs[0].tensors if t.name == "w").buffer = b.buffer(data)
    return b.build()


def findings(data: bytes, registry: Registry, code: str, targets: tuple[str, ...] = ()) -> list[qcheck.Finding]:
    report = qcheck.verify(data, registry=registry, settings=Settings(targets=targets))
    return [f for f in report.findings if f.code == code]


def test_a_bias_quantized_dimension_out_of_range_is_an_error_for_litert_only(registry: Registry, tmp_path: Path) -> None:
    data = bias_axis_model()
    # what the runtimes do with it: LiteRT refuses the model, TFLite Micro ignores the field and runs it
    assert runtime_statuses({"m": data}, tmp_path)["m"] == {"litert-builtin": "error", "tflm": "ok"}
    [default] = findings(data, registry, "QC021")
    assert default.severity == qcheck.Severity.ERROR and default.details["runtimes"] == {"litert": "rejects", "tflm": "runs"}
    [litert] = findings(data, registry, "QC021", ("litert",))
    assert litert.severity == qcheck.Severity.ERROR
    [micro] = findings(data, registry, "QC021", ("tflm",))
    assert micro.severity == qcheck.Severity.WARNING and "no effect on tflm" in micro.message
    report = qcheck.verify(data, registry=registry, settings=Settings(targets=("litert", "tflm")))
    assert report.targets["litert"].verdict == "fails" and report.targets["tflm"].verdict == "runs"


def test_minus_128_weights_matter_only_where_narrowing_kernels_run(registry: Registry) -> None:
    data = wide_weight_model()
    [default] = findings(data, registry, "QC202")
    assert default.severity == qcheck.Severity.WARNING
    [micro] = findings(data, registry, "QC202", ("tflm",))
    assert micro.severity == qcheck.Severity.INFO
    [both] = findings(data, registry, "QC202", ("tflm", "xnnpack"))
    assert both.severity == qcheck.Severity.WARNING


def test_a_finding_without_runtime_facts_keeps_its_severity(registry: Registry) -> None:
    data = wide_weight_model()
    plain = {(f.code, f.severity) for f in qcheck.verify(data, registry=registry).findings if "runtimes" not in f.details}
    judged = {(f.code, f.severity) for f in qcheck.verify(data, registry=registry, settings=Settings(targets=("tflm",))).findings
              if "runtimes" not in f.details and not f.code.startswith("QC6")}
    assert plain == judged
    assert qcheck.load(data).array(qcheck.load(data).main.tensors[1]).min() == -128  # (the value the rule is about)
