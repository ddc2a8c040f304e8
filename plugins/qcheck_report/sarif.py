"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers: one run, every rule, every finding.

Conventions (OASIS SARIF 2.1.0; GitHub's "SARIF support for code scanning"; ruff's emitter):
- `tool.driver.rules`: every registered rule, with its docs as full description and help, and its default level;
  `helpUri` from the `rule-docs-url` setting (qcheck has no published docs site to point at by default).
- a result per finding: `ruleId`/`ruleIndex`, `level`, `message.text`, the model file as the physical location
  (a binary file: `region.startLine` 1, which GitHub needs to show an alert) and subgraph, operator and
  tensor as logical locations; `partialFingerprints` carry qcheck's index-free fingerprint, so an alert
  keeps its identity when a model is re-converted.
- findings a baseline or a configured ignore hides are results with `suppressions` (kind "external");
  with a baseline in use, `baselineState` says "new" or "unchanged".
- unreadable models are `toolExecutionNotifications` of the invocation, which also records the exit status.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

from qcheck import Report, __version__
from qcheck.findings import Finding, Location, Severity, Suppression
from qcheck.reporting import Run, render_all
from qcheck.rules import Rule
from qcheck_report.json_report import clean, nested

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
FINGERPRINT = "qcheck/v1"  # (the key names the fingerprint's version: a new scheme gets a new key)


def artifact_uri(path: str) -> str:
    """A URI reference for a model: relative to the working directory (GitHub resolves it from the checkout), else file://."""
    absolute = Path(path).absolute()
    try:
        rel = os.path.relpath(absolute, Path.cwd())
    except ValueError:
        rel = ".."
    if rel == ".." or rel.startswith(".." + os.sep):
        return absolute.as_uri()
    # RFC 3986 path characters kept as they are (":" escaped: in a relative reference it would read as a scheme)
    return "".join(c if c.isascii() and (c.isalnum() or c in "/-._~!$&'()*+,;=@") else "".join(f"%{b:02X}" for b in c.encode())
                   for c in Path(rel).as_posix())


def rule_descriptor(rule: Rule, docs_url: str | None = None) -> dict[str, object]:
    """A rule's descriptor; `helpUri` when the project says where its rule docs live (`rule-docs-url`)."""
    doc = rule.doc or rule.name
    return {
        **({"helpUri": docs_url.format(code=rule.code, name=rule.name)} if docs_url else {}),
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary or rule.name},
        "fullDescription": {"text": doc},
        "help": {"text": doc, "markdown": doc},
        "defaultConfiguration": {"level": LEVEL[rule.severity], "enabled": rule.default},
        "properties": {"tags": ["quantization", "tflite"], "problem.severity": {"error": "error", "warning": "warning"}.get(
            LEVEL[rule.severity], "recommendation")},
    }


def logical_locations(loc: Location) -> list[dict[str, object]]:
    """Subgraph, operator and tensor, each with its path from the model down."""
    out: list[dict[str, object]] = []
    path = f"subgraph {loc.subgraph}" if loc.subgraph is not None else "model"
    out.append({"name": path, "fullyQualifiedName": path, "kind": "module"})
    if loc.operator is not None or loc.opcode:
        name = f"op {loc.operator} {loc.opcode or ''}".strip() if loc.operator is not None else str(loc.opcode)
        path += f" > {name}"
        out.append({"name": name, "fullyQualifiedName": path, "kind": "function", "parentIndex": 0})
    if loc.tensor is not None:
        name = loc.tensor_name or f"tensor {loc.tensor}"
        path += f" > tensor {loc.tensor}" + (f" '{loc.tensor_name}'" if loc.tensor_name else "")
        out.append({"name": name, "fullyQualifiedName": path, "kind": "variable", "parentIndex": len(out) - 1})
    return out


def result(f: Finding, where: tuple[str, int], rule_index: dict[str, int], why: Suppression | None, baseline: bool) -> dict[str, object]:
    uri, artifact = where
    out: dict[str, object] = {
        "ruleId": f.code,
        "level": LEVEL[f.severity],
        "message": {"text": f.message},
        "locations": [{
            "physicalLocation": {"artifactLocation": {"uri": uri, "index": artifact}, "region": {"startLine": 1}},
            "logicalLocations": logical_locations(f.location),
        }],
        "partialFingerprints": {FINGERPRINT: f.fingerprint},
        "properties": {"rule": f.rule, "severity": str(f.severity), **({"fix": f.fix} if f.fix else {}),
                       **({"details": dict(f.details)} if f.details else {})},
    }
    if f.code in rule_index:
        out["ruleIndex"] = rule_index[f.code]
    if why is not None:
        out["suppressions"] = [{"kind": "external", "status": "accepted", "justification": why.reason}]
    if baseline:
        out["baselineState"] = "unchanged" if why is not None and why.source == "baseline" else "new"
    return out


class SarifStream:
    """One run: the tool and its rules, the results model by model, then the artifacts and the invocation."""

    def __init__(self, run: Run, out: TextIO) -> None:
        self.out, self.count = out, 0
        rules = sorted(run.rules, key=lambda r: r.code)
        self.rule_index = {r.code: i for i, r in enumerate(rules)}
        self.artifacts: list[dict[str, object]] = []  # (a URI and a length per model: small)
        self.artifact_index: dict[str, int] = {}
        self.notes: list[dict[str, object]] = []  # unreadable models
        self.baseline = bool(run.settings.get("baseline"))
        docs = run.settings.get("rule_docs_url")
        docs = docs if isinstance(docs, str) else None
        tool = {"driver": {"name": "qcheck", "version": __version__, "semanticVersion": __version__,
                           "rules": [rule_descriptor(r, docs) for r in rules]}}
        out.write(f'{{\n  "$schema": "{SCHEMA}",\n  "version": "2.1.0",\n  "runs": [\n    {{\n      "tool": '
                  f'{nested(clean(tool), "      ")},\n      "results": [')

    def add(self, r: Report) -> None:
        uri = artifact_uri(r.path)
        if uri not in self.artifact_index:
            self.artifact_index[uri] = len(self.artifacts)
            self.artifacts.append({"location": {"uri": uri}, **({"length": r.stats["bytes"]} if "bytes" in r.stats else {})})
        where = (uri, self.artifact_index[uri])
        if r.error is not None:
            self.notes.append({"level": "error", "message": {"text": f"{r.path}: {r.error}"},
                               "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri, "index": where[1]}}}]})
        found = [(f, None) for f in r.findings] + list(r.suppressed)
        for f, why in found:
            self.out.write(("," if self.count else "") + "\n        " + nested(clean(result(f, where, self.rule_index, why, self.baseline)), "        "))
            self.count += 1

    def close(self, run: Run) -> None:
        invocation = {"executionSuccessful": run.exit_status != 2, "exitCode": run.exit_status,
                      "toolExecutionNotifications": self.notes, "properties": {"settings": dict(run.settings), "totals": run.totals}}
        self.out.write(("\n      ]," if self.count else "],") + f'\n      "artifacts": {nested(self.artifacts, "      ")},'
                       f'\n      "invocations": {nested(clean([invocation]), "      ")}\n    }}\n  ]\n}}\n')


render = render_all(SarifStream)
