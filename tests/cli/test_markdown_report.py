"""The Markdown report, read by a CommonMark parser (markdown-it-py, with GitHub's tables): tables, details, escaping, size."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from core_helpers import run_cli
from markdown_it import MarkdownIt
from testpaths import CORPUS_MODELS, FIXTURES, LOCAL_CORPUS, SHARED_CORPUS, SHARED_MODELS

from qcheck.tflite.builder import ModelBuilder

FIXTURE_MODELS = sorted(str(p) for p in FIXTURES.glob("*.tflite"))


def html(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


def test_summary_table_and_findings_by_rule_match_the_json_report() -> None:
    md = run_cli("verify", *FIXTURE_MODELS, "--format", "markdown", "--target", "xnnpack", "--isolated").stdout
    doc = json.loads(run_cli("verify", *FIXTURE_MODELS, "--format", "json", "--target", "xnnpack", "--isolated").stdout)
    page = html(md)
    tables = re.findall(r"<table>.*?</table>", page, re.DOTALL)
    assert len(tables) == 2
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td[^>]*>(\d+)</td>\s*<td[^>]*>(\d+)</td>\s*<td[^>]*>(\d+)</td>\s*<td>(.*?)</td>",
                      tables[0], re.DOTALL)
    assert [re.sub("<.*?>", "", r[0]) for r in rows] == [m["path"] for m in doc["models"]]
    for row, model in zip(rows, doc["models"], strict=True):
        assert tuple(map(int, row[2:5])) == (model["summary"]["error"], model["summary"]["warning"], model["summary"]["info"])
        assert f"xnnpack: {model['targets']['xnnpack']['verdict']}" in row[5]
    per_rule = {re.search(r"QC\d+", r).group(0): int(n) for r, n in re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td>\w+</td>\s*<td[^>]*>(\d+)</td>", tables[1])}
    codes = [f["code"] for m in doc["models"] for f in m["findings"]]
    assert per_rule == {c: codes.count(c) for c in set(codes)}
    assert page.count("<details>") == len(per_rule) and f"exit status {doc['exit_status']}" in md


def test_hostile_names_stay_text(tmp_path: Path) -> None:
    """Names from a model cannot break the tables, inject HTML or links."""
    b = ModelBuilder()
    x = b.tensor("in|<script>alert(1)</script>", "INT8", [2, 4], scale=[0.1, 0.2], zero_point=[0, 0])  # QC301 on this tensor
    w = b.tensor("w`[x](http://e.vil)`", "INT8", [3, 4], data=np.ones((3, 4), np.int8), scale=0.02)
    y = b.tensor("out", "INT8", [2, 3], scale=0.1)
    b.op("FULLY_CONNECTED", [x, w, -1], [y], version=4)
    b.io([x], [y])
    path = tmp_path / "a|b`c.tflite"
    b.save(path)
    md = run_cli("verify", str(path), "--format", "markdown", "--isolated").stdout
    page = html(md)
    assert "<script>" not in page and "<a " not in page
    first = re.search(r"<table>.*?</table>", page, re.DOTALL)
    assert first is not None and first.group(0).count("<td") == 6  # one row of six cells: the pipes were escaped
    assert "a|b`c.tflite" in re.sub("<.*?>", "", first.group(0)).replace("&lt;", "<").replace("&gt;", ">")


def test_the_whole_corpus_stays_under_a_megabyte(tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    folder = str(SHARED_CORPUS if SHARED_MODELS else LOCAL_CORPUS)
    r = run_cli("verify", folder, "--format", "markdown", "--target", "all", "-o", str(out), "--isolated", timeout=600)
    assert r.returncode in (0, 1) and 10_000 < out.stat().st_size < 1_000_000
    text = out.read_text()
    assert text.count("\n| `") == len(CORPUS_MODELS)  # a row per model
    counts = [int(n) for n in re.findall(r"^\| \S+ QC\d+ [^|]+ \| \w+ \| (\d+) \|", text, re.MULTILINE)]
    cut = [n - 50 for n in counts if n > 50]
    assert cut and sorted(int(n) for n in re.findall(r"^- … and (\d+) more", text, re.MULTILINE)) == sorted(cut)
