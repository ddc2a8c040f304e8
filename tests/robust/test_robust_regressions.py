"""Replay every input that ever broke qcheck, plus hostile shapes that mutation alone rarely builds."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import robust_craft as craft
from robust_check import REGRESSIONS, Checker, memory_limit, time_limit

import qcheck
from qcheck.tflite.builder import ModelBuilder

FILES = sorted(REGRESSIONS.glob("*.tflite"))


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(time_limit=3.0)


def _codes(report: qcheck.Report) -> set[str]:
    return {f.code for f in report.findings}


def test_regression_corpus_is_indexed() -> None:
    """Each file is named by its bug and described in INDEX.md; all of them stay small."""
    index = (REGRESSIONS / "INDEX.md").read_text()
    assert len(FILES) >= 4
    for p in FILES:
        assert p.name in index, f"{p.name} is not described in regressions/INDEX.md"
        assert p.stat().st_size < 100_000, f"{p.name} is too big for the regression corpus"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_regression_input(path: Path, checker: Checker) -> None:
    with memory_limit():
        assert checker.check(path.read_bytes()) is None


@pytest.mark.parametrize("make", [
    lambda: craft.shared_shape(20_000, 20_000),
    lambda: craft.shared_name(20_000, 20_000),
    lambda: craft.shared_subgraph(20_000, 2_000),
    lambda: craft.shared_operator_io(20_000, 20_000),
    lambda: craft.nested_aliases(3_000),
], ids=["shape", "name", "subgraph", "operator-io", "nested"])
def test_aliased_tables_are_refused_quickly(make: object) -> None:
    """Tables that share one vector would decode to far more elements than the file holds."""
    data = make()  # type: ignore[operator]
    with memory_limit(), pytest.raises(qcheck.ModelError, match="overlap") as e:
        qcheck.load(data)  # refused by the decoding budget, before any allocation sized by the aliasing
    assert "byte" in str(e.value)


def test_moderate_sharing_is_still_read() -> None:
    """A few tensors sharing a shape vector (legal FlatBuffer deduplication) stay readable."""
    model = qcheck.load(craft.shared_shape(50, 4))
    assert len(model.main.tensors) == 50 and model.main.tensors[49].shape == (1, 1, 1, 1)


def test_empty_model_table() -> None:
    """A root table with no fields: a report saying there is no subgraph, not a crash."""
    report = qcheck.verify(craft.empty_root())
    assert "QC002" in _codes(report) and "QC900" not in _codes(report)


@pytest.mark.parametrize("data", [b"", b"TFL3", b"\0" * 8, b"\x08\0\0\0TFL3", b"\xff" * 64, b"\x04\0\0\0TFL3" + b"\0" * 8])
def test_tiny_and_empty_inputs(data: bytes) -> None:
    with pytest.raises(qcheck.ModelError) as e:
        qcheck.verify(data)
    assert str(e.value) and "\n" not in str(e.value)


def test_flood_of_bad_indices_is_one_finding_per_operator() -> None:
    """An operator whose 65,536 outputs are all out of range is one defect: one finding, fast to print."""
    b = ModelBuilder()
    x = b.tensor("x", "INT8", [1], scale=0.5)
    b.op("ADD", [x, x], list(range(100, 100 + 65536)))
    b.io([x], [x])
    start = time.perf_counter()
    report = qcheck.verify(b.build())
    qc009 = [f for f in report.findings if f.code == "QC009"]
    assert len(qc009) == 1 and "65536 output tensor indices" in qc009[0].message
    assert time.perf_counter() - start < 3.0


def test_huge_rank_is_fast() -> None:
    """20,000 dimensions of 2**31-1: no seconds of big-integer products in each rule."""
    data = craft.long_shape(20_000)
    start = time.perf_counter()
    report = qcheck.verify(data)
    assert time.perf_counter() - start < 3.0
    assert "QC005" in _codes(report) and "QC900" not in _codes(report)


def test_long_operator_chain(checker: Checker) -> None:
    """A 5,000-op chain (5x Python's recursion limit): graph walks must not recurse once per operator."""
    b = ModelBuilder()
    prev = b.tensor("t0", "INT8", [1, 8], scale=0.1, zero_point=0)
    first = prev
    for i in range(1, 5_001):
        t = b.tensor(f"t{i}", "INT8", [1, 8], scale=0.1, zero_point=0)
        b.op("RELU", [prev], [t])
        prev = t
    b.io([first], [prev])
    assert checker.check(b.build()) is None


def test_cycles_in_graph_and_subgraph_calls(checker: Checker) -> None:
    """An op reading its own output, and a WHILE whose body is its own subgraph: no endless walk."""
    b = ModelBuilder()
    x = b.tensor("x", "INT8", [1, 4], scale=0.5, zero_point=0)
    y = b.tensor("y", "INT8", [1, 4], scale=0.5, zero_point=0)
    b.op("ADD", [x, y], [y])
    b.op("ADD", [y, x], [x])
    b.op("WHILE", [y], [y], options={"cond_subgraph_index": 0, "body_subgraph_index": 0})
    b.op("CALL_ONCE", [], [], options={"init_subgraph_index": 0})
    b.io([x], [y])
    assert checker.check(b.build()) is None


def test_special_files_are_refused_without_blocking(tmp_path: Path) -> None:
    """A named pipe used to block open() forever (waiting for a writer); devices and folders are refused too."""
    fifo = tmp_path / "model.tflite"
    os.mkfifo(fifo)
    for path, says in ((fifo, "not a regular file"), (Path("/dev/zero"), "not a regular file"), (tmp_path, "directory"),
                       (tmp_path / "missing.tflite", "no such file")):
        with time_limit(5), pytest.raises(qcheck.ModelError, match=says):
            qcheck.load(path)


def test_huge_external_offset_is_reported() -> None:
    """Offsets of 2**63 and more must not read as negative and vanish: QC006 names the buffer."""
    report = qcheck.verify((REGRESSIONS / "buffer-offset-2pow63-silently-dropped.tflite").read_bytes())
    assert [f.message for f in report.findings if f.code == "QC006"] == [
        "buffer 1: bytes 9223372036854775808..9223372036854775812 lie past the end of the file (276 bytes)"]
