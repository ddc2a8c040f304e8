"""Rule documentation: every registered rule is documented the same way, with valid unique codes and names."""

from __future__ import annotations

import re

import pytest

from qcheck.engine import CRASH_CODE, CRASH_NAME
from qcheck.registry import make_registry
from qcheck.ruledocs import crash_rule, render_doc

HEADINGS = ("## What it checks", "## Why it matters", "## How to fix", "## References")
ALL = make_registry(external=False)
DOCUMENTED = {**ALL.rules, CRASH_CODE: crash_rule(CRASH_CODE, CRASH_NAME)}  # QC900 is the engine's own


@pytest.mark.parametrize("code", sorted(DOCUMENTED))
def test_rule_is_documented(code: str) -> None:
    rule = DOCUMENTED[code]
    assert re.fullmatch(r"[A-Z]{1,4}[0-9]{3}", rule.code)
    assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", rule.name)
    lines = rule.doc.splitlines()
    assert lines and lines[0].strip() and not lines[0].startswith("#"), "first line: a one-line summary"
    assert rule.summary.endswith("."), rule.summary
    positions = [rule.doc.find(h) for h in HEADINGS]
    assert all(p > 0 for p in positions), f"missing: {[h for h, p in zip(HEADINGS, positions, strict=True) if p < 0]}"
    assert positions == sorted(positions), "headings out of order"
    for h, nxt in zip(HEADINGS, [*HEADINGS[1:], None], strict=True):
        body = rule.doc.split(h, 1)[1].split(nxt, 1)[0] if nxt else rule.doc.split(h, 1)[1]
        assert body.strip(), f"{h} is empty"


def test_codes_and_names_are_unique() -> None:
    names = [r.name for r in ALL.rules.values()]
    assert len(names) == len(set(names))
    assert len(ALL.rules) >= 16


def test_render_doc_names_code_severity_and_plugin() -> None:
    text = render_doc(ALL.rules["QC010"], ALL)
    assert text.startswith("# QC010 unknown-operator\n")
    assert "Default severity: info. Plugin: qcheck_structure." in text
    assert "BuiltinOperator 0..209" in text  # the template in the docstring is filled in
