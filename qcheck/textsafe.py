"""Text from a model (names, custom codes, descriptions) made safe to print on a terminal."""

from __future__ import annotations

# C0 and C1 control characters (ESC starts terminal escape sequences that can rewrite the screen
# or the window title) are shown as \xNN instead of being sent to the terminal.
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}


def shown(text: object) -> str:
    """`text` with control characters escaped and rich markup ("[bold]", "[/]") made literal."""
    from rich.markup import escape

    return escape(str(text).translate(_CONTROL))


def printable(text: object) -> str:
    """`text` with control characters escaped (for output that is not parsed as rich markup)."""
    return str(text).translate(_CONTROL)
