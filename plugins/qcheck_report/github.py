"""GitHub Actions workflow commands: each finding an annotation on the model file, without a SARIF upload.

`::error file=PATH,title=CODE rule::message` (GitHub docs "Workflow commands for GitHub Actions":
error, warning and notice; properties and message escaped as the runner's toolkit does). Findings
below --fail-on are notices or warnings as their severity says; the last line is the run's summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from qcheck import Report
from qcheck.findings import Severity
from qcheck.reporting import Run
from qcheck_report.console import summary_line

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:  # @actions/core command.ts escapeData
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:  # @actions/core command.ts escapeProperty
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(reports: Sequence[Report], out: TextIO) -> None:
    run = reports if isinstance(reports, Run) else Run(tuple(reports))
    for r in run:
        file = escape_property(r.path)
        if r.error is not None:
            out.write(f"::error file={file},title={escape_property('unreadable model')}::{escape_data(r.error)}\n")
        for f in r.findings:
            title = escape_property(f"{f.code} {f.rule}")
            out.write(f"::{COMMAND[f.severity]} file={file},title={title}::{escape_data(f'{f.location}: {f.message}')}\n")
    out.write(summary_line(run) + "\n")
