"""qcheck.runtime: LiteRT in a child process, so that a model crashing or hanging the interpreter cannot take qcheck down."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from robust_check import ROOT
from robust_walk import walk

import qcheck
from qcheck.runtime import run_interpreter, run_interpreters
from qcheck.tflite.builder import ModelBuilder

CORPUS_MODEL = ROOT / "tests" / "corpus" / "pypi" / "microwakeword_alexa.tflite"
CRASH_SOURCE = ROOT / "fixtures" / "models" / "tf_int16x8.tflite"


def _aborting_model(folder: Path) -> Path:
    """The converter's int16x8 model with tensor 14's offset set to 0 (the table points at itself):
    LiteRT 2.x aborts (SIGABRT) on it; found by mutating the fixtures."""
    data = bytearray(CRASH_SOURCE.read_bytes())
    (point,) = [p for p in walk(bytes(data)).of("uoffset") if p.what == "Tensor[14]"]
    struct.pack_into("<I", data, point.pos, 0)
    path = folder / "abort.tflite"
    path.write_bytes(bytes(data))
    return path


def _endless_while(folder: Path) -> Path:
    """WHILE whose condition is a constant True: invoke() never returns."""
    b = ModelBuilder()
    cond, body = b.subgraph("cond"), b.subgraph("body")
    x, y = b.tensor("x", "INT32", [1]), b.tensor("y", "INT32", [1])
    b.op("WHILE", [x], [y], options={"cond_subgraph_index": cond, "body_subgraph_index": body})
    b.io([x], [y])
    cx = b.tensor("cx", "INT32", [1], subgraph=cond)
    b.io([cx], [b.tensor("true", "BOOL", [], data=np.array(True), subgraph=cond)], subgraph=cond)
    bx, bo = b.tensor("bx", "INT32", [1], subgraph=body), b.tensor("bo", "INT32", [1], subgraph=body)
    b.op("ABS", [bx], [bo], subgraph=body)
    b.io([bx], [bo], subgraph=body)
    path = folder / "forever.tflite"
    b.save(path)
    return path


def test_runs_a_model_and_returns_its_outputs() -> None:
    result = run_interpreter(CORPUS_MODEL, timeout=60)
    assert result.ok, result.message
    assert result.output_names and result.outputs[0].shape == (1, 1) and result.outputs[0].dtype == np.uint8


def test_feeds_given_inputs_and_resizes_dynamic_ones(tmp_path: Path) -> None:
    b = ModelBuilder()
    x = b.tensor("x", "FLOAT32", [1, 3], shape_signature=[-1, 3])
    y = b.tensor("y", "FLOAT32", [1, 3], shape_signature=[-1, 3])
    b.op("ABS", [x], [y])
    b.io([x], [y])
    b.save(tmp_path / "abs.tflite")
    result = run_interpreter(tmp_path / "abs.tflite", timeout=60, inputs=[np.array([[-1, 2, -3], [4, -5, 6]], np.float32)])
    assert result.ok, result.message
    np.testing.assert_array_equal(result.outputs[0], [[1, 2, 3], [4, 5, 6]])


def test_refusal_is_an_error_with_the_interpreters_message(tmp_path: Path) -> None:
    bad = tmp_path / "cut.tflite"
    bad.write_bytes(CORPUS_MODEL.read_bytes()[:500])
    result = run_interpreter(bad, timeout=60)
    assert result.status == "error" and result.message


def test_a_crash_is_contained_and_the_batch_goes_on(tmp_path: Path) -> None:
    crash = _aborting_model(tmp_path)
    results = run_interpreters([CORPUS_MODEL, crash, CORPUS_MODEL, crash], timeout=60)
    assert [r.status for r in results] == ["ok", "crash", "ok", "crash"], [r.message for r in results]
    assert "SIGABRT" in results[1].message
    with pytest.raises(qcheck.ModelError, match="tensor 14"):  # where qcheck itself gives one clear error
        qcheck.load(crash)


def test_a_hang_is_a_timeout(tmp_path: Path) -> None:
    results = run_interpreters([_endless_while(tmp_path), CORPUS_MODEL], timeout=3)
    assert [r.status for r in results] == ["timeout", "ok"]  # the hang was cut off and the runner went on


def test_memory_limit_bounds_the_child(tmp_path: Path) -> None:
    """A 16 GB activation under a 2 GB cap: refused or killed, quickly, not swapping the machine."""
    b = ModelBuilder()
    x = b.tensor("x", "FLOAT32", [1, 65536, 65536])
    y = b.tensor("y", "FLOAT32", [1, 65536, 65536])
    b.op("ABS", [x], [y])
    b.io([x], [y])
    b.save(tmp_path / "huge.tflite")
    result = run_interpreter(tmp_path / "huge.tflite", timeout=60, memory_limit=2 << 30)
    assert result.status in ("error", "crash"), result  # not "timeout": the cap stopped it, not the clock


def test_missing_litert_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "ai_edge_litert"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('ai_edge_litert is not installed (test stand-in)')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    results = run_interpreters([CORPUS_MODEL, CORPUS_MODEL], timeout=60)
    assert [r.status for r in results] == ["unavailable", "unavailable"] and "not installed" in results[0].message
