"""Golden reports: the structural (QC0) JSON report of each builder fixture, and the fixtures' own freshness.

Regenerate after an intended change: .venv/bin/python -m pytest tests/plugins/structure --update-goldens
(see fixtures/README.md), then review the diff of fixtures/expected/ and run again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from core_helpers import ROOT, fixture_script, run_cli

EXPECTED = ROOT / "fixtures" / "expected"
BUILDER_FIXTURES = sorted((ROOT / "fixtures" / "models").glob("builder_*.tflite"))
# The report fields the golden files pin down; plugin facts and the qcheck version may change freely.
CORE_FIELDS = ("path", "error", "findings", "summary", "stats")


@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, object]]:
    """One `qcheck verify --select QC0 --format json` run over all builder fixtures, split per model."""
    rel = [str(p.relative_to(ROOT)) for p in BUILDER_FIXTURES]
    r = run_cli("verify", *rel, "--select", "QC0", "--format", "json", cwd=ROOT)
    assert r.returncode in (0, 1), r.stderr
    data = json.loads(r.stdout)
    assert isinstance(data["schema_version"], int)
    return {Path(m["path"]).name: {"schema_version": data["schema_version"], **{k: m[k] for k in CORE_FIELDS if k in m}}
            for m in data["models"]}


def test_every_builder_fixture_is_covered() -> None:
    assert len(BUILDER_FIXTURES) >= 6
    assert sorted(fixture_script().FIXTURES) == [p.name for p in BUILDER_FIXTURES]


@pytest.mark.parametrize("path", BUILDER_FIXTURES, ids=lambda p: p.stem)
def test_fixture_matches_its_script(path: Path) -> None:
    """The committed bytes are what make_builder_fixtures.py writes today (ModelBuilder is deterministic)."""
    assert fixture_script().build(path.name) == path.read_bytes(), f"run: .venv/bin/python fixtures/make_builder_fixtures.py ({path.name})"


@pytest.mark.parametrize("path", BUILDER_FIXTURES, ids=lambda p: p.stem)
def test_golden_report(path: Path, reports: dict[str, dict[str, object]], golden: Callable[[Path, str], None]) -> None:
    golden(EXPECTED / f"{path.stem}.json", json.dumps(reports[path.name], indent=2) + "\n")


def test_golden_codes_match_the_readme_table() -> None:
    """fixtures/README.md's expected-codes column agrees with the golden reports."""
    table = fixtures_readme_rows()
    for path in BUILDER_FIXTURES:
        golden = json.loads((EXPECTED / f"{path.stem}.json").read_text())
        codes = sorted({f["code"] for f in golden["findings"]})
        assert sorted(re.findall(r"QC0\d\d", table[path.name])) == codes, path.name


def fixtures_readme_rows() -> dict[str, str]:
    """file name -> its whole table row in fixtures/README.md."""
    rows = {}
    for line in (ROOT / "fixtures" / "README.md").read_text().splitlines():
        m = re.match(r"\|\s*`([^`]+\.tflite)`\s*\|", line)
        if m:
            rows[m.group(1)] = line
    return rows


def test_every_fixture_has_a_readme_row() -> None:
    rows = fixtures_readme_rows()
    missing = [p.name for p in sorted((ROOT / "fixtures" / "models").glob("*.tflite")) if p.name not in rows]
    assert not missing, f"add a row to fixtures/README.md for: {missing}"
    for name, row in rows.items():
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 4 and all(cells), f"row for {name} needs file | how made | what it shows | expected codes"
