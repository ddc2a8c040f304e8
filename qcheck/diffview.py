"""How `qcheck diff` shows a diff: console lines, Markdown for a pull request, an HTML page with old and new side by side."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any, TextIO

from qcheck.textsafe import markdown_code as code
from qcheck.textsafe import markdown_text as escape
from qcheck.textsafe import printable


def _sides(c: Mapping[str, Any]) -> tuple[str, str, str]:
    """What changed, the old side and the new one (a change without two sides: its text, and nothing)."""
    if c.get("old") is None:
        return c["what"], "", ""
    label = c["what"][: len(c["what"]) - len(f"{c['old']} -> {c['new']}")].strip()  # (what = "LABEL OLD -> NEW")
    return label, c["old"], c["new"]


def console(data: Mapping[str, Any], out: TextIO) -> None:
    out.write(f"{printable(data['old'])} -> {printable(data['new'])}\n")
    out.write("matched " + ", ".join(f"{n} {k}" for k, n in data["matching"].items()) + "\n")
    out.writelines(f"  {c['category']:<12} {printable(c['where'])}: {printable(c['what'])}\n" for c in data["changes"])
    out.write(_summary(data) + "\n")


def _summary(data: Mapping[str, Any]) -> str:
    counts = ", ".join(f"{n} {k}" for k, n in data["counts"].items() if n) or "no changes"
    return counts + (f"; failing on: {', '.join(data['failing'])}" if data["failing"] else "")


def markdown(data: Mapping[str, Any], out: TextIO) -> None:

    out.write(f"## qcheck diff\n\n{code(data['old'])} → {code(data['new'])}: **{escape(_summary(data))}**\n\n")
    out.write("Matched: " + ", ".join(f"{n} {k}" for k, n in data["matching"].items()) + "\n\n")
    if not data["changes"]:
        return
    out.write("| kind | where | what | old | new |\n|---|---|---|---|---|\n")
    for c in data["changes"]:
        label, old, new = _sides(c)
        out.write(f"| {c['category']} | {escape(c['where'])} | {escape(label)} | {escape(old)} | {escape(new)} |\n")


def html_page(data: Mapping[str, Any], out: TextIO) -> None:
    e = html.escape
    rows = "".join(f"<tr><td>{e(c['category'])}</td><td>{e(c['where'])}</td><td>{e(label)}</td><td class=old>{e(old)}</td>"
                   f"<td class=new>{e(new)}</td></tr>" for c in data["changes"] for label, old, new in [_sides(c)])
    out.write("<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>qcheck diff</title><style>"
              "body{font:14px system-ui,sans-serif;margin:24px}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 6px;"
              "text-align:left;vertical-align:top}.old{background:#ffebee}.new{background:#e8f5e9}</style></head><body>"
              f"<h1>qcheck diff</h1><p><code>{e(data['old'])}</code> → <code>{e(data['new'])}</code></p>"
              f"<p><b>{e(_summary(data))}</b>; matched " + e(", ".join(f"{n} {k}" for k, n in data["matching"].items())) + "</p>"
              f"<table><thead><tr><th>kind</th><th>where</th><th>what</th><th>old</th><th>new</th></tr></thead><tbody>{rows}</tbody>"
              "</table></body></html>\n")
