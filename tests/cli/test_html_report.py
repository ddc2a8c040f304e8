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

import qcheck

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


def test_dead_and_outlier_channels_are_marked(tmp_path: Path) -> None:
    import numpy as np
    from qcheck_report import html_plots

    from qcheck.tflite.builder import ModelBuilder

    weights = np.ones((4, 3), np.int8)
    weights[2] = 0  # channel 2 is dead: the op always outputs its bias there
    assert html_plots._dead(weights, 0, 4).tolist() == [False, False, True, False]
    assert html_plots._dead(weights, 1, 4).tolist() == [False] * 4  # (not per-channel along that axis: nothing marked)

    def svg(scales: list[float], data: np.ndarray) -> str:
        b = ModelBuilder()
        x = b.tensor("x", "INT8", [1, 3], scale=0.1)
        w = b.tensor("w", "INT8", [4, 3], data=data, scale=scales, quantized_dimension=0)
        y = b.tensor("y", "INT8", [1, 4], scale=0.2)
        b.op("FULLY_CONNECTED", [x, w, -1], [y], version=4)
        b.io([x], [y])
        b.save(tmp_path / "m.tflite")
        model = qcheck.load(tmp_path / "m.tflite")
        return html_plots.weight_scale_spread(model, model.main) or ""

    plain, marked = svg([0.01] * 4, np.ones((4, 3), np.int8)), svg([0.01, 0.01, 0.01, 0.5], weights)
    assert "fill: #e53935" not in plain and "fill: #e53935" in marked  # the 50x channel as a red dot
    assert marked.count("stroke: #000000") > plain.count("stroke: #000000")  # the dead channel as a black cross


def test_hostile_names_in_the_page_and_its_plots(tmp_path: Path) -> None:
    """Names with $ (matplotlib mathtext), HTML and quotes stay text; the page still renders its plots."""
    import numpy as np

    from qcheck.tflite.builder import ModelBuilder

    b = ModelBuilder()
    x = b.tensor("in$\\frac{a}{", "INT8", [1, 3], scale=0.1)
    w = b.tensor("w$\\frac{a}{$<script>alert('x')</script>", "INT8", [4, 3], data=np.full((4, 3), -128, np.int8), scale=[0.01, 0.01, 0.01, 0.5],
                 quantized_dimension=0)  # -128: outside the narrow range, a finding on the weights: their histogram has that title
    y = b.tensor("out\"'&", "INT8", [1, 4], scale=0.2)
    b.op("FULLY_CONNECTED", [x, w, -1], [y], version=4)
    b.io([x], [y])
    model = tmp_path / "a$b<c>.tflite"
    b.save(model)
    page = tmp_path / "r.html"
    r = run_cli("verify", str(model), "--format", "html", "-o", str(page), "--isolated")
    assert r.returncode in (0, 1) and "internal error" not in r.stderr, r.stderr
    text = page.read_text()
    assert "<script>alert" not in text and text.count("<svg") >= 2
