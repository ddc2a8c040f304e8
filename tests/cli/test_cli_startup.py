"""What `qcheck verify` keeps off its start-up path, and the cheap entry-point scan that allows it."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest
from core_helpers import ROOT, modules_after

from qcheck.registry import declares_entry_points

MODEL = str(ROOT / "fixtures" / "models" / "builder_int8_conv_clean.tflite")
# Each costs milliseconds to import and is needed only by other commands or options.
OPTIONAL = ("importlib.metadata", "multiprocessing", "qcheck.convert.calibration", "qcheck.convert.orchestrate", "tempfile", "hashlib")


def imported_after(argv: list[str]) -> list[str]:
    """The OPTIONAL modules loaded by running the CLI with `argv` (which must exit 0)."""
    body = (
        "import contextlib, io\nfrom qcheck.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    status = main({argv!r})\nassert status == 0, status"
    )
    return sorted(modules_after(body) & set(OPTIONAL))


def test_verify_imports_none_of_the_optional_modules() -> None:
    assert imported_after(["verify", MODEL]) == []


def test_the_probe_sees_them_when_an_option_needs_them(tmp_path: Path) -> None:
    # -o writes atomically through tempfile; two models with -j 2 use multiprocessing.
    assert "tempfile" in imported_after(["verify", MODEL, "-o", str(tmp_path / "r.txt")])
    assert "multiprocessing" in imported_after(["verify", MODEL, MODEL, "-j", "2"])


def _dist(site: Path, name: str, entry_points: str) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "entry_points.txt").write_text(entry_points)


@pytest.mark.parametrize(("entry_points", "expected"), [
    ("[console_scripts]\nfoo = foo:main\n", False),
    ("[console_scripts]\nfoo = foo:main\n\n[qcheck]\nfoo = foo\n", True),
    ("  [qcheck]  \nfoo = foo\n", True),  # importlib.metadata strips the line
    ("[qcheck_other]\nfoo = foo\n", False),
    ("# [qcheck]\n", False),
])
def test_entry_point_scan_finds_the_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry_points: str, expected: bool) -> None:
    _dist(tmp_path, "foo", entry_points)
    monkeypatch.setattr(sys, "path", [str(tmp_path / "missing"), str(tmp_path)])
    assert declares_entry_points("qcheck") is expected
    if expected:  # the full scan pluggy runs agrees
        from importlib.metadata import entry_points as eps

        assert [ep.name for ep in eps(group="qcheck")] == ["foo"]


def test_entry_point_scan_defers_to_importlib_for_what_it_cannot_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("bar-1.0.dist-info/entry_points.txt", "[qcheck]\nbar = bar\n")
    monkeypatch.setattr(sys, "path", [str(archive)])
    assert declares_entry_points("qcheck") is True
    monkeypatch.setattr(sys, "path", [str(tmp_path / "empty")])
    assert declares_entry_points("qcheck") is False
