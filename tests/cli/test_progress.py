"""The progress bar: on stderr when it is a terminal and the report goes to a file; never in the report itself."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from core_helpers import cli_env
from testpaths import FIXTURES


def run_on_terminal(*args: str) -> tuple[int, str]:
    """`qcheck ARGS` with stderr on a pseudo-terminal: its status and everything the terminal received."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "qcheck", *args], stdout=subprocess.DEVNULL, stderr=follower, stdin=subprocess.DEVNULL,
                            env=cli_env({"COLUMNS": "100", "TERM": "xterm"}))
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=120), b"".join(chunks).decode(errors="replace")


def test_progress_bar_on_a_terminal_and_not_in_the_report(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    status, terminal = run_on_terminal("verify", str(FIXTURES), "--isolated", "--format", "json", "-o", str(out), "-j", "1")
    models = len(list(FIXTURES.glob("*.tflite")))
    assert status == 1 and "verifying" in terminal and f"{models}/{models}" in terminal
    assert "verifying" not in out.read_text()
    status, terminal = run_on_terminal("verify", str(FIXTURES), "--isolated", "-o", str(out), "--no-progress")
    assert status == 1 and "verifying" not in terminal
