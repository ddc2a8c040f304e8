"""qcheck's speed benchmark, run by hand: `make bench` (or .venv/bin/python bench/run.py [--quick]).

Generates the models with ModelBuilder into bench/out/ (ignored by git), times qcheck against the
tools people use today, side by side, and writes bench/RESULTS.md. Medians of several runs; whole
processes are timed from the outside, exactly as a user or a CI job pays for them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
PY = sys.executable
QCHECK = [PY, "-m", "qcheck"]
sys.path.insert(0, str(HERE))

import models
from report import write_results

SNIPPETS = {
    "qcheck verify (process)": None,  # run as the CLI itself
    "tflite pkg walk (process)": (
        "import sys, tflite\n"
        "buf = open(sys.argv[1], 'rb').read()\n"
        "m = tflite.Model.GetRootAsModel(buf, 0)\n"
        "for s in range(m.SubgraphsLength()):\n"
        "    g = m.Subgraphs(s)\n"
        "    for i in range(g.TensorsLength()):\n"
        "        t = g.Tensors(i); q = t.Quantization()\n"
        "        if q is not None: q.ScaleAsNumpy(); q.ZeroPointAsNumpy(); q.QuantizedDimension()\n"
    ),
    "litert Interpreter+details (process)": (
        "import sys\nfrom ai_edge_litert.interpreter import Interpreter\n"
        "Interpreter(model_path=sys.argv[1]).get_tensor_details()\n"
    ),
    "TF Analyzer (process)": (
        "import sys, io, contextlib, tensorflow as tf\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    tf.lite.experimental.Analyzer.analyze(model_path=sys.argv[1])\n"
    ),
    "TF Interpreter+details (process)": (
        "import sys, tensorflow as tf\n"
        "tf.lite.Interpreter(model_path=sys.argv[1]).get_tensor_details()\n"
    ),
}


def timings(fn: Callable[[], object], runs: int) -> list[float]:
    """Seconds taken by each of `runs` calls of `fn`."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def median_time(fn: Callable[[], object], runs: int) -> float:
    return statistics.median(timings(fn, runs))


def run_process(cmd: list[str]) -> None:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", NO_COLOR="1")
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=env, timeout=600)


def process_cmd(tool: str, path: Path) -> list[str]:
    if tool == "qcheck verify (process)":
        return [*QCHECK, "verify", str(path), "--format", "json"]
    return [PY, "-c", SNIPPETS[tool] or "", str(path)]


