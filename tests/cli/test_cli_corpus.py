"""Every third-party model (tests/corpus, and all of ../shared/corpus when it is there) parses, verifies and gives a well-formed report."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from core_helpers import run_cli
from testpaths import CORPUS, CORPUS_MODELS, LOCAL_CORPUS, LOCAL_MODELS, SHARED_MODELS

import qcheck
from qcheck.registry import Registry

SEVERITIES = {"error", "warning", "info"}
LOCATION_KEYS = {"subgraph", "operator", "opcode", "tensor", "tensor_name"}


def test_corpus_is_present() -> None:
    assert len(LOCAL_MODELS) >= 60, "tests/corpus is missing: the corpus tests would pass vacuously"
    assert len(CORPUS_MODELS) >= len(LOCAL_MODELS)


def test_in_repo_corpus_matches_its_manifest() -> None:
    """Every file is listed with a permissive licence and its sha256; nothing unlisted; at most 15 MB."""
    rows = [line.split("\t") for line in (LOCAL_CORPUS / "MANIFEST.tsv").read_text().splitlines()]
    header, rows = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    listed = {r[col["file"]]: r for r in rows}
    assert set(listed) == {str(p.relative_to(LOCAL_CORPUS)) for p in LOCAL_MODELS}
    for name, r in listed.items():
        assert r[col["license"]] in {"Apache-2.0", "MIT", "BSD-3-Clause", "BSD-2-Clause", "Zlib"}, name
        assert r[col["source"]] and r[col["path"]], name
        assert hashlib.sha256((LOCAL_CORPUS / name).read_bytes()).hexdigest() == r[col["sha256"]], name
    assert sum(p.stat().st_size for p in LOCAL_CORPUS.rglob("*") if p.is_file()) <= 15 << 20



def test_full_tier_holds_the_in_repo_corpus() -> None:
    """With ../shared beside the clone (always in CI), the tests see all of it, tests/corpus's files included."""
    if not SHARED_MODELS:  # a fresh clone alone: only the in-repo tier runs (.ci/run refuses this setting)
        assert CORPUS_MODELS == LOCAL_MODELS
        return
    assert len(SHARED_MODELS) > len(LOCAL_MODELS) and CORPUS_MODELS == SHARED_MODELS
    assert any(p.parent.parent.name == "github" for p in SHARED_MODELS), "the github/ folder is searched recursively"
    shared = {hashlib.sha256(p.read_bytes()).hexdigest() for p in SHARED_MODELS}
    assert {hashlib.sha256(p.read_bytes()).hexdigest() for p in LOCAL_MODELS} <= shared


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
def test_no_rule_crashes(path: Path, registry: Registry) -> None:
    report = qcheck.verify(path, registry=registry)
    assert not [f.message for f in report.findings if f.code == "QC900"]
    model = qcheck.load(path)
    assert report.stats["tensors"] == sum(len(sg.tensors) for sg in model.subgraphs)


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.tflite")), ids=lambda p: p.name)
def test_no_structural_error_on_wheel_models(path: Path, registry: Registry) -> None:
    """The models shipped in PyPI wheels are well formed: a QC0 error on one would be a false alarm."""
    report = qcheck.verify(path, registry=registry)
    assert not [f"{f.code}: {f.message}" for f in report.findings if f.code.startswith("QC0") and f.severity == qcheck.Severity.ERROR]
    assert report.stats["tensors"] > 0
