"""Node data for Google AI Edge Model Explorer: qcheck's findings and target placements painted on the graph.

Per model, a set of node data per overlay ("qcheck findings", and "qcheck on TARGET" for each --target),
each in Model Explorer's own format (`model_explorer.node_data_builder.ModelNodeData`: graph id ->
GraphNodeData {name, results: {node key: {value, bgColor}}, thresholds}). Keys follow its TFLite
flatbuffer adapter: graph ids are the subgraph names ("main", else "subgraph_N"), an operator's node id
is its index; a finding at a tensor without an operator is keyed by the tensor's name, which Model
Explorer matches to the node writing it (a constant's node included).

    {"model.tflite": {"qcheck findings": {"main": {...}}, "qcheck on xnnpack": {"main": {...}}}}

Load one set in Model Explorer: save `data[model][overlay]` as a file and add it as node data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO

from qcheck import Report
from qcheck.findings import Severity
from qcheck.reporting import Run, render_all
from qcheck_report.json_report import nested

SEVERITY = {Severity.INFO: (1, "#90caf9"), Severity.WARNING: (2, "#ffd54f"), Severity.ERROR: (3, "#e57373")}
PLACEMENT = {"unsupported": (-1, "#e57373"), "unknown": (0, "#e0e0e0"), "cpu": (1, "#ffb74d"), "accelerated": (2, "#81c784")}


def graph_id(name: str, index: int) -> str:
    """The graph id Model Explorer's TFLite adapter gives a subgraph."""
    return name or ("main" if index == 0 else f"subgraph_{index}")


def _thresholds(table: Mapping[Severity, tuple[int, str]] | Mapping[str, tuple[int, str]]) -> list[dict[str, object]]:
    return [{"value": value, "bgColor": colour} for value, colour in sorted(table.values())]


def findings_overlay(r: Report, graphs: list[str]) -> dict[str, object]:
    """The worst severity at each operator (or, without one, at the tensor's node)."""
    results: dict[str, dict[str, dict[str, object]]] = {}
    for f in r.findings:
        loc = f.location
        if loc.subgraph is None or not 0 <= loc.subgraph < len(graphs):
            continue
        key = str(loc.operator) if loc.operator is not None else loc.tensor_name
        if not key:
            continue
        value, colour = SEVERITY[f.severity]
        node = results.setdefault(graphs[loc.subgraph], {}).get(key)
        if node is None or int(node["value"]) < value:  # type: ignore[call-overload]
            results[graphs[loc.subgraph]][key] = {"value": value, "bgColor": colour}
    return {g: {"name": "qcheck findings (1 info, 2 warning, 3 error)", "results": results.get(g, {}),
                "thresholds": _thresholds(SEVERITY)} for g in graphs}


def placement_overlay(r: Report, target: str, graphs: list[str]) -> dict[str, object]:
    results: dict[str, dict[str, dict[str, object]]] = {}
    for p in r.targets[target].ops:
        value, colour = PLACEMENT[p.placement]
        if 0 <= p.subgraph < len(graphs):
            results.setdefault(graphs[p.subgraph], {})[str(p.operator)] = {"value": value, "bgColor": colour}
    return {g: {"name": f"qcheck on {target} (-1 unsupported, 0 unknown, 1 cpu, 2 accelerated)", "results": results.get(g, {}),
                "thresholds": _thresholds(PLACEMENT)} for g in graphs}


class ModelExplorerStream:
    def __init__(self, run: Run, out: TextIO) -> None:
        self.out, self.count = out, 0
        out.write("{")

    def add(self, r: Report) -> None:
        if r.error is not None:
            return
        graphs = [graph_id(name, i) for i, name in enumerate(r.subgraph_names)]
        sets = {"qcheck findings": findings_overlay(r, graphs), **{f"qcheck on {t}": placement_overlay(r, t, graphs) for t in r.targets}}
        self.out.write(("," if self.count else "") + "\n  " + nested(r.path, "  ") + ": " + nested(sets, "  "))
        self.count += 1

    def close(self, run: Run) -> None:
        self.out.write("\n}\n" if self.count else "}\n")


render = render_all(ModelExplorerStream)
