"""Keep a framework's own output (C++ and Python prints) out of qcheck's, and shorten its errors to one line."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO


@contextmanager
def captured_output() -> Iterator[IO[bytes]]:
    """Send file descriptors 1 and 2 to a temp file while a framework runs, then restore them.

    Converters print from C++ and from Python ("Saved artifact at ..."), so redirecting
    sys.stdout is not enough: the descriptors themselves are swapped.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    streams = (sys.stdout, sys.stderr)
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        # sys.stdout may not be fd 1 (pytest, notebooks): swap the Python streams as well.
        text = open(os.dup(log.fileno()), "w", encoding="utf-8", errors="replace", buffering=1)  # noqa: SIM115
        sys.stdout = sys.stderr = text
        try:
            yield log
        finally:
            text.flush()
            sys.stdout, sys.stderr = streams
            text.close()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def read_log(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode("utf-8", "replace")


def one_line(e: BaseException) -> str:
    """The most telling line of a (often multi-line) framework error message."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    pick = next((ln for ln in lines if "error:" in ln.lower()), lines[0] if lines else type(e).__name__)
    pick = pick.split("error:", 1)[-1].strip() if "error:" in pick.lower() and len(pick) > 60 else pick
    return pick if len(pick) <= 300 else pick[:297] + "..."
