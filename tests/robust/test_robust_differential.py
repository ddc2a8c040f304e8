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
from qcheck import operators, reader, tensors
from qcheck.model import Model


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
            if tuple(o_f)[:-2] != tuple(o_s)[:-2] or dict(o_f.options) != dict(o_s.options) or o_f.is_custom != o_s.is_custom:
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
