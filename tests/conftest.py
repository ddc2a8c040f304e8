"""Shared test fixtures: the built-in registry, and golden files (`pytest --update-goldens` rewrites them)."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

import pytest
from testpaths import ROOT


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true",
                     help="rewrite golden files from today's output, then fail the tests that wrote one (review the diff, run again)")


@pytest.fixture(scope="session")
def registry():  # type: ignore[no-untyped-def]
    """The built-in plugins only: no third-party entry points leak into the tests."""
    from qcheck.registry import make_registry

    return make_registry(external=False)


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[Path, str], None]:
    """`golden(path, text)`: text must equal the committed file; with --update-goldens, write it and fail."""
    update = bool(request.config.getoption("--update-goldens"))

    def check(path: Path, text: str) -> None:
        name = path.relative_to(ROOT)
        if update:
            old = path.read_text() if path.exists() else None
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            pytest.fail(f"--update-goldens wrote {name} ({'unchanged' if old == text else 'CHANGED'}): review `git diff`, then run without it")
        assert path.exists(), f"no golden file {name}: run pytest --update-goldens"
        expected = path.read_text()
        if text != expected:
            diff = "".join(list(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), str(name), "today"))[:60])
            pytest.fail(f"output differs from {name} (pytest --update-goldens rewrites it):\n{diff}")

    return check
