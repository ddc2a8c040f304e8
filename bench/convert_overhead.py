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
    for strategy in args.strategies.split(","):
        plain, qc, own, inside = [], [], [], []
        for run in range(args.runs):
            out = tmp / f"{strategy}-{run}.tflite"
            with captured_output():
                seconds, _ = timed(plain_tf, tmp / "resnet50.keras", strategy, tmp / "calib.npy", out)
            plain.append(seconds)
            seconds, result = timed(convert, tmp / "resnet50.keras", strategy, out, calibration=tmp / "calib.npy",
                                    force=True, registry=registry)
            qc.append(seconds)
            own.append(result.overhead)
            inside.append(result.seconds)
            print(f"{strategy} run {run}: plain {plain[-1]:.2f} s, qcheck {qc[-1]:.2f} s "
                  f"(converter {result.seconds:.2f} s + own {result.overhead:.3f} s), {result.size / 1e6:.1f} MB, {result.verdict}", flush=True)
        p, q, o, i = (statistics.median(x) for x in (plain, qc, own, inside))
        rows.append((strategy, p, q, i, o, result.size, len(result.report.findings) if result.report else 0))
    write(rows, args)
    return 0


DEFINITIONS = (
    ("- *plain*: load the .keras with Keras, `TFLiteConverter.from_keras_model`, same settings, `np.load` for the "
    "representative dataset, `convert()`, write the file: what a user writes without qcheck."),
    ("- *qcheck*: `qcheck.convert.convert(...)`: the same conversion plus calibration validation, verification of the "
    "output against the strategy's `--expect` with every rule, and an atomic write."),
    ("- *qcheck's own time*: measured inside qcheck's run (calibration loading and validation, verification, write), "
    "i.e. everything but the strategy's `convert` call."),
)


def write(rows: list[tuple[str, float, float, float, float, int, int]], args: argparse.Namespace) -> None:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")), platform.processor())
    import tensorflow as tf

    lines = [
        "# qcheck convert: overhead on top of the TensorFlow converter",
        "",
        (f"Measured by `bench/convert_overhead.py` on `keras.applications.ResNet50(weights=None)` (25.6 M parameters, "
        f"saved as .keras), {args.samples} calibration samples (224x224x3 .npy), medians of {args.runs} alternating runs "
        f"in one warm process (TensorFlow imported once)."),
        f"Machine: {cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, TensorFlow {tf.__version__}.",
        "",
        *DEFINITIONS,
        "",
        "| strategy | plain | qcheck | overhead (qcheck / plain - 1) | converter inside qcheck | qcheck's own time | own / converter | output | findings |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for strategy, p, q, inside, own, size, findings in rows:
        lines.append(f"| {strategy} | {p:.2f} s | {q:.2f} s | {100 * (q / p - 1):+.1f}% | {inside:.2f} s | {own:.3f} s | "
                     f"{100 * own / inside:.2f}% | {size / 1e6:.1f} MB | {findings} |")
    lines += ["", "Target: <= 5% of the conversion time. Rerun: `.venv/bin/python bench/convert_overhead.py`.", ""]
    (HERE / "CONVERT.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
