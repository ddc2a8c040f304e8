"""The benchmark's report: bench/RESULTS.md (tables, the issue's targets with verdicts) and bench/results.json."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    import numpy

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)
    load = os.getloadavg()[0]
    return (f"{cpu}, {len(os.sched_getaffinity(0))} cores, {mem:.0f} GiB RAM, Linux {platform.release()}, "
            f"Python {platform.python_version()}, numpy {numpy.__version__}; 1-minute load average at the end of the run {load:.2f}")


def targets(r: dict[str, dict[str, object]]) -> list[str]:
    """The issue's targets, each with the measured value and a verdict."""
    def get(model: str, key: str) -> float | None:
        v = r.get(model, {}).get(key)
        return float(v) if isinstance(v, (int, float)) else None

    rows = ["| target | measured | met |", "|---|---|---|"]

    def check(label: str, value: float | None, ok: bool | None, fmt: str) -> None:
        rows.append(f"| {label} | {'n/a' if value is None else format(value, fmt)} | {'n/a' if ok is None else 'yes' if ok else 'NO'} |")

    v = get("deep 900 tensors", "load us/tensor")
    check("parse <= 10 us per tensor (900-tensor model; median)", v, None if v is None else v <= 10, ".2f")
    v = get("deep 900 tensors", "load us/tensor (best)")
    check("parse per tensor, fastest repetition (900-tensor model)", v, None, ".2f")
    v = get("50,000 tensors", "load us/tensor")
    check("parse per tensor on the 50,000-tensor model (linear: close to the 900 one)", v, None, ".2f")
    small, big_load = get("ResNet50-sized int8", "qcheck load"), get("160 MB, 31 tensors", "qcheck load")
    check("parse time does not grow with file size: load of the 160 MB model (s; ResNet50-sized 26 MB in the table)", big_load,
          None if big_load is None or small is None else big_load < 4 * small + 0.01, ".4f")
    v = get("50,000 tensors", "qcheck verify (in-process)")
    check("50,000-tensor model loads and verifies in < 2 s (in-process, s)", v, None if v is None else v < 2, ".3f")
    v = get("ResNet50-sized int8", "scan GB/s")
    check("weight scans >= 1 GB/s (ResNet50-sized, GB/s)", v, None if v is None else v >= 1, ".2f")
    v = get("over 2 GB, external buffers", "scan GB/s")
    check("weight scans on the > 2 GB model (GB/s)", v, None if v is None else v >= 1, ".2f")
    v = get("over 2 GB, external buffers", "peak RSS MB")
    check("> 2 GB model: peak RSS < 500 MB (MB)", v, None if v is None else v < 500, ".0f")
    v = get("over 2 GB, external buffers", "qcheck verify (process, cold cache)")
    check("> 2 GB model verified in seconds (whole process, cold cache, s)", v, None if v is None else v < 60, ".2f")
    q = get("ResNet50-sized int8", "qcheck verify (process)")
    a = get("ResNet50-sized int8", "TF Analyzer (process)")
    lt = get("ResNet50-sized int8", "litert Interpreter+details (process)")
    ratio = None if q is None or a is None else a / q
    check("ResNet50: qcheck verify >= 5x faster than the TF Analyzer (both processes; speed-up)", ratio, None if ratio is None else ratio >= 5, ".1f")
    ratio = None if q is None or lt is None else q / lt
    check("ResNet50: qcheck verify within 2x of litert load + tensor details (both processes; ratio)", ratio, None if ratio is None else ratio <= 2, ".2f")
    j1, j2 = r.get("jobs", {}).get("--jobs 1"), r.get("jobs", {}).get("--jobs 2")
    ratio = None if not isinstance(j1, float) or not isinstance(j2, float) else j1 / j2
    check("--jobs 2 vs --jobs 1 on 64 models (speed-up; 2 cores)", ratio, None if ratio is None else ratio > 1.3, ".2f")
    return rows


def write_results(results: dict[str, dict[str, object]]) -> None:
    import qcheck

    lines = [
        "# Benchmark results", "",
        f"Measured by `bench/run.py` on {time.strftime('%Y-%m-%d')}, qcheck {qcheck.__version__}.", "",
        f"Machine: {machine()}.", "",
        "Times are medians in seconds; \"process\" rows are whole processes timed from outside (interpreter start-up and",
        "imports included, as a user pays them), the tools taking turns so that each sees the same machine; the",
        "page cache is warm unless a row says cold (evicted with posix_fadvise DONTNEED before the run). qcheck's",
        "modules are byte-compiled first, as pip does on a normal install. \"(best)\" rows are the fastest of the",
        "same repetitions: this VM's speed swings by up to 2x from second to second, so the median carries noise",
        "the best does not. The raw numbers are in `bench/results.json`.", "",
    ]
    cols = [k for k in results if k != "jobs"]
    keys: list[str] = []
    for c in cols:
        keys += [k for k in results[c] if k not in keys]
    lines.append("| measure | " + " | ".join(cols) + " |")
    lines.append("|---" * (len(cols) + 1) + "|")
    for k in keys:
        cells = []
        for c in cols:
            v = results[c].get(k)
            cells.append("" if v is None else f"{v:,.4g}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v))
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    lines += ["", "## Targets", "", *targets(results)]
    lines += ["", "Parallel verification (`qcheck verify DIR --jobs N`):", "", "| | value |", "|---|---|"]
    lines += [f"| {k} | {v:.3f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in results["jobs"].items()]
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (HERE / "RESULTS.md").write_text("\n".join(lines) + "\n")
    print((HERE / "RESULTS.md").read_text())


def write_section(name: str, lines: list[str]) -> None:
    """Put `lines` between the markers <!-- name --> and <!-- /name --> of bench/RESULTS.md (appended the first time)."""
    import re

    begin, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    section = "\n".join([begin, *lines, end])
    results = Path(__file__).resolve().parent / "RESULTS.md"
    text = results.read_text()
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: section, text, flags=re.DOTALL)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    results.write_text(text)
