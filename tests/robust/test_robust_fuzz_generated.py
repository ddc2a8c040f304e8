"""Random well-formed models with absurd contents: they must load (no ModelError) and verify."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from robust_check import Checker, fuzz_count, fuzz_seed, memory_limit
from robust_models import RandomChooser, random_model

import qcheck


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


def _verify_generated(checker: Checker, data: bytes) -> str | None:
    try:
        qcheck.load(data)
    except qcheck.ModelError as e:  # a well-formed FlatBuffer must give findings, not a refusal
        return f"rejected a well-formed file: {e}"
    return checker.check(data)


def test_seeded_random_models(checker: Checker) -> None:
    rnd = random.Random(fuzz_seed(3))
    failures = []
    with memory_limit():
        for _ in range(fuzz_count(3000)):
            data = random_model(RandomChooser(rnd))
            problem = _verify_generated(checker, data)
            if problem:
                failures.append(problem)
    assert not failures, f"{len(failures)} generated models broke the invariant:\n" + "\n".join(failures[:8])


class _Drawn:
    """The Chooser interface on top of hypothesis, so that failures shrink to a minimal model."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data

    def int(self, lo: int, hi: int) -> int:
        return self.data.draw(st.integers(lo, hi))

    def pick(self, items):  # type: ignore[no-untyped-def]
        return self.data.draw(st.sampled_from(items))


# Derandomized (the same examples every CI run) unless a long session sets QCHECK_FUZZ_SEED.
@settings(max_examples=fuzz_count(100), deadline=None, derandomize="QCHECK_FUZZ_SEED" not in os.environ, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.data())
def test_hypothesis_models(checker: Checker, data: st.DataObject) -> None:
    model = random_model(_Drawn(data))
    with memory_limit():
        assert _verify_generated(checker, model) is None
