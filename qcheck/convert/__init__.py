"""Conversion: run the registered strategies, verify each output against its promise, write atomically.

The names below are loaded on first use, so that `qcheck verify` starts without this machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qcheck.convert.capture import captured_output, one_line
    from qcheck.convert.orchestrate import convert, convert_all, run
    from qcheck.convert.request import ConversionError, ConvertRequest, ConvertResult, Progress

_WHERE = {
    "captured_output": "capture", "one_line": "capture",
    "convert": "orchestrate", "convert_all": "orchestrate", "run": "orchestrate",
    "ConversionError": "request", "ConvertRequest": "request", "ConvertResult": "request", "Progress": "request",
}

__all__ = ["ConversionError", "ConvertRequest", "ConvertResult", "Progress", "captured_output", "convert", "convert_all", "one_line", "run"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'qcheck.convert' has no attribute {name!r}")
    return getattr(importlib.import_module(f"qcheck.convert.{_WHERE[name]}"), name)
