"""The progress bar: on stderr when it is a terminal and the report goes to a file; never in the report itself."""

from __future__ import annotations

from pathlib import Path

from core_helpers import run_on_terminal
from testpaths import FIXTURES


def test_progress_bar_on_a_terminal_and_not_in_the_report(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    status, terminal = run_on_terminal("verify", str(FIXTURES), "--isolated", "--format", "json", "-o", str(out), "-j", "1")
    models = len(list(FIXTURES.glob("*.tflite")))
    assert status == 1 and "verifying" in terminal and f"{models}/{models}" in terminal
    assert "verifying" not in out.read_text()
    status, terminal = run_on_terminal("verify", str(FIXTURES), "--isolated", "-o", str(out), "--no-progress")
    assert status == 1 and "verifying" not in terminal
