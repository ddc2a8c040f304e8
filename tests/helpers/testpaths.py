"""Paths shared by the tests: the committed fixtures and the two tiers of third-party models.

(A module with its own name: several folders have a conftest.py, so `from conftest import ...`
would get whichever conftest was imported first.)

- `tests/corpus/` (in the repository, always there): 68 third-party models, listed with source,
  licence and sha256 in its MANIFEST.tsv; `pypi/` holds the nine PyPI-wheel models.
- `../shared/corpus/` (beside the clone on developers' machines and in CI; `.ci/run` requires it):
  all 419 models, searched recursively. When it is there, CORPUS_MODELS is the whole of it.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HELPERS = Path(__file__).resolve().parent
SPEC_MODELS = ROOT / "tests" / "plugins" / "spec" / "models"
FIXTURES = ROOT / "fixtures" / "models"
LOCAL_CORPUS = ROOT / "tests" / "corpus"
LOCAL_MODELS = sorted(LOCAL_CORPUS.rglob("*.tflite"))
# The nine models from PyPI wheels, checked by name (the same files as the top level of ../shared/corpus).
CORPUS = LOCAL_CORPUS / "pypi"
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"
SHARED_MODELS = sorted(SHARED_CORPUS.rglob("*.tflite")) if SHARED_CORPUS.is_dir() else []
# Every third-party model the tests can see: the full shared corpus (a superset of tests/corpus), else the in-repo one.
CORPUS_MODELS = SHARED_MODELS or LOCAL_MODELS
