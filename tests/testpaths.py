"""Paths shared by the tests: the committed fixtures and the third-party corpus.

(A module with its own name: several folders have a conftest.py, so `from conftest import ...`
would get whichever conftest was imported first.)
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "models"
# CI clones the project next to shared/, exactly as on a developer's machine.
CORPUS = ROOT.parent / "shared" / "corpus"
CORPUS_MODELS = sorted(CORPUS.glob("*.tflite"))
