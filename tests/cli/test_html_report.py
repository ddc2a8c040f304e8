"""The HTML report in a real headless Chromium (Debian's, driven by Playwright): offline, no errors, plots, filters, sorting.

The screenshot is kept in .artifacts/html-report.png (ignored by git) for a person to look at.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from core_helpers import run_cli
from playwright.sync_api import sync_playwright
from testpaths import FIXTURES, ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
MODELS = [str(FIXTURES / "builder_quant_defects.tflite"), str(FIXTURES / "tf_int8-only.tflite"), str(FIXTURES / "tf_int16x8.tflite")]
ARTIFACTS = ROOT / ".artifacts"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("html") / "report.html"
    r = run_cli("verify", *MODELS, "--target", "xnnpack", "--target", "ethos-u55", "--format", "html", "-o", str(out), "--isolated", timeout=300)
    assert r.returncode == 1, r.stderr
    doc = json.loads(run_cli("verify", *MODELS, "--target", "xnnpack", "--target", "ethos-u55", "--format", "json", "--isolated").stdout)
    return out, doc


def test_self_contained(report: tuple[Path, dict[str, object]]) -> None:
    text = report[0].read_text()
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?(https?:)?//""", text, re.IGNORECASE)
    assert text.count("<svg") >= 6 and "<script>" in text and "<style>" in text


def test_renders_in_headless_chromium_offline_and_filters(report: tuple[Path, dict[str, object]]) -> None:
    assert CHROMIUM, "chromium is installed by .ci/run (Debian's package)"
    path, doc = report
    findings = [f for m in doc["models"] for f in m["findings"]]  # type: ignore[union-attr,index]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        requests: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        assert errors == [] and requests == [path.as_uri()]
        sizes = page.eval_on_selector_all(".plots svg", "s => s.map(x => [x.getBoundingClientRect().width, x.querySelectorAll('path').length])")
        assert len(sizes) >= 6 and all(w > 100 and n > 5 for w, n in sizes)  # drawn, and with something in them
        rows = "table.findings tbody tr"
        assert page.locator(rows).count() == len(findings)
        page.select_option("#sev", "warning")
        visible = page.eval_on_selector_all(rows, "r => r.filter(x => !x.hidden).map(x => x.dataset.severity)")
        assert visible == ["warning"] * sum(1 for f in findings if f["severity"] == "warning")  # type: ignore[index]
        page.select_option("#sev", "")
        code = findings[0]["code"]  # type: ignore[index]
        page.select_option("#rule", code)
        assert page.locator(f"{rows}:not([hidden])").count() == sum(1 for f in findings if f["code"] == code)  # type: ignore[index]
        assert page.inner_text("#shown").startswith(f"{sum(1 for f in findings if f['code'] == code)} of {len(findings)}")  # type: ignore[index]
        page.select_option("#rule", "")
        first = page.locator("table.findings").first
        first.locator("th", has_text="code").click()
        cells = first.locator("tbody tr td:first-child").all_inner_texts()
        assert cells == sorted(cells)
        page.locator("details summary").first.click()
        page.locator("input.search").first.fill("weights_axis")
        assert page.locator("table.tensors").first.locator("tbody tr:not([hidden])").count() == 1
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "html-report.png"), full_page=True)
        browser.close()
    assert (ARTIFACTS / "html-report.png").stat().st_size > 10_000
