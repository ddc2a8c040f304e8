"""Every third-party model in ../shared/corpus parses, verifies (exit 0 or 1) and gives a well-formed JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from core_helpers import run_cli
from testpaths import CORPUS_MODELS

import qcheck
from qcheck.registry import Registry

SEVERITIES = {"error", "warning", "info"}
LOCATION_KEYS = {"subgraph", "operator", "opcode", "tensor", "tensor_name"}


def test_corpus_is_present() -> None:
    assert len(CORPUS_MODELS) >= 5, "../shared/corpus is missing: the corpus tests would pass vacuously"


@pytest.mark.parametrize("path", CORPUS_MODELS, ids=lambda p: p.name)
def test_cli_verify_exit_and_json(path: Path) -> None:
    r = run_cli("verify", str(path), "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    report = json.loads(r.stdout)
    assert isinstance(report["schema_version"], int) and isinstance(report["qcheck"], str)
    (entry,) = report["models"]
    assert entry["path"] == str(path) and "error" not in entry
    assert isinstance(entry["findings"], list)
    for f in entry["findings"]:
        assert {"code", "rule", "severity", "message", "location", "fix", "details", "fingerprint"} <= set(f)
        assert f["severity"] in SEVERITIES and f["message"]
        assert set(f["location"]) <= LOCATION_KEYS
    assert set(entry["summary"]) == SEVERITIES
    assert sum(entry["summary"].values()) == len(entry["findings"])
    assert r.returncode == int(entry["summary"]["error"] > 0)
    assert entry["stats"]["bytes"] == path.stat().st_size


@pytest.mark.parametrize("path", CORPUS_MODELS, ids=lambda p: p.name)
def test_no_rule_crashes_and_no_structural_error(path: Path, registry: Registry) -> None:
    """Real models from other projects are well formed: a QC0 error on one would be a false alarm."""
    report = qcheck.verify(path, registry=registry)
    assert not [f.message for f in report.findings if f.code == "QC900"]
    assert not [f"{f.code}: {f.message}" for f in report.findings if f.code.startswith("QC0") and f.severity == qcheck.Severity.ERROR]
    model = qcheck.load(path)
    assert report.stats["tensors"] == sum(len(sg.tensors) for sg in model.subgraphs) > 0
