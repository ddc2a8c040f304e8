"""`qcheck compare` speed: against TensorFlow's QuantizationDebugger, and Ray against local workers (run by hand).

Usage: .venv/bin/python bench/compare_speed.py [--runs 3] [--big-samples 400] [--parts debugger,ray100,raybig]

Each part's rows are kept in bench/out/compare/speed-parts.json with the qcheck commit they were measured
on, so one part can be re-measured alone (--parts) and the section still shows all of them.

Model: `keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3))` (25.6 M parameters, seed 0), saved
as .keras and converted once with `TFLiteConverter.from_keras_model` into a float .tflite and a full-integer
int8 .tflite (Optimize.DEFAULT, TFLITE_BUILTINS_INT8, a representative dataset over the samples, float I/O).
Samples: 100 random float32 arrays in [0, 1) of shape (224, 224, 3), one .npy of shape (100, 224, 224, 3).
All of it is cached under bench/out/compare/ (a re-run skips the conversion).

Every time is one whole process timed from outside (interpreter start-up and imports included), the
contenders taking turns; medians of --runs runs, or a single run for a contender whose first run took
over 3 minutes (the table says how many runs each median is of).

a. `qcheck compare FLOAT INT8 --data samples.npy --samples 100 -j 2 --format json -o FILE` against a script
   that does what a user of TensorFlow's QuantizationDebugger does on the same model and samples: load the
   .keras, `TFLiteConverter.from_keras_model`, Optimize.DEFAULT and a representative dataset over the
   samples, `tf.lite.experimental.QuantizationDebugger(converter=..., debug_dataset=...)` (its calibration
   and debug-model build included), `.run()`, `layer_statistics_dump` to a file. qcheck gets the two
   .tflite files ready-made: their conversion is not in its time (it is reported separately, once).
b. The same qcheck command with `-j 2` against `--ray -j 2` (qcheck starts a local Ray instance with 2 CPUs
   itself), at 100 samples from the .npy and at --big-samples random samples (`--data random`), since
   Ray's fixed start-up weighs less on a longer run. The Ray JSON must equal the local JSON apart from
   its "settings" key; that is checked and reported.
Claims checked (issue): qcheck at least 3x faster than the QuantizationDebugger; Ray within 20% of local.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from report import machine, write_section
from run import OUT, PY, ROOT, compile_bytecode

DIR = OUT / "compare"
KERAS, FLOAT, INT8, DATA = DIR / "resnet50.keras", DIR / "resnet50_float.tflite", DIR / "resnet50_int8.tflite", DIR / "samples100.npy"
BUILD_INFO = DIR / "build.json"
SAMPLES = 100
SLOW = 180.0  # a contender whose first run takes longer than this runs once

DEBUGGER_SCRIPT = '''\
"""What a user of TensorFlow's QuantizationDebugger runs (written by bench/compare_speed.py)."""
import sys

import keras
import numpy as np
import tensorflow as tf

model_path, data_path, dump_path = sys.argv[1:4]
data = np.load(data_path)


def gen():
    for i in range(len(data)):
        yield [data[i : i + 1]]


converter = tf.lite.TFLiteConverter.from_keras_model(keras.models.load_model(model_path, compile=False))
converter.optimizations = [tf.lite.Optimize.DEFAULT]
converter.representative_dataset = gen
debugger = tf.lite.experimental.QuantizationDebugger(converter=converter, debug_dataset=gen)
debugger.run()
with open(dump_path, "w") as f:
    debugger.layer_statistics_dump(f)
