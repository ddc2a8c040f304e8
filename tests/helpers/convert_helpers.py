"""Helpers for the conversion tests: a LiteRT runner in a subprocess, and the registry the tests convert with."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qcheck import Expectation, hookimpl
from qcheck.registry import make_registry

# Runs .tflite files with ai-edge-litert in a child process: a bad model can crash the interpreter.
# Quantized inputs are quantized, quantized outputs dequantized, with the tensors' own parameters.
_RUNNER = r"""
import json, sys
import numpy as np
from ai_edge_litert.interpreter import Interpreter

job = json.load(sys.stdin)
feeds = dict(np.load(job["inputs"]))
results = {}
for m, path in enumerate(job["models"]):
    it = Interpreter(model_path=path)
    it.allocate_tensors()
    ins, out = it.get_input_details(), it.get_output_details()[0]
    arrays = {}
    for d in ins:
        key = next((k for k in feeds if k in d["name"]), None) if len(feeds) > 1 else next(iter(feeds))
        arrays[d["index"]] = (d, feeds[key])
    n = len(next(iter(feeds.values())))
    ys = []
    for k in range(n):
        for index, (d, x) in arrays.items():
            x = x[k : k + 1]
            if d["dtype"] != np.float32:
                scale, zero = d["quantization"]
                info = np.iinfo(d["dtype"])
                x = np.clip(np.round(x / scale + zero), info.min, info.max)
            it.set_tensor(index, x.astype(d["dtype"]))
        it.invoke()
        y = it.get_tensor(out["index"])
        if out["dtype"] != np.float32:
            scale, zero = out["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        ys.append(y)
    results[f"y{m}"] = np.concatenate(ys)
    results[f"io{m}"] = np.array([ins[0]["dtype"].__name__, out["dtype"].__name__])
np.savez(job["out"], **results)
"""


@dataclass(frozen=True)
class Run:
    outputs: np.ndarray
    input_dtype: str
    output_dtype: str


def run_tflite(models: Sequence[Path], inputs: Mapping[str, np.ndarray], tmp: Path, timeout: float = 120) -> list[Run]:
    """Outputs of each model on `inputs` (by input name; a lone array feeds a lone input)."""
    np.savez(tmp / "feeds.npz", **inputs)  # type: ignore[arg-type]
    job = {"models": [str(m) for m in models], "inputs": str(tmp / "feeds.npz"), "out": str(tmp / "runs.npz")}
    proc = subprocess.run([sys.executable, "-c", _RUNNER], input=json.dumps(job), capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, f"LiteRT runner failed ({proc.returncode}): {proc.stderr[-2000:]}"
    with np.load(tmp / "runs.npz") as got:
        return [Run(got[f"y{i}"], str(got[f"io{i}"][0]), str(got[f"io{i}"][1])) for i in range(len(models))]


class StandInExpectations:
    """Registers the strategies' --expect names that no loaded plugin registers yet (qcheck_spec owns them)."""

    def __init__(self, names: set[str]) -> None:
        self.names = names

    @hookimpl
    def qcheck_register_expectations(self, register: Any) -> None:
        for name in sorted(self.names):
            register(Expectation(name, "test stand-in: no rules check it"))


def registry_with(*extra: object) -> Any:
    """The built-in plugins plus `extra`; stand-ins for --expect names no plugin registers (before qcheck_spec)."""
    registry = make_registry(external=False, extra=extra)
    missing = {s.expect for s in registry.strategies.values()} - set(registry.expectations)
    if not missing:
        return registry
    return make_registry(external=False, extra=[*extra, StandInExpectations(missing)])




@dataclass(frozen=True)
class Demo:
    model: Any  # the Keras model
    keras_path: Path
    calibration: Path  # .npy, 32 samples
    inputs: np.ndarray  # held-out inputs the outputs are compared on
    expected: np.ndarray  # the Keras model's outputs on them
