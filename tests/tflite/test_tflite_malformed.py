"""Hostile input: every malformed file raises exactly qcheck.ModelError with a clear message, nothing else."""

from __future__ import annotations

import random
import struct
import time
from pathlib import Path

import pytest
from core_helpers import int8_fc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qcheck
from qcheck.registry import make_registry

GOOD = int8_fc().build()
REGISTRY = make_registry(external=False)


def load_or_error(data: bytes) -> qcheck.Model | qcheck.ModelError:
    """The model, or the ModelError it raised; any other exception fails the test."""
    try:
        return qcheck.load(data)
    except qcheck.ModelError as e:
        return e


@pytest.mark.parametrize(("data", "words"), [
    (b"", "too short"),
    (GOOD[:7], "too short"),
    (GOOD[:4] + b"XXXX" + GOOD[8:], "identifier"),
    ((len(GOOD) + 100).to_bytes(4, "little") + GOOD[4:], "outside the file"),
    (b"\0\0\0\0TFL3", "malformed vtable at byte 0"),
], ids=["empty", "seven-bytes", "wrong-identifier", "root-offset-past-end", "header-only"])
def test_malformed_headers(data: bytes, words: str) -> None:
    with pytest.raises(qcheck.ModelError, match=words):
        qcheck.load(data)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "empty.tflite").write_bytes(b"")
    with pytest.raises(qcheck.ModelError, match="empty file"):
        qcheck.load(tmp_path / "empty.tflite")
    with pytest.raises(qcheck.ModelError, match="no such file"):
        qcheck.load(tmp_path / "missing.tflite")
    with pytest.raises(qcheck.ModelError, match="directory"):
        qcheck.load(tmp_path)


def test_error_names_the_file(tmp_path: Path) -> None:
    p = tmp_path / "cut.tflite"
    p.write_bytes(GOOD[: len(GOOD) // 2])
    with pytest.raises(qcheck.ModelError) as info:
        qcheck.load(p)
    assert str(info.value).startswith(f"{p}: ") and "\n" not in str(info.value)


def test_every_truncation_is_a_model_error() -> None:
    # The FlatBuffer is written back to front, so any cut loses something the root refers to.
    for cut in range(len(GOOD)):
        result = load_or_error(GOOD[:cut])
        assert isinstance(result, qcheck.ModelError), f"cut at {cut} of {len(GOOD)} loaded"
        assert str(result) and "\n" not in str(result)


@pytest.mark.parametrize("value", [0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, len(GOOD)])
def test_every_word_set_to_a_bogus_offset_or_length(value: int) -> None:
    """Overwrite each aligned 32-bit word (offsets, lengths, counts) in turn: ModelError or a model, fast."""
    for at in range(0, len(GOOD) - 3, 4):
        data = bytearray(GOOD)
        struct.pack_into("<I", data, at, value)
        start = time.perf_counter()
        result = load_or_error(bytes(data))
        assert time.perf_counter() - start < 1.0, f"word {at}: {value:#x} took too long"
        if isinstance(result, qcheck.Model):
            assert not any(f.code == "QC900" for f in qcheck.verify(bytes(data), registry=REGISTRY).findings)


def test_huge_vector_length_is_rejected_before_allocating() -> None:
    scale = qcheck.load(GOOD).main.tensors[0].quantization.scale  # the input's one scale, 0.02
    # The uint32 element count sits just before the first element of the scale vector.
    base = _offset_of(GOOD, scale.tobytes())
    data = bytearray(GOOD)
    struct.pack_into("<I", data, base - 4, 0x3FFFFFFF)
    with pytest.raises(qcheck.ModelError, match="claims 1073741823 elements"):
        qcheck.load(bytes(data))


def _offset_of(haystack: bytes, needle: bytes) -> int:
    at = haystack.find(needle)
    assert at > 0 and haystack.find(needle, at + 1) == -1, "needle must be unique"
    return at


def test_random_bytes_with_and_without_identifier() -> None:
    rnd = random.Random(11)
    for n in (8, 16, 64, 4096):
        for _ in range(20):
            junk = bytes(rnd.randrange(256) for _ in range(n))
            assert isinstance(load_or_error(junk), qcheck.ModelError)
            assert isinstance(load_or_error(junk[:4] + b"TFL3" + junk[8:]), qcheck.ModelError)


def test_truncated_external_data_is_a_finding_not_a_crash() -> None:
    """Data stored after the FlatBuffer and cut off: the model loads and QC006 reports each buffer."""
    full = int8_fc().build(external=True)
    model = qcheck.load(full)
    last = max(b.offset + b.size for b in model.buffers if b.external)
    cut = full[: last - 1]
    report = qcheck.verify(cut, registry=REGISTRY, select=("QC006",))
    assert [f.code for f in report.findings] == ["QC006"]
    assert "past the end of the file" in report.findings[0].message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_random_byte_mutations(edits: list[tuple[int, int]]) -> None:
    """Mutated files either load or raise ModelError; if they load, no rule crashes on them."""
    data = bytearray(GOOD)
    for at, value in edits:
        data[at] = value
    result = load_or_error(bytes(data))
    if isinstance(result, qcheck.Model):
        crashed = [f.message for f in qcheck.verify(bytes(data), registry=REGISTRY).findings if f.code == "QC900"]
        assert not crashed
