"""Text from a model (names, custom codes, descriptions) made safe to print on a terminal or in Markdown."""

from __future__ import annotations

import re

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


def markdown_text(text: object) -> str:
    """One line of table-safe, HTML-safe Markdown text."""
    s = printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = s.replace("|", "\\|").replace("`", "\\`").replace("*", "\\*").replace("_", "\\_").replace("[", "\\[")
    return " ".join(s.split())


def markdown_code(text: object) -> str:
    """Inline code that survives any backticks in `text` (a path or a name): a longer fence (CommonMark 6.1)."""
    s = " ".join(printable(text).replace("|", "\\|").split())
    longest = max((len(run) for run in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {s} {fence}" if s.startswith("`") or s.endswith("`") else f"{fence}{s}{fence}"
