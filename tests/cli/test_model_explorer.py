"""The Model Explorer overlay, read by Model Explorer's own node-data classes, keyed by the nodes of its own TFLite graph."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import dacite
import pytest
from core_helpers import run_cli
from model_explorer.node_data_builder import GraphNodeData, ModelNodeData
from testpaths import CORPUS_MODELS, FIXTURES, LOCAL_MODELS

import qcheck

# (builder_container_defects.tflite is corrupt on purpose: Model Explorer's adapter dies on it, SIGSEGV)
MODELS = [*sorted(p for p in FIXTURES.glob("builder_*.tflite") if "container_defects" not in p.name), FIXTURES / "tf_int8-only.tflite",
          *[p for p in CORPUS_MODELS if p.name in ("models_v2_vad.tflite", "tflite_testdata_2_subgraphs.bin.tflite")],  # named, unnamed
          *LOCAL_MODELS[::9]]


def explorer_graph(path: Path) -> dict[str, dict[str, set[str]]]:
    """Model Explorer's TFLite graph of `path` (its adapter, in a child process): graph id -> node ids and output tensor names."""
    code = ("import json, sys, ai_edge_model_explorer_adapter as a\n"
            "print(a.ConvertFlatbufferDirectlyToJson(a.VisualizeConfig(), sys.argv[1]))")
    r = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120, check=True)
    graphs = json.loads(r.stdout)[0]["subgraphs"]
    return {g["id"]: {"ids": {n["id"] for n in g["nodes"]},
                      "tensors": {a["value"] for n in g["nodes"] for o in n["outputsMetadata"] for a in o["attrs"] if a["key"] == "tensor_name"}}
            for g in graphs}


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_overlay_loads_in_model_explorer_classes_and_keys_its_nodes(path: Path) -> None:
    r = run_cli("verify", str(path), "--format", "model-explorer", "--target", "xnnpack", "--target", "tflm", "--isolated")
    assert r.returncode in (0, 1), r.stderr
    doc: dict[str, Any] = json.loads(r.stdout)
    assert list(doc) == [str(path)] and set(doc[str(path)]) == {"qcheck findings", "qcheck on xnnpack", "qcheck on tflm"}
    graph = explorer_graph(path)
    model = qcheck.load(path)
    touched = [{i for op in s.operators for i in (*op.inputs, *op.outputs)} | set(s.inputs) | set(s.outputs) for s in model.subgraphs]
    for overlay in doc[str(path)].values():
        data = ModelNodeData(graphsData={g: dacite.from_dict(GraphNodeData, v) for g, v in overlay.items()})
        assert json.loads(data.to_json_string()).keys() == overlay.keys() == graph.keys()
        for g, nodes in data.graphsData.items():
            sub = model.subgraphs[list(graph).index(g)]
            for key in nodes.results:
                if key.isdigit():
                    assert key in graph[g]["ids"], (g, key)
                else:  # a tensor's name: painted on the node that writes it, if any op or the graph touches the tensor
                    index = next(t.index for t in sub.tensors if t.name == key)
                    assert (key in graph[g]["tensors"]) == (index in touched[sub.index]), (g, key)
    placements = doc[str(path)]["qcheck on xnnpack"]
    ops = sum(len(s.operators) for s in model.subgraphs)
    assert sum(len(v["results"]) for v in placements.values()) == ops  # every operator painted with its placement
