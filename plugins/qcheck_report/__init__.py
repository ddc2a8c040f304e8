"""Built-in reporters: rich console and versioned JSON."""

from __future__ import annotations

from collections.abc import Callable

from qcheck import Reporter, hookimpl
from qcheck_report import console, json_report, statistics


@hookimpl
def qcheck_register_reporters(register: Callable[[Reporter], None]) -> None:
    register(Reporter("console", console.render, "findings grouped per model, coloured by severity (plain when not a TTY)",
                      verbose_render=console.render_verbose))
    register(Reporter("json", json_report.render, f"versioned JSON (schema_version {json_report.SCHEMA_VERSION})"))
    register(Reporter("statistics", statistics.render, "one line per rule with its count over all models, most frequent first"))
