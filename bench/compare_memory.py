"""`qcheck compare` memory against the number of samples: flat, or growing? (run by hand; writes its section of bench/RESULTS.md)

Usage: .venv/bin/python bench/compare_memory.py [--counts 100,1000,10000] [--npy 10000]

Models: `make demo`'s qcheck-demo/float32.tflite and qcheck-demo/int8-fallback.tflite (small, so that 10,000
samples finish in minutes; `make demo` is run if they are missing). For each N, one whole process
`qcheck compare FLOAT QUANT --data random --samples N -j 2 --format json -o FILE`, and (--npy) one with
a float32 .npy of N samples (np.load memory-maps .npy files, so it should not be read whole).
Memory: every 20 ms the process tree (the qcheck process and every descendant: its pool workers) is
walked with psutil and each process's VmHWM (its own peak resident set, from /proc/PID/status) is kept;
the tree's total RSS at each poll is summed too. A worker that lives shorter than 20 ms could be missed
(pool workers live for the whole run). Not ru_maxrss: Linux carries the parent's peak into a child's
ru_maxrss at exec. Time: wall seconds of the whole process, one run per N (memory is what is measured).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from report import machine, write_section
from run import OUT, ROOT, compile_bytecode

DEMO = ROOT / "qcheck-demo"
FLOAT, QUANT = DEMO / "float32.tflite", DEMO / "int8-fallback.tflite"
DIR = OUT / "compare"


def status_kb(p: psutil.Process, field: str = "VmHWM") -> int | None:
    try:
        with open(f"/proc/{p.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def commit() -> str:
    out = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h %ci"], capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "qcheck", "plugins"], capture_output=True, text=True,
                           check=False).stdout.strip()
    return out + (" + uncommitted changes" if dirty else "")


def measure(cmd: list[str]) -> dict[str, float]:
    """Wall seconds, the parent's peak RSS, the largest worker peak, the number of workers and the tree's peak total RSS (MB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    peaks: dict[int, int] = {}
    tree_peak = 0
    anon = 0  # the parent's peak anonymous RSS (RssAnon): what is not file-backed (.npy pages read through the mmap are)
    while proc.poll() is None:
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        total = 0
        for p in procs:
            kb = status_kb(p)
            if p.pid == proc.pid:
                anon = max(anon, status_kb(p, "RssAnon") or 0)
            if kb is not None:
                peaks[p.pid] = max(peaks.get(p.pid, 0), kb)
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        tree_peak = max(tree_peak, total)
        time.sleep(0.02)
    err = proc.stderr.read() if proc.stderr else ""
    proc.wait()
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{err[-3000:]}")
    workers = [kb for pid, kb in peaks.items() if pid != proc.pid]
    return {"seconds": seconds, "parent": peaks.get(proc.pid, 0) / 1024, "anon": anon / 1024, "worker": max(workers, default=0) / 1024,
            "workers": len(workers), "tree": tree_peak / (1 << 20), "status": proc.returncode}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--counts", default="100,1000,10000")
    ap.add_argument("--npy", type=int, default=10000, help="also one run on a .npy of this many samples (0: none)")
    args = ap.parse_args()
    compile_bytecode()
    if not (FLOAT.exists() and QUANT.exists()):
        subprocess.run(["make", "demo"], cwd=ROOT, check=True)
    DIR.mkdir(parents=True, exist_ok=True)
    qcheck = str(ROOT / ".venv" / "bin" / "qcheck")
    base = [qcheck, "compare", str(FLOAT), str(QUANT)]
    cases: list[tuple[str, int, list[str]]] = [("random", int(n), ["--data", "random"]) for n in args.counts.split(",")]
    if args.npy:
        import numpy as np

        from qcheck.compare.data import input_specs
        from qcheck.tflite.reader import load

        spec = input_specs(load(FLOAT).subgraphs[0])[0]
        path = DIR / f"demo_samples{args.npy}.npy"
        shape = (args.npy, *(d or 1 for d in spec.shape[1:]))
        if not path.exists() or np.load(path, mmap_mode="r").shape != shape:
            np.save(path, np.random.default_rng(0).random(shape, dtype=np.float32))
        cases.append((f".npy ({path.stat().st_size / 1e6:.0f} MB, memory-mapped)", args.npy, ["--data", str(path)]))
    rows = []
    before = commit()
    for kind, n, data in cases:
        r = measure([*base, *data, "--samples", str(n), "-j", "2", "--format", "json", "-o", str(DIR / f"memory-{n}.json")])
        rows.append(f"| {kind} | {n:,} | {r['seconds']:.1f} | {r['parent']:.0f} | {r['anon']:.0f} | {r['worker']:.0f} ({r['workers']:.0f} workers) | "
                    f"{r['tree']:.0f} | {r['status']:.0f} |")
        print(rows[-1], flush=True)
    write_section("compare-memory", [
        "## qcheck compare: memory against the number of samples", "",
        (f"Measured by `bench/compare_memory.py` on {time.strftime('%Y-%m-%d')}. Machine: {machine()}. "
         "One whole process per row: `qcheck compare qcheck-demo/float32.tflite qcheck-demo/int8-fallback.tflite "
         "--data DATA --samples N -j 2 --format json -o FILE` (`make demo`'s small model pair). Peak RSS in MB: "
         "VmHWM of the qcheck process and of each worker, polled every 20 ms over the process tree; tree total = the "
         "largest sum of the tree's current RSS seen at one poll; parent anonymous = its largest RssAnon seen (file-backed "
         "pages, such as a memory-mapped .npy's, excluded). One run per row. qcheck commit: "
         f"{before if commit() == before else before + ', changed to ' + commit() + ' DURING the run'}."), "",
        "| data | samples | seconds | parent peak RSS | parent peak anonymous RSS | largest worker peak RSS | tree total peak RSS | exit |",
        "|---|---|---|---|---|---|---|---|",
        *rows, "",
        ("Not measured: large models (the demo pair is tens of KB, so the per-sample buffers are small; a ResNet50-sized "
         "pair's activations are much larger per sample), image-folder data, --ray, repeated runs (timing spread)."), "",
        f"Rerun: `.venv/bin/python bench/compare_memory.py --counts {args.counts} --npy {args.npy}`.",
    ])


if __name__ == "__main__":
    main()
