"""Built-in reporters: console, versioned JSON, SARIF, JUnit XML, GitHub annotations and statistics."""

from __future__ import annotations

from collections.abc import Callable

from qcheck import Reporter, hookimpl
from qcheck_report import console, github, html, json_report, junit, markdown, model_explorer, sarif, statistics


@hookimpl
def qcheck_register_reporters(register: Callable[[Reporter], None]) -> None:
    register(Reporter("console", console.render, "findings grouped per model, coloured by severity (plain when not a TTY)",
                      verbose_render=console.render_verbose, stream=console.ConsoleStream))
    register(Reporter("json", json_report.render, f"versioned JSON (schema_version {json_report.SCHEMA_VERSION})",
                      stream=json_report.JsonStream))
    register(Reporter("sarif", sarif.render, "SARIF 2.1.0 for GitHub code scanning and other SARIF viewers", stream=sarif.SarifStream))
    register(Reporter("junit", junit.render, "JUnit XML: a test suite per model, a test case per rule family and per target",
                      stream=junit.JUnitStream))
    register(Reporter("github", github.render, "GitHub Actions workflow commands: findings as annotations on the model files",
                      stream=github.GithubStream))
    register(Reporter("markdown", markdown.render, "Markdown for pull-request comments and GitHub job summaries",
                      stream=markdown.MarkdownStream))
    register(Reporter("model-explorer", model_explorer.render, "node data for Google AI Edge Model Explorer: findings and placements on the graph",
                      stream=model_explorer.ModelExplorerStream))
    register(Reporter("html", html.render, "one self-contained HTML page for review: findings to filter and sort, plots, tensors",
                      stream=html.HtmlStream))
    register(Reporter("statistics", statistics.render, "one line per rule with its count over all models, most frequent first",
                      stream=statistics.StatisticsStream))
