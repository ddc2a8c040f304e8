"""A model file cut short while qcheck reads it (through mmap) ends the process with one line and exit 2, not SIGBUS."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from qcheck.tflite.builder import ModelBuilder

_CHILD = """
import os, sys
import qcheck
from qcheck.engine import Settings, default_registry, verify_model
model = qcheck.load(sys.argv[1])  # memory-mapped
os.truncate(sys.argv[1], 200)     # another process cuts the file short
verify_model(model, default_registry(), Settings(), sys.argv[1])  # the weight scans touch pages that are gone
print("read it all")
"""


def test_a_file_truncated_under_qcheck_gives_exit_2_and_one_line(tmp_path: Path) -> None:
    b = ModelBuilder()
    x = b.tensor("x", "INT8", [1, 256], scale=0.02, zero_point=0)
    w = b.tensor("w", "INT8", [4096, 256], data=np.ones((4096, 256), np.int8), scale=[0.01] * 4096, zero_point=[0] * 4096)
    y = b.tensor("y", "INT8", [1, 4096], scale=0.05, zero_point=0)
    b.op("FULLY_CONNECTED", [x, w, -1], [y], options={"fused_activation_function": "NONE"})
    b.io([x], [y])
    path = tmp_path / "model.tflite"
    b.save(path)
    r = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 2, (r.returncode, r.stderr[-500:])
    assert r.stderr.strip() == f"qcheck: error: {path} changed while qcheck was reading it (truncated or rewritten): run again"
    assert "read it all" not in r.stdout
