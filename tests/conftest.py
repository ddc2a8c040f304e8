"""Shared test fixtures: paths to the committed fixtures and the third-party corpus."""

from __future__ import annotations

import pytest
from testpaths import CORPUS, CORPUS_MODELS, FIXTURES, ROOT

__all__ = ["CORPUS", "CORPUS_MODELS", "FIXTURES", "ROOT"]


@pytest.fixture(scope="session")
def registry():
    """The built-in plugins only: no third-party entry points leak into the tests."""
    from qcheck.registry import make_registry

    return make_registry(external=False)
