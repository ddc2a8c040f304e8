"""A model zoo in one run: `qcheck verify ZOO/` over the third-party corpus (run by hand; writes its section of bench/RESULTS.md).

Usage: .venv/bin/python bench/zoo.py [--runs 3]

The zoo is ../shared/corpus (419 models) linked 1, 2 and 3 times into bench/out/zoo-N/ (symbolic links:
the same bytes, distinct paths), so that the sizes differ while the models stay real. Each run is one
whole `qcheck verify` process with the default jobs (the machine's CPUs), its report written with -o
(warm cache: each configuration runs once before it is timed). Throughput = models / median wall time.
Peak memory = the largest resident set of the qcheck process and of any of its workers (wait4's
rusage of that process tree), to show it stays flat as the number of models triples.
Bounds (issue "CI"): at least 500 models/s with every format, at least 200 models/s with every built-in
target on, memory flat in the number of models.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from report import write_section
from run import OUT, PY, ROOT, compile_bytecode

CORPUS = ROOT.parent / "shared" / "corpus"
FORMATS = ("console", "json", "sarif", "junit", "github", "statistics")


def zoo(copies: int) -> tuple[Path, int]:
    """bench/out/zoo-N: every corpus model linked `copies` times."""
    folder = OUT / f"zoo-{copies}"
    models = sorted(CORPUS.rglob("*.tflite"))
    if not folder.exists():
        for k in range(copies):
            for i, m in enumerate(models):
                link = folder / f"copy{k}" / f"{i:04d}_{m.name}"
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(m.resolve())
    return folder, copies * len(models)


def run(args: list[str]) -> tuple[float, int, int]:
    """Wall seconds, exit status and peak RSS in MB of one whole process tree."""
    start = time.perf_counter()
    proc = subprocess.Popen([PY, "-m", "qcheck", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, proc.returncode, usage.ru_maxrss // 1024


def measure(folder: Path, extra: list[str], runs: int) -> tuple[float, int, int]:
    args = ["verify", str(folder), "--isolated", "-o", str(OUT / "zoo-report"), *extra]
    run(args)  # warm
    results = [run(args) for _ in range(runs)]
    return statistics.median(s for s, _, _ in results), results[0][1], max(m for _, _, m in results)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    compile_bytecode()
    OUT.mkdir(exist_ok=True)
    rows = []
    cases = [(1, ["--format", f]) for f in FORMATS] + [(c, ["--format", "json"]) for c in (2, 3)] + \
            [(c, ["--format", "json", "--target", "all"]) for c in (1, 3)] + [(1, ["--format", f, "--target", "all"]) for f in ("console", "sarif")]
    for copies, extra in cases:
        folder, n = zoo(copies)
        seconds, status, peak = measure(folder, extra, args.runs)
        targets = "all" in extra
        bound = 200 if targets else 500
        rows.append(f"| {n} | {' '.join(extra)} | {seconds:.2f} | {n / seconds:.0f} | {peak} | {status} | {'yes' if n / seconds >= bound else 'no'} (>= {bound}/s) |")
        print(rows[-1], flush=True)
    write_section("zoo", [
        "## A model zoo in one run", "",
        (f"Measured by `bench/zoo.py` on {time.strftime('%Y-%m-%d')}: `qcheck verify ZOO/ -o FILE` as one process with the default jobs "
         f"({os.cpu_count()} CPUs), the third-party corpus linked 1-3 times, warm cache, median of {args.runs} runs. Peak RSS: the largest "
         "process of the tree (the parent or a worker)."), "",
        "| models | options | seconds | models/s | peak RSS (MB) | exit | within the bound |", "|---|---|---|---|---|---|---|",
        *rows])


if __name__ == "__main__":
    main()
