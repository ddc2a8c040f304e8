"""A model over 2 GB (weights stored after the FlatBuffer, Buffer.offset/size) verifies in bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

OUT, IN = 33_000, 65_536  # 2.16e9 int8 weights: past the 2**31-byte FlatBuffer limit

# Runs in a child so that its peak resident set is its own: VmHWM of its own memory map (ru_maxrss
# would include the parent's peak at fork time, which Linux carries across exec).
_PROBE = r"""
import json, re, sys, time
import qcheck
from qcheck import inspection
start = time.perf_counter()
report = qcheck.verify(sys.argv[1])
model = qcheck.load(sys.argv[1])
w = model.main.tensors[1]
inspection.describe(model, sys.argv[1])
print(json.dumps({
    "seconds": time.perf_counter() - start,
    "peak_rss_mb": int(re.search(r"VmHWM:\s+(\d+) kB", open("/proc/self/status").read()).group(1)) / 1024,
    "findings": [[f.code, str(f.severity), f.message] for f in report.findings],
    "external": model.buffer_of(w).external, "weights_range": model.value_range(w),
    "flatbuffer_bytes": min(b.offset for b in model.buffers if b.external), "file_bytes": model.file_size,
}))
"""


# Writes the model from broadcast arrays (nothing big in memory) and reports its own peak.
_WRITER = r"""
import re, sys
import numpy as np
from qcheck.tflite.builder import ModelBuilder
OUT, IN = int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(3)
b = ModelBuilder()
x = b.tensor("x", "INT8", [1, IN], scale=0.05, zero_point=-3)
w_scale = rng.uniform(0.005, 0.01, OUT)
w = b.tensor("w", "INT8", [OUT, IN], data=np.broadcast_to(np.int8(-5), (OUT, IN)), scale=w_scale, zero_point=np.zeros(OUT, int))
bias = b.tensor("b", "INT32", [OUT], data=np.broadcast_to(np.int32(7), (OUT,)), scale=0.05 * w_scale, zero_point=np.zeros(OUT, int))
y = b.tensor("y", "INT8", [1, OUT], scale=0.1, zero_point=-3)
b.op("FULLY_CONNECTED", [x, w, bias], [y], options={"fused_activation_function": "NONE"}, version=9)
b.io([x], [y])
b.save(sys.argv[1], external=True)
print(int(re.search(r"VmHWM:\s+(\d+) kB", open("/proc/self/status").read()).group(1)) / 1024)
"""


@pytest.fixture(scope="module")
def big_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, float]]:
    """(path, the writer's peak RSS in MB); the 2 GB file is deleted afterwards."""
    path = tmp_path_factory.mktemp("external") / "big.tflite"
    try:
        run = subprocess.run([sys.executable, "-c", _WRITER, str(path), str(OUT), str(IN)], capture_output=True, text=True, timeout=600, check=False)
        assert run.returncode == 0, run.stderr[-3000:]
        yield path, float(run.stdout)
    finally:
        path.unlink(missing_ok=True)


def test_verify_over_2gb_in_bounded_memory(big_model: tuple[Path, float]) -> None:
    path, writer_peak_mb = big_model
    assert path.stat().st_size > 2**31
    assert writer_peak_mb < 500  # ModelBuilder streamed the broadcast weights: it never held them either
    run = subprocess.run([sys.executable, "-c", _PROBE, str(path)], capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads(run.stdout)
    assert got["external"] and got["file_bytes"] > 2**31 and got["flatbuffer_bytes"] < 1 << 20
    assert got["weights_range"] == [-5, -5]  # the rules' scan read the data after the FlatBuffer
    assert not [f for f in got["findings"] if f[1] == "error"], got["findings"]
    # Weights are scanned in chunks whose pages are released: the resident set does not follow the file.
    assert got["peak_rss_mb"] < 500, got


def test_cli_verify_over_2gb(big_model: tuple[Path, float]) -> None:
    run = subprocess.run([sys.executable, "-m", "qcheck", "verify", str(big_model[0]), "--format", "json"],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode in (0, 1), run.stderr
    report = json.loads(run.stdout)["models"][0]
    assert "error" not in report and report["stats"]["bytes"] > 2**31
    assert "QC006" not in {f["code"] for f in report["findings"]}
