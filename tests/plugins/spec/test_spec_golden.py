"""Golden reports of the whole rule set: console and JSON output of `qcheck verify` over the fixtures,
the spec test models and the in-repo third-party corpus, so any change in findings, messages, facts or
formatting shows up as a reviewable diff. Regenerate: pytest tests/plugins/spec/test_spec_golden.py --update-goldens
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from core_helpers import run_cli
from testpaths import LOCAL_CORPUS, ROOT, SPEC_MODELS

GOLDEN = Path(__file__).resolve().parent / "golden"
# name -> (folder, extra arguments)
SETS: dict[str, tuple[Path, tuple[str, ...]]] = {
    "fixtures": (ROOT / "fixtures" / "models", ()),
    "fixtures-expect-int8-only": (ROOT / "fixtures" / "models", ("--expect", "int8-only")),
    "spec-models": (SPEC_MODELS, ()),
    "corpus": (LOCAL_CORPUS, ()),
}


def _verify(folder: Path, extra: tuple[str, ...], fmt: str) -> str:
    r = run_cli("verify", str(folder.relative_to(ROOT)), *extra, "--format", fmt, cwd=ROOT, timeout=300)
    assert r.returncode in (0, 1), r.stderr
    return r.stdout


@pytest.mark.parametrize("name", sorted(SETS))
def test_json_report(name: str, golden: Callable[[Path, str], None]) -> None:
    data = json.loads(_verify(*SETS[name], "json"))
    data.pop("qcheck")  # the version may change without any finding changing
    golden(GOLDEN / f"{name}.json", json.dumps(data, indent=1) + "\n")


@pytest.mark.parametrize("name", sorted(SETS))
def test_console_report(name: str, golden: Callable[[Path, str], None]) -> None:
    golden(GOLDEN / f"{name}.txt", _verify(*SETS[name], "console"))
