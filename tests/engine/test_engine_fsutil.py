"""Atomic writes: all or nothing, and the file gets the mode open() would give it (0666 less the umask)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from qcheck.fsutil import atomic_write


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_file_honours_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        atomic_write(tmp_path / "out.json", b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.json").stat().st_mode) == mode
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temp file left behind
