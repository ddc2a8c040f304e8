"""Seeded mutation fuzzing of the fixtures and the corpus (part 1: small seeds, structure-aware)."""

from __future__ import annotations

import pytest
from robust_check import Checker, fuzz_count, fuzz_seed, load_seeds, run_mutations, save_failures, summary


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()  # one registry for the whole run


def test_mutated_small_models(checker: Checker, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Fixtures (1-32 kB): mutations are cheap to check, so most of the budget goes here."""
    seeds = [s for s in load_seeds() if len(s.data) < 40_000]
    assert len(seeds) >= 2
    failures = run_mutations(checker, seeds, fuzz_count(9000), fuzz_seed(1))
    if failures:
        saved = save_failures(failures, tmp_path_factory.mktemp("fuzz-failures"))
        pytest.fail(f"{len(failures)} inputs broke the invariant (saved to {saved[0].parent}):\n{summary(failures)}")
    assert checker.reports > 0 and checker.errors > 0  # both outcomes were exercised
