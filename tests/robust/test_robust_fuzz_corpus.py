"""Seeded mutation fuzzing (part 2: the third-party corpus, bigger and more varied models)."""

from __future__ import annotations

import pytest
from robust_check import Checker, fuzz_count, fuzz_seed, load_seeds, run_mutations, save_failures, summary


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


def test_mutated_corpus_models(checker: Checker, tmp_path_factory: pytest.TempPathFactory) -> None:
    seeds = [s for s in load_seeds() if len(s.data) >= 40_000]
    assert len(seeds) >= 5, "the PyPI models of tests/corpus are missing"
    failures = run_mutations(checker, seeds, fuzz_count(2500), fuzz_seed(2))
    if failures:
        saved = save_failures(failures, tmp_path_factory.mktemp("fuzz-failures"))
        pytest.fail(f"{len(failures)} inputs broke the invariant (saved to {saved[0].parent}):\n{summary(failures)}")
    assert checker.reports > 0 and checker.errors > 0
