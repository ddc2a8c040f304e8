"""A file truncated or rewritten while qcheck reads it through mmap: one line and exit 2, not SIGBUS.

Touching a page of a memory-mapped file that no longer exists raises SIGBUS, which Python cannot
turn into an exception (its handler returns and the faulting read runs again). A C-level handler,
installed through ctypes, writes one line naming the file and ends the process with exit status 2.
"""

from __future__ import annotations

import ctypes
import os
import signal
from typing import Any

_reading: list[str] = []  # the file being read (the last one mapped), for the message
_installed: list[Any] = []  # keeps the ctypes callback alive


def _on_sigbus(signum: int) -> None:
    name = _reading[-1] if _reading else "a model file"
    os.write(2, f"qcheck: error: {name} changed while qcheck was reading it (truncated or rewritten): run again\n".encode(errors="replace"))
    os._exit(2)


def guard(path: str) -> None:
    """Name `path` in the message, and install the handler once per process (Linux and macOS)."""
    _reading[:] = [path]
    if _installed or not hasattr(signal, "SIGBUS"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        handler = ctypes.CFUNCTYPE(None, ctypes.c_int)(_on_sigbus)
        libc.signal.restype = ctypes.c_void_p
        libc.signal.argtypes = (ctypes.c_int, ctypes.c_void_p)
        libc.signal(int(signal.SIGBUS), ctypes.cast(handler, ctypes.c_void_p))
        _installed.append(handler)
    except (OSError, AttributeError):  # no C library to call: the default action stays
        pass
