"""Differential fuzzing: the reader's vectorised paths and its per-table paths read the same model.

The fast numpy passes (tensors, operators, buffers) give up on anything unusual and hand over to
the generic, fully checked table reader. On damaged inputs both must agree exactly, or the fast
path is reading something else than the file says (a wrong shape, a dropped buffer: a lie).
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from robust_check import fuzz_count, fuzz_seed, load_seeds, memory_limit
from robust_mutate import mutate

import qcheck
from qcheck.tflite import operators, reader, tensors
from qcheck.tflite.model import Model


def _load_slow(data: bytes, monkeypatch: pytest.MonkeyPatch) -> Model:
    with monkeypatch.context() as m:
        m.setattr(tensors, "VECTORISE_FROM", 1 << 60)
        m.setattr(operators, "VECTORISE_FROM", 1 << 60)
        m.setattr(reader, "decode_buffers", lambda root, views: None)
        return qcheck.load(data)


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def differences(fast: Model, slow: Model) -> list[str]:
    out = []
    if fast.buffers != slow.buffers:
        out.append("buffers differ")
    for sg_f, sg_s in zip(fast.subgraphs, slow.subgraphs, strict=True):
        for t_f, t_s in zip(sg_f.tensors, sg_s.tensors, strict=True):
            if not _same(tuple(t_f), tuple(t_s)):
                out.append(f"subgraph {sg_f.index} tensor {t_f.index}: {t_f} != {t_s}")
        if len(sg_f.tensors) != len(sg_s.tensors):
            out.append(f"subgraph {sg_f.index}: tensor count")
        for o_f, o_s in zip(sg_f.operators, sg_s.operators, strict=True):
            # (repr: a NaN option equals itself)
            if tuple(o_f)[:-2] != tuple(o_s)[:-2] or repr(dict(o_f.options)) != repr(dict(o_s.options)) or o_f.is_custom != o_s.is_custom:
                out.append(f"subgraph {sg_f.index} operator {o_f.index}: {o_f} != {o_s}")
    return out


def test_fast_and_generic_paths_agree_on_damaged_models(monkeypatch: pytest.MonkeyPatch) -> None:
    # Seeds big enough for the vectorised paths (at least VECTORISE_FROM tensors and operators).
    seeds = [s for s in load_seeds() if len(qcheck.load(s.data).main.tensors) >= tensors.VECTORISE_FROM]
    assert len(seeds) >= 5
    rnd, problems, compared = random.Random(fuzz_seed(4)), [], 0
    with memory_limit():
        for _ in range(fuzz_count(800)):
            what, data = mutate(rnd, rnd.choice(seeds))
            try:
                fast = qcheck.load(data)
            except qcheck.ModelError:
                continue
            try:
                slow = _load_slow(data, monkeypatch)
            except qcheck.ModelError as e:  # the fast path accepted what the checked path refuses
                problems.append(f"{what}: only the generic path refuses it: {e}")
                continue
            compared += 1
            problems += [f"{what}: {d}" for d in differences(fast, slow)[:3]]
    assert compared > 100
    assert not problems, "\n".join(problems[:10])


# Names the batched UTF-8 decode must reproduce exactly: a NUL inside a name (the join's
# separator), invalid and truncated UTF-8 next to the separator, non-ASCII, empty.
ODD_NAMES: list[str | bytes] = ["", "a\0b", b"\xff\xfe", "caf\u00e9", b"abc\xe2\x82", b"\xe2\x82", "\u4e2d\u6587", "x" * 300]


@pytest.mark.parametrize("with_nul", [False, True])
def test_fast_and_generic_paths_agree_on_odd_names_and_shared_options(monkeypatch: pytest.MonkeyPatch, with_nul: bool) -> None:
    from qcheck.tflite.builder import ModelBuilder

    b = ModelBuilder()
    names = [n for n in ODD_NAMES if with_nul or n != "a\0b"] * 8
    ids = [b.tensor(n, "FLOAT32", [1, 2]) for n in names]  # type: ignore[arg-type]  # (the builder writes bytes as they are)
    alphas = [0.5, -0.5, 0.5, float("nan"), 0.25] * 12
    for i, alpha in enumerate(alphas):
        b.op("LEAKY_RELU", [ids[i % len(ids)]], [ids[(i + 1) % len(ids)]], options={"alpha": alpha})
    b.io([ids[0]], [ids[-1]])
    data = b.build()
    fast, slow = qcheck.load(data), _load_slow(data, monkeypatch)
    assert len(fast.main.tensors) >= tensors.VECTORISE_FROM and len(fast.main.operators) >= operators.VECTORISE_FROM
    assert differences(fast, slow) == []
    expected = [n.decode("utf-8", "replace") if isinstance(n, bytes) else n for n in names]
    assert [t.name for t in fast.main.tensors] == expected
    got = [o.options["alpha"] for o in fast.main.operators]
    assert np.array_equal(np.array(got), np.array(alphas, dtype=np.float32), equal_nan=True)
    # Equal options share one read-only mapping; different values never do.
    ops = fast.main.operators
    assert ops[0].options is ops[2].options and ops[0].options is not ops[1].options


def test_shared_vtable_reads_agree_with_per_table_reads() -> None:
    """table_fields decodes each distinct vtable once; on damaged files too it must match reading every table."""
    from qcheck.tflite import flatbuf
    from qcheck.tflite.vecread import FileViews, _fields_per_table, table_fields, table_positions

    seeds = load_seeds()
    rnd, compared = random.Random(fuzz_seed(5)), 0
    for _ in range(fuzz_count(300)):
        _what, data = mutate(rnd, rnd.choice(seeds))
        try:
            root = flatbuf.root(data, len(data))
            subgraphs = list(root.tables(2, "subgraphs"))
        except Exception:  # noqa: BLE001, S112 - damaged roots are the generic reader's business
            continue
        v = FileViews(data, len(data))
        for sg in subgraphs:
            for slot, widths in ((0, tensors._TENSOR_WIDTHS), (3, operators._OP_WIDTHS)):
                if not sg.has(slot):
                    continue
                pos = table_positions(v, sg.pos + sg.fields[slot])
                if pos is None or (((pos & 3) != 0) | (pos < 0) | (pos + 4 > len(data))).any():
                    continue
                shared = table_fields(v, pos, widths)
                each = _fields_per_table(v, pos, pos - v.i32[pos >> 2].astype(np.int64), widths)
                assert (shared is None) == (each is None)
                assert shared is None or np.array_equal(shared, each)
                compared += 1
    assert compared > 100
