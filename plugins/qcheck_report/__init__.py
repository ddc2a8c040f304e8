"""Built-in reporters: console, JSON, SARIF, JUnit XML, GitHub annotations, Markdown, HTML, Model Explorer node data, statistics."""

from __future__ import annotations

from collections.abc import Callable

from qcheck import Reporter, hookimpl
from qcheck_report import console, github, html, json_report, junit, markdown, model_explorer, sarif, statistics

# name, module (its `render` and its ReportStream class), summary
FORMATS = (
    ("console", console, console.ConsoleStream, "findings grouped per model, coloured by severity (plain when not a TTY)"),
    ("json", json_report, json_report.JsonStream, f"versioned JSON (schema_version {json_report.SCHEMA_VERSION})"),
    ("sarif", sarif, sarif.SarifStream, "SARIF 2.1.0 for GitHub code scanning and other SARIF viewers"),
    ("junit", junit, junit.JUnitStream, "JUnit XML: a test suite per model, a test case per rule family and per target"),
    ("github", github, github.GithubStream, "GitHub Actions workflow commands: findings as annotations on the model files"),
    ("markdown", markdown, markdown.MarkdownStream, "Markdown for pull-request comments and GitHub job summaries"),
    ("html", html, html.HtmlStream, "one self-contained HTML page for review: findings to filter and sort, plots, tensors"),
    ("model-explorer", model_explorer, model_explorer.ModelExplorerStream,
     "node data for Google AI Edge Model Explorer: findings and placements on the graph"),
    ("statistics", statistics, statistics.StatisticsStream, "one line per rule with its count over all models, most frequent first"),
)


@hookimpl
def qcheck_register_reporters(register: Callable[[Reporter], None]) -> None:
    for name, module, stream, summary in FORMATS:
        verbose = console.render_verbose if module is console else None
        register(Reporter(name, module.render, summary, verbose_render=verbose, stream=stream))  # type: ignore[attr-defined]