def evict(path: Path) -> None:
    """Drop a file's pages from the page cache (for the cold-cache numbers)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def in_process(path: Path, runs: int) -> dict[str, float]:
    import qcheck
    from qcheck.registry import make_registry

    registry = make_registry()
    qcheck.verify(path, registry=registry)  # warm-up: first-call costs inside numpy are not per-model work
    # Loading is quick, so it gets many repetitions (about 2 s each): this machine's speed swings
    # by a factor of two from one second to the next, and a median over a few runs is noise.
    loads = max(runs, min(400, int(2.0 / max(1e-4, median_time(lambda: qcheck.load(path), 3)))))
    times = timings(lambda: qcheck.load(path), loads)
    res = {
        "qcheck load": statistics.median(times),
        "qcheck load (best)": min(times),
        "qcheck verify (in-process)": median_time(lambda: qcheck.verify(path, registry=registry), runs),
    }
    try:
        from ai_edge_litert.interpreter import Interpreter

        res["litert Interpreter+details (in-process)"] = median_time(lambda: Interpreter(model_path=str(path)).get_tensor_details(), runs)
    except ImportError:
        pass
    return res


def process_times(path: Path, tensors: int, runs: int) -> dict[str, float]:
    """Median whole-process time of each tool, the tools taking turns (round-robin).

    Taking turns puts every tool through the same swings of the machine's speed, so the ratios
    between tools hold even when the absolute times drift.
    """
    tools = [t for t in SNIPPETS if not (t.startswith("TF") and tensors > 10000)]  # TF takes minutes there
    times: dict[str, list[float]] = {t: [] for t in tools}
    for round_ in range(runs):
        for tool in tools:
            if tool.startswith("TF") and round_ >= max(1, runs - 2):  # seconds per run: fewer rounds
                continue
            t = time.perf_counter()
            run_process(process_cmd(tool, path))
            times[tool].append(time.perf_counter() - t)
    return {tool: statistics.median(v) for tool, v in times.items()}


def compile_bytecode() -> None:
    """Compile qcheck's modules as `pip install` does for an installed package.

    The project is installed editable (`pip install -e`), and where PYTHONDONTWRITEBYTECODE is set
    (it is on this machine) Python would otherwise compile every qcheck module in every process:
    0.28 s instead of 0.20 s per `qcheck verify` (medians of 11 interleaved runs), which no user
    with a normal installation pays.
    """
    import compileall

    for folder in (ROOT / "qcheck", ROOT / "plugins"):
        compileall.compile_dir(str(folder), quiet=1)


def peak_rss_mb(path: Path) -> float:
    """Peak resident memory of a whole `qcheck verify` process, in MB.

    VmHWM, the high-water mark of the process's own memory map. Not ru_maxrss: Linux carries the
    parent's peak into a child's ru_maxrss at exec, so it reported this benchmark's own memory
    (227 MB, and 844 MB right after the benchmark had generated the 2 GB model in-process).
    """
    code = (
        "import re, sys, qcheck\n"
        "qcheck.verify(sys.argv[1])\n"
        "print(re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1))\n"
    )
    out = subprocess.run([PY, "-c", code, str(path)], capture_output=True, text=True, check=True, timeout=900)
    return int(out.stdout.strip()) / 1024


def scan_rate(path: Path, runs: int = 5) -> float:
    """GB/s of the weight scan over every constant tensor (one pass gives range and per-channel max).

    Median of `runs` scans, each on a freshly loaded model: a new mapping, so the page faults of
    first touching the weights are paid as in a real run, and nothing is remembered from before.
    """
    import qcheck

    rates = []
    for _ in range(runs):
        model = qcheck.load(path)
        total = 0
        t = time.perf_counter()
        for _sg, tensor in model.iter_tensors():
            data = model.array(tensor)
            if data is not None and data.nbytes > 4096:
                q = tensor.quantization
                model.channel_absmax(tensor, q.quantized_dimension if q is not None and q.per_axis else 0)
                model.value_range(tensor)  # served by the same pass
                total += data.nbytes
        rates.append(total / (time.perf_counter() - t) / 1e9)
    return statistics.median(rates)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer runs, no 2 GB model")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    runs = 2 if args.quick else args.runs
    compile_bytecode()
    OUT.mkdir(exist_ok=True)
    paths = {
        "small converted (okay_nabu)": ROOT.parent / "shared" / "corpus" / "microwakeword_okay_nabu.tflite",
        "ResNet50-sized int8": OUT / "resnet50_int8.tflite",
        "deep 900 tensors": OUT / "deep_900.tflite",
        "50,000 tensors": OUT / "deep_50k.tflite",
        "160 MB, 31 tensors": OUT / "dense_160mb.tflite",
    }
    if not paths["ResNet50-sized int8"].exists():
        models.resnet50_like(paths["ResNet50-sized int8"])
    if not paths["deep 900 tensors"].exists():
        models.deep(paths["deep 900 tensors"], 300)
    if not paths["50,000 tensors"].exists():
        models.deep(paths["50,000 tensors"], 16666)
    if not paths["160 MB, 31 tensors"].exists():
        models.dense(paths["160 MB, 31 tensors"], 160)
    import qcheck

    results: dict[str, dict[str, object]] = {}
    for name, path in paths.items():
        model = qcheck.load(path)
        tensors = sum(len(s.tensors) for s in model.subgraphs)
        row: dict[str, object] = {"bytes": path.stat().st_size, "tensors": tensors}
        row.update(in_process(path, runs))
        row["load us/tensor"] = row["qcheck load"] / tensors * 1e6  # type: ignore[operator]
        row["load us/tensor (best)"] = row["qcheck load (best)"] / tensors * 1e6  # type: ignore[operator]
        row.update(process_times(path, tensors, runs))
        evict(path)
        row["qcheck verify (process, cold cache)"] = median_time(lambda path=path: (evict(path), run_process(process_cmd("qcheck verify (process)", path))), 1)
        results[name] = row
        print(name, json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    results["ResNet50-sized int8"]["scan GB/s"] = scan_rate(paths["ResNet50-sized int8"])
    big = OUT / "huge_external.tflite"
    if not args.quick:
        if not big.exists():
            models.huge_external(big)
        row = {"bytes": big.stat().st_size, "tensors": sum(len(s.tensors) for s in qcheck.load(big).subgraphs)}
        evict(big)
        row["qcheck verify (process, cold cache)"] = median_time(lambda: run_process(process_cmd("qcheck verify (process)", big)), 1)
        row["qcheck verify (process)"] = median_time(lambda: run_process(process_cmd("qcheck verify (process)", big)), 3)
        row["peak RSS MB"] = peak_rss_mb(big)
        row["scan GB/s"] = scan_rate(big, runs=1)  # (2 GB: one scan takes about a second)
        results["over 2 GB, external buffers"] = row
        print("huge", json.dumps(row), flush=True)
    results["jobs"] = jobs_scaling(paths["deep 900 tensors"], runs)
    write_results(results)


def jobs_scaling(model: Path, runs: int) -> dict[str, object]:
    """`qcheck verify DIR` over 64 copies of a model with --jobs 1 and 2; the reports must match."""
    zoo = OUT / "zoo"
    shutil.rmtree(zoo, ignore_errors=True)
    zoo.mkdir()
    for i in range(64):
        os.link(model, zoo / f"model_{i:02d}.tflite")
    out: dict[str, object] = {"models": 64}
    cmds = {jobs: [*QCHECK, "verify", str(zoo), "--format", "json", "--jobs", str(jobs)] for jobs in (1, 2)}
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(runs):  # taking turns, as in process_times
        for jobs, cmd in cmds.items():
            t = time.perf_counter()
            run_process(cmd)
            times[jobs].append(time.perf_counter() - t)
    reports = {}
    for jobs, cmd in cmds.items():
        out[f"--jobs {jobs}"] = statistics.median(times[jobs])
        reports[jobs] = subprocess.run(cmd, capture_output=True, check=False).stdout
    out["same reports"] = reports[1] == reports[2]
    return out


if __name__ == "__main__":
    main()
