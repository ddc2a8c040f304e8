"""The HTML report's size, the time to write it, and the time headless Chromium takes to render it (run by hand).

Usage: .venv/bin/python bench/html_report.py [--runs 5]

On the ResNet50-sized int8 model of bench/run.py with every built-in target: `qcheck verify --format html -o`
as a whole process (median of the runs), the file's size, and in Debian's Chromium (Playwright) the time
from navigation to the load event (medians). Bounds (issue "review reports"): under
5 MB and under 2 s to render.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import models
from report import write_section
from run import OUT, PY, compile_bytecode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    compile_bytecode()
    OUT.mkdir(exist_ok=True)
    model = OUT / "resnet50_int8.tflite"
    if not model.exists():
        models.resnet50_like(model)
    page = OUT / "resnet50_report.html"
    cmd = [PY, "-m", "qcheck", "verify", str(model), "--target", "all", "--format", "html", "-o", str(page), "--isolated"]
    writes = []
    for _ in range(args.runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=False, capture_output=True)
        writes.append(time.perf_counter() - start)
    from playwright.sync_api import sync_playwright

    loads: list[float] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "chromium", args=["--no-sandbox"])
        for _ in range(args.runs):
            tab = browser.new_page()
            tab.goto(page.as_uri())
            loads.append(tab.evaluate("() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; }")
                         / 1000)
            tab.close()
        browser.close()
    size = page.stat().st_size
    rows = [(f"| ResNet50-sized int8, every target | {size / 1e6:.2f} MB | {statistics.median(writes):.2f} s | "
             f"{statistics.median(loads):.3f} s | {'yes' if size < 5e6 and max(loads) < 2 else 'no'} |")]
    print(rows[0])
    write_section("html-report", [
        "## The HTML report: size and render time", "",
        (f"Measured by `bench/html_report.py` on {time.strftime('%Y-%m-%d')}, medians of {args.runs} runs: the whole "
         "`qcheck verify --format html -o` process, and Debian's headless Chromium (Playwright) from navigation to the load event. "
         "Bounds: under 5 MB, rendered in under 2 s."), "",
        "| report | size | written in | loaded | within the bounds |", "|---|---|---|---|---|", *rows])


if __name__ == "__main__":
    main()
