"""What the target profiles add to `qcheck verify` (run by hand; writes its section of bench/RESULTS.md).

Usage: .venv/bin/python bench/targets_overhead.py [--runs 7]

On the ResNet50-sized int8 model and the 50,000-tensor model of bench/run.py (generated into
bench/out/ when missing), alternately: verify without targets, and verify with (a) the three runtime
targets (litert, xnnpack, tflm; bound +30 %) and (b) every built-in target (`--target all`; bound
+50 % on ResNet50, under 2 s on the 50,000-tensor model), both in-process (qcheck.verify on a loaded
registry: the work itself) and as whole processes (as a user pays, and what the bounds are judged on). Overhead = median(with) /
median(without) - 1. `--confirm` runs the runtimes themselves and is opt-in: not counted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import models
from report import write_section
from run import OUT, compile_bytecode

RUNTIMES = ("litert", "xnnpack", "tflm")
LIMITS = {"3 runtimes": 0.30, "all": 0.50}  # the issues' bounds on the added share


def median(times: list[float]) -> float:
    return statistics.median(times)


def alternate(runs: int, without: Callable[[], object], with_: Callable[[], object]) -> tuple[list[float], list[float]]:
    """Seconds of each call, the two taking turns so that both see the same machine."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for fn, out in zip((without, with_), times, strict=True):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return times


def in_process(path: Path, runs: int, targets: tuple[str, ...]) -> tuple[list[float], list[float]]:
    import qcheck
    from qcheck.engine import Settings, default_registry

    registry = default_registry()
    plain, targeted = Settings(), Settings(targets=targets)
    qcheck.verify(path, registry=registry, settings=targeted)  # warm: the profiles' modules imported
    return alternate(runs, lambda: qcheck.verify(path, registry=registry, settings=plain),
                     lambda: qcheck.verify(path, registry=registry, settings=targeted))


def processes(path: Path, runs: int, targets: tuple[str, ...]) -> tuple[list[float], list[float]]:
    """Whole `qcheck verify` processes with the default console report, as a user runs them."""
    base = [sys.executable, "-m", "qcheck", "verify", str(path)]
    targeted = base + [a for t in targets for a in ("--target", t)]
    return alternate(runs, lambda: subprocess.run(base, check=False, capture_output=True),
                     lambda: subprocess.run(targeted, check=False, capture_output=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    compile_bytecode()
    OUT.mkdir(exist_ok=True)
    paths = {"ResNet50-sized int8": OUT / "resnet50_int8.tflite", "50,000 tensors": OUT / "deep_50k.tflite"}
    if not paths["ResNet50-sized int8"].exists():
        models.resnet50_like(paths["ResNet50-sized int8"])
    if not paths["50,000 tensors"].exists():
        models.deep(paths["50,000 tensors"], 16666)
    from qcheck.engine import default_registry

    sets = {"3 runtimes": RUNTIMES, "all": tuple(default_registry().targets)}
    rows = []
    for label, targets in sets.items():
        for name, path in paths.items():
            for kind, measure in (("in-process", in_process), ("process", processes)):
                without, with_ = measure(path, args.runs, targets)
                over = median(with_) / median(without) - 1
                met = over <= LIMITS[label] if label != "all" or name.startswith("ResNet") else median(with_) < 2.0
                verdict = ("yes" if met else "no") if kind == "process" else f"(the work alone: +{(median(with_) - median(without)) * 1000:.1f} ms)"
                rows.append(f"| {label} | {name} | {kind} | {median(without):.4g} | {median(with_):.4g} | {over:+.0%} | {verdict} |")
                print(rows[-1], flush=True)
    write_section("targets-overhead", [
        "## Target profiles: what --target adds to verify",
        "",
        f"Measured by `bench/targets_overhead.py` on {time.strftime('%Y-%m-%d')}, {args.runs} alternating runs, medians in seconds.",
        f"Targets: \"3 runtimes\" = {', '.join(RUNTIMES)} (bound +30 %); \"all\" = {', '.join(sets['all'])} (bound +50 % on",
        "ResNet50, under 2 s on the 50,000-tensor model). The bounds are on the `qcheck verify` command, so they are judged on the",
        "process rows; the in-process rows show the profiles' work alone, without start-up and imports (where verify itself takes",
        "a few milliseconds, a few more milliseconds are a large share). `--confirm`, which runs the runtimes themselves, is opt-in",
        "and not counted.",
        "",
        "| targets | model | timed | verify | verify + targets | added | within the bound |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ])


if __name__ == "__main__":
    main()
