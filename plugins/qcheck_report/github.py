"""GitHub Actions workflow commands: each finding an annotation on the model file, without a SARIF upload.

`::error file=PATH,title=CODE rule::message` (GitHub docs "Workflow commands for GitHub Actions":
error, warning and notice; properties and message escaped as the runner's toolkit does). Findings
below --fail-on are notices or warnings as their severity says; the last line is the run's summary.
"""

from __future__ import annotations

from typing import TextIO

from qcheck import Report
from qcheck.findings import Severity
from qcheck.reporting import Run, render_all
from qcheck_report.console import summary_line

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:  # @actions/core command.ts escapeData
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:  # @actions/core command.ts escapeProperty
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class GithubStream:
    def __init__(self, run: Run, out: TextIO) -> None:
        self.out = out

    def add(self, r: Report) -> None:
        file = escape_property(r.path)
        if r.error is not None:
            self.out.write(f"::error file={file},title={escape_property('unreadable model')}::{escape_data(r.error)}\n")
        for f in r.findings:
            title = escape_property(f"{f.code} {f.rule}")
            self.out.write(f"::{COMMAND[f.severity]} file={file},title={title}::{escape_data(f'{f.location}: {f.message}')}\n")

    def close(self, run: Run) -> None:
        self.out.write(summary_line(run) + "\n")


render = render_all(GithubStream)
