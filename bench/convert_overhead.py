"""qcheck convert's own overhead on top of the TensorFlow converter, on ResNet50 (run by hand, writes bench/CONVERT.md).

Usage: .venv/bin/python bench/convert_overhead.py [--runs 3] [--samples 8] [--strategies dynamic-range,int8-only]

For each strategy, alternately and in one warm process (TensorFlow imported once):
- plain: what a user writes without qcheck: keras.models.load_model, TFLiteConverter.from_keras_model,
  the same settings, a representative dataset over np.load(calibration.npy), convert, write the file;
- qcheck: qcheck.convert.convert(source.keras, strategy, out, calibration=calibration.npy), which also
  validates the calibration data, verifies the output with every rule against the strategy's --expect,
  and writes atomically.
Overhead = median(qcheck) / median(plain) - 1. qcheck's own time inside its run (calibration loading
and validation, verification, atomic write) is also reported directly from ConvertResult.overhead.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "convert"))  # registry_with: stand-ins until qcheck_spec registers every --expect


def timed(fn: Callable[..., Any], *args: Any, **kw: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn(*args, **kw)
    return time.perf_counter() - start, value


def plain_tf(source: Path, strategy: str, calibration: Path, out: Path) -> None:
    """The conversion without qcheck, with the same converter settings as the qcheck_tf strategy."""
    import keras
    import tensorflow as tf
    from qcheck_tf import STRATEGIES
    from qcheck_tf.tfconvert import configure

    mode = next(m for n, _, _, m in STRATEGIES if n == strategy)
    converter = tf.lite.TFLiteConverter.from_keras_model(keras.models.load_model(source, compile=False))
    configure(converter, mode)  # the same settings, applied to the converter a user makes
    if mode.calibrate:
        data = np.load(calibration)
        converter.representative_dataset = lambda: ([data[i : i + 1]] for i in range(len(data)))
    out.write_bytes(converter.convert())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--strategies", default="dynamic-range,int8-only")
    args = ap.parse_args()

    import keras
    from convert_helpers import registry_with

    from qcheck.convert import captured_output, convert

    registry = registry_with()
    tmp = Path(tempfile.mkdtemp(prefix="qcheck-bench-convert-"))
    keras.utils.set_random_seed(0)
    with captured_output():
        model = keras.applications.ResNet50(weights=None)
        model.save(tmp / "resnet50.keras")
    np.save(tmp / "calib.npy", np.random.default_rng(0).random((args.samples, 224, 224, 3), dtype=np.float32) * 255 - 128)
    rows = []
    load_before = os.getloadavg()[0]
    for strategy in args.strategies.split(","):
        plain, qc, own, inside = [], [], [], []
        for run in range(args.runs):
            out = tmp / f"{strategy}-{run}.tflite"

            def run_plain(out: Path = out, strategy: str = strategy) -> None:
                with captured_output():
                    plain_tf(tmp / "resnet50.keras", strategy, tmp / "calib.npy", out)

            def run_qcheck(out: Path = out, strategy: str = strategy) -> Any:
                return convert(tmp / "resnet50.keras", strategy, out, calibration=tmp / "calib.npy", force=True, registry=registry)

            # Alternate which goes first, so that drift in the machine's load hits both alike.
            first, second = (run_plain, run_qcheck) if run % 2 == 0 else (run_qcheck, run_plain)
            times: dict[str, float] = {}
            for fn in (first, second):
                times[fn.__name__], value = timed(fn)
                if fn is run_qcheck:
                    result = value
            plain.append(times["run_plain"])
            qc.append(times["run_qcheck"])
            own.append(result.overhead)
            inside.append(result.load_seconds + result.seconds)
            print(f"{strategy} run {run}: plain {plain[-1]:.2f} s, qcheck {qc[-1]:.2f} s (load {result.load_seconds:.2f} s + "
                  f"converter {result.seconds:.2f} s + own {result.overhead:.3f} s), {result.size / 1e6:.1f} MB, {result.verdict}", flush=True)
        rows.append((strategy, plain, qc, inside, own, result.size, len(result.report.findings) if result.report else 0))
    write(rows, args, (load_before, os.getloadavg()[0]))
    return 0


DEFINITIONS = (
    ("- *plain*: load the .keras with Keras, `TFLiteConverter.from_keras_model`, same settings, `np.load` for the "
    "representative dataset, `convert()`, write the file: what a user writes without qcheck."),
    ("- *qcheck*: `qcheck.convert.convert(...)`: the same conversion plus calibration validation, verification of the "
    "output against the strategy's `--expect` with every rule, and an atomic write."),
    ("- *qcheck's own time*: measured inside qcheck's run (calibration loading and validation, verification, write), "
    "i.e. everything but the strategy's `convert` call."),
)


Row = tuple[str, list[float], list[float], list[float], list[float], int, int]


def _spread(xs: list[float]) -> str:
    return f"{statistics.median(xs):.2f} s ({min(xs):.1f}-{max(xs):.1f})"


def write(rows: list[Row], args: argparse.Namespace, load: tuple[float, float]) -> None:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")), platform.processor())
    import tensorflow as tf

    lines = [
        "# qcheck convert: overhead on top of the TensorFlow converter",
        "",
        (f"Measured by `bench/convert_overhead.py` on `keras.applications.ResNet50(weights=None)` (25.6 M parameters, "
        f"saved as .keras), {args.samples} calibration samples (224x224x3 .npy), medians of {args.runs} alternating runs "
        f"in one warm process (TensorFlow imported once)."),
        (f"Machine: {cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, TensorFlow {tf.__version__}; "
         f"load average {load[0]:.1f} at the start, {load[1]:.1f} at the end (the machine is shared with other work)."),
        "",
        *DEFINITIONS,
        "",
        ("| strategy | plain (min-max) | qcheck (min-max) | qcheck / plain - 1 | TensorFlow inside qcheck (load + convert) "
         "| qcheck's own time | own / TensorFlow | output | findings |"),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    worst, verdicts = 0.0, []
    for strategy, plain, qc, inside, own, size, findings in rows:
        p, q, i, o = (statistics.median(x) for x in (plain, qc, inside, own))
        worst = max(worst, o / i)
        lines.append(f"| {strategy} | {_spread(plain)} | {_spread(qc)} | {100 * (q / p - 1):+.1f}% | {i:.2f} s | {o:.3f} s | "
                     f"{100 * o / i:.2f}% | {size / 1e6:.1f} MB | {findings} |")
        noise = (max(plain) - min(plain)) / p
        within = "within" if abs(q / p - 1) <= noise else "beyond"
        verdicts.append(f"{strategy}: {100 * (q / p - 1):+.1f}%, {within} the plain runs' own spread of {100 * noise:.0f}%")
    lines += [
        "",
        (f"**qcheck's own overhead: at most {100 * worst:.2f}% of the conversion time** (target: <= 5%), measured directly "
         "inside qcheck's run (own / TensorFlow). End to end (qcheck / plain - 1): " + "; ".join(verdicts) + "."),
        "",
        "Rerun: `.venv/bin/python bench/convert_overhead.py [--runs N] [--strategies a,b]`.",
        "",
    ]
    (HERE / "CONVERT.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
