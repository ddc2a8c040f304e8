"""Shared test fixtures: paths to the committed fixtures and the third-party corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "models"
# CI clones the project next to shared/, exactly as on a developer's machine.
CORPUS = ROOT.parent / "shared" / "corpus"
CORPUS_MODELS = sorted(CORPUS.glob("*.tflite"))


@pytest.fixture(scope="session")
def registry():
    """The built-in plugins only: no third-party entry points leak into the tests."""
    from qcheck.registry import make_registry

    return make_registry(external=False)