'''


def build() -> None:
    """The .keras, the float and int8 .tflite files and the samples (run in a child process: TensorFlow stays out of this one)."""
    import keras
    import numpy as np
    import tensorflow as tf

    DIR.mkdir(parents=True, exist_ok=True)
    info: dict[str, float] = {}
    data = np.random.default_rng(0).random((SAMPLES, 224, 224, 3), dtype=np.float32)
    np.save(DATA, data)
    keras.utils.set_random_seed(0)
    keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3)).save(KERAS)
    model = keras.models.load_model(KERAS, compile=False)
    start = time.perf_counter()
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    FLOAT.write_bytes(converter.convert())
    info["float conversion s"] = time.perf_counter() - start
    start = time.perf_counter()
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([data[i : i + 1]] for i in range(len(data)))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    INT8.write_bytes(converter.convert())
    info["int8 conversion s (100 calibration samples)"] = time.perf_counter() - start
    # The weights survived (the trap: a conversion that silently drops them gives a tiny or constant model).
    x = data[:1]
    ref = model(x, training=False).numpy()
    interp = tf.lite.Interpreter(model_path=str(FLOAT))
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    got = interp.get_tensor(interp.get_output_details()[0]["index"])
    info["float .tflite max |diff| vs Keras"] = float(np.abs(ref - got).max())
    info["float MB"] = FLOAT.stat().st_size / 1e6
    info["int8 MB"] = INT8.stat().st_size / 1e6
    BUILD_INFO.write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info, indent=2))


def timed(cmd: list[str], log: Path) -> float:
    start = time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):  # 1: findings, a normal outcome for qcheck compare
        raise SystemExit(f"{' '.join(map(str, cmd))} exited {proc.returncode}; see {log}:\n{log.read_text()[-3000:]}")
    return seconds


def race(contenders: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    """Whole-process wall times, the contenders taking turns; one run only for one slower than SLOW the first time."""
    times: dict[str, list[float]] = {k: [] for k in contenders}
    for r in range(runs):
        order = list(contenders) if r % 2 == 0 else list(reversed(contenders))
        for name in order:
            if times[name] and (len(times[name]) >= runs or times[name][0] > SLOW):
                continue
            times[name].append(timed(contenders[name], DIR / f"log-{name.replace(' ', '_').replace('/', '')}.txt"))
            print(f"  {name}: {times[name][-1]:.1f} s", flush=True)
    return times


def qcheck_cmd(data: str, samples: int, extra: list[str], out: Path) -> list[str]:
    return [str(ROOT / ".venv" / "bin" / "qcheck"), "compare", str(FLOAT), str(INT8), "--data", data, "--samples", str(samples),
            "-j", "2", *extra, "--format", "json", "-o", str(out)]


def same_but_settings(a: Path, b: Path) -> tuple[bool, list[str]]:
    ja, jb = json.loads(a.read_text()), json.loads(b.read_text())
    ja.pop("settings", None)
    jb.pop("settings", None)
    return ja == jb, sorted(k for k in set(ja) | set(jb) if ja.get(k) != jb.get(k))


def med(xs: list[float]) -> str:
    return f"{statistics.median(xs):.1f} ({len(xs)} run{'s' * (len(xs) != 1)}: {', '.join(f'{x:.1f}' for x in xs)})"


def commit() -> str:
    out = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h %ci"], capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "qcheck", "plugins"], capture_output=True, text=True,
                           check=False).stdout.strip()
    return out + (" + uncommitted changes" if dirty else "")


def part_debugger(runs: int, script: Path, info: dict[str, float]) -> list[str]:
    cmds = {
        "qcheck compare -j 2": qcheck_cmd(str(DATA), SAMPLES, [], DIR / "local.json"),
        "QuantizationDebugger": [PY, str(script), str(KERAS), str(DATA), str(DIR / "debugger_stats.csv")],
    }
    t = race(cmds, runs)
    q, d = statistics.median(t["qcheck compare -j 2"]), statistics.median(t["QuantizationDebugger"])
    return [
        "| contender | command | seconds |", "|---|---|---|",
        (f"| qcheck compare | `qcheck compare resnet50_float.tflite resnet50_int8.tflite --data samples100.npy --samples 100 -j 2 "
         f"--format json -o local.json` | {med(t['qcheck compare -j 2'])} |"),
        (f"| QuantizationDebugger | `python debugger_user.py resnet50.keras samples100.npy stats.csv`: load the .keras, "
         "`from_keras_model`, Optimize.DEFAULT + representative dataset, `QuantizationDebugger(converter=..., "
         f"debug_dataset=...)` (calibration and debug-model build), `.run()`, `layer_statistics_dump` | {med(t['QuantizationDebugger'])} |"),
        "",
        (f"**Speed-up: {d / q:.2f}x** (debugger / qcheck; claim: at least 3x: {'holds' if d / q >= 3 else 'does NOT hold'}). "
         "The two do not do the same work: the debugger's time includes calibrating and building its debug model "
         "(what its converter= mode does), qcheck's does not include making the two .tflite files (the one-off "
         f"conversions above, {info['float conversion s'] + info['int8 conversion s (100 calibration samples)']:.0f} s in all, "
         "which a user already has). The debugger reports per-layer statistics of its NumericVerify ops; qcheck "
         "reports per-tensor and per-layer (isolated) errors plus output metrics."),
    ]


def part_ray(runs: int, label: str, data: str, n: int, tag: str) -> list[str]:
    cmds = {f"local {tag}": qcheck_cmd(data, n, [], DIR / f"local-{tag}.json"),
            f"ray {tag}": qcheck_cmd(data, n, ["--ray"], DIR / f"ray-{tag}.json")}
    t = race(cmds, runs)
    lo, ra = statistics.median(t[f"local {tag}"]), statistics.median(t[f"ray {tag}"])
    equal, differing = same_but_settings(DIR / f"local-{tag}.json", DIR / f"ray-{tag}.json")
    print(f"  {label}: JSON equal except settings: {equal} {differing}", flush=True)
    return [(f"| {label} | {med(t[f'local {tag}'])} | {med(t[f'ray {tag}'])} | {ra / lo:.2f} | "
             f"{'yes' if ra / lo <= 1.2 else 'NO'} | {'yes' if equal else 'NO, differing keys: ' + ', '.join(differing)} |")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--big-samples", type=int, default=400)
    ap.add_argument("--parts", default="debugger,ray100,raybig", help="which parts to measure (default: all)")
    ap.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.build_only:
        build()
        return
    compile_bytecode()
    if not all(p.exists() for p in (KERAS, FLOAT, INT8, DATA, BUILD_INFO)):
        subprocess.run([PY, __file__, "--build-only"], check=True)
    info = json.loads(BUILD_INFO.read_text())
    script = DIR / "debugger_user.py"
    script.write_text(DEBUGGER_SCRIPT)
    store = DIR / "speed-parts.json"
    parts: dict[str, dict[str, object]] = json.loads(store.read_text()) if store.exists() else {}
    for part in filter(None, args.parts.split(",")):
        print(part, flush=True)
        before = commit()
        if part == "debugger":
            rows = part_debugger(args.runs, script, info)
        elif part == "ray100":
            rows = part_ray(args.runs, "samples100.npy, 100 samples", str(DATA), SAMPLES, "npy")
        elif part == "raybig":
            rows = part_ray(args.runs, f"random, {args.big_samples} samples", "random", args.big_samples, f"random{args.big_samples}")
        else:
            raise SystemExit(f"unknown part {part!r}")
        parts[part] = {"rows": rows, "date": time.strftime("%Y-%m-%d %H:%M"), "commit": before if commit() == before else f"{before}, changed to {commit()} DURING this part", "machine": machine()}
        store.write_text(json.dumps(parts, indent=2) + "\n")
        print("\n".join(rows), flush=True)

    def when(part: str) -> str:
        p = parts[part]
        return f"measured {p['date']} on qcheck commit {p['commit']}; machine: {p['machine']}"

    lines = [
        "## qcheck compare: speed", "",
        ("Measured by `bench/compare_speed.py`. Every time is one whole process timed from outside (start-up and imports "
         "included), the contenders taking turns; seconds: median (the runs). A contender whose first run took over "
         "3 minutes ran once."), "",
        (f"Model: `keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3))`, converted once with "
         f"`TFLiteConverter.from_keras_model` into a float .tflite ({info['float MB']:.1f} MB; max |diff| from Keras "
         f"{info['float .tflite max |diff| vs Keras']:.1e} on one sample, so the weights survived) and a full-integer int8 .tflite "
         f"({info['int8 MB']:.1f} MB; Optimize.DEFAULT, TFLITE_BUILTINS_INT8, 100 representative samples, float I/O). "
         "Those one-off conversions took "
         f"{info['float conversion s']:.1f} s and {info['int8 conversion s (100 calibration samples)']:.1f} s and are NOT in qcheck's times. "
         f"Data: {SAMPLES} random float32 samples in [0, 1), shape (224, 224, 3), one .npy. 2 CPUs."), "",
    ]
    if "debugger" in parts:
        lines += ["### a. qcheck compare vs TensorFlow's QuantizationDebugger (same model, same 100 samples)", "",
                  f"({when('debugger')})", "", *parts["debugger"]["rows"], ""]
    ray = [k for k in ("ray100", "raybig") if k in parts]
    if ray:
        lines += ["### b. Ray vs local workers", "",
                  "| data | local `-j 2` seconds | `--ray -j 2` seconds | Ray / local | within 20% | JSON equal but \"settings\" |",
                  "|---|---|---|---|---|---|", *(r for k in ray for r in parts[k]["rows"]), "",
                  *(f"- {parts[k]['rows'][0].split(' | ')[0].lstrip('| ')}: {when(k)}" for k in ray), "",
                  ("Commands: `qcheck compare resnet50_float.tflite resnet50_int8.tflite --data DATA --samples N -j 2 "
                   "[--ray] --format json -o FILE`; with --ray qcheck starts (and stops) a local Ray instance with 2 CPUs "
                   "inside the timed process."), ""]
    lines += [
        ("A part whose line says the commit changed DURING it timed different versions of qcheck in its runs (the code "
         "was being changed while this ran): its numbers are not a clean comparison. This VM's speed also swings from "
         "run to run (see the spread of the runs)."), "",
        ("Not measured: other models, real (non-random) data, more than 2 CPUs or a remote Ray cluster, the debugger "
         "with model_debug_metrics or layer_direct_compare_metrics (default QuantizationDebugOptions only), qcheck's "
         "--format console/html, cold page cache."), "",
        (f"Rerun: `.venv/bin/python bench/compare_speed.py --runs {args.runs} --big-samples {args.big_samples} "
         "[--parts debugger,ray100,raybig]` (models and samples cached in bench/out/compare/; `--parts ''` rewrites the "
         "section from the stored parts without measuring)."),
    ]
    write_section("compare-speed", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
