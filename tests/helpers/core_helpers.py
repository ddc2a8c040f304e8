"""Shared helpers of the core tests: small builder models and a subprocess runner for the CLI."""

from __future__ import annotations

import importlib.util
import json
import os
import pty
import subprocess
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np
from testpaths import ROOT

from qcheck.tflite.builder import ModelBuilder


@cache
def script(relative: str) -> ModuleType:
    """A script of the repository (e.g. "tools/generate_schema.py") loaded as a module, once."""
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fixture_script() -> ModuleType:
    """fixtures/make_builder_fixtures.py as a module (its FIXTURES table and builders)."""
    return script("fixtures/make_builder_fixtures.py")


def int8_fc(*, weights_scale: object = None, out_scale: float = 0.05) -> ModelBuilder:
    """A clean full-int8 FULLY_CONNECTED model: input [1, 8] -> output [1, 4], per-channel weights."""
    rng = np.random.default_rng(3)
    b = ModelBuilder()
    x = b.tensor("x", "INT8", [1, 8], scale=0.02, zero_point=-3)
    ws = np.full(4, 0.01) if weights_scale is None else weights_scale
    w = b.tensor("w", "INT8", [4, 8], data=rng.integers(-127, 128, (4, 8), dtype=np.int8), scale=ws, quantized_dimension=0)
    bias = b.tensor("bias", "INT32", [4], data=np.arange(4, dtype=np.int32), scale=0.02 * np.asarray(ws, dtype=np.float64))
    y = b.tensor("y", "INT8", [1, 4], scale=out_scale, zero_point=5)
    b.op("FULLY_CONNECTED", [x, w, bias], [y], options={"fused_activation_function": "NONE"}, version=4)
    b.io([x], [y])
    return b


def cli_models(folder: Path) -> dict[str, Path]:
    """Small models for the CLI tests: clean, bad (one QC023), custom (one info QC010), wide (64 scales), unreadable."""
    out = {name: folder / f"{name}.tflite" for name in ("clean", "bad", "custom", "wide", "unreadable")}
    int8_fc().save(out["clean"])
    int8_fc(out_scale=0.0).save(out["bad"])
    b = int8_fc()
    t = b.tensor("c", "FLOAT32", [1])
    b.op("CUSTOM", [t], [t], custom_code="MyOp")
    b.save(out["custom"])
    b = int8_fc()
    b.tensor("wide", "INT8", [64, 2], data=np.zeros((64, 2), np.int8), scale=np.arange(1, 65) / 1000, quantized_dimension=0)
    b.save(out["wide"])
    out["unreadable"].write_bytes(out["clean"].read_bytes()[:100])
    return out


def assert_one_line_error(stderr: str, *, lines: int = 1) -> None:
    """No traceback: exactly `lines` lines, each a `qcheck: error: ...` message."""
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == lines, stderr
    assert all(line.startswith("qcheck: error: ") for line in stderr.strip().splitlines()), stderr


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for `python -m qcheck`: the repository and plugins/ importable, no colour forcing."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "PYTHONPATH")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "plugins")])
    env.update(extra or {})
    return env


def run_cli(*args: str, env: Mapping[str, str] | None = None, cwd: str | os.PathLike[str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `python -m qcheck ARGS` as a separate process (stdin closed, stdout/stderr captured)."""
    return subprocess.run([sys.executable, "-m", "qcheck", *args], capture_output=True, text=True, env=cli_env(env),
                          cwd=cwd, timeout=timeout, stdin=subprocess.DEVNULL, check=False)


def modules_after(body: str) -> set[str]:
    """Every module in sys.modules after a fresh interpreter has run `body` (which must not fail)."""
    code = f"import json, sys\n{body}\nprint(json.dumps(sorted(sys.modules)))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    return set(json.loads(r.stdout.strip().splitlines()[-1]))


def runtime_statuses(models: Mapping[str, bytes], folder: Path) -> dict[str, dict[str, str]]:
    """Each model's status in LiteRT's builtin kernels and in TFLite Micro (one child process per runtime)."""
    from qcheck.runtime import run_interpreters

    paths = []
    for i, data in enumerate(models.values()):
        path = folder / f"m{i}.tflite"
        path.write_bytes(data)
        paths.append(path)
    out: dict[str, dict[str, str]] = {name: {} for name in models}
    for rt in ("litert-builtin", "tflm"):
        for name, r in zip(models, run_interpreters(paths, 60, runtime=rt), strict=True):
            out[name][rt] = r.status
    return out


def run_on_terminal(*args: str) -> tuple[int, str]:
    """`qcheck ARGS` with stderr on a pseudo-terminal: its status and everything the terminal received."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "qcheck", *args], stdout=subprocess.DEVNULL, stderr=follower, stdin=subprocess.DEVNULL,
                            env=cli_env({"COLUMNS": "100", "TERM": "xterm"}))
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=120), b"".join(chunks).decode(errors="replace")
