"""The committed fixtures that claim to be clean really run in LiteRT (in a child process)."""

from __future__ import annotations

from testpaths import FIXTURES

from qcheck.runtime import run_interpreters


def test_clean_and_converter_fixtures_run_in_litert() -> None:
    paths = sorted(FIXTURES.glob("builder_*clean*.tflite")) + sorted(FIXTURES.glob("tf_*.tflite"))
    assert len(paths) >= 10
    results = run_interpreters(paths, timeout=120)
    failed = {p.name: (r.status, r.message) for p, r in zip(paths, results, strict=True) if r.status != "ok"}
    assert not failed, failed
